r"""Fourier / characteristic-function engine: dual kernels of activations that are not homogeneous.

For :math:`(u, v)` centred Gaussian with :math:`\operatorname{Var}u = q_1`,
:math:`\operatorname{Var}v = q_2`, :math:`\operatorname{Cov}(u, v) = c`
(the correlation when :math:`q_1 = q_2 = 1`), and :math:`\phi` written
through its Fourier transform in SymPy's convention
:math:`\hat\phi(k) = \int\phi(x)e^{-2\pi ixk}dx`,
:math:`\phi(x) = \int\hat\phi(k)e^{2\pi ixk}dk`,

.. math:: \mathbb{E}[\phi(u)\psi(v)] = \iint\hat\phi(k_1)\hat\psi(k_2)\,
   \mathbb{E}[e^{2\pi i(k_1u + k_2v)}]\,dk_1dk_2,\qquad
   \mathbb{E}[e^{2\pi i(k_1u+k_2v)}] = e^{-2\pi^2(q_1k_1^2 + 2ck_1k_2 + q_2k_2^2)} .

Three cases, tried in order (each step done by SymPy and recorded in a
:class:`~symbolic_mf.derivation.Derivation`):

1. **Spectral sum** — :math:`\phi` is a finite sum :math:`\sum_j a_je^{\lambda_jx}`
   (``rewrite(exp)``: sin, cos, exp, sinh, cosh).  Its transform is a sum of
   Dirac masses (SymPy's ``fourier_transform`` returns 0 for ``sin``, so the
   masses are handled here), and the kernel is
   :math:`\sum_{j,l}a_ja_l\,\mathbb{E}[e^{\lambda_ju + \lambda_lv}]`, the
   characteristic function continued to :math:`k = \lambda/(2\pi i)`.
2. **Transform** — :math:`\phi \to 0` at :math:`\pm\infty` and SymPy's
   ``fourier_transform`` gives :math:`\hat\phi = P(k)e^{-\beta k^2}` (Gaussian
   bumps, Hermite functions).  The two-dimensional frequency integral is
   orchestrated one variable at a time: complete the square in :math:`k_1`,
   integrate the Gaussian moments, then the same in :math:`k_2` (SymPy's 2-D
   ``integrate`` with symbolic :math:`q_1, q_2, c` does not finish).
3. **Price** — otherwise differentiate: if :math:`\phi^{(n)}` (n = 1, 2) falls
   under case 1 or 2, then by Price's theorem
   :math:`\partial_c^nK = \mathbb{E}[\phi^{(n)}(u)\phi^{(n)}(v)]`
   (the Fourier integrand differentiated in :math:`c` brings down
   :math:`(-4\pi^2k_1k_2)^n`, which cancels the :math:`1/k` singularities of
   :math:`\hat\phi`), and
   :math:`K(c) = \sum_{j<n}\frac{c^j}{j!}\mathbb{E}[\phi^{(j)}(u)]\mathbb{E}[\phi^{(j)}(v)]
   + \int_0^c\frac{(c-t)^{n-1}}{(n-1)!}\partial_t^nK(t)\,dt`.
   This is the route of erf (its arcsine form) and GELU.

>>> import sympy as sp
>>> from symbolic_mf.activations import erf, sin
>>> c = sp.Symbol("c", real=True)
>>> derive_kernel(sin(), c=c).result
exp(-1)*sinh(c)
>>> derive_kernel(erf(), c=c).result
2*asin(2*c/3)/pi
"""

from __future__ import annotations

import functools
import time

import sympy as sp

from ..derivation import Derivation
from ..errors import DomainError

__all__ = [
    "k1",
    "k2",
    "q1",
    "q2",
    "cov",
    "characteristic_function",
    "exponential_spectrum",
    "transform",
    "frequency_integral",
    "gaussian_mean",
    "derive_kernel",
    "derive_cross_kernel",
]

