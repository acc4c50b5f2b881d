"""ELU kernels by the orthant engine; the bivariate normal CDF; the kink-aware reference quadrature."""

import numpy as np
import pytest
import sympy as sp
from mpmath import mp

from symbolic_mf import activations as A
from symbolic_mf.bivariate_normal import (BivariateNormalCDF, ConditionalNormalCDF, bvn_cdf_mp,
                                          conditional_cdf_mp, normal_cdf)
from symbolic_mf.catalogue import get_identity
from symbolic_mf.catalogue import orthant as C
from symbolic_mf.engines import orthant as O
from symbolic_mf.errors import DomainError, NotPSDError
from symbolic_mf.kernels import derivative_kernel, dual_kernel
from symbolic_mf.kink_quadrature import kink_pair_expectation
from symbolic_mf.numeric import compile_expr
from symbolic_mf.verify import verify


@pytest.fixture(autouse=True)
def _restore_dps():
    old = mp.dps
    yield
    mp.dps = old


a = sp.Symbol("a", positive=True)
h, k, r = sp.symbols("h k rho", real=True)


def elu_pieces(av, derivative=False):
    return C.elu_pieces(av, derivative)


@pytest.fixture(scope="module")
def kernels():
    """K and Kdot for general a, q1, q2, correlation rho (derived once)."""
    pieces = O.activation_pieces(A.elu(a))
    K = O.derive_correlation_kernel(pieces, None, O.rho, O.q1, O.q2).result
    Kd = O.derive_correlation_kernel(O.piece_derivative(pieces), None, O.rho, O.q1, O.q2).result
    return K, Kd


def _env(q1, q2, rr, av):
    return {O.q1: mp.mpf(q1), O.q2: mp.mpf(q2), O.rho: mp.mpf(rr), a: mp.mpf(av)}


# ---------------------------------------------------------------------------
# the bivariate normal CDF


@pytest.mark.parametrize("hh, kk, rr", [(1, -0.5, 0.3), (-1, 0.3, 0.9), (0.5, -2, -0.95), (2, 2, 0.5),
                                        (-3, -3, 0.99), (0.2, -0.1, -0.4)])
def test_bvn_against_independent_x_integral(hh, kk, rr):
    """Drezner's angular integral vs int_{-inf}^h phi(x) Phi((k - rho x)/sigma) dx, 30 digits."""
    mp.dps = 30
    hh, kk, rr = mp.mpf(hh), mp.mpf(kk), mp.mpf(rr)
    s = mp.sqrt(1 - rr * rr)
    ref = mp.quad(lambda t: mp.npdf(t) * mp.ncdf((kk - rr * t) / s), [-mp.inf, hh])
    assert abs(bvn_cdf_mp(hh, kk, rr) - ref) < mp.mpf(10) ** -28


def test_bvn_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    for hh, kk, rr in [(1, -0.5, 0.3), (0.3, 1.2, -0.7), (-1, -2, 0.8)]:
        ref = stats.multivariate_normal(mean=[0, 0], cov=[[1, rr], [rr, 1]]).cdf([hh, kk])
        assert abs(float(bvn_cdf_mp(hh, kk, rr)) - ref) < 1e-7


def test_bvn_continuous_at_rho_pm1():
    mp.dps = 30
    eps = mp.mpf(10) ** -24
    for hh, kk in [(0.3, -0.4), (1, 1), (-2, 0.5)]:
        assert abs(bvn_cdf_mp(hh, kk, 1 - eps) - bvn_cdf_mp(hh, kk, 1)) < mp.mpf(10) ** -11
        assert abs(bvn_cdf_mp(hh, kk, -1 + eps) - bvn_cdf_mp(hh, kk, -1)) < mp.mpf(10) ** -11


