r"""Hermite / Mehler engine for the α-homogeneous family.

For :math:`\phi(x) = a\rho_\alpha(x) - b\rho_\alpha(-x)` the engine derives

1. the Hermite coefficients :math:`c_k = \mathbb E[\phi(z)\mathrm{He}_k(z)]`
   in closed form as functions of ``k``: the generating function
   :math:`e^{tz - t^2/2} = \sum_k \mathrm{He}_k(z)t^k/k!` gives
   :math:`c_k = \partial_t^k\,\mathbb E[\phi(z+t)]|_{t=0} = \mathbb E[\phi^{(k)}(z)]`;
   the k-th derivative of :math:`\rho_\alpha` is
   :math:`\alpha^{\underline k}\rho_{\alpha-k}` (checked by induction in
   SymPy) and :math:`\mathbb E\rho_\beta(z)` is SymPy's Gaussian Mellin
   integral, continued analytically in β;
2. Mehler's formula :math:`K(c) = \sum_k c^k c_k^2/k!`, split into even and
   odd ``k``; each part is a hypergeometric series, recognised from its term
   ratio (a rational function of the summation index) and returned as
   ``hyper``: two :math:`{}_2F_1` functions of :math:`c^2`;
3. for integer α, ``hyperexpand`` turns them into elementary functions.

>>> from sympy import Symbol
>>> from symbolic_mf.activations import relu, rho_alpha
>>> c = Symbol("c")
>>> hermite_kernel(relu(), c)
(2*c*asin(c) + pi*c + 2*sqrt(1 - c**2))/(4*pi)
>>> alpha = Symbol("alpha", positive=True)
>>> hermite_kernel(rho_alpha(alpha), c)  # doctest: +NORMALIZE_WHITESPACE
2**alpha*c*gamma(alpha/2 + 1)**2*hyper((1/2 - alpha/2, 1/2 - alpha/2), (3/2,), c**2)/(2*pi)
 + 2**(alpha + 1)*gamma(alpha/2 + 1/2)**2*hyper((-alpha/2, -alpha/2), (1/2,), c**2)/(8*pi)"""

from __future__ import annotations

from typing import Tuple

import sympy as sp
from sympy import S, hyper  # noqa: F401  (S used in the doctest)

from ..activations import HomogeneousActivation
from ..errors import DomainError, SymbolicMFError
from ..functions import rho
from .derivation import Derivation

__all__ = ["hermite_coefficient", "hermite_kernel", "hermite_derivation", "sum_hypergeometric"]

_k = sp.Symbol("k", integer=True, nonnegative=True)
_m = sp.Symbol("m", integer=True, nonnegative=True)
_t = sp.Symbol("t", real=True)
_z = sp.Symbol("z", positive=True)
_x = sp.Symbol("x", real=True)


def _require_family(phi):
    if not isinstance(phi, HomogeneousActivation):
        raise DomainError("phi", phi, "an alpha-homogeneous activation a*rho_alpha(x) - b*rho_alpha(-x)")


def _gaussian_rho_mean(beta, d: Derivation):
    """E[rho_beta(z)], z ~ N(0,1), by SymPy's integral (then continued in beta)."""
    integral = sp.integrate(_z**beta * sp.exp(-_z**2 / 2), (_z, 0, sp.oo), conds="none") / sp.sqrt(2 * sp.pi)
    integral = sp.gammasimp(integral)
    d.step(r"Gaussian Mellin integral, $\mathbb{E}\rho_\beta(z)=\frac{1}{\sqrt{2\pi}}\int_0^\infty z^\beta e^{-z^2/2}dz$ "
           r"(analytic in $\beta$)", integral, lhs=sp.Symbol(r"\mathbb{E}\rho_\beta(z)"))
    return integral