x = sp.Symbol("x", real=True)
k1, k2 = sp.symbols("k1 k2", real=True)
#: variances and covariance of (u, v) in the general (unequal-variance) kernels
q1, q2 = sp.symbols("q1 q2", positive=True)
cov = sp.Symbol("c", real=True)
_t = sp.Symbol("t", real=True)
_w1, _w2 = sp.symbols("omega1 omega2", real=True)
_X = sp.Symbol("X", real=True)


def _as_expr(phi):
    return phi.expr if hasattr(phi, "expr") else sp.sympify(phi)


# ---------------------------------------------------------------------------
# the Gaussian characteristic function, derived by two 1-D integrals


@functools.lru_cache(maxsize=1)
def _cf_derived():
    rec = Derivation("fourier", "characteristic function of (u, v)")
    a = sp.Symbol("a", real=True)
    one_d = sp.integrate(sp.exp(sp.I * a * _X - _X**2 / 2) / sp.sqrt(2 * sp.pi), (_X, -sp.oo, sp.oo), conds="none")
    one_d = sp.simplify(one_d)
    rec.add(r"one-dimensional Gaussian integral $\mathbb{E}[e^{iaX}]$, $X\sim\mathcal N(0,1)$",
            sp.Eq(sp.Integral(sp.exp(sp.I * a * _X) * sp.exp(-_X**2 / 2) / sp.sqrt(2 * sp.pi), (_X, -sp.oo, sp.oo)),
                  one_d, evaluate=False))
    # Cholesky: u = sqrt(q1) X, v = c/sqrt(q1) X + sqrt(q2 - c^2/q1) Y, X, Y independent
    aX = _w1 * sp.sqrt(q1) + _w2 * cov / sp.sqrt(q1)
    aY = _w2 * sp.sqrt(q2 - cov**2 / q1)
    cf = sp.powsimp(one_d.subs(a, aX) * one_d.subs(a, aY))
    cf = sp.exp(sp.expand(sp.log(cf), force=True))
    rec.add(r"Cholesky $u = \sqrt{q_1}X$, $v = \frac{c}{\sqrt{q_1}}X + \sqrt{q_2 - c^2/q_1}\,Y$: "
            r"$\mathbb{E}[e^{i(\omega_1u+\omega_2v)}]$ is a product of two such integrals", cf)
    expected = sp.exp(-(q1 * _w1**2 + 2 * cov * _w1 * _w2 + q2 * _w2**2) / 2)
    if sp.simplify(sp.expand(sp.log(cf) - sp.log(expected), force=True)) != 0:  # pragma: no cover
        raise AssertionError("characteristic function derivation failed")
    return expected, rec


def characteristic_function(w1=_w1, w2=_w2, record: Derivation = None):
    r""":math:`\mathbb{E}[e^{i(\omega_1u + \omega_2v)}]` for the pair with variances ``q1``, ``q2`` and covariance ``c``.

    Derived from :math:`\mathbb{E}[e^{iaX}] = e^{-a^2/2}` (SymPy ``integrate``)
    and a Cholesky factorisation.

    >>> sp.powsimp(characteristic_function())
    exp(-c*omega1*omega2 - omega1**2*q1/2 - omega2**2*q2/2)
    """
    cf, rec = _cf_derived()
    if record is not None:
        record.steps.extend(rec.steps)
    return sp.expand(cf.subs({_w1: w1, _w2: w2}, simultaneous=True))


# ---------------------------------------------------------------------------
# case 1: finite exponential sums (Dirac spectra)


