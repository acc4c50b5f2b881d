r"""Orthant engine: dual kernels of piecewise exponential-polynomial activations (ELU, SELU, ReLU, ...).

An activation with one kink at 0 whose two pieces are sums of
:math:`x^ie^{\lambda x}` (ELU: :math:`x` and :math:`a(e^x - 1)`) has a kernel
:math:`\mathbb{E}[\phi(u)\psi(v)]` that splits by orthant into terms
:math:`\mathbb{E}[u^iv^je^{\lambda u + \mu v}\mathbf 1\{\sigma_1u>0, \sigma_2v>0\}]`.
Write :math:`u = s_1X`, :math:`v = s_2Y` with :math:`(X, Y)` standard normal
with correlation :math:`\rho`.  Everything follows from one closed form, the
**tilted orthant probability**

.. math:: G_{\sigma_1\sigma_2}(\alpha, \beta) = \mathbb{E}\big[e^{\alpha X+\beta Y}
   \mathbf 1\{\sigma_1X>0, \sigma_2Y>0\}\big]
   = e^{(\alpha^2+2\rho\alpha\beta+\beta^2)/2}\,
   \Phi_2\big(\sigma_1(\alpha+\rho\beta), \sigma_2(\rho\alpha+\beta); \sigma_1\sigma_2\rho\big),

(the exponential tilt :math:`e^{\alpha x+\beta y}p(x, y) = e^{Q/2}p(x - m_1, y - m_2)`
is checked by SymPy on the density, then the orthant probability of the
shifted pair is a :class:`~symbolic_mf.bivariate_normal.BivariateNormalCDF`),
and the polynomial factors come from differentiating it:
:math:`\mathbb{E}[X^iY^je^{\alpha X+\beta Y}\mathbf 1\{\dots\}] = \partial_\alpha^i\partial_\beta^jG`,
done by SymPy with the ``fdiff`` rules of :math:`\Phi_2`.  The conditional
CDFs that appear rewrite themselves into a form finite at :math:`\rho = \pm1`.

Results are in the correlation ρ and variances :math:`q_1 = s_1^2`,
:math:`q_2 = s_2^2`; :func:`derive_kernel` also gives them in the covariance
:math:`c = \rho\sqrt{q_1q_2}`.

>>> import sympy as sp
>>> from symbolic_mf.activations import relu, elu
>>> r = sp.Symbol("r", real=True)
>>> derive_kernel(relu(), r).result
r*asin(r)/(2*pi) + r/4 + sqrt(1 - r**2)/(2*pi)
>>> d = derive_kernel(elu(), r)
>>> sorted(type(f).__name__ for f in d.result.atoms(sp.Function) if type(f).__name__ == "BivariateNormalCDF")
['BivariateNormalCDF', 'BivariateNormalCDF', 'BivariateNormalCDF']
"""

from __future__ import annotations

import functools
import time

import sympy as sp

from ..bivariate_normal import BivariateNormalCDF, ConditionalNormalCDF, normal_cdf, normal_pdf
from ..derivation import Derivation
from ..errors import DomainError

__all__ = [
    "s1",
    "s2",
    "rho",
    "q1",
    "q2",
    "cov",
    "activation_pieces",
    "piece_derivative",
    "tilted_orthant",
    "orthant_moment",
    "derive_correlation_kernel",
    "derive_kernel",
    "derivative_kernel",
]

x = sp.Symbol("x", real=True)
#: standard deviations of u and v, and their correlation
s1, s2 = sp.symbols("s1 s2", positive=True)
rho = sp.Symbol("rho", real=True)
#: variances and covariance (the same symbols as the Fourier engine)
q1, q2 = sp.symbols("q1 q2", positive=True)
cov = sp.Symbol("c", real=True)
_al, _be = sp.symbols("alpha beta", real=True)
_X, _Y = sp.symbols("X Y", real=True)
_p = sp.Symbol("p", positive=True)


def _as_expr(phi):
    return phi.expr if hasattr(phi, "expr") else sp.sympify(phi)


def _name(phi):
    return getattr(phi, "name", str(_as_expr(phi)))


# ---------------------------------------------------------------------------
# pieces of the activation


