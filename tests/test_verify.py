"""The verifier: wrong identities are rejected, and a PASS is never unearned."""

import mpmath
import pytest
import sympy as sp

from symbolic_mf.domains import CORRELATION, IntegerRange, RealInterval, REALS
from symbolic_mf.errors import PrecisionError
from symbolic_mf.functions import bivariate_expectation, expectation, rho, u, v, z
from symbolic_mf.identity import Identity
from symbolic_mf.verify import sample_points, verify

a = sp.Symbol("alpha", real=True)
c = sp.Symbol("c", real=True)
k = sp.Symbol("k", integer=True)
x = sp.Symbol("x", positive=True)
half = sp.S.Half


def second_moment(rhs, domain=RealInterval(-half, 6, right_open=False, sharp="lo"), id_="t.m2"):
    return Identity(id_, "second moment", expectation(rho(a, z) ** 2), rhs, {a: domain})


RIGHT = 2 ** (a - 1) * sp.gamma(a + half) / sp.sqrt(sp.pi)


def test_true_identity_passes_with_digits_and_precision():
    v = verify(second_moment(RIGHT), points=5)
    assert v.status == "PASS" and v.n_points == 5
    assert v.digits >= 25 and v.dps == 30 and v.check_dps == 45


@pytest.mark.parametrize("wrong, why", [
    (RIGHT * sp.Rational(1001, 1000), "off by a factor 1.001"),
    (-RIGHT, "sign"),
    (2 ** a * sp.gamma(a + half) / sp.sqrt(sp.pi), "power of 2 off by one"),
    (2 ** (a - 1) * sp.gamma(a + sp.Rational(3, 2)) / sp.sqrt(sp.pi), "Gamma argument shifted"),
    (2 ** (a - 1) * sp.gamma(a + half) / sp.pi, "sqrt dropped"),
])
def test_wrong_moment_fails_with_counterexample(wrong, why):
    v = verify(second_moment(wrong), points=5)
    assert v.status == "FAIL", why
    ce = v.counterexample
    assert ce is not None and "alpha" in ce.point and ce.lhs != ce.rhs


def test_wrong_domain_is_not_passed():
    # E[rho_alpha(z)^2] diverges for alpha <= -1/2: widening the domain must not PASS
    wide = RealInterval(-sp.Rational(3, 2), 6, right_open=False)
    v = verify(second_moment(RIGHT, wide), points=4,
               pools={a: [-half, -sp.Rational(7, 10), -1 + sp.Rational(1, 3)]})
    assert v.status != "PASS"
    assert "diverges" in v.reason


def test_shifted_index_in_hermite_orthogonality_fails():
    j = sp.Symbol("j", integer=True)
    lhs = expectation(sp.hermite_prob(j, z) * sp.hermite_prob(k, z))
    wrong = Identity("t.herm", "orth", lhs, sp.factorial(k + 1) * sp.KroneckerDelta(j, k),
                     {j: IntegerRange(0, 8), k: IntegerRange(0, 8)}, extra_points=[{"j": 3, "k": 3}])
    assert verify(wrong, points=4).status == "FAIL"


def test_wrong_sign_in_bivariate_kernel_fails():
    lhs = bivariate_expectation(rho(1, u) * rho(1, v), c)
    wrong = (sp.sqrt(1 - c ** 2) - (sp.pi - sp.acos(c)) * c) / (2 * sp.pi)
    verdict = verify(Identity("t.relu", "relu", lhs, wrong, {c: CORRELATION}), points=6)
    assert verdict.status == "FAIL"


def test_divergent_integral_is_unknown_not_pass():
    # int_0^1 x^-1 dx diverges; the "identity" with any right side is UNKNOWN
    idy = Identity("t.div", "divergent", sp.Integral(x ** (a - 1), (x, 0, 1)), 1 / a,
                   {a: RealInterval(-1, 1, right_open=False)}, extra_points=[{"alpha": 0}])
    v = verify(idy, points=1)
    assert v.status == "UNKNOWN" and "diverges" in v.reason


def test_infinite_side_is_unknown_not_pass():
    # Gamma has a pole at 0: the right side is infinite at alpha = -1/2
    idy = second_moment(RIGHT, RealInterval(-1, 6))
    v = verify(idy, points=1, pools={a: [-half]})
    assert v.status == "UNKNOWN"