def exponential_spectrum(phi):
    r"""``[(a_j, lambda_j)]`` with :math:`\phi(x) = \sum_j a_je^{\lambda_jx}`, or ``None``.

    >>> sorted(exponential_spectrum(sp.sin(x)), key=str)
    [(-I/2, I), (I/2, -I)]
    >>> exponential_spectrum(sp.tanh(x)) is None
    True
    """
    e = sp.expand(sp.powsimp(sp.expand(_as_expr(phi).rewrite(sp.exp)), combine="exp"))
    terms = {}
    for term in sp.Add.make_args(e):
        coeff, rest = term.as_independent(x, as_Add=False)
        if rest == 1:
            lam = sp.S.Zero
        elif isinstance(rest, sp.exp):
            lam = sp.simplify(rest.args[0] / x)
            if lam.has(x):
                return None
        else:
            return None
        terms[lam] = terms.get(lam, 0) + coeff
    out = [(sp.simplify(a), lam) for lam, a in terms.items() if sp.simplify(a) != 0]
    check = sp.Add(*[a * sp.exp(lam * x) for a, lam in out]) - _as_expr(phi)
    if sp.simplify(check.rewrite(sp.exp)) != 0:  # pragma: no cover - guards the rewriting
        return None
    return out


def _spectral_kernel(spec1, spec2, rec):
    cf = characteristic_function(record=rec)
    # E[e^{l1 u + l2 v}] = CF at omega = -i lambda (analytic continuation of an entire function)
    lam1, lam2 = sp.symbols("lambda1 lambda2")
    mgf = sp.expand(cf.subs({_w1: -sp.I * lam1, _w2: -sp.I * lam2}, simultaneous=True))
    rec.add(r"moment generating function: the characteristic function (entire in $\omega$) at "
            r"$\omega = -i\lambda$", sp.Eq(sp.Symbol(r"\mathbb{E}[e^{\lambda_1u+\lambda_2v}]"), mgf, evaluate=False))
    total = sp.S.Zero
    for a, l1 in spec1:
        for b, l2 in spec2:
            total += a * b * mgf.subs({lam1: l1, lam2: l2}, simultaneous=True)
    rec.add(r"$\hat\phi$ is a sum of Dirac masses at $k = \lambda_j/(2\pi i)$: "
            r"$K = \sum_{j,l}a_ja_l\,\mathbb{E}[e^{\lambda_ju+\lambda_lv}]$", total)
    return total


# ---------------------------------------------------------------------------
# case 2: Gaussian-type transforms


def _decays(e):
    try:
        return all(sp.limit(e, x, s) == 0 for s in (sp.oo, -sp.oo))
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover
        return False


def transform(phi, k=k1, record: Derivation = None):
    r""":math:`\hat\phi(k) = \int\phi(x)e^{-2\pi ixk}dx` by SymPy, if it is of the form :math:`P(k)e^{-\beta k^2}`.

    Returns ``None`` when :math:`\phi` does not decay at :math:`\pm\infty` (its
    transform is a distribution) or SymPy gives no such form.

    >>> s = sp.Symbol("s", positive=True)
    >>> transform(sp.exp(-x**2 / (2 * s**2)))
    sqrt(2)*sqrt(pi)*s*exp(-2*pi**2*k1**2*s**2)
    >>> transform(sp.erf(x)) is None
    True
    """
    e = _as_expr(phi)
    if not _gaussian_type(e, x) or not _decays(e):  # SymPy may search a long time for other transforms
        return None
    F = sp.fourier_transform(e, x, k)
    if F == 0 or F.has(sp.FourierTransform) or not _gaussian_type(F, k):
        return None
    if record is not None:
        record.add(r"Fourier transform (SymPy convention $\hat\phi(k) = \int\phi(x)e^{-2\pi ixk}dx$)",
                   sp.Eq(sp.Symbol(r"\hat\phi(k_1)"), F, evaluate=False))
    return F


def _split_exp(expr):
    """``(prefactor, exponent)`` with ``expr = prefactor * exp(exponent)``."""
    expr = sp.powsimp(sp.expand(expr), combine="exp")
    pre, ex = sp.S.One, sp.S.Zero
    for f in sp.Mul.make_args(expr):
        if isinstance(f, sp.exp):
            ex += f.args[0]
        elif f.is_Pow and isinstance(f.base, sp.exp):
            ex += f.base.args[0] * f.exp
        else:
            pre *= f
    return pre, sp.expand(ex)


