"""Mean field of ELU through the orthant engine: fixed points, chi1, critical line, simulation.

Digits demanded and why: the fixed point q*, c*, chi1 at 25 digits against an
independent computation (the kink-aware quadrature of
:mod:`symbolic_mf.kink_quadrature`, which never uses Phi_2, with ELU's pieces
typed in from its definition, roots found by the secant method at 40 digits);
the closed forms carry ~35 digits at dps 30, the reference ~30.  Wrong
variants (a parameter changed by 1e-6, the length slope used for chi1,
a sign) are rejected at that level.  Simulations: width 1600, depth 10, two
seeds: the finite-width fluctuations of q are ~2-4 % there (see the note).
"""

import functools
import json

import numpy as np
import pytest
from mpmath import mp

from symbolic_mf.activations import elu
from symbolic_mf.cli import main
from symbolic_mf.errors import DomainError
from symbolic_mf.kink_quadrature import kink_pair_expectation
from symbolic_mf.meanfield import Moments, c_star, critical_sigma_w, fixed_point, q_star
from symbolic_mf.simulation import compare_feedforward, numpy_activation, simulate_feedforward, theory_feedforward

#: ELU_a and its derivative from the definition: x (x > 0), a(e^x - 1) (x < 0); 1, a e^x
def pieces(a=1):
    return {1: {(1, 0): 1}, -1: {(0, 1): a, (0, 0): -a}}


def dpieces(a=1):
    return {1: {(0, 0): 1}, -1: {(0, 1): a}}


ONE = {1: {(0, 0): 1}, -1: {(0, 0): 1}}
SW, SB = "1.3", "0.3"   # chaotic: chi1 > 1, so c* < 1 is a real root (exact decimals, read at 40 digits)


def close(a, b, digits):
    with mp.workdps(digits + 15):
        return abs(mp.mpf(a) - mp.mpf(b)) <= mp.mpf(10) ** (-digits) * max(1, abs(mp.mpf(b)))


def _secant(F, x0, x1, tol):
    f0, f1 = F(x0), F(x1)
    for _ in range(40):
        x0, x1, f0 = x1, x1 - f1 * (x1 - x0) / (f1 - f0), f1
        f1 = F(x1)
        if abs(x1 - x0) < tol:
            return x1
    raise AssertionError("secant did not converge")  # pragma: no cover


@functools.lru_cache(maxsize=4)
def reference_fixed_point(sw, sb, a=1):
    """q*, chi1, c* at ~30 digits from the kink quadrature (no Phi_2, no engine)."""
    P, D = pieces(a), dpieces(a)
    with mp.workdps(40):
        sw, sb = mp.mpf(sw), mp.mpf(sb)
        V = lambda q: sw ** 2 * kink_pair_expectation(P, P, q, q, q) + sb ** 2   # noqa: E731
        q = _secant(lambda q: V(q) - q, mp.mpf(3), mp.mpf("3.2"), mp.mpf(10) ** -34)
        x1 = sw ** 2 * kink_pair_expectation(D, D, q, q, q)
        C = lambda c: (sw ** 2 * kink_pair_expectation(P, P, q, q, c * q) + sb ** 2) / q - c   # noqa: E731
        c = _secant(C, mp.mpf("0.85"), mp.mpf("0.9"), mp.mpf(10) ** -32)
    return q, x1, c


@pytest.fixture(scope="module")
def fp():
    return fixed_point(elu(), "1.3", "0.3", dps=30)


def test_route_is_the_orthant_engine():
    m = Moments(elu(), 20)
    assert m.route == "orthant closed form (engine)"
    assert m._fourier["corr"] and "BivariateNormalCDF" in str(m._fourier["K"])


