r"""Numerical evaluation of SymPy expressions, expectations and integrals included.

:func:`evaluate` computes an expression at an exact point with mpmath at a
requested precision.  Closed-form parts go through ``lambdify`` (mpmath
backend, with the functions SymPy's printer lacks supplied here).
Unevaluated nodes are evaluated by quadrature:

* :class:`~symbolic_mf.functions.GaussianExpectation` in one or two
  variables (:mod:`symbolic_mf.quadrature`): positively homogeneous
  bivariate integrands are reduced to one angular integral;
* ``Integral`` (one variable per ``Integral``; nest them for more);
* ``Derivative`` of a node that needs quadrature, by ``mpmath.diff``
  (which raises the working precision itself);
* ``Sum`` (finite sums directly, infinite ones by ``mpmath.nsum``).

Before quadrature, every non-smooth function of the integration variables
(:math:`\rho_\alpha`, ``Abs``, ``Heaviside``, ``sign``, ``Max``, ``Min``,
``Piecewise`` conditions, non-integer powers) has its argument *lifted* to a
separate input, so that breakpoints are located from the affine arguments and
approached exactly (see :mod:`symbolic_mf.quadrature`).

Compilation is cached per expression, so evaluating an identity at many
points compiles it once.

>>> import sympy as sp
>>> from symbolic_mf.functions import rho, expectation, z
>>> a = sp.Symbol("alpha")
>>> lhs = expectation(rho(a, z)**2)
>>> rhs = 2**(a - 1) * sp.gamma(a + sp.Rational(1, 2)) / sp.sqrt(sp.pi)
>>> point = {a: sp.Rational(-49, 100)}
>>> l, r = evaluate(lhs, point, 30), evaluate(rhs, point, 30)
>>> print(mp.nstr(l, 25), mp.nstr(abs(l / r - 1), 3))
19.97188702759587319350148 0.0
"""

from __future__ import annotations

import functools
from typing import Dict, List, Mapping, Sequence

import sympy as sp
from mpmath import mp

from . import quadrature as Q
from .errors import DomainError, QuadratureError
from .functions import GaussianExpectation, rho

__all__ = ["evaluate", "compile_expr", "to_mp", "MPMATH_FUNCTIONS", "lift_kinks", "homogeneity_degree"]


# ---------------------------------------------------------------------------
# mpmath implementations of functions SymPy's mpmath printer does not know


def _rho_mp(alpha, x):
    if x > 0:
        return x**alpha
    if x < 0:
        return mp.zero
    if alpha > 0:
        return mp.zero
    if alpha == 0:
        return mp.one
    return mp.inf


def _hermite_prob_mp(n, x):
    """He_n(x) by the three-term recurrence He_{k+1} = x He_k - k He_{k-1}."""
    n = int(n)
    if n < 0:
        raise DomainError("n", n, "n >= 0 for the Hermite polynomial He_n")
    a, b = mp.one, x
    if n == 0:
        return a
    for k in range(1, n):
        a, b = b, x * b - k * a
    return b


def _dirac_mp(*args):
    raise QuadratureError("DiracDelta cannot be evaluated pointwise; integrate it out symbolically")


def _heaviside_mp(x, h0=None):
    if x > 0:
        return mp.one
    if x < 0:
        return mp.zero
    return mp.mpf(1) / 2 if h0 is None else h0


