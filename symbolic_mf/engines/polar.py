r"""Polar / angular engine (Cho & Saul 2009, "Kernel methods for deep learning").

For a degree-α homogeneous φ and unit variances, write
:math:`(u, v) = r(\cos t, \cos(t - \theta))` with :math:`\cos\theta = c`;
the Gaussian measure factorises into a radial part and a uniform angle:

.. math:: \mathbb E[\phi(u)\phi(v)] = \frac{2^{\alpha}\Gamma(\alpha+1)}{2\pi}
          \int_0^{2\pi}\phi(\cos t)\,\phi(\cos(t-\theta))\,dt .

For :math:`\rho_n` with integer ``n`` the integrand is non-zero on
:math:`t \in (\theta - \pi/2, \pi/2)`; expanding
:math:`\cos(t-\theta) = \cos t\cos\theta + \sin t\sin\theta` makes it a
polynomial in :math:`\cos t, \sin t`, integrated monomial by monomial.  This
gives the arc-cosine kernels :math:`J_n(\theta)`.  A family member
:math:`a\rho_n(x) - b\rho_n(-x)` follows by reflection:
:math:`K_\phi(c) = (a^2 + b^2)K_n(c) - 2ab\,K_n(-c)`.

>>> from sympy import Symbol, pi, simplify
>>> theta = Symbol("theta")
>>> simplify(arccos_kernel(1, theta))   # Cho & Saul's J_1 = sin + (pi - theta) cos
-theta*cos(theta) + sin(theta) + pi*cos(theta)
>>> arccos_kernel(0, theta)
pi - theta
"""

from __future__ import annotations

import functools

import sympy as sp

from ..activations import HomogeneousActivation
from ..errors import DomainError
from .derivation import Derivation

__all__ = ["arccos_kernel", "polar_kernel", "radial_factor"]

_t = sp.Symbol("t", real=True)
_C, _S = sp.symbols("C S")  # cos(theta), sin(theta)


@functools.lru_cache(maxsize=None)
def _monomial_antiderivative(i: int, j: int):
    return sp.integrate(sp.cos(_t) ** i * sp.sin(_t) ** j, _t)


def radial_factor(alpha):
    r""":math:`\frac{1}{2\pi}\int_0^\infty r^{2\alpha} r e^{-r^2/2}dr\cdot 2\pi = 2^\alpha\Gamma(\alpha+1)`, derived by SymPy.

    >>> radial_factor(1)
    2
    """
    r = sp.Symbol("r", positive=True)
    a = sp.Symbol("a", positive=True)
    general = sp.integrate(r ** (2 * a) * r * sp.exp(-r**2 / 2), (r, 0, sp.oo), conds="none")
    return sp.gammasimp(general.subs(a, sp.sympify(alpha)))


def arccos_kernel(n: int, theta, derivation: Derivation = None) -> sp.Expr:
    r"""Cho & Saul's arc-cosine kernel :math:`J_n(\theta) = 2^n n!\int_{\theta-\pi/2}^{\pi/2}\cos^n t\,\cos^n(t-\theta)\,dt`.

    With their normalisation :math:`\mathbb E[\rho_n(u)\rho_n(v)] =
    J_n(\theta)/(2\pi)` for unit variances (their :math:`k_n = J_n/\pi`
    is twice the expectation).
    """
    n = sp.sympify(n)
    if not (n.is_integer and n >= 0):
        raise DomainError("n", n, "an integer n >= 0 (real alpha: use the Hermite engine)")
    n = int(n)
    theta = sp.sympify(theta)
    poly = sp.expand((sp.cos(_t) * (sp.cos(_t) * _C + sp.sin(_t) * _S)) ** n)
    lo, hi = theta - sp.pi / 2, sp.pi / 2
    total = sp.S.Zero
    for (ci, si, Cp, Sp_), coeff in sp.Poly(poly, sp.cos(_t), sp.sin(_t), _C, _S).terms():
        F = _monomial_antiderivative(ci, si)
        # cos(theta - pi/2) = sin(theta), sin(theta - pi/2) = -cos(theta)
        upper = F.subs(_t, hi)
        lower = F.subs({sp.cos(_t): sp.sin(theta), sp.sin(_t): -sp.cos(theta)}).subs(_t, lo)
        total += coeff * _C**Cp * _S**Sp_ * (upper - lower)
    J = sp.expand(radial_factor(n) * total.subs({_C: sp.cos(theta), _S: sp.sin(theta)}))
    J = sp.trigsimp(J)
    if derivation is not None:
        derivation.step(r"Angular integral over $t\in(\theta-\pi/2,\pi/2)$ where both factors are positive, "
                        r"monomials in $\cos t,\sin t$ integrated, times $R_n$", J, lhs=sp.Symbol("J_%d(\\theta)" % n))
    return J


def polar_kernel(phi: HomogeneousActivation, c, derivation: Derivation = None) -> sp.Expr:
    r""":math:`K_\phi(c)` for integer α by the polar route, as a function of ``c`` (θ = acos c).

    >>> from sympy import Symbol
    >>> from symbolic_mf.activations import relu
    >>> polar_kernel(relu(), Symbol("c"))
    -(c*acos(c) - pi*c - sqrt(1 - c**2))/(2*pi)
    """
    if not isinstance(phi, HomogeneousActivation):
        raise DomainError("phi", phi, "an alpha-homogeneous activation")
    if not (phi.alpha.is_integer and phi.alpha >= 0):
        raise DomainError("alpha", phi.alpha, "an integer alpha >= 0 for the polar route")
    n = int(phi.alpha)
    c = sp.sympify(c)
    d = derivation if derivation is not None else Derivation("polar")
    theta = sp.Symbol("theta", positive=True)
    rad = radial_factor(n)
    d.step(r"Radial integral $\int_0^\infty r^{2\alpha+1}e^{-r^2/2}dr$", rad, lhs=sp.Symbol("R_\\alpha"))
    J = arccos_kernel(n, theta, d)
    Kn = J / (2 * sp.pi)
    # back to c: cos(theta) = c, sin(theta) = sqrt(1 - c^2) (theta in [0, pi])
    to_c = {sp.cos(theta): c, sp.sin(theta): sp.sqrt(1 - c**2)}

    def in_c(expr, cc):
        e = sp.expand(sp.expand_trig(expr))
        e = e.subs(sp.sin(theta), sp.Symbol("_s")).subs(sp.cos(theta), sp.Symbol("_c"))
        e = e.subs({sp.Symbol("_s"): sp.sqrt(1 - cc**2), sp.Symbol("_c"): cc}).subs(theta, sp.acos(cc))
        return e

    Kc = in_c(Kn, c)
    d.step(r"$\theta = \arccos c$", Kc, lhs=sp.Symbol("K_{%d}(c)" % n))
    a, b = phi.a, phi.b
    if b == 0 and a == 1:
        K = Kc
    else:
        K = (a**2 + b**2) * Kc - 2 * a * b * in_c(Kn, -c)
        d.step(r"Reflection: $\mathbb E[\rho(u)\rho(-v)] = K_n(-c)$", K, lhs=sp.Symbol("K_\\phi(c)"))
    return sp.factor(sp.simplify(K), deep=False) if K.free_symbols else K