def test_one_dimensional_moments_against_split_quadrature():
    m = Moments(elu(), 30)
    q = mp.mpf("1.7")
    with mp.workdps(40):
        s = mp.sqrt(q)
        f = lambda t: s * t if t > 0 else mp.expm1(s * t)   # noqa: E731
        df = lambda t: mp.one if t > 0 else mp.exp(s * t)   # noqa: E731
        E = lambda g: mp.quad(lambda t: g(t) * mp.npdf(t), [-mp.inf, 0, mp.inf])   # noqa: E731
        assert close(m.mean(q), E(f), 30)
        assert close(m.second(q), E(lambda t: f(t) ** 2), 30)
        assert close(m.dsecond(q), E(lambda t: df(t) ** 2), 30)
        # slope = d/dq E[phi^2]: against a 4th-order central difference at 40 digits
        h = mp.mpf(10) ** -8
        fd = (8 * (m.second(q + h) - m.second(q - h)) - (m.second(q + 2 * h) - m.second(q - 2 * h))) / (12 * h)
        assert close(m.slope(q), fd, 25)
        assert not close(m.slope(q), m.dsecond(q), 3)   # E[phi phi''] != 0 for ELU: the Stein term matters
        # the kernel at the ends of [-1, 1] and inside, against the kink quadrature
        for c in (mp.one, -mp.one, mp.mpf("0.3"), mp.mpf("-0.999")):
            ref = kink_pair_expectation(pieces(), pieces(), q, q, c * q)
            assert close(m.kernel(q, c), ref, 28)
            refd = kink_pair_expectation(dpieces(), dpieces(), q, q, c * q)
            assert close(m.dkernel(q, c), refd, 28)
        assert m.kernel(q, 1) == m.second(q)
        assert not close(m.kernel(q, -1), kink_pair_expectation(pieces(), pieces(), q, q, q), 3)   # sign of c


def test_fixed_point_25_digits_against_kink_quadrature(fp):
    q, x1, c = reference_fixed_point(SW, SB)
    assert fp.route == "orthant closed form (engine)"
    assert fp.digits >= 25                    # dps 30 and dps 40 agree
    assert close(fp.q_star, q, 25) and close(fp.chi1, x1, 25) and close(fp.c_star, c, 25)
    assert 1 < fp.chi1 < 1.1 and 0.8 < fp.c_star < 0.95
    # wrong variants: ELU with a = 1 + 1e-6, chi1 from the length slope, the correlation fixed point of -c
    other = fixed_point(elu(mp.mpf(1) + mp.mpf(10) ** -6), "1.3", "0.3", dps=30, check=False)
    assert not close(other.q_star, q, 25) and not close(other.c_star, c, 25)
    m = Moments(elu(), 30)
    assert not close(mp.mpf(SW) ** 2 * m.slope(fp.q_star), x1, 5)
    with mp.workdps(40):
        resid = (mp.mpf(SW) ** 2 * kink_pair_expectation(pieces(), pieces(), q, q, -fp.c_star * q) + mp.mpf(SB) ** 2) / q + fp.c_star
    assert abs(resid) > 1e-3


def test_no_finite_fixed_point_above_sqrt2():
    # E[elu(sqrt(q) z)^2] ~ q/2 for large q: sigma_w^2/2 > 1 has no finite q*
    with pytest.raises(DomainError, match="sigma_w"):
        q_star(elu(), "1.5", "0.3", dps=20)
    q = q_star(elu(), "1.41", "0.3", dps=20)
    assert q > 100