def _gaussian_type(F, k):
    """True if F is a sum of polynomial(k) * exp(quadratic in k) terms."""
    for t in sp.Add.make_args(sp.expand(F)):
        pre, ex = _split_exp(t)
        if not (pre.is_polynomial(k) and ex.is_polynomial(k) and sp.Poly(ex, k).degree() == 2):
            return False
    return True


@functools.lru_cache(maxsize=64)
def _moment(n):
    r""":math:`\int t^n e^{-A t^2}dt` for a positive symbol A (SymPy ``integrate``)."""
    A = sp.Symbol("A", positive=True)
    return A, sp.integrate(_t**n * sp.exp(-A * _t**2), (_t, -sp.oo, sp.oo))


def _terms(expr):
    """``expr`` as a list of ``(prefactor, exponent)`` pairs."""
    return [_split_exp(t) for t in sp.Add.make_args(sp.expand(expr))]


def _integrate_gaussian(terms, k):
    r""":math:`\int_{-\infty}^\infty` of :math:`\sum P(k)e^{-Ak^2 + Bk + C}` (A > 0), by completing the square.

    ``terms`` is a list of ``(P, exponent)``; so is the result (in the other variables).
    """
    out = []
    for pre, ex in terms:
        poly = sp.Poly(ex, k)
        A, B, C = -poly.coeff_monomial(k**2), poly.coeff_monomial(k), poly.coeff_monomial(1)
        shift = B / (2 * A)
        P = sp.Poly(sp.expand(pre.subs(k, _t + shift)), _t)
        part = sp.S.Zero
        for (n,), coef in P.terms():
            Asym, mom = _moment(n)
            part += coef * mom.subs(Asym, A)
        out.append((sp.expand(part), sp.expand(C + B**2 / (4 * A))))
    return out


def _assemble(terms):
    return sp.Add(*[p * sp.exp(e) for p, e in terms])


def frequency_integral(F1, F2, record: Derivation = None):
    r""":math:`\iint F_1(k_1)F_2(k_2)\,\mathbb{E}[e^{2\pi i(k_1u+k_2v)}]dk_1dk_2` for Gaussian-type transforms.

    One variable at a time: complete the square in :math:`k_1`, Gaussian
    moments, then :math:`k_2`.

    >>> F = sp.sqrt(2 * sp.pi) * sp.exp(-2 * sp.pi**2 * k1**2)        # transform of exp(-x^2/2)
    >>> sp.simplify(frequency_integral(F, F.subs(k1, k2)).subs({q1: 1, q2: 1}))
    1/sqrt(4 - c**2)
    """
    cf = characteristic_function(2 * sp.pi * k1, 2 * sp.pi * k2, record)
    integrand = sp.expand(F1.subs(k1, k1) * F2.subs(k1, k2) * cf)
    if record is not None:
        record.add(r"frequency integrand $\hat\phi(k_1)\hat\psi(k_2)\,e^{-2\pi^2(q_1k_1^2+2ck_1k_2+q_2k_2^2)}$",
                   integrand)
    inner = _integrate_gaussian(_terms(integrand), k1)
    if record is not None:
        record.add(r"integrate over $k_1$ (complete the square, Gaussian moments)", _assemble(inner))
    return _assemble(_integrate_gaussian(inner, k2))


def _tidy(expr):
    """Pull positive constant factors out of square roots, then combine over one denominator.

    The radicands met here (``q + s^2``, ``(q1 + s^2)(q2 + s^2) - c^2``) are
    positive on the domain, so ``sqrt(xy) = sqrt(x) sqrt(y)`` is valid.
    """
    def split_root(e):
        pos, rest = sp.S.One, sp.S.One
        for f in sp.Mul.make_args(sp.factor(e.base)):
            if f.is_positive:
                pos *= f
            else:
                rest *= f
        return sp.expand_power_base(pos ** e.exp, force=True) * sp.expand(rest) ** e.exp

    e = sp.expand(expr).replace(lambda w: w.is_Pow and w.exp.is_Rational and w.exp.q == 2 and w.base.has(q1, q2, cov),
                                split_root)
    e = sp.powsimp(e, combine="exp")
    roots = sorted(e.atoms(sp.Pow, sp.asin), key=sp.default_sort_key)
    roots = [w for w in roots if isinstance(w, sp.asin) or (w.exp.is_Rational and w.exp.q == 2 and w.base.has(cov))]
    if roots and not e.has(sp.exp):
        return sp.collect(sp.expand(e), roots, sp.factor)
    if e.has(sp.exp):
        return _hyperbolic(e)
    return sp.factor(sp.together(e))


