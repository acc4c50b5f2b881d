r"""Variance-general export of the certified Mehler series (tanh, SiLU, softplus, ...).

A network calls ``nngp_fn(cov12, var1, var2)`` with arbitrary variances, but
the Mehler coefficients depend on them:

.. math:: K = \sum_{k\ge0}\alpha_k(q_1)\alpha_k(q_2)\rho^k,\qquad
   \alpha_k(q) = \mathbb{E}[\phi(\sqrt q z)h_k(z)],\qquad \rho = \frac{c_{12}}{\sqrt{q_1q_2}}

(:mod:`symbolic_mf.engines.hermite_series`).  Here the :math:`\alpha_k(q)` are
computed **at call time, in float64, once per distinct variance** (``numpy.unique``
of ``var1`` and ``var2``), by the same trapezoidal rule as the high-precision engine:
nodes :math:`z_i = ih` on :math:`|z| \le 2\sqrt{D\ln10} + 2`, :math:`D = 20` digits,
step from the pole distance of :math:`\phi` scaled by :math:`1/\sqrt q` and from the
degree :math:`K` (:func:`symbolic_mf.pair_quadrature.trapezoid_step`), the orthonormal
Hermite functions :math:`\psi_k = h_ke^{-z^2/4}` (bounded by about 1) by their
three-term recurrence, so :math:`\alpha = \Psi(w\odot\phi(\sqrt q z))` is one
matrix-vector product per variance.  The number of terms :math:`K` is the
smallest for which every variance in the call has
:math:`T_q(K) = \mathbb{E}[\phi^2] - \sum_{k\le K}\alpha_k^2 \le` ``tol``/2.

**Stated error** (``f.with_bound(cov12, var1, var2) -> (value, bound)``), per entry:

* series tail :math:`|\rho|^{K+1}\sqrt{\bar T_1\bar T_2}` (Parseval + Cauchy–Schwarz,
  as in the engine), :math:`\bar T` = the float64 :math:`T` plus its rounding allowance;
* coefficient errors :math:`e_1\sqrt{m_2} + e_2\sqrt{m_1} + e_1e_2`, where
  :math:`m = \mathbb{E}[\phi^2]` and :math:`e = \|\delta\alpha\|_2`,
  :math:`\delta\alpha_k` = the change of :math:`\alpha_k` between the rule with step
  :math:`h` and one with :math:`0.8h` on a wider window (discretisation and float64
  rounding of the sum and of the recurrence, *measured* as in the engine, not a
  worst-case bound), plus :math:`\epsilon\sum_i|w_i\phi_i\psi_k(z_i)|`;
  :math:`\bar T` includes the error of :math:`m` and of the :math:`\alpha_k^2`;
* Horner rounding :math:`1.01\,\epsilon\sum_k(2k+2)|b_k||\rho|^k` (each term
  :math:`b_k\rho^k` passes through :math:`2k+2` roundings).

The derivative kernel :math:`\mathbb{E}[\phi'(u)\phi'(v)]` (the NTK ingredient) is
the same construction for :math:`\phi'` (SymPy's derivative).  ``tol`` is absolute.

:func:`module_source` writes the same functions as a standalone NumPy (or JAX
``pure_callback``) module, :func:`c_kernel_source` as self-contained C99 (the same
rule, recurrence, tail criterion and bound, in double; ``bench/series_c_export.py``).

>>> from symbolic_mf.activations import tanh
>>> fn, nngp_fn, d_nngp_fn = series_stax_functions(tanh(), tol=1e-12)
>>> v, b = nngp_fn.with_bound(0.5, 1.0, 2.0)
>>> round(float(v), 12), bool(b < 1e-12)
(0.14675411546, True)
"""

from __future__ import annotations

import functools
import math

import sympy as sp

from ..engines.hermite_series import POLE_DISTANCE
from ..errors import DomainError

__all__ = ["series_stax_functions", "SeriesKernelFn", "MAX_TERMS", "module_source", "c_kernel_source"]

#: the largest number of Mehler terms a call may use
MAX_TERMS = 4000
#: digits the trapezoidal step is chosen for (beyond float64: the rule's error is negligible)
DIGITS = 20
_EPS = 2.0 ** -53


@functools.lru_cache(maxsize=8)
def _psi_table(h, n, K):
    """psi_k(z_i) = h_k(z_i) exp(-z_i^2/4), k <= K, z_i = i h, |i| <= n (read-only array)."""
    import numpy as np

    z = np.arange(-n, n + 1) * h
    P = np.empty((K + 1, z.size))
    P[0] = np.exp(-z * z / 4)
    if K > 0:
        P[1] = z * P[0]
    for k in range(1, K):
        P[k + 1] = (z * P[k] - math.sqrt(k) * P[k - 1]) / math.sqrt(k + 1)
    P.setflags(write=False)
    return z, P


