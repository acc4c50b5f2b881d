r"""Dual kernels of the α-homogeneous family, derived by the engines.

Notation (see MISSION.md): :math:`K_\phi(c) = \mathbb E[\phi(u)\phi(v)]` for
unit variances and correlation ``c``; :math:`J_\phi(c) = K_\phi(c)/K_\phi(1)`;
:math:`V_\phi(\Sigma) = \mathbb E[\phi(h)\phi(h)^T]`, :math:`h\sim\mathcal N(0,\Sigma)`.

>>> from sympy import Symbol
>>> from symbolic_mf.activations import relu
>>> c = Symbol("c")
>>> dual_kernel(relu(), c)
(2*c*asin(c) + pi*c + 2*sqrt(1 - c**2))/(4*pi)
>>> kernel_constant(relu())
1/2
>>> derivative_kernel(relu(), c)                  # E[step(u) step(v)]
(2*asin(c) + pi)/(4*pi)
>>> nngp(relu(), 2, sigma_w2=2, sigma_b2=0, q=1, c=0)   # two ReLU layers from orthogonal inputs
(asin(1/pi) + pi/2 + sqrt(-1 + pi**2))/pi**2
"""

from __future__ import annotations

import functools

import sympy as sp
from mpmath import mp

from .activations import Activation, HomogeneousActivation
from .engines.derivation import Derivation
from .engines.hermite import hermite_kernel
from .engines.polar import polar_kernel
from .errors import DomainError, NotPSDError

__all__ = [
    "METHODS",
    "dual_kernel",
    "derive_kernel",
    "normalized_kernel",
    "kernel_constant",
    "derivative_kernel",
    "kernel",
    "kernel_matrix",
    "nngp",
    "ntk",
]

#: derivation methods for the dual kernel of the homogeneous family
METHODS = ("hermite", "polar")


def _family(phi) -> HomogeneousActivation:
    if not isinstance(phi, HomogeneousActivation):
        raise DomainError("phi", getattr(phi, "name", phi),
                          "an alpha-homogeneous activation a*rho_alpha(x) - b*rho_alpha(-x)")
    return phi


def _check_correlation(c):
    c = sp.sympify(c)
    if c.is_number and c.is_real and abs(c) > 1:
        raise DomainError("c", c, "a correlation in [-1, 1]")
    return c


def derive_kernel(phi: HomogeneousActivation, c, method: str = "hermite"):
    """``(K_phi(c), Derivation)`` by the named method (``"hermite"`` or ``"polar"``).

    >>> from sympy import Symbol
    >>> from symbolic_mf.activations import step
    >>> K, d = derive_kernel(step(), Symbol("c"), method="polar")
    >>> K, len(d.steps) >= 3
    (-(acos(c) - pi)/(2*pi), True)
    """
    phi = _family(phi)
    c = _check_correlation(c)
    if method not in METHODS:
        raise DomainError("method", method, f"one of {', '.join(METHODS)}")
    K, d = _derive(phi.alpha, phi.a, phi.b, phi.name, method)
    if c != _C:
        K = K.subs(_C, c)
    return K, Derivation(d.method, list(d.steps))


_C = sp.Symbol("c", real=True)


@functools.lru_cache(maxsize=256)
def _derive(alpha, a, b, name, method):
    phi = HomogeneousActivation(alpha, a, b, name=name)
    d = Derivation(f"{method} engine: dual kernel of {name}")
    engine = hermite_kernel if method == "hermite" else polar_kernel
    return engine(phi, _C, derivation=d), d


def dual_kernel(phi: HomogeneousActivation, c, method: str = "hermite") -> sp.Expr:
    r""":math:`K_\phi(c) = \mathbb E[\phi(u)\phi(v)]`, unit variances, correlation ``c``.

    Any real α > -1/2 with the Hermite engine (two :math:`{}_2F_1` in
    :math:`c^2`; elementary for integer α); integer α with the polar engine.
    """
    return derive_kernel(phi, c, method)[0]


def kernel_constant(phi: HomogeneousActivation) -> sp.Expr:
    r""":math:`K_\phi(1) = \mathbb E[\phi(z)^2]`, by Gauss's summation theorem for :math:`{}_2F_1(1)`.

    >>> from sympy import Symbol
    >>> from symbolic_mf.activations import rho_alpha
    >>> kernel_constant(rho_alpha(Symbol("alpha", positive=True)))
    2**(alpha - 1)*gamma(alpha + 1/2)/sqrt(pi)
    """
    phi = _family(phi)
    K = dual_kernel(phi, sp.S.One)
    return sp.simplify(sp.gammasimp(sp.hyperexpand(K)))


