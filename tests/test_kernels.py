"""The kernel engines: derived closed forms agree with each other (symbolically),
with quadrature (30 digits) and with finite-width Monte Carlo; bad input is refused."""

import numpy as np
import pytest
import sympy as sp
from mpmath import mp

from symbolic_mf import kernels
from symbolic_mf.activations import (HomogeneousActivation, abs_power, identity, leaky_relu, relu, rho_alpha,
                                     signed_power, step, tanh)
from symbolic_mf.engines import bessel, hermite, polar
from symbolic_mf.errors import DomainError, NotPSDError
from symbolic_mf.identity import Identity
from symbolic_mf.domains import CORRELATION, RealInterval
from symbolic_mf.functions import bivariate_expectation, rho, u, v
from symbolic_mf.verify import agreement_digits, verify

c = kernels.c
alpha = sp.Symbol("alpha")


@pytest.fixture(autouse=True)
def _restore_mp():
    dps = mp.dps
    yield
    mp.dps = dps


def _same(e1, e2):
    d = sp.expand(e1 - e2)
    d = sp.expand(d.rewrite(sp.acos).subs(sp.asin(c), sp.pi / 2 - sp.acos(c)).subs(sp.acos(-c), sp.pi - sp.acos(c)))
    return sp.simplify(d) == 0


# -- symbolic cross-checks ---------------------------------------------------

@pytest.mark.parametrize("n", [pytest.param(n, marks=[pytest.mark.slow] if n >= 5 else []) for n in range(7)])
def test_hermite_and_polar_agree_symbolically(n):
    # n = 5, 6 take 8-25 s (SymPy's trigonometric integral) and run with --full;
    # derivations/kernels.py also shows the difference simplifying to 0 for n = 0..6
    H = hermite.derive_kernel(n, 1, 0, c).result
    P = polar.derive_kernel(n, 1, 0, c).result
    assert _same(H, P), (H, P)


@pytest.mark.slow
@pytest.mark.parametrize("n", range(7))
def test_hermite_and_polar_agree_symbolically_for_the_family(n):
    a, b = sp.symbols("a b")
    assert _same(hermite.derive_kernel(n, a, b, c).result, polar.derive_kernel(n, a, b, c).result)


def test_symbolic_alpha_kernel_is_two_2f1_of_c_squared():
    d = hermite.derive_kernel(alpha, 1, 0, c, elementary=False)
    hyps = d.result.atoms(sp.hyper)
    assert {h.args[2] for h in hyps} == {c**2}
    assert {tuple(h.args[1]) for h in hyps} == {(sp.S.Half,), (sp.Rational(3, 2),)}
    assert len(d.steps) >= 6


def test_hermite_coefficient_matches_integration_by_parts_at_small_k():
    # E[rho_alpha He_k] vs. direct quadrature for alpha = 7/10, k = 0..5
    from symbolic_mf.numeric import evaluate
    from symbolic_mf.functions import expectation, z
    a = sp.Rational(7, 10)
    for k in range(6):
        closed = hermite.rho_hermite_coefficient(a, k)
        quad = evaluate(expectation(rho(a, z) * sp.hermite_prob(k, z)), {}, 30)
        assert agreement_digits(evaluate(closed, {}, 30), quad) >= 28


def test_wrong_family_sign_is_rejected():
    # (a+b) and (a-b) swapped: the odd and even parts trade places; must FAIL
    a, b = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    cr = sp.Symbol("c", real=True)
    wrong = hermite.derive_kernel(sp.Rational(3, 2), a, -b, cr).result
    phi = lambda x: a * rho(sp.Rational(3, 2), x) - b * rho(sp.Rational(3, 2), -x)
    idy = Identity("t.wrong-family", "t", bivariate_expectation(phi(u) * phi(v), cr), wrong,
                   {a: RealInterval(1, 2, sharp="none"), b: RealInterval(1, 2, sharp="none"), cr: CORRELATION})
    assert verify(idy, dps=20, points=3).status == "FAIL"


def test_polar_general_n_formula_matches_the_angular_integral():
    th = polar.theta
    for n in range(5):
        lhs = polar.radial_integral(n) * polar.angular_integral(n)
        assert sp.simplify(sp.expand_trig(lhs - polar.arccos_J(n, th))) == 0


def test_bessel_identities_are_derived():
    ids = bessel.derive_identities()
    K = bessel.Kfun
    a, cc = bessel.alpha, bessel.c
    assert sp.simplify(ids.price.rhs - a**2 * K(a - 1, cc)) == 0
    assert sp.simplify(ids.recurrence.rhs - ((2 * a + 1) * cc * K(a, cc) + a**2 * (1 - cc**2) * K(a - 1, cc))) == 0