def _hyperbolic(e):
    """A sum of exponentials linear in c as ``exp(common) * (sinh/cosh in c)`` when the constant parts agree."""
    terms = [_split_exp(t) for t in sp.Add.make_args(sp.expand(sp.powsimp(sp.expand(e), combine="exp")))]
    alphas = {sp.expand(ex.subs(cov, 0)) for _, ex in terms}
    if len(alphas) != 1:
        return sp.simplify(e)
    a0 = alphas.pop()
    inner = sp.Add(*[p * sp.exp(sp.expand(ex - a0)) for p, ex in terms])
    return sp.exp(a0) * sp.simplify(inner.rewrite(sp.sinh))


# ---------------------------------------------------------------------------
# 1-D Gaussian means, for the Price route's constants


def gaussian_mean(f, q=q1, record: Derivation = None, label=""):
    r""":math:`\mathbb{E}_{z\sim\mathcal N(0,q)}[f(z)]` by SymPy ``integrate`` (0 for odd f).

    >>> gaussian_mean(x * sp.erf(x / sp.sqrt(2)) / 2 + x / 2, q=1)   # E[x Phi(x)] = E[phi(x)]
    1/(2*sqrt(pi))
    """
    f = _as_expr(f)
    if sp.simplify(f + f.subs(x, -x)) == 0:
        val = sp.S.Zero
        how = "odd integrand"
    else:
        dens = sp.exp(-x**2 / (2 * q)) / sp.sqrt(2 * sp.pi * q)
        val = sp.integrate(sp.expand(f * dens), (x, -sp.oo, sp.oo), conds="none")
        if val.has(sp.Integral):
            raise DomainError("phi", f, "an activation whose Gaussian mean SymPy can integrate")
        val = sp.simplify(val)
        how = "SymPy integrate"
    if record is not None:
        record.add(f"{label}Gaussian mean ({how})",
                   sp.Eq(sp.Symbol(r"\mathbb{E}_{\mathcal N(0,%s)}[%s]" % (sp.latex(q), sp.latex(f))), val,
                         evaluate=False))
    return val


# ---------------------------------------------------------------------------
# the engine


def _direct(f, g, rec):
    """Kernel E[f(u) g(v)] by case 1 or 2, or None."""
    s1, s2 = exponential_spectrum(f), exponential_spectrum(g)
    if s1 is not None and s2 is not None:
        rec.add(r"$\phi$ is a finite exponential sum $\sum_j a_je^{\lambda_jx}$",
                sp.Eq(sp.Symbol(r"\{(a_j, \lambda_j)\}"), sp.Tuple(*[sp.Tuple(*p) for p in s1]), evaluate=False))
        return _spectral_kernel(s1, s2, rec)
    F1 = transform(f, k1, rec)
    F2 = F1 if (F1 is not None and sp.simplify(f - g) == 0) else transform(g, k1, rec if f != g else None)
    if F1 is not None and F2 is not None:
        return frequency_integral(F1, F2, rec)
    return None


