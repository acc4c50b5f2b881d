r"""Optional rigorous referee: ball arithmetic with python-flint (Arb).

The two-precision verifier (:mod:`symbolic_mf.verify`) gathers evidence; this
module gives *proofs about enclosures*.  Each side of an identity is enclosed
at an exact sample point in a ball (midpoint, radius) that certainly contains
its exact value:

* closed forms are evaluated in ball arithmetic (``flint.acb``);
* a one-dimensional Gaussian expectation :math:`\mathbb E_{z\sim\mathcal
  N(0,q)}[f(z)]` is cut at :math:`\pm R`: the finite part is split at the
  zeros of the kink arguments (exact rationals at a rational point) and each
  piece is integrated by ``acb.integral``; the tails are bounded *explicitly*
  from a growth envelope :math:`|f(z)| \le A|z|^m` for :math:`|z| \ge R`
  (derived structurally from the expression) and the Gaussian tail
  :math:`\int_X^\infty x^m\varphi(x)\,dx = 2^{m/2}\Gamma(\tfrac{m+1}2, \tfrac{X^2}2)/(2\sqrt\pi)`,
  added to the ball as its radius;
* a two-dimensional expectation of a positively homogeneous integrand of
  degree :math:`d > -2` whose kinks lie on the axes :math:`u = 0`, :math:`v = 0`
  (every catalogue kernel) is reduced exactly: in the chart
  :math:`|v| \le |u|` put :math:`(u, v) = x(\sigma, \sigma\tau)`, integrate
  :math:`x` in closed form, and what is left is

  .. math:: \frac{2^{d/2}\Gamma(d/2+1)}{2\pi\sqrt{1-c^2}}\int_{-1}^{1}
            f(\sigma, \sigma\tau)\Big(\frac{1 - 2c\tau + \tau^2}{1-c^2}\Big)^{-d/2-1} d\tau,

  and the same with :math:`u, v` swapped: the only kink is :math:`\tau = 0`,
  exactly.

On every piece each kink argument has a known sign, so :math:`\rho_\alpha`,
``Abs``, ``sign`` and ``Heaviside`` are resolved symbolically; an integrable
end singularity :math:`y^e g(y)` (:math:`e > -1`) is split off at
:math:`y = \epsilon` and bounded by
:math:`g([0,\epsilon])\,\epsilon^{e+1}/(e+1)` (the enclosure of ``g`` on the
whole interval: a rigorous mean-value bound), the rest integrated by
``acb.integral``.  Every integrand forwards ``acb.integral``'s ``analytic``
flag to the functions with branch cuts (``pow``, ``sqrt``, ``log``,
``real_abs``... and guarded ``besselk``, ``asin``, ``2F1``): without it Arb
would return tight balls around wrong values.

Verdict per point: **disjoint** enclosures *prove* the identity false there
(``REFUTED``); **overlapping** enclosures are rigorous agreement to the width
of the balls (``AGREE``: both exact values lie in an interval of that width,
which is evidence, not a proof of equality); a side the referee cannot
enclose (a ``Derivative``, an ``Integral``, an integrand outside the class
above, a non-finite ball) leaves the point ``UNDECIDED``.

>>> import sympy as sp
>>> from symbolic_mf.functions import rho, expectation, z
>>> a = sp.Symbol("alpha", real=True)
>>> lhs = expectation(rho(a, z) ** 2)
>>> good = 2 ** (a - 1) * sp.gamma(a + sp.S.Half) / sp.sqrt(sp.pi)
>>> pt = {a: sp.Rational(-1, 3)}
>>> L, R = enclose(lhs, pt), enclose(good, pt)
>>> L.overlaps(R), L.rad() < 1e-25
(True, True)
>>> enclose(sp.Rational(1001, 1000) * good, pt).overlaps(L)    # a wrong right side: disjoint
False
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional

import sympy as sp

from .errors import MissingDependencyError, SymbolicMFError
from .functions import GaussianExpectation, rho

__all__ = ["referee", "enclose", "RigorousVerdict", "RigorousPoint", "have_flint", "require_flint", "Unsupported"]


def _flint():
    try:
        import flint  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "python-flint", "the rigorous referee (verify --rigorous)",
            "pip install 'symbolic_mf[rigorous]'") from None
    return flint


def require_flint():
    """Raise :class:`~symbolic_mf.errors.MissingDependencyError` unless python-flint imports."""
    _flint()


def have_flint() -> bool:
    """True if python-flint can be imported (the referee is available)."""
    try:
        _flint()
    except MissingDependencyError:
        return False
    return True


class Unsupported(SymbolicMFError):
    """The referee cannot enclose this expression (the point stays UNDECIDED)."""


class _prec:
    """Set flint's working precision (bits) and restore it afterwards."""

    def __init__(self, bits):
        self.bits = bits

    def __enter__(self):
        ctx = _flint().ctx
        self.saved = ctx.prec
        ctx.prec = self.bits

    def __exit__(self, *exc):
        _flint().ctx.prec = self.saved