def hermite_derivation(phi: HomogeneousActivation) -> Tuple[sp.Expr, Derivation]:
    r"""``(c_k, derivation)``: the k-th Hermite coefficient as an expression in ``k``.

    >>> from symbolic_mf.activations import relu
    >>> ck, d = hermite_derivation(relu())
    >>> [ck.subs(_k, j) for j in range(4)]
    [sqrt(2)/(2*sqrt(pi)), 1/2, sqrt(2)/(2*sqrt(pi)), 0]
    """
    _require_family(phi)
    alpha, a, b = phi.alpha, phi.a, phi.b
    d = Derivation("Hermite coefficients")
    d.step(r"Generating function of $\mathrm{He}_k$ and Gaussian integration by parts",
           sp.Derivative(sp.Function("E_phi")(_t), (_t, _k)).subs(_t, 0), lhs=sp.Symbol(r"\mathbb{E}[\phi\,\mathrm{He}_k]"))
    # induction: d/dx [ff(alpha, k) rho(alpha - k, x)] = ff(alpha, k + 1) rho(alpha - k - 1, x)
    base = sp.diff(rho(alpha, _x), _x) - alpha * rho(alpha - 1, _x)
    step = sp.diff(sp.ff(alpha, _k) * rho(alpha - _k, _x), _x) - sp.ff(alpha, _k + 1) * rho(alpha - _k - 1, _x)
    step = sp.simplify(sp.expand_func(step.subs(sp.ff(alpha, _k + 1), sp.ff(alpha, _k) * (alpha - _k))))
    if sp.simplify(base) != 0 or step != 0:  # pragma: no cover - a SymPy regression
        raise SymbolicMFError("the induction for the k-th derivative of rho_alpha did not close")
    d.step(r"$k$-th derivative (induction on $k$, base and step checked)", sp.ff(alpha, _k) * rho(alpha - _k, _x),
           lhs=sp.Symbol(r"\rho_\alpha^{(k)}(x)"))
    beta = sp.Symbol("beta", positive=True)
    mean = _gaussian_rho_mean(beta, d)
    # ff(alpha, k) = Gamma(alpha+1)/Gamma(alpha-k+1); the Gamma duplication formula then simplifies
    ak = sp.gammasimp(sp.gamma(alpha + 1) / sp.gamma(alpha - _k + 1) * mean.subs(beta, alpha - _k))
    d.step(r"Coefficient of $\rho_\alpha$ ($\alpha^{\underline k}\,\mathbb{E}\rho_{\alpha-k}$, duplication formula)",
           ak, lhs=sp.Symbol(r"a_k"))
    ck = (a - (-1) ** _k * b) * ak
    d.step(r"Family member: $\mathrm{He}_k(-z)=(-1)^k\mathrm{He}_k(z)$", ck, lhs=sp.Symbol("c_k"))
    return ck, d


def hermite_coefficient(phi: HomogeneousActivation, k):
    """E[phi(z) He_k(z)] (probabilists' Hermite polynomials) for integer ``k >= 0``.

    >>> from symbolic_mf.activations import abs_power
    >>> hermite_coefficient(abs_power(2), 2)   # E[z^2 (z^2 - 1)] = 2
    2
    """
    k = sp.sympify(k)
    if k.is_number and not (k.is_integer and k >= 0):
        raise DomainError("k", k, "an integer k >= 0")
    ck, _ = hermite_derivation(phi)
    return sp.gammasimp(ck.subs(_k, k))


def sum_hypergeometric(term, m=_m) -> sp.Expr:
    r"""Sum :math:`\sum_{m\ge0} t_m` of a hypergeometric term as ``t_0 * hyper(ap, bq, z)``.

    The term ratio :math:`t_{m+1}/t_m` must be a rational function of ``m``;
    its linear factors give the parameters.

    >>> from sympy import factorial, Symbol
    >>> x = Symbol("x")
    >>> sum_hypergeometric(x**_m / factorial(_m))
    exp(x)
    """
    t0 = sp.gammasimp(term.subs(m, 0))
    if t0 == 0:
        return S.Zero
    ratio = sp.factor(sp.expand_func(sp.gammasimp(sp.combsimp(term.subs(m, m + 1) / term))))
    num, den = sp.fraction(sp.together(ratio))
    pn, pd = sp.Poly(num, m), sp.Poly(den, m)
    rn, rd = sp.roots(pn), sp.roots(pd)
    if sum(rn.values()) != pn.degree() or sum(rd.values()) != pd.degree():
        raise SymbolicMFError(f"term ratio {ratio} does not factor into linear factors in {m}")
    z = sp.simplify(pn.LC() / pd.LC())
    ap = [-r for r, mult in rn.items() for _ in range(mult)]
    bq = [-r for r, mult in rd.items() for _ in range(mult)]
    if S.One in bq:
        bq.remove(S.One)  # hyper's own 1/m!
    else:
        ap.append(S.One)
    return t0 * sp.hyperexpand(hyper(ap, bq, z)) if not ap or any(
        p.is_integer and p <= 0 for p in ap) else t0 * _maybe_expand(hyper(ap, bq, z))


