r"""Float64 export of the orthant-engine kernels (ELU): a vectorised bivariate normal CDF and the NumPy triple.

:func:`bvn_cdf` evaluates :math:`\Phi_2(h, k; \rho)` elementwise in NumPy by the
method of Drezner & Wesolowsky (1990) as refined by Genz (2004), re-derived here:

* :math:`|\rho| < 0.925`: Plackett's integral in Drezner's angle,
  :math:`\Phi_2 = \Phi(h)\Phi(k) + \frac1{2\pi}\int_0^{\arcsin\rho}
  e^{-(h^2 - 2hk\sin\theta + k^2)/2\cos^2\theta}d\theta`, Gauss–Legendre with
  6, 12 or 20 nodes (:math:`|\rho|` below 0.3, 0.75, 0.925);
* :math:`|\rho| \ge 0.925` (ρ > 0; ρ < 0 by reflecting k): the complement
  :math:`\int_\rho^1\varphi_2\,dt` in :math:`x = \sqrt{1 - t^2}`,
  :math:`\frac1{2\pi}\int_0^{\sqrt{1-\rho^2}}e^{-(h-k)^2/2x^2 - hk/(1+\sqrt{1-x^2})}\frac{dx}{\sqrt{1-x^2}}`,
  whose factor :math:`e^{-hk(1-r_s)/2(1+r_s)}/r_s` (:math:`r_s = \sqrt{1-x^2}`) is
  :math:`1 + cx^2 + cdx^4 + O(x^6)` with :math:`c = (4 - hk)/8`,
  :math:`d = (12 - hk)/16` (Taylor, checked in the tests): that part is
  integrated in closed form (:math:`J_n = \int_0^ax^{2n}e^{-b^2/2x^2}dx`,
  :math:`J_0 = ae^{-b^2/2a^2} - b\sqrt{2\pi}\,\Phi(-b/a)`,
  :math:`J_n = (a^{2n+1}e^{-b^2/2a^2} - b^2J_{n-1})/(2n+1)`), the
  :math:`O(x^6)` remainder by 20-point Gauss–Legendre.

:func:`bvn_cdf_jax` is the same algorithm in ``jax.numpy``: every element runs
every branch (6/12/20-node angular rules and the near-±1 complement, inputs of
the unused branches replaced by harmless values) and ``jnp.where`` selects, so
it is jit-safe and vectorised; ``stax_functions(phi, backend="jax")`` prints the
kernels for it.  It computes in the dtype of its inputs: float64 when the caller
enables ``jax_enable_x64`` (e.g. the scoped ``with jax.enable_x64(True):``),
nothing global is changed here.

Absolute error about 1e-15 (``bench/orthant_export_accuracy.py`` measures it
against the mpmath :math:`\Phi_2` of :mod:`symbolic_mf.bivariate_normal`).
Needs SciPy (``scipy.special.ndtr``); without it a typed
:class:`~symbolic_mf.errors.MissingDependencyError`.

>>> import numpy as np
>>> [round(float(p), 14) for p in bvn_cdf([1.0, 0.0], [2.0, 0.0], [0.5, 0.5])]   # SciPy: 0.8318608311308805; 1/3
[0.83186083113088, 0.33333333333333]
>>> from symbolic_mf.activations import elu
>>> fn, nngp_fn, d_nngp_fn = stax_functions(elu())
>>> round(float(nngp_fn(0.5, 1.0, 2.0)), 13)              # kernel_value(elu(), 0.5, 1, 2)
0.3236417988688
"""

from __future__ import annotations

import functools

import sympy as sp

from ..bivariate_normal import ConditionalNormalCDF
from ..errors import MissingDependencyError

__all__ = ["bvn_cdf", "bvn_cdf_jax", "kernel_expressions", "stax_functions", "c_bvn_source", "c_kernel_source",
           "module_source"]

_TWO_PI = 6.283185307179586