# ---------------------------------------------------------------------------
# SymPy -> ball functions


def _nan():
    return _flint().acb("nan")


def _number(e):
    """An exact SymPy number as an acb ball."""
    fl = _flint()
    acb, arb = fl.acb, fl.arb
    if e.is_Integer:
        return acb(int(e))
    if e.is_Rational:
        return acb(int(e.p)) / int(e.q)
    if e.is_Float:
        r = sp.Rational(e)  # a binary float is an exact rational
        return acb(int(r.p)) / int(r.q)
    if e is sp.pi:
        return acb(arb.pi())
    if e is sp.E:
        return acb(1).exp()
    if e is sp.EulerGamma:
        return acb(arb.const_euler())
    if e is sp.I:
        return acb(0, 1)
    raise Unsupported(f"cannot enclose the number {e}")


def _rho_ball(a, x, analytic):
    """rho_a(x) = max(0, x)^a on a ball (non-analytic at 0: the flag is honoured)."""
    acb = _flint().acb
    xr = x.real
    if x.imag.is_zero():
        if xr > 0:
            return x.pow(a, analytic=analytic)
        if xr < 0:
            return acb(0)
    if analytic:
        return _nan()
    # straddles 0, not asked for analyticity: the hull of [0, max^a]
    if a.real > 0 and a.imag.is_zero():
        hi = xr.upper()
        top = _flint().arb(hi) ** a.real if hi > 0 else _flint().arb(0)
        return acb(_flint().arb(0).union(top))
    if a.is_zero():
        return acb(_flint().arb(0).union(_flint().arb(1)))
    return _nan()


def _guard(cut_ok):
    """Evaluate a function with a branch cut only where ``cut_ok(x)`` proves it analytic."""

    def deco(fn):
        def g(x, analytic, *rest):
            if analytic and not cut_ok(x):
                return _nan()
            return fn(x, *rest)
        return g
    return deco


def _re_positive(x):
    return bool(x.real > 0)


def _off_real_cut(lo, hi):
    def ok(x):
        # analytic unless x may touch the real rays (-oo, lo] or [hi, oo)
        if not (x.imag.contains(0)):
            return True
        return bool(x.real > lo) and bool(x.real < hi)
    return ok


_ELEMENTARY = {
    sp.exp: lambda x, a: x.exp(),
    sp.sin: lambda x, a: x.sin(),
    sp.cos: lambda x, a: x.cos(),
    sp.tan: lambda x, a: x.tan(),
    sp.sinh: lambda x, a: x.sinh(),
    sp.cosh: lambda x, a: x.cosh(),
    sp.tanh: lambda x, a: x.tanh(),
    sp.sech: lambda x, a: x.sech(),
    sp.erf: lambda x, a: x.erf(),
    sp.erfc: lambda x, a: x.erfc(),
    sp.gamma: lambda x, a: x.gamma(),
    sp.atan: _guard(lambda x: x.real.contains(0) is False or bool(abs(x.imag) < 1))(lambda x: x.atan()),
    sp.asin: _guard(_off_real_cut(-1, 1))(lambda x: x.asin()),
    sp.acos: _guard(_off_real_cut(-1, 1))(lambda x: x.acos()),
    sp.log: lambda x, a: x.log(analytic=a),
    sp.loggamma: _guard(_re_positive)(lambda x: x.lgamma()),
    sp.Abs: lambda x, a: x.real_abs(analytic=a),
    sp.sign: lambda x, a: x.real_sgn(analytic=a),
    sp.Heaviside: lambda x, a: x.real_heaviside(analytic=a),
}