def _besselk_mp(n, x):
    r""":math:`K_n(x)`, with :math:`K_0` on :math:`0 < x \lesssim 0.35\,\mathrm{prec}` from its power series.

    mpmath's ``besselk(0, x)`` takes its divergent asymptotic (2F0) route
    for every ``x >= 1``; until the series is convergent enough on its own
    (``x`` above about ``prec*ln2/2``) mpmath resums it at 30-150 ms per
    call, and a K_0 quadrature needs thousands of calls.  The ascending
    series :math:`K_0 = \sum_k \frac{(x^2/4)^k}{(k!)^2}\big(H_k - \ln\frac x2
    - \gamma\big)` has terms up to :math:`e^x` for a result near
    :math:`e^{-x}`: the cancellation (:math:`2x\log_2 e` bits) is paid in
    working precision, and the sum is then exact to the ambient precision
    (tests/test_verify.py compares it with mpmath's ``besselk`` at 30-75
    digits), 10-100 times faster there.  Everything else goes to mpmath.

    >>> with mp.workdps(40):
    ...     abs(_besselk_mp(0, mp.mpf(37)) / mp.besselk(0, mp.mpf(37)) - 1) < mp.mpf(10)**-39
    True
    """
    if n == 0 and not isinstance(x, mp.mpc) and 0 < x <= mp.prec * 0.35 + 30:
        prec = mp.prec
        extra = int(2.8854 * float(x)) + 30
        with mp.workprec(prec + extra):
            x = mp.mpf(x)
            t = x * x / 4
            term, H = t, mp.one  # (x^2/4)^k/(k!)^2 and the harmonic number H_k, at k = 1
            I0, S = 1 + t, t     # sums of term_k (I_0) and of term_k H_k, k <= 1
            tiny = mp.ldexp(mp.one, -(prec + extra + 5))
            k = 1
            while not (term * H < tiny * S and term < tiny * I0):
                k += 1
                term = term * t / (k * k)
                H += mp.one / k
                I0 += term
                S += term * H
            val = S - (mp.log(x / 2) + mp.euler) * I0
        return +val
    return mp.besselk(n, x)


MPMATH_FUNCTIONS = {
    "besselk": _besselk_mp,
    "rho": _rho_mp,
    "hermite_prob": _hermite_prob_mp,
    "laguerre": lambda n, x: mp.laguerre(n, 0, x),
    "assoc_laguerre": lambda n, a, x: mp.laguerre(n, a, x),
    "DiracDelta": _dirac_mp,
    "Heaviside": _heaviside_mp,
}
_MODULES = [MPMATH_FUNCTIONS, "mpmath"]


def to_mp(x):
    """Exact SymPy number -> mpmath number at the ambient precision.

    >>> with mp.workdps(30):
    ...     print(to_mp(sp.Rational(1, 3)))
    0.333333333333333333333333333333
    """
    x = sp.sympify(x)
    if x.is_Integer:
        return mp.mpf(int(x))
    if x.is_Rational:
        return mp.mpf(int(x.p)) / int(x.q)
    if x.is_Float:
        return mp.mpf(x._mpf_) if x._prec >= mp.prec else mp.mpf(str(x))
    if x in (sp.oo, -sp.oo):
        return mp.inf if x == sp.oo else -mp.inf
    if x.is_number:
        v = x.evalf(mp.dps + 10)
        if v.is_real:
            return mp.mpf(str(v))
        re, im = v.as_real_imag()
        return mp.mpc(str(re), str(im))
    raise DomainError("value", x, "an exact number")


def _lambdify(args, expr):
    return sp.lambdify(args, expr, modules=_MODULES)


# ---------------------------------------------------------------------------
# Kinks and homogeneity


def _affine_coeffs(arg, gvars):
    """Coefficients (k_1..k_n, k_0) of an affine form in gvars, or raise."""
    arg = sp.expand(arg)
    try:
        poly = sp.Poly(arg, *gvars)
    except sp.PolynomialError:
        poly = None
    if poly is None or poly.total_degree() > 1:
        raise QuadratureError(
            f"the non-smooth argument {arg} is not affine in {', '.join(map(str, gvars))}; "
            "cannot locate its breakpoints"
        )
    coeffs = [poly.coeff_monomial(g) for g in gvars]
    const = poly.coeff_monomial(1)
    return coeffs + [const]


def _depends(e, gvars):
    return bool(e.free_symbols & set(gvars))