def _ndtr():
    try:
        from scipy.special import ndtr
    except ImportError as exc:  # pragma: no cover - SciPy is optional
        raise MissingDependencyError("scipy", "the float64 bivariate normal CDF (ELU kernel export)",
                                     "pip install symbolic_mf[scipy]") from exc
    return ndtr


@functools.lru_cache(maxsize=4)
def _gauss_legendre(n):
    import numpy as np

    x, w = np.polynomial.legendre.leggauss(n)
    return x, w


def _upper_small(np, ndtr, h, k, r):
    """P(X > h, Y > k) for |r| < 0.925: Drezner's angular form (upper orthants have the same Plackett derivative)."""
    out = np.empty_like(r)
    for lo, hi, n in ((0.0, 0.3, 6), (0.3, 0.75, 12), (0.75, 0.925, 20)):
        m = (np.abs(r) >= lo) & (np.abs(r) < hi)
        if not m.any():
            continue
        hh, kk, th = h[m], k[m], np.arcsin(r[m])
        x, w = _gauss_legendre(n)
        s = np.sin(0.5 * th[:, None] * (x[None, :] + 1))
        hs = (hh * hh + kk * kk) / 2
        f = np.exp((s * (hh * kk)[:, None] - hs[:, None]) / (1 - s * s))
        out[m] = (f @ w) * (0.5 * th) / _TWO_PI + ndtr(-hh) * ndtr(-kk)
    return out


def _upper_large(np, ndtr, h, k, r):
    """P(X > h, Y > k) for |r| >= 0.925: the complement integral near |r| = 1 (see the module docstring)."""
    neg = r < 0
    k = np.where(neg, -k, k)
    hk = h * k
    ar = np.abs(r)
    asq = (1 - ar) * (1 + ar)
    a = np.sqrt(asq)
    bs = (h - k) ** 2
    b = np.sqrt(bs)
    c = (4 - hk) / 8
    d = (12 - hk) / 16
    pos = a > 0
    sa = np.where(pos, a, 1.0)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        # closed part exp(-hk/2) (J0 + c J1 + c d J2), exponents combined so nothing overflows
        ea = np.exp(-bs / (2 * np.where(pos, asq, 1.0)) - hk / 2)               # e^{-b^2/2a^2 - hk/2}
        tail = np.where(-hk < 100, np.exp(-hk / 2) * b * np.sqrt(_TWO_PI) * ndtr(-b / sa), 0.0)
        J0 = sa * ea - tail
        J1 = (sa**3 * ea - bs * J0) / 3
        J2 = (sa**5 * ea - bs * J1) / 5
        closed = J0 + c * J1 + c * d * J2
        # remainder: 20-point Gauss-Legendre on [0, a]
        x, w = _gauss_legendre(20)
        xs = (0.5 * sa[:, None] * (x[None, :] + 1)) ** 2
        rs = np.sqrt(1 - xs)
        e0 = -(bs[:, None] / xs + hk[:, None]) / 2
        e1 = e0 - hk[:, None] * xs / (2 * (1 + rs) ** 2)                       # (1 - rs)/(1 + rs) = xs/(1 + rs)^2
        series = 1 + c[:, None] * xs * (1 + d[:, None] * xs)
        term = np.where(e0 > -700, np.exp(e1) / rs - np.exp(e0) * series, 0.0)
        rem = 0.5 * sa * (term @ w)
        integral = np.where(pos, closed + rem, 0.0) / _TWO_PI
    base = np.where(neg, np.maximum(0.0, ndtr(-h) - ndtr(-k)), ndtr(-np.maximum(h, k)))
    return np.where(neg, base + integral, base - integral)