def _terms(piece, what):
    r"""``piece`` (in x) as ``{(i, lambda): coef}`` with ``piece = sum coef x^i e^{lambda x}``."""
    out = {}
    e = sp.expand(sp.powsimp(sp.expand(piece), combine="exp"))
    if e == 0:
        return out
    for term in sp.Add.make_args(e):
        coef, rest = term.as_independent(x, as_Add=False)
        i, lam = 0, sp.S.Zero
        for f in sp.Mul.make_args(rest):
            if f == 1:
                continue
            if f == x:
                i += 1
            elif f.is_Pow and f.base == x and f.exp.is_Integer and f.exp > 0:
                i += int(f.exp)
            elif isinstance(f, sp.exp) and not sp.simplify(f.args[0] / x).has(x):
                lam += sp.simplify(f.args[0] / x)
            else:
                raise DomainError("phi", what, "an activation whose pieces on x > 0 and x < 0 are sums of "
                                  "x^i exp(lambda x) (orthant engine)", f"factor {f}")
        out[(i, lam)] = out.get((i, lam), 0) + coef
    return {k_: sp.simplify(v_) for k_, v_ in out.items() if sp.simplify(v_) != 0}


def activation_pieces(phi):
    r"""``{+1: terms, -1: terms}``: the pieces of :math:`\phi` on :math:`x > 0` and :math:`x < 0`.

    Each is ``{(i, lambda): coef}`` with piece :math:`= \sum \mathrm{coef}\,x^ie^{\lambda x}`,
    read off the activation's expression (its ρ/Heaviside/Abs factors
    evaluate on each half-line).  Raises
    :class:`~symbolic_mf.errors.DomainError` for anything else.

    >>> from symbolic_mf.activations import elu
    >>> activation_pieces(elu())
    {1: {(1, 0): 1}, -1: {(0, 0): -1, (0, 1): 1}}
    """
    e = _as_expr(phi)
    out = {}
    for sgn in (1, -1):
        piece = e.subs(x, sgn * _p)
        piece = piece.replace(lambda w: isinstance(w, (sp.Heaviside,)), lambda w: w)  # evaluates on _p
        piece = sp.expand(piece).subs(_p, sgn * x)
        if piece.has(sp.Function) and any(not isinstance(f, sp.exp) for f in piece.atoms(sp.Function)):
            raise DomainError("phi", _name(phi), "an activation with a single kink at 0 and pieces "
                              "x^i exp(lambda x) (orthant engine)", f"piece {piece}")
        out[sgn] = dict(sorted(_terms(piece, _name(phi)).items(), key=lambda kv: sp.default_sort_key(kv[0])))
    return out


def piece_derivative(pieces):
    r"""The pieces of :math:`\phi'` (a typed error if :math:`\phi` jumps at 0: its derivative has a Dirac mass).

    >>> from symbolic_mf.activations import elu
    >>> piece_derivative(activation_pieces(elu(sp.Symbol("a", positive=True))))
    {1: {(0, 0): 1}, -1: {(0, 1): a}}
    """
    at0 = [sum((c_ for (i, _), c_ in pieces[sgn].items() if i == 0), sp.S.Zero) for sgn in (1, -1)]
    if sp.simplify(at0[0] - at0[1]) != 0:
        raise DomainError("phi", "discontinuous at 0", "an activation continuous at its kink (its derivative "
                          "would carry a Dirac mass)")
    out = {}
    for sgn in (1, -1):
        d = {}
        for (i, lam), c_ in pieces[sgn].items():
            if i:
                d[(i - 1, lam)] = d.get((i - 1, lam), 0) + i * c_
            if lam != 0:
                d[(i, lam)] = d.get((i, lam), 0) + lam * c_
        out[sgn] = {k_: sp.simplify(v_) for k_, v_ in d.items() if sp.simplify(v_) != 0}
    return out


# ---------------------------------------------------------------------------
# the tilted orthant probability