def lift_kinks(expr, gvars):
    r"""Replace the arguments of non-smooth functions of ``gvars`` by symbols.

    Returns ``(lifted, ws, coeffs)``: ``lifted`` is ``expr`` with each kink
    argument replaced by a fresh symbol ``ws[i]``, and ``coeffs[i]`` the
    coefficients ``(k_1, ..., k_n, k_0)`` of that argument as an affine form
    in ``gvars``.

    >>> from symbolic_mf.functions import u, v
    >>> a = sp.Symbol("alpha")
    >>> lifted, ws, co = lift_kinks(rho(a, u) * sp.Abs(u - 2*v) * u, (u, v))
    >>> lifted
    u*Abs(w0)*rho(alpha, w1)
    >>> co
    [[1, -2, 0], [1, 0, 0]]
    """
    gvars = tuple(gvars)
    ws: List[sp.Symbol] = []
    args: List[sp.Expr] = []
    coeffs: List[list] = []

    def w_for(arg):
        arg = sp.expand(arg)
        for i, a in enumerate(args):
            if a == arg:
                return ws[i]
        coeffs.append(_affine_coeffs(arg, gvars))
        args.append(arg)
        ws.append(sp.Symbol(f"w{len(ws)}", real=True))
        return ws[-1]

    def minmax(e):
        # Max(a, b) = b + rho(1, a - b); Min(a, b) = a - rho(1, a - b)
        a, rest = e.args[0], e.func(*e.args[1:]) if len(e.args) > 2 else e.args[1]
        if isinstance(e, sp.Max):
            return rest + rho(1, a - rest)
        return a - rho(1, a - rest)

    def walk(e):
        if not _depends(e, gvars):
            return e
        if isinstance(e, (sp.Max, sp.Min)):
            return walk(minmax(e))
        if isinstance(e, rho):
            return rho(walk(e.args[0]), w_for(e.args[1]))
        if isinstance(e, (sp.Abs, sp.sign)):
            return e.func(w_for(e.args[0]))
        if isinstance(e, sp.Heaviside):
            return sp.Heaviside(w_for(e.args[0]), *e.args[1:])
        if isinstance(e, sp.Piecewise):
            pairs = []
            for ex, cond in e.args:
                pairs.append((walk(ex), walk_cond(cond)))
            return sp.Piecewise(*pairs)
        if isinstance(e, sp.Pow):
            base, ex = e.args
            if _depends(base, gvars) and not ex.is_integer and not _depends(ex, gvars):
                # a non-integer power has a branch point where its base vanishes
                try:
                    return sp.Pow(w_for(base), ex)
                except QuadratureError:
                    pass
            return sp.Pow(walk(base), walk(ex))
        if e.args:
            return e.func(*[walk(a) for a in e.args])
        return e

    def walk_cond(cond):
        if cond in (sp.true, sp.false) or not _depends(cond, gvars):
            return cond
        if isinstance(cond, sp.core.relational.Relational):
            w = w_for(cond.lhs - cond.rhs)
            return cond.func(w, 0)
        if isinstance(cond, (sp.And, sp.Or, sp.Not)):
            return cond.func(*[walk_cond(c) for c in cond.args])
        raise QuadratureError(f"cannot locate the breakpoints of the condition {cond}")

    return walk(expr), ws, coeffs


def homogeneity_degree(expr, gvars):
    r"""Degree ``d`` with ``f(λx) = λ^d f(x)`` for all ``λ > 0``, or ``None``.

    Decided structurally (products, powers, :math:`\rho_\alpha`, ``Abs``,
    ``Heaviside``, ``sign``, homogeneous polynomials); ``None`` means "not
    recognised as homogeneous", never a wrong degree.

    >>> from symbolic_mf.functions import u, v
    >>> a = sp.Symbol("alpha")
    >>> homogeneity_degree(rho(a, u) * rho(a, -v), (u, v))
    2*alpha
    >>> homogeneity_degree(sp.tanh(u) * v, (u, v)) is None
    True
    """
    gvars = tuple(gvars)

    def deg(e):
        if not _depends(e, gvars):
            return sp.S.Zero
        if e in gvars:
            return sp.S.One
        if isinstance(e, sp.Mul):
            total = sp.S.Zero
            for a in e.args:
                d = deg(a)
                if d is None:
                    return None
                total += d
            return total
        if isinstance(e, sp.Add):
            ds = [deg(a) for a in e.args]
            if any(d is None for d in ds):
                return None
            if all(sp.simplify(d - ds[0]) == 0 for d in ds[1:]):
                return ds[0]
            return None
        if isinstance(e, sp.Pow):
            base, ex = e.args
            if _depends(ex, gvars):
                return None
            d = deg(base)
            return None if d is None else d * ex
        if isinstance(e, rho):
            if _depends(e.args[0], gvars):
                return None
            d = deg(e.args[1])
            return None if d is None else d * e.args[0]
        if isinstance(e, sp.Abs):
            return deg(e.args[0])
        if isinstance(e, (sp.Heaviside, sp.sign)):
            return sp.S.Zero if deg(e.args[0]) is not None else None
        if isinstance(e, (sp.Max, sp.Min)):
            ds = [deg(a) for a in e.args]
            if any(d is None for d in ds) or any(sp.simplify(d - ds[0]) != 0 for d in ds):
                return None
            return ds[0]
        return None

    return deg(sp.sympify(expr))