def _trapezoid_step(digits, pole_distance):
    """:func:`symbolic_mf.pair_quadrature.trapezoid_step` (entire functions of Gaussian type 0) in float64."""
    D = digits * math.log(10)
    h = math.pi / math.sqrt(0.5 * D) / 1.25
    return h if pole_distance is None else min(h, 2 * math.pi * pole_distance / (D + pole_distance * pole_distance / 2))


def _rule(q, d, K):
    """(h, n): trapezoidal step and half-width for alpha_0..alpha_K at variance q (as the engine)."""
    s = math.sqrt(q)
    ds = None if (d is None or s == 0) else d / s
    extra = 0 if ds is None else int(ds * math.sqrt(2 * K) / math.log(10)) + 1
    D = DIGITS + extra
    h = _trapezoid_step(D, ds)
    h = min(h, math.pi / math.sqrt(D * math.log(10) + 2 * K))
    L = 2 * math.sqrt(DIGITS * math.log(10)) + 2
    # quantise h (to 1/64 octave) so that nearby variances share one psi table
    h = 2.0 ** (math.floor(64 * math.log2(h)) / 64)
    return h, int(math.ceil(L / h))


def _alphas(f, q, d, K, shrink=1.0):
    """alpha_0..alpha_K, E[phi^2] and sum_i |w_i phi_i psi_k(z_i)| by one trapezoidal rule."""
    import numpy as np

    h, n = _rule(q, d, K)
    if shrink != 1.0:
        h, n = h * shrink, int(math.ceil(n / shrink * 1.1))
    z, P = _psi_table(h, n, K)
    with np.errstate(over="ignore", under="ignore"):
        fz = f(math.sqrt(q) * z) * np.ones_like(z)
    w = (h / math.sqrt(2 * math.pi)) * np.exp(-z * z / 4) * fz
    m2 = math.fsum(w * w) / (h / math.sqrt(2 * math.pi))  # h/sqrt(2 pi) sum e^{-z^2/2} f^2
    return P @ w, m2, np.abs(P) @ np.abs(w)


def _numeric(phi):
    """phi as a NumPy function (the exported module defines its own: phi printed by SymPy)."""
    return sp.lambdify(sp.Symbol("x", real=True), phi.expr, "numpy")


class _Coefficients:
    """alpha_k(q), E[phi(sqrt q z)^2], the coefficient error and the certified tails T_q(K)."""

    def __init__(self, f, d, qs, K, cache=None):
        import numpy as np

        self.alpha = np.empty((len(qs), K + 1))
        self.m2 = np.empty(len(qs))
        self.dalpha = np.empty(len(qs))
        self.T = np.empty((len(qs), K + 1))
        cache = {} if cache is None else cache
        for j, q in enumerate(qs):
            if (q, K) in cache:
                self.alpha[j], self.m2[j], self.dalpha[j], self.T[j] = cache[(q, K)]
                continue
            # two rules (step h and 0.8 h, window 1.1x wider): their difference is the measured
            # discretisation + rounding error of each coefficient (as in the high-precision engine)
            a1, m1, _ = _alphas(f, q, d, K)
            a, m2, r = _alphas(f, q, d, K, 0.8)
            da = np.abs(a - a1) + _EPS * r
            e = float(np.sqrt(np.sum(da * da)))
            dm2 = abs(m2 - m1) + 2 * _EPS * m2
            # T(K) = sum_{k > K} alpha_k^2 (accurate: positive terms, smallest first) + the part beyond
            # the last computed k (fsum), plus the error of m2 and of the alpha_k^2
            sq = a * a
            tail = np.concatenate([np.cumsum(sq[:0:-1])[::-1], [0.0]])
            rest = math.fsum([m2] + list(-sq))
            T = tail + max(rest, 0.0) + dm2 + 2 * math.sqrt(m2) * e + e * e + 4 * _EPS * m2
            self.alpha[j], self.m2[j], self.dalpha[j], self.T[j] = a, m2, e, T
            if len(cache) < 4096:  # a network calls again with the same variances
                cache[(q, K)] = (a, m2, e, T)

    @staticmethod
    def terms_needed(T, tol):
        import numpy as np

        ok = np.all(T <= tol / 2, axis=0)
        return int(np.argmax(ok)) if ok.any() else None


