"""Feed-forward and residual mean field: closed forms against independent numerics, wrong variants rejected.

Digits demanded and why: fixed points at 25 digits (two precisions, dps 30
and 40, must agree; each is a root re-evaluated from scratch); quadrature
cross-checks at 15-20 digits (both routes carry more); depth asymptotics
from short iterations (10^4 layers) to 2 digits by default and from 10^6
layers to 3 digits under --full (the corrections decay like log(l)/l or
l^-1/2, see docs/derivations/meanfield.md); simulations within 15 % at
width 200-300 (fluctuations ~ depth/width).
"""

import json

import numpy as np
import pytest
import sympy as sp
from mpmath import mp

from symbolic_mf.activations import cos, erf, gelu, identity, leaky_relu, relu, rho_alpha, signed_power, softplus, tanh
from symbolic_mf.cli import main
from symbolic_mf.errors import DomainError
from symbolic_mf.meanfield import (MEHLER_MAX_TERMS, Moments, _trapezoid, _trapezoid2, approach_power_law, c_star, chi1, correlation_map, critical_expansion,
                                   critical_line_closed_form, critical_sigma_w, erf_critical_line, erf_kernel,
                                   fixed_point, iterate_correlation, length_map, length_map_slope, q_star)
from symbolic_mf.quadrature import gaussian_expectation_1d
from symbolic_mf.residual import (asymptotics, correlation_approach, correlation_fixed_point, exponent_checks, fit_exponent,
                                  iterate, local_slopes, optimal_scaling, pre_asymptotic_slopes)
from symbolic_mf.simulation import compare_feedforward, compare_residual, numpy_activation


def close(a, b, digits):
    with mp.workdps(digits + 15):
        return abs(mp.mpf(a) - mp.mpf(b)) <= mp.mpf(10) ** (-digits) * max(1, abs(mp.mpf(b)))


def quad_moment(f, q):
    """E[f(sqrt(q) z)] by the package's adaptive quadrature (independent of the trapezoidal/closed routes)."""
    return gaussian_expectation_1d(lambda x, w: f(x), q)


# -- feed-forward fixed points ----------------------------------------------------------


def test_relu_fixed_point_closed_form_and_wrong_variants():
    fp = fixed_point(relu(), "1.2", "0.3", dps=30)
    with mp.workdps(40):
        q = mp.mpf("0.09") / (1 - mp.mpf("1.44") / 2)
        assert close(fp.q_star, q, 28)
        assert not close(fp.q_star, mp.mpf("0.09") / (1 - mp.mpf("1.44")), 3)  # forgetting the 1/2 of E relu^2
        assert close(fp.chi1, mp.mpf("1.44") / 2, 28) and fp.c_star == 1  # ordered phase
    assert fp.digits >= 25


@pytest.mark.parametrize("phi,sw,sb", [(erf(), 2, 0.5), (tanh(), 1.5, 0.3), (rho_alpha(sp.Rational(3, 4)), 1.3, 0.2)])
def test_q_star_is_a_fixed_point_by_independent_quadrature(phi, sw, sb):
    q = q_star(phi, sw, sb, dps=25)
    f, df = numpy_activation(phi)
    with mp.workdps(25):
        fm = (lambda x: mp.tanh(x)) if phi.name == "tanh" else (lambda x: mp.erf(x)) if phi.name == "erf" else \
            (lambda x: x ** mp.mpf(0.75) if x > 0 else mp.zero)
        V = mp.mpf(sw) ** 2 * quad_moment(lambda x: fm(x) ** 2, q) + mp.mpf(sb) ** 2
        assert close(V, q, 20)
        # stability: V'(q*) < 1
        assert length_map_slope(phi, q, sw, dps=20) < 1


def test_fixed_point_two_precisions_agree_to_25_digits():
    for phi, sw, sb in ((erf(), 2, 0.5), (rho_alpha(sp.Rational(3, 4)), 1.3, 0.2)):
        fp = fixed_point(phi, sw, sb, dps=30)
        assert fp.digits >= 25, (phi, fp)
        hi = fixed_point(phi, sw, sb, dps=45, check=False)
        assert close(fp.q_star, hi.q_star, 28) and close(fp.chi1, hi.chi1, 28)