def bvn_cdf(h, k, rho):
    r""":math:`\Phi_2(h, k; \rho) = P(X \le h, Y \le k)`, elementwise (NumPy arrays or scalars, broadcast).

    ``rho`` is clipped to [-1, 1]; ``h``, ``k`` may be ``±inf``.

    >>> import numpy as np
    >>> float(bvn_cdf(0.3, -0.2, 1.0)) == float(bvn_cdf(-0.2, 0.3, 1.0))
    True
    """
    import numpy as np

    ndtr = _ndtr()
    h, k, r = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float),
                                  np.asarray(rho, dtype=float))
    shape = h.shape
    # P(X <= h, Y <= k) = P(-X > -h, -Y > -k): the upper orthant at (-h, -k), same correlation
    uh, uk, r = -h.ravel(), -k.ravel(), np.clip(r.ravel(), -1.0, 1.0)
    out = np.empty_like(r)
    fin = np.isfinite(uh) & np.isfinite(uk)
    small = fin & (np.abs(r) < 0.925)
    large = fin & ~small
    if small.any():
        out[small] = _upper_small(np, ndtr, uh[small], uk[small], r[small])
    if large.any():
        out[large] = _upper_large(np, ndtr, uh[large], uk[large], r[large])
    inf = ~fin  # an infinite limit: a one-dimensional probability (or 0)
    if inf.any():
        hi, ki = h.ravel()[inf], k.ravel()[inf]
        out[inf] = np.where((hi == -np.inf) | (ki == -np.inf), 0.0,
                            np.where(hi == np.inf, ndtr(ki), ndtr(hi)))
    return np.clip(out, 0.0, 1.0).reshape(shape)


# ---------------------------------------------------------------------------
# jax.numpy (the same algorithm, branch-free)


def _jax():
    try:
        import jax
        import jax.numpy as jnp
        from jax.scipy.special import ndtr
    except ImportError as exc:  # pragma: no cover - JAX is optional
        raise MissingDependencyError("jax", "the JAX export of the orthant kernels", "pip install jax") from exc
    return jax, jnp, ndtr


def _jax_upper_small(jnp, ndtr, h, k, r):
    """P(X > h, Y > k) by the angular rule with 6, 12 or 20 nodes (by |r|, as :func:`_upper_small`), any r in (-1, 1)."""
    th = jnp.arcsin(r)
    hs = (h * h + k * k) / 2
    ar = jnp.abs(r)
    out = jnp.zeros_like(r)
    for hi, n in ((0.3, 6), (0.75, 12), (jnp.inf, 20)):
        x, w = _gauss_legendre(n)
        x, w = jnp.asarray(x, dtype=r.dtype), jnp.asarray(w, dtype=r.dtype)
        s = jnp.sin(0.5 * th[..., None] * (x + 1))
        f = jnp.exp((s * (h * k)[..., None] - hs[..., None]) / (1 - s * s))
        val = (f @ w) * (0.5 * th) / _TWO_PI
        lo = {6: -1.0, 12: 0.3, 20: 0.75}[n]
        out = jnp.where((ar >= lo) & (ar < hi), val, out)
    return out + ndtr(-h) * ndtr(-k)