def _compile(e, y, env=None):
    """``F(t, analytic) -> acb`` for the SymPy expression ``e`` in the variable ``y``.

    ``env`` maps further symbols to fixed balls (values of inner nodes).
    Constant subtrees are enclosed once, at compile time (the caller fixes
    the precision around compilation and evaluation).
    """
    env = env or {}
    free = e.free_symbols - set(env)
    if y is not None:
        free.discard(y)
    if free:
        raise Unsupported(f"free symbols {sorted(map(str, free))} left in {e}")
    if y is None or not e.has(y):
        val = _compile_tree(e, None, env)(None, False)
        return lambda t, a: val
    return _compile_tree(e, y, env)


def _compile_tree(e, y, env):
    fl = _flint()
    acb = fl.acb
    if y is not None and e == y:
        return lambda t, a: t
    if e in env:
        val = env[e]
        return lambda t, a: val
    if e.is_Number or e.is_NumberSymbol or e is sp.I:
        val = _number(e)
        return lambda t, a: val
    if y is not None and not e.has(y):
        val = _compile_tree(e, None, env)(None, False)
        return lambda t, a: val
    sub = [_compile_tree(x, y, env) for x in e.args] if not isinstance(e, (sp.hyper, GaussianExpectation)) else None
    if isinstance(e, sp.Add):
        def add(t, a):
            s = sub[0](t, a)
            for f in sub[1:]:
                s = s + f(t, a)
            return s
        return add
    if isinstance(e, sp.Mul):
        def mul(t, a):
            s = sub[0](t, a)
            for f in sub[1:]:
                s = s * f(t, a)
            return s
        return mul
    if isinstance(e, sp.Pow):
        fb, fe = sub
        ex = e.exp
        if ex.is_Integer:
            n = int(ex)
            return lambda t, a: fb(t, a) ** n
        if ex == sp.S.Half:
            return lambda t, a: fb(t, a).sqrt(analytic=a)
        return lambda t, a: fb(t, a).pow(fe(t, a), analytic=a)
    if isinstance(e, rho):
        fa, fx = sub
        return lambda t, a: _rho_ball(fa(t, a), fx(t, a), a)
    if isinstance(e, sp.besselk):
        fn, fx = sub
        return lambda t, a: (_nan() if a and not _re_positive(fx(t, a)) else fx(t, a).bessel_k(fn(t, a)))
    if isinstance(e, sp.hyper):
        fa = [_compile_tree(x, y, env) for x in e.ap]
        fb = [_compile_tree(x, y, env) for x in e.bq]
        fz = _compile_tree(e.argument, y, env)
        p, q = len(fa), len(fb)

        def hyp(t, a):
            zz = fz(t, a)
            aa, bb = [f(t, a) for f in fa], [f(t, a) for f in fb]
            if p == 2 and q == 1:
                if a and not _off_real_cut(-math.inf, 1)(zz):
                    return _nan()
                return zz.hypgeom_2f1(aa[0], aa[1], bb[0])
            if p == 1 and q == 1:
                return zz.hypgeom_1f1(aa[0], bb[0])
            if p == 0 and q == 1:
                return zz.hypgeom_0f1(bb[0])
            if p <= q:
                return zz.hypgeom(aa, bb)
            raise Unsupported(f"hypergeometric {p}F{q} (only pFq with p <= q, and 2F1)")
        return hyp
    for fn, impl in _ELEMENTARY.items():
        if isinstance(e, fn) and len(sub) == 1:
            f0 = sub[0]
            return lambda t, a, f0=f0, impl=impl: impl(f0(t, a), a)
    if isinstance(e, (sp.Max, sp.Min)) and len(sub) == 2:
        f0, f1 = sub
        meth = "real_max" if isinstance(e, sp.Max) else "real_min"
        return lambda t, a: getattr(f0(t, a), meth)(f1(t, a), analytic=a)
    raise Unsupported(f"no ball enclosure for {type(e).__name__}: {sp.sstr(e)[:80]}")


# ---------------------------------------------------------------------------
# Integration of a resolved integrand in the offset y from a kink


_Y = sp.Symbol("y", positive=True)


def _integral(F, lo, hi):
    """``acb.integral`` of ``F``; an exception inside the callback becomes :class:`Unsupported`
    (flint would otherwise report a SystemError)."""
    errors = []

    def G(t, analytic):
        if errors:
            return _nan()
        try:
            return F(t, analytic)
        except Exception as e:  # noqa: BLE001 - re-raised below with its type
            errors.append(e)
            return _nan()

    val = _flint().acb.integral(G, lo, hi)
    if errors:
        e = errors[0]
        raise Unsupported(f"integrand could not be enclosed: {type(e).__name__}: {e}")
    return val


