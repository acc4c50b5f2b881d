r"""Hermite / Mehler engine: dual kernels of the α-homogeneous family as ₂F₁ functions.

Route (each step is done by SymPy and recorded in a
:class:`~symbolic_mf.derivation.Derivation`):

1. **Gaussian integration by parts.**  Rodrigues' formula
   :math:`He_k(z)\varphi(z) = (-1)^k\varphi^{(k)}(z)` gives
   :math:`\mathbb{E}[f(z)He_k(z)] = \mathbb{E}[f^{(k)}(z)]`; for
   :math:`\rho_\alpha` the k-th derivative is
   :math:`(\alpha)_k^{\downarrow}\rho_{\alpha-k}` (the induction step is
   checked symbolically from ``rho.fdiff``).
2. **Gaussian Mellin integral** :math:`\mathbb{E}[\rho_\beta(z)] =
   \int_0^\infty x^\beta e^{-x^2/2}dx/\sqrt{2\pi}` by SymPy ``integrate``
   (continued analytically in β through the Gamma function).
3. The coefficient :math:`\mathbb{E}[\rho_\alpha(z)He_k(z)]` is simplified
   by ``gammasimp`` (duplication formula) to a Gamma ratio in ``k``; for
   :math:`a\rho_\alpha(x) - b\rho_\alpha(-x)` it is multiplied by
   :math:`a - (-1)^k b` (since :math:`He_k(-z) = (-1)^kHe_k(z)`).
4. **Mehler's formula** :math:`K(c) = \sum_k c^k/k!\,\mathrm{coef}_k^2`,
   split into even and odd ``k``; the term ratio of each part is
   simplified to a rational function of the summation index, its roots read
   off, and the part written as :math:`t_0\,{}_pF_q(\ldots; z)` — a
   hypergeometric series is *defined* by its term ratio, so this is a
   summation, not a lookup.
5. For integer α, ``hyperexpand`` turns the ₂F₁'s into elementary functions.

>>> import sympy as sp
>>> from symbolic_mf.activations import relu
>>> c = sp.Symbol("c", real=True)
>>> d = derive_kernel(1, 1, 0, c)
>>> sp.simplify(d.result - (sp.sqrt(1 - c**2) + c * (sp.pi - sp.acos(c))) / (2 * sp.pi)
...             ).rewrite(sp.asin).simplify()
0
"""

from __future__ import annotations

import time

import sympy as sp

from ..derivation import Derivation
from ..functions import rho

__all__ = [
    "mellin_mean",
    "rho_hermite_coefficient",
    "series_to_hyper",
    "derive_kernel",
    "tidy_arccos",
    "k_index",
    "m_index",
]

#: the Hermite index and the index of the even/odd half-series
k_index = sp.Symbol("k", integer=True, nonnegative=True)
m_index = sp.Symbol("m", integer=True, nonnegative=True)
_x = sp.Symbol("x", positive=True)
_beta = sp.Symbol("beta", positive=True)


def mellin_mean(beta, record: Derivation = None):
    r""":math:`\mathbb{E}[\rho_\beta(z)]` from the Gaussian Mellin integral (SymPy ``integrate``).

    >>> mellin_mean(1)
    sqrt(2)/(2*sqrt(pi))
    """
    integrand = _x**_beta * sp.exp(-_x**2 / 2) / sp.sqrt(2 * sp.pi)
    val = sp.integrate(integrand, (_x, 0, sp.oo), conds="none")
    val = sp.powsimp(sp.gammasimp(val))
    if record is not None:
        record.add(r"Gaussian Mellin integral $\mathbb{E}[\rho_\beta(z)] = \int_0^\infty x^\beta e^{-x^2/2}dx/\sqrt{2\pi}$",
                   sp.Eq(sp.Integral(integrand, (_x, 0, sp.oo)), val, evaluate=False))
    return val.subs(_beta, beta)


