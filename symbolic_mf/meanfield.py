r"""Feed-forward mean field: length and correlation maps, fixed points, χ₁, depth scales, edge of chaos.

Conventions (Poole et al. 2016; Schoenholz et al. 2017).  A fully connected
network :math:`h^{l+1} = W^{l+1}\phi(h^l) + b^{l+1}` with
:math:`W_{ij}\sim\mathcal N(0,\sigma_w^2/N)`, :math:`b_i\sim\mathcal N(0,\sigma_b^2)`.
The arguments ``sigma_w``, ``sigma_b`` are the standard deviations
:math:`\sigma_w, \sigma_b` (the variances are their squares).  With
:math:`z, z_1, z_2` independent standard normals,

* length map :math:`\mathcal V(q) = \sigma_w^2\,\mathbb E[\phi(\sqrt q\,z)^2] + \sigma_b^2`,
  fixed point :math:`q^*` (the stable one reached from ``q0``);
* correlation map :math:`\mathcal C(c) = (\sigma_w^2\,\mathbb E[\phi(u)\phi(v)] + \sigma_b^2)/q^*`,
  :math:`(u, v)` centred Gaussian, variances :math:`q^*`, correlation ``c``;
  stable fixed point :math:`c^*`;
* :math:`\chi_1 = \sigma_w^2\,\mathbb E[\phi'(\sqrt{q^*}z)^2] = \mathcal C'(1)`;
* :math:`\xi_q^{-1} = -\log \mathcal V'(q^*) = -\log(\chi_1 + \sigma_w^2\mathbb E[\phi\phi''])`,
  :math:`\xi_c^{-1} = -\log \mathcal C'(c^*) = -\log(\sigma_w^2\,\mathbb E[\phi'(u)\phi'(v)])`,
  gradient scale :math:`\xi_\nabla^{-1} = -\log\chi_1` (a negative ξ is a
  growth length: the quantity explodes like :math:`e^{l/|\xi|}`).

Every expectation comes from an engine's closed form when there is one: the
α-homogeneous family (:mod:`symbolic_mf.kernels`, by homogeneity
:math:`\mathbb E[\phi(\sqrt q u)\phi(\sqrt q v)] = q^\alpha K_\phi(c)`) and
every activation the Fourier engine derives a kernel for (erf, GELU, sin, cos,
exp, Gaussian bumps: :func:`symbolic_mf.engines.fourier.derive_kernel` with
variances q and covariance C; :math:`\mathbb E[\phi'\phi'] = \partial_CK` by
Price's theorem).  Any other analytic activation (tanh, swish, softplus, …):
the one-dimensional moments by the trapezoidal rule on the Gaussian
(geometric convergence for analytic integrands; the step is halved until two
successive sums agree to the working precision plus guard digits), the
kernel :math:`\mathbb E[\phi(u)\phi(v)]` and its derivative by the Mehler
series at fixed q with a certified tail (Hermite coefficients from
:mod:`symbolic_mf.engines.hermite_series`, computed once per q), and by a 2-D
trapezoidal rule only when |c| is so close to 1 that the series would need
more than :data:`MEHLER_MAX_TERMS` terms.

>>> from symbolic_mf.activations import relu, tanh
>>> fp = fixed_point(relu(), sigma_w=1, sigma_b=1, dps=20)
>>> print(fp.q_star, fp.chi1)        # q* = sigma_b^2/(1 - sigma_w^2/2) = 2, chi1 = 1/2
2.0 0.5
>>> fp = fixed_point(tanh(), 1.5, 0.5, dps=20)
>>> print(mp.nstr(fp.q_star, 15), mp.nstr(fp.chi1, 15), fp.digits >= 18)
1.21820833486234 0.967096799406329 True
>>> print(mp.nstr(critical_sigma_w(relu(), 0.3)[0], 20))   # ReLU: sigma_w^2 = 2 on the whole line
1.4142135623730950488
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Optional

import sympy as sp
from mpmath import mp

from .activations import Activation, HomogeneousActivation, erf as _erf_activation, get_activation, x
from .errors import DomainError

__all__ = [
    "Moments",
    "moments",
    "kernel_route",
    "erf_kernel",
    "erf_critical_line",
    "length_map",
    "length_map_slope",
    "q_star",
    "correlation_map",
    "c_star",
    "chi1",
    "FixedPoint",
    "fixed_point",
    "critical_line_closed_form",
    "critical_sigma_w",
    "critical_expansion",
    "approach_power_law",
    "iterate_correlation",
]

GUARD = 10


# ---------------------------------------------------------------------------
# input checking


def _activation(phi) -> Activation:
    if isinstance(phi, Activation):
        return phi
    if isinstance(phi, str) and ":" in phi:
        from .cli.kernel_cmd import parse_spec
        return parse_spec(phi)
    return get_activation(phi)


def _mp(v, name):
    """An mpf from a number, a decimal string ("1.2" is read exactly) or a SymPy number.

    Strings and SymPy numbers are converted at 60 digits above the ambient
    precision, so a value like "1.2" keeps its digits when a caller later
    raises the working precision.
    """
    try:
        with mp.workdps(mp.dps + 60):
            if isinstance(v, sp.Basic):
                if not v.is_number:
                    raise TypeError
                return mp.mpf(sp.N(v, mp.dps))
            if isinstance(v, str):
                r = sp.Rational(v.strip())
                return mp.mpf(r.p) / r.q
            return mp.mpf(v)
    except (TypeError, ValueError, sp.SympifyError):
        raise DomainError(name, v, "a real number")


def _check_sigmas(sigma_w, sigma_b):
    sw, sb = _mp(sigma_w, "sigma_w"), _mp(sigma_b, "sigma_b")
    if not sw > 0:
        raise DomainError("sigma_w", sigma_w, "sigma_w > 0 (the weight standard deviation)")
    if sb < 0:
        raise DomainError("sigma_b", sigma_b, "sigma_b >= 0 (the bias standard deviation)")
    return sw, sb


def _check_dps(dps):
    if not isinstance(dps, int) or dps < 5 or dps > 2000:
        raise DomainError("dps", dps, "an integer number of digits in [5, 2000]")


# ---------------------------------------------------------------------------
# the erf kernel, derived (Price's theorem + a Gaussian integral + one substitution)


@functools.lru_cache(maxsize=1)
def erf_kernel():
    r"""Closed form of :math:`\mathbb E[\operatorname{erf}(\sqrt q\,u)\operatorname{erf}(\sqrt q\,v)]` (unit variances, correlation c).

    Derived, not typed in: by Price's theorem :math:`\partial_c K = q\,\mathbb
    E[\operatorname{erf}'(\sqrt q u)\operatorname{erf}'(\sqrt q v)]`, the
    Gaussian integral :math:`\mathbb E[e^{-q(u^2+v^2)}] = \det(I + 2q\Sigma)^{-1/2}`
    is computed by SymPy, and :math:`\int_0^c` (K(0) = 0, erf odd) is done
    after the substitution :math:`s = 2qt/(1+2q)`.  Returns ``(K, q, c)``.

    >>> K, q, c = erf_kernel()
    >>> K
    2*asin(2*c*q/(2*q + 1))/pi
    """
    q = sp.Symbol("q", positive=True)
    c = sp.Symbol("c", real=True)
    t, s = sp.Symbol("t", real=True), sp.Symbol("s", positive=True)
    u, v = sp.symbols("u v", real=True)
    # E[exp(-q u^2 - q v^2)] for (u, v) ~ N(0, [[1, t], [t, 1]]): det(I + 2 q Sigma)^(-1/2)
    Sigma = sp.Matrix([[1, t], [t, 1]])
    gauss = 1 / sp.sqrt(sp.factor((sp.eye(2) + 2 * q * Sigma).det()))
    dphi = sp.diff(sp.erf(x), x)  # 2/sqrt(pi) exp(-x^2)
    pref = (dphi.subs(x, 0)) ** 2  # the exp factors are the Gaussian integral above
    dK = q * pref * gauss  # Price: dK/dt
    # substitution s = 2 q t / (1 + 2 q): dK/dt dt = (2/pi) ds / sqrt(1 - s^2)
    S = 2 * q * c / (1 + 2 * q)
    integrand_s = sp.simplify((dK.subs(t, s * (1 + 2 * q) / (2 * q)) * (1 + 2 * q) / (2 * q)))
    K = sp.integrate(sp.simplify(integrand_s), (s, 0, S))
    K = sp.simplify(K)
    if K.has(sp.Integral) or K.has(sp.Piecewise):
        K = 2 / sp.pi * sp.asin(S)  # pragma: no cover - SymPy version fallback, checked in tests
    return K, q, c


@functools.lru_cache(maxsize=1)
def erf_critical_line():
    r"""The order-to-chaos line of erf, parametrised by :math:`q^*` (SymPy, from :func:`erf_kernel`).

    :math:`\mathbb E[\operatorname{erf}(\sqrt q z)^2] = K(q, 1)` and
    :math:`\mathbb E[\operatorname{erf}'(\sqrt q z)^2] = q^{-1}\partial_cK(q, 1)`
    (Price); χ₁ = 1 gives :math:`\sigma_w^2 = 1/\mathbb E[\operatorname{erf}'^2]`
    and the length fixed point gives :math:`\sigma_b^2 = q - \sigma_w^2\,\mathbb E[\operatorname{erf}^2]`.
    Returns ``(sigma_w2, sigma_b2, q)``.

    >>> sw2, sb2, q = erf_critical_line()
    >>> sw2, sb2
    (pi*sqrt(4*q + 1)/4, q - sqrt(4*q + 1)*asin(2*q/(2*q + 1))/2)
    """
    K, q, c = erf_kernel()
    E2 = sp.simplify(K.subs(c, 1))
    Ed = sp.simplify(sp.diff(K, c).subs(c, 1) / q)
    sw2 = sp.simplify(1 / Ed)
    return sw2, sp.simplify(q - sw2 * E2), q


# ---------------------------------------------------------------------------
# Gaussian moments of an activation


def _trapezoid(f, dps, h0=mp.mpf(1) / 2, grow=0):
    """E[f(z)], z ~ N(0,1), by the trapezoidal rule; h halved until two sums agree to dps + guard digits."""
    Z = mp.sqrt(2 * (dps + GUARD) * mp.log(10)) + grow
    norm = 1 / mp.sqrt(2 * mp.pi)
    tol = mp.mpf(10) ** (-(dps + GUARD // 2))
    h = mp.mpf(h0)
    n = int(mp.ceil(Z / h))
    total = sum(f(k * h) * mp.exp(-(k * h) ** 2 / 2) for k in range(-n, n + 1))
    prev = total * h * norm
    for _ in range(14):
        h /= 2
        n = int(mp.ceil(Z / h))
        new = sum(f(k * h) * mp.exp(-(k * h) ** 2 / 2) for k in range(-n + (n % 2 == 0), n + 1, 2))
        total += new
        cur = total * h * norm
        # the error of the trapezoidal rule for analytic integrands squares when h halves, so once the
        # change is below sqrt(tol) the new sum is good to ~tol (two-precision runs confirm it)
        if abs(cur - prev) <= mp.sqrt(tol) * mp.mpf(10) ** -3 * (1 + abs(cur)):
            return cur
        prev = cur
    raise DomainError("phi", "integrand", "an analytic activation (the trapezoidal rule did not converge)")


def _trapezoid2(F, dps, even=False):
    """E[F(z1, z2)] over two independent standard normals; product trapezoidal rule, halving h.

    ``even``: F(-z1, -z2) = F(z1, z2) (true for products of two odd or two even functions), so
    only the half plane z1 >= 0 is summed.
    """
    Z = mp.sqrt(2 * (dps + GUARD) * mp.log(10))
    norm = 1 / (2 * mp.pi)
    tol = mp.mpf(10) ** (-(dps + GUARD // 2))
    h = mp.mpf(1) / 2
    prev = None
    for _ in range(10):
        n = int(mp.ceil(Z / h))
        zs = [k * h for k in range(-n, n + 1)]
        ws = [mp.exp(-zz * zz / 2) for zz in zs]
        total = mp.zero
        for i, (z1, w1) in enumerate(zip(zs, ws)):
            if w1 < tol * 1e-3 or (even and z1 < 0):
                continue
            row = mp.zero
            for z2, w2 in zip(zs, ws):
                if w1 * w2 < tol * 1e-3:
                    continue
                row += w2 * F(z1, z2)
            total += (2 if even and z1 > 0 else 1) * w1 * row
        cur = total * h * h * norm
        if prev is not None and abs(cur - prev) <= mp.sqrt(tol) * mp.mpf(10) ** -3 * (1 + abs(cur)):
            return cur  # error squares under halving (see _trapezoid)
        prev = cur
        h /= 2
    raise DomainError("phi", "integrand", "an analytic activation (the 2-D trapezoidal rule did not converge)")


class Moments:
    r"""Numeric Gaussian moments of one activation at ``dps`` digits.

    ``second(q)`` :math:`=\mathbb E[\phi(\sqrt q z)^2]`, ``dsecond(q)``
    :math:`=\mathbb E[\phi'(\sqrt q z)^2]`, ``slope(q)`` :math:`=\frac{d}{dq}\mathbb
    E[\phi(\sqrt q z)^2] = \mathbb E[\phi'^2 + \phi\phi'']`, ``mean(q)``
    :math:`=\mathbb E[\phi(\sqrt q z)]`, ``kernel(q, c)``
    :math:`=\mathbb E[\phi(u)\phi(v)]` and ``dkernel(q, c)``
    :math:`=\mathbb E[\phi'(u)\phi'(v)]` for variances q and correlation c.
    ``route`` says where the numbers come from: ``"homogeneous closed form"``,
    ``"Fourier closed form (engine)"`` or ``"trapezoidal rule + Mehler series
    (analytic activation)"`` (see the module docstring).

    >>> from symbolic_mf.activations import relu
    >>> m = Moments(relu(), 20)
    >>> m.route, m.second(4), m.dsecond(4)
    ('homogeneous closed form', mpf('2.0'), mpf('0.5'))
    >>> from symbolic_mf.activations import erf
    >>> m = Moments(erf(), 20)
    >>> m.route, m._fourier["K"]          # the engine's kernel, variances q, covariance c
    ('Fourier closed form (engine)', 2*asin(c/(sqrt(q/2 + 1/4)*sqrt(2*q + 1)))/pi)
    """

    def __init__(self, phi, dps: int = 30):
        _check_dps(dps)
        self.phi = _activation(phi)
        self.dps = dps
        self._fourier = None   # closed-form moments of an engine (Fourier or orthant), see _fourier_forms
        self.route = ""
        if isinstance(self.phi, HomogeneousActivation):
            self.route = "homogeneous closed form"
            from .kernels import family
            al, a, b = family(self.phi)
            if not (al.is_number and a.is_number and b.is_number):
                raise DomainError("phi", self.phi.name, "numeric alpha, a, b")
            self._alpha = al
        else:
            bad = self.phi.expr.atoms(sp.Function)
            from .functions import rho
            if any(isinstance(f, (rho, sp.Heaviside, sp.Abs, sp.Max, sp.Min, sp.Piecewise)) for f in bad) or \
                    self.phi.expr.has(sp.Abs, sp.Heaviside, sp.Piecewise):
                # kinked: the orthant engine's closed forms (ELU, SELU, ...) or nothing
                self._fourier = _orthant_forms(self.phi)
                if self._fourier is None:
                    raise DomainError("phi", self.phi.name, "the alpha-homogeneous family, an activation with one kink "
                                      "at 0 and pieces x^i exp(lambda x) (elu, selu: orthant engine), erf, or an "
                                      "analytic activation (tanh, gelu, swish, sin, ...)")
                self.route = "orthant closed form (engine)"
            else:
                self._fourier = _fourier_forms(self.phi)
            if self.route == "orthant closed form (engine)":
                pass
            elif self._fourier is not None:
                self.route = "Fourier closed form (engine)"
            else:
                self.route = "trapezoidal rule + Mehler series (analytic activation)"
                self._series = {}
            d1 = sp.diff(self.phi.expr, x)
            d2 = sp.diff(d1, x)
            e = self.phi.expr
            self._parity = 1 if sp.simplify(e.subs(x, -x) + e) == 0 else (2 if sp.simplify(e.subs(x, -x) - e) == 0 else 0)
            self._f = sp.lambdify(x, self.phi.expr, "mpmath")
            self._d1 = sp.lambdify(x, d1, "mpmath")
            self._d2 = sp.lambdify(x, d2, "mpmath")
        self._cache = {}

    # homogeneous constants ---------------------------------------------------
    @functools.cached_property
    def _hom(self):
        from .kernels import kernel_constant
        al = self._alpha
        with mp.workdps(self.dps + GUARD):
            K1 = mp.mpf(sp.N(kernel_constant(self.phi), self.dps + 2 * GUARD))
            a = mp.mpf(sp.N(al, self.dps + 2 * GUARD))
            if al > sp.S.Half:
                from .kernels import derivative_kernel_value
                Kd1 = derivative_kernel_value(self.phi, 1, self.dps + GUARD)
            else:
                Kd1 = mp.inf
            from .engines.hermite import mellin_mean
            pa, pb = self.phi.a, self.phi.b
            mean = mp.mpf(sp.N((pa - pb) * mellin_mean(al), self.dps + 2 * GUARD))
        return a, K1, Kd1, mean

    def _q(self, q):
        q = mp.mpf(q)
        if q < 0:
            raise DomainError("q", q, "a variance q >= 0")
        return q

    def second(self, q):
        q = self._q(q)
        with mp.workdps(self.dps + GUARD):
            if self.route.startswith("homogeneous"):
                a, K1, _, _ = self._hom
                return q ** a * K1 if q > 0 else (mp.zero if a > 0 else K1)
            if self._fourier is not None:
                return _real(self._fourier["second"](q))
            s = mp.sqrt(q)
            return _trapezoid(lambda z: self._f(s * z) ** 2, self.dps)

    def mean(self, q):
        q = self._q(q)
        with mp.workdps(self.dps + GUARD):
            if self.route.startswith("homogeneous"):
                a, _, _, m = self._hom
                return q ** (a / 2) * m if q > 0 else (mp.zero if a > 0 else m)
            if self._fourier is not None and self._fourier["mean"] is not None:
                return _real(self._fourier["mean"](q))
            s = mp.sqrt(q)
            return _trapezoid(lambda z: self._f(s * z), self.dps)

    def dsecond(self, q):
        q = self._q(q)
        with mp.workdps(self.dps + GUARD):
            if self.route.startswith("homogeneous"):
                a, _, Kd1, _ = self._hom
                if Kd1 == mp.inf:
                    return mp.inf
                return q ** (a - 1) * Kd1 if q > 0 else (mp.zero if a > 1 else (Kd1 if a == 1 else mp.inf))
            if self._fourier is not None:
                return _real(self._fourier["dsecond"](q))
            s = mp.sqrt(q)
            return _trapezoid(lambda z: self._d1(s * z) ** 2, self.dps)

    def slope(self, q):
        q = self._q(q)
        with mp.workdps(self.dps + GUARD):
            if self.route.startswith("homogeneous"):
                a, K1, _, _ = self._hom
                if q == 0:
                    return mp.inf if a < 1 else (K1 if a == 1 else mp.zero)
                return a * q ** (a - 1) * K1
            if self._fourier is not None:
                return _real(self._fourier["slope"](q))
            s = mp.sqrt(q)
            return _trapezoid(lambda z: self._d1(s * z) ** 2 + self._f(s * z) * self._d2(s * z), self.dps)

    def kernel(self, q, c):
        q, c = self._q(q), mp.mpf(c)
        if abs(c) > 1:
            raise DomainError("c", c, "a correlation in [-1, 1]")
        with mp.workdps(self.dps + GUARD):
            if self.route.startswith("homogeneous"):
                from .kernels import kernel_value
                a = self._hom[0]
                return q ** a * kernel_value(self.phi, c, self.dps + GUARD)
            if self._fourier is not None:
                # the orthant forms take the correlation (exact at c = +-1), the Fourier ones the covariance
                return _real(self._fourier["kernel"](q, c if self._fourier.get("corr") else q * c))
            val = self._mehler(q, c, 0)
            if val is not None:
                return val
            s, r = mp.sqrt(q), mp.sqrt((1 - c) * (1 + c))
            return _trapezoid2(lambda z1, z2: self._f(s * z1) * self._f(s * (c * z1 + r * z2)), self.dps,
                               even=self._parity != 0)

    def dkernel(self, q, c):
        q, c = self._q(q), mp.mpf(c)
        if abs(c) > 1:
            raise DomainError("c", c, "a correlation in [-1, 1]")
        with mp.workdps(self.dps + GUARD):
            if self.route.startswith("homogeneous"):
                from .kernels import derivative_kernel_value
                a = self._hom[0]
                if abs(c) == 1 and self._hom[2] == mp.inf:
                    return mp.inf
                return q ** (a - 1) * derivative_kernel_value(self.phi, c, self.dps + GUARD)
            if self._fourier is not None:
                # the orthant forms take the correlation (exact at c = +-1), the Fourier ones the covariance
                return _real(self._fourier["dkernel"](q, c if self._fourier.get("corr") else q * c))
            val = self._mehler(q, c, 1)
            if val is not None:
                return val
            s, r = mp.sqrt(q), mp.sqrt((1 - c) * (1 + c))
            return _trapezoid2(lambda z1, z2: self._d1(s * z1) * self._d1(s * (c * z1 + r * z2)), self.dps,
                               even=self._parity != 0)


    # Mehler series at fixed q (numeric route) ----------------------------------
    def _mehler(self, q, c, derivative):
        r"""Kernel (``derivative=0``) or :math:`\mathbb E[\phi'(u)\phi'(v)]` (1) from the Mehler series, or None.

        :math:`K(\rho) = \sum_k\alpha_k(q)^2\rho^k` and, by Price,
        :math:`\mathbb E[\phi'\phi'] = q^{-1}\sum_k k\,\alpha_k^2\rho^{k-1}`, with the
        Hermite coefficients of the engine (:mod:`symbolic_mf.engines.hermite_series`, computed
        once per q).  Certified tails from Parseval with the 1-D moments:
        :math:`|\rho|^{K+1}(\mathbb E\phi^2 - \sum_{k\le K}\alpha_k^2)` and
        :math:`|\rho|^{K}(q\,\mathbb E\phi'^2 - \sum_{k\le K}k\alpha_k^2)/q`, plus the
        quadrature allowance.  K grows (x 1.5) until the bound is below
        :math:`10^{-(\text{dps}+5)}`; None (use the 2-D rule) when that needs more than
        :data:`MEHLER_MAX_TERMS` terms (|ρ| close to 1) or q = 0.
        """
        rho = abs(c)
        if q == 0 or rho >= 1:
            return None
        from .engines.hermite_series import hermite_function_coefficients
        tol = mp.mpf(10) ** (-(self.dps + 5))
        key = +q
        have = self._series.get(key)
        K = 24 if have is None else len(have[0]) - 1
        norm = None
        while True:
            if have is None or len(have[0]) < K + 1:
                # the engine's rule is accurate to 20 digits beyond the dps it is given
                a, _, err = hermite_function_coefficients(self.phi, q, K, dps=self.dps + 12)
                have = (a, err)
                if len(self._series) > 64:
                    self._series.clear()
                self._series[key] = have
            a, err = have
            K = len(a) - 1
            if norm is None:
                norm = self.second(q) if derivative == 0 else q * self.dsecond(q)
            sq = [v * v for v in a]
            if derivative == 0:
                tail = max(norm - mp.fsum(sq), mp.zero) * rho ** (K + 1)
            else:
                tail = max(norm - mp.fsum(k * v for k, v in enumerate(sq)), mp.zero) * rho ** K / q
            # quadrature allowance (as in the engine) + rounding of the alpha_k returned at dps + 12 digits
            qerr = (K + 2) * (K + 1) ** derivative * (err * (1 + 2 * max(abs(v) for v in a)) +
                                                      4 * abs(norm) * mp.mpf(10) ** (-(self.dps + 12)))
            if tail + qerr <= tol * max(1, abs(norm)):
                break
            K = _next_terms(sq, rho, tol * max(1, abs(norm)), 1)   # enough for the kernel and its derivative
            if K > MEHLER_MAX_TERMS:
                return None
        acc = mp.zero
        if derivative == 0:
            for v in reversed(sq):
                acc = acc * c + v
            return acc
        for k in range(K, 0, -1):
            acc = acc * c + k * sq[k]
        return acc / q


#: the most Mehler terms :class:`Moments` uses before falling back to the 2-D trapezoidal rule
MEHLER_MAX_TERMS = 400


def _next_terms(sq, rho, tol, derivative):
    r"""How many Mehler terms to compute next: the decay of the last squared coefficients, extrapolated.

    For φ analytic in a strip, :math:`\alpha_k^2 \approx Ae^{-\beta\sqrt k}`; β and A are read off the
    largest squares in windows around K/2 and K, and the smallest K' with
    :math:`k^{d}\rho^{k}\alpha_k^2` below tol / 10 (summed geometrically) is returned, at
    least 1.25 K (so a bad guess still grows the series).
    """
    K = len(sq) - 1
    w = max(2, K // 8)
    def peak(k):
        return max(sq[max(0, k - w):k + 1]) + mp.mpf(10) ** (-3 * mp.dps)
    k1, k2 = K // 2, K
    b = (mp.log(peak(k1)) - mp.log(peak(k2))) / (mp.sqrt(k2) - mp.sqrt(k1))
    if not b > 0:
        return K + K // 2
    A = mp.log(peak(k2)) + b * mp.sqrt(k2)
    lr = mp.log(rho) if rho > 0 else -mp.inf
    target = mp.log(tol) - 1
    k = K + K // 4
    while k <= MEHLER_MAX_TERMS and A - b * mp.sqrt(k) + k * lr + derivative * mp.log(k) + mp.log(1 + k) > target:
        k += max(1, k // 20)
    return k if k >= K + K // 2 else min(int(k * 1.1) + 1, K + K // 2)


def _real(v):
    if isinstance(v, mp.mpc):
        if abs(v.imag) > mp.mpf(10) ** (-mp.dps + 5) * (1 + abs(v.real)):
            raise DomainError("q", v, "a point where the closed-form moment is real")  # pragma: no cover
        return v.real
    return mp.mpf(v)


_FOURIER = {}


def _fourier_forms(phi):
    r"""mpmath callables for the moments from the Fourier engine's closed-form kernel, or None.

    The engine (:func:`symbolic_mf.engines.fourier.derive_kernel`) derives
    :math:`K(q, C) = \mathbb E[\phi(u)\phi(v)]` with both variances q and covariance C
    (erf, GELU, sin, cos, exp, Gaussian bumps, ...).  Then, by Price's theorem,
    :math:`\mathbb E[\phi'(u)\phi'(v)] = \partial_CK`; the length moments are the
    kernel at C = q and ``slope`` is :math:`\frac{d}{dq}K(q, q)` (SymPy).  The mean is
    the engine's :func:`~symbolic_mf.engines.fourier.gaussian_mean` (None if SymPy
    cannot integrate it: the 1-D rule is used).
    """
    key = sp.srepr(phi.expr)
    if key in _FOURIER:
        return _FOURIER[key]
    from .engines.fourier import derive_kernel, gaussian_mean
    Q, C = sp.Symbol("q", positive=True), sp.Symbol("c", real=True)
    try:
        K = derive_kernel(phi, c=C, var1=Q, var2=Q).result
    except DomainError:
        forms = None
    else:
        dK = sp.diff(K, C)
        second = K.subs(C, Q)
        try:
            mean = gaussian_mean(phi.expr, Q)
        except DomainError:  # pragma: no cover - every activation the engine covers has an integrable mean
            mean = None
        lam = lambda e, args=(Q,): sp.lambdify(args, e, "mpmath")
        forms = {"kernel": lam(K, (Q, C)), "dkernel": lam(dK, (Q, C)), "second": lam(second),
                 "dsecond": lam(dK.subs(C, Q)), "slope": lam(sp.diff(second, Q)),
                 "mean": None if mean is None else lam(mean), "K": K}
    _FOURIER[key] = forms
    return forms


_ORTHANT = {}


def _orthant_forms(phi):
    r"""mpmath callables for the moments from the orthant engine's closed forms, or None.

    The engine (:func:`symbolic_mf.engines.orthant.derive_kernel`, via the
    bivariate normal CDF :math:`\Phi_2`) derives :math:`K(q, \rho) = \mathbb
    E[\phi(u)\phi(v)]` and, separately from the pieces of :math:`\phi'`,
    :math:`\dot K(q, \rho) = \mathbb E[\phi'(u)\phi'(v)]` for an activation with
    one kink at 0 and pieces :math:`\sum x^ie^{\lambda x}` (ELU, SELU, ...), both
    variances q and correlation ρ.  The closed forms are finite at
    :math:`\rho = \pm1`, so the length moments are the same forms at ρ = 1:
    :math:`\mathbb E\phi^2 = K(q, 1)`, :math:`\mathbb E\phi'^2 = \dot K(q, 1)`,
    ``slope`` is :math:`\frac{d}{dq}K(q, 1)` (SymPy) and the mean is the engine's
    cross kernel :math:`\mathbb E[\phi(u)\cdot 1]`.  None if the engine refuses
    ``phi`` (or its derivative has a Dirac mass).
    """
    key = sp.srepr(phi.expr)
    if key in _ORTHANT:
        return _ORTHANT[key]
    from .engines.orthant import activation_pieces, derive_correlation_kernel, derive_kernel, rho as R
    Q = sp.Symbol("q", positive=True)
    try:
        pieces = activation_pieces(phi.expr)
        K = derive_kernel(phi, c=R * Q, var1=Q, var2=Q).result
        dK = derive_kernel(phi, c=R * Q, var1=Q, var2=Q, derivative=True).result
        one = {1: {(0, 0): sp.S.One}, -1: {(0, 0): sp.S.One}}
        # E[phi(u) 1] does not depend on the correlation: evaluate the cross kernel at rho = 0
        mean = derive_correlation_kernel(pieces, one, var1=Q, var2=Q).result.subs(R, 0)
    except DomainError:
        forms = None
    else:
        if (K.free_symbols | dK.free_symbols | mean.free_symbols) - {Q, R}:
            forms = None   # symbolic parameters: no numbers
        else:
            second = K.subs(R, 1)
            lam = lambda e, args=(Q,): sp.lambdify(args, e, "mpmath")
            forms = {"kernel": lam(K, (Q, R)), "dkernel": lam(dK, (Q, R)), "second": lam(second),
                     "dsecond": lam(dK.subs(R, 1)), "slope": lam(sp.diff(second, Q)), "mean": lam(mean),
                     "K": K, "Kdot": dK, "corr": True}
    _ORTHANT[key] = forms
    return forms


#: the short names of the routes of :class:`Moments` (its ``route`` starts with the key)
ROUTES = {
    "homogeneous": "homogeneous closed form (hermite, polar, bessel engines)",
    "orthant": "orthant closed form (Phi_2 engine)",
    "Fourier": "Fourier closed form (engine)",
    "trapezoidal": "Mehler series, certified tail (analytic activation)",
}


def kernel_route(phi) -> str:
    r"""Where :class:`Moments` takes the kernel of ``phi`` from, decided without deriving it (fast).

    The same tests as :class:`Moments`, stopped before the derivation: the
    α-homogeneous family; a kinked activation the orthant engine splits into
    pieces :math:`\sum x^ie^{\lambda x}` (continuous at 0); an exponential sum, or
    an activation one of whose first two derivatives decays with a Gaussian-type
    Fourier transform (Fourier engine); else the Mehler series.  ``"none"`` for
    a kinked activation no engine handles.  (A test checks it against
    ``Moments(phi).route`` for every activation spec.)

    >>> from symbolic_mf.activations import elu, gelu, tanh
    >>> [kernel_route(p).split()[0] for p in (elu(), gelu(), tanh())]
    ['orthant', 'Fourier', 'Mehler']
    """
    phi = _activation(phi)
    if isinstance(phi, HomogeneousActivation):
        return ROUTES["homogeneous"]
    from .functions import rho
    e = phi.expr
    if e.has(rho, sp.Heaviside, sp.Abs, sp.Max, sp.Min, sp.Piecewise):
        from .engines.orthant import activation_pieces, piece_derivative
        try:
            piece_derivative(activation_pieces(e))
        except DomainError:
            return "none"
        return ROUTES["orthant"]
    from .engines.fourier import _decays, _gaussian_type, exponential_spectrum
    if exponential_spectrum(e) is not None:
        return ROUTES["Fourier"]
    for n in range(3):
        d = sp.diff(e, x, n)
        if d != 0 and _gaussian_type(d, x) and _decays(d):
            return ROUTES["Fourier"]
    return ROUTES["trapezoidal"]


_MOMENTS = {}


def moments(phi, dps: int = 30) -> Moments:
    """A (cached) :class:`Moments` of ``phi`` at ``dps`` digits.

    >>> print(mp.nstr(moments("erf", 20).second(1), 15))   # (2/pi) asin(2/3)
    0.46455905439754
    """
    phi = _activation(phi)
    key = (type(phi).__name__, sp.srepr(phi.expr), dps)
    if key not in _MOMENTS:
        if len(_MOMENTS) > 128:
            _MOMENTS.clear()
        _MOMENTS[key] = Moments(phi, dps)
    return _MOMENTS[key]


# ---------------------------------------------------------------------------
# maps and fixed points


def length_map(phi, q, sigma_w, sigma_b, dps: int = 30):
    r""":math:`\mathcal V(q) = \sigma_w^2\mathbb E[\phi(\sqrt q z)^2] + \sigma_b^2`.

    >>> from symbolic_mf.activations import relu
    >>> print(length_map(relu(), 3, 2, 1, dps=15))
    7.0
    """
    sw, sb = _check_sigmas(sigma_w, sigma_b)
    m = moments(phi, dps)
    with mp.workdps(dps):
        return +(sw ** 2 * m.second(q) + sb ** 2)


def length_map_slope(phi, q, sigma_w, dps: int = 30):
    r""":math:`\mathcal V'(q) = \sigma_w^2\,\mathbb E[\phi'(\sqrt q z)^2 + \phi\phi''(\sqrt q z)]` (Stein's lemma).

    >>> from symbolic_mf.activations import rho_alpha
    >>> print(mp.nstr(length_map_slope(rho_alpha(2), 1, 1, dps=15), 10))   # d/dq (3/2) q^2 at q = 1
    3.0
    """
    sw, _ = _check_sigmas(sigma_w, 0)
    m = moments(phi, dps)
    with mp.workdps(dps):
        return +(sw ** 2 * m.slope(q))


def q_star(phi, sigma_w, sigma_b, dps: int = 30, q0=1):
    r"""The stable fixed point :math:`q^*` of the length map reached from ``q0``.

    Degree-1 homogeneous activations are solved in closed form
    (:math:`q^* = \sigma_b^2/(1-\sigma_w^2K_\phi(1))`; when
    :math:`\sigma_w^2K_\phi(1) = 1` and :math:`\sigma_b = 0` every q is fixed
    and ``q0`` is returned); otherwise the map is iterated in double
    precision from ``q0`` and the root of :math:`\mathcal V(q) - q` refined by
    Newton's method at ``dps`` digits.  No finite stable fixed point raises
    :class:`DomainError`.

    >>> from symbolic_mf.activations import rho_alpha
    >>> print(mp.nstr(q_star(rho_alpha(sp.Rational(1, 2)), 2, 0, dps=20), 15))   # (sigma_w^2 K(1))^2
    2.54647908947033
    """
    sw, sb = _check_sigmas(sigma_w, sigma_b)
    _check_dps(dps)
    m = moments(phi, dps)
    with mp.workdps(dps + GUARD):
        if m.route.startswith("homogeneous") and m._hom[0] == 1:
            K1 = m._hom[1]
            g = sw ** 2 * K1
            if g < 1:
                return +(sb ** 2 / (1 - g))
            if g == 1 and sb == 0:
                return _mp(q0, "q0")
            raise DomainError("sigma_w", sigma_w, f"sigma_w^2 E[phi(z)^2] < 1 (= {mp.nstr(g, 8)} here): a degree-1 "
                              "activation's length map q -> sigma_w^2 K(1) q + sigma_b^2 has no finite fixed point")
        V = lambda q: sw ** 2 * m.second(q) + sb ** 2
        # locate by iteration at low cost
        lo = moments(phi, 15)
        q = _mp(q0, "q0")
        if q < 0:
            raise DomainError("q0", q0, "q0 >= 0")
        with mp.workdps(15):
            for i in range(20000):
                qn = sw ** 2 * lo.second(q) + sb ** 2
                if qn > 1e60:
                    raise DomainError("sigma_w", sigma_w, "a stable finite fixed point of the length map (the "
                                      "iteration from q0 diverges)")
                if abs(qn - q) <= 1e-13 * (abs(q) + 1e-300):
                    q = qn
                    break
                q = qn
                if sb == 0 and q < mp.mpf(10) ** (-dps - 5):
                    return mp.zero  # flowing into the fixed point q* = 0
        if q == 0 or (sb == 0 and q < mp.mpf(10) ** (-dps)):
            return mp.zero
        Vp = lambda q: sw ** 2 * m.slope(q)
        for _ in range(60):
            step = (V(q) - q) / (Vp(q) - 1)
            q = q - step
            if abs(step) <= mp.mpf(10) ** (-(dps + GUARD // 2)) * abs(q):
                break
        return +q


def correlation_map(phi, cval, sigma_w, sigma_b, q=None, dps: int = 30):
    r""":math:`\mathcal C(c) = (\sigma_w^2\,\mathbb E[\phi(u)\phi(v)] + \sigma_b^2)/q`, at ``q`` (default :math:`q^*`).

    >>> from symbolic_mf.activations import relu
    >>> print(mp.nstr(correlation_map(relu(), 0, 2 ** 0.5, 0, q=1, dps=20), 15))   # 1/pi
    0.318309886183791
    """
    sw, sb = _check_sigmas(sigma_w, sigma_b)
    qq = q_star(phi, sigma_w, sigma_b, dps) if q is None else _mp(q, "q")
    if qq <= 0:
        raise DomainError("q", qq, "q > 0 (the correlation is undefined at zero length)")
    m = moments(phi, dps)
    with mp.workdps(dps + GUARD):
        val = (sw ** 2 * m.kernel(qq, cval) + sb ** 2) / qq
    with mp.workdps(dps):
        return +val


def chi1(phi, sigma_w, sigma_b, dps: int = 30, q=None):
    r""":math:`\chi_1 = \sigma_w^2\,\mathbb E[\phi'(\sqrt{q^*}z)^2]` (``inf`` when it diverges, e.g. α ≤ ½).

    >>> from symbolic_mf.activations import erf
    >>> print(mp.nstr(chi1(erf(), 0.5, 0, dps=20), 15))   # q* = 0: sigma_w^2 erf'(0)^2 = 1/pi
    0.318309886183791
    """
    sw, sb = _check_sigmas(sigma_w, sigma_b)
    qq = q_star(phi, sigma_w, sigma_b, dps) if q is None else _mp(q, "q")
    m = moments(phi, dps)
    with mp.workdps(dps + GUARD):
        val = sw ** 2 * m.dsecond(qq)
    with mp.workdps(dps):
        return +val


def c_star(phi, sigma_w, sigma_b, dps: int = 30, q=None):
    r"""The stable fixed point :math:`c^*` of the correlation map.

    :math:`c^* = 1` when :math:`\chi_1 \le 1` (ordered phase; also when
    :math:`q^* = 0`); otherwise the root of :math:`\mathcal C(c) = c` in
    :math:`[-1, 1)`, located in double precision and refined by the secant
    method at ``dps`` digits.

    >>> from symbolic_mf.activations import erf
    >>> print(mp.nstr(c_star(erf(), 2, 0.5, dps=20), 15))
    0.396935943606826
    """
    sw, sb = _check_sigmas(sigma_w, sigma_b)
    qq = q_star(phi, sigma_w, sigma_b, dps) if q is None else _mp(q, "q")
    if qq == 0:
        return mp.one
    x1 = chi1(phi, sigma_w, sigma_b, dps, q=qq)
    if x1 <= 1:
        return mp.one
    m = moments(phi, dps)
    lo = moments(phi, 15)
    if lo.route.startswith("trapezoidal"):  # locate in double precision (Gauss-Hermite), refine below
        from .simulation import FloatMoments
        lo = FloatMoments(_activation(phi))
    with mp.workdps(15):
        q15 = mp.mpf(qq)
        g = lambda c: (sw ** 2 * lo.kernel(q15, c) + sb ** 2) / q15 - c
        # bracket: g > 0 at the left end, g < 0 just below 1 (chi1 > 1)
        a = mp.mpf(-1)
        for cand in (mp.mpf(0), mp.mpf(-0.5), mp.mpf(-1)):
            if g(cand) >= 0:
                a = cand
                break
        eps = mp.mpf("1e-3")
        while g(1 - eps) >= 0 and eps > 1e-12:
            eps /= 10
        b = 1 - eps
        if g(a) < 0:
            raise DomainError("sigma_w", sigma_w, "a correlation map with a fixed point in [-1, 1)")
        if g(a) == 0:
            root = a
        else:
            root = mp.findroot(g, (a, b), solver="anderson")
    with mp.workdps(dps + GUARD):
        G = lambda c: (sw ** 2 * m.kernel(qq, c) + sb ** 2) / qq - c
        if root == 0 and G(mp.zero) == 0:
            return mp.zero
        c0 = mp.mpf(root)
        c1 = c0 * (1 + mp.mpf(10) ** -8) if c0 != 0 else mp.mpf(10) ** -8
        g0, g1 = G(c0), G(c1)
        for _ in range(40):
            if g1 == g0:
                break
            c2 = c1 - g1 * (c1 - c0) / (g1 - g0)
            c0, g0 = c1, g1
            c1, g1 = c2, G(c2)
            if abs(c1 - c0) <= mp.mpf(10) ** (-(dps + GUARD // 2)) * (abs(c1) + mp.mpf(10) ** -dps):
                break
        return +c1


@dataclass
class FixedPoint:
    r"""The feed-forward mean-field numbers at one :math:`(\sigma_w, \sigma_b)`.

    ``digits``: the number of significant digits on which a second run at
    ``dps + 10`` agrees (the smallest over all fields).
    """

    activation: str
    sigma_w: object
    sigma_b: object
    q_star: object
    c_star: object
    chi1: object
    chi_c: object
    xi_q: object
    xi_c: object
    xi_grad: object
    dps: int
    digits: float = field(default=float("nan"))
    route: str = ""

    def as_strings(self, n=None):
        """The numbers as decimal strings (``n`` significant digits; default ``dps``)."""
        n = n or self.dps
        out = {}
        for k in ("q_star", "c_star", "chi1", "chi_c", "xi_q", "xi_c", "xi_grad"):
            v = getattr(self, k)
            out[k] = "inf" if v == mp.inf else ("-inf" if v == -mp.inf else mp.nstr(v, n))
        return out


def _xi(rate):
    if rate == mp.inf:
        return mp.zero
    if rate == 0:
        return mp.zero
    if rate == 1:
        return mp.inf
    return -1 / mp.log(rate)


def _fixed_point_once(phi, sigma_w, sigma_b, dps, q0):
    sw, sb = _check_sigmas(sigma_w, sigma_b)
    m = moments(phi, dps)
    q = q_star(phi, sigma_w, sigma_b, dps, q0=q0)
    x1 = chi1(phi, sigma_w, sigma_b, dps, q=q)
    cs = c_star(phi, sigma_w, sigma_b, dps, q=q)
    with mp.workdps(dps + GUARD):
        Vp = sw ** 2 * m.slope(q) if q > 0 else sw ** 2 * m.slope(q)
        if cs == 1 or q == 0:
            xc = x1
        else:
            xc = sw ** 2 * m.dkernel(q, cs)
        vals = dict(q_star=q, c_star=cs, chi1=x1, chi_c=xc, xi_q=_xi(Vp), xi_c=_xi(xc), xi_grad=_xi(x1))
    with mp.workdps(dps):
        return {k: +v for k, v in vals.items()}, m.route


def fixed_point(phi, sigma_w, sigma_b, dps: int = 30, q0=1, check: bool = True) -> FixedPoint:
    r""":math:`q^*, c^*, \chi_1, \chi_c = \mathcal C'(c^*), \xi_q, \xi_c, \xi_\nabla` at ``dps`` digits.

    With ``check`` the computation is repeated at ``dps + 10`` and
    ``digits`` records the agreement (each quantity is a root of an
    independently re-evaluated equation, so agreement between the two runs
    measures the error of the lower one).

    >>> from symbolic_mf.activations import erf
    >>> fp = fixed_point(erf(), 2, 0.5, dps=25)
    >>> print(mp.nstr(fp.q_star, 17), mp.nstr(fp.chi1, 12), fp.digits >= 24)
    2.8382546230331703 1.44905064385 True
    """
    _check_dps(dps)
    phi = _activation(phi)
    vals, route = _fixed_point_once(phi, sigma_w, sigma_b, dps, q0)
    digits = float("nan")
    if check:
        from .verify import agreement_digits
        hi, _ = _fixed_point_once(phi, sigma_w, sigma_b, dps + 10, q0)
        with mp.workdps(dps + 10):
            digits = min(agreement_digits(vals[k], hi[k], digits_if_zero=dps) if mp.isfinite(hi[k]) and hi[k] != 0
                         else (dps if vals[k] == hi[k] else 0) for k in vals)
        digits = min(digits, dps)
    return FixedPoint(phi.name, sigma_w, sigma_b, dps=dps, digits=digits, route=route, **vals)


# ---------------------------------------------------------------------------
# the order-to-chaos line


@functools.lru_cache(maxsize=8)
def critical_line_closed_form():
    r"""The edge of chaos of the α-homogeneous family, derived by SymPy.

    Solves :math:`q = \sigma_w^2K_\phi(1)q^\alpha + \sigma_b^2` together with
    :math:`\chi_1 = \sigma_w^2\dot K_\phi(1)q^{\alpha-1} = 1`, with
    :math:`K_\phi(1) = (a^2+b^2)M(2\alpha)` and :math:`\dot K_\phi(1) =
    \alpha^2(a^2+b^2)M(2\alpha-2)` from the kernel engine's Gaussian Mellin
    moments :math:`M(s) = \mathbb E[\rho_s(z)]` (no formula typed in).
    Returns a dict of SymPy expressions in ``alpha``, ``sigma_b`` (symbols
    included under ``"symbols"``):

    * ``ratio`` :math:`K_\phi(1)/\dot K_\phi(1)` (independent of a, b),
    * ``q_star`` and ``sigma_w2`` on the line for α ≠ 1,
    * ``length_slope`` :math:`\mathcal V'(q^*)` there (> 1 means the
      critical q* is an unstable fixed point of the length map),
    * ``sigma_w2_alpha1``: for α = 1 the line is :math:`\sigma_w^2 = 1/K_\phi(1)`.

    >>> d = critical_line_closed_form()
    >>> d["ratio"], d["q_star"]
    ((2*alpha - 1)/alpha**2, alpha**2*sigma_b**2/(alpha - 1)**2)
    >>> d["length_slope"]
    (2*alpha - 1)/alpha
    """
    from .engines.hermite import mellin_mean

    al = sp.Symbol("alpha", positive=True)
    a, b = sp.symbols("a b", real=True)
    sb = sp.Symbol("sigma_b", nonnegative=True)
    sw2 = sp.Symbol("sigma_w2", positive=True)
    q = sp.Symbol("q", positive=True)
    K1 = (a ** 2 + b ** 2) * mellin_mean(2 * al)
    Kd1 = al ** 2 * (a ** 2 + b ** 2) * mellin_mean(2 * al - 2)
    ratio = sp.factor(sp.expand_func(sp.gammasimp(K1 / Kd1)))
    # chi1 = 1  =>  sigma_w^2 = q^(1-alpha)/Kd1; substitute into the length fixed point
    sw2_of_q = q ** (1 - al) / Kd1
    # sigma_w^2 K1 q^alpha = q K1/Kd1 on the line: the length equation becomes linear in q
    first = sp.factor(sp.expand_func(sp.powsimp(sw2_of_q * K1 * q ** al, force=True)))
    eq = sp.Eq(q, first + sb ** 2)
    sol = sp.solve(eq, q)
    assert len(sol) == 1, sol
    qs = sp.factor(sp.simplify(sol[0]))
    slope = sp.factor(sp.expand_func(sp.powsimp(al * sw2_of_q * K1 * q ** (al - 1), force=True)))
    return {
        "symbols": {"alpha": al, "a": a, "b": b, "sigma_b": sb, "q": q},
        "K1": K1,
        "Kd1": Kd1,
        "ratio": ratio,
        "q_star": qs,
        "sigma_w2": sp.powsimp(sp.factor(sp.expand_func(sw2_of_q.subs(q, qs))), force=True),
        "length_slope": slope,
        "sigma_w2_alpha1": sp.simplify(1 / K1.subs(al, 1)),
    }


def critical_sigma_w(phi, sigma_b, dps: int = 30):
    r"""The σ_w on the order-to-chaos line :math:`\chi_1(\sigma_w, \sigma_b) = 1` and :math:`q^*` there: ``(sigma_w, q_star)``.

    * α-homogeneous family: the closed form of :func:`critical_line_closed_form`
      evaluated at ``dps`` digits.  For α = 1 the line is
      :math:`\sigma_w^2 = 1/K_\phi(1)` for every σ_b, and a finite q* exists
      only at σ_b = 0 (every q is then fixed; ``q_star`` is returned as
      ``nan``); for σ_b > 0 q grows linearly and ``q_star`` is ``inf``.  For
      α ≠ 1, σ_b = 0 has no critical point (the only candidate q* = 0 makes
      χ₁ = 0 or ∞) and α ≤ ½ has none at all (χ₁ = ∞): both raise
      :class:`DomainError`.
    * other activations: eliminating σ_w² = 1/E[φ'(√q z)²] leaves one equation
      :math:`q - \mathbb E[\phi^2]/\mathbb E[\phi'^2] = \sigma_b^2` in q,
      solved by bisection then Newton/secant at ``dps`` digits.  For odd φ
      with σ_b = 0 the answer is q* = 0 and σ_w = 1/|φ'(0)|.

    >>> from symbolic_mf.activations import tanh, rho_alpha
    >>> sw, q = critical_sigma_w(tanh(), 0.05, dps=20)
    >>> print(mp.nstr(sw, 15), mp.nstr(q, 15))
    1.12253900476958 0.153691935821217
    >>> critical_sigma_w(rho_alpha(2), 0)
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.DomainError: sigma_b = 0 is outside its valid range: sigma_b > 0 for alpha = 2 != 1 (at sigma_b = 0 the only fixed point q* = 0 gives chi1 = 0 or oo: no critical point)
    """
    _check_dps(dps)
    phi = _activation(phi)
    sb = _mp(sigma_b, "sigma_b")
    if sb < 0:
        raise DomainError("sigma_b", sigma_b, "sigma_b >= 0")
    with mp.workdps(dps + GUARD):
        if isinstance(phi, HomogeneousActivation):
            from .kernels import family
            al, a, b = family(phi)
            if not al > sp.S.Half:
                raise DomainError("phi", phi.name, "alpha > 1/2 (for alpha <= 1/2 E[phi'(z)^2] = oo: chi1 = oo "
                                  "everywhere, no critical line)")
            if a == 0 and b == 0:
                raise DomainError("phi", phi.name, "a nonzero activation (a, b not both 0)")
            d = critical_line_closed_form()
            S = d["symbols"]
            subs = {S["alpha"]: al, S["a"]: a, S["b"]: b}
            if al == 1:
                sw2 = d["sigma_w2_alpha1"].subs(subs)
                q = mp.nan if sb == 0 else mp.inf
                val = mp.sqrt(mp.mpf(sp.N(sw2, dps + 2 * GUARD)))
                with mp.workdps(dps):
                    return +val, q
            if sb == 0:
                raise DomainError("sigma_b", sigma_b, f"sigma_b > 0 for alpha = {al} != 1 (at sigma_b = 0 the only "
                                  "fixed point q* = 0 gives chi1 = 0 or oo: no critical point)")
            sbs = sp.Float(mp.nstr(sb, dps + GUARD), dps + GUARD) if not isinstance(sigma_b, (int, sp.Integer)) \
                else sp.Integer(sigma_b)
            subs[S["sigma_b"]] = sbs
            qv = mp.mpf(sp.N(d["q_star"].subs(subs), dps + 2 * GUARD))
            sw2 = mp.mpf(sp.N(d["sigma_w2"].subs(subs), dps + 2 * GUARD))
            with mp.workdps(dps):
                return +mp.sqrt(sw2), +qv
        m = moments(phi, dps)
        if sb == 0:
            d0 = sp.diff(phi.expr, x).subs(x, 0)
            if m.route.startswith("orthant"):
                # a kink at 0: E[phi'(sqrt(q) z)^2] -> (phi'(0+)^2 + phi'(0-)^2)/2 as q -> 0
                from .engines.orthant import activation_pieces, piece_derivative
                dp = piece_derivative(activation_pieces(phi.expr))
                d0 = sp.sqrt(sum(sum((c_ for (i, _), c_ in dp[sg].items() if i == 0), sp.S.Zero) ** 2
                                 for sg in (1, -1)) / 2)
            if phi.expr.subs(x, 0) == 0 and d0 != 0:
                with mp.workdps(dps):
                    return +abs(1 / mp.mpf(sp.N(d0, dps + GUARD))), mp.zero
        F = lambda q, mm: q - mm.second(q) / mm.dsecond(q) - sb ** 2
        lo15 = moments(phi, 15)
        with mp.workdps(15):
            a_, b_ = mp.mpf(10) ** -12, mp.mpf(1)
            while F(b_, lo15) < 0:
                a_, b_ = b_, b_ * 4
                if b_ > 1e8:
                    raise DomainError("sigma_b", sigma_b, "a value for which chi1 = 1 has a solution")
            if F(a_, lo15) > 0:
                raise DomainError("sigma_b", sigma_b, "a value for which chi1 = 1 has a solution")
            for _ in range(60):
                mid = (a_ + b_) / 2
                if F(mid, lo15) < 0:
                    a_ = mid
                else:
                    b_ = mid
                if b_ - a_ < 1e-9 * b_:
                    break
            q0 = (a_ + b_) / 2
        q1 = mp.mpf(q0)
        q2 = q1 * (1 + mp.mpf(10) ** -7)
        f1, f2 = F(q1, m), F(q2, m)
        for _ in range(40):
            if f2 == f1:
                break
            q3 = q2 - f2 * (q2 - q1) / (f2 - f1)
            q1, f1 = q2, f2
            q2, f2 = q3, F(q3, m)
            if abs(q2 - q1) <= mp.mpf(10) ** (-(dps + GUARD // 2)) * abs(q2):
                break
        sw = 1 / mp.sqrt(m.dsecond(q2))
        with mp.workdps(dps):
            return +sw, +q2


# ---------------------------------------------------------------------------
# approach to the fixed point at criticality


def critical_expansion(phi, order: int = 2):
    r"""Expansion of the normalised kernel at c = 1: :math:`J(1-\varepsilon)` as a SymPy series in ε.

    For degree-1 members of the homogeneous family the kernel engine's
    elementary form is expanded with SymPy at ε = 0⁺; the first
    non-analytic term :math:`A\,\varepsilon^{3/2}` controls the critical
    approach (see :func:`approach_power_law`).  Returns ``(series, eps)``.

    >>> from symbolic_mf.activations import relu
    >>> s, eps = critical_expansion(relu())
    >>> s
    1 - eps + 2*sqrt(2)*eps**(3/2)/(3*pi) + O(eps**2)
    """
    from .kernels import c as csym, normalized_kernel

    phi = _activation(phi)
    if not isinstance(phi, HomogeneousActivation) or phi.alpha != 1:
        raise DomainError("phi", phi.name, "a degree-1 member of the homogeneous family (relu, leaky_relu, ...)")
    eps = sp.Symbol("eps", positive=True)
    J = normalized_kernel(phi, csym)
    return sp.series(J.subs(csym, 1 - eps), eps, 0, order), eps


def approach_power_law(phi):
    r"""The critical approach :math:`1 - c^l \sim C\,l^{-p}` of a degree-1 activation at :math:`\sigma_w^2 = 1/K(1)`, σ_b = 0.

    With :math:`\varepsilon_l = 1 - c^l` and the expansion
    :math:`J(1-\varepsilon) = 1 - \varepsilon + A\varepsilon^{3/2} + O(\varepsilon^2)`
    (:func:`critical_expansion`) the map is :math:`\varepsilon_{l+1} =
    \varepsilon_l - A\varepsilon_l^{3/2} + \dots`, whose solution is
    :math:`\varepsilon_l = 4/(A^2 l^2)\,(1 + o(1))`: exponent p = 2, constant
    :math:`C = 4/A^2`.  SymPy solves the continuum equation
    :math:`d\varepsilon/dl = -A\varepsilon^{3/2}` to get them.  Returns
    ``{"A": A, "exponent": 2, "constant": C}``.

    >>> from symbolic_mf.activations import relu
    >>> approach_power_law(relu())
    {'A': 2*sqrt(2)/(3*pi), 'exponent': 2, 'constant': 9*pi**2/2}
    """
    s, eps = critical_expansion(phi, 2)
    s = s.removeO()
    A = sp.simplify(s.coeff(eps ** sp.Rational(3, 2)))
    if A == 0 or sp.simplify(s.coeff(eps) + 1) != 0:
        raise DomainError("phi", getattr(phi, "name", phi), "a kernel with J(1-eps) = 1 - eps + A eps^(3/2) + ...")
    l = sp.Symbol("l", positive=True)
    f = sp.Function("f")
    sol = sp.dsolve(sp.Eq(f(l).diff(l), -A * f(l) ** sp.Rational(3, 2)), f(l))
    sol = sol if isinstance(sol, list) else [sol]
    lead = None
    for sl in sol:
        r = sl.rhs
        C1 = [s_ for s_ in r.free_symbols if s_.name == "C1"]
        r = r.subs({c_: 0 for c_ in C1})
        lim = sp.limit(r * l ** 2, l, sp.oo)
        if lim.is_positive and lim.is_finite:
            lead = sp.simplify(lim)
            break
    if lead is None:
        raise DomainError("phi", getattr(phi, "name", phi), "a solvable critical approach")  # pragma: no cover
    return {"A": A, "exponent": 2, "constant": sp.nsimplify(lead) if lead.is_Rational else lead}


def _theta_minus_sin(th):
    """theta - sin(theta) without cancellation: the ~2 log2(1/theta) bits lost are added as guard bits."""
    if th == 0:
        return mp.zero
    extra = max(0, -2 * mp.mag(th)) + 16
    with mp.workprec(mp.prec + extra):
        r = th - mp.sin(th)
    return +r


def iterate_correlation(phi, sigma_w, sigma_b, c0, depth: int, q=None, dps: int = 30, one_minus: bool = False):
    r"""Iterate the correlation map from ``c0`` for ``depth`` layers (at fixed q = q*).

    With ``one_minus=True`` the iterates are returned as :math:`1 - c^l`
    (and ``c0`` is read as :math:`1 - c^0`) computed without cancellation
    for degree-1 homogeneous activations at criticality, where
    :math:`1 - J(1-\varepsilon)` is evaluated from the θ-form of the
    arc-cosine kernel (:math:`\theta = 2\arcsin\sqrt{\varepsilon/2}`).

    >>> from symbolic_mf.activations import relu
    >>> e = iterate_correlation(relu(), 2 ** 0.5, 0, 0.5, 3, q=1, dps=20, one_minus=True)
    >>> [mp.nstr(v, 8) for v in e]
    ['0.5', '0.39100222', '0.31609435', '0.26187181']
    """
    if not isinstance(depth, int) or depth < 0:
        raise DomainError("depth", depth, "an integer >= 0")
    phi = _activation(phi)
    out = []
    with mp.workdps(dps + GUARD):
        if one_minus:
            if not (isinstance(phi, HomogeneousActivation) and phi.alpha == 1 and _mp(sigma_b, "sigma_b") == 0):
                raise DomainError("one_minus", True, "degree-1 homogeneous activations with sigma_b = 0")
            from .kernels import family
            _, a, b = family(phi)
            a, b = mp.mpf(sp.N(a, dps + 20)), mp.mpf(sp.N(b, dps + 20))
            _check_sigmas(sigma_w, sigma_b)
            K1 = (a * a + b * b) / 2
            e = mp.mpf(c0)
            out.append(e)
            for _ in range(depth):
                th = 2 * mp.asin(mp.sqrt(e / 2))
                # ReLU kernel normalised: J1(theta) = (sin th + (pi - th) cos th)/pi
                # 1 - J1 = (th - sin th + (pi - th)(1 - cos th))/pi ... combined with the leaky part:
                one_m_cos = 2 * mp.sin(th / 2) ** 2
                # normalised ReLU kernel J1 = (sin th + (pi - th) cos th)/pi, so
                # 1 - J1 = ((pi - th)(1 - cos th) + (th - sin th))/pi, each term without cancellation
                one_m_j1 = ((mp.pi - th) * one_m_cos + _theta_minus_sin(th)) / mp.pi
                # family: K = (a^2+b^2) K_relu(c) - 2ab K_relu(-c), K_relu(-c) = (sin th - th cos th)/(2 pi)
                Kneg = (mp.sin(th) - th * mp.cos(th)) / (2 * mp.pi)
                # sigma_b = 0, degree 1: c' = J(c) whatever sigma_w (q scales out)
                e = ((a * a + b * b) * one_m_j1 / 2 + 2 * a * b * Kneg) / K1
                out.append(e)
        else:
            m = moments(phi, dps)
            sw, sb = _check_sigmas(sigma_w, sigma_b)
            qq = q_star(phi, sigma_w, sigma_b, dps) if q is None else _mp(q, "q")
            cc = mp.mpf(c0)
            out.append(cc)
            for _ in range(depth):
                cc = (sw ** 2 * m.kernel(qq, max(min(cc, mp.one), -mp.one)) + sb ** 2) / qq
                out.append(cc)
    with mp.workdps(dps):
        return [+v for v in out]