def test_bessel_recurrence_holds_for_hermite_closed_forms():
    # three closed forms from the Hermite engine satisfy the Bessel engine's recurrence
    a0, c0 = sp.Rational(7, 10), sp.Rational(3, 10)
    Kh = lambda al: kernels.kernel_value(rho_alpha(al), c0, dps=30)
    with mp.workdps(30):
        lhs = Kh(a0 + 1)
        rhs = (2 * a0 + 1) * mp.mpf(3) / 10 * Kh(a0) + mp.mpf(a0.p) / a0.q * mp.mpf(a0.p) / a0.q * (1 - mp.mpf(9) / 100) * \
            kernels.kernel_value(HomogeneousActivation.__new__(HomogeneousActivation) if False else (a0 - 1, 1, 0), c0, 30)
    assert agreement_digits(lhs, rhs) >= 28


# -- numeric agreement beyond n = 6 ------------------------------------------

@pytest.mark.parametrize("phi", [rho_alpha(7), rho_alpha(sp.Rational(-2, 5)), abs_power(sp.Rational(5, 2)),
                                 signed_power(sp.Rational(3, 4)), leaky_relu(sp.Rational(1, 10)), identity()])
@pytest.mark.parametrize("cv", [sp.Integer(-1), -1 + sp.Rational(1, 10**8), sp.Rational(-3, 10), sp.Rational(9, 10),
                                1 - sp.Rational(1, 10**8), sp.Integer(1)])
def test_kernel_value_agrees_with_quadrature_to_28_digits(phi, cv):
    # quadrature at 35 digits so that the reference is not the weaker side
    closed = kernels.kernel_value(phi, cv, dps=30)
    quad = phi.kernel_numeric(cv, dps=35)
    with mp.workdps(30):
        assert agreement_digits(closed, quad, floor=mp.mpf(10) ** -29) >= 28


def test_identity_and_leaky_relu_kernels_are_elementary():
    assert sp.simplify(kernels.dual_kernel(identity()) - c) == 0
    s = sp.Rational(1, 10)
    K = kernels.dual_kernel(leaky_relu(s))
    ref = (1 + s**2) * kernels.dual_kernel(relu()) - 2 * s * kernels.dual_kernel(relu()).subs(c, -c)
    assert _same(K, ref)


def test_normalized_kernel_and_constant():
    assert kernels.kernel_constant(rho_alpha(alpha)) == 2 ** (alpha - 1) * sp.gamma(alpha + sp.S.Half) / sp.sqrt(sp.pi)
    J = kernels.normalized_kernel(step())
    assert sp.simplify(J.subs(c, 1)) == 1 and sp.simplify(J.subs(c, 0)) == sp.S.Half


def test_derivative_kernel_is_dK_dc_for_relu_and_symbolic_alpha():
    assert _same(kernels.derivative_kernel(relu()), sp.diff(kernels.dual_kernel(relu()), c))
    # symbolic alpha: Price, checked at a point to 30 digits
    Kd = kernels.derivative_kernel(rho_alpha(alpha), c)
    dK = sp.diff(kernels.dual_kernel(rho_alpha(alpha), c, elementary=False), c)
    pt = {alpha: sp.Rational(13, 10), c: sp.Rational(-2, 5)}
    assert abs(sp.N((Kd - dK).subs(pt), 40)) < 1e-35


def test_kernel_matrix_by_homogeneity():
    S = [[2, sp.Rational(1, 2), 0], [sp.Rational(1, 2), 1, sp.Rational(-1, 3)], [0, sp.Rational(-1, 3), 3]]
    phi = rho_alpha(sp.Rational(3, 2))
    V = kernels.kernel_matrix(phi, S, dps=30)
    for i, j in [(0, 1), (1, 2), (0, 0)]:
        quad = phi.kernel_numeric(S[i][j], S[i][i], S[j][j], dps=30)
        assert agreement_digits(V[i, j], quad) >= 27
    Vs = kernels.kernel_matrix(relu(), [[sp.Symbol("q", positive=True), 0], [0, 1]])
    assert Vs[0, 0] == sp.Symbol("q", positive=True) / 2


def test_nngp_symbolic_and_numeric_agree():
    Ssym = kernels.nngp(relu(), 2, 2, sp.Rational(1, 10))
    Snum = kernels.nngp(relu(), 2, 2, sp.Rational(1, 10), [[1, sp.Rational(1, 2)], [sp.Rational(1, 2), 1]], dps=30)
    with mp.workdps(40):
        ref = mp.mpf(str(sp.N(Ssym[0, 1].subs(c, sp.Rational(1, 2)), 40)))
    assert agreement_digits(ref, Snum[0, 1]) >= 27
    T = kernels.ntk(relu(), 1, 2, 0, [[1, 0], [0, 1]], dps=20)
    # off-diagonal at c = 0: Sigma^1 = 2I, Sigma^2_12 = 2 * q K(0) = 2 * 2/(2 pi), Theta^1_12 = 0
    with mp.workdps(20):
        assert agreement_digits(T[0, 1], 2 / mp.pi) >= 18
    T2 = kernels.ntk(relu(), 1, 2, 0, [[1, 0], [0, 1]], dps=20)[0, 0]
    # diagonal: Sigma^2 = 2 * 2 * 1/2 = 2, plus 2 * Kdot(1) * Theta^1 = 2 * 1/2 * 2 = 2
    assert agreement_digits(T2, mp.mpf(4)) >= 18