# ---------------------------------------------------------------------------
# Compiled expressions

_SPECIAL = (GaussianExpectation, sp.Integral, sp.Derivative, sp.Sum)


def _needs_numeric(e) -> bool:
    return bool(e.atoms(*_SPECIAL)) or isinstance(e, _SPECIAL) or any(
        isinstance(x, _SPECIAL) for x in sp.preorder_traversal(e)
    )


def _top_special(expr):
    """Special nodes of expr not contained in another special node."""
    found = []

    def walk(e):
        if isinstance(e, _SPECIAL):
            found.append(e)
            return
        for a in e.args:
            walk(a)

    walk(expr)
    return list(dict.fromkeys(found))


def _sorted_symbols(syms):
    return sorted(syms, key=lambda s: s.name)


class Compiled:
    """A compiled expression: call with an environment ``{Symbol: mp value}``."""

    def __init__(self, expr):
        self.expr = expr
        self.symbols = _sorted_symbols(expr.free_symbols)
        nodes = _top_special(expr)
        self.nodes = [(sp.Dummy(f"node{i}"), _compile_node(n)) for i, n in enumerate(nodes)]
        outer = expr.xreplace({n: d for n, (d, _) in zip(nodes, self.nodes)})
        self._f = _lambdify(self.symbols + [d for d, _ in self.nodes], outer)

    def __call__(self, env: Mapping):
        node_vals = [node(env) for _, node in self.nodes]
        return self._f(*[env[s] for s in self.symbols], *node_vals)


@functools.lru_cache(maxsize=2048)
def compile_expr(expr) -> Compiled:
    """Compile (and cache) an expression for numerical evaluation."""
    return Compiled(sp.sympify(expr))


def _compile_node(node):
    if isinstance(node, GaussianExpectation):
        return _CompiledExpectation(node)
    if isinstance(node, sp.Integral):
        return _CompiledIntegral(node)
    if isinstance(node, sp.Derivative):
        return _CompiledDerivative(node)
    if isinstance(node, sp.Sum):
        return _CompiledSum(node)
    raise TypeError(node)


class _CompiledExpectation:
    def __init__(self, node: GaussianExpectation):
        gvars = node.variables
        n = len(gvars)
        if n > 2:
            raise QuadratureError(
                f"{n}-dimensional Gaussian expectations are not reduced automatically; "
                "give the identity a numeric recipe"
            )
        self.n = n
        params = _sorted_symbols(node.free_symbols)
        self.params = params
        lifted, ws, coeffs = lift_kinks(node.expr, gvars)
        self.phi = _lambdify([*gvars, ws, *params], lifted)
        self.coeffs = [_lambdify(params, sp.Tuple(*c)) for c in coeffs]
        cov = node.covariance
        self.cov = _lambdify(params, sp.Tuple(*[cov[i, j] for i in range(n) for j in range(i, n)]))
        deg = homogeneity_degree(node.expr, gvars) if n == 2 else None
        self.degree = None if deg is None else _lambdify(params, deg)

    def __call__(self, env):
        p = [env[s] for s in self.params]
        kinks = [tuple(c(*p)) for c in self.coeffs]
        cov = self.cov(*p)
        if self.n == 1:
            return Q.gaussian_expectation_1d(lambda x, w: self.phi(x, w, *p), cov[0], kinks)
        q1, c12, q2 = cov
        d = None if self.degree is None else self.degree(*p)
        return Q.gaussian_expectation_2d(lambda a, b, w: self.phi(a, b, w, *p), q1, q2, c12, d, kinks)