class SeriesKernelFn:
    r"""``f(cov12, var1, var2)``: a Mehler-series kernel with coefficients computed at call time.

    ``f.with_bound(...)`` returns ``(value, bound)`` (bound: see the module docstring);
    ``f.last_terms`` is the number of terms the last call used.
    """

    def __init__(self, phi, tol, pole_distance, max_terms=MAX_TERMS, label="nngp"):
        import numpy as np

        self.name = f"{getattr(phi, 'name', phi)}:{label}"
        self._f = _numeric(phi)
        self._np = np
        self.tol, self.d, self.max_terms = float(tol), pole_distance, max_terms
        self.last_terms = None
        self._K, self._cache = 32, {}

    def __call__(self, cov12, var1, var2):
        return self.with_bound(cov12, var1, var2)[0]

    def _coefficients(self, qs):
        K = self._K
        while True:
            C = _Coefficients(self._f, self.d, tuple(float(q) for q in qs), K, self._cache)
            k = C.terms_needed(C.T, self.tol)
            if k is not None:
                self._K = K  # the next call starts from this table size
                return C, k
            if K >= self.max_terms:
                worst = qs[int(self._np.argmax(C.T[:, -1]))]
                raise DomainError("var1/var2", worst, f"variances for which {self.max_terms} Mehler terms reach "
                                  f"tol = {self.tol:g} for {self.name} (a smaller variance or a larger tol)")
            K = min(2 * K, self.max_terms)

    def with_bound(self, cov12, var1, var2):
        """``(K, bound)`` as float64 arrays broadcast from the arguments."""
        np = self._np
        cov12, var1, var2 = np.broadcast_arrays(*(np.asarray(t, dtype=float) for t in (cov12, var1, var2)))
        if np.any(var1 < 0) or np.any(var2 < 0) or not np.all(np.isfinite(var1 + var2 + cov12)):
            raise DomainError("var1/var2", "negative or non-finite", "finite variances >= 0")
        qs, inv = np.unique(np.concatenate([var1.ravel(), var2.ravel()]), return_inverse=True)
        i1, i2 = inv[:var1.size], inv[var1.size:]
        C, K = self._coefficients(qs)
        self.last_terms = K + 1
        prod = var1.ravel() * var2.ravel()
        root = np.sqrt(prod)
        rho = np.clip(np.where(prod > 0, cov12.ravel() / np.where(prod > 0, root, 1.0), 0.0), -1.0, 1.0)
        A = C.alpha
        acc = np.zeros_like(rho)
        mag = np.zeros_like(rho)
        arho = np.abs(rho)
        for k in range(K, -1, -1):
            b = A[i1, k] * A[i2, k]
            acc = acc * rho + b
            mag = mag * arho + (2 * k + 2) * np.abs(b)  # Horner: b_k rho^k carries 2k + 2 roundings
        tail = arho ** (K + 1) * np.sqrt(C.T[i1, K] * C.T[i2, K])
        e1, e2 = C.dalpha[i1], C.dalpha[i2]
        coef = e1 * np.sqrt(C.m2[i2]) + e2 * np.sqrt(C.m2[i1]) + e1 * e2
        bound = tail + coef + 1.01 * _EPS * mag
        shape = cov12.shape
        return acc.reshape(shape), bound.reshape(shape)


def _check(tol, backend):
    if not (1e-14 <= float(tol) <= 1e-2):
        raise DomainError("tol", tol, "an absolute tolerance in [1e-14, 1e-2] (float64 evaluation)")
    if backend not in ("numpy", "jax"):
        raise DomainError("backend", backend, "'numpy' or 'jax'")


def series_stax_functions(phi, tol=1e-12, backend="numpy", max_terms=MAX_TERMS):
    r"""``(fn, nngp_fn, d_nngp_fn)`` for activations with no closed-form kernel (the ``stax.Elementwise``
    signature), any variances; each kernel function has ``.with_bound``.

    ``backend="jax"`` wraps the NumPy evaluation in :func:`jax.pure_callback` (usable under
    ``jax.jit``; no gradients).  ``tol`` (absolute) must lie in ``[1e-14, 1e-2]``.

    >>> from symbolic_mf.activations import softplus
    >>> fn, k, dk = series_stax_functions(softplus(), 1e-12)
    >>> round(float(k(1.0, 1.0, 1.0)), 12)          # E[softplus(z)^2]
    0.921245908859
    """
    name = getattr(phi, "name", "")
    _check(tol, backend)
    d = POLE_DISTANCE.get(name)
    d = None if d is None else float(d)
    k = SeriesKernelFn(phi, tol, d, max_terms, "nngp")
    dk = SeriesKernelFn(phi.derivative(), tol, d, max_terms, "d_nngp")
    x = sp.Symbol("x", real=True)
    if backend == "numpy":
        return sp.lambdify(x, phi.expr, "numpy"), k, dk
    return (sp.lambdify(x, phi.expr, "jax"),) + tuple(_jax_callback(g) for g in (k, dk))


