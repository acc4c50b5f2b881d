r"""Safe parsing of user-typed expressions.

SymPy's ``sympify``/``parse_expr`` call Python's ``eval``; a string such as
``__import__('os').system('...')`` would run.  Here the string is parsed with
:mod:`ast` and the tree is *walked*: only numbers, names, arithmetic,
comparisons and calls of whitelisted functions are accepted, and the SymPy
object is built node by node.  Nothing is ever evaluated as Python.

Conventions (for the command line and :func:`symbolic_mf.check`):

* ``^`` and ``**`` are powers; decimals are read exactly (``0.1`` is 1/10).
* ``E(expr)`` is a Gaussian expectation.  If ``expr`` mentions ``u`` or
  ``v`` they are a centred Gaussian pair with unit variances and correlation
  ``c`` (options ``c=``, ``q1=``, ``q2=``, in which case ``c`` is the
  covariance); otherwise ``z`` is a standard Gaussian (option ``q=`` for its
  variance).
* ``rho(alpha, x)`` is :math:`\max(0,x)^\alpha`; ``relu(x)``, ``step(x)``,
  ``He(n, x)`` (probabilists' Hermite), ``hyp2f1(a, b, c, x)``,
  ``hyp1f1(a, b, x)``, ``Integral(f, (x, a, b))``, ``Sum(f, (k, a, b))`` and
  ``diff(f, x)`` (left unevaluated) are available besides the usual
  elementary and special functions.

>>> parse_expression("2^(alpha - 1) * gamma(alpha + 1/2) / sqrt(pi)")
2**(alpha - 1)*gamma(alpha + 1/2)/sqrt(pi)
>>> parse_expression("E(relu(u) * relu(v))")
E[rho(1, u)*rho(1, v); u, v ~ N(0, [[1, c], [c, 1]])]
>>> parse_expression("__import__('os').system('echo pwned')")
Traceback (most recent call last):
...
symbolic_mf.errors.ParseError: only calls of named functions are allowed (no attributes or indexing)
>>> parse_expression("__import__('os')")
Traceback (most recent call last):
...
symbolic_mf.errors.ParseError: names starting with '_' are not allowed: '__import__'
"""

from __future__ import annotations

import ast
import re
from typing import Dict, Optional

import sympy as sp

from .errors import ParseError
from .functions import GaussianExpectation, rho, u, v, z

__all__ = ["parse_expression", "parse_condition", "FUNCTIONS", "MAX_LENGTH"]

#: longest accepted input
MAX_LENGTH = 2000
#: deepest accepted expression tree
MAX_DEPTH = 60
#: largest integer argument of factorial-like functions, and largest exponent of a numeric power
MAX_INT_ARG = 10_000
#: largest degree of an orthogonal polynomial built from user input (Legendre of degree 3000
#: takes ~40 s to expand)
MAX_DEGREE = 200
#: largest size, in bits, of an exact number raised to an integer power (10**10000)**10000
#: would need 4e8 bits
MAX_POWER_BITS = 200_000
#: most terms of a finite Sum with numeric limits
MAX_SUM_TERMS = 100_000

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

_CONSTANTS = {
    "pi": sp.pi,
    "oo": sp.oo,
    "inf": sp.oo,
    "EulerGamma": sp.EulerGamma,
    "euler_gamma": sp.EulerGamma,
}


def _hyp2f1(a, b, c, x):
    return sp.hyper([a, b], [c], x)


def _hyp1f1(a, b, x):
    return sp.hyper([a], [b], x)


#: function names a user may call, and what they build
FUNCTIONS = {
    "sqrt": sp.sqrt,
    "exp": sp.exp,
    "log": sp.log,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "arcsin": sp.asin,
    "arccos": sp.acos,
    "arctan": sp.atan,
    "atan2": sp.atan2,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "sech": sp.sech,
    "erf": sp.erf,
    "erfc": sp.erfc,
    "gamma": sp.gamma,
    "loggamma": sp.loggamma,
    "beta": sp.beta,
    "factorial": sp.factorial,
    "binomial": sp.binomial,
    "hyper": sp.hyper,
    "hyp2f1": _hyp2f1,
    "hyp1f1": _hyp1f1,
    "besselk": sp.besselk,
    "besseli": sp.besseli,
    "besselj": sp.besselj,
    "abs": sp.Abs,
    "Abs": sp.Abs,
    "sign": sp.sign,
    "Heaviside": sp.Heaviside,
    "step": lambda x: rho(0, x),
    "relu": lambda x: rho(1, x),
    "rho": rho,
    "max": sp.Max,
    "Max": sp.Max,
    "min": sp.Min,
    "Min": sp.Min,
    "He": sp.hermite_prob,
    "hermite_prob": sp.hermite_prob,
    "gegenbauer": sp.gegenbauer,
    "legendre": sp.legendre,
    "KroneckerDelta": sp.KroneckerDelta,
}
_SPECIAL_FORMS = ("E", "Integral", "Sum", "diff", "Derivative")
_INT_GUARDED = {"factorial", "binomial", "gamma", "He", "hermite_prob", "gegenbauer", "legendre", "loggamma"}
_DEGREE_GUARDED = {"He", "hermite_prob", "gegenbauer", "legendre"}

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_CMPOPS = {
    ast.Lt: sp.Lt,
    ast.LtE: sp.Le,
    ast.Gt: sp.Gt,
    ast.GtE: sp.Ge,
    ast.Eq: sp.Eq,
    ast.NotEq: sp.Ne,
}