def _split_power(expr, y):
    """``expr = y**e * rest`` with ``rest`` free of bare powers of ``y``."""
    e = sp.S.Zero
    rest = []
    for f in sp.Mul.make_args(expr):
        if f == y:
            e += 1
        elif f.is_Pow and f.base == y:
            if not f.exp.is_number:
                raise Unsupported(f"symbolic exponent {f.exp} of the offset")
            e += f.exp
        else:
            rest.append(f)
    return e, sp.Mul(*rest)


def _integrate_offset(expr, L, bits):
    r"""Enclose :math:`\int_0^L h(y)\,dy` where ``expr`` is ``h`` in ``_Y`` (regular for y > 0).

    ``L`` is an exact positive SymPy number.  Substituting ``y = L t``
    keeps the integration interval exactly ``[0, 1]``; a power ``y^e``
    (``e`` not a non-negative integer) is split off near ``t = 0``.
    """
    fl = _flint()
    acb, arb = fl.acb, fl.arb
    expr = sp.sympify(expr)
    if expr == 0:
        return acb(0)
    if isinstance(expr, sp.Add):
        return sum((_integrate_offset(x, L, bits) for x in expr.args), acb(0))
    e, g = _split_power(expr, _Y)
    if isinstance(g, sp.Add) and not (e.is_integer and e >= 0):
        # distribute so every term carries its own power of y
        return sum((_integrate_offset(_Y ** e * x, L, bits) for x in sp.expand_mul(g).args), acb(0))
    t = sp.Symbol("t", positive=True)
    Lb = _number(sp.sympify(L))
    h = sp.sympify(expr).xreplace({_Y: L * t})
    if e.is_integer and e >= 0:
        F = _compile(h, t)
        return Lb * _integral(F, 0, 1)
    if e <= -1:
        raise Unsupported(f"the integrand behaves like y^{e} at a kink: the integral diverges")
    # y^e g(y) = L^e t^e g(L t); [0, eps] bounded by g's hull, [eps, 1] by acb.integral
    eb = _number(e)
    k = int(math.ceil((bits + 20) / float(e + 2)))
    eps = arb(2) ** (-k)  # exact dyadic
    G = _compile(g.xreplace({_Y: L * t}), t)
    hull = acb(arb(0).union(eps))
    g_hull = G(hull, False)
    near = g_hull * acb(eps).pow(eb + 1) / (eb + 1)
    F = _compile(h, t)
    far = _integral(F, acb(eps), 1)
    return Lb * (near * Lb.pow(eb) + far)


# ---------------------------------------------------------------------------
# Sign resolution of lifted integrands


def _resolve(expr, ws, forms, signs):
    """Replace rho/Abs/sign/Heaviside/powers of kink arguments by their branch on a piece."""
    sg = dict(zip(ws, signs))
    pos = {w: sp.expand(s * f) for w, f, s in zip(ws, forms, signs)}

    def R(e):
        if e in sg:
            return sg[e] * pos[e]
        if isinstance(e, rho) and e.args[1] in sg:
            w = e.args[1]
            return pos[w] ** R(e.args[0]) if sg[w] > 0 else sp.S.Zero
        if isinstance(e, sp.Abs) and e.args[0] in sg:
            return pos[e.args[0]]
        if isinstance(e, sp.sign) and e.args[0] in sg:
            return sp.Integer(sg[e.args[0]])
        if isinstance(e, sp.Heaviside) and e.args[0] in sg:
            return sp.S.One if sg[e.args[0]] > 0 else sp.S.Zero
        if isinstance(e, sp.Pow) and e.base in sg:
            w, p = e.base, R(e.exp)
            if sg[w] > 0:
                return pos[w] ** p
            if p.is_integer:
                return (-1) ** p * pos[w] ** p
            return pos[w] ** p * sp.exp(sp.I * sp.pi * p)  # principal branch of (-x)^p
        if e.args:
            return e.func(*[R(a) for a in e.args])
        return e

    out = R(expr)
    if out.has(rho, sp.Piecewise):
        raise Unsupported("kink functions left after sign resolution")
    return out