class _CompiledIntegral:
    def __init__(self, node: sp.Integral):
        if len(node.limits) != 1 or len(node.limits[0]) != 3:
            # nest: Integral(f, (x, a, b), (y, c, d)) = Integral(Integral(f, (x, a, b)), (y, c, d))
            if all(len(l) == 3 for l in node.limits) and len(node.limits) > 1:
                inner = sp.Integral(node.function, node.limits[0])
                node = sp.Integral(inner, *node.limits[1:])
            else:
                raise QuadratureError(f"only definite integrals can be evaluated numerically: {node}")
        x, a, b = node.limits[0]
        self.x = x
        body = node.function
        params = _sorted_symbols((body.free_symbols - {x}) | a.free_symbols | b.free_symbols)
        self.params = params
        self.inner = None
        if _needs_numeric(body):
            # integrand itself needs quadrature: evaluate it pointwise
            self.inner = compile_expr(body)
            self.kinks = []
            self.phi = None
        else:
            lifted, ws, coeffs = lift_kinks(body, (x,))
            self.phi = _lambdify([x, ws, *params], lifted)
            self.kinks = [_lambdify(params, sp.Tuple(*c)) for c in coeffs]
        self.limits = _lambdify(params, sp.Tuple(a, b))

    def __call__(self, env):
        p = [env[s] for s in self.params]
        a, b = self.limits(*p)
        sign = 1
        if a > b:
            a, b, sign = b, a, -1
        if self.inner is not None:
            def f(t):
                e = dict(env)
                e[self.x] = t
                return self.inner(e)
            return sign * Q.integrate(f, [a, b])
        kinks = [tuple(k(*p)) for k in self.kinks]
        return sign * Q.integrate_lifted(lambda t, w: self.phi(t, w, *p), kinks, a, b)


class _CompiledDerivative:
    def __init__(self, node: sp.Derivative):
        self.inner = compile_expr(node.expr)
        self.order = [(s, int(n)) for s, n in node.variable_count]
        if len(self.order) != 1:
            raise QuadratureError("numerical derivatives in several variables are not supported")

    def __call__(self, env):
        (s, n), = self.order

        def f(t):
            e = dict(env)
            e[s] = t
            return self.inner(e)

        return mp.diff(f, env[s], n)


class _CompiledSum:
    def __init__(self, node: sp.Sum):
        if len(node.limits) != 1:
            node = sp.Sum(sp.Sum(node.function, node.limits[0]), *node.limits[1:])
        k, a, b = node.limits[0]
        self.k = k
        self.term = compile_expr(node.function)
        params = _sorted_symbols(a.free_symbols | b.free_symbols)
        self.params = params
        self.limits = (a, b)

    def __call__(self, env):
        a, b = [to_mp(x.subs({s: sp.nsimplify(env[s]) for s in x.free_symbols})) for x in self.limits]

        def term(kk):
            e = dict(env)
            e[self.k] = kk
            return self.term(e)

        if b != mp.inf and b - a <= 10**5:
            return mp.fsum(term(mp.mpf(i)) for i in range(int(a), int(b) + 1))
        return mp.nsum(term, [a, b])


def evaluate(expr, values: Mapping = None, dps: int = 30):
    """Evaluate ``expr`` at the exact point ``values`` with ``dps`` digits.

    ``values`` maps symbols (or their names) to exact SymPy numbers (or
    anything :func:`sympy.sympify` reads exactly, e.g. ``"1/3"``).  Leaves
    ``mp.dps`` as it found it.  Errors from the mathematics (a pole, a
    divergent integral, a non-PSD covariance) propagate as typed exceptions.

    >>> c = sp.Symbol("c")
    >>> from symbolic_mf.functions import bivariate_expectation, u, v
    >>> print(mp.nstr(evaluate(bivariate_expectation(rho(1, u) * rho(1, v), c), {c: 0}, 20), 15))
    0.159154943091895
    """
    expr = sp.sympify(expr)
    values = dict(values or {})
    by_name = {str(k): v for k, v in values.items()}
    compiled = compile_expr(expr)
    with mp.workdps(dps):
        env = {}
        for s in compiled.symbols:
            if s in values:
                val = values[s]
            elif s.name in by_name:
                val = by_name[s.name]
            else:
                raise DomainError(s.name, "missing", "a value for every free symbol")
            env[s] = to_mp(sp.sympify(val))
        result = compiled(env)
        return +result if isinstance(result, (mp.mpf, mp.mpc)) else mp.mpmathify(result)
