r"""SymPy objects for the mathematics of wide networks.

``rho(alpha, x)``
    The rectified power :math:`\rho_\alpha(x) = \max(0, x)^\alpha`, a SymPy
    ``Function`` that keeps its support explicit (rather than
    ``Max(0, x)**alpha``, which blocks SymPy's integrators) and prints as
    :math:`\rho_\alpha(x)`.

``GaussianExpectation(expr, variables, covariance)``
    An unevaluated expectation over a centred Gaussian vector; it prints as
    the paper writes it and is evaluated numerically by
    :mod:`symbolic_mf.quadrature`.

>>> from sympy import Symbol, latex
>>> x, a = Symbol("x", real=True), Symbol("alpha", positive=True)
>>> rho(a, 2)
2**alpha
>>> rho(a, -3)
0
>>> rho(a, x).diff(x)
alpha*rho(alpha - 1, x)
>>> rho(a, x).rewrite("Heaviside")
x**alpha*Heaviside(x)
>>> latex(rho(a, x))
'\\rho_{\\alpha}\\left(x\\right)'
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import ArgumentIndexError

__all__ = [
    "rho",
    "GaussianExpectation",
    "expectation",
    "bivariate_expectation",
    "z",
    "u",
    "v",
]

#: Standard names of the Gaussian variables used across the catalogue.
z = sp.Symbol("z", real=True)
u = sp.Symbol("u", real=True)
v = sp.Symbol("v", real=True)


class rho(sp.Function):
    r"""Rectified power :math:`\rho_\alpha(x) = \max(0, x)^\alpha`.

    ``rho(0, x)`` is the step function (with :math:`\rho_0(0)` left
    unevaluated), ``rho(1, x)`` is ReLU.  The derivative in ``x`` is
    :math:`\alpha\rho_{\alpha-1}(x)` (a Dirac delta for :math:`\alpha = 0`).

    >>> from sympy import Symbol, Rational
    >>> x = Symbol("x", real=True)
    >>> rho(Rational(1, 2), 4), rho(0, 5), rho(1, -2)
    (2, 1, 0)
    >>> rho(0, x).diff(x)
    DiracDelta(x)
    """

    nargs = 2

    @classmethod
    def eval(cls, alpha, x):
        if x.is_positive:
            return x**alpha
        if x.is_negative:
            return sp.S.Zero
        if x.is_zero:
            if alpha.is_positive:
                return sp.S.Zero
            if alpha.is_negative:
                return sp.zoo
        return None

    def fdiff(self, argindex=2):
        alpha, x = self.args
        if argindex == 2:
            if alpha.is_zero:
                return sp.DiracDelta(x)
            return alpha * rho(alpha - 1, x)
        if argindex == 1:
            return sp.log(x) * rho(alpha, x)
        raise ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_Heaviside(self, alpha, x, **kwargs):
        return x**alpha * sp.Heaviside(x)

    def _eval_rewrite_as_Piecewise(self, alpha, x, **kwargs):
        return sp.Piecewise((x**alpha, x > 0), (0, True))

    def _eval_rewrite_as_Max(self, alpha, x, **kwargs):
        return sp.Max(0, x) ** alpha

    def _eval_is_extended_nonnegative(self):
        if self.args[1].is_extended_real:
            return True
        return None

    def _eval_is_extended_real(self):
        if self.args[1].is_extended_real:
            return True
        return None

    def _latex(self, printer, exp=None):
        alpha, x = self.args
        tex = r"\rho_{%s}\left(%s\right)" % (printer._print(alpha), printer._print(x))
        if exp is not None:
            tex = r"%s^{%s}" % (tex, exp)
        return tex


class GaussianExpectation(sp.Expr):
    r"""Unevaluated :math:`\mathbb{E}[f(x)]` for a centred Gaussian vector.

    Parameters
    ----------
    expr : sympy expression
        The integrand.
    variables : sequence of Symbol
        The Gaussian variables (bound by the expectation).
    covariance : matrix-like
        Their covariance matrix (symbolic entries allowed).

    The object is never evaluated symbolically: it exists so that an
    identity's left side reads as the paper prints it, and so that the
    verifier can evaluate it by quadrature (:mod:`symbolic_mf.quadrature`).

    >>> from sympy import Symbol, latex
    >>> c = Symbol("c", real=True)
    >>> E = bivariate_expectation(u * v, c)
    >>> E.free_symbols == {c}
    True
    >>> print(latex(expectation(z**2)))
    \mathbb{E}_{z \sim \mathcal{N}(0, 1)}\left[z^{2}\right]
    """

    is_commutative = True

    def __new__(cls, expr, variables, covariance):
        expr = sp.sympify(expr)
        variables = sp.Tuple(*variables)
        covariance = sp.ImmutableMatrix(covariance)
        n = len(variables)
        if covariance.shape != (n, n):
            raise ValueError(
                f"covariance must be {n}x{n} for {n} variables, got shape {covariance.shape}"
            )
        if covariance != covariance.T:
            raise ValueError("covariance must be symmetric")
        return sp.Expr.__new__(cls, expr, variables, covariance)

    @property
    def expr(self):
        return self.args[0]

    @property
    def variables(self):
        return tuple(self.args[1])

    @property
    def covariance(self):
        return self.args[2]

    @property
    def free_symbols(self):
        return (self.expr.free_symbols - set(self.variables)) | self.covariance.free_symbols

    def _eval_subs(self, old, new):
        if old in self.variables:
            return self
        return None

    def doit(self, **hints):
        return self

    def _eval_is_extended_real(self):
        return self.expr.is_extended_real

    def _latex(self, printer, exp=None):
        n = len(self.variables)
        cov = self.covariance
        if n == 1:
            var = printer._print(self.variables[0])
            dist = r"\mathcal{N}(0, %s)" % printer._print(cov[0, 0])
        else:
            var = r"(%s)" % ", ".join(printer._print(x) for x in self.variables)
            if n == 2 and cov[0, 0] == 1 and cov[1, 1] == 1:
                mat = r"\begin{smallmatrix} 1 & %s \\ %s & 1 \end{smallmatrix}" % (
                    printer._print(cov[0, 1]),
                    printer._print(cov[0, 1]),
                )
                dist = r"\mathcal{N}\left(0, \left(%s\right)\right)" % mat
            else:
                dist = r"\mathcal{N}\left(0, %s\right)" % printer._print(cov)
        tex = r"\mathbb{E}_{%s \sim %s}\left[%s\right]" % (var, dist, printer._print(self.expr))
        if exp is not None:
            tex = r"\left(%s\right)^{%s}" % (tex, exp)
        return tex

    def _sympystr(self, printer):
        return "E[%s; %s ~ N(0, %s)]" % (
            printer._print(self.expr),
            ", ".join(printer._print(x) for x in self.variables),
            printer._print(self.covariance.tolist()),
        )


def expectation(expr, variable=z, variance=1):
    r"""One-dimensional :math:`\mathbb{E}_{z\sim\mathcal N(0, q)}[f(z)]`.

    >>> expectation(z**2).covariance
    Matrix([[1]])
    """
    return GaussianExpectation(expr, [variable], [[variance]])


def bivariate_expectation(expr, c, q1=1, q2=1, variables=(u, v)):
    r""":math:`\mathbb{E}[f(u, v)]` for a centred Gaussian pair.

    With unit variances (the default) ``c`` is the correlation; otherwise it
    is the covariance ``E[uv]`` and ``q1``, ``q2`` the variances.

    >>> from sympy import Symbol
    >>> c = Symbol("c")
    >>> bivariate_expectation(u * v, c).covariance
    Matrix([
    [1, c],
    [c, 1]])
    """
    return GaussianExpectation(expr, list(variables), [[q1, c], [c, q2]])