def _piece(lifted, ws, coeffs_at, factor, L, bits):
    """Integrate one piece parametrised by the offset ``_Y`` in [0, L].

    ``coeffs_at`` gives each kink argument as an affine expression in ``_Y``
    (exactly zero at ``_Y = 0`` if the kink vanishes there).
    """
    mid = L / 2
    signs = []
    for f in coeffs_at:
        val = f.xreplace({_Y: mid})
        if val == 0:
            # the kink argument vanishes identically on the piece
            signs.append(1)
            continue
        signs.append(1 if val > 0 else -1)
    expr = _resolve(lifted, ws, coeffs_at, signs) * factor
    return _integrate_offset(sp.expand_power_base(expr, force=False), L, bits)


# ---------------------------------------------------------------------------
# Growth envelopes for the Gaussian tails


def _envelope(e, x, R):
    """``(A, m)`` (A an arb upper bound) with ``|e(x)| <= A |x|^m`` for all real ``|x| >= R >= 1``."""
    fl = _flint()
    arb = fl.arb
    if not e.has(x):
        return abs(_compile(e, None)(None, False)).upper(), 0
    if e == x:
        return arb(1), 1
    if isinstance(e, sp.Add):
        parts = [_envelope(a, x, R) for a in e.args]
        return sum((p[0] for p in parts), arb(0)), max(p[1] for p in parts)
    if isinstance(e, sp.Mul):
        A, m = arb(1), 0
        for a in e.args:
            Ai, mi = _envelope(a, x, R)
            A, m = A * Ai, m + mi
        return A, m
    affine = _affine(e, x)
    if affine is not None:
        k1, k0 = affine
        return _arb(abs(k1) + abs(k0) / R).upper(), 1

    def power_of_affine(w, p):
        aff = _affine(w, x)
        if aff is None:
            return None
        k1, k0 = aff
        if k1 == 0:
            return None
        if p >= 0:
            return (_arb(abs(k1) + abs(k0) / R) ** _arb(p)).upper(), p
        # |w| >= |k1||x| - |k0| >= |k1||x|/2 when R >= 2|k0/k1|
        if R < 2 * abs(k0 / k1):
            raise Unsupported("tail radius inside a kink")
        return ((_arb(abs(k1)) / 2) ** _arb(p)).upper(), p

    if isinstance(e, sp.Pow) and e.exp.is_number:
        p = sp.Rational(e.exp) if e.exp.is_Rational else None
        if p is None:
            raise Unsupported(f"exponent {e.exp}")
        base = e.base.args[0] if isinstance(e.base, sp.Abs) else e.base
        got = power_of_affine(base, p)
        if got is not None:
            return got
        if isinstance(e.base, (sp.cosh,)) and p < 0:
            return arb(1), 0
        if p.is_integer and p >= 0:
            A, m = _envelope(e.base, x, R)
            return A ** int(p), m * int(p)
        raise Unsupported(f"no growth envelope for {e}")
    if isinstance(e, rho):
        a = e.args[0]
        if a.has(x) or not a.is_Rational:
            raise Unsupported(f"no growth envelope for {e}")
        got = power_of_affine(e.args[1], sp.Rational(a))
        if got is not None:
            return got
    if isinstance(e, sp.Abs):
        return _envelope(e.args[0], x, R)
    if isinstance(e, (sp.sign, sp.Heaviside, sp.sin, sp.cos, sp.tanh, sp.erf, sp.sech)):
        return arb(1), 0
    if isinstance(e, (sp.erfc,)):
        return arb(2), 0
    if isinstance(e, sp.atan):
        return arb(2), 0
    raise Unsupported(f"no growth envelope for {type(e).__name__}")


def _affine(e, x):
    """``(k1, k0)`` exact if ``e`` is affine in ``x`` with numeric coefficients, else None."""
    try:
        poly = sp.Poly(sp.expand(e), x)
    except sp.PolynomialError:
        return None
    if poly.degree() > 1 or not all(c.is_number for c in poly.all_coeffs()):
        return None
    k1 = poly.coeff_monomial(x)
    k0 = poly.coeff_monomial(1)
    if not (k1.is_real and k0.is_real):
        return None
    return _exact(k1), _exact(k0)


def _exact(x):
    """``x`` with every Float replaced by the rational it stands for (never simplified:
    ``nsimplify`` would turn -67108863/134217728 into -1/2)."""
    x = sp.sympify(x)
    floats = x.atoms(sp.Float)
    return x.xreplace({f: sp.Rational(f) for f in floats}) if floats else x


def _arb(x):
    """An exact real SymPy number as an arb ball."""
    return _number(sp.sympify(x)).real