def test_chaotic_phase_c_star_is_a_fixed_point_and_chi_c_below_one():
    fp = fixed_point(erf(), 2, 0.5, dps=25)
    assert fp.chi1 > 1 and fp.c_star < 1
    assert close(correlation_map(erf(), fp.c_star, 2, 0.5, q=fp.q_star, dps=25), fp.c_star, 22)
    assert fp.chi_c < 1 and fp.xi_c > 0 and fp.xi_grad < 0  # c* stable; gradients explode
    # the erf kernel against a 1-D quadrature independent of the closed form (conditioning on u)
    K, qs, cs = erf_kernel()
    with mp.workdps(25):
        q, c = fp.q_star, fp.c_star
        k = mp.sqrt(q) * c / mp.sqrt(1 + 2 * q * (1 - c * c))
        num = quad_moment(lambda x: mp.erf(x) * mp.erf(k * x / mp.sqrt(q)), q)
        assert close(Moments(erf(), 20).kernel(q, c), num, 18)



# -- moments: engine closed forms and the Mehler series ------------------------------------


def test_erf_moments_come_from_the_fourier_engine_and_match_the_typed_arcsine_formula():
    m = Moments(erf(), 30)
    assert m.route == "Fourier closed form (engine)"
    with mp.workdps(40):
        for q, c in ((mp.mpf("0.3"), mp.mpf("-0.7")), (mp.mpf(2), mp.mpf("0.99")), (mp.mpf(5), mp.mpf(1))):
            # the typed (textbook, Williams 1997) arcsine kernel is only a reference here
            assert close(m.kernel(q, c), 2 / mp.pi * mp.asin(2 * q * c / (1 + 2 * q)), 28)
            assert close(m.dkernel(q, c), 4 / (mp.pi * mp.sqrt((1 + 2 * q) ** 2 - 4 * q * q * c * c)), 28)
            assert close(m.second(q), 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q)), 28)
            assert close(m.dsecond(q), 4 / (mp.pi * mp.sqrt(1 + 4 * q)), 28)
            assert close(m.slope(q), 4 / (mp.pi * (1 + 2 * q) * mp.sqrt(1 + 4 * q)), 28)
            # wrong variants: correlation instead of covariance inside asin, a missing factor 2
            assert not close(m.kernel(q, c), 2 / mp.pi * mp.asin(2 * c / (1 + 2 * q)), 3)
            assert not close(m.dsecond(q), 2 / (mp.pi * mp.sqrt(1 + 4 * q)), 3)


@pytest.mark.parametrize("phi", [gelu(), cos()])
def test_engine_moments_against_independent_quadrature(phi):
    m = Moments(phi, 20)
    assert m.route == "Fourier closed form (engine)"
    f = sp.lambdify(sp.Symbol("x", real=True), phi.expr, "mpmath")
    df = sp.lambdify(sp.Symbol("x", real=True), sp.diff(phi.expr, sp.Symbol("x", real=True)), "mpmath")
    q, c = mp.mpf("1.7"), mp.mpf("0.4")
    with mp.workdps(30):
        assert close(m.second(q), quad_moment(lambda t: f(t) ** 2, q), 18)
        assert close(m.mean(q), quad_moment(f, q), 18)
        assert close(m.dsecond(q), quad_moment(lambda t: df(t) ** 2, q), 18)
        s, r = mp.sqrt(q), mp.sqrt(1 - c * c)   # 2-D trapezoidal rule, independent of the closed form
        assert close(m.kernel(q, c), _trapezoid2(lambda a, b: f(s * a) * f(s * (c * a + r * b)), 16), 15)
        assert close(m.dkernel(q, c), _trapezoid2(lambda a, b: df(s * a) * df(s * (c * a + r * b)), 16), 15)