def algebraic_antiderivative(P, m, G, t):
    r"""Antiderivative of :math:`P(t)(G - t^2)^{-m-1/2}` (P a polynomial, m >= 0) by undetermined coefficients.

    Ansatz :math:`Q(t)(G-t^2)^{-m+1/2} + \kappa\arcsin(t/\sqrt G)`; differentiating
    and matching the polynomial numerators gives a linear system for Q and
    :math:`\kappa` (Ostrogradsky's method for this algebraic class), solved by SymPy.

    >>> G, t = sp.symbols("G t", positive=True)
    >>> algebraic_antiderivative(sp.S.One, 0, G, t)
    asin(t/sqrt(G))
    >>> F = algebraic_antiderivative(t**2, 1, G, t)
    >>> sp.simplify(sp.diff(F, t) - t**2 / (G - t**2)**sp.Rational(3, 2))
    0
    """
    P = sp.Poly(sp.expand(P), t)
    d = max(P.degree() + 2 * m, 1)
    cs = sp.symbols(f"q_0:{d + 1}")
    kappa = sp.Symbol("kappa")
    Q = sum(ci * t**i for i, ci in enumerate(cs))
    lhs = sp.diff(Q, t) * (G - t**2) + (2 * m - 1) * t * Q + kappa * (G - t**2) ** m
    eqs = sp.Poly(sp.expand(lhs) - P.as_expr(), t).all_coeffs()
    sol = sp.solve(eqs, list(cs) + [kappa], dict=True)
    if not sol:  # pragma: no cover - the ansatz always closes for this class
        raise ValueError("no antiderivative of the algebraic form")
    sol = {k: v for k, v in sol[0].items()}
    sol.update({s_: 0 for s_ in list(cs) + [kappa] if s_ not in sol})
    return sp.expand(Q.subs(sol)) * (G - t**2) ** (sp.Rational(1, 2) - m) + sol[kappa] * sp.asin(t / sp.sqrt(G))


def _price_integral(integrand):
    r""":math:`\int_0^c` of the Price integrand :math:`P(t)\,(L(G - t^2))^{-m-1/2}` by :func:`algebraic_antiderivative`.

    The radicand :math:`G_0 - Lt^2` of the Gaussian frequency integral gets a
    positive symbol :math:`G = G_0/L` first; anything else is left to SymPy's
    ``integrate``.
    """
    G = sp.Symbol("G", positive=True)
    back = {}

    def name_radicand(w):
        base = sp.expand(w.base)
        poly = sp.Poly(base, _t)
        lead = -poly.LC() if poly.degree() == 2 else sp.S.Zero
        if poly.degree() == 2 and poly.coeff_monomial(_t) == 0 and lead.is_positive:
            back[G] = poly.coeff_monomial(1) / lead
            return lead ** w.exp * (G - _t**2) ** w.exp
        return w

    body = sp.factor(integrand).replace(
        lambda w: w.is_Pow and w.exp.is_Rational and w.exp.q == 2 and w.base.has(_t), name_radicand)
    if len(set(back.values())) == 1:
        for m in range(0, 8):
            P = sp.cancel(sp.expand_power_base(body * (G - _t**2) ** (m + sp.S.Half), force=True))
            if P.is_polynomial(_t):
                F = algebraic_antiderivative(P, m, G, _t)
                val = F.subs(_t, cov) - F.subs(_t, 0)
                return val.subs(back)
    return sp.integrate(sp.expand(integrand), (_t, 0, cov), conds="none")


def _specialise(expr, qq1, qq2, cc):
    return expr.subs({q1: qq1, q2: qq2, cov: cc}, simultaneous=True)


