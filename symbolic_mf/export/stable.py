r"""Stabilising rewrites of derived kernels for float64 export (NumPy, JAX, C).

The Fourier engine's closed forms are correct but some cancel in floating
point: :math:`(1+q_1)(1+q_2) - c^2` loses :math:`\log_2 q` bits as
:math:`c \to \pm\sqrt{q_1q_2}` (the rounding of :math:`c^2`),
:math:`\arcsin(x)` is ill-conditioned near :math:`x = \pm1`,
:math:`e^{-(q_1+q_2)/2}` rounds its argument, and GELU's
:math:`c/4 + c\arcsin(x)/(2\pi) + R` cancels for :math:`c < 0`.  This module
rewrites the *derived* expression (nothing is typed in) by four SymPy
transformations, each an identity on the domain :math:`|c| \le \sqrt{q_1q_2}`:

1. ``exp(a + b) -> exp(a) exp(b)`` (each factor's argument exact);
2. every polynomial in ``c`` (factors of numerators, denominators and radicands) is
   rewritten with :math:`c^2 = q_1q_2 - \Delta`, where
   :math:`\Delta = q_1q_2 - c^2 \ge 0` is evaluated to a few ulp by the
   runtime function ``smf_det`` (Dekker's exact product, or ``fma`` in C):
   :math:`(1+q_1)(1+q_2) - c^2 = 1 + q_1 + q_2 + \Delta` has terms of one sign;
3. :math:`\arcsin(n/\sqrt{d}) = \operatorname{atan2}(n, \sqrt{d - n^2})`, the
   radicand again in :math:`\Delta`; and :math:`A + B\arcsin` is written
   :math:`(A - \tfrac\pi2B) + B\theta` with :math:`\theta = \operatorname{atan2}(\sqrt{d-n^2}, -n)
   \in [0, \pi]` when that removes terms from :math:`A` (GELU:
   :math:`c/4 + c\arcsin(x)/(2\pi) = c\,\theta/(2\pi)`);
4. for :math:`c < 0` and small :math:`\theta` (where :math:`A` and
   :math:`B\theta` have opposite signs): with :math:`\tan\theta = s/(-n)`,
   :math:`\theta = \frac{s}{-n}(1 - g(\theta))`, :math:`g(\theta) = 1 - \theta\cot\theta
   = \theta^2/3 + \theta^4/45 + \dots` (a polynomial with positive coefficients
   derived from the sine and cosine series, truncated below :math:`2^{-60}` relative on
   :math:`[0, \theta_0]`), so :math:`K = [A + Bs/(-n)] - Bs/(-n)\,g(\theta)`, the
   bracket combined over one denominator (algebraic cancellation done exactly by SymPy).

:func:`stable_kernel` returns the rewritten expression in the symbols
``cov12, var1, var2`` and the function ``smf_det``;
:func:`unstabilise` maps it back (``smf_det -> var1 var2 - cov12^2``), which the
tests compare with the derived form at 40 digits.

>>> import sympy as sp
>>> c, v1, v2 = sp.symbols("cov12 var1 var2", real=True)
>>> K = 2 * sp.asin(2 * c / sp.sqrt((1 + 2 * v1) * (1 + 2 * v2))) / sp.pi   # the erf kernel
>>> stable_kernel(K, c, v1, v2)
2*atan2(2*cov12, sqrt(2*var1 + 2*var2 + 4*smf_det(cov12, var1, var2) + 1))/pi
"""

from __future__ import annotations

import functools

import sympy as sp

__all__ = ["DET", "stable_kernel", "unstabilise", "thcot_series", "det_numpy", "det_jax", "C_DET", "THETA0"]

#: Delta = var1*var2 - cov12**2, evaluated by the runtime (see :func:`det_numpy`)
DET = sp.Function("smf_det")
#: the small-angle form (step 4) is used for c < 0 and theta < THETA0
THETA0 = sp.pi / 3


