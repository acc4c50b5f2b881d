"""Sampling pools, seeded sampling, the registry at load time, and typed errors for bad input."""

import importlib

import mpmath
import pytest
import sympy as sp

from symbolic_mf.check import check
from symbolic_mf.domains import CORRELATION, OPEN_CORRELATION, REALS, IntegerRange, RealInterval, parse_domain
from symbolic_mf.errors import DomainError, DuplicateIdentityError, ParseError, PrecisionError
from symbolic_mf.identity import Identity
from symbolic_mf.verify import sample_points, verify

catalogue_pkg = importlib.import_module("symbolic_mf.catalogue")  # the package, not the function
S = sp.S
R = sp.Rational
TINY = R(1, 2 ** 27)
a = sp.Symbol("alpha", real=True)
c = sp.Symbol("c", real=True)
k = sp.Symbol("k", integer=True)


def _pool(dom):
    return dom.pool()


# ---------------------------------------------------------------------------
# pools of awkward values


def test_correlation_pool_has_the_awkward_values_and_only_admissible_ones():
    pool = _pool(CORRELATION)
    for val in (0, S.Half, -S.Half, R(9, 10), -R(9, 10), R(99, 100), -R(99, 100),
                1 - TINY, -1 + TINY, 1, -1):
        assert val in pool, val
    assert pool[:2] == [-1, 1]  # boundaries first
    assert all(CORRELATION.contains(x) and x.is_Rational for x in pool)
    open_pool = _pool(OPEN_CORRELATION)
    assert 1 not in open_pool and -1 not in open_pool and 1 - TINY in open_pool


def test_alpha_pool_near_minus_half_zero_half_integers_and_non_integers():
    dom = RealInterval(-S.Half, 8, left_open=True, right_open=False, sharp="lo")
    edges, interior = dom.pool_parts()
    assert -S.Half + TINY in edges and 8 in edges and -S.Half not in edges + interior
    pool = edges + interior
    assert {0, S.Half, 1, 2, 3, 5} <= set(pool)                        # integers and 1/2
    assert {R(7, 10), R(13, 10), R(5, 2), R(1, 3), -R(3, 10)} <= set(pool)  # non-integers, negative
    wide = RealInterval(-1, 8, left_open=True, right_open=False)
    assert {-1 + TINY, -S.Half, 0} <= set(_pool(wide))


def test_integer_pool_and_unbounded_intervals():
    assert IntegerRange(0, 12).pool()[:2] == [0, 12]
    assert set(IntegerRange(0, 12).pool()) == set(range(13))
    assert IntegerRange(2).pool()[0] == 2 and all(x >= 2 for x in IntegerRange(2).pool())
    reals = _pool(REALS)
    assert {0, 1, -1, S.Half, 8} <= set(reals)
    pos = _pool(RealInterval(0, sp.oo))
    assert TINY in pos and 11 in pos and all(x > 0 for x in pos)


def test_random_draws_are_seeded_and_inside():
    import random

    dom = RealInterval(-S.Half, 8, sharp="lo")
    d1 = dom.random(random.Random(5), 20)
    assert d1 == dom.random(random.Random(5), 20) and all(dom.contains(x) for x in d1)
    assert d1 != dom.random(random.Random(6), 20)


# ---------------------------------------------------------------------------
# sampling points


def test_first_points_visit_every_awkward_value_of_every_variable():
    idy = Identity("t.two", "two", a + c, a + c,
                   {a: RealInterval(-S.Half, 8, right_open=False, sharp="lo"), c: CORRELATION})
    span = max(len(_pool(v.domain)) for v in idy.variables)
    pts = sample_points(idy, span)
    for v in idy.variables:
        assert {p[v.symbol] for p in pts} == set(_pool(v.domain)), v.name


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_sampling_is_reproducible_per_seed_and_identity(seed):
    idy = Identity("t.r", "r", a * c, a * c, {a: RealInterval(-1, 3), c: CORRELATION})
    assert sample_points(idy, 30, seed) == sample_points(idy, 30, seed)
    other = idy.replace(id="t.s")
    assert sample_points(other, 30, seed) != sample_points(idy, 30, seed)  # the id enters the seed


def test_assumptions_and_extra_points():
    j = sp.Symbol("j", integer=True)
    idy = Identity("t.ne", "ne", j, j, {j: IntegerRange(0, 4), k: IntegerRange(0, 4)},
                   assumptions=[sp.Ne(j, k)], extra_points=[{"j": 9, "k": 9}])
    pts = sample_points(idy, 12)
    assert pts[0] == {j: 9, k: 9}  # explicit points first, even outside the pools
    assert all(p[j] != p[k] for p in pts[1:]) and len(pts) == 12


def test_no_admissible_point_is_unknown_with_zero_points_never_pass():
    idy = Identity("t.none", "none", c, c, {c: CORRELATION}, assumptions=[sp.Gt(c, 2)])
    assert sample_points(idy, 6) == []
    v = verify(idy)
    assert v.status == "UNKNOWN" and v.n_points == 0 and not v.passed