def _jax_callback(g):
    import jax
    import jax.numpy as jnp
    import numpy as np

    def f(cov12, var1, var2):
        dt = jnp.result_type(float)
        cov12, var1, var2 = jnp.broadcast_arrays(*(jnp.asarray(t, dtype=dt) for t in (cov12, var1, var2)))
        out = jax.ShapeDtypeStruct(cov12.shape, cov12.dtype)
        return jax.pure_callback(lambda a, b, c: np.asarray(g(a, b, c), dtype=out.dtype), out, cov12, var1, var2)

    f.with_bound = g.with_bound
    return f


# ---------------------------------------------------------------------------
# standalone Python module (``symbolic-mf export tanh --to numpy|jax``)

_MODULE_HEAD = '''"""Exported by symbolic_mf: certified Mehler-series kernels of phi(x) = {expr} ({backend}).

nngp_fn(cov12, var1, var2) = E[phi(u) phi(v)], d_nngp_fn = E[phi'(u) phi'(v)] (the NTK ingredient), any variances;
the Mehler coefficients alpha_k(q) are computed at call time in float64 (trapezoidal rule, Hermite-function
recurrence) and the number of terms is chosen so that the certified tail is <= TOL/2.
nngp_fn.with_bound(cov12, var1, var2) -> (value, stated error bound); see symbolic_mf.export.series.
"""

import functools
import math

import numpy
import numpy as np
{imports}
#: absolute tolerance of the kernels
TOL = {tol!r}
#: distance of the nearest singularity of phi from the real axis (None: entire)
POLE_DISTANCE = {d!r}
MAX_TERMS = {max_terms!r}
DIGITS = {digits!r}
_EPS = 2.0 ** -53


class DomainError(ValueError):
    def __init__(self, parameter, value, valid):
        super().__init__(f"{{parameter}} = {{value}} is outside its valid range: {{valid}}")


class _Activation:
    def __init__(self, name, f):
        self.name, self.f = name, f


def _numeric(phi):
    return phi.f
'''


def module_source(phi, tol=1e-12, backend="numpy", max_terms=MAX_TERMS):
    """Python source of a standalone module (NumPy; ``backend="jax"``: plus a ``jax.pure_callback`` wrapper)
    with ``fn``, ``nngp_fn``, ``d_nngp_fn`` as :func:`series_stax_functions` returns them: phi and phi' printed
    by SymPy's NumPy printer, the coefficient routine and Horner copied from this module as source.

    >>> from symbolic_mf.activations import tanh
    >>> from symbolic_mf.export.codegen import load_module
    >>> mod = load_module(module_source(tanh(), 1e-12))
    >>> v, b = mod.nngp_fn.with_bound(0.5, 1.0, 2.0)
    >>> round(float(v), 12), bool(b < 1e-12)
    (0.14675411546, True)
    """
    import inspect

    from sympy.printing.numpy import NumPyPrinter

    _check(tol, backend)
    name = getattr(phi, "name", "")
    d = POLE_DISTANCE.get(name)
    d = None if d is None else float(d)
    x = sp.Symbol("x", real=True)
    pr = NumPyPrinter()
    imports = "" if backend == "numpy" else "\nimport jax\nimport jax.numpy as jnp\n"
    out = _MODULE_HEAD.format(expr=phi.expr, backend=backend, imports=imports, tol=float(tol), d=d,
                              max_terms=int(max_terms), digits=DIGITS)
    for fname, e in (("_phi", phi.expr), ("_dphi", phi.derivative().expr)):
        out += f"\n\ndef {fname}(x):\n    return {pr.doprint(e)}\n"
    for f in (_trapezoid_step, _psi_table, _rule, _alphas, _Coefficients, SeriesKernelFn):
        out += "\n\n" + inspect.getsource(f)
    out += (f"\n\nnngp_fn = SeriesKernelFn(_Activation({name!r}, _phi), TOL, POLE_DISTANCE, MAX_TERMS, 'nngp')\n"
            f"d_nngp_fn = SeriesKernelFn(_Activation({name!r}, _dphi), TOL, POLE_DISTANCE, MAX_TERMS, 'd_nngp')\n")
    if backend == "numpy":
        return out + "fn = _phi\n"
    from sympy.printing.numpy import JaxPrinter

    out += "\n\n" + inspect.getsource(_jax_callback)
    out += f"\n\ndef fn(x):\n    return {JaxPrinter().doprint(phi.expr.subs(x, sp.Symbol('x')))}\n"
    return out + "\n\nnngp_fn, d_nngp_fn = _jax_callback(nngp_fn), _jax_callback(d_nngp_fn)\n"


