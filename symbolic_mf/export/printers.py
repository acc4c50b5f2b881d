r"""Code printers for any derived SymPy expression (Gamma, ₂F₁, acos, sqrt, powers).

SymPy's stock printers cannot print ``hyper`` and the JAX printer emits
``math.gamma`` (which fails under ``jit``); these subclasses fix both by
``_print_*`` hooks.  For the α-homogeneous family prefer
:mod:`symbolic_mf.export.codegen`, whose forms are chosen for accuracy near
c = ±1; these printers export an expression as written.

>>> import sympy as sp
>>> c, a = sp.symbols("c alpha")
>>> expr = sp.gamma(a + 1) * sp.hyper([-sp.S.Half, -sp.S.Half], [sp.S.Half], c**2)
>>> print(NumPyKernelPrinter().doprint(expr))
scipy.special.gamma(alpha + 1)*scipy.special.hyp2f1(-1/2, -1/2, 1/2, c**2)
>>> print(JaxKernelPrinter().doprint(sp.gamma(c)))
jax.scipy.special.gamma(c)
>>> f = numpy_function(sp.sqrt(1 - c**2) + c * sp.acos(-c), [c])
>>> round(float(f(0.5)), 12)
1.913222954981
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.c import C99CodePrinter
from sympy.printing.numpy import JaxPrinter, SciPyPrinter

__all__ = ["NumPyKernelPrinter", "JaxKernelPrinter", "CKernelPrinter", "numpy_function", "jax_function",
           "c_function_source", "C_HYP2F1"]


def _check_2f1(expr):
    if len(expr.ap) != 2 or len(expr.bq) != 1:
        raise NotImplementedError(f"only 2F1 is exported, got {expr}")


class NumPyKernelPrinter(SciPyPrinter):
    """NumPy/SciPy: ``hyper([a, b], [c], z)`` -> ``scipy.special.hyp2f1``."""

    def _print_hyper(self, expr):
        _check_2f1(expr)
        args = ", ".join(self._print(t) for t in (*expr.ap, *expr.bq, expr.argument))
        return f"{self._module_format('scipy.special.hyp2f1')}({args})"


class JaxKernelPrinter(JaxPrinter):
    """JAX: Gamma and 2F1 from ``jax.scipy.special`` (jit-safe)."""

    def _print_gamma(self, expr):
        return f"{self._module_format('jax.scipy.special.gamma')}({self._print(expr.args[0])})"

    def _print_loggamma(self, expr):
        return f"{self._module_format('jax.scipy.special.gammaln')}({self._print(expr.args[0])})"

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
    """A NumPy/SciPy function of ``args`` evaluating ``expr`` (printed by :class:`NumPyKernelPrinter`)."""
    return sp.lambdify(args, expr, modules=["scipy", "numpy"], printer=NumPyKernelPrinter)


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