def _jax_upper_large(jnp, ndtr, h, k, r):
    """P(X > h, Y > k) for |r| >= 0.925 (as :func:`_upper_large`, every mask a ``where``)."""
    neg = r < 0
    k = jnp.where(neg, -k, k)
    hk = h * k
    ar = jnp.abs(r)
    asq = (1 - ar) * (1 + ar)
    a = jnp.sqrt(asq)
    bs = (h - k) ** 2
    b = jnp.sqrt(bs)
    c = (4 - hk) / 8
    d = (12 - hk) / 16
    pos = a > 0
    sa = jnp.where(pos, a, 1.0)
    ea = jnp.exp(-bs / (2 * jnp.where(pos, asq, 1.0)) - hk / 2)
    big = -hk < 100
    tail = jnp.where(big, jnp.exp(jnp.where(big, -hk / 2, 0.0)) * b * jnp.sqrt(_TWO_PI) * ndtr(-b / sa), 0.0)
    J0 = sa * ea - tail
    J1 = (sa**3 * ea - bs * J0) / 3
    J2 = (sa**5 * ea - bs * J1) / 5
    closed = J0 + c * J1 + c * d * J2
    x, w = _gauss_legendre(20)
    x, w = jnp.asarray(x, dtype=r.dtype), jnp.asarray(w, dtype=r.dtype)
    xs = (0.5 * sa[..., None] * (x + 1)) ** 2
    rs = jnp.sqrt(1 - xs)
    e0 = -(bs[..., None] / xs + hk[..., None]) / 2
    e1 = e0 - hk[..., None] * xs / (2 * (1 + rs) ** 2)
    series = 1 + c[..., None] * xs * (1 + d[..., None] * xs)
    ok = e0 > -700
    term = jnp.where(ok, jnp.exp(jnp.where(ok, e1, 0.0)) / rs - jnp.exp(jnp.where(ok, e0, 0.0)) * series, 0.0)
    rem = 0.5 * sa * (term @ w)
    integral = jnp.where(pos, closed + rem, 0.0) / _TWO_PI
    base = jnp.where(neg, jnp.maximum(0.0, ndtr(-h) - ndtr(-k)), ndtr(-jnp.maximum(h, k)))
    return jnp.where(neg, base + integral, base - integral)


def bvn_cdf_jax(h, k, rho):
    r""":math:`\Phi_2(h, k; \rho)` in ``jax.numpy`` (broadcast, jit-safe): :func:`bvn_cdf`'s algorithm without branches.

    >>> import jax
    >>> with jax.enable_x64(True):
    ...     print(round(float(jax.jit(bvn_cdf_jax)(1.0, 2.0, 0.5)), 14))   # as bvn_cdf
    0.83186083113088
    """
    jax, jnp, ndtr = _jax()
    h, k, r = jnp.broadcast_arrays(*(jnp.asarray(t, dtype=jnp.result_type(float)) for t in (h, k, rho)))
    r = jnp.clip(r, -1.0, 1.0)
    fin = jnp.isfinite(h) & jnp.isfinite(k)
    uh, uk = jnp.where(fin, -h, 0.0), jnp.where(fin, -k, 0.0)
    small = jnp.abs(r) < 0.925
    ps = _jax_upper_small(jnp, ndtr, uh, uk, jnp.where(small, r, 0.0))
    pl = _jax_upper_large(jnp, ndtr, uh, uk, jnp.where(small, 1.0, r))
    out = jnp.where(small, ps, pl)
    # an infinite limit: a one-dimensional probability (or 0)
    inf = jnp.where((h == -jnp.inf) | (k == -jnp.inf), 0.0,
                    jnp.where(h == jnp.inf, ndtr(jnp.where(fin, 0.0, k)), ndtr(jnp.where(fin, 0.0, h))))
    return jnp.clip(jnp.where(fin, out, inf), 0.0, 1.0)


def _conditional_cdf_jax(h, k, rho):
    _, jnp, ndtr = _jax()
    sig = jnp.sqrt(jnp.maximum((1 - rho) * (1 + rho), 0.0))
    num = k - rho * h
    pos = sig > 0
    val = ndtr(num / jnp.where(pos, sig, 1.0))
    return jnp.where(pos, val, jnp.where(num > 0, 1.0, jnp.where(num < 0, 0.0, 0.5)))


def _conditional_cdf(h, k, rho):
    import numpy as np

    ndtr = _ndtr()
    h, k, r = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float),
                                  np.asarray(rho, dtype=float))
    sig = np.sqrt(np.maximum((1 - r) * (1 + r), 0.0))
    num = k - r * h
    with np.errstate(divide="ignore", invalid="ignore"):
        val = ndtr(num / sig)
    return np.where(sig > 0, val, np.where(num > 0, 1.0, np.where(num < 0, 0.0, 0.5)))


_c12, _v1, _v2, _r = sp.symbols("cov12 var1 var2 rho", real=True)