def test_bvn_symbolic_rules():
    """Sheppard's value is the Plackett integral of the density at the origin; fdiff agrees with mp.diff."""
    sheppard = sp.Rational(1, 4) + sp.integrate(sp.diff(BivariateNormalCDF(h, k, r), r).subs({h: 0, k: 0}), (r, 0, r))
    assert sp.simplify(sheppard - BivariateNormalCDF(0, 0, r)) == 0
    assert BivariateNormalCDF(k, h, r) == BivariateNormalCDF(h, k, r)
    mp.dps = 30
    pt = {h: sp.Rational(3, 10), k: sp.Rational(-1, 2), r: sp.Rational(2, 5)}
    for var, idx in ((h, 0), (k, 1), (r, 2)):
        sym = sp.N(sp.diff(BivariateNormalCDF(h, k, r), var).subs(pt), 30)
        args = [mp.mpf(sp.Rational(pt[s])) for s in (h, k, r)]

        def f(t, idx=idx, args=args):
            b = list(args)
            b[idx] = t
            return bvn_cdf_mp(*b)

        assert abs(mp.mpf(str(sym)) - mp.diff(f, args[idx])) < mp.mpf(10) ** -20


def test_conditional_cdf_finite_form_and_step():
    # a tilted orthant argument: (k - rho h) divisible by 1 - rho^2 -> the form finite at rho = +-1
    e = ConditionalNormalCDF(h + r * k, r * h + k, r)
    assert not e.has(ConditionalNormalCDF) and e.subs(r, 1) == normal_cdf(0)
    assert ConditionalNormalCDF(1, 2, -1) == 1 and ConditionalNormalCDF(1, 0, 1) == 0
    assert conditional_cdf_mp(1, 1, 1) == mp.mpf(1) / 2


def test_bvn_rejects_correlation_outside():
    with pytest.raises(DomainError, match="rho"):
        bvn_cdf_mp(0, 0, 1.5)
    with pytest.raises(DomainError, match="rho"):
        conditional_cdf_mp(0, 0, -1.01)


# ---------------------------------------------------------------------------
# the engine


def test_orthant_engine_reproduces_relu_and_step_of_the_hermite_engine():
    c = sp.Symbol("c", real=True)
    for phi in (A.relu(), A.step(), A.leaky_relu(sp.Rational(1, 10))):
        assert sp.simplify((dual_kernel(phi, c, method="orthant") - dual_kernel(phi, c)).rewrite(sp.asin)) == 0
    diff = derivative_kernel(A.relu(), c, method="orthant") - derivative_kernel(A.relu(), c)
    assert sp.simplify(diff.rewrite(sp.asin)) == 0


def test_elu_reached_through_kernels_module():
    c = sp.Symbol("c", real=True)
    K = dual_kernel(A.elu(), c, method="orthant")
    Kd = derivative_kernel(A.elu(), c, method="orthant")
    assert K.has(BivariateNormalCDF) and Kd.has(BivariateNormalCDF)
    mp.dps = 30
    P, dP = elu_pieces(1), elu_pieces(1, True)
    for cv in (sp.Rational(1, 2), sp.Rational(-9, 10)):
        val = compile_expr(K)({c: mp.mpf(cv)})
        assert abs(val - kink_pair_expectation(P, P, 1, 1, mp.mpf(cv))) < mp.mpf(10) ** -27
        val = compile_expr(Kd)({c: mp.mpf(cv)})
        assert abs(val - kink_pair_expectation(dP, dP, 1, 1, mp.mpf(cv))) < mp.mpf(10) ** -27


@pytest.mark.parametrize("q1, q2, rr, av", [(1, 1, 0.5, 1), (0.5, 2, -0.3, 1.7), (2, 0.3, 1, 0.5),
                                            (1, 2, -1, 1), (1.3, 0.4, 0.97, 2.5)])
def test_elu_kernels_against_kink_quadrature(kernels, q1, q2, rr, av):
    mp.dps = 30
    K, Kd = kernels
    env = _env(q1, q2, rr, av)
    cov = mp.mpf(rr) * mp.sqrt(mp.mpf(q1) * mp.mpf(q2))
    P, dP = elu_pieces(mp.mpf(av)), elu_pieces(mp.mpf(av), True)
    assert abs(compile_expr(K)(env) - kink_pair_expectation(P, P, q1, q2, cov)) < mp.mpf(10) ** -27
    assert abs(compile_expr(Kd)(env) - kink_pair_expectation(dP, dP, q1, q2, cov)) < mp.mpf(10) ** -27