def _gauss_tail(m, X):
    r""":math:`\int_X^\infty x^m \varphi(x)\,dx` as an arb ball (upper incomplete Gamma)."""
    arb = _flint().arb
    s = (_arb(m) + 1) / 2
    return arb(2) ** (_arb(m) / 2) * (arb(X) ** 2 / 2).gamma_upper(s) / (2 * arb.pi().sqrt())


# ---------------------------------------------------------------------------
# Gaussian expectations


def _expect_1d(node, bits):
    from .numeric import lift_kinks

    fl = _flint()
    acb, arb = fl.acb, fl.arb
    zv = node.variables[0]
    q = _exact(node.covariance[0, 0])
    if not (q.is_number and q > 0):
        raise Unsupported(f"variance {q}: need a positive number")
    f = node.expr
    lifted, ws, coeffs = lift_kinks(f, (zv,))
    coeffs = [(sp.sympify(k1), sp.sympify(k0)) for k1, k0 in coeffs]
    roots = sorted({-k0 / k1 for k1, k0 in coeffs if k1 != 0})
    # tail radius: the envelope holds for |z| >= R0; raise X until the tail is negligible
    R0 = max([sp.Integer(1)] + [2 * abs(r) + 1 for r in roots])
    A, m = _envelope(f, zv, sp.ceiling(R0))
    sq = math.sqrt(float(q))
    X = max(float(R0) / sq, math.sqrt(2 * (bits + 30) * math.log(2)))
    target = arb(2) ** (-(bits + 10))
    for _ in range(60):
        Rz = sp.Integer(math.ceil(X * sq))
        tail = 2 * A * _arb(q) ** (_arb(m) / 2) * _gauss_tail(m, arb(int(Rz)) / _arb(q).sqrt())
        if tail < target:
            break
        X *= 1.15
    else:
        raise Unsupported("the Gaussian tail bound does not become small")
    A2, m2 = _envelope(f, zv, Rz)
    tail = 2 * A2 * _arb(q) ** (_arb(m2) / 2) * _gauss_tail(m2, arb(int(Rz)) / _arb(q).sqrt())
    ends = [-Rz] + [r for r in roots if -Rz < r < Rz] + [Rz]
    kink_pts = set(roots)
    density = sp.exp(-zv ** 2 / (2 * q)) / sp.sqrt(2 * sp.pi * q)
    total = acb(0)
    for a, b in zip(ends[:-1], ends[1:]):
        halves = []
        if a in kink_pts and b in kink_pts:
            mid = (a + b) / 2
            halves = [(a, 1, (b - a) / 2), (b, -1, (b - a) / 2)]
        elif b in kink_pts:
            halves = [(b, -1, b - a)]
        else:
            halves = [(a, 1, b - a)]
        for x0, s, L in halves:
            zz = x0 + s * _Y
            forms = [sp.expand(k1 * zz + k0) for k1, k0 in coeffs]
            fac = density.xreplace({zv: zz})
            lif = lifted.xreplace({zv: zz})
            total += _piece(lif, ws, forms, fac, L, bits)
    rad = tail.upper()
    return total + acb(arb(0, rad), arb(0, rad))


def _expect_2d(node, bits):
    from .numeric import homogeneity_degree, lift_kinks

    fl = _flint()
    acb = fl.acb
    u_, v_ = node.variables
    cov = node.covariance
    q1, c12, q2 = (_exact(cov[0, 0]), _exact(cov[0, 1]), _exact(cov[1, 1]))
    if not all(x.is_number for x in (q1, q2, c12)) or not (q1 > 0 and q2 > 0):
        raise Unsupported("two-dimensional expectation needs positive numeric variances")
    c = sp.radsimp(c12 / sp.sqrt(q1 * q2))
    f = node.expr.xreplace({u_: sp.sqrt(q1) * u_, v_: sp.sqrt(q2) * v_})
    if abs(c) == 1:
        # degenerate pair: v = c u exactly, a one-dimensional expectation
        zz = sp.Dummy("z", real=True)
        return _expect_1d(GaussianExpectation(f.xreplace({u_: zz, v_: c * zz}), [zz], [[1]]), bits)
    if not (abs(c) < 1):
        raise Unsupported(f"correlation {c} outside [-1, 1]")
    d = homogeneity_degree(f, (u_, v_))
    if d is None or not d.is_number:
        raise Unsupported("two-dimensional integrand not positively homogeneous")
    if not d > -2:
        raise Unsupported(f"homogeneous of degree {d} <= -2: the expectation diverges")
    lifted, ws, coeffs = lift_kinks(f, (u_, v_))
    for ku, kv, k0 in coeffs:
        if k0 != 0 or (ku != 0 and kv != 0):
            raise Unsupported("kinks off the axes u = 0, v = 0")
    total = acb(0)
    for sigma in (1, -1):
        for s in (1, -1):
            tau = s * _Y
            # 1 - 2c tau + tau^2 written as (1 - y)^2 + 2y(1 - s c): near |c| = 1 and y = 1 the
            # expanded form is a cancellation that a ball cannot resolve (it then contains 0, the
            # branch point of the power, and acb.integral subdivides without end)
            Pt = ((1 - _Y) ** 2 + 2 * _Y * (1 - s * c)) / (1 - c ** 2)
            for U, V in ((sigma, sigma * tau), (sigma * tau, sigma)):
                lif = lifted.xreplace({u_: U, v_: V})
                forms = [sp.expand(ku * U + kv * V) for ku, kv, _ in coeffs]
                total += _piece(lif, ws, forms, Pt ** (-(d / 2 + 1)), sp.Integer(1), bits)
    K = sp.Integer(2) ** (d / 2) * sp.gamma(d / 2 + 1) / (2 * sp.pi * sp.sqrt(1 - c ** 2))
    return _compile(K, None)(None, False) * total