@functools.lru_cache(maxsize=1)
def _tilt_check():
    r"""SymPy check of the exponential tilt on the standard bivariate density (returns the recorded equation)."""
    sig2 = 1 - rho**2
    dens = lambda a, b: sp.exp(-(a**2 - 2 * rho * a * b + b**2) / (2 * sig2)) / (2 * sp.pi * sp.sqrt(sig2))  # noqa: E731
    m1, m2 = _al + rho * _be, rho * _al + _be
    Q = _al**2 + 2 * rho * _al * _be + _be**2
    ratio = sp.powsimp(sp.exp(_al * _X + _be * _Y) * dens(_X, _Y) / dens(_X - m1, _Y - m2), combine="exp")
    if sp.simplify(sp.expand_log(sp.log(ratio), force=True) - Q / 2) != 0:  # pragma: no cover
        raise AssertionError("exponential tilt check failed")
    return sp.Eq(sp.Symbol(r"e^{\alpha x+\beta y}p_\rho(x, y)"),
                 sp.exp(Q / 2) * sp.Symbol(r"p_\rho(x - (\alpha+\rho\beta),\, y - (\rho\alpha+\beta))"),
                 evaluate=False)


def tilted_orthant(sig1, sig2, a=_al, b=_be, r=rho):
    r""":math:`\mathbb{E}[e^{aX+bY}\mathbf 1\{\sigma_1X>0, \sigma_2Y>0\}]` for a standard pair with correlation r.

    >>> tilted_orthant(1, 1, 0, 0)
    asin(rho)/(2*pi) + 1/4
    >>> tilted_orthant(-1, 1, 1, 0)
    exp(1/2)*BivariateNormalCDF(-1, rho, -rho)
    """
    Q = a**2 + 2 * r * a * b + b**2
    return sp.exp(Q / 2) * BivariateNormalCDF(sig1 * (a + r * b), sig2 * (r * a + b), sig1 * sig2 * r)


def orthant_moment(sig1, sig2, i, j, a, b, r=rho):
    r""":math:`\mathbb{E}[X^iY^je^{aX+bY}\mathbf 1\{\sigma_1X>0, \sigma_2Y>0\}] = \partial_a^i\partial_b^jG`.

    >>> r = sp.Symbol("r", real=True)
    >>> sp.expand(orthant_moment(1, 1, 1, 1, 0, 0, r))       # E[XY; X>0, Y>0]
    r*asin(r)/(2*pi) + r/4 + sqrt(1 - r**2)/(2*pi)
    """
    G = tilted_orthant(sig1, sig2, _al, _be, r)
    D = sp.diff(G, _al, i, _be, j) if (i or j) else G
    return D.subs({_al: a, _be: b}, simultaneous=True)


# ---------------------------------------------------------------------------
# the engine


def _elementary(expr):
    """A sum of (algebraic coefficient) x (product of exp/erf/asin factors), grouped by the latter."""
    expr = sp.expand(sp.powsimp(sp.expand(expr), combine="exp"))
    groups = {}
    for term in sp.Add.make_args(expr):
        coef, trans = sp.S.One, sp.S.One
        for f in sp.Mul.make_args(term):
            if f.has(sp.exp, sp.erf, sp.asin, BivariateNormalCDF):
                trans *= f
            else:
                coef *= f
        trans = sp.powsimp(trans, combine="exp")
        groups[trans] = groups.get(trans, 0) + coef
    # X (1 - erf z) -> X erfc z
    for trans in list(groups):
        if trans not in groups:
            continue
        erfs = [f for f in sp.Mul.make_args(trans) if isinstance(f, sp.erf)]
        if len(erfs) == 1:
            rest = trans / erfs[0]
            if rest in groups and sp.simplify(groups[rest] + groups[trans]) == 0:
                groups[rest * sp.erfc(erfs[0].args[0])] = groups.pop(rest)
                groups.pop(trans)
    out = sp.S.Zero
    for trans, coef in groups.items():
        coef = sp.radsimp(sp.together(coef))
        out += (sp.expand(coef) if trans == 1 else sp.factor(coef)) * trans
    return out


def _tidy(expr):
    """Collect by the Φ₂ terms and group the elementary coefficients (exp, erf, asin factors)."""
    expr = sp.expand(expr)
    bvn = sorted(expr.atoms(BivariateNormalCDF), key=sp.default_sort_key)
    collected = sp.collect(expr, bvn, evaluate=False) if bvn else {sp.S.One: expr}
    out = sp.S.Zero
    for key, coef in collected.items():
        out += _elementary(coef) * key
    return out


