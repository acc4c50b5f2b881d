"""The safe parser: user strings become SymPy objects, and nothing else ever runs.

An injection corpus (code execution, attribute and dunder access, lambdas,
eval/exec, containers, resource exhaustion) must be rejected with a
:class:`ParseError` that says what was refused -- and must not run: every
case is parsed with ``eval``/``exec``/``__import__``/``open`` booby-trapped
and a sentinel file that a successful ``os.system`` would create.
"""

import builtins
import os
import time

import pytest
import sympy as sp

from symbolic_mf.errors import ParseError, SymbolicMFError
from symbolic_mf.functions import GaussianExpectation, rho
from symbolic_mf.parsing import MAX_DEPTH, MAX_LENGTH, parse_condition, parse_expression

SENTINEL = "/tmp/symbolic_mf_injection_sentinel"

# (input, a fragment the error message must contain)
INJECTIONS = [
    (f"__import__('os').system('touch {SENTINEL}')", "no attributes"),
    ("__import__('os')", "names starting with '_'"),
    ("__builtins__", "names starting with '_'"),
    ("_x + 1", "names starting with '_'"),
    ("().__class__.__bases__[0].__subclasses__()", "no attributes"),
    ("x.__class__", "Attribute"),
    ("x.real", "Attribute"),
    ("sin.__globals__", "Attribute"),
    ("rho(1, z).func", "Attribute"),
    ("lambda: 1", "Lambda"),
    ("(lambda x: x)(1)", "no attributes"),
    ("eval('1+1')", "unknown function 'eval'"),
    ("exec('import os')", "unknown function 'exec'"),
    ("compile('1', '', 'eval')", "unknown function 'compile'"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("getattr(x, 'real')", "unknown function 'getattr'"),
    ("globals()", "unknown function 'globals'"),
    ("vars()", "unknown function 'vars'"),
    ("breakpoint()", "unknown function 'breakpoint'"),
    ("Symbol('x')", "unknown function 'Symbol'"),
    ("sympify('x')", "unknown function 'sympify'"),
    ("import os", "cannot parse"),
    ("x; import os", "cannot parse"),
    ("x\nimport os", "cannot parse"),
    ("'abc'", "only numbers"),
    ("b'abc'", "only numbers"),
    ("f'{x}'", "JoinedStr"),
    ("[1, 2]", "List"),
    ("(1, 2)", "Tuple"),
    ("{1: 2}", "Dict"),
    ("{x}", "Set"),
    ("[c for c in ()]", "ListComp"),
    ("x[0]", "Subscript"),
    ("x if y else z", "IfExp"),
    ("(y := 1)", "NamedExpr"),
    ("True", "only numbers"),
    ("None", "only numbers"),
    ("...", "only numbers"),
    ("x == 1", "comparisons are only allowed in conditions"),
    ("x and y", "BoolOp"),
    ("~x", "Invert"),
    ("x @ y", "MatMult"),
    ("x // y", "FloorDiv"),
    ("x % y", "Mod"),
    ("x << 2", "LShift"),
    ("x & y", "BitAnd"),
    ("gamma(x)(1)", "no attributes or indexing"),
    ("sin", "is a function"),
    ("sin(x, y)", "wrong number of arguments"),
    ("sin(x=1)", "keyword"),
    ("E(z, q=__import__('os'))", "names starting with '_'"),
    ("E(z, lol=1)", "no option 'lol'"),
    ("Integral(x, (x, 0, __import__('os')))", "names starting with '_'"),
    ("Integral(x, x)", "tuple"),
    ("hyper(__import__('os'), [1], x)", "hyper takes"),
    # resource exhaustion: refused before any work is done
    ("2**10**100", "too large"),
    ("9**9**9**9", "too large"),
    ("10**100000", "too large"),
    ("(10**10000)**10000", "too large"),
    ("factorial(10**9)", "too large"),
    ("gamma(10**7)", "too large"),
    ("binomial(10**6, 10)", "too large"),
    ("legendre(3000, x)", "too large"),
    ("He(100000, z)", "too large"),
    ("Sum(k, (k, 0, 10**12))", "too long"),
    ("x" + " + x" * (MAX_LENGTH // 4), "longer than"),
    ("sin(" * 100 + "x" + ")" * 100, "nested"),
    ("(" * 500 + "x" + ")" * 500, "nest"),  # CPython's own parser limit, also a ParseError
    ("-" * (MAX_DEPTH + 5) + "x", "nested"),
    ("", "empty"),
    ("   ", "empty"),
    ("x +", "cannot parse"),
]


@pytest.fixture
def booby_trapped(monkeypatch):
    """eval/exec of a string, open of a path and imports of os/subprocess raise if the parser calls them."""
    if os.path.exists(SENTINEL):
        os.remove(SENTINEL)
    calls = []
    real_import = builtins.__import__

    def trap(name, real):
        def f(*a, **k):
            # module imports run code objects through exec: only source strings are user input
            if a and isinstance(a[0], (str, bytes)):
                calls.append(name)
                raise AssertionError(f"the parser called {name} on {a[0]!r}")
            return real(*a, **k)
        return f

    def guarded_import(name, *a, **k):
        if name in ("os", "subprocess", "shutil", "socket"):
            calls.append(f"import {name}")
            raise AssertionError(f"the parser imported {name}")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "eval", trap("eval", builtins.eval))
    monkeypatch.setattr(builtins, "exec", trap("exec", builtins.exec))
    monkeypatch.setattr(builtins, "open", trap("open", builtins.open))
    monkeypatch.setattr(builtins, "__import__", guarded_import)
    return calls


@pytest.mark.parametrize("text, why", INJECTIONS, ids=[t[:40] for t, _ in INJECTIONS])
def test_injection_is_rejected_with_a_typed_error_and_not_run(text, why, booby_trapped):
    t0 = time.perf_counter()
    with pytest.raises(ParseError) as info:
        parse_expression(text)
    assert time.perf_counter() - t0 < 2, "rejection must be immediate"
    assert isinstance(info.value, SymbolicMFError) and isinstance(info.value, ValueError)
    assert why in str(info.value), str(info.value)
    assert booby_trapped == []
    assert not os.path.exists(SENTINEL)


@pytest.mark.parametrize("text", ["__import__('os').system('true') > 0", "x.real > 0", "lambda: x > 1"])
def test_injection_in_conditions_is_rejected(text):
    with pytest.raises(ParseError):
        parse_condition(text)


def test_non_string_input_is_a_typed_error():
    with pytest.raises(ParseError, match="expected a string"):
        parse_expression(sp.Symbol("x"))


def test_accepted_language_builds_the_intended_objects(booby_trapped):
    a, x, c = sp.symbols("alpha x c", real=True)
    assert parse_expression("2^(alpha - 1) * gamma(alpha + 1/2) / sqrt(pi)") == \
        2 ** (a - 1) * sp.gamma(a + sp.S.Half) / sp.sqrt(sp.pi)
    assert parse_expression("0.1") == sp.Rational(1, 10)  # decimals are exact
    e = parse_expression("E(relu(u) * relu(v))")
    assert isinstance(e, GaussianExpectation) and e.covariance[0, 1] == c
    assert e.expr == rho(1, sp.Symbol("u", real=True)) * rho(1, sp.Symbol("v", real=True))
    assert parse_expression("E(rho(alpha, z)^2, q=2)").covariance[0, 0] == 2
    assert parse_expression("hyp2f1(a, b, 1/2, x)").func is sp.hyper
    assert parse_expression("He(3, x)") == x ** 3 - 3 * x
    assert parse_expression("Integral(x^2, (x, 0, 1))") == sp.Integral(x ** 2, (x, 0, 1))
    assert parse_expression("(2/3)**100") == sp.Rational(2, 3) ** 100  # large but bounded powers are fine
    assert parse_condition("alpha > -1/2 and k != j") is not None
    assert booby_trapped == []


def test_expectation_must_name_its_gaussian_variables():
    with pytest.raises(ParseError, match="must involve z"):
        parse_expression("E(x^2)")
    with pytest.raises(ParseError, match="not both"):
        parse_expression("E(z * u)")