# ---------------------------------------------------------------------------
# domains from strings, widening


@pytest.mark.parametrize("text, expected", [
    ("[-1, 1]", CORRELATION),
    ("(-1/2, oo)", RealInterval(-S.Half, sp.oo)),
    ("(0, 2.5]", RealInterval(0, R(5, 2), right_open=False)),
    ("integer [0, 10]", IntegerRange(0, 10)),
    ("integer (0, 10)", IntegerRange(1, 9)),
    ("Z>=0", IntegerRange(0)),
])
def test_parse_domain(text, expected):
    assert parse_domain(text) == expected


@pytest.mark.parametrize("text, message", [
    ("foo", "cannot read domain"),
    ("[1, 0]", "empty interval"),
    ("(0, x)", "not a number"),
    ("(0, __import__('os'))", "not a number"),
    ("integer (-oo, 3]", "finite lower bound"),
    (3, "must be a string"),
])
def test_bad_domains_are_parse_errors(text, message):
    with pytest.raises(ParseError, match=message.replace("(", r"\(")):
        parse_domain(text)


def test_widen_only_sharp_ends_and_outside_pool_is_outside():
    dom = RealInterval(-S.Half, 8, right_open=False, sharp="lo")
    wide = dom.widen()
    assert wide.lo == -R(3, 2) and wide.hi == 8
    out = wide.outside_pool(dom)
    assert out and all(wide.contains(x) and not dom.contains(x) for x in out) and -S.Half in out
    assert RealInterval(0, 1, sharp="none").widen() is None


# ---------------------------------------------------------------------------
# registry at load time


def test_catalogue_refuses_a_duplicate_id_at_load(monkeypatch):
    monkeypatch.setattr(catalogue_pkg, "MODULES", ("gaussian", "gaussian"))
    with pytest.raises(DuplicateIdentityError, match="'gauss.rho-mean' is already registered"):
        catalogue_pkg.catalogue.__wrapped__()  # the uncached loader


def test_registry_filter_views():
    reg = catalogue_pkg.catalogue()
    assert [i.id for i in reg.filter(topic="gaussian", match="price")] == [
        "gauss.price-rho", "gauss.price-step", "gauss.price-signed-power"]
    assert all(i.method == "bessel" for i in reg.filter(method="bessel"))


# ---------------------------------------------------------------------------
# typed errors for bad input


IDY = Identity("t.sq", "square", (a + 1) ** 2, a ** 2 + 2 * a + 1, {a: REALS})


@pytest.mark.parametrize("kwargs, error, parameter", [
    (dict(dps=14), PrecisionError, "dps"),
    (dict(dps=True), PrecisionError, "dps"),
    (dict(digits=31), PrecisionError, "digits"),
    (dict(digits=0), PrecisionError, "digits"),
    (dict(check_dps=30), PrecisionError, "check_dps"),
    (dict(max_dps=40), PrecisionError, "max_dps"),
    (dict(points=0), DomainError, "points"),
    (dict(points=-3), DomainError, "points"),
    (dict(points=2.5), DomainError, "points"),
    (dict(seed="one"), DomainError, "seed"),
])
def test_verify_bad_arguments_are_typed_errors_naming_the_parameter(kwargs, error, parameter):
    with pytest.raises(error) as info:
        verify(IDY, **kwargs)
    assert info.value.parameter == parameter
    assert parameter in str(info.value) and "valid range" in str(info.value)


@pytest.mark.parametrize("kwargs, parameter", [
    (dict(id="Bad Id"), "id"),
    (dict(relation="=<"), "relation"),
])
def test_identity_bad_fields_are_domain_errors(kwargs, parameter):
    fields = dict(id="t.ok", title="t", lhs=a, rhs=a, variables={a: REALS})
    fields.update(kwargs)
    with pytest.raises(DomainError) as info:
        Identity(**fields)
    assert info.value.parameter == parameter


def test_check_bad_input():
    with pytest.raises(DomainError, match="relation"):
        check("x", "x", where={"x": "[0, 1]"}, relation="=<")
    with pytest.raises(DomainError, match="every free variable needs a domain"):
        check("x + y", "x", where={"x": "[0, 1]"})
    with pytest.raises(PrecisionError, match="dps = 3"):
        check("x", "x", where={"x": "[0, 1]"}, dps=3)


def test_precision_restored_even_when_a_recipe_raises_and_mutates_global_state():
    def bad(env):
        mpmath.mp.dps = 200
        raise RuntimeError("recipe bug")

    idy = Identity("t.bug", "bug", a, a, {a: REALS}, numeric={"lhs": bad})
    before = mpmath.mp.prec
    with pytest.raises(RuntimeError, match="recipe bug"):
        verify(idy, points=1)
    assert mpmath.mp.prec == before
