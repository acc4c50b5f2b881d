"""The ball-arithmetic referee: enclosures contain the truth, disjoint balls prove FAIL."""

import sys

import mpmath
import pytest
import sympy as sp

from symbolic_mf.cli import main
from symbolic_mf.domains import CORRELATION, RealInterval
from symbolic_mf.errors import MissingDependencyError
from symbolic_mf.functions import bivariate_expectation, expectation, rho, u, v, z
from symbolic_mf.identity import Identity
from symbolic_mf.verify import sample_points, verify

a = sp.Symbol("alpha", real=True)
c = sp.Symbol("c", real=True)
half = sp.S.Half
M2 = 2 ** (a - 1) * sp.gamma(a + half) / sp.sqrt(sp.pi)  # E[rho_alpha(z)^2]
RELU = (sp.sqrt(1 - c ** 2) + (sp.pi - sp.acos(c)) * c) / (2 * sp.pi)


def _moment(rhs, id_="t.m2"):
    return Identity(id_, "second moment", expectation(rho(a, z) ** 2), rhs,
                    {a: RealInterval(-half, 6, right_open=False, sharp="lo")})


# ---------------------------------------------------------------------------
# without python-flint


@pytest.fixture
def no_flint(monkeypatch):
    monkeypatch.setitem(sys.modules, "flint", None)  # makes "import flint" raise ImportError


def test_without_flint_the_referee_is_a_clear_typed_error(no_flint):
    from symbolic_mf import rigorous

    assert not rigorous.have_flint()
    with pytest.raises(MissingDependencyError, match=r"python-flint.*symbolic_mf\[rigorous\]"):
        rigorous.referee(_moment(M2), [{a: sp.Integer(1)}])
    # verify fails before doing any numerical work
    with pytest.raises(MissingDependencyError):
        verify(_moment(M2), points=1, rigorous=True)
    # and without --rigorous nothing needs flint
    assert verify(_moment(M2), points=1).status == "PASS"