# ---------------------------------------------------------------------------
# C99


def _c_stable(expr):
    """``(pos, neg)``: ``expr`` rewritten for ``x > 0`` in ``u = e^{-x}`` and for ``x <= 0`` in ``u = e^{x}``
    (rational functions of ``u`` cancelled, ``log`` of them expanded, ``log(1 + t)`` as ``log1p(t)``), so that
    no exponential of a large positive argument is formed (softplus, the sigmoid in swish' and softplus')."""
    from sympy.codegen.cfunctions import log1p

    x = sp.Symbol("x", real=True)
    u = sp.Symbol("u", positive=True)
    if not expr.has(sp.exp):
        return expr, expr
    out = []
    for sgn in (1, -1):
        e = expr.subs({sp.exp(x): u ** -sgn, sp.exp(-x): u ** sgn}, simultaneous=True)
        if e.has(x ** 0 * sp.exp(sp.Wild("a"))):  # pragma: no cover - other exponentials: leave as derived
            return expr, expr
        if e.has(sp.log):
            e = e.replace(lambda t: isinstance(t, sp.log),
                          lambda t: sp.expand_log(sp.log(sp.factor(sp.cancel(t.args[0]))), force=True))
        else:
            e = sp.factor(sp.cancel(e))
        e = e.subs(u, sp.exp(-sgn * x))
        e = e.replace(lambda t: isinstance(t, sp.log) and t.args[0].is_Add and sp.S.One in t.args[0].args,
                      lambda t: log1p(t.args[0] - 1))
        out.append(e)
    return tuple(out)


