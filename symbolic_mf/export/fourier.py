r"""Export of the Fourier-engine kernels: the neural-tangents triple, NumPy and C.

For an activation the Fourier engine handles (sin, cos, exp, erf, GELU,
Gaussian bumps) the derived kernels are closed forms in the variances
``var1``, ``var2`` and the covariance ``cov12``; they are printed as they
are (:mod:`symbolic_mf.export.printers`).  They are finite and free of
cancellation on the whole closed domain: the arcsine arguments
:math:`2c/\sqrt{(1+2q_1)(1+2q_2)}` (erf) and :math:`c/\sqrt{(1+q_1)(1+q_2)}`
(GELU) stay inside :math:`(-1, 1)` even at :math:`c = \pm\sqrt{q_1q_2}`, and
the square roots are of :math:`(1+q_1)(1+q_2) - c^2 > 0`; zero variance is
an ordinary point.

For tanh, SiLU and softplus (no closed form) :func:`series_nngp_fn` exports
the certified Mehler polynomial in the correlation for unit variances.

>>> from symbolic_mf.activations import erf
>>> fn, nngp_fn, d_nngp_fn = stax_functions(erf())
>>> round(float(nngp_fn(1.0, 1.0, 1.0)), 14)      # (2/pi) asin(2/3)
0.46455905439754
>>> round(float(d_nngp_fn(0.0, 1.0, 1.0)), 15)    # 4/(3 pi)
0.424413181578388
"""

from __future__ import annotations

import sympy as sp

from ..engines import fourier as F
from .printers import c_function_source, numpy_function

__all__ = ["kernel_expressions", "stax_functions", "c_kernel_source", "series_nngp_fn"]

_c12, _v1, _v2 = sp.symbols("cov12 var1 var2", real=True)


def kernel_expressions(phi):
    """``(K, Kdot)``: NNGP and derivative-kernel closed forms in ``cov12, var1, var2``."""
    sub = {F.q1: _v1, F.q2: _v2, F.cov: _c12}
    K = F.derive_kernel(phi, var1=F.q1, var2=F.q2).result.subs(sub, simultaneous=True)
    Kd = F.derive_kernel(phi.derivative(), var1=F.q1, var2=F.q2).result.subs(sub, simultaneous=True)
    return K, Kd


def stax_functions(phi):
    """``(fn, nngp_fn, d_nngp_fn)`` as NumPy functions (the ``stax.Elementwise`` signature)."""
    import numpy as np

    K, Kd = kernel_expressions(phi)
    x = sp.Symbol("x", real=True)
    try:
        fn = sp.lambdify(x, phi.expr.subs(sp.Symbol("x", real=True), x), modules=["scipy", "numpy"])
    except ImportError:  # pragma: no cover - SciPy is optional
        fn = np.vectorize(sp.lambdify(x, phi.expr, "math"))
    nngp = numpy_function(K, [_c12, _v1, _v2])
    dnngp = numpy_function(Kd, [_c12, _v1, _v2])
    return fn, nngp, dnngp


def c_kernel_source(phi, prefix="smf"):
    """C99 source of ``double <prefix>_nngp(cov12, var1, var2)`` and ``<prefix>_d_nngp``."""
    K, Kd = kernel_expressions(phi)
    a = c_function_source(K, [_c12, _v1, _v2], f"{prefix}_nngp")
    b = c_function_source(Kd, [_c12, _v1, _v2], f"{prefix}_d_nngp").replace("#include <math.h>\n", "")
    guard = "#ifndef M_PI\n#define M_PI 3.14159265358979323846264338327950288\n#endif\n"  # not in strict C99
    return a.replace("#include <math.h>\n", "#include <math.h>\n" + guard, 1) + "\n" + b


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
