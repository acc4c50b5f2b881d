r"""Stable evaluators for the α-homogeneous family, derived at export time.

For :math:`\phi(x) = a\rho_\alpha(x) - b\rho_\alpha(-x)` the NNGP kernel is
:math:`K(c) = (a^2+b^2)k_\alpha(c) - 2ab\,k_\alpha(-c)` with
:math:`k_\alpha(c) = \mathbb{E}[\rho_\alpha(u)\rho_\alpha(v)]`, and the NTK
derivative kernel is the same with :math:`(\alpha-1, \alpha a, -\alpha b)`
(Price's theorem).  Three expansions of :math:`k_\beta`, each with terms of
one sign where it is used, are derived here from the Gamma-ratio Hermite
coefficients of :math:`\rho_\beta` and the Mehler–Dirichlet integral of the
polar route:

* the **Mehler–Dirichlet form** (DLMF 14.12.1, 14.3.1) at
  :math:`x = (1+c)/2`, used for :math:`c \le 0`:
  :math:`k_\beta(c) = \frac{\Gamma(\beta+1)^2}{\sqrt{8\pi}\,\Gamma(\beta+3/2)}
  (1+c)^{\beta+1/2}\,{}_2F_1(\tfrac12,\tfrac12;\beta+\tfrac32;x)`;
* its **connection formula** (DLMF 15.8.4) at :math:`y = (1-c)/2`, used for
  :math:`c > 0.7`: a power series plus :math:`y^{\beta+1/2}` times a power
  series (plus a :math:`y^m\log y` series when :math:`\beta+\tfrac12 = m` is an
  integer, obtained as the limit :math:`\beta \to \beta+\varepsilon` at 120 digits);
* the **Hermite odd part** :math:`O(c) = c\,\mu_1^2\,
  {}_2F_1(\tfrac{1-\beta}2,\tfrac{1-\beta}2;\tfrac32;c^2)`,
  :math:`\mu_1 = 2^{(\beta+1)/2}\Gamma(\beta/2+1)/(2\sqrt\pi)`, and the even part
  :math:`E(c) = \mu_0^2\,{}_2F_1(-\tfrac\beta2,-\tfrac\beta2;\tfrac12;c^2)`, for :math:`|c| \le 1/2`
  (:math:`k = E + O`, both positive, on :math:`0 < c \le 1/2`).

All coefficients are computed with mpmath at 60 digits (120 for the
degenerate limit) and rounded once to float64.  Each analytic factor is then
economised to a Chebyshev series on its interval (about 22 terms instead of
55 on :math:`x \in [0, 1/2]`) when it varies by less than a factor 4 there,
so that the error stays relative to its value; otherwise the power series
(terms of one sign) is kept.

>>> P = family_parameters(1, 1, 0)          # ReLU
>>> import numpy as np
>>> round(float(evaluate_kernel(P, np.array(0.0))), 15)   # 1/(2 pi)
0.159154943091895
>>> float(evaluate_kernel(P, np.array(-1.0)))
0.0
"""

from __future__ import annotations


import mpmath
import sympy as sp

from ..errors import DomainError
from . import _runtime

__all__ = ["family_parameters", "ntk_parameters", "evaluate_kernel", "evaluate_nngp", "rho_kernel_expr", "family_kernel_expr",
           "rho_kernel_mp", "family_kernel_mp"]

#: number of series terms computed (then trimmed to what each region needs)
NTERMS = 80
#: the Hermite series serve 0 <= c <= C_RIGHT, the connection series c > C_RIGHT (y < 0.15):
#: at y = 1/4 the two connection series cancel by up to 10 ulp for alpha near 8
C_RIGHT = 0.7


def _as_number(v, name):
    try:
        v = sp.nsimplify(sp.sympify(v), rational=True) if not isinstance(v, sp.Basic) else v
    except (sp.SympifyError, TypeError):
        raise DomainError(name, v, "a real number") from None
    if not v.is_real or not v.is_number:
        raise DomainError(name, v, "a real number")
    return v