_C_BODY = r'''
#define P_DIGITS 20
#define P_EPS 1.1102230246251565e-16  /* 2^-53 */

typedef double (*P_fn)(double);

/* the trapezoidal step for DIGITS digits (symbolic_mf.pair_quadrature.trapezoid_step, Gaussian type 0) */
static double P_step(int digits, double ds)
{
    double D = digits * log(10.0), h = M_PI / sqrt(0.5 * D) / 1.25;
    if (ds >= 0) {
        double hp = 2 * M_PI * ds / (D + ds * ds / 2);
        if (hp < h) h = hp;
    }
    return h;
}

/* (h, n) for alpha_0..alpha_K at variance q: symbolic_mf.export.series._rule */
static void P_rule(double q, int K, double *h_out, long *n_out)
{
    double s = sqrt(q), ds = (P_POLE < 0 || s == 0) ? -1.0 : P_POLE / s, h, hk, L;
    int extra = ds < 0 ? 0 : (int)(ds * sqrt(2.0 * K) / log(10.0)) + 1, D = P_DIGITS + extra;
    h = P_step(D, ds);
    hk = M_PI / sqrt(D * log(10.0) + 2.0 * K);
    if (hk < h) h = hk;
    L = 2 * sqrt(P_DIGITS * log(10.0)) + 2;
    h = pow(2.0, floor(64 * log2(h)) / 64);
    *h_out = h;
    *n_out = (long)ceil(L / h);
}

/* double-double accumulation (the role of math.fsum in the NumPy code) */
static void P_add(double *s, double *c, double x)
{
    double t = *s + x, bp = t - *s, err = (*s - (t - bp)) + (x - bp);
    *s = t;
    *c += err;
}

/* alpha_0..alpha_K, E[phi^2] and r_k = sum_i |w_i phi_i psi_k(z_i)| by one trapezoidal rule (_alphas) */
static double P_alphas(P_fn f, double q, int K, double shrink, double *alpha, double *r)
{
    double h, c0, sq = sqrt(q), ms = 0.0, mc = 0.0;
    long n, i;
    int k;
    P_rule(q, K, &h, &n);
    if (shrink != 1.0) {
        h = h * shrink;
        n = (long)ceil(n / shrink * 1.1);
    }
    c0 = h / sqrt(2 * M_PI);
    for (k = 0; k <= K; k++) alpha[k] = r[k] = 0.0;
    for (i = -n; i <= n; i++) {
        double z = i * h, e = exp(-z * z / 4), w = (c0 * e) * f(sq * z), pm = e, p = z * e;
        P_add(&ms, &mc, w * w);
        alpha[0] += pm * w;
        r[0] += fabs(pm * w);
        if (K > 0) {
            alpha[1] += p * w;
            r[1] += fabs(p * w);
        }
        for (k = 1; k < K; k++) {
            double pn = (z * p - sqrt((double)k) * pm) / sqrt((double)(k + 1));
            pm = p;
            p = pn;
            alpha[k + 1] += p * w;
            r[k + 1] += fabs(p * w);
        }
    }
    return (ms + mc) / c0;
}

typedef struct {
    int K;              /* table size: alpha_0..alpha_K */
    double *alpha, *T;  /* coefficients and certified tails T(k) */
    double m2, e;       /* E[phi^2] and the coefficient error ||delta alpha||_2 */
} P_coef;

/* _Coefficients for one variance and table size K; 0 on success, -1 if out of memory */
static int P_coefficients_at(P_fn f, double q, int K, P_coef *C)
{
    double *a1 = malloc((size_t)(K + 1) * sizeof(double)), *r = malloc((size_t)(K + 1) * sizeof(double));
    double m1, m2, e2 = 0.0, dm2, rs, rc, e;
    int k;
    C->K = K;
    C->alpha = malloc((size_t)(K + 1) * sizeof(double));
    C->T = malloc((size_t)(K + 1) * sizeof(double));
    if (!a1 || !r || !C->alpha || !C->T) {
        free(a1); free(r); free(C->alpha); free(C->T);
        C->alpha = C->T = NULL;
        return -1;
    }
    /* two rules (step h and 0.8 h, window 1.1x wider): their difference is the measured error */
    m1 = P_alphas(f, q, K, 1.0, a1, r);
    m2 = P_alphas(f, q, K, 0.8, C->alpha, r);
    for (k = 0; k <= K; k++) {
        double da = fabs(C->alpha[k] - a1[k]) + P_EPS * r[k];
        e2 += da * da;
    }
    e = sqrt(e2);
    dm2 = fabs(m2 - m1) + 2 * P_EPS * m2;
    /* rest = m2 - sum alpha_k^2 (accurately), tail(k) = sum_{j > k} alpha_j^2 (smallest first) */
    rs = m2;
    rc = 0.0;
    for (k = 0; k <= K; k++) P_add(&rs, &rc, -C->alpha[k] * C->alpha[k]);
    rs = rs + rc;
    if (rs < 0) rs = 0.0;
    C->T[K] = 0.0;
    for (k = K - 1; k >= 0; k--) C->T[k] = C->T[k + 1] + C->alpha[k + 1] * C->alpha[k + 1];
    for (k = 0; k <= K; k++)
        C->T[k] = ((((C->T[k] + rs) + dm2) + 2 * sqrt(m2) * e) + e * e) + 4 * P_EPS * m2;
    C->m2 = m2;
    C->e = e;
    free(a1);
    free(r);
    return 0;
}

static void P_release(P_coef *C)
{
    free(C->alpha);
    free(C->T);
    C->alpha = C->T = NULL;
}

static int P_first(const P_coef *C)
{
    int k;
    for (k = 0; k <= C->K; k++)
        if (C->T[k] <= P_TOL / 2) return k;
    return -1;
}

/* coefficients for the variances q1, q2 with one table size (doubling from 32, as the NumPy code) and the
   number of terms K + 1 where both tails are <= tol/2; returns K, or -1 (C1, C2 released) */
static int P_pair(P_fn f, double q1, double q2, P_coef *C1, P_coef *C2)
{
    int K = 32;
    for (;;) {
        int k1, k2;
        if (P_coefficients_at(f, q1, K, C1)) return -1;
        if (P_coefficients_at(f, q2, K, C2)) { P_release(C1); return -1; }
        k1 = P_first(C1);
        k2 = P_first(C2);
        if (k1 >= 0 && k2 >= 0) return k1 > k2 ? k1 : k2;
        P_release(C1);
        P_release(C2);
        if (K >= P_MAX_TERMS) return -1;
        K = 2 * K < P_MAX_TERMS ? 2 * K : P_MAX_TERMS;
    }
}

static double P_rho(double cov12, double var1, double var2)
{
    double prod = var1 * var2, rho = prod > 0 ? cov12 / sqrt(prod) : 0.0;
    return rho > 1 ? 1.0 : (rho < -1 ? -1.0 : rho);
}

/* Horner in rho and the stated error (tail + coefficient errors + rounding) */
static double P_horner(const P_coef *C1, const P_coef *C2, int K, double rho, double *bound)
{
    double acc = 0.0, mag = 0.0, arho = fabs(rho);
    int k;
    for (k = K; k >= 0; k--) {
        double b = C1->alpha[k] * C2->alpha[k];
        acc = acc * rho + b;
        mag = mag * arho + (2 * k + 2) * fabs(b);
    }
    if (bound) {
        double e1 = C1->e, e2 = C2->e;
        *bound = pow(arho, K + 1) * sqrt(C1->T[K] * C2->T[K]) + (e1 * sqrt(C2->m2) + e2 * sqrt(C1->m2) + e1 * e2)
                 + 1.01 * P_EPS * mag;
    }
    return acc;
}

static int P_bad(double cov12, double var1, double var2)
{
    return !(var1 >= 0 && var2 >= 0) || !isfinite(var1 + var2 + cov12);
}

static double P_kernel(P_fn f, double cov12, double var1, double var2, double *bound)
{
    P_coef C1, C2;
    int K;
    double v;
    if (bound) *bound = INFINITY;
    if (P_bad(cov12, var1, var2)) return NAN;
    K = P_pair(f, var1, var2, &C1, &C2);
    if (K < 0) return NAN;
    v = P_horner(&C1, &C2, K, P_rho(cov12, var1, var2), bound);
    P_release(&C1);
    P_release(&C2);
    return v;
}

/* the array form: the coefficients of the last P_CACHE distinct (var1, var2) pairs are kept for the call */
#define P_CACHE 32
typedef struct { double q1, q2; int K; P_coef C1, C2; } P_slot;

static void P_kernel_array(P_fn f, const double *cov12, const double *var1, const double *var2, double *out,
                           double *bound, size_t n)
{
    P_slot slots[P_CACHE];
    int used = 0, next = 0, j;
    size_t i;
    for (i = 0; i < n; i++) {
        P_slot *S = NULL;
        if (P_bad(cov12[i], var1[i], var2[i])) {
            out[i] = NAN;
            if (bound) bound[i] = INFINITY;
            continue;
        }
        for (j = 0; j < used; j++)
            if (slots[j].q1 == var1[i] && slots[j].q2 == var2[i]) { S = slots + j; break; }
        if (!S) {
            if (used < P_CACHE) S = slots + used++;
            else {
                S = slots + next;
                next = (next + 1) % P_CACHE;
                if (S->K >= 0) { P_release(&S->C1); P_release(&S->C2); }
            }
            S->q1 = var1[i];
            S->q2 = var2[i];
            S->K = P_pair(f, var1[i], var2[i], &S->C1, &S->C2);
        }
        if (S->K < 0) {
            out[i] = NAN;
            if (bound) bound[i] = INFINITY;
            continue;
        }
        out[i] = P_horner(&S->C1, &S->C2, S->K, P_rho(cov12[i], var1[i], var2[i]), bound ? bound + i : NULL);
    }
    for (j = 0; j < used; j++)
        if (slots[j].K >= 0) { P_release(&slots[j].C1); P_release(&slots[j].C2); }
}

/* the same for one variance (the table size doubles from 32 until the tail is <= tol/2) */
static int P_coefficients(P_fn f, double q, double *alpha, int max_terms)
{
    P_coef C1, C2;
    int K, k;
    if (!(q >= 0) || !isfinite(q)) return -1;
    K = P_pair(f, q, q, &C1, &C2);
    if (K < 0) return -1;
    if (K + 1 > max_terms) K = -2;
    for (k = 0; k <= K; k++) alpha[k] = C1.alpha[k];
    P_release(&C1);
    P_release(&C2);
    return K < 0 ? -1 : K + 1;
}
'''

