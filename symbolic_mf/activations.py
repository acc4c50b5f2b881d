r"""Activations as objects every engine understands.

An :class:`Activation` knows its SymPy expression in one real variable, its
derivative, and (when it has one) its positive-homogeneity degree.  The
α-homogeneous family :math:`\phi(x) = a\,\rho_\alpha(x) - b\,\rho_\alpha(-x)`
is :class:`HomogeneousActivation`, with ``alpha``, ``a`` and ``b`` symbolic
or numeric; :math:`\rho_\alpha` is kept through its support (the SymPy
function :class:`~symbolic_mf.functions.rho`), never as ``Max(0, x)**alpha``.

>>> from sympy import Symbol
>>> alpha = Symbol("alpha", positive=True)
>>> relu().expr
rho(1, x)
>>> rho_alpha(alpha).derivative().expr
alpha*rho(alpha - 1, x)
>>> leaky_relu(Rational(1, 10))(-2)
-1/5
>>> tanh().degree is None, abs_power(3).degree
(True, 3)
>>> print(mp.nstr(relu().kernel_numeric(0, dps=20), 15))  # E[relu(u) relu(v)] at c = 0: 1/(2 pi)
0.159154943091895
"""

from __future__ import annotations

from typing import Optional

import sympy as sp
from mpmath import mp
from sympy import Rational

from .errors import DomainError, ParseError
from .functions import bivariate_expectation, rho, u, v

__all__ = [
    "x",
    "Activation",
    "HomogeneousActivation",
    "rho_alpha",
    "relu",
    "leaky_relu",
    "abs_power",
    "signed_power",
    "step",
    "identity",
    "tanh",
    "erf",
    "gelu",
    "sin",
    "cos",
    "exp",
    "softplus",
    "swish",
    "elu",
    "get_activation",
    "parse_activation_spec",
    "ACTIVATIONS",
    "SPECS",
]

#: the variable activations are written in
x = sp.Symbol("x", real=True)


class Activation:
    """A scalar activation :math:`\\phi(x)` given by a SymPy expression in :data:`x`.

    ``degree`` is the positive-homogeneity degree if :math:`\\phi(tx) =
    t^{d}\\phi(x)` for all ``t > 0`` (``None`` otherwise).
    """

    def __init__(self, expr, name: Optional[str] = None, degree=None):
        self.expr = sp.sympify(expr)
        extra = self.expr.free_symbols - {x}
        self.parameters = tuple(sorted(extra, key=lambda s: s.name))
        self.name = name or str(self.expr)
        self.degree = None if degree is None else sp.sympify(degree)

    def __call__(self, arg):
        """The SymPy expression :math:`\\phi(\\mathrm{arg})`."""
        return self.expr.subs(x, arg)

    def derivative(self) -> "Activation":
        """:math:`\\phi'` (distributional: the step's derivative is not a function)."""
        d = None if self.degree is None else self.degree - 1
        return Activation(sp.diff(self.expr, x), name=f"d{self.name}", degree=d)

    def kernel(self, c, q1=1, q2=1):
        """The unevaluated dual kernel :math:`\\mathbb{E}[\\phi(u)\\phi(v)]` (a SymPy object)."""
        return bivariate_expectation(self(u) * self(v), c, q1, q2)

    def kernel_numeric(self, c, q1=1, q2=1, dps: int = 30):
        """:math:`\\mathbb{E}[\\phi(u)\\phi(v)]` by quadrature at ``dps`` digits (an mpf).

        ``c`` is the covariance E[uv] (the correlation for unit variances).
        Raises :class:`~symbolic_mf.errors.NotPSDError` for a covariance that
        is not positive semi-definite.
        """
        from .numeric import evaluate

        cs = sp.Symbol("c_", real=True)
        return evaluate(self.kernel(cs, q1, q2), {cs: sp.nsimplify(c) if isinstance(c, float) else c}, dps)

    def _sympystr(self, printer):
        return self.name

    def __repr__(self):
        return f"Activation({self.name}: {self.expr})"


def _exact(v):
    """SymPy number or expression, floats (Python or SymPy) as the exact decimal they print as."""
    if isinstance(v, float):
        return sp.Rational(repr(v))
    v = sp.sympify(v)
    return sp.Rational(str(v)) if isinstance(v, sp.Float) else v


