r"""Export of the Fourier-engine kernels: the neural-tangents triple, NumPy and C.

For an activation the Fourier engine handles (sin, cos, exp, erf, GELU,
Gaussian bumps) the derived kernels are closed forms in the variances
``var1``, ``var2`` and the covariance ``cov12``; they are printed as they
are derived, then rewritten for float64 by :func:`symbolic_mf.export.stable.stable_kernel`
(exponentials split, :math:`\Delta = q_1q_2 - c^2` evaluated from exact
products, arcsines as ``atan2``, GELU's small-angle form for :math:`c < 0`),
and printed (:mod:`symbolic_mf.export.printers`).  They are finite on the
whole closed domain :math:`|c| \le \sqrt{q_1q_2}`; zero variance is an ordinary
point.  ``bench/fourier_export_accuracy.py`` measures them against the derived
forms at 40 digits.

``stax_functions(phi, backend="jax")`` prints the same forms for ``jax.numpy``
(jit-safe; float64 when the caller enables ``jax_enable_x64``, nothing global is
changed here); :func:`c_kernel_source` prints C99 (``fma`` for the exact products).

For tanh, SiLU and softplus (no closed form) :func:`series_nngp_fn` exports
the certified Mehler polynomial in the correlation for unit variances;
:func:`symbolic_mf.export.series.series_stax_functions` handles any variances
(coefficients computed at call time, per-entry error bound).

>>> from symbolic_mf.activations import erf
>>> fn, nngp_fn, d_nngp_fn = stax_functions(erf())
>>> round(float(nngp_fn(1.0, 1.0, 1.0)), 14)      # (2/pi) asin(2/3)
0.46455905439754
>>> round(float(d_nngp_fn(0.0, 1.0, 1.0)), 15)    # 4/(3 pi)
0.424413181578388
"""

from __future__ import annotations

import functools

import sympy as sp

from ..engines import fourier as F
from .printers import CKernelPrinter, JaxKernelPrinter, NumPyKernelPrinter, numpy_namespace
from .stable import C_DET, DET, det_jax, det_numpy, stable_kernel

__all__ = ["kernel_expressions", "stable_expressions", "stax_functions", "module_source", "c_kernel_source",
           "series_nngp_fn"]

_c12, _v1, _v2 = sp.symbols("cov12 var1 var2", real=True)


def kernel_expressions(phi):
    """``(K, Kdot)``: NNGP and derivative-kernel closed forms in ``cov12, var1, var2``."""
    sub = {F.q1: _v1, F.q2: _v2, F.cov: _c12}
    K = F.derive_kernel(phi, var1=F.q1, var2=F.q2).result.subs(sub, simultaneous=True)
    Kd = F.derive_kernel(phi.derivative(), var1=F.q1, var2=F.q2).result.subs(sub, simultaneous=True)
    return K, Kd


def stable_expressions(phi):
    """``(K, Kdot)`` of :func:`kernel_expressions` rewritten for float64 (:mod:`~symbolic_mf.export.stable`)."""
    return tuple(stable_kernel(k, _c12, _v1, _v2) for k in kernel_expressions(phi))


_SETTINGS = {"allow_unknown_functions": True, "user_functions": {"smf_det": "smf_det"}}


def _lambdify(expr, backend):
    if backend == "jax":
        import jax  # noqa: F401  (optional extra)

        return sp.lambdify([_c12, _v1, _v2], expr, modules=[{"smf_det": det_jax, "functools": functools}, "jax"],
                           printer=JaxKernelPrinter(_SETTINGS), cse=True)
    ns = {"smf_det": det_numpy, "functools": functools}
    return sp.lambdify([_c12, _v1, _v2], expr, modules=[ns, numpy_namespace(), "numpy"],
                       printer=NumPyKernelPrinter(_SETTINGS), cse=True)


def stax_functions(phi, backend="numpy"):
    """``(fn, nngp_fn, d_nngp_fn)`` (the ``stax.Elementwise`` signature) as NumPy or JAX functions.

    ``backend="jax"``: ``jax.numpy`` code, safe under ``jax.jit``; float64 needs
    ``jax_enable_x64`` (the caller's choice: nothing global is changed here).
    """
    import numpy as np

    from ..errors import DomainError

    if backend not in ("numpy", "jax"):
        raise DomainError("backend", backend, "'numpy' or 'jax'")
    K, Kd = stable_expressions(phi)
    x = sp.Symbol("x", real=True)
    if backend == "jax":
        fn = sp.lambdify(x, phi.expr, modules="jax", printer=JaxKernelPrinter)
    else:
        try:
            fn = sp.lambdify(x, phi.expr, modules=["scipy", "numpy"])
        except ImportError:  # pragma: no cover - SciPy is optional
            fn = np.vectorize(sp.lambdify(x, phi.expr, "math"))
    return fn, _lambdify(K, backend), _lambdify(Kd, backend)


class _ModuleNumPyPrinter(NumPyKernelPrinter):
    def _print_erf(self, expr):  # NumPy has no erf: the module defines smf_erf (SciPy's, else math.erf)
        return f"smf_erf({self._print(expr.args[0])})"


_NUMPY_ERF = """
try:
    from scipy.special import erf as smf_erf
except ImportError:  # SciPy is optional
    import math
    smf_erf = numpy.vectorize(math.erf, otypes=[float])
"""