def _enclose_expr(expr, bits):
    nodes = []

    def walk(e):
        if isinstance(e, GaussianExpectation):
            nodes.append(e)
            return
        if isinstance(e, (sp.Derivative, sp.Integral)):
            raise Unsupported(f"{type(e).__name__} (the referee encloses closed forms and Gaussian expectations)")
        for a in e.args:
            walk(a)

    expr = sp.sympify(expr)
    if expr.has(sp.Sum):
        expr = expr.doit()
    walk(expr)
    env = {}
    for i, n in enumerate(dict.fromkeys(nodes)):
        k = len(n.variables)
        if k == 1:
            val = _expect_1d(n, bits)
        elif k == 2:
            val = _expect_2d(n, bits)
        else:
            raise Unsupported(f"{k}-dimensional Gaussian expectation")
        d = sp.Dummy(f"E{i}")
        env[d] = val
        expr = expr.xreplace({n: d})
    return _compile(expr, None, env)(None, False)


def enclose(expr, point: Optional[Mapping] = None, dps: int = 30):
    r"""A ball (``flint.acb``) certainly containing the exact value of ``expr`` at ``point``.

    ``point`` maps symbols to exact SymPy numbers.  Raises :class:`Unsupported`
    for expressions outside the referee's class and
    :class:`~symbolic_mf.errors.MissingDependencyError` without python-flint.

    >>> import sympy as sp
    >>> from symbolic_mf.functions import bivariate_expectation, rho, u, v
    >>> c = sp.Symbol("c")
    >>> ball = enclose(bivariate_expectation(rho(1, u) * rho(1, v), c), {c: sp.Rational(1, 2)})
    >>> exact = enclose((sp.sqrt(1 - c**2) + (sp.pi - sp.acos(c)) * c) / (2 * sp.pi), {c: sp.Rational(1, 2)})
    >>> ball.overlaps(exact), ball.rad() < 1e-28
    (True, True)
    """
    _flint()
    bits = int(dps * 3.33) + 30
    with _prec(bits):
        e = sp.sympify(expr)
        if point:
            e = e.subs({k: sp.sympify(v) for k, v in point.items()})
        return +_enclose_expr(e, bits)


# ---------------------------------------------------------------------------
# The referee


@dataclass
class RigorousPoint:
    """The referee's finding at one point."""

    point: Dict[str, str]
    status: str  # AGREE, REFUTED, UNDECIDED
    lhs: Optional[str] = None
    rhs: Optional[str] = None
    digits: Optional[float] = None
    reason: str = ""

    def to_dict(self):
        return dict(self.__dict__)