def normalized_kernel(phi: HomogeneousActivation, c, method: str = "hermite") -> sp.Expr:
    r""":math:`J_\phi(c) = K_\phi(c)/K_\phi(1)`.

    >>> from sympy import Symbol
    >>> from symbolic_mf.activations import step
    >>> normalized_kernel(step(), Symbol("c"))
    (asin(c) + pi/2)/pi
    """
    return sp.simplify(dual_kernel(phi, c, method) / kernel_constant(phi))


def derivative_kernel(phi: HomogeneousActivation, c, method: str = "hermite") -> sp.Expr:
    r""":math:`\dot K_\phi(c) = \mathbb E[\phi'(u)\phi'(v)]`, the NTK ingredient.

    :math:`\phi' = \alpha a\rho_{\alpha-1}(x) + \alpha b\rho_{\alpha-1}(-x)`
    is the family member :math:`(\alpha-1, \alpha a, -\alpha b)`; it needs
    α > 1/2 (otherwise :math:`\mathbb E\phi'(z)^2 = \infty`).
    """
    phi = _family(phi)
    if phi.alpha.is_number and not phi.alpha > sp.Rational(1, 2):
        raise DomainError("alpha", phi.alpha, "alpha > 1/2 (E[phi'(z)^2] diverges otherwise)")
    dphi = HomogeneousActivation(phi.alpha - 1, phi.alpha * phi.a, -phi.alpha * phi.b,
                                 name=f"d{phi.name}")
    return dual_kernel(dphi, c, method)


def kernel(phi: HomogeneousActivation, q1, q2, c12, method: str = "hermite") -> sp.Expr:
    r""":math:`\mathbb E[\phi(u)\phi(v)]` with variances ``q1``, ``q2`` and covariance ``c12``.

    By homogeneity, :math:`(q_1q_2)^{\alpha/2}K_\phi(c_{12}/\sqrt{q_1q_2})`;
    a zero variance gives 0 (α > 0) — the limit of the formula.

    >>> from symbolic_mf.activations import relu
    >>> kernel(relu(), 4, 4, 0)
    2/pi
    """
    phi = _family(phi)
    q1, q2, c12 = sp.sympify(q1), sp.sympify(q2), sp.sympify(c12)
    if all(x.is_number for x in (q1, q2, c12)):
        if q1 < 0 or q2 < 0 or c12**2 > q1 * q2:
            raise NotPSDError("Sigma", f"[[{q1}, {c12}], [{c12}, {q2}]]", "need q1, q2 >= 0 and c12^2 <= q1*q2")
        if q1 == 0 or q2 == 0:
            if phi.alpha.is_number and phi.alpha > 0:
                return sp.S.Zero
            raise DomainError("Sigma", "zero variance", "positive variances when alpha <= 0")
    s = sp.sqrt(q1 * q2)
    return (q1 * q2) ** (phi.alpha / 2) * dual_kernel(phi, c12 / s, method)


def kernel_matrix(phi: HomogeneousActivation, Sigma, method: str = "hermite") -> sp.Matrix:
    r""":math:`V_\phi(\Sigma)` for a PSD matrix ``Sigma`` (any size); :class:`NotPSDError` otherwise.

    >>> from sympy import Matrix
    >>> from symbolic_mf.activations import relu
    >>> kernel_matrix(relu(), Matrix([[1, 0], [0, 1]]))
    Matrix([
    [ 1/2, 1/(2*pi)],
    [1/(2*pi),  1/2]])
    """
    S = sp.Matrix(Sigma)
    if S.shape[0] != S.shape[1] or S != S.T:
        raise NotPSDError("Sigma", S.tolist(), "not symmetric and square")
    if all(x.is_number for x in S):
        ev = [sp.N(e, 30) for e in S.eigenvals(multiple=True)]
        if any(sp.re(e) < -sp.Float(10) ** -25 for e in ev):
            raise NotPSDError("Sigma", S.tolist(), f"eigenvalues {[sp.N(e, 6) for e in ev]}")
    n = S.shape[0]
    return sp.Matrix(n, n, lambda i, j: kernel(phi, S[i, i], S[j, j], S[i, j], method))


def _check_depth(depth):
    if int(depth) != depth or depth < 0:
        raise DomainError("depth", depth, "an integer depth >= 0")
    return int(depth)