def derive_cross_kernel(f, g, c=cov, var1=q1, var2=q2, subject=None, max_order=2) -> Derivation:
    r"""Derive :math:`\mathbb{E}[f(u)g(v)]`, :math:`\operatorname{Var}u = ` ``var1``, :math:`\operatorname{Var}v = ` ``var2``, covariance ``c``.

    See the module docstring for the three cases.  Raises
    :class:`~symbolic_mf.errors.DomainError` if none applies up to ``max_order``
    derivatives.

    >>> s = sp.Symbol("s", positive=True)
    >>> d = derive_cross_kernel(sp.exp(-x**2 / (2 * s**2)), sp.exp(-x**2 / (2 * s**2)))
    >>> d.result
    s**2/sqrt(-c**2 + q1*q2 + q1*s**2 + q2*s**2 + s**4)
    """
    start = time.perf_counter()
    f, g = _as_expr(f), _as_expr(g)
    rec = Derivation("fourier", subject or f"E[{f}(u) {g}(v)]")
    K = _direct(f, g, rec)
    if K is not None:
        res = _tidy(K)
    else:
        res = None
        for n in range(1, max_order + 1):
            fn, gn = sp.diff(f, x, n), sp.diff(g, x, n)
            sub = Derivation("fourier", "")
            Kn = _direct(fn, gn, sub)
            if Kn is None:
                continue
            rec.add(f"no transform of $\\phi$ itself (it does not decay); its derivative of order {n} has one",
                    sp.Eq(sp.Symbol(r"\phi^{(%d)}(x)" % n), fn, evaluate=False))
            rec.steps.extend(sub.steps)
            Kn = _tidy(Kn)
            rec.add(r"Price's theorem: $\partial_c^{%d}K(c) = \mathbb{E}[\phi^{(%d)}(u)\psi^{(%d)}(v)]$ "
                    r"(differentiating the Fourier integrand in $c$ cancels the $1/k$ of $\hat\phi$)" % (n, n, n), Kn)
            base = sp.S.Zero
            for j in range(n):
                mf = gaussian_mean(sp.diff(f, x, j), q1, rec, f"$j = {j}$: ")
                mg = mf if f == g else gaussian_mean(sp.diff(g, x, j), q2, rec, f"$j = {j}$: ")
                base += cov**j / sp.factorial(j) * mf * mg.subs(q1, q2)
            integrand = ((cov - _t) ** (n - 1) / sp.factorial(n - 1) * Kn.subs(cov, _t))
            integral = _price_integral(integrand)
            if integral.has(sp.Integral):
                raise DomainError("phi", f, "an activation whose Price integral SymPy can evaluate")
            rec.add(r"Taylor with integral remainder: $K(c) = \sum_{j<n}\frac{c^j}{j!}\mathbb{E}[\phi^{(j)}(u)]"
                    r"\mathbb{E}[\psi^{(j)}(v)] + \int_0^c\frac{(c-t)^{n-1}}{(n-1)!}\partial_t^nK(t)\,dt$",
                    sp.Eq(sp.Integral(integrand, (_t, 0, cov)), integral, evaluate=False))
            res = _tidy(base + integral)
            break
        if res is None:
            raise DomainError("phi", f, f"an activation that is an exponential sum or whose derivative of order "
                              f"<= {max_order} has a Gaussian-type Fourier transform (Fourier engine)")
    rec.add(r"kernel for variances $q_1, q_2$ and covariance $c$", res)
    res = _specialise(res, var1, var2, c)
    if (var1, var2, c) != (q1, q2, cov):
        res = _tidy(res)
        rec.add("at the requested variances and covariance", res)
    rec.result = res
    rec.seconds = time.perf_counter() - start
    return rec


@functools.lru_cache(maxsize=128)
def _derive_cached(f, c, var1, var2, subject):
    return derive_cross_kernel(f, f, c, var1, var2, subject)


def derive_kernel(phi, c=cov, var1=1, var2=1) -> Derivation:
    r"""Derive :math:`K_\phi = \mathbb{E}[\phi(u)\phi(v)]` by the Fourier route.

    With the default unit variances ``c`` is the correlation; pass
    ``var1=q1, var2=q2`` (the module's symbols) for the general kernel.

    >>> from symbolic_mf.activations import cos
    >>> derive_kernel(cos()).result
    exp(-1)*cosh(c)
    >>> derive_kernel(cos(), var1=q1, var2=q2).result
    exp(-q1/2 - q2/2)*cosh(c)
    """
    f = _as_expr(phi)
    name = getattr(phi, "name", str(f))
    return _derive_cached(f, sp.sympify(c), sp.sympify(var1), sp.sympify(var2), name)