class _Builder:
    def __init__(self, allow_conditions: bool, symbols: Optional[Dict[str, sp.Symbol]]):
        self.allow_conditions = allow_conditions
        self.symbols = dict(symbols or {})

    def symbol(self, name: str) -> sp.Symbol:
        if name.startswith("_"):
            raise ParseError(f"names starting with '_' are not allowed: {name!r}")
        if not _NAME_RE.match(name):
            raise ParseError(f"{name!r} is not a valid variable name")
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in FUNCTIONS or name in _SPECIAL_FORMS:
            raise ParseError(f"{name!r} is a function: call it, e.g. {name}(x)")
        if name not in self.symbols:
            self.symbols[name] = {"u": u, "v": v, "z": z}.get(name, sp.Symbol(name, real=True))
        return self.symbols[name]

    def build(self, node, depth=0):
        if depth > MAX_DEPTH:
            raise ParseError(f"expression nested deeper than {MAX_DEPTH} levels")
        d = depth + 1
        if isinstance(node, ast.Expression):
            return self.build(node.body, d)
        if isinstance(node, ast.Constant):
            val = node.value
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                raise ParseError(f"only numbers are allowed as constants, got {val!r}")
            if isinstance(val, int):
                return sp.Integer(val)
            return sp.Rational(repr(val)) if abs(val) != float("inf") else sp.oo
        if isinstance(node, ast.Name):
            return self.symbol(node.id)
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand, d)
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(node.op, ast.Not) and self.allow_conditions:
                return sp.Not(operand)
            raise ParseError(f"operator {type(node.op).__name__} is not allowed")
        if isinstance(node, ast.BinOp):
            a, b = self.build(node.left, d), self.build(node.right, d)
            if isinstance(node.op, ast.Pow):
                return self.power(a, b)
            op = _BINOPS.get(type(node.op))
            if op is None:
                raise ParseError(f"operator {type(node.op).__name__} is not allowed (use + - * / ^)")
            return op(a, b)
        if isinstance(node, ast.Call):
            return self.call(node, d)
        if isinstance(node, ast.Compare):
            if not self.allow_conditions:
                raise ParseError("comparisons are only allowed in conditions (--assume)")
            parts = []
            left = self.build(node.left, d)
            for op, right_node in zip(node.ops, node.comparators):
                right = self.build(right_node, d)
                fn = _CMPOPS.get(type(op))
                if fn is None:
                    raise ParseError(f"comparison {type(op).__name__} is not allowed")
                parts.append(fn(left, right))
                left = right
            return sp.And(*parts) if len(parts) > 1 else parts[0]
        if isinstance(node, ast.BoolOp) and self.allow_conditions:
            vals = [self.build(x, d) for x in node.values]
            return sp.And(*vals) if isinstance(node.op, ast.And) else sp.Or(*vals)
        raise ParseError(f"{type(node).__name__} is not allowed in an expression")

    def power(self, a, b):
        if a.is_number and b.is_number and not (a in (0, 1, -1)):
            if abs(b) > MAX_INT_ARG:
                raise ParseError(f"exponent {b} of a numeric power is too large (limit {MAX_INT_ARG})")
            if a.is_Rational and b.is_Integer:
                bits = max(int(a.p).bit_length(), int(a.q).bit_length()) * abs(int(b))
                if bits > MAX_POWER_BITS:
                    raise ParseError(
                        f"numeric power {sp.sstr(b)} of a {max(int(a.p).bit_length(), int(a.q).bit_length())}-bit "
                        f"number is too large (result limited to {MAX_POWER_BITS} bits)"
                    )
        return a**b

    def tuple_(self, node, d, what):
        if not isinstance(node, ast.Tuple) or len(node.elts) != 3:
            raise ParseError(f"{what} limits must be a tuple (variable, lower, upper)")
        var = node.elts[0]
        if not isinstance(var, ast.Name):
            raise ParseError(f"{what} variable must be a name")
        return (self.symbol(var.id), self.build(node.elts[1], d), self.build(node.elts[2], d))

    def call(self, node, d):
        if not isinstance(node.func, ast.Name):
            raise ParseError("only calls of named functions are allowed (no attributes or indexing)")
        name = node.func.id
        if name.startswith("_"):
            raise ParseError(f"names starting with '_' are not allowed: {name!r}")
        if name in _SPECIAL_FORMS:
            return self.special(name, node, d)
        if node.keywords:
            raise ParseError(f"{name}() takes no keyword arguments")
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise ParseError(
                f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS) + list(_SPECIAL_FORMS))}"
            )
        if name == "hyper":
            if len(node.args) != 3 or not all(isinstance(x, (ast.List, ast.Tuple)) for x in node.args[:2]):
                raise ParseError("hyper takes ([a1, ...], [b1, ...], x)")
            ap = [self.build(x, d) for x in node.args[0].elts]
            bq = [self.build(x, d) for x in node.args[1].elts]
            return sp.hyper(ap, bq, self.build(node.args[2], d))
        args = [self.build(a, d) for a in node.args]
        if name in _INT_GUARDED:
            for a in args:
                if a.is_number and a.is_real and abs(a) > MAX_INT_ARG:
                    raise ParseError(f"argument {a} of {name} is too large (limit {MAX_INT_ARG})")
        if name in _DEGREE_GUARDED and args and args[0].is_number and args[0].is_real and abs(args[0]) > MAX_DEGREE:
            raise ParseError(f"degree {args[0]} of {name} is too large (limit {MAX_DEGREE})")
        try:
            return fn(*args)
        except TypeError as e:
            raise ParseError(f"wrong number of arguments for {name}: {e}") from None

    def special(self, name, node, d):
        if name == "E":
            if len(node.args) != 1:
                raise ParseError("E takes one expression, e.g. E(relu(u)*relu(v)), with options c=, q=, q1=, q2=")
            expr = self.build(node.args[0], d)
            opts = {}
            for kw in node.keywords:
                if kw.arg not in ("c", "q", "q1", "q2"):
                    raise ParseError(f"E() has no option {kw.arg!r} (allowed: c, q, q1, q2)")
                opts[kw.arg] = self.build(kw.value, d)
            free = expr.free_symbols
            if u in free or v in free:
                if z in free:
                    raise ParseError("E(): use either z (one Gaussian) or u, v (a Gaussian pair), not both")
                c = opts.get("c", self.symbol("c"))
                q1, q2 = opts.get("q1", 1), opts.get("q2", 1)
                return GaussianExpectation(expr, [u, v], [[q1, c], [c, q2]])
            if z in free:
                return GaussianExpectation(expr, [z], [[opts.get("q", 1)]])
            raise ParseError("E(): the expression must involve z, or u and v")
        if node.keywords:
            raise ParseError(f"{name}() takes no keyword arguments")
        if name == "Integral":
            if len(node.args) != 2:
                raise ParseError("Integral takes (f, (x, a, b))")
            return sp.Integral(self.build(node.args[0], d), self.tuple_(node.args[1], d, "Integral"))
        if name == "Sum":
            if len(node.args) != 2:
                raise ParseError("Sum takes (f, (k, a, b))")
            k, lo, hi = self.tuple_(node.args[1], d, "Sum")
            if lo.is_number and hi.is_number and lo.is_finite and hi.is_finite and hi - lo >= MAX_SUM_TERMS:
                raise ParseError(f"Sum over {hi - lo + 1} terms is too long (limit {MAX_SUM_TERMS})")
            return sp.Sum(self.build(node.args[0], d), (k, lo, hi))
        # diff / Derivative: unevaluated
        if len(node.args) != 2 or not isinstance(node.args[1], ast.Name):
            raise ParseError(f"{name} takes (f, x)")
        return sp.Derivative(self.build(node.args[0], d), self.symbol(node.args[1].id))