@functools.lru_cache(maxsize=16)
def _expressions(expr):
    from ..engines import orthant as O

    pieces = O.activation_pieces(expr)
    K = O.derive_correlation_kernel(O._freeze(pieces), None, O.rho, O.q1, O.q2).result
    Kd = O.derive_correlation_kernel(O._freeze(O.piece_derivative(pieces)), None, O.rho, O.q1, O.q2).result
    sub = {O.q1: _v1, O.q2: _v2, O.rho: _r}
    return K.subs(sub, simultaneous=True), Kd.subs(sub, simultaneous=True)


def kernel_expressions(phi):
    """``(K, Kdot)`` in ``var1, var2`` and the correlation ``rho`` (derived by the orthant engine)."""
    return _expressions(phi.expr if hasattr(phi, "expr") else sp.sympify(phi))


def _numpy(expr):
    import numpy as np

    ndtr = _ndtr()  # noqa: F841 - raises the typed error early without SciPy
    f = sp.lambdify([_r, _v1, _v2], expr,
                    modules=[{"BivariateNormalCDF": bvn_cdf, "ConditionalNormalCDF": _conditional_cdf}, "scipy",
                             "numpy"], use_imps=False)  # the mpmath _imp_ would win otherwise

    def kernel(cov12, var1=1.0, var2=1.0):
        c, q1, q2 = np.broadcast_arrays(np.asarray(cov12, dtype=float), np.asarray(var1, dtype=float),
                                        np.asarray(var2, dtype=float))
        qq = q1 * q2
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(qq > 0, c / np.sqrt(np.where(qq > 0, qq, 1.0)), 0.0)
        return f(np.clip(rho, -1.0, 1.0), q1, q2) + np.zeros_like(c)

    return kernel


def _jax_kernel(expr):
    jax, jnp, _ = _jax()
    import jax.scipy.special as jss

    ns = {"BivariateNormalCDF": bvn_cdf_jax, "ConditionalNormalCDF": _conditional_cdf_jax, "erfc": jss.erfc,
          "erf": jss.erf}
    f = sp.lambdify([_r, _v1, _v2], expr, modules=[ns, "jax"], use_imps=False)

    def kernel(cov12, var1=1.0, var2=1.0):
        c, q1, q2 = jnp.broadcast_arrays(*(jnp.asarray(t, dtype=jnp.result_type(float)) for t in (cov12, var1, var2)))
        qq = q1 * q2
        # the barrier keeps XLA from rewriting c / sqrt(qq) as c * rsqrt(qq): rho is then rounded as in NumPy
        # (exactly 1 at cov12 = sqrt(var1 var2)); one ulp in rho matters where a kinked phi' makes Kdot ~ sqrt(1 - rho)
        sq = jax.lax.optimization_barrier(jnp.sqrt(jnp.where(qq > 0, qq, 1.0)))
        rho = jnp.where(qq > 0, c / sq, 0.0)
        return f(jnp.clip(rho, -1.0, 1.0), q1, q2) + jnp.zeros_like(c)

    return kernel


def stax_functions(phi, backend="numpy"):
    """``(fn, nngp_fn, d_nngp_fn)`` as NumPy (or ``backend="jax"``: JAX) functions, ``stax.Elementwise`` signature.

    ``nngp_fn(cov12, var1, var2)``; the correlation is ``cov12/sqrt(var1 var2)``
    clipped to [-1, 1] (0 when a variance is 0).  The JAX functions are jit-safe
    and compute in the inputs' dtype (float64 needs ``jax_enable_x64``, the
    caller's choice).
    """
    import numpy as np

    from ..errors import DomainError

    if backend not in ("numpy", "jax"):
        raise DomainError("backend", backend, "'numpy' or 'jax'")
    K, Kd = kernel_expressions(phi)
    x = sp.Symbol("x", real=True)
    expr = phi.expr if hasattr(phi, "expr") else sp.sympify(phi)
    if backend == "jax":
        _, jnp, _ = _jax()
        f1 = sp.lambdify(x, expr.rewrite(sp.Piecewise), modules=["jax"])
        return (lambda t: f1(jnp.asarray(t, dtype=jnp.result_type(float)))), _jax_kernel(K), _jax_kernel(Kd)
    f1 = sp.lambdify(x, expr.rewrite(sp.Piecewise), modules=["numpy"])
    fn = lambda t: f1(np.asarray(t, dtype=float))  # noqa: E731
    return fn, _numpy(K), _numpy(Kd)