def derive_correlation_kernel(f, g=None, r=rho, var1=q1, var2=q2, subject=None) -> Derivation:
    r"""Derive :math:`\mathbb{E}[f(u)g(v)]` for variances ``var1``, ``var2`` and correlation ``r``.

    ``f``, ``g`` are activations or expressions in x (``g`` defaults to ``f``),
    or already-split pieces (see :func:`activation_pieces`).

    >>> from symbolic_mf.activations import step
    >>> derive_correlation_kernel(step(), r=sp.Symbol("r")).result
    asin(r)/(2*pi) + 1/4
    """
    start = time.perf_counter()
    pf = f if isinstance(f, dict) else activation_pieces(f)
    pg = pf if g is None else (g if isinstance(g, dict) else activation_pieces(g))
    rec = Derivation("orthant", subject or (f"E[{_name(f)}(u) {_name(f if g is None else g)}(v)]"
                                            if not isinstance(f, dict) else "E[f(u) g(v)]"))
    fmt = lambda P: sp.Tuple(*[sp.Add(*[c_ * x**i * sp.exp(lam * x) for (i, lam), c_ in P[sg].items()])  # noqa: E731
                               for sg in (1, -1)])
    rec.add(r"pieces $(\phi|_{x>0}, \phi|_{x<0})$, each a sum of $x^ie^{\lambda x}$",
            sp.Eq(sp.Symbol(r"(\phi_+, \phi_-)"), fmt(pf), evaluate=False))
    if g is not None:
        rec.add(r"pieces of $\psi$", sp.Eq(sp.Symbol(r"(\psi_+, \psi_-)"), fmt(pg), evaluate=False))
    rec.add(r"exponential tilt of the standard bivariate density (checked by SymPy): "
            r"$\mathbb{E}[e^{\alpha X+\beta Y}g(X, Y)] = e^{Q/2}\mathbb{E}[g(X+\alpha+\rho\beta, Y+\rho\alpha+\beta)]$",
            _tilt_check())
    rec.add(r"tilted orthant probability: $G_{\sigma_1\sigma_2}(\alpha, \beta) = \mathbb{E}[e^{\alpha X+\beta Y}"
            r"\mathbf 1\{\sigma_1X>0,\sigma_2Y>0\}]$ (here $\sigma_1 = -1, \sigma_2 = +1$)",
            tilted_orthant(-1, 1, _al, _be, rho))
    rec.add(r"polynomial factors by differentiation: $\mathbb{E}[XYe^{\alpha X+\beta Y}\mathbf 1\{X>0,Y>0\}] = "
            r"\partial_\alpha\partial_\beta G_{++}$ ($\partial_h\Phi_2 = \varphi(h)\Phi(\frac{k-\rho h}{\sqrt{1-\rho^2}})$, "
            r"$\partial_\rho\Phi_2 = $ density)", sp.simplify(orthant_moment(1, 1, 1, 1, _al, _be, rho)))
    S1, S2 = sp.sqrt(var1), sp.sqrt(var2)
    total = sp.S.Zero
    for sg1 in (1, -1):
        for sg2 in (1, -1):
            part = sp.S.Zero
            for (i, l1), c1 in pf[sg1].items():
                for (j, l2), c2 in pg[sg2].items():
                    part += c1 * c2 * S1**i * S2**j * orthant_moment(sg1, sg2, i, j, l1 * S1, l2 * S2, r)
            part = _tidy(part)
            if part != 0:
                rec.add(r"orthant $\sigma_1 u > 0, \sigma_2 v > 0$, $(\sigma_1, \sigma_2) = (%d, %d)$" % (sg1, sg2),
                        part)
            total += part
    res = _tidy(total)
    rec.add(r"kernel: the sum over the four orthants ($u = \sqrt{q_1}X$, $v = \sqrt{q_2}Y$, correlation $%s$)"
            % sp.latex(r), res)
    rec.result = res
    rec.seconds = time.perf_counter() - start
    return rec


@functools.lru_cache(maxsize=64)
def _cached(f, g, r, var1, var2, subject):
    return derive_correlation_kernel(f, g, r, var1, var2, subject)


