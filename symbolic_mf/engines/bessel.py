r"""Bessel engine (Yang & Schoenholz 2017): the α-ReLU kernel through the density of :math:`uv`.

1. **Density of the product.**  For unit variances and correlation
   :math:`|c| < 1`, :math:`W = uv` has density
   :math:`p(w) = 2\int_0^\infty \varphi_c(x, w/x)\,dx/x`; SymPy evaluates the
   inner integral :math:`\int_0^\infty e^{-Ax^2 - B/x^2}dx/x` as a Meijer G
   function, identified with :math:`K_0(2\sqrt{AB})` (DLMF 10.32.10; the
   identification is itself a catalogue identity), giving
   :math:`p(w) = e^{cw/(1-c^2)}K_0(|w|/(1-c^2))/(\pi\sqrt{1-c^2})`.
2. **Integral representation.**  :math:`\rho_\alpha(u)\rho_\alpha(v) =
   \rho_\alpha(uv)` on :math:`\{u, v > 0\}`, and :math:`(u,v)\mapsto(-u,-v)`
   halves :math:`\mathbb E[\rho_\alpha(W)]`:
   :math:`K_\alpha(c) = \tfrac12\int_0^\infty w^\alpha p(w)\,dw`.
3. **Recurrence in α.**  :math:`f(w) = K_0(tw)`, :math:`t = 1/(1-c^2)`,
   solves :math:`wf'' + f' = t^2wf`; integrating the ODE against
   :math:`w^{\alpha+1}e^{ctw}` and :math:`w^\alpha e^{ctw}` by parts
   (boundary terms vanish for α > 0) gives a three-term recurrence, derived
   here symbolically.

>>> from sympy import Symbol
>>> c, a = Symbol("c"), Symbol("alpha")
>>> K = Symbol("K")
>>> bessel_recurrence(a, c)
-alpha**2*(c - 1)*(c + 1)*K(alpha - 1, c) + c*(2*alpha + 1)*K(alpha, c)
"""

from __future__ import annotations

import sympy as sp

from ..errors import SymbolicMFError
from .derivation import Derivation

__all__ = ["product_density", "bessel_kernel", "bessel_recurrence", "KERNEL"]

_w = sp.Symbol("w", positive=True)
_x = sp.Symbol("x", positive=True)
#: an undefined function K(alpha, c) standing for the kernel in the recurrence
KERNEL = sp.Function("K")


def product_density(c, w=_w, derivation: Derivation = None):
    r"""Density of :math:`uv` at ``w > 0`` for unit variances and correlation ``c``, :math:`|c|<1`."""
    c = sp.sympify(c)
    d = derivation if derivation is not None else Derivation("Bessel engine")
    s2 = 1 - c**2
    A, B = sp.Symbol("A", positive=True), sp.Symbol("B", positive=True)
    inner = sp.integrate(sp.exp(-A * _x**2 - B / _x**2) / _x, (_x, 0, sp.oo), conds="none")
    d.step(r"SymPy: $\int_0^\infty e^{-Ax^2-B/x^2}\,dx/x$", inner, lhs=sp.Symbol("I(A,B)"))
    expected_g = sp.meijerg(((1, 1), ()), ((), ()), 1 / (A * B)) / 2
    if sp.simplify(inner - expected_g) != 0:
        raise SymbolicMFError(f"SymPy returned {inner} for the Bessel integral; the identification needs review")
    inner = sp.besselk(0, 2 * sp.sqrt(A * B))
    d.step(r"Meijer $G^{0,2}_{2,0}(1/z\,|\,1,1;\,)/2 = K_0(2\sqrt z)$ (catalogue: kernels.meijerg-k0)", inner,
           lhs=sp.Symbol("I(A,B)"))
    # the Gaussian density at (x, w/x): exponent -(x^2 + w^2/x^2)/(2 s2) + c w / s2
    dens = 2 * sp.exp(c * w / s2) / (2 * sp.pi * sp.sqrt(s2)) * inner.subs({A: 1 / (2 * s2), B: w**2 / (2 * s2)})
    dens = sp.simplify(dens)
    d.step(r"$p(w) = 2\int_0^\infty\varphi_c(x, w/x)\,dx/x$, $w>0$", dens, lhs=sp.Symbol("p(w)"))
    return dens