def _maybe_expand(h):
    """Elementary form when hyperexpand finds one without leaving hyper/meijerg behind."""
    if not h.free_symbols or any(p.free_symbols for p in list(h.ap) + list(h.bq)):
        return h
    e = sp.hyperexpand(h)
    return h if e.has(hyper, sp.meijerg) else e


def _clear_root(K, c):
    r"""Remove :math:`1/\sqrt{1-c^2}` that cancels, so the form is finite at :math:`c = \pm 1`.

    Writes the numerator as :math:`A + B s` modulo :math:`s^2 = 1 - c^2`
    (``s`` the root); when ``A`` vanishes identically the root leaves the
    denominator.
    """
    s = sp.Dummy("s", positive=True)
    K2 = sp.cancel(sp.together(K.subs(sp.sqrt(1 - c**2), s)))
    num, den = sp.fraction(K2)
    if not den.has(s):
        return sp.simplify(K2.subs(s, sp.sqrt(1 - c**2)))
    q, r = sp.div(sp.Poly(den, s), sp.Poly(s, s))
    if r.as_expr() != 0 or q.as_expr().has(s):
        return sp.simplify(K)
    pn = sp.Poly(sp.expand(num), s)
    A, B = S.Zero, S.Zero
    for (power,), coeff in pn.terms():
        val = coeff * (1 - c**2) ** (power // 2)
        if power % 2:
            B += val
        else:
            A += val
    # A/s = s*A/(1 - c^2): finite when (1 - c^2) divides A
    A2 = sp.cancel(A / (1 - c**2))
    if sp.fraction(A2)[1].has(c):
        return sp.simplify(K)
    return sp.simplify((B + sp.sqrt(1 - c**2) * A2) / q.as_expr())


def hermite_kernel(phi: HomogeneousActivation, c, derivation: Derivation = None) -> sp.Expr:
    r"""The dual kernel :math:`K_\phi(c) = \mathbb E[\phi(u)\phi(v)]`, unit variances, by Mehler's series.

    Returns two :math:`{}_2F_1(\cdot;c^2)` terms for symbolic α and the
    elementary form for integer α.  ``derivation`` (optional) receives the
    steps.
    """
    _require_family(phi)
    c = sp.sympify(c)
    # derive for the generic member, then substitute: the term ratio of a
    # specialised member can hide behind unsimplified Gamma quotients
    ga, gb, gc = sp.Symbol("alpha"), sp.Symbol("a"), sp.Symbol("b")
    generic = HomogeneousActivation.__new__(HomogeneousActivation)
    generic.alpha, generic.a, generic.b = ga, gb, gc
    ck, d = hermite_derivation(generic)
    if derivation is not None:
        derivation.steps.extend(d.steps)
        d = derivation
    d.step(r"Mehler's formula", sp.Sum(c**_k / sp.factorial(_k) * ck**2, (_k, 0, sp.oo)), lhs=sp.Symbol("K(c)"))
    cs = sp.Symbol("c_sq_", nonnegative=True)  # c**2, kept positive so the term ratio stays clean
    even = sp.gammasimp(cs**_m / sp.factorial(2 * _m) * ck.subs(_k, 2 * _m) ** 2)
    odd = sp.gammasimp(cs**_m / sp.factorial(2 * _m + 1) * ck.subs(_k, 2 * _m + 1) ** 2)
    E = sum_hypergeometric(even).subs(cs, c**2)
    O = sum_hypergeometric(odd).subs(cs, c**2)
    d.step(r"Even $k = 2m$: term ratio rational in $m$, a ${}_2F_1$ in $c^2$", E, lhs=sp.Symbol("K_{even}(c)"))
    d.step(r"Odd $k = 2m+1$: likewise, times $c$", c * O, lhs=sp.Symbol("K_{odd}(c)"))
    values = {ga: phi.alpha, gb: phi.a, gc: phi.b}
    E, O = E.subs(values), O.subs(values)
    d.step(r"The member $(\alpha, a, b) = (%s, %s, %s)$" % tuple(sp.latex(v) for v in values.values()),
           E + c * O, lhs=sp.Symbol("K(c)"))
    K = E + c * O
    if phi.alpha.is_integer:
        K = _clear_root(sp.hyperexpand(K), c)
        d.step(r"Integer $\alpha$: hypergeometric functions expanded", K, lhs=sp.Symbol("K(c)"))
    else:
        d.step(r"Sum of the two parts", K, lhs=sp.Symbol("K(c)"))
    return K
