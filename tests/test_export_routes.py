"""``symbolic-mf export`` for ELU (orthant engine) and tanh / swish / softplus (certified Mehler series):
the written modules are standalone and reproduce the library's functions."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from symbolic_mf.activations import elu, softplus, swish, tanh
from symbolic_mf.cli import main
from symbolic_mf.export import orthant, series
from symbolic_mf.export.codegen import load_module


def _grid():
    rng = np.random.default_rng(8)
    q1, q2 = rng.choice([0.0, 0.5, 1.0, 3.0], 60), rng.choice([0.5, 1.0, 2.0], 60)
    c = rng.uniform(-1, 1, 60) * np.sqrt(q1 * q2)
    c[:4] = np.sqrt(q1 * q2)[:4] * np.array([1.0, -1.0, 1 - 1e-6, -(1 - 1e-6)])
    return c, q1, q2


def _written(tmp_path, argv, capsys):
    out = tmp_path / "mod.py"
    assert main(["export"] + argv + ["-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    src = out.read_text()
    assert not any(t in src for t in ("import symbolic_mf", "from symbolic_mf", "from .", "import sympy"))  # standalone
    return load_module(src, f"smf_route_{abs(hash(tuple(argv)))}")


@pytest.mark.parametrize("spec, phi", [("elu", elu()), ("elu:a=1/2", elu(0.5))])
def test_elu_numpy_module_is_the_library_function(spec, phi, tmp_path, capsys):
    mod = _written(tmp_path, [spec, "--to", "numpy"], capsys)
    c, q1, q2 = _grid()
    fn, k, dk = orthant.stax_functions(phi)
    assert np.array_equal(mod.nngp_fn(c, q1, q2), k(c, q1, q2))
    assert np.array_equal(mod.d_nngp_fn(c, q1, q2), dk(c, q1, q2))
    assert np.array_equal(mod.fn(c), fn(c))
    # a wrong variant (the other ELU) differs
    other = orthant.stax_functions(elu(0.5) if spec == "elu" else elu())[1]
    assert np.max(np.abs(mod.nngp_fn(c, q1, q2) - other(c, q1, q2))) > 1e-3


@pytest.mark.parametrize("name, phi", [("tanh", tanh()), ("swish", swish()), ("softplus", softplus())])
def test_series_numpy_module_is_the_library_function(name, phi, tmp_path, capsys):
    mod = _written(tmp_path, [name, "--to", "numpy", "--tol", "1e-10"], capsys)
    assert mod.TOL == 1e-10
    c, q1, q2 = _grid()
    _, k, dk = series.series_stax_functions(phi, 1e-10)
    assert np.array_equal(mod.nngp_fn(c, q1, q2), k(c, q1, q2))
    assert np.array_equal(mod.d_nngp_fn(c, q1, q2), dk(c, q1, q2))
    v, b = mod.nngp_fn.with_bound(c, q1, q2)
    assert np.all(b < 1e-10)


def test_series_jax_module_and_elu_jax_module(tmp_path, capsys):
    jax = pytest.importorskip("jax")
    c, q1, q2 = _grid()
    for argv, ref in ((["tanh", "--to", "jax"], series.series_stax_functions(tanh())[1]),
                      (["elu", "--to", "jax"], orthant.stax_functions(elu())[1])):
        mod = _written(tmp_path, argv, capsys)
        with jax.enable_x64(True):
            got = np.asarray(jax.jit(mod.nngp_fn)(c, q1, q2))
        assert np.max(np.abs(got - ref(c, q1, q2))) < 4e-15


def test_routes_and_rejections(tmp_path, capsys):
    assert main(["export", "elu", "--to", "latex"]) == 0
    assert r"\Phi_2" in capsys.readouterr().out
    assert main(["export", "tanh", "--to", "latex"]) == 2          # no closed form
    assert main(["export", "tanh", "--tol", "1e-20"]) == 2         # outside [1e-14, 1e-2]
    assert main(["export", "sigmoid2"]) == 2
    err = capsys.readouterr().err
    assert "tanh, swish, softplus" in err and "elu" in err