def bessel_kernel(alpha, c, derivation: Derivation = None):
    r"""The K₀ integral representation of :math:`\mathbb E[\rho_\alpha(u)\rho_\alpha(v)]`, :math:`|c| < 1`, α > -1.

    Returns an unevaluated :class:`sympy.Integral`.

    >>> from sympy import Symbol
    >>> bessel_kernel(Symbol("alpha"), Symbol("c"))
    Integral(w**alpha*exp(-c*w/(c**2 - 1))*besselk(0, -w/(c**2 - 1))/(2*pi*sqrt(1 - c**2)), (w, 0, oo))
    """
    d = derivation if derivation is not None else Derivation("Bessel engine")
    dens = product_density(c, _w, d)
    rep = sp.Integral(sp.simplify(_w ** sp.sympify(alpha) * dens / 2), (_w, 0, sp.oo))
    d.step(r"$\rho_\alpha(u)\rho_\alpha(v)=\rho_\alpha(uv)$ on $u,v>0$; $(u,v)\to(-u,-v)$ halves "
           r"$\mathbb{E}\rho_\alpha(uv)$", rep, lhs=sp.Symbol("K_\\alpha(c)"))
    return rep


def bessel_recurrence(alpha, c, derivation: Derivation = None):
    r"""Right side of :math:`K_{\alpha+1}(c) = (2\alpha+1)cK_\alpha(c) + \alpha^2(1-c^2)K_{\alpha-1}(c)`, derived.

    The result is written with the undefined function :data:`KERNEL`
    ``K(alpha, c)``; valid for α > 0 and :math:`|c| < 1` (boundary terms).
    """
    alpha, c = sp.sympify(alpha), sp.sympify(c)
    d = derivation if derivation is not None else Derivation("Bessel recurrence")
    t, beta = sp.Symbol("t", positive=True), sp.Symbol("beta", real=True)
    g1 = _w ** (alpha + 1) * sp.exp(beta * _w)
    g2 = _w**alpha * sp.exp(beta * _w)
    # int g1 f'' + g2 f' = int (g1'' - g2') f  (parts; boundary terms vanish for alpha > 0)
    weight = sp.expand(sp.powsimp(sp.expand((sp.diff(g1, _w, 2) - sp.diff(g2, _w)) * sp.exp(-beta * _w)
                                            / _w ** (alpha - 1)), force=True))
    d.step(r"$\int (w^{\alpha+1}e^{\beta w}f'' + w^\alpha e^{\beta w}f') = \int (g_1'' - g_2') f$",
           weight * _w ** (alpha - 1), lhs=sp.Symbol("(g_1''-g_2')e^{-\\beta w}"))
    # by powers of w: the coefficient of w**(alpha - 1 + j) multiplies M(alpha - 1 + j)
    M = sp.Function("M")
    total = sp.S.Zero
    for (j,), coeff in sp.Poly(weight, _w).terms():
        total += sp.factor(coeff) * M(alpha - 1 + j)
    # the ODE: w f'' + f' = t^2 w f, so the left side is t^2 M(alpha + 1)
    sol = sp.solve(sp.Eq(t**2 * M(alpha + 1), total), M(alpha + 1))[0]
    sol = sol.subs(beta, c * t).subs(t, 1 / (1 - c**2))
    d.step(r"ODE $wf''+f'=t^2wf$ with $f(w)=K_0(tw)$, $t=1/(1-c^2)$", sp.simplify(sol), lhs=M(alpha + 1))
    # K_a(c) = sqrt(t)/(2 pi) M(a): the common prefactor cancels
    rec = sp.expand(sp.simplify(sol.subs({M(alpha): KERNEL(alpha, c), M(alpha - 1): KERNEL(alpha - 1, c)})))
    rec = sp.collect(sp.factor_terms(rec), [KERNEL(alpha, c), KERNEL(alpha - 1, c)], evaluate=True)
    rec = sp.simplify(rec.coeff(KERNEL(alpha, c))) * KERNEL(alpha, c) + sp.factor(
        sp.simplify(rec.coeff(KERNEL(alpha - 1, c)))) * KERNEL(alpha - 1, c)
    d.step(r"$K_\alpha = \frac{\sqrt t}{2\pi}M(\alpha)$: the three-term recurrence", rec, lhs=KERNEL(alpha + 1, c))
    return rec