@pytest.mark.parametrize("phi", [tanh(), softplus()])
def test_mehler_kernel_matches_the_2d_rule_and_is_certified(phi):
    m = Moments(phi, 20)
    assert m.route.startswith("trapezoidal rule + Mehler series")
    q = mp.mpf("0.9")
    f = sp.lambdify(sp.Symbol("x", real=True), phi.expr, "mpmath")
    df = sp.lambdify(sp.Symbol("x", real=True), sp.diff(phi.expr, sp.Symbol("x", real=True)), "mpmath")
    with mp.workdps(30):
        for c in (mp.mpf("0.6"), mp.mpf("-0.3")):
            s, r = mp.sqrt(q), mp.sqrt(1 - c * c)
            with mp.workdps(30):
                ref = _trapezoid2(lambda a, b: f(s * a) * f(s * (c * a + r * b)), 20)
                dref = _trapezoid2(lambda a, b: df(s * a) * df(s * (c * a + r * b)), 20)
            assert close(m.kernel(q, c), ref, 19) and close(m.dkernel(q, c), dref, 19)
        assert len(m._series[+q][0]) - 1 <= MEHLER_MAX_TERMS
        # the derivative series is E[phi' phi'] (Price: 1/q sum k a_k^2 rho^(k-1)), not the bare rho-derivative
        assert not close(m.dkernel(q, c) * q, dref, 3)
        # |c| -> 1 hands over to the 1-D moments continuously
        assert close(m.kernel(q, mp.mpf("0.999")), m.second(q), 2) and close(m.kernel(q, 1), m.second(q), 19)


def test_tanh_chaotic_fixed_point_against_the_2d_rule():
    """tanh, sigma_w = 1.5, sigma_b = 0.3 (chaotic): c* from the Mehler series at 20 digits (~5 s).

    Reference: the 25-digit values of the previous version, which took every kernel value from the 2-D
    trapezoidal rule (fixed_point at dps 25, agreeing with dps 35 on 25 digits; 64 s).
    """
    fp = fixed_point(tanh(), "1.5", "0.3", dps=20, check=False)
    assert fp.chi1 > 1 and fp.c_star < 1 and fp.route.startswith("trapezoidal rule + Mehler")
    assert close(fp.c_star, "0.7667532972533345780569297", 19)
    assert close(fp.q_star, "0.9608442797404365072447348", 19)
    assert close(fp.chi_c, "0.9510295575916688100319881", 19)
    with mp.workdps(30):
        assert close(correlation_map(tanh(), fp.c_star, "1.5", "0.3", q=fp.q_star, dps=20), fp.c_star, 18)


@pytest.mark.slow
def test_tanh_chaotic_fixed_point_to_25_digits():
    fp = fixed_point(tanh(), "1.5", "0.3", dps=30)   # and again at 40 (~25 s)
    assert fp.digits >= 28 and close(fp.c_star, "0.7667532972533345780569297", 24)
    assert close(fp.c_star, "0.76675329725333457805692975146", 29)

def test_chi1_is_slope_of_correlation_map_at_one():
    # finite difference of the map (closed-form kernel) against sigma_w^2 E[phi'^2]
    for phi in (relu(), rho_alpha(sp.Rational(3, 2)), erf()):
        q = mp.mpf(2)
        x = chi1(phi, 1.3, 0.2, dps=20, q=q)
        h = mp.mpf(10) ** -8
        with mp.workdps(30):
            slope = (correlation_map(phi, 1, 1.3, 0.2, q=q, dps=30) - correlation_map(phi, 1 - h, 1.3, 0.2, q=q, dps=30)) / h
        assert abs(slope / x - 1) < 1e-3, (phi, slope, x)


def test_q_star_zero_and_odd_activation_limits():
    assert q_star(tanh(), "0.8", 0, dps=20) == 0
    assert close(chi1(tanh(), "0.8", 0, dps=20), "0.64", 18)
    assert c_star(tanh(), "0.8", 0, dps=20) == 1


# -- the order-to-chaos line --------------------------------------------------------------


def test_relu_line_is_sigma_w2_two_for_every_sigma_b():
    for sb in (0, 0.3, 2):
        sw, q = critical_sigma_w(relu(), sb, dps=30)
        assert close(sw ** 2, 2, 28)
    assert critical_sigma_w(relu(), 0)[1] != critical_sigma_w(relu(), 0)[1]  # nan: every q is fixed
    assert critical_sigma_w(relu(), 0.3)[1] == mp.inf
    assert close(critical_sigma_w(leaky_relu(sp.Rational(1, 2)), 0.3)[0] ** 2, mp.mpf(8) / 5, 28)