# ---------------------------------------------------------------------------
# C99


def _c_array(name, values):
    return f"static const double {name}[{len(values)}] = {{" + ", ".join(repr(float(v)) for v in values) + "};\n"


def c_bvn_source():
    """C99 source of ``static double smf_bvn(double h, double k, double r)``: the same algorithm as :func:`bvn_cdf`.

    Gauss-Legendre nodes and weights are printed from ``numpy.polynomial.legendre.leggauss``.
    """
    tables = ""
    for n in (6, 12, 20):
        x, w = _gauss_legendre(n)
        tables += _c_array(f"smf_gl_x{n}", x) + _c_array(f"smf_gl_w{n}", w)
    return tables + r'''
static double smf_ncdf(double x) { return 0.5 * erfc(-x / 1.4142135623730951); }

/* P(X > h, Y > k), |r| < 0.925: Drezner's angular form of Plackett's integral */
static double smf_bvnu_small(double h, double k, double r)
{
    const double *x, *w;
    int n, i;
    double th = asin(r), hs = (h * h + k * k) / 2, hk = h * k, sum = 0.0;
    if (fabs(r) < 0.3) { n = 6; x = smf_gl_x6; w = smf_gl_w6; }
    else if (fabs(r) < 0.75) { n = 12; x = smf_gl_x12; w = smf_gl_w12; }
    else { n = 20; x = smf_gl_x20; w = smf_gl_w20; }
    for (i = 0; i < n; i++) {
        double s = sin(0.5 * th * (x[i] + 1));
        sum += w[i] * exp((s * hk - hs) / (1 - s * s));
    }
    return sum * 0.5 * th / 6.283185307179586 + smf_ncdf(-h) * smf_ncdf(-k);
}

/* P(X > h, Y > k), |r| >= 0.925: complement integral with its x^2, x^4 Taylor part in closed form */
static double smf_bvnu_large(double h, double k, double r)
{
    int neg = r < 0, i;
    double hk, ar, asq, a, bs, b, c, d, integral = 0.0, base;
    if (neg) k = -k;
    hk = h * k;
    ar = fabs(r);
    asq = (1 - ar) * (1 + ar);
    a = sqrt(asq);
    bs = (h - k) * (h - k);
    b = sqrt(bs);
    c = (4 - hk) / 8;
    d = (12 - hk) / 16;
    if (a > 0) {
        double ea = exp(-bs / (2 * asq) - hk / 2);
        double tail = (-hk < 100) ? exp(-hk / 2) * b * 2.5066282746310002 * smf_ncdf(-b / a) : 0.0;
        double J0 = a * ea - tail, J1 = (a * a * a * ea - bs * J0) / 3;
        double J2 = (a * a * a * a * a * ea - bs * J1) / 5, rem = 0.0;
        for (i = 0; i < 20; i++) {
            double xx = 0.5 * a * (smf_gl_x20[i] + 1), xs = xx * xx, rs = sqrt(1 - xs);
            double e0 = -(bs / xs + hk) / 2, e1 = e0 - hk * xs / (2 * (1 + rs) * (1 + rs));
            if (e0 > -700)
                rem += smf_gl_w20[i] * (exp(e1) / rs - exp(e0) * (1 + c * xs * (1 + d * xs)));
        }
        integral = (J0 + c * J1 + c * d * J2 + 0.5 * a * rem) / 6.283185307179586;
    }
    if (neg) {
        base = smf_ncdf(-h) - smf_ncdf(-k);
        return (base > 0 ? base : 0.0) + integral;
    }
    return smf_ncdf(-(h > k ? h : k)) - integral;
}

/* Phi_2(h, k; r) = P(X <= h, Y <= k) */
static double smf_bvn(double h, double k, double r)
{
    double p;
    if (r > 1) r = 1;
    if (r < -1) r = -1;
    if (h == -HUGE_VAL || k == -HUGE_VAL) return 0.0;
    if (h == HUGE_VAL) return smf_ncdf(k);
    if (k == HUGE_VAL) return smf_ncdf(h);
    p = fabs(r) < 0.925 ? smf_bvnu_small(-h, -k, r) : smf_bvnu_large(-h, -k, r);
    return p < 0 ? 0.0 : (p > 1 ? 1.0 : p);
}
'''