class HomogeneousActivation(Activation):
    r""":math:`\phi(x) = a\,\rho_\alpha(x) - b\,\rho_\alpha(-x)`, :math:`\alpha > -1/2`.

    The bound :math:`\alpha > -1/2` is where :math:`\mathbb{E}[\phi(z)^2]`
    is finite; a numeric ``alpha <= -1/2`` raises :class:`DomainError`.
    The engines need exact parameters: a float is read as the decimal it
    prints as (``0.1`` is 1/10, as ``sympy.Rational("0.1")``).

    >>> HomogeneousActivation(0.75, 1, 0.1).alpha, HomogeneousActivation(0.75, 1, 0.1).b
    (3/4, 1/10)
    """

    def __init__(self, alpha, a=1, b=0, name: Optional[str] = None):
        alpha, a, b = (_exact(v) for v in (alpha, a, b))
        if alpha.is_number and not alpha > Rational(-1, 2):
            raise DomainError("alpha", alpha, "alpha > -1/2 (E[phi(z)^2] is finite only there)")
        self.alpha, self.a, self.b = alpha, a, b
        expr = a * rho(alpha, x) - b * rho(alpha, -x)
        super().__init__(expr, name=name or f"{a}*rho_{alpha}(x) - {b}*rho_{alpha}(-x)", degree=alpha)


def rho_alpha(alpha) -> HomogeneousActivation:
    r""":math:`\rho_\alpha(x) = \max(0, x)^\alpha`."""
    return HomogeneousActivation(alpha, 1, 0, name=f"rho_{alpha}")


def relu() -> HomogeneousActivation:
    """ReLU, :math:`\\rho_1`."""
    return HomogeneousActivation(1, 1, 0, name="relu")


def leaky_relu(slope=Rational(1, 100)) -> HomogeneousActivation:
    """Leaky ReLU: ``x`` for ``x > 0``, ``slope*x`` otherwise."""
    return HomogeneousActivation(1, 1, sp.sympify(slope), name=f"leaky_relu({slope})")


def abs_power(alpha) -> HomogeneousActivation:
    """:math:`|x|^\\alpha`."""
    return HomogeneousActivation(alpha, 1, -1, name=f"abs^{alpha}")


def signed_power(alpha) -> HomogeneousActivation:
    """:math:`\\operatorname{sign}(x)|x|^\\alpha`."""
    return HomogeneousActivation(alpha, 1, 1, name=f"sign*abs^{alpha}")


def step() -> HomogeneousActivation:
    """The Heaviside step, :math:`\\rho_0`."""
    return HomogeneousActivation(0, 1, 0, name="step")


def identity() -> HomogeneousActivation:
    """:math:`\\phi(x) = x`, as the family member (1, 1) with α = 1."""
    return HomogeneousActivation(1, 1, 1, name="identity")


def tanh() -> Activation:
    return Activation(sp.tanh(x), "tanh")


def erf() -> Activation:
    return Activation(sp.erf(x), "erf")


def gelu() -> Activation:
    r"""GELU, :math:`x\Phi(x)`."""
    return Activation(x * (1 + sp.erf(x / sp.sqrt(2))) / 2, "gelu")


def sin() -> Activation:
    return Activation(sp.sin(x), "sin")


def cos() -> Activation:
    return Activation(sp.cos(x), "cos")


def exp() -> Activation:
    return Activation(sp.exp(x), "exp")


def softplus() -> Activation:
    return Activation(sp.log(1 + sp.exp(x)), "softplus")


def swish() -> Activation:
    """SiLU / swish, :math:`x\\,\\sigma(x)`."""
    return Activation(x / (1 + sp.exp(-x)), "swish")


def elu(a=1) -> Activation:
    """ELU: ``x`` for ``x > 0``, ``a*(exp(x) - 1)`` otherwise (as ρ pieces), ``a > 0``.

    >>> elu(0)
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.DomainError: a = 0 is outside its valid range: a > 0 (the ELU scale)
    """
    a = sp.sympify(a)
    if a.is_number and not (a.is_real and a > 0):
        raise DomainError("a", a, "a > 0 (the ELU scale)")
    return Activation(rho(1, x) + a * (sp.exp(x) - 1) * rho(0, -x), f"elu({a})")


#: constructors by name (zero-argument defaults), for the CLI and the parser
ACTIVATIONS = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "step": step,
    "identity": identity,
    "tanh": tanh,
    "erf": erf,
    "gelu": gelu,
    "sin": sin,
    "cos": cos,
    "exp": exp,
    "softplus": softplus,
    "swish": swish,
    "elu": elu,
}


