"""Fourier engine for batch norm: the corrected Fourier formula (r^2 outermost) against the spherical and
Laplace engines and Monte Carlo.  NumPy backend (double precision, ~9 digits) in the default run; the mpmath
backend (15 digits, minutes) under --full."""

import numpy as np
import pytest
import sympy as sp
from mpmath import mp

from symbolic_mf.activations import cos, erf, relu, sin, tanh
from symbolic_mf.batchnorm import V_bn, bn_map
from symbolic_mf.engines import spherical
from symbolic_mf.engines.bn_fourier import M11, M12, M22, V_bn_fourier, fourier_kernel
from symbolic_mf.errors import DomainError, NotPSDError


def _gauss_hermite_kernel(f, q1, q2, c, m=80):
    """E[f(a) f(b)] for (a, b) ~ N(0, [[q1, c], [c, q2]]) on a tensor Gauss-Hermite grid (entire f: ~1e-14)."""
    z, w = np.polynomial.hermite_e.hermegauss(m)
    w = w / np.sqrt(2 * np.pi)
    L = np.linalg.cholesky(np.array([[q1, c], [c, q2]], dtype=float))
    Z1, Z2 = np.meshgrid(z, z, indexing="ij")
    a = L[0, 0] * Z1
    b = L[1, 0] * Z1 + L[1, 1] * Z2
    return float(np.sum(np.outer(w, w) * f(a) * f(b)))


@pytest.mark.parametrize("phi,f", [(sin(), np.sin), (erf(), None), (cos(), np.cos)])
def test_fourier_kernels_match_quadrature(phi, f):
    from scipy.special import erf as erf_np

    f = f or erf_np
    K = fourier_kernel(phi)
    for q1, q2, c in ((1, 1, sp.Rational(1, 3)), (2, sp.Rational(1, 2), sp.Rational(-1, 2))):
        closed = float(sp.N(K.subs({M11: q1, M22: q2, M12: c}), 20))
        assert abs(closed - _gauss_hermite_kernel(f, q1, q2, float(c))) < 1e-12
    # a wrong twin (cosh for sinh: the sign of one frequency) is told apart
    if phi.name == "sin":
        bad = float(sp.N(K.replace(sp.sinh, sp.cosh).subs({M11: 1, M22: 1, M12: sp.Rational(1, 3)})))
        assert abs(bad - _gauss_hermite_kernel(f, 1, 1, 1 / 3)) > 0.1


@pytest.mark.parametrize("phi,f", [(sin(), mp.sin), (erf(), mp.erf), (relu(), lambda y: max(y, 0))])
@pytest.mark.parametrize("B", [4, 5])
def test_fourier_equals_spherical_at_bsb1(phi, f, B):
    # any BSB1 input; double-precision Talbot: agreement to 1e-9 (measured ~3e-12)
    v = V_bn_fourier(phi, sp.eye(B) + sp.ones(B, B) / 3, (0, 1), backend="numpy")
    with mp.workdps(15):
        ref = spherical.expect_two(lambda a, b: f(a) * f(b), B)
    assert abs(v - float(ref)) < 1e-9
    d = V_bn_fourier(phi, sp.eye(B), (1, 1), backend="numpy")
    with mp.workdps(15):
        refd = spherical.expect_one(lambda y: f(y) ** 2, B)
    assert abs(d - float(refd)) < 1e-9


def test_fourier_equals_laplace_for_general_sigma():
    S = sp.Matrix([[2, 1, 0, 0], [1, 2, 1, 0], [0, 1, 2, 1], [0, 0, 1, 2]])
    with mp.workdps(15):
        VL = V_bn(relu(), S, dps=15)
    for e in ((0, 1), (0, 3), (1, 2), (2, 2)):
        assert abs(V_bn_fourier(relu(), S, e, backend="numpy") - float(VL[e])) < 1e-9


def test_fourier_sin_general_sigma_matches_monte_carlo():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((5, 5))
    S = A @ A.T / 5 + 0.3 * np.eye(5)
    h = rng.standard_normal((400000, 5)) @ np.linalg.cholesky(S).T
    y = np.sin(bn_map(h))
    p = y[:, 0] * y[:, 2]
    v = V_bn_fourier(sin(), sp.Matrix(S), (0, 2), backend="numpy")
    assert abs(v - p.mean()) < 4 * p.std() / np.sqrt(len(p))


def test_fourier_rejects_bad_input():
    with pytest.raises(DomainError):
        fourier_kernel(tanh())              # no closed-form kernel analytic in the covariance
    with pytest.raises(NotPSDError):
        V_bn_fourier(sin(), sp.ones(4, 4), backend="numpy")   # singular: the formula uses Sigma^-1
    with pytest.raises(DomainError) as e:
        V_bn_fourier(sin(), sp.eye(4), (0, 7), backend="numpy")
    assert e.value.parameter == "entry"
    with pytest.raises(DomainError):
        V_bn_fourier(sin(), sp.eye(4), backend="fortran")


@pytest.mark.slow
def test_fourier_mpmath_backend_15_digits():
    with mp.workdps(15):
        v = V_bn_fourier(erf(), sp.eye(4), (0, 1))
        ref = spherical.expect_two(lambda a, b: mp.erf(a) * mp.erf(b), 4)
        assert abs(v - ref) < 1e-12
