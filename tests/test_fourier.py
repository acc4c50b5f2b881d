"""Fourier engine, certified Mehler series, trapezoidal pair quadrature (issue 8)."""

import pytest
import sympy as sp
from mpmath import mp, mpf

from symbolic_mf import kernels
from symbolic_mf.activations import erf, exp, gelu, relu, sin, cos, softplus, swish, tanh, x
from symbolic_mf.catalogue import get_identity
from symbolic_mf.engines import fourier as F
from symbolic_mf.engines.hermite_series import series_kernel
from symbolic_mf.errors import DomainError, NotPSDError
from symbolic_mf.pair_quadrature import pair_expectation
from symbolic_mf.verify import verify

c, q1, q2 = F.cov, F.q1, F.q2


@pytest.fixture(autouse=True)
def _restore_dps():
    saved = mp.dps
    yield
    mp.dps = saved


def _general(phi):
    return F.derive_kernel(phi, var1=q1, var2=q2).result


@pytest.mark.parametrize("phi, reference", [
    (sin(), sp.exp(-(q1 + q2) / 2) * sp.sinh(c)),
    (cos(), sp.exp(-(q1 + q2) / 2) * sp.cosh(c)),
    (exp(), sp.exp((q1 + q2) / 2 + c)),
    (erf(), 2 / sp.pi * sp.asin(2 * c / sp.sqrt((1 + 2 * q1) * (1 + 2 * q2)))),  # Williams (1997)
])
def test_fourier_kernels_match_the_literature_symbolically(phi, reference):
    assert sp.simplify((_general(phi) - reference).rewrite(sp.exp)) == 0


def test_gaussian_bump_kernel():
    s = sp.Symbol("s", positive=True)
    K = F.derive_cross_kernel(sp.exp(-x**2 / (2 * s**2)), sp.exp(-x**2 / (2 * s**2))).result
    assert sp.simplify(K**2 - s**4 / ((q1 + s**2) * (q2 + s**2) - c**2)) == 0


def test_price_consistency_gelu_and_erf():
    """d/dc of the derived kernel is the derived derivative (NTK) kernel, for unequal variances."""
    for phi in (gelu(), erf()):
        K, Kd = _general(phi), _general(phi.derivative())
        pt = {q1: sp.Rational(3, 7), q2: sp.Rational(5, 4), c: sp.Rational(1, 3)}
        assert abs(sp.N((sp.diff(K, c) - Kd).subs(pt), 40)) < 1e-35


def test_gelu_kernel_at_zero_is_the_square_mean():
    K = _general(gelu())
    # E[x Phi(x)] = q / sqrt(2 pi (1 + q)) for x ~ N(0, q)
    mean = lambda q: q / sp.sqrt(2 * sp.pi * (1 + q))  # noqa: E731
    pt = {q1: sp.Rational(2, 3), q2: sp.Rational(7, 5)}
    assert abs(sp.N((K.subs(c, 0) - mean(q1) * mean(q2)).subs(pt), 40)) < 1e-38


def test_dual_kernel_fourier_method_and_typed_errors():
    cs = sp.Symbol("c", real=True)
    assert kernels.dual_kernel(erf(), cs, method="fourier") == 2 * sp.asin(2 * cs / 3) / sp.pi
    assert sp.simplify(kernels.derivative_kernel(erf(), cs, method="fourier") - 4 / (sp.pi * sp.sqrt(9 - 4 * cs**2))) == 0
    with pytest.raises(DomainError, match="phi"):
        kernels.dual_kernel(relu(), method="fourier")
    with pytest.raises(DomainError, match="phi"):
        kernels.dual_kernel(tanh(), method="fourier")   # no closed form: the series engine's job


def test_fourier_agrees_with_hermite_mehler_at_20_digits():
    """Two routes where both apply: the closed forms vs the (independent) Mehler series with its bound."""
    mp.dps = 30
    for phi in (erf(), sin()):
        K = F.derive_kernel(phi, c).result
        S = series_kernel(phi, tol=1e-20, dps=32)
        for r in ("0.5", "-0.9", "1"):
            closed = sp.N(K.subs(c, sp.Rational(r)), 40)
            assert abs(mpf(str(closed)) - S.value(mpf(r))) <= S.error_bound(mpf(r)) + mpf(10) ** -29


@pytest.mark.slow
def test_fourier_agrees_with_hermite_mehler_at_30_digits():
    mp.dps = 30
    for phi in (erf(), gelu(), sin()):
        K = F.derive_kernel(phi, c).result
        S = series_kernel(phi, tol=1e-28, dps=45)
        for r in ("0.5", "-0.9"):
            closed = sp.N(K.subs(c, sp.Rational(r)), 40)
            assert abs(mpf(str(closed)) - S.value(mpf(r))) <= S.error_bound(mpf(r)) + mpf(10) ** -29


def test_pair_quadrature_against_closed_forms_and_psd():
    mp.dps = 30
    val = pair_expectation(mp.sin, mp.sin, 2, mpf("0.5"), mpf("-0.9"))
    assert abs(val - mp.exp(-mpf(5) / 4) * mp.sinh(mpf("-0.9"))) < mpf(10) ** -28
    with pytest.raises(NotPSDError):
        pair_expectation(mp.sin, mp.sin, 1, 1, 2)


