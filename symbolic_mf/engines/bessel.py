r"""Bessel engine (Yang & Schoenholz 2017): α-ReLU kernels through the density of the product uv.

Steps (each done by SymPy and recorded):

1. **Density of p = uv.**  For :math:`(u,v)` with unit variances and
   correlation ``c``, :math:`f(p) = \int\varphi_c(u, p/u)\,du/|u|`; the
   exponent splits as :math:`cp/(1-c^2) - (u^2 + p^2/u^2)/(2(1-c^2))`, and
   :math:`u = \sqrt{|p|}e^{\tau}` turns the remaining integral into
   :math:`\int_{\mathbb R} e^{-x\cosh\tau}d\tau = 2K_0(x)` (DLMF 10.32.9), so
   :math:`f(p) = e^{cp/(1-c^2)}K_0(|p|/(1-c^2))/(\pi\sqrt{1-c^2})`.
2. **Representation.**  :math:`(u,v)\mapsto(-u,-v)` preserves the law, so
   :math:`\mathbb{E}[\rho_\alpha(u)\rho_\alpha(v)] = \tfrac12\int_0^\infty p^\alpha f(p)\,dp`
   and, with :math:`p = (1-c^2)s`,
   :math:`K_\alpha(c) = \frac{(1-c^2)^{\alpha+1/2}}{2\pi}I_\alpha(c)`,
   :math:`I_\alpha(c) = \int_0^\infty s^\alpha e^{cs}K_0(s)\,ds`.
3. **Derivative identity.**  :math:`\partial_c I_\alpha = I_{\alpha+1}` gives
   :math:`K_\alpha' = (K_{\alpha+1} - (2\alpha+1)cK_\alpha)/(1-c^2)`.
4. **Three-term recurrence.**  Bessel's equation :math:`sK_0'' + K_0' - sK_0 = 0`
   integrated against :math:`g = s^\alpha e^{cs}` (boundary terms vanish for
   α > 0) gives :math:`\int K_0\,[(sg)'' - g' - sg] = 0`, whose coefficients
   SymPy reads off: :math:`\alpha^2I_{\alpha-1} + (2\alpha+1)cI_\alpha - (1-c^2)I_{\alpha+1} = 0`, i.e.
   :math:`K_{\alpha+1} = (2\alpha+1)cK_\alpha + \alpha^2(1-c^2)K_{\alpha-1}`.
5. **Price.**  Steps 3 and 4 together: :math:`K_\alpha' = \alpha^2K_{\alpha-1}`.

``Kfun(alpha, c)`` is an undefined SymPy function standing for
:math:`K_\alpha(c) = \mathbb{E}[\rho_\alpha(u)\rho_\alpha(v)]`; :func:`as_expectation`
replaces it by the :class:`~symbolic_mf.functions.GaussianExpectation`.

>>> import sympy as sp
>>> d = derive_identities()
>>> d.recurrence
Eq(Kfun(alpha + 1, c), alpha**2*(1 - c**2)*Kfun(alpha - 1, c) + c*(2*alpha + 1)*Kfun(alpha, c))
>>> d.price
Eq(Derivative(Kfun(alpha, c), c), alpha**2*Kfun(alpha - 1, c))
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sympy as sp

from ..derivation import Derivation
from ..functions import bivariate_expectation, rho, u, v

__all__ = ["Kfun", "BesselIdentities", "derive_identities", "derive_kernel", "as_expectation",
           "laplace_mellin_K0", "derive_negative_c_form", "derive_cosh_form",
           "product_density"]

alpha = sp.Symbol("alpha", real=True)
c = sp.Symbol("c", real=True)
s = sp.Symbol("s", positive=True)
p = sp.Symbol("p", positive=True)
Kfun = sp.Function("Kfun")
Ifun = sp.Function("I")


def as_expectation(expr, cs=c):
    r"""Replace every ``Kfun(beta, c)`` by :math:`\mathbb{E}[\rho_\beta(u)\rho_\beta(v)]`.

    >>> as_expectation(Kfun(1, c)).expr
    rho(1, u)*rho(1, v)
    """
    return expr.replace(lambda e: isinstance(e, sp.Function) and e.func == Kfun,
                        lambda e: bivariate_expectation(rho(e.args[0], u) * rho(e.args[0], v), e.args[1]))


def product_density(record: Derivation = None):
    r"""Density of :math:`p = uv > 0` (``p`` positive symbol), derived as in step 1.

    >>> product_density()
    exp(c*p/(1 - c**2))*besselk(0, p/(1 - c**2))/(pi*sqrt(1 - c**2))
    """
    uu = sp.Symbol("u", positive=True)
    tau = sp.Symbol("tau", real=True)
    w = 1 - c**2
    joint = sp.exp(-(uu**2 - 2 * c * uu * (p / uu) + (p / uu) ** 2) / (2 * w)) / (2 * sp.pi * sp.sqrt(w))
    # split off the factor that does not depend on u
    split = sp.simplify(sp.expand(joint / sp.exp(c * p / w)))
    if record is not None:
        record.add(r"joint density at $(u, p/u)$ divided by $e^{cp/(1-c^2)}$ (the $u$-free factor)", split)
    # u = sqrt(p) e^(tau/2): u^2 + p^2/u^2 = 2 p cosh(tau), du/u = dtau/2
    expo = sp.simplify((uu**2 + p**2 / uu**2).subs(uu, sp.sqrt(p) * sp.exp(tau / 2)).rewrite(sp.cosh))
    expo = sp.factor(sp.simplify(expo.rewrite(sp.exp))).rewrite(sp.cosh)
    if record is not None:
        record.add(r"$u = \sqrt{p}\,e^{\tau/2}$ ($du/u = d\tau/2$): $u^2 + p^2/u^2$ becomes", expo)
    if sp.simplify((expo - 2 * p * sp.cosh(tau)).rewrite(sp.exp)) != 0:  # pragma: no cover
        raise AssertionError(f"substitution failed: {expo}")
    # the u > 0 half: (1/2) int_R exp(-x cosh tau) dtau = K_0(x) (DLMF 10.32.9); u < 0 gives the same
    x = p / w
    inner = 2 * sp.besselk(0, x)
    if record is not None:
        record.add(r"$\frac12\int_{\mathbb R} e^{-x\cosh\tau}d\tau = K_0(x)$, $x = p/(1-c^2)$ "
                   r"(DLMF 10.32.9), twice (both signs of $u$)", inner)
    dens = sp.exp(c * p / w) * inner / (2 * sp.pi * sp.sqrt(w))
    if record is not None:
        record.add("density of p = uv", dens)
    return dens


@dataclass
class BesselIdentities:
    """What the Bessel route derives (all as SymPy ``Eq`` in ``Kfun``, except the representation)."""

    representation: sp.Expr   # K_alpha(c) as (1-c^2)^(alpha+1/2)/(2 pi) * Integral
    derivative: sp.Eq         # d/dc K_alpha in terms of K_alpha, K_{alpha+1}
    recurrence: sp.Eq         # K_{alpha+1} in terms of K_alpha, K_{alpha-1}
    price: sp.Eq              # d/dc K_alpha = alpha^2 K_{alpha-1}
    derivation: Derivation


_CACHE = {}


def derive_identities() -> BesselIdentities:
    """Run steps 1-5 (cached: about a second)."""
    if "ids" in _CACHE:
        return _CACHE["ids"]
    start = time.perf_counter()
    rec = Derivation("bessel", "rho_alpha kernels via K_0")
    dens = product_density(rec)
    w = 1 - c**2
    half_int = sp.Integral(p**alpha * dens, (p, 0, sp.oo)) / 2
    rec.add(r"$K_\alpha(c) = \frac12\int_0^\infty p^\alpha f(p)\,dp$ (symmetry $(u,v)\to(-u,-v)$)", half_int)
    integrand = sp.simplify((p**alpha * dens / 2).subs(p, w * s) * w)
    pref = sp.simplify(integrand / (s**alpha * sp.exp(c * s) * sp.besselk(0, s)))
    pref = sp.powsimp(sp.simplify(pref), force=True).subs(c**2 - 1, -(1 - c**2))
    if pref.has(s):  # pragma: no cover
        raise AssertionError(f"substitution p = (1-c^2)s did not separate: {pref}")
    rep = pref * sp.Integral(s**alpha * sp.exp(c * s) * sp.besselk(0, s), (s, 0, sp.oo))
    rec.add(r"$p = (1-c^2)s$: the K_0 integral representation", rep)
    # derivative identity: K = pref(alpha) * I(alpha, c), dI/dc = I(alpha+1, c)
    beta = sp.Symbol("beta")
    Kexpr = pref * Ifun(alpha, c)
    dK = sp.diff(Kexpr, c).subs(sp.Derivative(Ifun(alpha, c), c), Ifun(alpha + 1, c))
    to_K = lambda e: e.replace(lambda q: isinstance(q, sp.Function) and q.func == Ifun,
                               lambda q: Kfun(q.args[0], q.args[1]) / pref.subs(alpha, q.args[0]))
    dK = sp.simplify(sp.powsimp(sp.expand(to_K(dK)), force=True))
    dK = sp.collect(sp.expand(sp.simplify(dK * w)), [Kfun(alpha, c), Kfun(alpha + 1, c)], sp.factor) / w
    deriv = sp.Eq(sp.Derivative(Kfun(alpha, c), c), dK)
    rec.add(r"differentiate under the integral ($\partial_c I_\alpha = I_{\alpha+1}$)", deriv)
    # recurrence from Bessel's equation: adjoint of s y'' + y' - s y applied to g = s^alpha e^{cs}
    g = s**alpha * sp.exp(c * s)
    adj = sp.expand(sp.simplify((sp.diff(s * g, s, 2) - sp.diff(g, s) - s * g) / (sp.exp(c * s) * s**(alpha - 1))))
    rec.add(r"$\int_0^\infty K_0\,[(sg)'' - g' - sg]\,ds = 0$ for $g = s^\alpha e^{cs}$; "
            r"the bracket over $s^{\alpha-1}e^{cs}$", adj)
    poly = sp.Poly(adj, s)
    coeffs = {kk[0]: co for kk, co in poly.terms()}
    rel = sum(sp.factor(co) * Ifun(alpha - 1 + kk, c) for kk, co in coeffs.items())
    rec.add(r"hence (integrals $I_\beta = \int s^\beta e^{cs}K_0$)", sp.Eq(rel, 0))
    relK = sp.expand(sp.powsimp(sp.expand(to_K(rel) * pref), force=True))
    relK = sp.simplify(relK)
    sol = sp.solve(relK, Kfun(alpha + 1, c))[0]
    def _tidy(co):
        q = sp.cancel(co / (1 - c**2))
        return sp.factor(q) * (1 - c**2) if q.is_polynomial(c) else sp.factor(co)

    sol = sp.collect(sp.expand(sol), [Kfun(alpha, c), Kfun(alpha - 1, c)], _tidy)
    recur = sp.Eq(Kfun(alpha + 1, c), sol)
    rec.add("three-term recurrence in alpha (alpha > 0)", recur)
    price_rhs = sp.factor(sp.simplify(dK.subs(Kfun(alpha + 1, c), sol)))
    price = sp.Eq(sp.Derivative(Kfun(alpha, c), c), price_rhs)
    rec.add("derivative identity + recurrence: Price's theorem", price)
    rec.result = rep
    rec.seconds = time.perf_counter() - start
    out = BesselIdentities(rep, deriv, recur, price, rec)
    _CACHE["ids"] = out
    return out


def derive_kernel(alpha_, a=1, b=0, cs=c, subject=None) -> Derivation:
    r""":math:`K_\phi(c)` for :math:`a\rho_\alpha(x) - b\rho_\alpha(-x)` as a K₀ integral (|c| < 1).

    >>> d = derive_kernel(1)
    >>> d.result.has(sp.besselk)
    True
    """
    ids = derive_identities()
    rec = Derivation("bessel", subject or f"{a}*rho_{alpha_}(x) - {b}*rho_{alpha_}(-x)")
    rec.steps = list(ids.derivation.steps)
    a, b = sp.sympify(a), sp.sympify(b)
    K = lambda cc: ids.representation.subs({alpha: sp.sympify(alpha_)}).subs(c, cc)
    res = a**2 * K(cs) if b == 0 else (a**2 + b**2) * K(cs) - 2 * a * b * K(-cs)
    rec.result = res
    rec.seconds = ids.derivation.seconds
    return rec


def laplace_mellin_K0(beta, record: Derivation = None):
    r""":math:`\int_0^\infty s^\beta e^{-s}K_0(s)\,ds = \sqrt\pi\,\Gamma(\beta+1)^2/(2^{\beta+1}\Gamma(\beta+\tfrac32))`.

    SymPy's ``integrate`` returns a combination of Gamma functions with
    reflection-type factors; its ratio to the Gamma form is simplified
    (``gammasimp``, ``simplify``, ``trigsimp``) to 1 — a symbolic proof.

    >>> laplace_mellin_K0(0)
    1
    """
    bb = sp.Symbol("beta", positive=True)
    raw = sp.integrate(s**bb * sp.exp(-s) * sp.besselk(0, s), (s, 0, sp.oo), conds="none")
    clean = sp.sqrt(sp.pi) * sp.gamma(bb + 1) ** 2 / (2 ** (bb + 1) * sp.gamma(bb + sp.Rational(3, 2)))
    ratio = sp.trigsimp(sp.combsimp(sp.simplify(sp.gammasimp(raw / clean).rewrite(sp.factorial))))
    if ratio != 1:  # reduce to the half angle y = pi*beta/2 and eliminate cos(y)^2
        y = sp.Symbol("y", positive=True)
        r2 = sp.expand_trig(ratio.rewrite(sp.sin).subs(bb, 2 * y / sp.pi))
        r2 = sp.expand(sp.together(r2))
        num, den = sp.fraction(sp.together(r2))
        elim = lambda e: sp.expand(sp.expand(e).subs(sp.cos(y) ** 2, 1 - sp.sin(y) ** 2))
        ratio = sp.cancel(elim(num) / elim(den))
    if ratio != 1:  # pragma: no cover - would mean SymPy's integral and the Gamma form differ
        raise AssertionError(f"Laplace-Mellin integral of K_0 did not simplify: ratio {ratio}")
    if record is not None:
        record.add(r"Laplace–Mellin integral of $K_0$ by SymPy (its ratio to this Gamma form simplifies to 1)",
                   sp.Eq(sp.Integral(s**bb * sp.exp(-s) * sp.besselk(0, s), (s, 0, sp.oo)), clean, evaluate=False))
    return clean.subs(bb, beta)


def derive_negative_c_form(record: Derivation = None):
    r""":math:`K_\alpha(c)` as :math:`(1-c^2)^{\alpha+1/2}\times{}_2F_1(\ldots;(1+c)/2)`: well conditioned for c ≤ 0.

    Writes :math:`e^{cs} = e^{-s}e^{(1+c)s}` in the K₀ representation, expands
    the second factor and integrates term by term (:func:`laplace_mellin_K0`);
    the series in :math:`(1+c)` is summed from its term ratio
    (:func:`~symbolic_mf.engines.hermite.series_to_hyper`).  The factor
    :math:`(1-c^2)^{\alpha+1/2}` carries the whole smallness of the kernel as
    :math:`c\to-1`, so there is no cancellation there.

    >>> e = derive_negative_c_form()
    >>> e.atoms(sp.hyper).pop().args[2]
    c/2 + 1/2
    """
    from .hermite import m_index, series_to_hyper

    if "neg" in _CACHE and record is None:
        return _CACHE["neg"]
    ids = derive_identities()
    pref = ids.representation / ids.representation.atoms(sp.Integral).pop()
    k = m_index
    term = (1 + c) ** k / sp.factorial(k) * laplace_mellin_K0(alpha + k, record)
    if record is not None:
        record.add(r"$e^{cs} = e^{-s}\sum_k (1+c)^k s^k/k!$, integrated term by term", sp.Sum(term, (k, 0, sp.oo)))
    series = series_to_hyper(term, k, record, "")
    out = pref * series
    if record is not None:
        record.add(r"$K_\alpha(c)$, well conditioned for $c \le 0$", out)
    _CACHE["neg"] = out
    return out


def derive_cosh_form(record: Derivation = None):
    r""":math:`K_\alpha(c) = \frac{(1-c^2)^{\alpha+1/2}\Gamma(\alpha+1)}{2\pi}\int_0^\infty(\cosh t - c)^{-\alpha-1}dt`.

    Insert :math:`K_0(s) = \int_0^\infty e^{-s\cosh t}dt` (DLMF 10.32.9) in the
    K₀ representation and do the ``s`` integral first (SymPy: a Gamma
    integral, :math:`\cosh t - c > 0` for :math:`|c| < 1`).  An elementary
    one-dimensional integral: fast to evaluate by quadrature.

    >>> derive_cosh_form().has(sp.cosh)
    True
    """
    if "cosh" in _CACHE and record is None:
        return _CACHE["cosh"]
    ids = derive_identities()
    integral = ids.representation.atoms(sp.Integral).pop()
    pref = ids.representation / integral
    tt = sp.Symbol("t", positive=True)
    A = sp.Symbol("A", positive=True)
    al = sp.Symbol("alpha_", positive=True)
    inner = sp.integrate(s**al * sp.exp(-s * A), (s, 0, sp.oo), conds="none")
    inner = sp.gammasimp(inner).subs(al, alpha).subs(A, sp.cosh(tt) - c)
    if record is not None:
        record.add(r"$K_0(s) = \int_0^\infty e^{-s\cosh t}dt$; the $s$ integral first (Fubini)", inner)
    out = pref * sp.Integral(inner, (tt, 0, sp.oo))
    if record is not None:
        record.add(r"$K_\alpha(c)$ as an elementary integral ($|c| < 1$)", out)
    _CACHE["cosh"] = out
    return out
