"""JAX export of the ELU (orthant-engine) kernels: the float64 Phi_2 in jax.numpy equals the NumPy one under jit.

Measured (see the note): Phi_2 JAX - NumPy <= 0.5 ulp of 1 on a 21 x 21 x 21 grid
incl. rho = +-1, +-(1 - 1e-15); the ELU kernels within 2 eps (1 + sqrt(q1 q2))
(the printed forms add O(sqrt(q1 q2)) terms, so that is the ulp scale).  Demanded:
4 eps.  The NTK (no cancellation) also relatively within 8 ulp.  float64 only
inside a scoped ``jax.enable_x64`` block; the global flag is checked unchanged.
"""

import numpy as np
import pytest
import sympy as sp
from mpmath import mp

from symbolic_mf import activations as A
from symbolic_mf.bivariate_normal import bvn_cdf_mp

jax = pytest.importorskip("jax")
pytest.importorskip("scipy")
jnp = jax.numpy
EPS = np.finfo(float).eps

from symbolic_mf.export.orthant import bvn_cdf, bvn_cdf_jax, stax_functions  # noqa: E402

RHOS = np.array([-1, -1 + 1e-15, -1 + 1e-13, -0.99, -0.93, -0.925, -0.92, -0.75, -0.5, -0.3, 0, 0.2, 0.3, 0.6,
                 0.75, 0.8, 0.925, 0.95, 1 - 1e-9, 1 - 1e-15, 1])


def x64():
    """float64 for the block only (jax >= 0.5: jax.enable_x64; before: jax.experimental.enable_x64)."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    from jax.experimental import enable_x64  # pragma: no cover - old jax
    return enable_x64()


def test_bvn_jax_equals_numpy_under_jit():
    before = bool(jax.config.jax_enable_x64)
    hs = np.linspace(-5, 5, 21)
    H, K, R = (g.ravel() for g in np.meshgrid(hs, hs, RHOS, indexing="ij"))
    with x64():
        got = jax.jit(bvn_cdf_jax)(H, K, R)
        assert got.dtype == jnp.float64
        got = np.asarray(got)
    ref = bvn_cdf(H, K, R)
    assert np.max(np.abs(got - ref)) <= 4 * EPS
    big = ref > 1e-3
    assert np.max(np.abs(got - ref)[big] / ref[big]) < 64 * EPS
    assert bool(jax.config.jax_enable_x64) == before
    # infinite limits and a wrong variant: the correlation's sign flipped is far off
    with x64():
        assert float(bvn_cdf_jax(np.inf, 0.3, 0.5)) == pytest.approx(float(bvn_cdf(np.inf, 0.3, 0.5)), abs=2 * EPS)
        assert float(bvn_cdf_jax(-np.inf, 0.3, 0.5)) == 0.0
        assert float(bvn_cdf_jax(0.3, -0.2, 1.0)) == float(bvn_cdf_jax(-0.2, 0.3, 1.0))
        flipped = np.asarray(jax.jit(bvn_cdf_jax)(H, K, -R))
    assert np.max(np.abs(flipped - ref)) > 0.1


def test_bvn_jax_against_mpmath_near_plus_minus_one():
    pts = [(h_, k_, r_) for h_ in (-2.0, 0.0, 1.5) for k_ in (-0.5, 0.7) for r_ in (-1.0, -1 + 1e-13, -0.93, 0.5, 1 - 1e-9, 1.0)]
    H, K, R = (np.array(v) for v in zip(*pts))
    with x64():
        got = np.asarray(jax.jit(bvn_cdf_jax)(H, K, R))
    with mp.workdps(25):
        ref = np.array([float(bvn_cdf_mp(mp.mpf(h_), mp.mpf(k_), mp.mpf(r_))) for h_, k_, r_ in pts])
    assert np.max(np.abs(got - ref)) < 1e-15


@pytest.mark.parametrize("a", [pytest.param(1, marks=pytest.mark.slow), sp.Rational(3, 2)])   # a = 3/2: kinked phi'
def test_elu_jax_kernels_equal_numpy_under_jit(a):
    phi = A.elu(a)
    fj, nj, dj = stax_functions(phi, backend="jax")
    fn, nn, dn = stax_functions(phi)
    with x64():
        jn, jd = jax.jit(nj), jax.jit(dj)
        for q1, q2 in ((2.0, 2.0), (1.0, 1.0), (0.5, 1.5), (1e-3, 1.0), (4.0, 0.25), (9.0, 9.0)):
            s = np.sqrt(q1 * q2)
            c = s * np.concatenate([np.linspace(-1, 1, 41), [-1 + 1e-15, 1 - 1e-15, 1 - 1e-9]])
            x_, y_ = np.asarray(jn(c, q1, q2)), nn(c, q1, q2)
            assert np.max(np.abs(x_ - y_)) <= 4 * EPS * (1 + s), (q1, q2)
            xd, yd = np.asarray(jd(c, q1, q2)), dn(c, q1, q2)
            assert np.max(np.abs(xd - yd) / np.abs(yd)) <= 8 * EPS, (q1, q2)
        h = np.array([-1.0, 0.0, 2.0])
        assert np.allclose(np.asarray(fj(h)), fn(h), rtol=2 * EPS, atol=0)
        # zero variance: correlation taken as 0, finite
        assert np.isfinite(np.asarray(jn(0.0, 0.0, 1.0)))
    # wrong variant: ELU_a's kernels are not ELU_(a + 1/10)'s
    _, nw, _ = stax_functions(A.elu(a + sp.Rational(1, 10)))
    assert abs(float(nw(0.3, 1.0, 1.0)) - float(nn(0.3, 1.0, 1.0))) > 1e-3


def test_backend_checked():
    from symbolic_mf.errors import DomainError

    with pytest.raises(DomainError, match="backend"):
        stax_functions(A.elu(), backend="torch")