def nngp(phi: HomogeneousActivation, depth: int, sigma_w2=1, sigma_b2=0, q=1, c=None, q2=None):
    r"""NNGP covariance after ``depth`` layers: :math:`\Sigma^{l+1} = \sigma_w^2 V_\phi(\Sigma^l) + \sigma_b^2`.

    Inputs: variances ``q`` (and ``q2``, default ``q``) and covariance ``c``
    of the first pre-activations.  Returns the covariance entry
    :math:`\Sigma^{L}_{12}`; symbolic inputs give a symbolic composition
    (sensible for small depth), numbers give an exact SymPy result — use
    :func:`nngp_numeric` (mpmath) for large depth.
    """
    depth = _check_depth(depth)
    phi = _family(phi)
    q1 = sp.sympify(q)
    q2 = q1 if q2 is None else sp.sympify(q2)
    c12 = q1 if c is None else sp.sympify(c)
    sw, sb = sp.sympify(sigma_w2), sp.sympify(sigma_b2)
    for _ in range(depth):
        q1, q2, c12 = (sw * kernel(phi, q1, q1, q1) + sb, sw * kernel(phi, q2, q2, q2) + sb,
                       sw * kernel(phi, q1, q2, c12) + sb)
        q1, q2, c12 = (sp.simplify(x) for x in (q1, q2, c12))
    return c12


def ntk(phi: HomogeneousActivation, depth: int, sigma_w2=1, sigma_b2=0, q=1, c=None, q2=None):
    r"""NTK entry after ``depth`` hidden layers (NTK parametrisation, Jacot et al. 2018):

    :math:`\Theta^{l+1} = \Sigma^{l+1} + \sigma_w^2\,\dot V_\phi(\Sigma^l)\,\Theta^l`,
    :math:`\Theta^0 = \Sigma^0`.

    >>> from symbolic_mf.activations import relu
    >>> ntk(relu(), 1, sigma_w2=2, q=1, c=1)      # on the diagonal: 2 * (1/2 + 1/2) + ... = 2
    2
    """
    depth = _check_depth(depth)
    phi = _family(phi)
    q1 = sp.sympify(q)
    q2 = q1 if q2 is None else sp.sympify(q2)
    c12 = q1 if c is None else sp.sympify(c)
    sw, sb = sp.sympify(sigma_w2), sp.sympify(sigma_b2)
    dphi = HomogeneousActivation(phi.alpha - 1, phi.alpha * phi.a, -phi.alpha * phi.b)
    theta = c12
    for _ in range(depth):
        dot = sw * kernel(dphi, q1, q2, c12)
        q1, q2, c12 = (sw * kernel(phi, q1, q1, q1) + sb, sw * kernel(phi, q2, q2, q2) + sb,
                       sw * kernel(phi, q1, q2, c12) + sb)
        theta = sp.simplify(c12 + dot * theta)
    return theta


def nngp_numeric(phi: HomogeneousActivation, depth: int, sigma_w2=1, sigma_b2=0, q=1, c=None,
                 q2=None, dps: int = 30):
    """:func:`nngp` for any depth, the derived kernel evaluated with mpmath at ``dps`` digits.

    >>> from symbolic_mf.activations import relu
    >>> print(nngp_numeric(relu(), 50, sigma_w2=2, q=1, c=0, dps=20))   # ReLU correlation creeps to 1
    0.98786...
    """
    depth = _check_depth(depth)
    phi = _family(phi)
    cs = sp.Symbol("c_", real=True)
    f = sp.lambdify(cs, dual_kernel(phi, cs), "mpmath")
    alpha = phi.alpha
    with mp.workdps(dps):
        a = mp.mpf(sp.N(alpha, dps + 5))
        q1 = mp.mpf(sp.N(q, dps + 5))
        qq2 = q1 if q2 is None else mp.mpf(sp.N(q2, dps + 5))
        c12 = q1 if c is None else mp.mpf(sp.N(c, dps + 5))
        sw, sb = mp.mpf(sp.N(sigma_w2, dps + 5)), mp.mpf(sp.N(sigma_b2, dps + 5))
        k1 = f(mp.one)

        def K(x, y, xy):
            s = mp.sqrt(x * y)
            return (x * y) ** (a / 2) * f(max(min(xy / s, mp.one), -mp.one)) if s != 0 else mp.zero

        for _ in range(depth):
            q1, qq2, c12 = sw * k1 * q1**a + sb, sw * k1 * qq2**a + sb, sw * K(q1, qq2, c12) + sb
        return +(c12 / mp.sqrt(q1 * qq2))


__all__.append("nngp_numeric")