def test_homogeneous_line_closed_form_satisfies_both_equations():
    d = critical_line_closed_form()
    assert d["ratio"] == (2 * d["symbols"]["alpha"] - 1) / d["symbols"]["alpha"] ** 2
    for al, sb in ((sp.Rational(3, 4), "0.4"), (sp.Rational(3, 2), "0.7"), (sp.Integer(2), "1")):
        phi = rho_alpha(al)
        sw, q = critical_sigma_w(phi, sb, dps=30)
        with mp.workdps(30):
            a = mp.mpf(sp.N(al, 40))
            # the kink at 0 passed to the quadrature (the x^(2 alpha - 2) endpoint singularity is removed there)
            Eq2 = gaussian_expectation_1d(lambda x, w: w[0] ** (2 * a) if w[0] > 0 else mp.zero, q, [(1, 0)])
            Ed2 = gaussian_expectation_1d(lambda x, w: (a * w[0] ** (a - 1)) ** 2 if w[0] > 0 else mp.zero, q, [(1, 0)])
            assert close(sw ** 2 * Ed2, 1, 25)
            assert close(sw ** 2 * Eq2 + mp.mpf(sb) ** 2, q, 25)  # (inside workdps(30): "0.4" read at 30 digits)
            # a wrong line (sigma_w^2 off by 1%) is not critical
            assert not close(sw ** 2 * mp.mpf("1.01") * Ed2, 1, 3)
        # alpha > 1: the critical q* is an unstable fixed point of the length map
        slope = length_map_slope(phi, q, sw, dps=20)
        assert close(slope, (2 * mp.mpf(sp.N(al, 30)) - 1) / mp.mpf(sp.N(al, 30)), 15)
        assert (slope > 1) == (al > 1)
    # a, b cancel: the family member with b != 0 has the same sigma_w up to the (a^2 + b^2) factor
    sw1, _ = critical_sigma_w(rho_alpha(sp.Rational(3, 2)), 0.5)
    sw2, _ = critical_sigma_w(signed_power(sp.Rational(3, 2)), 0.5)
    assert close(sw1 ** 2, 2 * sw2 ** 2, 25)


def test_no_critical_point_errors():
    with pytest.raises(DomainError, match="sigma_b"):
        critical_sigma_w(rho_alpha(sp.Rational(3, 4)), 0)
    with pytest.raises(DomainError, match="alpha > 1/2"):
        critical_sigma_w(rho_alpha(sp.Rational(1, 2)), 0.3)
    with pytest.raises(DomainError, match="sigma_w"):
        q_star(relu(), 1.5, 0.1)  # sigma_w^2/2 > 1: q grows without bound


def test_tanh_and_erf_lines():
    sw, q = critical_sigma_w(tanh(), "0.3", dps=25)
    with mp.workdps(25):
        Ed = quad_moment(lambda x: 1 / mp.cosh(x) ** 4, q)
        E2 = quad_moment(lambda x: mp.tanh(x) ** 2, q)
        assert close(sw ** 2 * Ed, 1, 20) and close(sw ** 2 * E2 + mp.mpf("0.09"), q, 20)
    assert close(critical_sigma_w(tanh(), 0)[0], 1, 28)  # sigma_b = 0: sigma_w = 1/phi'(0), q* = 0
    sw2, sb2, qs = erf_critical_line()
    sw, q = critical_sigma_w(erf(), 0.5, dps=25)
    with mp.workdps(25):
        assert close(mp.mpf(sp.N(sw2.subs(qs, sp.Float(str(q), 30)), 30)), sw ** 2, 18)
        assert close(mp.mpf(sp.N(sb2.subs(qs, sp.Float(str(q), 30)), 30)), mp.mpf("0.25"), 18)


def test_typed_errors():
    with pytest.raises(DomainError, match="sigma_w"):
        fixed_point(tanh(), 0, 0.1)
    with pytest.raises(DomainError, match="sigma_b"):
        fixed_point(tanh(), 1, -0.1)
    with pytest.raises(DomainError, match="dps"):
        fixed_point(tanh(), 1, 0.1, dps=2)
    with pytest.raises(DomainError, match="c = "):
        Moments(relu(), 15).kernel(1, 1.5)
    with pytest.raises(DomainError, match="q"):
        length_map(relu(), -1, 1, 0)
    with pytest.raises(DomainError, match="activation"):
        fixed_point("sigmoid9", 1, 0)


# -- critical approach ---------------------------------------------------------------------