def get_activation(spec) -> Activation:
    """An activation from a spec string, or an Activation unchanged.

    Accepts everything :func:`parse_activation_spec` does, plus the short
    forms ``"rho_<alpha>"``, ``"abs_<alpha>"`` and ``"signed_<alpha>"``.

    >>> get_activation("rho_1/2").alpha
    1/2
    >>> get_activation("leaky_relu:slope=0.1").b
    1/10
    >>> get_activation("sigmoid2")
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.DomainError: activation = sigmoid2 is outside its valid range: one of relu, ...
    """
    if isinstance(spec, Activation):
        return spec
    name = str(spec).strip()
    if ":" in name:
        return parse_activation_spec(name)
    if name in ACTIVATIONS:
        return ACTIVATIONS[name]()
    if name in SPECS:
        return parse_activation_spec(name)
    for prefix, make in (("rho_", rho_alpha), ("abs_", abs_power), ("signed_", signed_power)):
        if name.startswith(prefix):
            return make(_spec_value(name[len(prefix):], "alpha"))
    valid = ", ".join(list(ACTIVATIONS) + ["rho_<alpha>", "abs_<alpha>", "signed_<alpha>"]
                      + [k for k in SPECS if k not in ACTIVATIONS])
    raise DomainError("activation", spec, f"one of {valid}")


#: the parametrised specs ``NAME:key=value,...``: name -> (parameters with defaults, description)
SPECS = {
    "relu": ((), "max(0, x)"),
    "rho": ((("alpha", 1),), "rho_alpha(x) = max(0, x)^alpha, alpha > -1/2"),
    "homogeneous": ((("alpha", 1), ("a", 1), ("b", 0)), "a rho_alpha(x) - b rho_alpha(-x), alpha > -1/2"),
    "leaky_relu": ((("slope", Rational(1, 100)),), "x for x > 0, slope*x otherwise"),
    "abs": ((("alpha", 1),), "|x|^alpha"),
    "signed": ((("alpha", 1),), "sign(x) |x|^alpha"),
    "step": ((), "Heaviside step, rho_0"),
    "identity": ((), "x"),
    "tanh": ((), "tanh(x)"),
    "erf": ((), "erf(x)"),
    "gelu": ((), "x Phi(x) (Gaussian CDF Phi)"),
    "sin": ((), "sin(x)"),
    "cos": ((), "cos(x)"),
    "exp": ((), "exp(x)"),
    "softplus": ((), "log(1 + exp(x))"),
    "swish": ((), "x sigmoid(x) (SiLU)"),
    "elu": ((("a", 1),), "x for x > 0, a (exp(x) - 1) otherwise"),
}


def _spec_value(text, key):
    text = text.strip()
    if text.isidentifier():
        return sp.Symbol(text, real=True)
    try:
        return sp.Rational(text) if ("." in text or "/" in text) else sp.Integer(text)
    except (TypeError, ValueError):
        raise ParseError(f"activation parameter {key}={text!r}: expected a number like 0.7, 3/2 or a name")


def parse_activation_spec(spec: str) -> Activation:
    """An activation from ``NAME[:key=value,...]`` (the CLI's activation specs).

    Numbers are read exactly (``0.7`` is ``7/10``); a parameter given as a
    name (``alpha=alpha``) stays symbolic.  :data:`SPECS` lists the names.

    >>> parse_activation_spec("homogeneous:alpha=1.5,a=1,b=0.3").b
    3/10
    >>> parse_activation_spec("rho:alpha=0.7").alpha
    7/10
    >>> parse_activation_spec("rho:beta=2")
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.ParseError: activation rho takes parameters alpha, got 'beta'
    """
    name, _, rest = str(spec).partition(":")
    name = name.strip()
    if name not in SPECS:
        raise DomainError("activation", name, "one of " + ", ".join(SPECS))
    params = dict(SPECS[name][0])
    kw = {}
    if rest.strip():
        for item in rest.split(","):
            key, eq, val = item.partition("=")
            key = key.strip()
            if not eq:
                raise ParseError(f"activation parameter {item!r}: write key=value")
            if key not in params:
                raise ParseError(f"activation {name} takes parameters {', '.join(params) or 'none'}, got {key!r}")
            kw[key] = _spec_value(val, key)
    p = {**params, **kw}
    label = str(spec).strip()
    if name == "rho":
        return HomogeneousActivation(p["alpha"], 1, 0, name=label)
    if name == "homogeneous":
        return HomogeneousActivation(p["alpha"], p["a"], p["b"], name=label)
    if name == "leaky_relu":
        return HomogeneousActivation(1, 1, p["slope"], name=label)
    if name == "abs":
        return HomogeneousActivation(p["alpha"], 1, -1, name=label)
    if name == "signed":
        return HomogeneousActivation(p["alpha"], 1, 1, name=label)
    if name == "elu":
        return elu(p["a"])
    return ACTIVATIONS[name]()
