"""C99 export of the certified Mehler-series kernels (tanh, swish, softplus): compiled with
``gcc -std=c99 -Wall -Werror``, called through ctypes, against the NumPy series (:mod:`symbolic_mf.export.series`)."""

import ctypes
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp

from symbolic_mf.activations import Activation, softplus, swish, tanh
from symbolic_mf.cli import main
from symbolic_mf.errors import DomainError
from symbolic_mf.export import series

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
D = ctypes.c_double
P = ctypes.POINTER(D)
EPS = 2.0 ** -52
#: largest variance tested per activation (tanh reaches tol = 1e-12 with 4000 terms up to about q = 30)
QBIG = {"tanh": 25.0, "swish": 25.0, "softplus": 100.0}


def _compile(src, tmp_path, tag="k"):
    c, so = tmp_path / f"{tag}.c", tmp_path / f"{tag}.so"
    c.write_text(src)
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Werror", "-O2", "-shared", "-fPIC", "-o", str(so), str(c), "-lm"],
                   check=True, capture_output=True)
    lib = ctypes.CDLL(str(so))
    for kind in ("nngp_fn", "d_nngp_fn"):
        f = getattr(lib, f"smf_{kind}_array_with_bound")
        f.restype, f.argtypes = None, [P, P, P, P, P, ctypes.c_size_t]
        g = getattr(lib, f"smf_{kind}")
        g.restype, g.argtypes = D, [D, D, D]
    lib.smf_coefficients.restype, lib.smf_coefficients.argtypes = ctypes.c_int, [D, P, ctypes.c_int]
    return lib


def _call(lib, kind, c, q1, q2):
    c, q1, q2 = (np.ascontiguousarray(t, dtype=float) for t in np.broadcast_arrays(c, q1, q2))
    out, bound = np.empty_like(c), np.empty_like(c)
    getattr(lib, f"smf_{kind}_array_with_bound")(*(t.ctypes.data_as(P) for t in (c, q1, q2, out, bound)), c.size)
    return out, bound


RHOS = np.array([-1.0, -(1 - 1e-6), -0.5, 0.0, 0.3, 1 - 1e-6, 1.0])


@pytest.mark.parametrize("phi", [tanh(), swish(), softplus()], ids=lambda p: p.name)
def test_c_series_matches_numpy(phi, tmp_path):
    """Per variance pair (the NumPy call picks K for the pair, as the C code): |C - NumPy| <= 16 eps * scale
    (measured: 6.5 eps), both stated bounds < tol, C within the sum of the bounds."""
    lib = _compile(series.c_kernel_source(phi), tmp_path)
    _, k, dk = series.series_stax_functions(phi, 1e-12)
    big = QBIG[phi.name]
    pairs = [(a, b) for a in (0.0, 0.3, 1.0, 2.5) for b in (0.0, 1.0, 2.5)] + [(big, 1.0), (0.0, big), (big, big)]
    for kind, ref in (("nngp_fn", k), ("d_nngp_fn", dk)):
        for q1, q2 in pairs:
            c = RHOS * np.sqrt(q1 * q2)
            got, gb = _call(lib, kind, c, q1, q2)
            want, wb = ref.with_bound(c, np.full_like(c, q1), np.full_like(c, q2))
            scale = np.sqrt(float(ref(q1, q1, q1)) * float(ref(q2, q2, q2))) or 1.0
            assert np.max(np.abs(got - want)) <= 16 * EPS * scale, (kind, q1, q2)
            assert np.all(gb < 1e-12) and np.all(np.abs(got - want) <= gb + wb)
    # unequal variances in one array (the coefficient cache is refreshed when the pair changes)
    q1 = np.array([1.0, 1.0, 2.5, 2.5, 1.0, 0.0])
    q2 = np.array([2.5, 2.5, 1.0, 1.0, 2.5, 1.0])
    c = np.array([0.3, -1.0, 1.0, 0.2, 1.0, 0.5]) * np.sqrt(q1 * q2)
    got, _ = _call(lib, "nngp_fn", c, q1, q2)
    want = [float(k(*t)) for t in zip(c, q1, q2)]
    assert np.max(np.abs(got - want)) <= 16 * EPS * 3
    assert lib.smf_nngp_fn(c[0], q1[0], q2[0]) == got[0]          # scalar = array entry


def test_c_coefficients_rejections_and_wrong_variants(tmp_path):
    lib = _compile(series.c_kernel_source(tanh()), tmp_path)
    alpha = (D * 4001)()
    n = lib.smf_coefficients(1.0, alpha, 4001)
    a = np.array(alpha[:n])
    assert 40 < n < 200 and abs(np.sum(a * a) - float(series.series_stax_functions(tanh())[1](1.0, 1.0, 1.0))) < 1e-12
    assert abs(alpha[0]) < 1e-15 and alpha[1] > 0.6                 # odd activation: alpha_0 = 0
    assert lib.smf_coefficients(1.0, alpha, 10) == -1                # max_terms too small
    assert lib.smf_coefficients(-1.0, alpha, 4001) == -1
    assert np.isnan(lib.smf_nngp_fn(0.0, -1.0, 1.0))                 # negative variance
    got, b = _call(lib, "nngp_fn", 0.0, 100.0, 100.0)                # 4000 terms do not reach 1e-12 (NumPy raises)
    assert np.isnan(got[0]) and b[0] == np.inf
    with pytest.raises(DomainError):
        series.series_stax_functions(tanh())[1](0.0, 100.0, 100.0)
    c = RHOS * np.sqrt(2.5)
    ref = series.series_stax_functions(tanh(), 1e-12)[1](c, 1.0, 2.5)
    # wrong variants must be told apart: tol 1e-6 instead of 1e-12, and tanh(1.01 x) instead of tanh(x)
    loose = _compile(series.c_kernel_source(tanh(), tol=1e-6), tmp_path, "loose")
    assert np.max(np.abs(_call(loose, "nngp_fn", c, 1.0, 2.5)[0] - ref)) > 1e3 * 16 * EPS
    x = sp.Symbol("x", real=True)
    other = series.series_stax_functions(Activation(sp.tanh(sp.Rational(101, 100) * x), "tanh101"))[1](c, 1.0, 2.5)
    assert np.max(np.abs(_call(lib, "nngp_fn", c, 1.0, 2.5)[0] - other)) > 1e-4
    with pytest.raises(DomainError):
        series.c_kernel_source(tanh(), tol=1e-15)


def test_cli_series_c_compiles(tmp_path, capsys):
    stem = tmp_path / "sp"
    assert main(["export", "softplus", "--to", "c", "--tol", "1e-10", "-o", str(stem)]) == 0
    src = (tmp_path / "sp_kernel.c").read_text()
    assert "#define smf_TOL 1e-10" in src and "x + log1p(exp(-x))" in src
    lib = _compile(src, tmp_path, "cli")
    assert abs(lib.smf_nngp_fn(1.0, 1.0, 1.0) - 0.921245908859) < 1e-10  # E[softplus(z)^2]
    assert main(["export", "elu", "--to", "c", "-o", str(tmp_path / "elu")]) == 0
    src = (tmp_path / "elu_kernel.c").read_text()
    assert "double smf_nngp_fn(double cov12, double var1, double var2)" in src
