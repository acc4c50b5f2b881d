r"""Hermite / Mehler series with a certified truncation bound, for activations with no closed-form kernel.

For tanh, SiLU (swish), softplus, ... no route gives :math:`\mathbb{E}[\phi(u)\phi(v)]`
in closed form.  Mehler's formula still does, as a series: with
:math:`u = \sqrt{q_1}\,z_1`, :math:`v = \sqrt{q_2}\,z_2`, :math:`\operatorname{corr}(z_1, z_2) = \rho`,
and the orthonormal Hermite functions :math:`h_k = He_k/\sqrt{k!}`,

.. math:: K(\rho) = \sum_{k\ge0}\rho^k\,\alpha_k(q_1)\alpha_k(q_2),\qquad
   \alpha_k(q) = \mathbb{E}[\phi(\sqrt q z)h_k(z)],\qquad
   \sum_k\alpha_k(q)^2 = \mathbb{E}[\phi(\sqrt q z)^2]\ \text{(Parseval)}.

**Certified tail.**  Truncating after :math:`k = K`, Cauchy–Schwarz and
:math:`|\rho|^k \le |\rho|^{K+1}` for :math:`k > K` give

.. math:: \Bigl|K(\rho) - \sum_{k\le K}\rho^k\alpha_k(q_1)\alpha_k(q_2)\Bigr|
   \le |\rho|^{K+1}\sqrt{T_1T_2},\qquad
   T_i = \mathbb{E}[\phi(\sqrt{q_i}z)^2] - \sum_{k\le K}\alpha_k(q_i)^2 \ge 0,

a bound computed from numbers, not from an asymptotic guess.  The
:math:`\alpha_k` and :math:`\mathbb{E}[\phi^2]` come from one trapezoidal
rule (exponentially accurate for φ analytic in a strip, see
:mod:`symbolic_mf.pair_quadrature`) at 20 digits beyond the working precision;
the rule is repeated with 0.8 times the step and the change (the quadrature
error estimate) is added to the bound, times the number of terms.  (The truncation window
is :math:`|x| \le 2\sqrt{D\ln10}`, since :math:`h_k(x)e^{-x^2/4}` stays of order one
out to :math:`|x|\approx\sqrt{4k}`; the second rule also widens the window.)

>>> from symbolic_mf.activations import tanh
>>> S = series_kernel(tanh(), tol=1e-8)
>>> S.terms, S.bound <= 1e-8
(55, True)
>>> print(mp.nstr(S.value(mp.mpf("0.5")), 12))    # E[tanh(u) tanh(v)] at c = 1/2 (all 15 digits correct)
0.186324413203
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import List

import sympy as sp
from mpmath import mp

from ..errors import DomainError

__all__ = ["hermite_function_coefficients", "series_kernel", "SeriesKernel", "POLE_DISTANCE"]

#: distance from the real axis of the nearest singularity of each activation (None: entire)
POLE_DISTANCE = {"tanh": sp.pi / 2, "swish": sp.pi, "softplus": sp.pi, "sigmoid": sp.pi}

#: tau with |phi(x + iy)| <~ exp(tau y^2) for entire activations of order 2 (sets the trapezoidal step)
GAUSS_TYPE = {"erf": 1, "gelu": 1}

#: the largest number of terms a series may use
MAX_TERMS = 2000


def _mp_callable(phi):
    x = sp.Symbol("x", real=True)
    expr = phi.expr if hasattr(phi, "expr") else sp.sympify(phi)
    free = expr.free_symbols - {x}
    if free:
        raise DomainError("phi", getattr(phi, "name", expr), "an activation with numeric parameters")
    return sp.lambdify(x, expr, "mpmath")


def _pole_distance(phi):
    d = POLE_DISTANCE.get(getattr(phi, "name", ""))
    return None if d is None else mp.mpf(sp.N(d, mp.dps + 10))


def _coefficients_on_grid(f, s, K, h, L):
    """alpha_0..alpha_K and E[f(s z)^2] by the trapezoidal rule with step h on [-L, L]."""
    n = int(mp.ceil(L / h))
    alpha = [mp.zero] * (K + 1)
    second = mp.zero
    norm = h / mp.sqrt(2 * mp.pi)
    for i in range(-n, n + 1):
        x = i * h
        w = mp.exp(-x * x / 2) * norm
        fx = f(s * x)
        fw = fx * w
        second += fx * fw
        hk_1, hk = mp.zero, mp.one
        for k in range(K + 1):
            alpha[k] += fw * hk
            hk_1, hk = hk, (x * hk - mp.sqrt(k) * hk_1) / mp.sqrt(k + 1)
    return alpha, second


def hermite_function_coefficients(phi, q=1, K=60, dps=None):
    r"""``(alpha, E[phi^2], err)``: :math:`\alpha_k = \mathbb{E}[\phi(\sqrt q z)h_k(z)]` for ``k <= K``.

    ``err`` is the largest change of any of them between steps h and 0.8 h.

    >>> from symbolic_mf.activations import erf
    >>> a, m2, err = hermite_function_coefficients(erf(), 1, 3, dps=20)
    >>> print(mp.nstr(a[1], 15), mp.nstr(2 / mp.sqrt(3 * mp.pi), 15))   # E[erf(z) z] = 2/sqrt(3 pi)
    0.65147001587056 0.65147001587056
    """
    if not (isinstance(K, int) and 0 <= K <= MAX_TERMS):
        raise DomainError("K", K, f"an integer in [0, {MAX_TERMS}]")
    q = mp.mpf(q)
    if not q > 0:
        raise DomainError("q", q, "a variance q > 0")
    dps = mp.dps if dps is None else dps
    f = _mp_callable(phi)
    with mp.workdps(dps + 20):
        s = mp.sqrt(q)
        d = _pole_distance(phi)
        D = dps + 20
        from ..pair_quadrature import trapezoid_step
        # h_k grows like exp(d sqrt(2k)) on the strip: spend that many more digits
        extra = 0 if d is None else int(d / s * mp.sqrt(2 * K) / mp.log(10)) + 1
        h = trapezoid_step(D + extra, None if d is None else d / s, GAUSS_TYPE.get(getattr(phi, "name", ""), 0) * q)
        h = min(h, mp.pi / mp.sqrt((D + extra) * mp.log(10) + 2 * K))  # polynomial degree K
        # h_k(x) e^{-x^2/4} is O(1) out to |x| ~ sqrt(4k+2): the integrand decays like e^{-x^2/4}
        L = 2 * mp.sqrt((D + extra) * mp.log(10)) + 2
        a1, m1 = _coefficients_on_grid(f, s, K, h, L)
        a2, m2 = _coefficients_on_grid(f, s, K, h * mp.mpf(0.8), L * mp.mpf(1.1))
        err = max([abs(x - y) for x, y in zip(a1, a2)] + [abs(m1 - m2)])
    with mp.workdps(dps):
        return [+a for a in a2], +m2, +err


@dataclass
class SeriesKernel:
    r"""A truncated Mehler series :math:`\sum_{k\le K}\rho^k b_k` with its certified tail bound.

    ``coefficients`` are :math:`b_k = \alpha_k(q_1)\alpha_k(q_2)`, ``tail`` is
    :math:`\sqrt{T_1T_2}` (bound at :math:`|\rho| = 1`), ``quad_error`` the
    quadrature allowance; :meth:`error_bound` is the bound at ρ.
    """

    name: str
    q1: object
    q2: object
    coefficients: List = field(default_factory=list)
    tail: object = 0
    quad_error: object = 0

    @property
    def terms(self):
        return len(self.coefficients)

    @property
    def bound(self):
        """The bound at :math:`|\\rho| = 1` (the worst case)."""
        return self.tail + self.quad_error

    def value(self, rho):
        """:math:`\\sum_k \\rho^k b_k` (Horner), an mpf."""
        acc = mp.zero
        for b in reversed(self.coefficients):
            acc = acc * rho + b
        return acc

    def error_bound(self, rho):
        """:math:`|\\rho|^{K+1}\\sqrt{T_1T_2}` + quadrature allowance."""
        return abs(mp.mpf(rho)) ** self.terms * self.tail + self.quad_error

    def polynomial(self, c, digits=None):
        """The truncated series as a SymPy polynomial in ``c`` with Float coefficients."""
        digits = digits or mp.dps
        return sp.Add(*[sp.Float(b, digits) * c**k for k, b in enumerate(self.coefficients)])


@functools.lru_cache(maxsize=64)
def _series(name, expr, q1, q2, tol, dps):
    from ..activations import Activation
    phi = Activation(expr, name)
    K = 16
    while True:
        a1, m1, e1 = hermite_function_coefficients(phi, q1, K, dps)
        a2, m2, e2 = (a1, m1, e1) if q2 == q1 else hermite_function_coefficients(phi, q2, K, dps)
        with mp.workdps(dps):
            T1 = max(m1 - mp.fsum(a * a for a in a1), mp.zero)
            T2 = max(m2 - mp.fsum(a * a for a in a2), mp.zero)
            # T_i carries the quadrature error of m_i and of each alpha_k^2 (2|alpha| err each)
            # plus rounding of the K + 1 products at dps digits
            qe = (K + 2) * (max(e1, e2) * (1 + 2 * max(abs(a) for a in a1 + a2)) + mp.mpf(10) ** (2 - dps))
            tail = mp.sqrt((T1 + qe) * (T2 + qe))
            if tail + qe <= tol or K >= MAX_TERMS:
                coeffs = [x * y for x, y in zip(a1, a2)]  # at dps digits, not the caller's precision
                break
        # the tail decays at least geometrically in sqrt(K) for strip-analytic phi: grow K by half
        K = min(K + K // 2, MAX_TERMS)
    return SeriesKernel(name, q1, q2, coeffs, tail, qe)


def series_kernel(phi, tol=1e-15, q1=1, q2=1, dps: int = 40) -> SeriesKernel:
    r"""The Mehler series of :math:`\mathbb{E}[\phi(u)\phi(v)]` truncated where its certified bound is below ``tol``.

    ``q1``, ``q2`` are the variances; the series is in the correlation
    :math:`\rho = c_{12}/\sqrt{q_1q_2}`.  Raises
    :class:`~symbolic_mf.errors.DomainError` for ``tol`` outside
    :math:`[10^{-30}, 10^{-2}]` or a bound that :data:`MAX_TERMS` terms cannot meet.

    >>> from symbolic_mf.activations import softplus
    >>> S = series_kernel(softplus(), tol=1e-10)
    >>> print(mp.nstr(S.value(1), 12), S.error_bound(1) <= 1e-10)   # E[softplus(z)^2]
    0.921245908836 True
    """
    tol_mp = mp.mpf(tol)
    if not (mp.mpf("1e-30") <= tol_mp <= mp.mpf("1e-2")):
        raise DomainError("tol", tol, "a tolerance in [1e-30, 1e-2]")
    if dps < -mp.log10(tol_mp) + 10:
        raise DomainError("dps", dps, f"dps >= {int(-mp.log10(tol_mp)) + 10} for tol = {tol}")
    expr = phi.expr if hasattr(phi, "expr") else sp.sympify(phi)
    S = _series(getattr(phi, "name", str(expr)), expr, mp.mpf(q1), mp.mpf(q2), tol_mp, dps)
    if S.bound > tol_mp:
        raise DomainError("tol", tol, f"a tolerance the series meets with at most {MAX_TERMS} terms")
    return S