@dataclass
class RigorousVerdict:
    """Outcome of the ball-arithmetic referee over the sampled points."""

    identity_id: str
    status: str  # REFUTED if any point refutes, AGREE if every point agrees, else UNDECIDED
    points: List[RigorousPoint] = field(default_factory=list)
    bits: int = 0
    seconds: float = 0.0

    @property
    def refutes(self) -> bool:
        return self.status == "REFUTED"

    @property
    def counterexample(self):
        from .verify import PointResult

        for p in self.points:
            if p.status == "REFUTED":
                return PointResult(p.point, "FAIL", p.lhs, p.rhs, None, None, p.digits,
                                   f"rigorous: disjoint enclosures ({p.reason})")
        return None

    def __str__(self):
        n = len(self.points)
        agree = [p for p in self.points if p.status == "AGREE"]
        if self.status == "REFUTED":
            ce = next(p for p in self.points if p.status == "REFUTED")
            pt = ", ".join(f"{k} = {v}" for k, v in ce.point.items())
            return f"REFUTED at {pt}: lhs in {ce.lhs}, rhs in {ce.rhs} (disjoint balls, {self.bits} bits)"
        dig = min((p.digits for p in agree if p.digits is not None), default=None)
        s = f"{self.status}: {len(agree)} of {n} points enclosed and overlapping"
        if dig is not None:
            s += f" (to >= {dig:.0f} digits)"
        und = [p for p in self.points if p.status == "UNDECIDED"]
        if und:
            s += f"; undecided: {und[0].reason}"
        return s

    def to_dict(self):
        return {"status": self.status, "bits": self.bits, "seconds": round(self.seconds, 3),
                "points": [p.to_dict() for p in self.points]}


def _ball_str(x, dps):
    """A ball as text, its imaginary part omitted when it is a ball around 0."""
    if x.imag.contains(0) and x.imag.rad() < 10.0 ** (-dps):
        return x.real.str(dps, radius=True)
    return x.str(dps, radius=True)


def _digits(L, R, bits):
    """Significant digits to which the two enclosures pin down a common value (None if none)."""
    with _prec(bits):
        scale = max(abs(L.mid()).real.upper(), abs(R.mid()).real.upper())
        width = (L.rad() + R.rad() + abs(L.mid() - R.mid()).real).upper()
        if scale > 0 and width > 0 and width < scale:
            return float(-(width / scale).log() / _flint().arb(10).log())
    return None


def _decide(relation, L, R):
    """REFUTED / AGREE / None (undecided) for balls L, R."""
    if relation == "==":
        return "AGREE" if L.overlaps(R) else "REFUTED"
    if not (L.imag.contains(0) and R.imag.contains(0)):
        return None  # the sides are real-valued; a ball off the real axis decides nothing
    a, b = L.real, R.real
    holds = {"<=": a <= b, "<": a < b, ">=": a >= b, ">": a > b}[relation]
    fails = {"<=": a > b, "<": a >= b, ">=": a < b, ">": a <= b}[relation]
    if fails:
        return "REFUTED"
    return "AGREE" if holds else None


def referee(identity, points, dps: int = 30) -> RigorousVerdict:
    """Enclose both sides of ``identity`` at each of ``points`` and compare the balls.

    Raises :class:`~symbolic_mf.errors.MissingDependencyError` if
    python-flint is not installed.
    """
    _flint()
    t0 = time.perf_counter()
    bits = int(dps * 3.33) + 30
    out = []
    for pt in points:
        pstr = {s.name: str(v) for s, v in pt.items()}
        try:
            L = enclose(identity.lhs, pt, dps)
            R = enclose(identity.rhs, pt, dps)
        except Unsupported as e:
            out.append(RigorousPoint(pstr, "UNDECIDED", reason=f"not enclosed: {e}"))
            continue
        except (ValueError, ZeroDivisionError, ArithmeticError, TypeError) as e:
            out.append(RigorousPoint(pstr, "UNDECIDED", reason=f"{type(e).__name__}: {e}"))
            continue
        ls, rs = _ball_str(L, dps), _ball_str(R, dps)
        if not (L.is_finite() and R.is_finite()):
            out.append(RigorousPoint(pstr, "UNDECIDED", ls, rs, reason="an enclosure is not finite"))
            continue
        st = _decide(identity.relation, L, R)
        digits = _digits(L, R, bits) if identity.relation == "==" else None
        if st is None:
            out.append(RigorousPoint(pstr, "UNDECIDED", ls, rs, digits, "inequality not decided by the balls"))
        else:
            out.append(RigorousPoint(pstr, st, ls, rs, digits,
                                     "disjoint" if st == "REFUTED" else "enclosures overlap"))
    statuses = {p.status for p in out}
    status = ("REFUTED" if "REFUTED" in statuses
              else "AGREE" if out and statuses == {"AGREE"} else "UNDECIDED")
    return RigorousVerdict(identity.id, status, out, bits, time.perf_counter() - t0)