def rho_hermite_coefficient(alpha, k=k_index, record: Derivation = None):
    r""":math:`\mathbb{E}[\rho_\alpha(z)He_k(z)]` as a closed form in ``k`` (a Gamma ratio).

    >>> a = sp.Symbol("alpha")
    >>> rho_hermite_coefficient(a)
    2**(-alpha/2 + k/2 - 1)*gamma(alpha + 1)/gamma(alpha/2 - k/2 + 1)
    >>> rho_hermite_coefficient(1, 0)   # E[relu(z)] = 1/sqrt(2 pi)
    sqrt(2)/(2*sqrt(pi))
    """
    alpha = sp.sympify(alpha)
    xs = sp.Symbol("x", real=True)
    j = sp.Symbol("j", integer=True, nonnegative=True)
    # induction: d/dx [ff(alpha, j) rho_{alpha-j}] = ff(alpha, j+1) rho_{alpha-j-1}
    a = sp.Symbol("alpha")
    step = sp.diff(sp.ff(a, j) * rho(a - j, xs), xs)
    target = sp.ff(a, j + 1) * rho(a - j - 1, xs)
    if sp.simplify(sp.expand_func(step - target)) != 0:  # pragma: no cover - guards the derivation
        raise AssertionError("derivative rule of rho failed its induction step")
    if record is not None:
        record.add(r"Rodrigues + integration by parts: $\mathbb{E}[f(z)He_k(z)] = \mathbb{E}[f^{(k)}(z)]$; "
                   r"induction step for $\rho_\alpha$ (checked from rho's derivative)",
                   sp.Eq(sp.Derivative(sp.ff(a, j) * rho(a - j, xs), xs), target, evaluate=False))
    mean = mellin_mean(_beta, record)
    coef = sp.gamma(a + 1) / sp.gamma(a - k + 1) * mean.subs(_beta, a - k)
    coef = sp.powsimp(sp.gammasimp(coef))
    if record is not None:
        record.add(r"Hermite coefficient $\mathbb{E}[\rho_\alpha(z)He_k(z)] = (\alpha)^{\downarrow}_k\,"
                   r"\mathbb{E}[\rho_{\alpha-k}(z)]$, simplified (duplication formula)", coef)
    return coef.subs(a, alpha)


def series_to_hyper(term, m=m_index, record: Derivation = None, label=""):
    r"""Sum :math:`\sum_{m\ge0} t_m` as :math:`t_0\,{}_pF_q(a; b; z)` read off the term ratio.

    The ratio :math:`t_{m+1}/t_m` is simplified (``gammasimp``) to a rational
    function :math:`z\prod(m+a_i)/\prod(m+b_j)`; its numerator and
    denominator roots give the parameters.  Raises ``ValueError`` if the
    ratio is not rational in ``m``.

    >>> m = m_index
    >>> series_to_hyper(sp.Symbol("y")**m / sp.factorial(m))
    hyper((), (), y)
    >>> series_to_hyper(sp.rf(sp.S.Half, m)**2 / sp.factorial(m)**2)
    hyper((1/2, 1/2), (1,), 1)
    """
    t0 = sp.gammasimp(term.subs(m, 0))
    raw = term.subs(m, m + 1) / term
    for simp in (lambda r: sp.gammasimp(sp.combsimp(r)),
                 lambda r: sp.gammasimp(sp.expand_func(sp.powdenest(r, force=True))),
                 lambda r: sp.cancel(sp.expand_func(sp.gammasimp(sp.combsimp(r))))):
        ratio = sp.factor(simp(raw))
        if ratio.is_rational_function(m):
            break
    else:
        raise ValueError(f"term ratio {ratio} is not a rational function of {m}")
    num, den = sp.fraction(ratio)
    pn, pd = sp.Poly(sp.expand(num), m), sp.Poly(sp.expand(den), m)
    z = sp.simplify(pn.LC() / pd.LC())
    rn, rd = sp.roots(pn), sp.roots(pd)
    if sum(rn.values()) != pn.degree() or sum(rd.values()) != pd.degree():
        raise ValueError(f"term ratio {ratio} does not factor into linear factors in {m}")
    a_par = [-r for r, mult in rn.items() for _ in range(mult)]
    b_par = [-r for r, mult in rd.items() for _ in range(mult)]
    if 1 in b_par:
        b_par.remove(1)
    else:  # no (m+1) in the denominator: multiply top and bottom by it
        a_par.append(sp.S.One)
    result = t0 * sp.hyper(a_par, b_par, z)
    if record is not None:
        record.add(f"{label}term ratio $t_{{m+1}}/t_m$ (rational in m)", ratio)
        record.add(f"{label}hence the series is $t_0\\,{{}}_pF_q$", result)
    return result