@functools.lru_cache(maxsize=4)
def thcot_series(theta0=THETA0, rel=sp.Rational(1, 2**60)):
    r"""Coefficients ``g[n]`` of :math:`1 - \theta\cot\theta = \sum_{n\ge1} g_n\theta^{2n}`,
    truncated where the tail is below ``rel`` times the sum on :math:`[0, \theta_0]`.

    Derived by dividing the power series of :math:`\cos\theta` by that of
    :math:`\sin\theta/\theta` (exact rationals).

    >>> thcot_series()[:3]
    [1/3, 1/45, 2/945]
    """
    n_max = 60
    C = [sp.Integer(-1) ** k / sp.factorial(2 * k) for k in range(n_max)]
    S = [sp.Integer(-1) ** k / sp.factorial(2 * k + 1) for k in range(n_max)]
    Q = []  # C / S as a series in t = theta^2
    for k in range(n_max):
        Q.append((C[k] - sum(Q[j] * S[k - j] for j in range(k))) / S[0])
    g = [-q for q in Q[1:]]  # 1 - theta cot theta, from t^1
    t0 = float(theta0) ** 2
    first = float(g[0]) * t0
    for n in range(1, n_max - 1):
        # g_n ~ 2/pi^(2n): the tail beyond n terms is below 2 (t0/pi^2)^(n+1) / (1 - t0/pi^2)
        r = t0 / float(sp.pi) ** 2
        if 2 * r ** (n + 1) / (1 - r) < float(rel) * first:
            return g[:n]
    raise ValueError("theta0 too close to pi")  # pragma: no cover


def _g_of(theta):
    t = theta ** 2
    acc = sp.S.Zero
    for cf in reversed(thcot_series()):  # Horner, coefficients rounded once (25 digits, printed to 17)
        acc = (acc + sp.Float(cf, 25)) * t
    return acc