def _mpf(v):
    return mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q if v.is_Rational else mpmath.mpf(sp.N(v, 80))


def _trim(coeffs, radius=0.5, tol=mpmath.mpf("1e-21")):
    """Drop trailing terms negligible at |t| <= radius."""
    scale = max(abs(cf) * radius ** n for n, cf in enumerate(coeffs)) if coeffs else 0
    n = len(coeffs)
    while n > 1 and abs(coeffs[n - 1]) * radius ** (n - 1) < tol * scale:
        n -= 1
    return coeffs[:n]


def _hyp_coeffs(a, b, c, n):
    out, t = [], mpmath.mpf(1)
    for k in range(n):
        out.append(t)
        t = t * (a + k) * (b + k) / ((c + k) * (k + 1))
    return out


def _conv(p, q, n):
    return [mpmath.fsum(p[i] * q[k - i] for i in range(k + 1)) for k in range(n)]


def _rho_series(beta):
    """Coefficients of the three expansions of k_beta (mpmath numbers)."""
    N = NTERMS
    with mpmath.workdps(60):
        bt = _mpf(beta)
        s = bt + mpmath.mpf(1) / 2
        g = bt + mpmath.mpf(3) / 2
        C = mpmath.gamma(bt + 1) ** 2 / (mpmath.sqrt(8 * mpmath.pi) * mpmath.gamma(g))
        f = [C * 2 ** s / 2 ** s * cf for cf in _hyp_coeffs(0.5, 0.5, g, N)]  # times (2x)^s
        mu1sq = 2 ** (bt + 1) * mpmath.gamma(bt / 2 + 1) ** 2 / (4 * mpmath.pi)
        o = [mu1sq * cf for cf in _hyp_coeffs((1 - bt) / 2, (1 - bt) / 2, mpmath.mpf(1.5), N)]
        mu0sq = 2 ** bt * mpmath.gamma((bt + 1) / 2) ** 2 / (4 * mpmath.pi)
        e = [mu0sq * cf for cf in _hyp_coeffs(-bt / 2, -bt / 2, mpmath.mpf(0.5), N)]
    m = sp.Rational(beta) + sp.Rational(1, 2) if sp.sympify(beta).is_Rational else None
    degenerate = m is not None and m.is_integer
    dps = 120 if degenerate else 60
    with mpmath.workdps(dps):
        eps = mpmath.mpf(10) ** -45 if degenerate else 0
        bt = _mpf(beta) + eps
        s = bt + mpmath.mpf(1) / 2
        g = bt + mpmath.mpf(3) / 2
        C = mpmath.gamma(bt + 1) ** 2 / (mpmath.sqrt(8 * mpmath.pi) * mpmath.gamma(g))
        # (1+c)^s = 2^s (1-y)^s ; 2F1(1/2,1/2;g;1-y) by DLMF 15.8.4
        A1 = mpmath.gamma(g) * mpmath.gamma(g - 1) / mpmath.gamma(g - mpmath.mpf(1) / 2) ** 2
        A2 = mpmath.gamma(g) * mpmath.gamma(1 - g) / mpmath.pi
        binom = [mpmath.binomial(s, k) * (-1) ** k for k in range(N)]
        pre = C * 2 ** s
        p = _conv(binom, [pre * A1 * cf for cf in _hyp_coeffs(0.5, 0.5, 2 - g, N)], N)
        q = _conv(binom, [pre * A2 * cf for cf in _hyp_coeffs(g - 0.5, g - 0.5, g, N)], N)
        r = []
        if degenerate:
            mi = int(m)
            r = [eps * cf for cf in q]
            p = [p[n] + (q[n - mi] if n >= mi else 0) for n in range(N)]
            q = [mpmath.mpf(0)]
    return dict(beta=beta, s=s, m=int(m) if degenerate else 0, f=f, p=p, q=q, r=r, o=o, e=e,
                C=C)