def _parse(text: str, allow_conditions: bool, symbols=None):
    if not isinstance(text, str):
        raise ParseError(f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"expression longer than {MAX_LENGTH} characters")
    src = text.replace("^", "**").strip()
    if not src:
        raise ParseError("empty expression")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        raise ParseError(f"cannot parse {text!r}: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ParseError(f"cannot parse {text!r}: {type(e).__name__}") from None
    try:
        return _Builder(allow_conditions, symbols).build(tree)
    except RecursionError:
        raise ParseError("expression too deeply nested") from None


def parse_expression(text: str, symbols: Optional[Dict[str, sp.Symbol]] = None) -> sp.Expr:
    """Parse ``text`` into a SymPy expression without evaluating any Python.

    ``symbols`` maps names to existing SymPy symbols (to reuse assumptions).

    >>> parse_expression("hyp2f1(a, b, 1/2, c^2)")
    hyper((a, b), (1/2,), c**2)
    >>> parse_expression("0.1 + x")
    x + 1/10
    >>> parse_expression("factorial(10**9)")
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.ParseError: argument 1000000000 of factorial is too large (limit 10000)
    """
    return _parse(text, False, symbols)


def parse_condition(text: str, symbols: Optional[Dict[str, sp.Symbol]] = None):
    """Parse a condition such as ``"alpha > -1/2 and k != j"``.

    >>> parse_condition("a > -1/2 and k != j")
    (a > -1/2) & Ne(k, j)
    """
    out = _parse(text, True, symbols)
    if not isinstance(out, (sp.core.relational.Relational, sp.logic.boolalg.Boolean)):
        raise ParseError(f"{text!r} is not a condition (use <, <=, >, >=, ==, !=)")
    return out