def test_price_theorem_unequal_variances(kernels):
    """dK/dc = E[elu'(u) elu'(v)] at 40 digits: c = rho sqrt(q1 q2), so dK/dc = (dK/drho)/sqrt(q1 q2)."""
    K, Kd = kernels
    dK = sp.diff(K, O.rho) / sp.sqrt(O.q1 * O.q2)
    mp.dps = 40
    for q1, q2, rr, av in [(0.7, 1.9, 0.35, 1.3), (2, 0.5, -0.8, 0.4), (1, 1, 0.999, 1)]:
        env = _env(q1, q2, rr, av)
        assert abs(compile_expr(dK)(env) - compile_expr(Kd)(env)) < mp.mpf(10) ** -37


def test_special_cases(kernels):
    """c = 0: (E elu u)(E elu v); q1 = q2, c = q: E[elu(u)^2] -- both 1-D integrals."""
    K, Kd = kernels
    mp.dps = 30
    av = mp.mpf(1.5)

    def elu(t):
        return t if t > 0 else av * (mp.exp(t) - 1)

    def mean(f, q):
        s = mp.sqrt(q)
        return mp.quad(lambda t: f(s * t) * mp.npdf(t), [-mp.inf, 0, mp.inf])

    q1, q2 = mp.mpf(0.6), mp.mpf(1.7)
    assert abs(compile_expr(K)(_env(q1, q2, 0, av)) - mean(elu, q1) * mean(elu, q2)) < mp.mpf(10) ** -28
    assert abs(compile_expr(K)(_env(q1, q1, 1, av)) - mean(lambda t: elu(t) ** 2, q1)) < mp.mpf(10) ** -28
    assert abs(compile_expr(K)(_env(q1, q1, -1, av)) - mean(lambda t: elu(t) * elu(-t), q1)) < mp.mpf(10) ** -28
    # a = 1 and unit variances: the general kernel specialises to dual_kernel(elu(), method="orthant")
    c = sp.Symbol("c", real=True)
    spec = K.subs({a: 1, O.q1: 1, O.q2: 1}).subs(O.rho, c)
    assert compile_expr(spec)({c: mp.mpf("0.3")}) - compile_expr(dual_kernel(A.elu(), c, method="orthant"))(
        {c: mp.mpf("0.3")}) == 0


def test_monte_carlo_within_standard_error(kernels):
    K, Kd = kernels
    rng = np.random.default_rng(20261130)
    q1, q2, rr, av = 0.8, 1.6, 0.6, 1.4
    n = 400_000
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    u = np.sqrt(q1) * x
    v = np.sqrt(q2) * (rr * x + np.sqrt(1 - rr * rr) * y)
    elu = lambda t: np.where(t > 0, t, av * np.expm1(np.minimum(t, 0)))  # noqa: E731
    delu = lambda t: np.where(t > 0, 1.0, av * np.exp(np.minimum(t, 0)))  # noqa: E731
    mp.dps = 20
    env = _env(q1, q2, rr, av)
    for expr, s in ((K, elu(u) * elu(v)), (Kd, delu(u) * delu(v))):
        se = s.std() / np.sqrt(n)
        assert abs(s.mean() - float(compile_expr(expr)(env))) < 4 * se


# ---------------------------------------------------------------------------
# wrong variants are rejected


def _fails(identity, rhs):
    v = verify(identity.replace(id=identity.id + "-wrong", rhs=rhs), points=3, dps=20)
    return v.status == "FAIL"


@pytest.mark.parametrize("which", ["a-factor", "shift-sign", "swapped-orthant"])
def test_wrong_elu_kernels_rejected(which):
    idy = get_identity("orthant.elu-derivative")
    rhs = idy.rhs
    if which == "a-factor":
        wrong = rhs.subs(C.a, C.a * sp.Rational(11, 10))
    elif which == "shift-sign":  # e^{+c} tilt of the (-, -) orthant turned into e^{-c}
        wrong = rhs.replace(lambda e: isinstance(e, sp.exp) and e.args[0].has(C.r),
                            lambda e: sp.exp(e.args[0].subs(C.r, -C.r)))
    else:  # pieces on the wrong half-lines (elu'(x) = a e^x for x > 0, 1 for x < 0)
        wrong = O.derive_correlation_kernel({1: {(0, 1): C.a}, -1: {(0, 0): 1}}, None, C.r, C.q1, C.q2).result
    assert wrong != rhs
    assert _fails(idy, wrong)


