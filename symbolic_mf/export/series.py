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