_C_API = r'''
/* public API */
int P_coefficients(double q, double *alpha, int max_terms)
{ return P_coefficients_g(P_phi, q, alpha, max_terms); }
int P_d_coefficients(double q, double *alpha, int max_terms)
{ return P_coefficients_g(P_dphi, q, alpha, max_terms); }
double P_nngp_fn(double cov12, double var1, double var2)
{ return P_kernel(P_phi, cov12, var1, var2, NULL); }
double P_d_nngp_fn(double cov12, double var1, double var2)
{ return P_kernel(P_dphi, cov12, var1, var2, NULL); }
double P_nngp_fn_with_bound(double cov12, double var1, double var2, double *bound)
{ return P_kernel(P_phi, cov12, var1, var2, bound); }
double P_d_nngp_fn_with_bound(double cov12, double var1, double var2, double *bound)
{ return P_kernel(P_dphi, cov12, var1, var2, bound); }
void P_nngp_fn_array(const double *cov12, const double *var1, const double *var2, double *out, size_t n)
{ P_kernel_array(P_phi, cov12, var1, var2, out, NULL, n); }
void P_d_nngp_fn_array(const double *cov12, const double *var1, const double *var2, double *out, size_t n)
{ P_kernel_array(P_dphi, cov12, var1, var2, out, NULL, n); }
void P_nngp_fn_array_with_bound(const double *cov12, const double *var1, const double *var2, double *out,
                                double *bound, size_t n)
{ P_kernel_array(P_phi, cov12, var1, var2, out, bound, n); }
void P_d_nngp_fn_array_with_bound(const double *cov12, const double *var1, const double *var2, double *out,
                                  double *bound, size_t n)
{ P_kernel_array(P_dphi, cov12, var1, var2, out, bound, n); }
'''