def c_kernel_source(phi, prefix="smf"):
    """C99 source of ``double <prefix>_nngp_fn(cov12, var1, var2)`` and ``<prefix>_d_nngp_fn`` (with :func:`c_bvn_source`).

    Compiles with ``gcc -std=c99 -Wall -Werror``; the correlation is clipped to [-1, 1] (0 at zero variance).

    >>> from symbolic_mf.activations import elu
    >>> "double smf_nngp_fn(double cov12, double var1, double var2)" in c_kernel_source(elu())
    True
    """
    from .printers import CKernelPrinter

    class _Printer(CKernelPrinter):
        def _print_BivariateNormalCDF(self, expr):
            return "smf_bvn(%s)" % ", ".join(self._print(t) for t in expr.args)

    K, Kd = kernel_expressions(phi)
    guard = "".join(f"#ifndef {m}\n#define {m} {v}\n#endif\n" for m, v in (  # not in strict C99
        ("M_PI", "3.14159265358979323846264338327950288"), ("M_SQRT2", "1.41421356237309504880168872420969808")))
    out = "#include <math.h>\n" + guard + c_bvn_source()
    for name, expr in ((f"{prefix}_nngp_fn", K), (f"{prefix}_d_nngp_fn", Kd)):
        if expr.has(ConditionalNormalCDF):  # pragma: no cover - the engine rewrites them away
            raise ValueError("unexpected conditional CDF in the kernel")
        body = _Printer().doprint(expr)
        out += (f"\ndouble {name}(double cov12, double var1, double var2)\n{{\n"
                f"    double qq = var1 * var2, rho = qq > 0 ? cov12 / sqrt(qq) : 0.0;\n"
                f"    if (rho > 1) rho = 1;\n    if (rho < -1) rho = -1;\n"
                f"    return {body};\n}}\n")
    return out



# ---------------------------------------------------------------------------
# standalone Python modules (``symbolic-mf export elu --to numpy|jax``)

_MODULE_HEAD = '''"""Exported by symbolic_mf: kernels of phi(x) = {expr} ({backend}; orthant-engine closed forms in the
bivariate normal CDF, evaluated as in symbolic_mf.export.orthant: Drezner-Wesolowsky / Genz).

nngp_fn(cov12, var1, var2) = E[phi(u) phi(v)], d_nngp_fn = E[phi'(u) phi'(v)] (the NTK ingredient);
the correlation cov12 / sqrt(var1 var2) is clipped to [-1, 1] (0 when a variance is 0).
"""

import functools

import numpy
import numpy as np
{imports}

class MissingDependencyError(ImportError):
    pass


_TWO_PI = 6.283185307179586
'''