def test_critical_line_at_sigma_b_03():
    sw, q = critical_sigma_w(elu(), "0.3", dps=30)
    P, D = pieces(), dpieces()
    with mp.workdps(40):
        sb = mp.mpf(3) / 10
        # independently: q is the length fixed point at sw, and chi1 = 1 there
        assert abs(sw ** 2 * kink_pair_expectation(P, P, q, q, q) + sb ** 2 - q) < mp.mpf(10) ** -27
        assert abs(sw ** 2 * kink_pair_expectation(D, D, q, q, q) - 1) < mp.mpf(10) ** -27
        sw2 = sw * (1 + mp.mpf(10) ** -10)   # wrong variant: sigma_w off by 1e-10
        assert abs(sw2 ** 2 * kink_pair_expectation(D, D, q, q, q) - 1) > mp.mpf(10) ** -12
    hi = critical_sigma_w(elu(), "0.3", dps=40)
    assert close(sw, hi[0], 28) and close(q, hi[1], 28)
    # sigma_b = 0: q* = 0 and chi1 -> sigma_w^2 (phi'(0+)^2 + phi'(0-)^2)/2 = 1
    assert critical_sigma_w(elu(), 0, dps=20) == (1, 0)
    with mp.workdps(30):
        assert close(critical_sigma_w("elu:a=2", 0, dps=20)[0], mp.sqrt(mp.mpf(2) / 5), 19)


def test_cli_fixed_point_elu(capsys):
    assert main(["fixed-point", "elu", "--sigma-w", "1.3", "--sigma-b", "0.3", "--dps", "30", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    q, x1, _ = reference_fixed_point(SW, SB)
    text = json.dumps(out)
    assert "orthant" in text
    assert close(out["q_star"], q, 25) and close(out["chi1"], x1, 25)
    assert main(["fixed-point", "elu", "--sigma-w", "1.5", "--sigma-b", "0.3"]) == 2
    assert "sigma_w" in capsys.readouterr().err


def test_numpy_activation_elu():
    f, df = numpy_activation("elu:a=2")
    h = np.array([-1.0, 0.5])
    assert np.allclose(f(h), [2 * np.expm1(-1.0), 0.5]) and np.allclose(df(h), [2 * np.exp(-1.0), 1.0])


def test_simulation_agrees_with_theory():
    r = compare_feedforward(elu(), 1.3, 0.3, width=1600, depth=10, seeds=(0, 1))
    for k in ("q", "c", "chi"):
        assert np.max(np.abs(r["rel_error"][k])) < 0.05, k
    assert abs(r["rel_error"]["log_grad"]) < 0.15
    # wrong variant: the theory of ELU_2 does not describe the ELU_1 network
    th = theory_feedforward("elu:a=2", 1.3, 0.3, depth=10)
    assert np.max(np.abs(r["simulation"]["q"] - th["q"]) / th["q"]) > 0.1


@pytest.mark.slow
def test_simulation_agrees_with_theory_wide_and_deep():
    # seeds (0, 1, 2), (3, 4, 5), (6, 7, 8): max |rel| 3.5 %, 3.6 %, 2.0 % on q; layer-mean +1.6 %, -0.5 %, +0.1 %
    r = compare_feedforward(elu(), 1.2, 0.1, width=4000, depth=30, seeds=(0, 1, 2))
    for k in ("q", "c", "chi"):
        assert np.max(np.abs(r["rel_error"][k])) < 0.05, k
        assert abs(np.mean(r["rel_error"][k])) < 0.025, k


def test_activations_listing_reports_the_route_moments_takes(capsys):
    from symbolic_mf.activations import SPECS, parse_activation_spec
    from symbolic_mf.meanfield import ROUTES, kernel_route

    assert main(["activations", "--json"]) == 0
    rows = {r["spec"]: r["kernel"] for r in json.loads(capsys.readouterr().out)}
    assert rows["elu:a=1"] == ROUTES["orthant"]
    for name in ("gelu", "erf", "sin"):
        assert rows[name] == ROUTES["Fourier"], name
    for name in ("tanh", "swish", "softplus"):
        assert rows[name] == ROUTES["trapezoidal"], name
    # the fast classification is the route Moments really takes (it derives the kernels)
    for spec, route in rows.items():
        m = Moments(parse_activation_spec(spec), 15)
        key = next(k for k in ROUTES if m.route.startswith(k))
        assert route == ROUTES[key], spec
    assert kernel_route("elu:a=2") == ROUTES["orthant"]