# -- finite width -------------------------------------------------------------

def test_monte_carlo_kernels_within_standard_error():
    rng = np.random.default_rng(0)
    n = 400_000
    for phi, f, cv in [(relu(), lambda x: np.maximum(x, 0), 0.3),
                       (rho_alpha(sp.Rational(1, 2)), lambda x: np.sqrt(np.maximum(x, 0)), -0.6),
                       (abs_power(sp.Rational(3, 2)), lambda x: np.abs(x) ** 1.5, 0.8)]:
        zz = rng.standard_normal((2, n))
        uu = zz[0]
        vv = cv * zz[0] + np.sqrt(1 - cv**2) * zz[1]
        prod = f(uu) * f(vv)
        est, se = prod.mean(), prod.std() / np.sqrt(n)
        exact = float(kernels.kernel_value(phi, sp.nsimplify(cv), dps=20))
        assert abs(est - exact) < 4 * se, (phi, est, exact, se)


def test_monte_carlo_depth3_nngp_within_standard_error():
    rng = np.random.default_rng(1)
    width, nets, sw, sb = 300, 300, 2.0, 0.1
    x = np.array([[1.0, 0.0], [0.6, 0.8]])  # unit inputs, input correlation 0.6, d = 2
    vals = []
    for _ in range(nets):
        h = sw ** 0.5 * (x @ rng.standard_normal((2, width))) / np.sqrt(2) + sb ** 0.5 * rng.standard_normal(width)
        for _layer in range(3 - 1):
            a = np.maximum(h, 0)
            h = (a @ rng.standard_normal((width, width))) * np.sqrt(sw / width) + sb ** 0.5 * rng.standard_normal(width)
        a = np.maximum(h, 0)
        vals.append(sw * a[0] @ a[1] / width + sb)  # E[z1 z2 | last hidden layer], readout layer
    vals = np.array(vals)
    est, se = vals.mean(), vals.std() / np.sqrt(nets)
    S0 = [[sp.Rational(1, 2), sp.Rational(3, 10)], [sp.Rational(3, 10), sp.Rational(1, 2)]]  # x.x'/d, d = 2
    exact = float(kernels.nngp(relu(), 3, 2, sp.Rational(1, 10), S0, dps=20)[0, 1])
    assert abs(est - exact) < 4 * se + 5e-3 * abs(exact), (est, exact, se)  # + O(1/width) finite-width bias


# -- bad input ------------------------------------------------------------------

def test_alpha_at_or_below_minus_half_is_refused():
    with pytest.raises(DomainError, match="alpha"):
        kernels.dual_kernel((sp.Rational(-1, 2), 1, 0))
    with pytest.raises(DomainError, match="alpha"):
        HomogeneousActivation(-1)


def test_correlation_outside_unit_interval_is_refused():
    with pytest.raises(DomainError, match=r"^c = "):
        kernels.kernel_value(relu(), sp.Rational(11, 10))


def test_non_psd_sigma_is_refused():
    with pytest.raises(NotPSDError, match="Sigma"):
        kernels.kernel_matrix(relu(), [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]])
    with pytest.raises(NotPSDError):
        kernels.kernel_matrix(relu(), [[1, 0], [0, -1]], dps=20)


def test_non_homogeneous_and_bad_method_are_refused():
    with pytest.raises(DomainError, match="phi"):
        kernels.dual_kernel(tanh())
    with pytest.raises(DomainError, match="method"):
        kernels.dual_kernel(relu(), method="laplace")
    with pytest.raises(DomainError, match="phi"):  # relu'' is a Dirac mass: no Fourier route
        kernels.dual_kernel(relu(), method="fourier")
    with pytest.raises(DomainError, match="alpha"):
        kernels.derivative_kernel(step())
    with pytest.raises(DomainError, match="depth"):
        kernels.nngp(relu(), -1)


def test_cli_kernel_json(capsys):
    import json
    from symbolic_mf.cli import main
    assert main(["kernel", "leaky_relu:slope=0.1", "--at", "-1", "0.5", "--dps", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "hermite" and "acos" in out["closed_form"]
    with mp.workdps(20):
        assert abs(mp.mpf(out["values"][0]["value"]) - (-mp.mpf(1) / 10)) < mp.mpf(10) ** -18  # K(-1) = -s E[relu^2]*2
    capsys.readouterr()
    # no engine derives tanh's kernel: values only (quadrature), and no closed form to print
    assert main(["kernel", "tanh", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "quadrature" and out["closed_form"] is None and out["values"] == []
    assert main(["kernel", "tanh", "--latex"]) == 2
    assert main(["kernel", "tanh", "--at", "1.5"]) == 2
