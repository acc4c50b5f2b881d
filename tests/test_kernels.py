"""The kernel engines: two derivations agree, results match quadrature, wrong forms are refuted."""

import pytest
import sympy as sp
from mpmath import mp, mpf

from symbolic_mf import kernels as K
from symbolic_mf.activations import (HomogeneousActivation, abs_power, leaky_relu, relu, rho_alpha, step,
                                     tanh)
from symbolic_mf.check import check
from symbolic_mf.engines.bessel import bessel_recurrence, KERNEL
from symbolic_mf.engines.hermite import hermite_coefficient, sum_hypergeometric
from symbolic_mf.errors import DomainError, NotPSDError

c = sp.Symbol("c", real=True)


def _same(e1, e2):
    return sp.simplify((e1 - e2).rewrite(sp.asin)) == 0


@pytest.mark.parametrize("n", range(0, 7))
def test_hermite_and_polar_agree_symbolically(n):
    assert _same(K.dual_kernel(rho_alpha(n), c, "hermite"), K.dual_kernel(rho_alpha(n), c, "polar"))


@pytest.mark.parametrize("phi", [leaky_relu(sp.Rational(1, 5)), abs_power(2), HomogeneousActivation(3, 2, -1)])
def test_engines_agree_on_family_members(phi):
    assert _same(K.dual_kernel(phi, c, "hermite"), K.dual_kernel(phi, c, "polar"))


def test_engines_disagree_with_a_wrong_member():
    # a shifted index: the polar kernel of rho_2 is not the Hermite kernel of rho_1
    assert not _same(K.dual_kernel(rho_alpha(2), c, "polar"), K.dual_kernel(rho_alpha(1), c, "hermite"))


@pytest.mark.slow
@pytest.mark.parametrize("n", range(7, 10))
def test_engines_agree_beyond_six_numerically(n):
    h = sp.lambdify(c, K.dual_kernel(rho_alpha(n), c, "hermite"), "mpmath")
    p = sp.lambdify(c, K.dual_kernel(rho_alpha(n), c, "polar"), "mpmath")
    with mp.workdps(40):
        for x in (mpf(-0.9), mpf(0), mpf("0.37"), mpf(1)):
            assert abs(h(x) - p(x)) <= mpf(10) ** -30 * abs(p(mpf(1)))


@pytest.mark.parametrize("alpha", [sp.Rational(-2, 5), sp.Rational(1, 3), sp.Rational(5, 2)])
def test_real_alpha_kernel_matches_quadrature_to_28_digits(alpha):
    # the closed form cancels towards c = -1: evaluate it with 15 guard digits
    Kc = sp.lambdify(c, K.dual_kernel(rho_alpha(alpha), c), "mpmath")
    for x in ("-0.95", "0", "0.5"):
        num = rho_alpha(alpha).kernel_numeric(sp.Rational(x), dps=30)
        with mp.workdps(45):
            closed = Kc(mpf(sp.Rational(x).p) / sp.Rational(x).q)
        with mp.workdps(30):
            assert abs(closed - num) < mpf(10) ** -28 * abs(num)


def test_hermite_coefficients_of_relu():
    # E[relu(z) He_k(z)]: 1/sqrt(2 pi), 1/2, 1/sqrt(2 pi), 0, -1/sqrt(2 pi)
    got = [hermite_coefficient(relu(), k) for k in range(5)]
    s = 1 / sp.sqrt(2 * sp.pi)
    assert [sp.simplify(g - r) for g, r in zip(got, [s, sp.S.Half, s, 0, -s])] == [0] * 5


def test_sum_hypergeometric_recognises_a_2f1():
    m, x = sp.symbols("m x")
    term = sp.rf(2, m) * sp.rf(3, m) / sp.rf(sp.Rational(1, 2), m) / sp.factorial(m) * x**m
    m_ = sp.Symbol("m", integer=True, nonnegative=True)
    got = sum_hypergeometric(term.subs(m, m_), m_)
    for pt in (sp.Rational(1, 3), sp.Rational(-7, 10)):
        assert abs(sp.N((got - sp.hyper([2, 3], [sp.Rational(1, 2)], x)).subs(x, pt), 30)) < 1e-25
    # a wrong parameter is visible
    assert abs(sp.N((got - sp.hyper([2, 3], [sp.Rational(3, 2)], x)).subs(x, sp.Rational(1, 3)), 30)) > 1e-2