def test_without_flint_the_cli_exits_2_with_the_install_hint(no_flint, capsys):
    assert main(["verify", "gauss.sheppard", "--rigorous", "-q", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "python-flint" in err and "pip install" in err


# ---------------------------------------------------------------------------
# with python-flint (skipped, not failed, where the optional extra is not installed)

try:
    import flint
except ImportError:
    flint = None
from symbolic_mf import rigorous  # noqa: E402  (imports flint lazily)
from symbolic_mf.rigorous import _compile, enclose, referee  # noqa: E402

needs_flint = pytest.mark.skipif(flint is None, reason="python-flint (extra 'rigorous') not installed")


def _contains(ball, value):
    return ball.contains(flint.acb(flint.arb(str(value))))


@needs_flint
@pytest.mark.parametrize("expr, lo, hi, exact, wrong", [
    # flint's own example: without the analytic flag the ball is tight around 4.6694...
    (lambda t: sp.sqrt(t), 1, 4, sp.Rational(14, 3), "4.669414894781006338774348"),
    (lambda t: sp.Abs(t), -1, 2, sp.Rational(5, 2), None),
    (lambda t: rho(half, t), -1, 1, sp.Rational(2, 3), None),
    (lambda t: t ** sp.Rational(1, 3), 1, 8, sp.Rational(45, 4), None),
    (lambda t: sp.log(t), 1, 2, 2 * sp.log(2) - 1, None),
])
def test_integrands_forward_the_analytic_flag(expr, lo, hi, exact, wrong):
    t = sp.Symbol("t", real=True)
    F = _compile(expr(t), t)
    with rigorous._prec(120):
        val = flint.acb.integral(F, lo, hi)
        ref = enclose(exact, dps=30)
        assert val.overlaps(ref), (val, ref)
        if wrong is not None:
            assert not _contains(val, wrong)


@needs_flint
def test_gaussian_tail_bound_is_the_incomplete_gamma():
    # int_X^oo phi = erfc(X/sqrt 2)/2 for m = 0; X^m growth for m = 3
    with rigorous._prec(120):
        for X in (3, 8):
            tail = rigorous._gauss_tail(0, X)
            with mpmath.workdps(35):
                ref = mpmath.erfc(X / mpmath.sqrt(2)) / 2
            assert tail.contains(flint.arb(mpmath.nstr(ref, 33))) or abs(float(tail.mid()) / float(ref) - 1) < 1e-25
        # int_X^oo x^3 phi(x) dx = (X^2 + 2) phi(X)
        X = 5
        with mpmath.workdps(35):
            ref3 = (X * X + 2) * mpmath.npdf(X)
        assert abs(float(rigorous._gauss_tail(3, X).mid()) / float(ref3) - 1) < 1e-12


@needs_flint
@pytest.mark.parametrize("alpha", [sp.Rational(-49, 100), sp.Rational(-1, 3), 0, half, sp.Rational(7, 3), 6])
def test_second_moment_enclosure_contains_the_closed_form(alpha):
    L = enclose(expectation(rho(a, z) ** 2), {a: alpha})
    R = enclose(M2, {a: alpha})
    assert L.overlaps(R)
    assert float(L.rad()) < 1e-25 * max(1.0, abs(float(L.real.mid())))


@needs_flint
@pytest.mark.parametrize("wrong, why", [
    (M2 * sp.Rational(1001, 1000), "factor 1.001"),
    (M2 * (1 + sp.Rational(1, 10 ** 27)), "factor 1 + 1e-27: inside the 25-digit PASS tolerance"),
    (-M2, "sign"),
    (2 ** a * sp.gamma(a + half) / sp.sqrt(sp.pi), "power of 2"),
    (2 ** (a - 1) * sp.gamma(a + sp.Rational(3, 2)) / sp.sqrt(sp.pi), "Gamma argument shifted"),
])
def test_wrong_moments_are_proved_false(wrong, why):
    r = referee(_moment(wrong), sample_points(_moment(wrong), 3))
    assert r.status == "REFUTED", why
    ce = r.counterexample
    assert ce is not None and ce.status == "FAIL" and "alpha" in ce.point


@needs_flint
def test_referee_catches_what_the_tolerance_lets_through():
    # off by 1e-27: the two-precision verifier asks for 25 digits and passes it;
    # the referee's balls (~39 digits) are disjoint, which proves it false
    idy = _moment(M2 * (1 + sp.Rational(1, 10 ** 27)), "t.m2-tiny")
    assert verify(idy, points=2).status == "PASS"
    v = verify(idy, points=2, rigorous=True)
    assert v.status == "FAIL" and v.counterexample is not None
    assert "rigorous" in v.counterexample.reason and v.rigorous.refutes
    assert v.to_dict()["rigorous"]["status"] == "REFUTED"


@needs_flint
def test_true_kernels_agree_at_boundary_correlations():
    relu = Identity("t.relu", "relu", bivariate_expectation(rho(1, u) * rho(1, v), c), RELU, {c: CORRELATION})
    pts = [{c: x} for x in (sp.Integer(-1), -1 + sp.Rational(1, 2 ** 27), sp.Rational(-1, 3), sp.Integer(0),
                            sp.Rational(9, 10), sp.Integer(1))]
    r = referee(relu, pts)
    assert r.status == "AGREE", r
    assert all(p.digits is None or p.digits > 20 for p in r.points)


@needs_flint
@pytest.mark.parametrize("wrong", [
    (sp.sqrt(1 - c ** 2) - (sp.pi - sp.acos(c)) * c) / (2 * sp.pi),   # sign inside
    (sp.sqrt(1 - c ** 2) + (sp.pi - sp.acos(c)) * c) / sp.pi,         # normalisation
    (sp.sqrt(1 - c ** 2) + (sp.pi - sp.acos(c / 2)) * c) / (2 * sp.pi),  # c -> c/2
])
def test_wrong_relu_kernels_are_proved_false(wrong):
    idy = Identity("t.relu-wrong", "relu", bivariate_expectation(rho(1, u) * rho(1, v), c), wrong, {c: CORRELATION})
    assert referee(idy, sample_points(idy, 6)).refutes


@needs_flint
def test_singular_two_dimensional_integrand_and_shifted_kink():
    # E[rho_a(u) rho_a(v)] with a < 0: integrable singularities on both axes (Hermite engine's form)
    from symbolic_mf.catalogue import get_identity

    idy = get_identity("kernels.rho-alpha")
    pts = [{a: sp.Rational(-2, 5), c: sp.Rational(1, 3)}, {a: sp.Rational(3, 2), c: sp.Rational(9, 10)}]
    assert referee(idy, pts).status == "AGREE"
    shifted = get_identity("gauss.rho-shifted-mean")
    m = [s for s in shifted.symbols if s.name == "m"][0]
    al = [s for s in shifted.symbols if s.name == "alpha"][0]
    r = referee(shifted, [{al: sp.Rational(-1, 2), m: sp.Rational(1, 3)}])
    assert r.status == "AGREE", r


@needs_flint
def test_inequalities():
    ok = Identity("t.jensen", "E|z| <= 1", expectation(sp.Abs(z)), 1, relation="<=")
    assert referee(ok, [{}]).status == "AGREE"
    bad = Identity("t.jensen-bad", "E|z| >= 1", expectation(sp.Abs(z)), 1, relation=">=")
    assert referee(bad, [{}]).refutes
    hand = Identity("t.abs", "E|z| = sqrt(1/pi)", expectation(sp.Abs(z)), sp.sqrt(1 / sp.pi))
    assert referee(hand, [{}]).refutes  # the truth is sqrt(2/pi)


@needs_flint
def test_unsupported_and_divergent_sides_are_undecided_not_agreed():
    deriv = Identity("t.d", "price", sp.Derivative(bivariate_expectation(rho(0, u) * rho(0, v), c), c),
                     1 / (2 * sp.pi * sp.sqrt(1 - c ** 2)), {c: CORRELATION})
    r = referee(deriv, [{c: sp.Rational(1, 2)}])
    assert r.status == "UNDECIDED" and "Derivative" in r.points[0].reason
    # E[rho_alpha(z)^2] diverges at alpha = -1/2: no enclosure, hence no agreement
    r = referee(_moment(M2), [{a: -half}])
    assert r.status == "UNDECIDED" and not r.refutes


@needs_flint
def test_precision_is_restored():
    before_mp, before_flint = mpmath.mp.prec, flint.ctx.prec
    referee(_moment(M2), [{a: sp.Rational(1, 3)}], dps=40)
    verify(_moment(M2), points=1, rigorous=True)
    assert mpmath.mp.prec == before_mp and flint.ctx.prec == before_flint


@needs_flint
def test_cli_verify_rigorous_column_and_summary(capsys):
    assert main(["verify", "gauss.sheppard", "--rigorous", "-q", "--jobs", "1", "--points", "3"]) == 0
    out = capsys.readouterr().out
    assert "rigorous" in out.splitlines()[0] and "AGREE" in out
    assert "rigorous: AGREE 1 / REFUTED 0 / UNDECIDED 0" in out


@needs_flint
@pytest.mark.slow
def test_referee_over_the_catalogue_never_refutes_and_refutes_the_mutants():
    """Every catalogue identity: no refutation; where it agrees, its factor/sign mutants are refuted."""
    from symbolic_mf.catalogue import catalogue
    from symbolic_mf.mutation import mutants

    agreed = 0
    for idy in catalogue():
        pts = sample_points(idy, 4)
        r = referee(idy, pts)
        assert not r.refutes, (idy.id, str(r))
        if r.status != "AGREE":
            continue
        agreed += 1
        for m in mutants(idy):
            if m.kind in ("factor", "sign", "double"):
                assert referee(m.identity, pts).refutes, m.identity.id
    assert agreed >= 15