def derive_kernel(phi, c=cov, var1=1, var2=1, derivative=False) -> Derivation:
    r""":math:`\mathbb{E}[\phi(u)\phi(v)]` (or :math:`\mathbb{E}[\phi'(u)\phi'(v)]` with ``derivative=True``).

    ``c`` is the covariance (the correlation for the default unit variances);
    pass ``var1=q1, var2=q2`` for the general kernel, which is written in
    :math:`\rho = c/\sqrt{q_1q_2}`.

    >>> from symbolic_mf.activations import elu
    >>> from symbolic_mf.bivariate_normal import normal_cdf
    >>> d = derive_kernel(elu(), derivative=True)
    >>> sp.simplify(d.result.subs(cov, 0) - (sp.S.Half + sp.exp(sp.S.Half) * normal_cdf(-1))**2)  # (E elu')^2
    0
    """
    f = _as_expr(phi)
    name = _name(phi)
    if derivative:
        pieces = piece_derivative(activation_pieces(f))
        key = _freeze(pieces)
        name = f"d{name}"
    else:
        key = f
    rec = _cached(key, None, rho, sp.sympify(var1), sp.sympify(var2), name)
    out = Derivation(rec.method, rec.subject, list(rec.steps))
    rr = sp.sympify(c) / sp.sqrt(sp.sympify(var1) * sp.sympify(var2))
    out.result = rec.result.subs(rho, rr)
    if rr != rho:
        out.add(r"with $\rho = c/\sqrt{q_1q_2}$", out.result)
    out.seconds = rec.seconds
    return out


class _Frozen(dict):
    def __hash__(self):
        return hash(tuple(sorted((k_, tuple(sorted(v_.items(), key=str))) for k_, v_ in self.items())))


def _freeze(pieces):
    return _Frozen(pieces)


def derivative_kernel(phi, c=cov, var1=1, var2=1):
    r""":math:`\dot K = \mathbb{E}[\phi'(u)\phi'(v)]` (the NTK ingredient), pieces of φ' from :func:`piece_derivative`.

    >>> from symbolic_mf.activations import relu
    >>> derivative_kernel(relu())
    asin(c)/(2*pi) + 1/4
    """
    return derive_kernel(phi, c, var1, var2, derivative=True).result


# ---------------------------------------------------------------------------
# numeric evaluation


@functools.lru_cache(maxsize=64)
def _compiled(f, derivative):
    from ..numeric import compile_expr

    pieces = activation_pieces(f)
    if derivative:
        pieces = piece_derivative(pieces)
    expr = _cached(_freeze(pieces), None, rho, q1, q2, "").result
    free = expr.free_symbols - {rho, q1, q2}
    if free:
        raise DomainError("phi", sorted(map(str, free)), "numeric parameters for numeric evaluation")
    return compile_expr(expr)


def kernel_value(phi, c, var1=1, var2=1, dps: int = 30, derivative: bool = False):
    r"""Numeric :math:`\mathbb{E}[\phi(u)\phi(v)]` (or of :math:`\phi'`) at ``dps`` digits from the derived closed form.

    ``c`` is the covariance; raises :class:`~symbolic_mf.errors.NotPSDError`
    unless ``var1, var2 > 0`` and :math:`c^2 \le q_1q_2`.

    >>> from mpmath import mp
    >>> from symbolic_mf.activations import elu
    >>> print(mp.nstr(kernel_value(elu(), 0.5, 1, 2, dps=20), 15))
    0.323641798868803
    """
    from mpmath import mp

    from ..errors import NotPSDError

    with mp.workdps(dps + 5):
        Q1, Q2, C = (mp.mpf(t) if isinstance(t, (int, float, str)) else mp.mpf(sp.N(t, dps + 10)) for t in (var1, var2, c))
        if not (Q1 > 0 and Q2 > 0) or C * C > Q1 * Q2 * (1 + mp.mpf(10) ** (-dps)):
            raise NotPSDError("Sigma", [[var1, c], [c, var2]], "var1, var2 > 0 and c^2 <= var1 var2")
        R = max(min(C / mp.sqrt(Q1 * Q2), mp.one), -mp.one)
        val = _compiled(_as_expr(phi), derivative)({q1: Q1, q2: Q2, rho: R})
    with mp.workdps(dps):  # rounded to dps digits, not to the ambient precision
        return +val