def test_series_bound_is_met_on_a_grid_including_the_ends():
    mp.dps = 30
    S = series_kernel(softplus(), tol=1e-8, dps=30)
    f = lambda t: mp.log(1 + mp.exp(t))  # noqa: E731
    for r in ("-1", "-0.99999999", "-0.5", "0", "0.7", "0.99999999", "1"):
        ref = pair_expectation(f, f, 1, 1, mpf(r), mp.pi, digits=25, growth=1)
        assert abs(ref - S.value(mpf(r))) <= S.error_bound(mpf(r)) + mpf(10) ** -22   # reference: 25 digits
    # the bound is attained at c = 1 (the tail there is exactly T): it is not a loose guess
    ref1 = pair_expectation(f, f, 1, 1, 1, mp.pi, digits=25, growth=1)
    assert abs(ref1 - S.value(1)) > S.error_bound(1) / 2


def test_series_typed_errors():
    with pytest.raises(DomainError, match="tol"):
        series_kernel(tanh(), tol=0.5)
    with pytest.raises(DomainError, match="dps"):
        series_kernel(tanh(), tol=1e-25, dps=30)


@pytest.mark.parametrize("id_, wrong", [
    ("fourier.sin", lambda R: R.replace(sp.sinh, sp.cosh)),             # cos kernel for sin
    ("fourier.cos", lambda R: R * sp.exp(sp.Symbol("q1", positive=True) / 2)),   # half the damping missing
    ("fourier.erf-derivative", lambda R: R * sp.pi / 2),                 # wrong constant
])
def test_wrong_kernels_are_rejected(id_, wrong):
    idy = get_identity(id_)
    v = verify(idy.replace(id=id_ + ".wrong", rhs=wrong(idy.rhs)), dps=30, points=3)
    assert v.status == "FAIL", v.summary()


def test_series_identity_with_an_understated_tolerance_is_rejected():
    idy = get_identity("fourier.softplus-series")
    tight = idy.replace(id="fourier.softplus-series.tight", tolerance=lambda env: idy.tolerance(env) / 1000,
                        extra_points=[{"c": 1}])
    v = verify(tight, dps=30, points=1)
    assert v.status == "FAIL", v.summary()


def test_fast_identities_pass():
    for id_ in ("fourier.exp", "fourier.swish-series"):
        assert verify(get_identity(id_), dps=30, points=3).status == "PASS"


@pytest.mark.slow
@pytest.mark.parametrize("phi", [tanh(), swish(), softplus()])
def test_series_meets_bound_at_1e_12_on_grid(phi):
    mp.dps = 30
    S = series_kernel(phi, tol=1e-12, dps=30)
    f = sp.lambdify(x, phi.expr, "mpmath")
    pole = mp.pi / 2 if phi.name == "tanh" else mp.pi
    for r in ("-1", "-0.999999", "-0.3", "0.5", "0.999999", "1"):
        ref = pair_expectation(f, f, 1, 1, mpf(r), pole, growth=1)
        assert abs(ref - S.value(mpf(r))) <= S.error_bound(mpf(r))


def test_numpy_export_finite_at_the_edges_and_c_matches(tmp_path):
    import ctypes
    import shutil
    import subprocess

    import numpy as np

    from symbolic_mf.export.fourier import c_kernel_source, stax_functions

    for phi in (erf(), gelu(), sin()):
        fn, nngp, dnngp = stax_functions(phi)
        for q1_, q2_ in ((1.0, 1.0), (0.0, 2.0), (2.5, 0.25)):
            s_ = np.sqrt(q1_ * q2_)
            c12 = np.array([-s_, -s_ * (1 - 1e-16), 0.0, s_ * (1 - 1e-16), s_])
            for f in (nngp, dnngp):
                assert np.all(np.isfinite(f(c12, q1_, q2_)))
        # the exported NNGP at c = q (u = v) is E[phi(z)^2] by quadrature
        mp.dps = 20
        g = sp.lambdify(x, phi.expr, "mpmath")
        ref = pair_expectation(g, g, 1, 1, 1, gauss_type=1)
        assert abs(float(nngp(1.0, 1.0, 1.0)) - float(ref)) <= 4e-16 * abs(float(ref))
        if shutil.which("gcc") is None:
            continue
        src = tmp_path / f"{phi.name}.c"
        src.write_text(c_kernel_source(phi))
        so = tmp_path / f"{phi.name}.so"
        subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Werror", "-shared", "-fPIC", "-o", str(so), str(src),
                        "-lm"], check=True)
        lib = ctypes.CDLL(str(so))
        for name, f in (("smf_nngp_fn", nngp), ("smf_d_nngp_fn", dnngp)):
            cf = getattr(lib, name)
            cf.restype, cf.argtypes = ctypes.c_double, [ctypes.c_double] * 3
            for c_ in (-1.0, -0.3, 0.0, 0.7, 1.0):
                want = float(f(c_, 1.0, 1.0))
                assert abs(cf(c_, 1.0, 1.0) - want) <= 4 * np.spacing(abs(want))


@pytest.mark.slow
def test_meanfield_numeric_route_agrees_with_the_derived_kernels():
    """symbolic_mf.meanfield (generic trapezoid for any Activation) vs the Fourier closed forms, q1 = q2 = q."""
    from symbolic_mf.meanfield import Moments

    m = Moments(gelu(), 20)
    K, Kd = _general(gelu()), _general(gelu().derivative())
    qv, cv = sp.Rational(3, 2), sp.Rational(-1, 2)
    pt = {q1: qv, q2: qv, c: cv * qv}
    mp.dps = 25
    for got, want in ((m.kernel(mpf(3) / 2, mpf(-1) / 2), K), (m.dkernel(mpf(3) / 2, mpf(-1) / 2), Kd)):
        ref = mpf(str(sp.N(want.subs(pt), 30)))
        assert abs(got - ref) <= mpf(10) ** -18 * abs(ref)