def test_non_converging_quadrature_is_unknown():
    # a wildly oscillating integrand that tanh-sinh cannot resolve at 30 digits
    w = sp.Symbol("w", positive=True)
    idy = Identity("t.osc", "oscillation", sp.Integral(sp.sin(w * x) / x, (x, 0, 1)),
                   sp.Si(w), {w: RealInterval(10**6, 10**6 + 1)})
    v = verify(idy, points=1)
    assert v.status == "UNKNOWN"


def test_no_admissible_point_is_reported():
    idy = Identity("t.none", "empty", a, a, {a: REALS}, assumptions=[sp.Gt(a, 100), sp.Lt(a, 99)])
    v = verify(idy)
    assert v.status == "UNKNOWN" and "no admissible point" in v.reason


def test_assumptions_filter_points():
    j = sp.Symbol("j", integer=True)
    idy = Identity("t.ne", "ne", j, j, {j: IntegerRange(0, 5), k: IntegerRange(0, 5)},
                   assumptions=[sp.Ne(j, k)])
    pts = sample_points(idy, 20)
    assert pts and all(p[j] != p[k] for p in pts)


def test_sampling_is_seeded_and_reproducible():
    idy = second_moment(RIGHT)
    assert sample_points(idy, 8, seed=3) == sample_points(idy, 8, seed=3)
    assert sample_points(idy, 8, seed=3) != sample_points(idy, 8, seed=4)


def test_pool_reaches_boundaries():
    pts = [p[c] for p in sample_points(Identity("t.c", "c", c, c, {c: CORRELATION}), 12)]
    for val in (-1, 1, 0, sp.Rational(1, 2), 1 - sp.Rational(1, 2 ** 27)):
        assert val in pts


def test_inequality_true_and_false():
    ok = Identity("t.jensen", "E|z| <= sqrt(E z^2)", expectation(sp.Abs(z)), 1, relation="<=")
    assert verify(ok, points=1).status == "PASS"
    bad = Identity("t.jensen-wrong", "E|z| >= 1", expectation(sp.Abs(z)), 1, relation=">=")
    assert verify(bad, points=1).status == "FAIL"


def test_tolerance_identity():
    # exp truncated after 10 terms, with its Lagrange remainder as the stated tolerance
    n = sp.Symbol("n", integer=True)
    trunc = sp.Sum(x ** n / sp.factorial(n), (n, 0, 10))
    idy = Identity("t.tol", "truncated exp", sp.exp(x), trunc, {x: RealInterval(0, 1)},
                   tolerance=lambda env: mpmath.e * env[x] ** 11 / mpmath.factorial(11))
    assert verify(idy, points=4).status == "PASS"
    tight = Identity("t.tol2", "too tight", sp.exp(x), trunc, {x: RealInterval(0, 1)},
                     tolerance=1e-15, extra_points=[{"x": 1}])
    assert verify(tight, points=1).status == "FAIL"


def test_exact_mode_proves_and_refutes():
    M = sp.Matrix([[x, 1], [0, x]])
    good = Identity("t.exact", "det", M.det(), x ** 2, {x: RealInterval(0, 5)}, exact=True)
    assert verify(good, points=3).status == "PASS"
    bad = Identity("t.exact-bad", "det", M.det(), x ** 2 + 1, {x: RealInterval(0, 5)}, exact=True)
    assert verify(bad, points=3).status == "FAIL"


@pytest.mark.parametrize("dps", [5, 14, 30.5, "30"])
def test_precision_too_low_is_a_typed_error(dps):
    with pytest.raises(PrecisionError, match="dps"):
        verify(second_moment(RIGHT), dps=dps)


def test_precision_is_restored_after_failure_and_success():
    before = mpmath.mp.dps
    verify(second_moment(RIGHT * 2), points=2)
    verify(second_moment(RIGHT), points=2)
    assert mpmath.mp.dps == before


def test_verdict_serialises():
    v = verify(second_moment(RIGHT * 2), points=2)
    d = v.to_dict()
    assert set(d) >= {"id", "verdict", "points", "digits", "seconds", "counterexample"}
    assert d["verdict"] == "FAIL" and d["counterexample"]["point"]
    assert "FAIL" in repr(v) and v._repr_latex_().startswith("$")