def _floatify(P, a, b):
    s_hi = float(P["s"])
    with mpmath.workdps(60):
        s_lo = float(P["s"] - mpmath.mpf(s_hi)) if not P["r"] else 0.0
    out = dict(beta=float(P["beta"]), s=s_hi, s_lo=s_lo, m=P["m"], a=float(a), b=float(b),
               exact=(str(P["beta"]), str(a), str(b)))
    yr, zr = (1 - C_RIGHT) / 2, C_RIGHT ** 2
    out.update(c_right=C_RIGHT)
    # beta = 0, 1 (step and ReLU: the NNGP and NTK kernels of alpha = 1): the arc-cosine
    # kernels k_0 = phi/(2 pi), k_1 = (s + phi c)/(2 pi), phi = atan2(s, -c), s = sqrt((1-c)(1+c)),
    # used where their terms have one sign (k_0 everywhere, k_1 for c >= 0)
    out["elem"] = int(P["beta"]) if P["beta"] in (0, 1) else -1
    for key, h in (("f", 0.5), ("p", yr), ("q", yr), ("o", zr), ("e", zr), ("r", yr)):
        cheb = _chebyshev(P[key], h) if P[key] else None
        if cheb is None:  # Taylor (h = 0): terms of one sign keep pointwise relative accuracy
            out[key], out["h" + key] = [float(cf) for cf in _trim(P[key], h)] if P[key] else [], 0.0
        else:
            out[key], out["h" + key] = cheb, h
    if out["r"] and all(cf == 0 for cf in out["r"]):
        out["r"] = []
    return out


def _chebyshev(taylor, h, M=64, max_variation=4):
    """Chebyshev coefficients on [0, h] of the power series ``taylor`` (float64, trimmed),
    or None when |g| varies by more than ``max_variation`` over [0, h].

    Economisation: the Taylor series converge like (t/1)^n, the Chebyshev
    series on [0, h] like ((1 + sqrt(1 - ...))/...)^-n -- about 22 terms on
    [0, 1/2] instead of 55, 12 on [0, 0.15].
    """
    with mpmath.workdps(60):
        h = mpmath.mpf(h)
        ang = [mpmath.pi * (j + mpmath.mpf(1) / 2) / M for j in range(M)]
        vals = []
        for a in ang:
            t = h * (mpmath.cos(a) + 1) / 2
            acc = mpmath.mpf(0)
            for cf in reversed(taylor):
                acc = acc * t + cf
            vals.append(acc)
        coeffs = [2 * mpmath.fsum(v * mpmath.cos(k * a) for v, a in zip(vals, ang)) / M for k in range(M)]
        coeffs[0] /= 2
        scale = max(abs(v) for v in vals)
        if scale == 0:
            return [0.0]
        if min(abs(v) for v in vals) * max_variation < scale:
            return None  # error relative to max|g| would not be relative to g(t) pointwise
        n = M
        while n > 1 and abs(coeffs[n - 1]) < mpmath.mpf("1e-20") * scale:
            n -= 1
        return [float(cf) for cf in coeffs[:n]]


def family_parameters(alpha, a=1, b=0):
    """Float64 coefficient tables for the NNGP kernel of ``a*rho_alpha(x) - b*rho_alpha(-x)``.

    ``alpha`` must exceed -1/2 (where :math:`\\mathbb{E}[\\phi^2]` is finite).

    >>> family_parameters(1, 1, 0)["s"]
    1.5
    >>> family_parameters(-0.5)
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.DomainError: alpha = -1/2 is outside its valid range: alpha > -1/2 ...
    """
    alpha, a, b = _as_number(alpha, "alpha"), _as_number(a, "a"), _as_number(b, "b")
    if not alpha > sp.Rational(-1, 2):
        raise DomainError("alpha", alpha, "alpha > -1/2 (E[phi(z)^2] is finite only there)")
    return _floatify(_rho_series(alpha), a, b)