def test_cross_kernel_swapped_variances_rejected():
    """E[elu(u) relu(v)] is not symmetric in (q1, q2): the swapped form must fail against the reference."""
    mp.dps = 30
    K = O.derive_correlation_kernel(A.elu(), A.relu(), O.rho, O.q1, O.q2).result
    P, R = elu_pieces(1), {1: {(1, 0): 1}, -1: {}}
    q1, q2, rr = mp.mpf("0.5"), mp.mpf("1.8"), mp.mpf("0.4")
    env = {O.q1: q1, O.q2: q2, O.rho: rr}
    ref = kink_pair_expectation(P, R, q1, q2, rr * mp.sqrt(q1 * q2))
    assert abs(compile_expr(K)(env) - ref) < mp.mpf(10) ** -27
    swapped = compile_expr(K)({O.q1: q2, O.q2: q1, O.rho: rr})
    assert abs(swapped - ref) > mp.mpf(10) ** -3


# ---------------------------------------------------------------------------
# typed errors


def test_typed_errors():
    with pytest.raises(DomainError, match="a > 0"):
        A.elu(0)
    with pytest.raises(DomainError, match="a > 0"):
        A.parse_activation_spec("elu:a=-1")
    with pytest.raises(NotPSDError):
        O.kernel_value(A.elu(), 2, 1, 1)
    with pytest.raises(NotPSDError):
        O.kernel_value(A.elu(), 0.1, -1, 1)
    with pytest.raises(NotPSDError):
        kink_pair_expectation(elu_pieces(1), elu_pieces(1), 1, 1, 1.5)
    with pytest.raises(DomainError, match="phi"):
        O.activation_pieces(A.tanh())
    with pytest.raises(DomainError, match="continuous"):
        O.piece_derivative(O.activation_pieces(A.step()))
    with pytest.raises(DomainError, match="method"):
        dual_kernel(A.elu(), method="orthants")


def test_kernel_value_matches_reference():
    mp.dps = 30
    val = O.kernel_value(A.elu(2), 0.3, 0.5, 1.5, dps=30)
    P = elu_pieces(2)
    assert abs(val - kink_pair_expectation(P, P, 0.5, 1.5, 0.3)) < mp.mpf(10) ** -27


# ---------------------------------------------------------------------------
# float64 export


def test_genz_series_constants():
    """exp(-hk(1 - r_s)/(2(1 + r_s)))/r_s = 1 + c x^2 + c d x^4 + O(x^6), c = (4 - hk)/8, d = (12 - hk)/16."""
    xx, hk = sp.symbols("x hk", positive=True)
    rs = sp.sqrt(1 - xx**2)
    f = sp.exp(-hk * (1 - rs) / (2 * (1 + rs))) / rs
    c_, d_ = (4 - hk) / 8, (12 - hk) / 16
    assert sp.simplify(sp.series(f, xx, 0, 6).removeO() - (1 + c_ * xx**2 + c_ * d_ * xx**4)) == 0


def test_bvn_float64_against_mpmath():
    pytest.importorskip("scipy")
    from symbolic_mf.export.orthant import bvn_cdf

    hs = np.array([-4, -1.5, -0.2, 0, 0.7, 3.0])
    rs = np.array([-1, -1 + 1e-13, -0.99, -0.93, -0.92, -0.5, 0, 0.2, 0.6, 0.8, 0.95, 1 - 1e-9, 1])
    H, K, R = (g.ravel() for g in np.meshgrid(hs, hs, rs, indexing="ij"))
    got = bvn_cdf(H, K, R)
    mp.dps = 25
    ref = np.array([float(bvn_cdf_mp(mp.mpf(h_), mp.mpf(k_), mp.mpf(r_))) for h_, k_, r_ in zip(H, K, R)])
    assert np.max(np.abs(got - ref)) < 1e-15
    assert bvn_cdf(np.inf, 0.3, 0.5) == pytest.approx(float(mp.ncdf(0.3)), abs=2e-16)
    assert bvn_cdf(-np.inf, 0.3, 0.5) == 0