def c_kernel_source(phi, prefix="smf", tol=1e-12, max_terms=MAX_TERMS):
    r"""Self-contained C99 source of the certified series kernels (``math.h``, ``stdlib.h`` for ``malloc``):

    * ``int PREFIX_coefficients(double q, double *alpha, int max_terms)`` (and ``PREFIX_d_coefficients`` for
      :math:`\phi'`): :math:`\alpha_0..\alpha_K` at variance ``q``, returns the number of terms :math:`K + 1`,
      or -1 if it exceeds ``max_terms`` (or the series' own limit);
    * ``double PREFIX_nngp_fn(double cov12, double var1, double var2)``, ``PREFIX_d_nngp_fn``, their
      ``_with_bound(..., double *bound)`` forms (the stated error of the module docstring), and
      ``void PREFIX_nngp_fn_array(cov12, var1, var2, out, n)`` / ``PREFIX_d_nngp_fn_array`` (plus
      ``_array_with_bound(..., out, bound, n)``), which keep the coefficients of up to 32 distinct variance
      pairs per call.

    The same rule (node window, step, quantisation), Hermite recurrence, tail criterion (``tol`` absolute,
    baked in) and Horner as :class:`SeriesKernelFn`; NaN (bound ``INFINITY``) for negative or non-finite input
    or when ``MAX_TERMS`` terms do not reach ``tol``.  phi and phi' are printed by SymPy's C printer, rewritten
    in :math:`e^{-|x|}` so that nothing overflows for large :math:`|x|` (softplus as
    :math:`x + \mathrm{log1p}(e^{-x})` for :math:`x > 0`).

    >>> from symbolic_mf.activations import softplus
    >>> src = c_kernel_source(softplus())
    >>> "double smf_nngp_fn(double cov12, double var1, double var2)" in src, "log1p(exp(-x))" in src
    (True, True)
    """
    from .printers import CKernelPrinter

    _check(tol, "numpy")
    if not (1 <= int(max_terms) <= MAX_TERMS):
        raise DomainError("max_terms", max_terms, f"an integer in [1, {MAX_TERMS}]")
    d = POLE_DISTANCE.get(getattr(phi, "name", ""))
    pr = CKernelPrinter({"allow_unknown_functions": True})
    head = (f"/* Exported by symbolic_mf: certified Mehler-series kernels of phi(x) = {phi.expr}, absolute tolerance "
            f"{float(tol)!r} (see symbolic_mf.export.series). C99: gcc -std=c99 -O2 -c; link with -lm. */\n"
            "#include <math.h>\n#include <stdlib.h>\n#include <stddef.h>\n"
            "#ifndef M_PI\n#define M_PI 3.14159265358979323846264338327950288\n#endif\n"
            f"#define P_TOL {float(tol)!r}\n#define P_MAX_TERMS {int(max_terms)}\n"
            f"#define P_POLE {repr(float(d)) if d is not None else '-1.0'}  /* pole distance (-1: entire) */\n")
    funcs = ""
    for name, e in (("P_phi", phi.expr), ("P_dphi", phi.derivative().expr)):
        pos, neg = _c_stable(e)
        body = (f"    return {pr.doprint(pos)};\n" if pos == neg else
                f"    if (x > 0)\n        return {pr.doprint(pos)};\n    return {pr.doprint(neg)};\n")
        funcs += f"\nstatic double {name}(double x)\n{{\n{body}}}\n"
    body = _C_BODY.replace("static int P_coefficients(", "static int P_coefficients_g(")
    src = head + funcs + body + _C_API
    return src.replace("P_", f"{prefix}_")