def ntk_parameters(alpha, a=1, b=0):
    """Coefficient tables for :math:`\\mathbb{E}[\\phi'(u)\\phi'(v)]` (needs alpha > 0).

    :math:`\\phi' = \\alpha a\\rho_{\\alpha-1}(x) + \\alpha b\\rho_{\\alpha-1}(-x)`; for
    :math:`0 < \\alpha \\le 1/2` it is finite for :math:`|c| < 1` and infinite at c = 1.

    >>> ntk_parameters(1)["beta"]   # ReLU' = step
    0.0
    """
    alpha, a, b = _as_number(alpha, "alpha"), _as_number(a, "a"), _as_number(b, "b")
    if not alpha > 0:
        raise DomainError("alpha", alpha, "alpha > 0 for the derivative kernel (phi' is a delta at alpha = 0)")
    return _floatify(_rho_series(alpha - 1), alpha * a, -alpha * b)


def exact_parameters(P):
    """``(beta, a, b)`` of a table as mpmath numbers at the ambient precision (for references)."""
    return tuple(mpmath.mpf(sp.Rational(t).p) / sp.Rational(t).q if sp.sympify(t).is_Rational
                 else mpmath.mpf(sp.N(sp.sympify(t), mpmath.mp.dps + 5)) for t in P["exact"])


def evaluate_kernel(P, c, xp=None):
    """K(c) at unit variances from a table of :func:`family_parameters`."""
    import numpy as np

    xp = xp or np
    return _runtime._family_kernel(xp, P, xp.asarray(c, dtype=float) if xp is np else c)


def evaluate_nngp(P, cov12, var1, var2, xp=None):
    """:math:`(q_1q_2)^{\\beta/2}K(\\text{cov}_{12}/\\sqrt{q_1q_2})` (NumPy by default)."""
    import numpy as np

    xp = xp or np
    return _runtime._scaled(xp, P, cov12, var1, var2)


def rho_kernel_mp(beta, c):
    """Reference :math:`k_\\beta(c)` at the ambient mpmath precision (Mehler–Dirichlet form)."""
    beta, c = mpmath.mpf(beta), mpmath.mpf(c)
    C = mpmath.gamma(beta + 1) ** 2 / (mpmath.sqrt(8 * mpmath.pi) * mpmath.gamma(beta + 1.5))
    if c == -1:
        return mpmath.mpf(0) if beta > -0.5 else mpmath.inf
    if c == 1 and beta <= -0.5:
        return mpmath.inf
    return C * (1 + c) ** (beta + 0.5) * mpmath.hyp2f1(0.5, 0.5, beta + 1.5, (1 + c) / 2)


def family_kernel_mp(alpha, a, b, c):
    """Reference K(c) of the family at the ambient mpmath precision."""
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return (a * a + b * b) * rho_kernel_mp(alpha, c) - 2 * a * b * rho_kernel_mp(alpha, -c)


def rho_kernel_expr(beta, c):
    r"""SymPy :math:`k_\beta(c)` in the Mehler–Dirichlet form (unevaluated ₂F₁).

    >>> import sympy as sp
    >>> c = sp.Symbol("c")
    >>> e = rho_kernel_expr(1, c)
    >>> e.has(sp.hyper)
    True
    >>> abs(sp.N(e.subs(c, 0), 20) - 1 / (2 * sp.pi).evalf(20)) < 1e-18
    True
    """
    beta = sp.sympify(beta)
    half = sp.S.Half
    pref = sp.gamma(beta + 1) ** 2 / (sp.sqrt(8 * sp.pi) * sp.gamma(beta + 3 * half))
    return pref * (1 + c) ** (beta + half) * sp.hyper([half, half], [beta + 3 * half], (1 + c) / 2)


def family_kernel_expr(alpha, a, b, c):
    r""":math:`K(c) = (a^2+b^2)k_\alpha(c) - 2ab\,k_\alpha(-c)` as a SymPy expression."""
    a, b = sp.sympify(a), sp.sympify(b)
    out = (a ** 2 + b ** 2) * rho_kernel_expr(alpha, c)
    if b != 0:
        out -= 2 * a * b * rho_kernel_expr(alpha, -c)
    return out