def test_kernel_constant_is_gauss_theorem_value():
    a = sp.Symbol("alpha", positive=True)
    assert sp.simplify(K.kernel_constant(rho_alpha(a)) - 2 ** (a - 1) * sp.gamma(a + sp.S.Half) / sp.sqrt(sp.pi)) == 0


def test_derivative_kernel_is_price():
    a = sp.Rational(7, 3)
    lhs = sp.diff(K.dual_kernel(rho_alpha(a), c), c)
    rhs = a**2 * K.dual_kernel(rho_alpha(a - 1), c)
    f = sp.lambdify(c, lhs - rhs, "mpmath")
    with mp.workdps(30):
        assert abs(f(mpf("0.3"))) < mpf(10) ** -27
        # and the wrong exponent (alpha instead of alpha^2) is refuted
        g = sp.lambdify(c, lhs - a * K.dual_kernel(rho_alpha(a - 1), c), "mpmath")
        assert abs(g(mpf("0.3"))) > mpf(10) ** -3


def test_bessel_recurrence_is_the_one_hand_derived():
    a = sp.Symbol("alpha")
    rec = bessel_recurrence(a, c)
    expected = (2 * a + 1) * c * KERNEL(a, c) + a**2 * (1 - c**2) * KERNEL(a - 1, c)
    assert sp.simplify(rec - expected) == 0


def test_user_check_refutes_a_misprinted_kernel():
    # the arc-cosine kernel with 1/pi instead of 1/(2 pi) must FAIL
    v = check("E(relu(u)*relu(v))", "(sqrt(1-c^2) + (pi-acos(c))*c)/pi", where={"c": "[-1, 1]"}, points=4)
    assert v.status == "FAIL"


def test_kernel_matrix_and_typed_errors():
    V = K.kernel_matrix(relu(), sp.Matrix([[2, 1], [1, 2]]))
    assert sp.simplify(V[0, 0] - 1) == 0 and V[0, 1] == V[1, 0]
    with pytest.raises(NotPSDError, match="positive semi-definite"):
        K.kernel_matrix(relu(), sp.Matrix([[1, 2], [2, 1]]))
    with pytest.raises(DomainError, match="alpha"):
        K.derivative_kernel(rho_alpha(sp.Rational(1, 2)), c)
    with pytest.raises(DomainError, match="phi"):
        K.dual_kernel(tanh(), c)
    with pytest.raises(DomainError, match="c"):
        K.dual_kernel(relu(), sp.Rational(3, 2))
    with pytest.raises(DomainError, match="method"):
        K.dual_kernel(relu(), c, method="laplace")


def test_nngp_numeric_matches_symbolic_composition():
    sym = K.nngp(relu(), 3, sigma_w2=2, sigma_b2=sp.Rational(1, 10), q=1, c=sp.Rational(1, 2))
    with mp.workdps(30):
        num = K.nngp_numeric(relu(), 3, sigma_w2=2, sigma_b2=sp.Rational(1, 10), q=1, c=sp.Rational(1, 2))
        q3 = K.nngp(relu(), 3, sigma_w2=2, sigma_b2=sp.Rational(1, 10), q=1, c=1)
        assert abs(num - mp.mpf(sp.N(sym / q3, 40))) < mpf(10) ** -27


def test_ntk_of_relu_against_finite_difference_of_definition():
    # one hidden layer, inputs with unit norm and correlation c0: Theta = Sigma1 + 2*Kdot(c0)*c0
    c0 = sp.Rational(1, 3)
    th = K.ntk(relu(), 1, sigma_w2=2, q=1, c=c0)
    expected = 2 * K.dual_kernel(relu(), c0) + 2 * K.dual_kernel(step(), c0) * c0
    assert sp.simplify(th - expected) == 0