def _py_function(name, args, expr, printer, doc):
    reps, (red,) = sp.cse(expr, symbols=sp.numbered_symbols("_t"))
    body = "".join(f"    {printer.doprint(s_)} = {printer.doprint(v_)}\n" for s_, v_ in reps)
    return f'\n\ndef {name}({", ".join(args)}):\n    """{doc}"""\n{body}    return {printer.doprint(red)}\n'


def module_source(phi, backend="numpy"):
    """Python source of a self-contained NumPy or JAX module with ``fn``, ``nngp_fn``, ``d_nngp_fn``
    (the stable forms of :func:`stable_expressions`; imports only numpy / jax, SciPy optional for erf).

    >>> from symbolic_mf.activations import erf
    >>> from symbolic_mf.export.codegen import load_module
    >>> mod = load_module(module_source(erf()))
    >>> round(float(mod.nngp_fn(1.0, 1.0, 1.0)), 14)
    0.46455905439754
    """
    import inspect

    from . import stable
    from ..errors import DomainError

    if backend not in ("numpy", "jax"):
        raise DomainError("backend", backend, "'numpy' or 'jax'")
    K, Kd = stable_expressions(phi)
    settings = dict(_SETTINGS, fully_qualified_modules=True)
    if backend == "numpy":
        pr = _ModuleNumPyPrinter(settings)
        head = "import functools\n\nimport numpy\n" + (_NUMPY_ERF if phi.expr.has(sp.erf) else "")
        det = inspect.getsource(stable._two_prod) + "\n\n" + inspect.getsource(stable.det_numpy)
        det = det.replace("def det_numpy(", "def smf_det(")
    else:
        pr = JaxKernelPrinter(settings)
        head = "import functools\n\nimport jax\nimport jax.lax\nimport jax.numpy\nimport jax.scipy.special\n"
        det = inspect.getsource(stable._two_prod) + "\n\n" + inspect.getsource(stable.det_jax)
        det = det.replace("def det_jax(", "def smf_det(")
    title = f'"""Exported by symbolic_mf: kernels of phi(x) = {phi.expr} ({backend}; stable forms, see ' \
            f'symbolic_mf.export.stable)."""\n\n'
    out = title + head + "\n\n" + det
    out += _py_function("fn", ["x"], phi.expr.subs(sp.Symbol("x", real=True), sp.Symbol("x")), pr, "phi(x).")
    out += _py_function("nngp_fn", ["cov12", "var1", "var2"], K, pr,
                        "E[phi(u) phi(v)], (u, v) centred Gaussian, Var u = var1, Var v = var2, Cov = cov12.")
    out += _py_function("d_nngp_fn", ["cov12", "var1", "var2"], Kd, pr,
                        "E[phi'(u) phi'(v)] (the NTK derivative kernel), same arguments as nngp_fn.")
    return out


def c_kernel_source(phi, prefix="smf"):
    """C99 source of ``double <prefix>_nngp_fn(cov12, var1, var2)`` and ``<prefix>_d_nngp_fn`` (libm only; the
    names of :mod:`symbolic_mf.export.orthant`'s C export)."""
    K, Kd = stable_expressions(phi)
    pr = CKernelPrinter({"allow_unknown_functions": True})
    guard = "#ifndef M_PI\n#define M_PI 3.14159265358979323846264338327950288\n#endif\n"  # not in strict C99
    out = "#include <math.h>\n" + guard + (C_DET if K.has(DET) or Kd.has(DET) else "")
    for name, e in ((f"{prefix}_nngp_fn", K), (f"{prefix}_d_nngp_fn", Kd)):
        reps, (red,) = sp.cse(e, symbols=sp.numbered_symbols("t"))
        body = "".join(f"    const double {pr.doprint(s_)} = {pr.doprint(v_)};\n" for s_, v_ in reps)
        out += f"\ndouble {name}(double cov12, double var1, double var2)\n{{\n{body}    return {pr.doprint(red)};\n}}\n"
    return out


def series_nngp_fn(phi, tol=1e-15):
    r"""NumPy ``nngp_fn(cov12, var1=1, var2=1)`` from the certified Mehler series (unit variances only).

    ``nngp_fn.error_bound`` is the certified series bound (:mod:`symbolic_mf.engines.hermite_series`)
    plus float64 rounding; other variances raise ``ValueError`` (their coefficients differ).

    >>> from symbolic_mf.activations import softplus
    >>> f = series_nngp_fn(softplus(), 1e-12)
    >>> round(float(f(1.0)), 12)
    0.921245908859
    """
    import numpy as np

    from ..engines.hermite_series import series_kernel

    S = series_kernel(phi, tol=tol, dps=max(30, int(-__import__("math").log10(tol)) + 12))
    coeffs = [float(b) for b in S.coefficients]

    def nngp_fn(cov12, var1=1.0, var2=1.0):
        if np.any(np.asarray(var1) != 1.0) or np.any(np.asarray(var2) != 1.0):
            raise ValueError("series_nngp_fn is tabulated for unit variances")
        rho = np.asarray(cov12, dtype=float)
        acc = np.zeros_like(rho)
        for b in reversed(coeffs):
            acc = acc * rho + b
        return acc

    # the certified series bound plus float64 Horner rounding (< 2 eps per term, |rho| <= 1)
    nngp_fn.error_bound = float(S.bound) + 2.3e-16 * sum(abs(b) for b in coeffs) + 2.3e-16 * len(coeffs) * max(
        abs(b) for b in coeffs)
    nngp_fn.terms = len(coeffs)
    return nngp_fn