def test_relu_critical_expansion_and_power_law():
    s, eps = critical_expansion(relu(), 2)
    A = s.removeO().coeff(eps ** sp.Rational(3, 2))
    assert sp.simplify(A - 2 * sp.sqrt(2) / (3 * sp.pi)) == 0
    law = approach_power_law(relu())
    assert law["exponent"] == 2 and sp.simplify(law["constant"] - 9 * sp.pi ** 2 / 2) == 0
    # iterate the exact map (1 - c as the variable): l^2 (1 - c^l) -> 9 pi^2/2
    L = 8000
    e = iterate_correlation(relu(), 2 ** 0.5, 0, mp.mpf("0.5"), L, dps=20, one_minus=True)
    C = float(sp.N(law["constant"]))
    err = [abs(float(e[n] * n ** 2) / C - 1) for n in (L // 4, L // 2, L)]
    assert err[2] < 6e-3 and err[2] < err[1] < err[0]  # corrections ~ log(l)/l, shrinking
    assert abs(float(e[L] * L ** 2) / (C / 2) - 1) > 0.5  # the wrong constant 9 pi^2/4 is rejected
    sl = local_slopes([L // 2, L], [e[L // 2], e[L]])[0]
    assert abs(sl + 2) < 1e-2


# -- residual networks ---------------------------------------------------------------------


def test_reduced_form_needs_zero_mean_activation():
    with pytest.raises(DomainError, match="E\\[phi\\(h\\)\\] = 0"):
        iterate(relu(), 3, variant="reduced")
    iterate(erf(), 3, variant="reduced")  # odd: fine
    iterate(signed_power(sp.Rational(3, 4)), 3, variant="reduced")  # odd member of the family: fine
    with pytest.raises(DomainError, match="variant"):
        iterate(erf(), 3, variant="half")
    with pytest.raises(DomainError, match="sigma_v"):
        iterate(erf(), 3, sigma_v=2, variant="reduced")


def test_reduced_mean_matches_simulation_where_dropping_the_cross_term_fails():
    from symbolic_mf.simulation import simulate_residual
    from symbolic_mf.residual import iterate as it
    sim = simulate_residual(relu(), 0.7, width=400, depth=6, seeds=(0, 1), variant="reduced")
    th = it(relu(), 6, 0.7, variant="reduced-mean", p0=1.0, e0=0.5, dps=15)
    assert abs(sim["p"][-1] / float(th.p[-1]) - 1) < 0.1
    # the reduced form with the cross term dropped would predict a clearly smaller p
    p, q = mp.one, None
    for _ in range(6):
        q = mp.mpf("0.49") * p
        p = p + q / 2
    assert sim["p"][-1] / float(p) - 1 > 0.3


def test_residual_asymptotic_laws_derived():
    d = asymptotics(rho_alpha(sp.Rational(3, 4)))
    assert d["p_exponent"] == 4 and d["chi_exponent"] == sp.Rational(9, 2)
    a = sp.Symbol("a", positive=True)
    # alpha^2/((1-alpha)(2 alpha - 1)) at another alpha
    assert asymptotics(rho_alpha(sp.Rational(2, 3)))["chi_exponent"] == sp.Rational(4, 9) / (sp.Rational(1, 3) * sp.Rational(1, 3))
    d = asymptotics(relu(), sigma_w=1, sigma_v=1)
    assert d["p_rate"] == sp.Rational(3, 2) and sp.simplify(d["e_constant"] - 81 * sp.pi ** 2 / 2) == 0
    d = asymptotics(erf(), variant="reduced")
    assert d["p_exponent"] == 1 and sp.simplify(d["e_exponent"] - (1 - 2 / sp.pi)) == 0
    with pytest.raises(DomainError):
        asymptotics(rho_alpha(sp.Rational(1, 2)))
    assert optimal_scaling(tanh(), variant="reduced")["scaling"] == 1 / sp.sqrt(sp.Symbol("L", positive=True))


def test_residual_exponents_from_short_iterations():
    rec = [1000, 2000, 5000, 10000]
    r = iterate(rho_alpha(sp.Rational(3, 4)), 10000, sigma_w=1, sigma_v=1, dps=15, record=rec)
    assert abs(local_slopes(r.layers, r.p)[-1] - 4) < 0.01
    chi = [mp.exp(v) for v in r.log_chi]
    assert abs(local_slopes(r.layers, chi)[-1] - mp.mpf(9) / 2) < 0.01
    assert abs(local_slopes(r.layers, chi)[-1] - 4) > 0.3  # the feed-forward-like guess 1/(1-alpha) is wrong
    r = iterate(relu(), 10000, sigma_w=1, sigma_v=1, e0=0.5, dps=15, record=rec)
    assert abs(local_slopes(r.layers, r.one_minus_e)[-1] + 2) < 0.02
    r = iterate(erf(), 10000, sigma_w=1, e0=0.5, variant="reduced", dps=15, record=rec)
    assert abs(fit_exponent(r.layers, r.e, correction=0.5) + (1 - 2 / mp.pi)) < 0.01



# -- the alpha = 3/4 correlation rate ---------------------------------------------------


def test_correlation_fixed_point_is_a_root_and_attracting():
    phi = rho_alpha(sp.Rational(3, 4))
    es, t = correlation_fixed_point(phi, 30, 3)
    m = Moments(phi, 30)
    # independent: the moment provider's kernel (engine closed form at q = 1) re-evaluated at e*
    with mp.workdps(40):
        assert close(m.kernel(1, es) / m.second(1), es, 25)
        assert close(t[0], es, 25) and 0 < t[1] < 1           # attracting: J'(e*) < 1
        assert close(m.dkernel(1, es) / m.second(1), t[1], 25)  # Price: J' = E[phi' phi']/K(1)
    assert 0.004 < 1 - es < 0.005
    d = asymptotics(phi)
    assert d["e_rate_coefficient"] == 4                      # = p_exponent = 1/(1 - alpha)
    with mp.workdps(40):
        assert close(d["e_exponent"], 4 * (1 - t[1]), 25)
    # a wrong variant (the feed-forward-like rate 1 - J'(e*) without the 1/(1-alpha)) is far off
    assert abs(d["e_exponent"] - (1 - t[1])) > 0.09
    with pytest.raises(DomainError):
        correlation_fixed_point(relu())
    with pytest.raises(DomainError):
        correlation_approach(phi, 10, delta0_rel=0.01)


def test_correlation_fast_path_matches_the_direct_recursion():
    phi = rho_alpha(sp.Rational(3, 4))
    es, _ = correlation_fixed_point(phi, 50, 1)
    ls, d, p, n = correlation_approach(phi, 30, delta0_rel="1e-7", dps=30, record=[10, 30])
    with mp.workdps(50):
        e0 = es + mp.mpf("1e-7") * (1 - es)
    r = iterate(phi, 30, e0=e0, dps=45, record=[10, 30])   # one 2F1 per layer, e as the variable
    with mp.workdps(50):
        for a, b in zip(d, r.e):
            assert close(a / (b - es), 1, 20)                # delta agrees to 20 digits (e - e* loses ~10 of 45)
            assert not close(a / (e0 - es), 1, 2)            # delta has moved: the comparison is not trivial
        assert all(close(a, b, 28) for a, b in zip(p, r.p))


def test_correlation_rate_from_near_fixed_point_three_digits():
    """10^5 layers from |e0 - e*| = 1e-8 (1 - e*): the linear regime from the start (~3 s)."""
    rows = exponent_checks(10 ** 5, dps=20, cases=("rho34-e",))
    name, derived, slope, ex, digits, _ = rows[0]
    assert name.startswith("alpha=3/4: abs(e^l - e*)") and close(derived, -0.12481786685553, 12)
    assert digits >= 3.5 and abs(slope - derived) < 1e-4
    # from below (e0 < e*) the same rate
    ls, d, _, _ = correlation_approach(rho_alpha(sp.Rational(3, 4)), 20000, delta0_rel="-1e-8", dps=30,
                                       record=[5000, 10000, 20000])
    assert all(v < 0 for v in d) and abs(fit_exponent(ls, d, correction=1) - derived) < 2e-4
    # another alpha: 2/3 (r = 1/(1 - alpha) = 3, k = 3 (1 - J'(e*)) = 0.16615...)
    phi = rho_alpha(sp.Rational(2, 3))
    a = asymptotics(phi)
    assert a["e_rate_coefficient"] == 3
    ls, d, _, _ = correlation_approach(phi, 20000, dps=25, record=[5000, 10000, 20000])
    assert abs(fit_exponent(ls, d, correction=1) + a["e_exponent"]) < 5e-5
    assert abs(fit_exponent(ls, d, correction=1) + sp.Float(derived)) > 0.01   # not the alpha = 3/4 rate


def test_pre_asymptotic_slope_is_the_continuum_law_at_the_current_e():
    """The far start (e0 = 0.5) measures a steeper slope, predicted by (J(e) - e)/((1 - alpha)(e - e*))."""
    rows = pre_asymptotic_slopes(rho_alpha(sp.Rational(3, 4)), 1500, points=3)
    for l, de, meas, pred in rows:
        assert de < 0 and abs(meas / pred - 1) < 0.02
        assert meas < -0.3                                   # far from the asymptotic -0.1248
    assert rows[-1][2] > rows[0][2]                          # relaxing towards it as e -> e*



def test_depth_scaled_initialisation_keeps_the_gradient_bounded():
    """optimal_scaling's laws, iterated: sigma_w ~ L^-1/2 (erf, reduced) and sigma_v^2 sigma_w^2 ~ 1/L (ReLU)."""
    assert optimal_scaling(erf(), variant="reduced")["combination"] == sp.Symbol("sigma_w", positive=True)
    scaled, fixed = [], []
    for L in (50, 200, 800):
        scaled.append(iterate(erf(), L, sigma_w=1 / mp.sqrt(L), variant="reduced", dps=15, record=[L]).log_chi[-1])
        fixed.append(iterate(erf(), L, sigma_w=1, variant="reduced", dps=15, record=[L]).log_chi[-1])
    # scaled: converges (to L sigma_w^2 erf'(0)^2 = 4/pi, the lengths staying O(1)); fixed: grows like sqrt(L)
    assert abs(scaled[2] - scaled[1]) < abs(scaled[1] - scaled[0]) / 3 and abs(scaled[2] - 4 / mp.pi) < 0.01
    assert 1.9 < fixed[2] / fixed[1] < 2.1 and 1.9 < fixed[1] / fixed[0] < 2.2
    relu_scaled = [iterate(relu(), L, sigma_w=mp.sqrt(mp.mpf(2) / L), dps=15, record=[L]).log_chi[-1] for L in (100, 800)]
    assert all(abs(v - 1) < 0.01 for v in relu_scaled)   # (1 + 1/L)^L -> e: log chi -> 1

@pytest.mark.slow
def test_correlation_rate_at_a_million_layers():
    rows = exponent_checks(10 ** 6, dps=20, cases=("rho34-e",))
    assert rows[0][4] >= 4.5

@pytest.mark.slow
@pytest.mark.parametrize("case", ["rho34-p", "rho34-chi", "relu-e", "erf-e", "erf-chi"])
def test_residual_exponents_to_three_digits_at_a_million_layers(case):
    L = 10 ** 6
    rec = [L // 4, L // 2, L]
    if case.startswith("rho34"):
        r = iterate(rho_alpha(sp.Rational(3, 4)), L, dps=20, record=rec)
        y = r.p if case == "rho34-p" else [mp.exp(v) for v in r.log_chi]
        assert abs(fit_exponent(r.layers, y, correction=1) - (4 if case == "rho34-p" else 4.5)) < 1e-3
    elif case == "relu-e":
        r = iterate(relu(), L, e0=0.5, dps=20, record=rec)
        assert abs(fit_exponent(r.layers, r.one_minus_e, correction=1) + 2) < 1e-3
    else:
        r = iterate(erf(), L, e0=0.5, variant="reduced", dps=20, record=rec)
        if case == "erf-e":
            assert abs(fit_exponent(r.layers, r.e, correction=0.5) + (1 - 2 / mp.pi)) < 1e-3
        else:
            D = 4 / mp.pi
            s = [(r.log_chi[i + 1] - r.log_chi[i]) / (mp.sqrt(r.layers[i + 1]) - mp.sqrt(r.layers[i])) for i in range(2)]
            rr = mp.sqrt(mp.mpf(1) / 2)  # corrections ~ l^-1/2
            assert abs((s[1] - rr * s[0]) / (1 - rr) - D) < 1e-3 * D


# -- simulations and the shell ------------------------------------------------------------


def test_small_simulations_agree_with_theory():
    r = compare_feedforward(tanh(), 1.5, 0.3, width=300, depth=8, seeds=(0, 1))
    assert np.max(np.abs(r["rel_error"]["q"])) < 0.1 and np.max(np.abs(r["rel_error"]["c"])) < 0.1
    assert abs(r["rel_error"]["log_grad"]) < 0.15
    r = compare_residual(erf(), 1.0, width=300, depth=8, seeds=(0, 1), variant="reduced")
    assert np.max(np.abs(r["rel_error"]["p"])) < 0.1 and np.max(np.abs(r["rel_error"]["e"])) < 0.1
    assert np.max(np.abs(r["rel_error"]["log_chi"])) < 0.15


def test_cli_fixed_point_and_critical_json(capsys):
    assert main(["fixed-point", "erf", "--sigma-w", "2", "--sigma-b", "0.5", "--dps", "25", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"q_star", "c_star", "chi1", "xi_q", "xi_c"} <= set(out)
    assert close(out["q_star"], q_star(erf(), 2, 0.5, dps=25), 24)
    assert main(["critical", "relu", "--sigma-b", "0.2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sigma_w"].startswith("1.41421356237309504880168872")
    assert main(["critical", "rho:alpha=0.5", "--sigma-b", "0.2"]) == 2
    assert "alpha > 1/2" in capsys.readouterr().err


def test_simulation_errors_are_finite_width_fluctuations_and_the_maps_hold_per_layer():
    # critical ReLU: the trajectory of q wanders (log q is a random walk of variance ~5 l / N, E q exact);
    # the statistics must say so: z-scores of order one, and the one-step map error unbiased
    r = compare_feedforward(relu(), 2 ** 0.5, 0.1, width=300, depth=20, seeds=tuple(range(8)))
    assert np.max(np.abs(r["rel_error"]["q"])) > 0.05  # the raw trajectory error is not small here ...
    for k in ("q", "c", "log_chi"):
        assert np.nanmedian(np.abs(r["z"][k])) < 1.5  # ... but it is what the seed spread predicts
    one = r["one_step"]
    assert abs(one["q_bias"]) < 4 * one["q_bias_se"] < 0.05 and abs(one["c_bias"]) < 4 * one["c_bias_se"]
    # a map off by 3 % in sigma_w (6 % in q) is rejected by the one-step bias
    from symbolic_mf.simulation import _one_step_feedforward
    wrong = _one_step_feedforward(relu(), 1.03 * 2 ** 0.5, 0.1, r["simulation"]["per_seed"])
    assert abs(wrong["q_bias"]) > 8 * wrong["q_bias_se"]
    # and a single seed carries no standard error (NaN z, not a spurious pass)
    r1 = compare_feedforward(relu(), 2 ** 0.5, 0.1, width=100, depth=3, seeds=(0,))
    assert np.all(np.isnan(r1["z"]["q"]))


def test_float_moments_stay_accurate_at_the_variances_residual_networks_reach():
    # p^l grows like l in a residual tanh net: the theory beside the simulation needs E tanh'(sqrt(q) z)^2
    # at q ~ 50-200, where a fixed 120-point Gauss-Hermite rule was off by 49 % (q = 50)
    from symbolic_mf.simulation import FloatMoments

    fm = FloatMoments(tanh())
    with mp.workdps(25):
        for qq in (0.01, 1, 50, 200):
            ref = mp.quad(lambda t: (1 - mp.tanh(mp.sqrt(qq) * t) ** 2) ** 2 * mp.npdf(t), [-mp.inf, -1, 0, 1, mp.inf])
            assert abs(fm.dsecond(qq) / ref - 1) < 1e-13
        ref = mp.quad(lambda t: mp.tanh(mp.sqrt(30) * t) ** 2 * mp.npdf(t), [-mp.inf, -1, 0, 1, mp.inf])
        assert abs(fm.kernel(30, 1) / ref - 1) < 1e-13  # c = 1: the 2-D rule reduces to E tanh^2
        assert abs(fm.kernel(30, 0.9) / FloatMoments(tanh(), H=0.06).kernel(30, 0.9) - 1) < 1e-13  # step converged
        assert abs(fm.kernel(30, 0.9) / fm.kernel(30, 0.89) - 1) > 1e-4  # a shifted correlation is not accepted
    # and the residual simulation then agrees with its theory within its seed spread
    r = compare_residual(tanh(), 1.0, 1.0, width=300, depth=20, seeds=tuple(range(8)), variant="reduced")
    assert np.max(np.abs(r["rel_error"]["log_chi"])) < 0.05
    for k in ("p", "e", "log_chi"):
        assert np.nanmedian(np.abs(r["z"][k][1:])) < 1.5