def _det_poly(p, c, v1, v2, D):
    """Polynomial ``p`` with ``c**2 -> v1*v2 - D`` (expanded)."""
    p = sp.expand(p)
    if not p.is_polynomial(c):
        return p
    P = sp.Poly(p, c)
    out = sp.S.Zero
    for (k,), a in P.terms():
        out += a * c ** (k % 2) * (v1 * v2 - D) ** (k // 2)
    return sp.factor(sp.expand(out))


def _factor_stab(f, c, v1, v2, D):
    """One multiplicative factor: polynomials and radicands in Delta form, exp split."""
    if f.is_Pow and f.base.has(c) and f.base.is_polynomial(c, v1, v2):
        return _det_poly(f.base, c, v1, v2, D) ** f.exp
    if f.is_Add and f.is_polynomial(c, v1, v2, D):
        return _det_poly(f, c, v1, v2, D)
    if isinstance(f, sp.exp):
        return sp.Mul(*[sp.exp(t) for t in sp.Add.make_args(sp.expand(f.args[0]))])
    if f.is_Pow and isinstance(f.base, sp.exp):
        return _factor_stab(sp.exp(f.base.args[0] * f.exp), c, v1, v2, D)
    return f


def _term_stab(t, c, v1, v2, D):
    num, den = sp.fraction(sp.together(t))
    num = sp.Mul(*[_factor_stab(f, c, v1, v2, D) for f in sp.Mul.make_args(num)])
    den = sp.Mul(*[_factor_stab(f, c, v1, v2, D) for f in sp.Mul.make_args(den)])
    return num / den


def _asin_parts(a, c, v1, v2, D):
    """asin(n / sqrt(d)) -> (n, s) with s = sqrt(d - n^2) in Delta form."""
    num, den = sp.fraction(sp.together(a))
    d = sp.expand(den ** 2)
    if not d.is_polynomial(c, v1, v2):
        raise NotImplementedError(f"asin argument {a} is not n/sqrt(polynomial)")
    return num, sp.sqrt(_det_poly(d - num ** 2, c, v1, v2, D))


def stable_kernel(K, c, v1, v2):
    """The derived kernel ``K`` rewritten for float64 (module docstring, steps 1-4)."""
    D = sp.Dummy("Delta", nonnegative=True)
    asins = sorted(K.atoms(sp.asin), key=sp.default_sort_key)
    if len(asins) > 1:
        raise NotImplementedError(f"more than one arcsine in {K}")
    if not asins:
        out = sp.Add(*[_term_stab(t, c, v1, v2, D) for t in sp.Add.make_args(sp.expand(K, deep=False))])
        return out.subs(D, DET(c, v1, v2))
    n, s = _asin_parts(asins[0].args[0], c, v1, v2, D)
    T = sp.Dummy("T")
    KT = sp.expand(K.subs(asins[0], T))
    B = sp.expand(KT.coeff(T, 1))
    A = sp.expand(KT.coeff(T, 0))
    if sp.expand(KT - A - B * T) != 0:
        raise NotImplementedError(f"{K} is not linear in its arcsine")
    stab = lambda e: _term_stab(sp.together(e), c, v1, v2, D)  # noqa: E731
    A2 = sp.expand(A - sp.pi / 2 * B)
    if len(sp.Add.make_args(A2)) < len(sp.Add.make_args(A)):
        # asin = theta - pi/2, theta = atan2(s, -n) in [0, pi]
        theta = sp.atan2(s, -n)
        A2s, Bs = stab(A2), stab(B)
        main = A2s + Bs * theta
        # step 4, c < 0 and theta < THETA0: theta = (s/m)(1 - g(theta)), m = -n > 0
        Bsm = sp.together(Bs * s / (-n))
        alg = _term_stab(sp.together(A2s + Bsm), c, v1, v2, D)
        small = alg - Bsm * _g_of(theta)
    else:
        main = stab(A) + stab(B) * sp.atan2(n, s)
        small = None
    if small is not None:
        # guard the branch not taken against 1/0 where the small-angle form has a pole at n = 0
        cm = sp.Min(c, -sp.Float("1e-300"))
        small = small.subs(c, cm)
        cond = sp.And(c < 0, s.subs(c, cm) < sp.tan(THETA0) * (-n.subs(c, cm)))
        main = sp.Piecewise((small, cond), (main, True))
    return main.subs(D, DET(c, v1, v2))


def unstabilise(S, c, v1, v2):
    """The stable form with ``smf_det`` replaced by ``var1 var2 - cov12^2`` (for checks)."""
    return S.replace(DET, lambda a, b, d: b * d - a ** 2)


# ------------------------------------------------------------ runtimes ---
def _two_prod(xp, a, b, split=134217729.0):
    """a*b = p + e exactly (Dekker/Veltkamp, no FMA needed; |a|, |b| < 1e150 in float64).

    ``split`` = 2^ceil(p/2) + 1 for a p-bit significand (2^27 + 1 for float64, 4097 for float32).
    """
    p = a * b
    t = split * a
    ah = t - (t - a)
    al = a - ah
    t = split * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def det_numpy(c, v1, v2):
    """:math:`q_1q_2 - c^2` to a few ulp of the exact value at the float inputs (NumPy).

    >>> float(det_numpy(1 + 2.0**-30, 1.0, 1.0 + 2.0**-29))   # exact: -2^-60
    -8.673617379884035e-19
    """
    import numpy as np

    c, v1, v2 = (np.asarray(t, dtype=float) for t in (c, v1, v2))
    p1, e1 = _two_prod(np, v1, v2)
    p2, e2 = _two_prod(np, c, c)
    return (p1 - p2) + (e1 - e2)


def det_jax(c, v1, v2):
    """The same in ``jax.numpy`` (jit-safe), in the inputs' floating dtype (float32 unless x64 is enabled)."""
    import jax.numpy as jnp

    dt = jnp.result_type(c, v1, v2, float)
    c, v1, v2 = (jnp.asarray(t, dtype=dt) for t in (c, v1, v2))
    split = float(2 ** -(-(jnp.finfo(dt).nmant + 1) // 2) + 1)
    p1, e1 = _two_prod(jnp, v1, v2, split)
    p2, e2 = _two_prod(jnp, c, c, split)
    return (p1 - p2) + (e1 - e2)


#: C99 ``smf_det`` (exact products by ``fma``)
C_DET = r'''
static double smf_det(double c, double v1, double v2)
{
    double p1 = v1 * v2, e1 = fma(v1, v2, -p1), p2 = c * c, e2 = fma(c, c, -p2);
    return (p1 - p2) + (e1 - e2);
}
'''
