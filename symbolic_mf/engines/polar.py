r"""Polar / angular engine (Cho & Saul 2009): radial Gamma integral times an angular integral.

For :math:`\rho_\alpha` and unit vectors at angle :math:`\theta = \arccos c`,
write :math:`(u, v) = (r\cos t, r\cos(t-\theta))` with
:math:`(r, t)` the polar coordinates of a standard Gaussian vector
(density :math:`e^{-r^2/2}r\,dr\,dt/2\pi`).  Homogeneity separates

.. math:: \mathbb{E}[\rho_\alpha(u)\rho_\alpha(v)] =
   \frac{1}{2\pi}\int_0^\infty r^{2\alpha+1}e^{-r^2/2}dr
   \int_{\theta-\pi/2}^{\pi/2}\cos^\alpha t\,\cos^\alpha(t-\theta)\,dt .

SymPy evaluates the radial integral (:math:`2^\alpha\Gamma(\alpha+1)`), and
for integer ``n`` the angular one after expanding
:math:`\cos(t-\theta)`; the product is Cho & Saul's arc-cosine kernel
:math:`J_n(\theta)/2\pi`.  For real α the angular integral is kept as an
unevaluated ``Integral`` (evaluated by quadrature).  The family
:math:`a\rho_\alpha(x) - b\rho_\alpha(-x)` follows from
:math:`K_\phi(c) = (a^2+b^2)K_\alpha(c) - 2ab\,K_\alpha(-c)`
(:math:`(-u, v)` has correlation :math:`-c`).

:func:`arccos_J` is Cho & Saul's general-n formula
:math:`J_n(\theta) = (-1)^n\sin^{2n+1}\theta\,
(\tfrac{1}{\sin\theta}\partial_\theta)^n\,\tfrac{\pi-\theta}{\sin\theta}`,
computed by SymPy differentiation.

>>> import sympy as sp
>>> c = sp.Symbol("c", real=True)
>>> derive_kernel(1, 1, 0, c).result
-c*acos(c)/(2*pi) + c/2 + sqrt(1 - c**2)/(2*pi)
>>> th = sp.Symbol("theta")
>>> sp.simplify(arccos_J(1, th) - (sp.sin(th) + (sp.pi - th) * sp.cos(th)))
0
"""

from __future__ import annotations

import functools
import time

import sympy as sp

from ..derivation import Derivation
from .hermite import tidy_arccos

__all__ = ["radial_integral", "angular_integral", "arccos_J", "derive_kernel", "theta", "t"]

theta = sp.Symbol("theta", positive=True)
t = sp.Symbol("t", real=True)
_r = sp.Symbol("r", positive=True)


def radial_integral(alpha, record: Derivation = None):
    r""":math:`\int_0^\infty r^{2\alpha+1}e^{-r^2/2}dr` by SymPy.

    >>> radial_integral(sp.Symbol("alpha", positive=True))
    2**alpha*gamma(alpha + 1)
    """
    integrand = _r ** (2 * alpha + 1) * sp.exp(-_r**2 / 2)
    a = sp.Symbol("a_", positive=True)
    val = sp.integrate(_r ** (2 * a + 1) * sp.exp(-_r**2 / 2), (_r, 0, sp.oo), conds="none")
    val = sp.powsimp(sp.gammasimp(val)).subs(a, alpha)
    if record is not None:
        record.add("radial integral (homogeneity of degree 2 alpha)",
                   sp.Eq(sp.Integral(integrand, (_r, 0, sp.oo)), val, evaluate=False))
    return val


def angular_integral(alpha, record: Derivation = None):
    r""":math:`\int_{\theta-\pi/2}^{\pi/2}\cos^\alpha t\cos^\alpha(t-\theta)\,dt`, elementary for integer α.

    >>> angular_integral(0)
    pi - theta
    """
    alpha = sp.sympify(alpha)
    integrand = sp.cos(t) ** alpha * sp.cos(t - theta) ** alpha
    lims = (t, theta - sp.pi / 2, sp.pi / 2)
    if alpha.is_integer and alpha.is_nonnegative:
        val = _integer_angular(int(alpha))
        if record is not None:
            record.add(r"angular integral over the sector where $\cos t > 0$ and $\cos(t-\theta) > 0$, "
                       r"evaluated after expanding $\cos(t-\theta)$",
                       sp.Eq(sp.Integral(integrand, lims), val, evaluate=False))
        return val
    val = sp.Integral(integrand, lims)
    if record is not None:
        record.add("angular integral (not elementary for non-integer alpha: kept for quadrature)", val)
    return val