def module_source(phi, backend="numpy"):
    """Python source of a standalone NumPy (SciPy for ``ndtr``) or JAX module with ``fn``, ``nngp_fn``,
    ``d_nngp_fn``: the functions of :func:`stax_functions`, their helpers copied as source, the kernels printed
    by SymPy's SciPy / JAX printer.

    >>> from symbolic_mf.activations import elu
    >>> from symbolic_mf.export.codegen import load_module
    >>> mod = load_module(module_source(elu()))
    >>> round(float(mod.nngp_fn(0.5, 1.0, 2.0)), 13)
    0.3236417988688
    """
    import inspect

    from sympy.printing.numpy import SciPyPrinter

    from ..errors import DomainError
    from .printers import JaxKernelPrinter

    if backend not in ("numpy", "jax"):
        raise DomainError("backend", backend, "'numpy' or 'jax'")
    K, Kd = kernel_expressions(phi)
    expr = (phi.expr if hasattr(phi, "expr") else sp.sympify(phi)).rewrite(sp.Piecewise)
    settings = {"allow_unknown_functions": True}
    funcs = [_gauss_legendre]
    if backend == "numpy":
        pr = SciPyPrinter(settings)
        imports = "import scipy.constants\nimport scipy.special\n"
        funcs += [_ndtr, _upper_small, _upper_large, bvn_cdf, _conditional_cdf]
        names = "BivariateNormalCDF = bvn_cdf\nConditionalNormalCDF = _conditional_cdf\n"
        kernel = _kernel_source(_numpy)
        fn = f'\n\ndef fn(x):\n    """phi(x)."""\n    x = np.asarray(x, dtype=float)\n    return {pr.doprint(expr)}\n'
    else:
        class _Printer(JaxKernelPrinter):  # erf, erfc: jax.scipy.special (SymPy's JAX printer says math.erfc)
            def _print_erfc(self, e):
                return "jax.scipy.special.erfc(%s)" % self._print(e.args[0])

            def _print_erf(self, e):
                return "jax.scipy.special.erf(%s)" % self._print(e.args[0])

        pr = _Printer(settings)
        imports = "import jax\nimport jax.lax\nimport jax.numpy\nimport jax.scipy.special\n"
        funcs += [_jax, _jax_upper_small, _jax_upper_large, bvn_cdf_jax, _conditional_cdf_jax]
        names = "BivariateNormalCDF = bvn_cdf_jax\nConditionalNormalCDF = _conditional_cdf_jax\n"
        kernel = _kernel_source(_jax_kernel)
        fn = (f'\n\ndef fn(x):\n    """phi(x)."""\n    x = jax.numpy.asarray(x, dtype=jax.numpy.result_type(float))\n'
              f'    return {pr.doprint(expr)}\n')
    out = _MODULE_HEAD.format(expr=expr, backend=backend, imports=imports)
    out += "".join("\n\n" + inspect.getsource(f) for f in funcs) + "\n\n" + names + fn
    if backend == "jax":
        kernel = kernel.replace("(cov12, var1=1.0, var2=1.0):\n", "(cov12, var1=1.0, var2=1.0):\n    jax, jnp, _ = _jax()\n", 1)
    else:
        kernel = kernel.replace("(cov12, var1=1.0, var2=1.0):\n", "(cov12, var1=1.0, var2=1.0):\n    ndtr = _ndtr()  # noqa: F841\n", 1)
    for name, e, doc in (("nngp_fn", K, "E[phi(u) phi(v)], Var u = var1, Var v = var2, Cov = cov12."),
                         ("d_nngp_fn", Kd, "E[phi'(u) phi'(v)] (the NTK derivative kernel), arguments as nngp_fn.")):
        out += f"\n\ndef _{name}_rho(rho, var1, var2):\n    return {pr.doprint(e)}\n"
        body = kernel.replace("def kernel(", f"def {name}(", 1).replace("return f(", f"return _{name}_rho(", 1)
        body = body.replace(":\n", f':\n    """{doc}"""\n', 1)
        out += "\n\n" + body
    return out


def _kernel_source(factory):
    """The source of the inner ``kernel`` of :func:`_numpy` / :func:`_jax_kernel`, dedented."""
    import inspect
    import textwrap

    src = inspect.getsource(factory)
    return textwrap.dedent("    def kernel" + src.split("    def kernel", 1)[1].rsplit("    return kernel", 1)[0])