def test_elu_numpy_export_matches_closed_form():
    pytest.importorskip("scipy")
    from symbolic_mf.export.orthant import stax_functions

    fn, nngp, dnngp = stax_functions(A.elu(sp.Rational(3, 2)))
    assert np.allclose(fn(np.array([-1.0, 2.0])), [1.5 * np.expm1(-1.0), 2.0])
    # (the NTK kernel has a sqrt(1 - rho) singularity at rho = 1: the ends are taken where float64 is exact)
    for cv, q1, q2 in [(0.3, 0.5, 1.5), (-0.5, 1.0, 0.25), (1.0, 0.5, 2.0), (0.2, 0.25, 0.3), (-2.0, 2.0, 2.0)]:
        for f, deriv in ((nngp, False), (dnngp, True)):
            ref = O.kernel_value(A.elu(sp.Rational(3, 2)), sp.Rational(cv), sp.Rational(q1), sp.Rational(q2),
                                 dps=20, derivative=deriv)
            assert abs(float(f(cv, q1, q2)) - float(ref)) < 1e-13


@pytest.mark.skipif(__import__("shutil").which("gcc") is None, reason="no C compiler")
def test_elu_c_export_compiles_and_matches_numpy(tmp_path):
    pytest.importorskip("scipy")
    import ctypes
    import subprocess

    from symbolic_mf.export.orthant import bvn_cdf, c_kernel_source, stax_functions

    src = tmp_path / "elu.c"
    src.write_text(c_kernel_source(A.elu(2)) + "\ndouble smf_bvn_public(double h, double k, double r) "
                                               "{ return smf_bvn(h, k, r); }\n")
    so = tmp_path / "elu.so"
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Werror", "-shared", "-fPIC", "-o", str(so), str(src), "-lm"],
                   check=True)
    lib = ctypes.CDLL(str(so))
    for f in (lib.smf_nngp_fn, lib.smf_d_nngp_fn, lib.smf_bvn_public):
        f.restype = ctypes.c_double
        f.argtypes = [ctypes.c_double] * 3
    _, nngp, dnngp = stax_functions(A.elu(2))
    for cv, q1, q2 in [(0.3, 0.5, 1.5), (-0.5, 1.0, 0.25), (1.0, 0.5, 2.0), (0.0, 0.0, 1.0), (0.9, 1.0, 1.0)]:
        assert lib.smf_nngp_fn(cv, q1, q2) == pytest.approx(float(nngp(cv, q1, q2)), rel=1e-14, abs=1e-15)
        assert lib.smf_d_nngp_fn(cv, q1, q2) == pytest.approx(float(dnngp(cv, q1, q2)), rel=1e-14, abs=1e-15)
    for hh, kk, rr in [(0.3, -1.2, 0.5), (1.5, 1.4, 0.99), (-0.5, 2.0, -0.97), (0.0, 0.0, -1.0), (2.0, -1.0, 1.0)]:
        assert lib.smf_bvn_public(hh, kk, rr) == pytest.approx(float(bvn_cdf(hh, kk, rr)), abs=1e-16)


def test_cli_kernel_orthant(capsys):
    from symbolic_mf.cli import main

    assert main(["kernel", "elu:a=2", "--method", "orthant", "--at", "1", "--dps", "20"]) == 0
    out = capsys.readouterr().out
    mp.dps = 25
    val = mp.mpf(out.strip().splitlines()[-1].split("=")[-1])
    ref = mp.quad(lambda t: (t if t > 0 else 2 * (mp.exp(t) - 1)) ** 2 * mp.npdf(t), [-mp.inf, 0, mp.inf])  # E elu_2(z)^2
    assert abs(val - ref) < mp.mpf(10) ** -18