@functools.lru_cache(maxsize=32)
def _integer_angular(n: int):
    expanded = sp.expand(sp.cos(t) ** n * (sp.cos(t) * sp.cos(theta) + sp.sin(t) * sp.sin(theta)) ** n)
    return sp.simplify(sp.integrate(expanded, (t, theta - sp.pi / 2, sp.pi / 2)))


def arccos_J(n: int, th=theta):
    r"""Cho & Saul's :math:`J_n(\theta)` from the general-n differential formula (their eq. 4).

    >>> arccos_J(0)
    pi - theta
    """
    if not (isinstance(n, int) and n >= 0):
        from ..errors import DomainError
        raise DomainError("n", n, "an integer >= 0")
    f = (sp.pi - th) / sp.sin(th)
    for _ in range(n):
        f = sp.diff(f, th) / sp.sin(th)
    return sp.simplify((-1) ** n * sp.sin(th) ** (2 * n + 1) * f)


def derive_kernel(alpha, a=1, b=0, c=sp.Symbol("c", real=True), subject=None) -> Derivation:
    r"""Derive :math:`K_\phi(c)` for :math:`\phi = a\rho_\alpha(x) - b\rho_\alpha(-x)` by the polar route.

    Integer α ≥ 0 gives an elementary expression in ``c``; other α a
    Gamma factor times an unevaluated angular ``Integral`` in
    :math:`\theta = \arccos c`.

    >>> c = sp.Symbol("c", real=True)
    >>> derive_kernel(0, 1, 0, c).result
    -acos(c)/(2*pi) + 1/2
    >>> derive_kernel(sp.Rational(1, 2), 1, 0, c).result.has(sp.Integral)
    True
    """
    start = time.perf_counter()
    alpha, a, b = sp.sympify(alpha), sp.sympify(a), sp.sympify(b)
    rec = Derivation("polar", subject or f"{a}*rho_{alpha}(x) - {b}*rho_{alpha}(-x)")
    rad = radial_integral(alpha, rec)
    ang = angular_integral(alpha, rec)
    k_theta = rad * ang / (2 * sp.pi)
    rec.add(r"$K_\alpha = \frac{1}{2\pi}\,$radial$\,\times\,$angular, as a function of $\theta$", k_theta)
    if alpha.is_integer and alpha.is_nonnegative:
        J = arccos_J(int(alpha))
        check = sp.simplify(sp.expand_trig(k_theta - J / (2 * sp.pi)))
        if check != 0:  # pragma: no cover - would mean the engine is wrong
            raise AssertionError(f"polar engine disagrees with Cho & Saul's J_{alpha}: {check}")
        rec.add(r"agrees with Cho \& Saul's general-n formula $J_n(\theta)/2\pi$", J / (2 * sp.pi))
        k_c = sp.expand(k_theta.subs(theta, sp.acos(c)))
        k_c = tidy_arccos(k_c, c)
        k_minus = tidy_arccos(sp.expand(k_theta.subs(theta, sp.acos(-c)).rewrite(sp.acos)
                                        .subs(sp.acos(-c), sp.pi - sp.acos(c))), c)
    else:
        k_c = k_theta.subs(theta, sp.acos(c))
        k_minus = k_theta.subs(theta, sp.acos(-c))
    rec.add(r"$\theta = \arccos c$", k_c)
    if b == 0:
        result = a**2 * k_c
    else:
        result = (a**2 + b**2) * k_c - 2 * a * b * k_minus
        rec.add(r"family: $K_\phi(c) = (a^2+b^2)K_\alpha(c) - 2ab\,K_\alpha(-c)$", result)
        if alpha.is_integer:
            result = sp.collect(sp.expand(result), [sp.acos(c), sp.sqrt(1 - c**2)], sp.factor)
    rec.result = result
    rec.seconds = time.perf_counter() - start
    return rec
