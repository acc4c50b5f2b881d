r"""Code printers for any derived SymPy expression (Gamma, ₂F₁, acos, sqrt, powers).

SymPy's stock printers cannot print ``hyper`` and the JAX printer emits
``math.gamma`` (which fails under ``jit``); these subclasses fix both by
``_print_*`` hooks.  For the α-homogeneous family prefer
:mod:`symbolic_mf.export.codegen`, whose forms are chosen for accuracy near
c = ±1; these printers export an expression as written.

>>> import sympy as sp
>>> c, a = sp.symbols("c alpha")
>>> expr = sp.gamma(a + 1) * sp.hyper([-sp.S.Half, -sp.S.Half], [sp.S.Half], c**2)
>>> print(SciPyKernelPrinter().doprint(expr))
scipy.special.gamma(alpha + 1)*scipy.special.hyp2f1(-1/2, -1/2, 1/2, c**2)
>>> print(NumPyKernelPrinter().doprint(expr))
smf_gamma(alpha + 1)*smf_hyp2f1(-1/2, -1/2, 1/2, c**2)
>>> print(JaxKernelPrinter().doprint(sp.gamma(c)))
jax.scipy.special.gamma(c)
>>> f = numpy_function(sp.sqrt(1 - c**2) + c * sp.acos(-c), [c])
>>> round(float(f(0.5)), 12)
1.913222954981
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.c import C99CodePrinter
from sympy.printing.numpy import JaxPrinter, NumPyPrinter, SciPyPrinter

__all__ = ["NumPyKernelPrinter", "SciPyKernelPrinter", "JaxKernelPrinter", "numpy_namespace", "CKernelPrinter", "numpy_function", "jax_function",
           "c_function_source", "C_HYP2F1"]


def _check_2f1(expr):
    if len(expr.ap) != 2 or len(expr.bq) != 1:
        raise NotImplementedError(f"only 2F1 is exported, got {expr}")


class SciPyKernelPrinter(SciPyPrinter):
    """NumPy/SciPy: ``hyper([a, b], [c], z)`` -> ``scipy.special.hyp2f1``."""

    def _print_hyper(self, expr):
        _check_2f1(expr)
        args = ", ".join(self._print(t) for t in (*expr.ap, *expr.bq, expr.argument))
        return f"{self._module_format('scipy.special.hyp2f1')}({args})"


class NumPyKernelPrinter(NumPyPrinter):
    """NumPy with SciPy optional: Gamma and 2F1 print as ``smf_gamma``/``smf_hyp2f1``,
    supplied by :func:`numpy_namespace` (SciPy's when installed, else NumPy series)."""

    def _print_gamma(self, expr):
        return f"smf_gamma({self._print(expr.args[0])})"

    def _print_hyper(self, expr):
        _check_2f1(expr)
        args = ", ".join(self._print(t) for t in (*expr.ap, *expr.bq, expr.argument))
        return f"smf_hyp2f1({args})"


def _hyp2f1_numpy(a, b, c, z):
    """2F1 for real z < 1 by its power series (Pfaff transformation for z < -1/2)."""
    import numpy as np

    z = np.asarray(z, dtype=float)
    neg = z < -0.5
    zz = np.where(neg, z / (z - 1), z)
    bb = np.where(neg, c - b, b)
    term = np.ones_like(zz)
    total = np.ones_like(zz)
    for k in range(4000):
        term = term * (a + k) * (bb + k) / ((c + k) * (k + 1.0)) * zz
        total = total + term
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            break
    return np.where(neg, (1 - z) ** (-a) * total, total)


def numpy_namespace():
    """Implementations of ``smf_gamma`` and ``smf_hyp2f1`` for :class:`NumPyKernelPrinter` code."""
    import math

    import numpy as np

    try:
        from scipy.special import gamma, hyp2f1

        return {"smf_gamma": gamma, "smf_hyp2f1": hyp2f1}
    except ImportError:
        return {"smf_gamma": np.vectorize(math.gamma, otypes=[float]), "smf_hyp2f1": _hyp2f1_numpy}


class JaxKernelPrinter(JaxPrinter):
    """JAX: Gamma and 2F1 from ``jax.scipy.special`` (jit-safe)."""

    def _print_gamma(self, expr):
        return f"{self._module_format('jax.scipy.special.gamma')}({self._print(expr.args[0])})"

    def _print_loggamma(self, expr):
        return f"{self._module_format('jax.scipy.special.gammaln')}({self._print(expr.args[0])})"

    def _print_erf(self, expr):  # SymPy's JaxPrinter emits math.erf (fails on arrays and under jit)
        return f"{self._module_format('jax.scipy.special.erf')}({self._print(expr.args[0])})"

    # XLA's sinh/cosh lose up to 17 ulp for |x| ~ 100 (jax 0.10.2, CPU; exp and expm1 are within
    # 1 ulp): both terms below have one sign, so these forms are accurate to ~2 ulp everywhere
    def _print_sinh(self, expr):
        a, em1 = self._print(expr.args[0]), self._module_format('jax.numpy.expm1')
        return f"(({em1}({a}) - {em1}(-({a})))/2)"

    def _print_cosh(self, expr):
        a, ex = self._print(expr.args[0]), self._module_format('jax.numpy.exp')
        return f"(({ex}({a}) + {ex}(-({a})))/2)"

    # XLA's algebraic simplifier rewrites exp(a)*exp(b) as exp(a + b), which rounds the argument
    # (exp(c) exp(q1/2) exp(q2/2) lost 94 ulp at c = q = 100): an optimization barrier keeps each factor
    def _print_exp(self, expr):
        ex, bar = self._module_format('jax.numpy.exp'), self._module_format('jax.lax.optimization_barrier')
        return f"{bar}({ex}({self._print(expr.args[0])}))"

    def _print_hyper(self, expr):
        _check_2f1(expr)
        args = ", ".join(self._print(t) for t in (*expr.ap, *expr.bq, expr.argument))
        return f"{self._module_format('jax.scipy.special.hyp2f1')}({args})"


#: a 2F1 for real z < 1 in C (power series, Pfaff transformation for z < -1/2)
C_HYP2F1 = r'''
static double smf_hyp2f1_series(double a, double b, double c, double z)
{
    double term = 1.0, sum = 1.0;
    for (int k = 0; k < 2000; ++k) {
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if (fabs(term) <= 1e-17 * fabs(sum)) break;
    }
    return sum;
}

static double smf_hyp2f1(double a, double b, double c, double z)
{
    if (z < -0.5) return pow(1.0 - z, -a) * smf_hyp2f1_series(a, c - b, c, z / (z - 1.0));
    return smf_hyp2f1_series(a, b, c, z);
}
'''


class CKernelPrinter(C99CodePrinter):
    """C99: Gamma -> ``tgamma``; 2F1 -> ``smf_hyp2f1`` (source in :data:`C_HYP2F1`)."""

    def _print_hyper(self, expr):
        _check_2f1(expr)
        args = ", ".join(self._print(sp.Float(t) if t.is_Rational else t)
                         for t in (*expr.ap, *expr.bq, expr.argument))
        return f"smf_hyp2f1({args})"


def numpy_function(expr, args):
    """A NumPy function of ``args`` evaluating ``expr`` (printed by :class:`NumPyKernelPrinter`;
    SciPy used when installed)."""
    return sp.lambdify(args, expr, modules=[numpy_namespace(), "numpy"], printer=NumPyKernelPrinter)


def jax_function(expr, args):
    """A JAX function (jit-safe) evaluating ``expr``."""
    import jax  # noqa: F401  (optional extra)

    return sp.lambdify(args, expr, modules="jax", printer=JaxKernelPrinter)


def c_function_source(expr, args, name="kernel"):
    """C99 source (``#include <math.h>``, the 2F1 it needs, and ``double name(args)``).

    >>> c = sp.Symbol("c")
    >>> print(c_function_source(sp.gamma(c), [c]).splitlines()[-1])
    double kernel(double c) { return tgamma(c); }
    """
    body = CKernelPrinter().doprint(expr)
    params = ", ".join(f"double {sp.ccode(a)}" for a in args)
    helper = C_HYP2F1 if expr.has(sp.hyper) else ""
    return f"#include <math.h>\n{helper}\ndouble {name}({params}) {{ return {body}; }}"