def tidy_arccos(expr, c):
    r"""Elementary kernel in the arc-cosine form: no :math:`1/\sqrt{1-c^2}` left, ``acos`` for ``asin``.

    A term :math:`B(c)/\sqrt{1-c^2}` of a kernel that is finite at
    :math:`c = \pm1` has :math:`(1 - c^2) \mid B`, so it becomes
    :math:`(B/(1-c^2))\sqrt{1-c^2}` — finite and exactly evaluable at the ends.

    >>> c = sp.Symbol("c", real=True)
    >>> tidy_arccos(3*c*(1 - c**2)/sp.sqrt(1 - c**2) + sp.asin(c), c)
    3*c*sqrt(1 - c**2) - acos(c) + pi/2
    """
    S = sp.Dummy("S", positive=True)
    one_minus = sp.expand(1 - c**2)
    e = sp.expand(expr).replace(
        lambda w: w.is_Pow and sp.expand(w.base) in (one_minus, -one_minus) and (2 * w.exp).is_integer,
        lambda w: S ** (2 * w.exp) if sp.expand(w.base) == one_minus else (-S**2) ** w.exp)
    e = sp.expand(e)
    e = sp.expand(e.rewrite(sp.acos) if e.has(sp.asin) else e)
    e = sp.expand(e.subs(sp.asin(c), sp.pi / 2 - sp.acos(c)))
    e = sp.expand(e.replace(lambda w: w.is_Pow and w.base == S and w.exp.is_integer and abs(w.exp) >= 2,
                            lambda w: (1 - c**2) ** (w.exp // 2) * S ** (w.exp % 2)))
    for _ in range(8):
        negs = [t for t in sp.Add.make_args(e) if any(p.is_negative for b, p in (t.as_powers_dict().items()) if b == S)]
        if not negs:
            break
        B = sp.Add(*negs)
        e = sp.expand(e - B + sp.cancel(sp.expand(B * S) / (1 - c**2)) * S)
    e = sp.collect(e, [sp.acos(c), S], sp.factor)
    e = sp.collect(sp.expand(e.subs(S, sp.sqrt(1 - c**2))), [sp.acos(c), sp.sqrt(1 - c**2)], sp.factor)
    return e
    return e.subs(S, sp.sqrt(1 - c**2))


def _family_terms(alpha, a, b, c, record):
    k, m = k_index, m_index
    coef = rho_hermite_coefficient(alpha, k, record)
    fam = (a - (-1) ** k * b) * coef
    if record is not None:
        record.add(r"family coefficient for $a\rho_\alpha(x) - b\rho_\alpha(-x)$ ($He_k(-z) = (-1)^kHe_k(z)$)", fam)
        record.add("Mehler's formula", sp.Sum(c**k / sp.factorial(k) * fam**2, (k, 0, sp.oo)))
    even = (c**k / sp.factorial(k) * fam**2).subs(k, 2 * m)
    odd = (c**k / sp.factorial(k) * fam**2).subs(k, 2 * m + 1)
    return sp.powsimp(sp.expand_power_base(even, force=True)), sp.powsimp(sp.expand_power_base(odd, force=True))


def derive_kernel(alpha, a=1, b=0, c=sp.Symbol("c", real=True), elementary=True, subject=None) -> Derivation:
    r"""Derive :math:`K(c) = \mathbb{E}[\phi(u)\phi(v)]` for :math:`\phi = a\rho_\alpha(x) - b\rho_\alpha(-x)`.

    ``alpha``, ``a``, ``b`` may be symbolic.  Returns a :class:`Derivation`
    whose ``result`` is a sum of two ₂F₁'s in :math:`c^2`, or (integer α
    and ``elementary``) the ``hyperexpand``-ed elementary form.

    >>> c = sp.Symbol("c", real=True)
    >>> d = derive_kernel(sp.Symbol("alpha"), 1, 0, c)
    >>> sorted(str(h.args[2]) for h in d.result.atoms(sp.hyper))
    ['c**2', 'c**2']
    >>> derive_kernel(0, 1, 0, c).result   # Sheppard: 1/4 + asin(c)/(2 pi)
    -acos(c)/(2*pi) + 1/2
    """
    start = time.perf_counter()
    alpha, a, b = sp.sympify(alpha), sp.sympify(a), sp.sympify(b)
    rec = Derivation("hermite", subject or f"{a}*rho_{alpha}(x) - {b}*rho_{alpha}(-x)")
    even, odd = _family_terms(alpha, a, b, c, rec)
    parts = []
    for label, term in (("even k = 2m: ", even), ("odd k = 2m+1: ", odd)):
        if sp.simplify(term.subs(m_index, 0)) == 0 and sp.simplify(term.subs(m_index, 1)) == 0 and (
                term.has(a) is False):
            continue
        parts.append(series_to_hyper(term, m_index, rec, label))
    result = sp.Add(*parts)
    if alpha.is_integer and alpha.is_nonnegative and elementary:
        result = sp.hyperexpand(result)
        rec.add("integer alpha: hyperexpand to elementary functions", result)
        result = tidy_arccos(result, c)
        rec.add(r"clear $1/\sqrt{1-c^2}$ (finite at $c = \pm 1$) and write $\arcsin c = \pi/2 - \arccos c$", result)
    rec.result = result
    rec.seconds = time.perf_counter() - start
    return rec
