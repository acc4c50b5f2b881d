"""Throughput and worst error of every export, and neural-tangents side by side.

    PYTHONPATH=$PWD nice python bench/kernels.py [--nt /path/to/venv/bin/python]

Part 1 (this interpreter): million kernel entries per second for NNGP+NTK on
10^6 correlations, for the NumPy module, the JAX module under jit (float64),
and the C pair compiled with gcc -O2 (called through ctypes on arrays), with
the worst ulp of each against 40-digit mpmath references on a grid
concentrated toward c = +-1.

Part 2 (--nt PYTHON, a separate virtualenv with jax==0.5.3, jaxlib==0.5.3,
neural-tangents==0.6.5 -- never a dependency of symbolic_mf): the exported
JAX modules (self-contained files) are loaded there and plugged into
stax.Elementwise(fn, nngp_fn, d_nngp_fn); NNGP and NTK of
serial(Dense, <activation>) are compared with neural-tangents' own Relu,
LeakyRelu(0.1) and RectifiedMonomial(2) and timed side by side.  The
float64 reference errors of both are measured against mpmath.

Reading part 2: stax.Elementwise vmaps nngp_fn over nngp, cov1 and cov2 and
d_nngp_fn over nngp -- four kernel evaluations per entry where NT's own Relu
makes two, sharing one arccos between NNGP and NTK.  So through Elementwise
even a kernel exactly as cheap as NT's runs at about half NT's speed (a bare
arc-cosine ReLU pair measured 271 ms against NT's 87 ms, net of Dense, on a
loaded 2-core machine); the ratio printed there bounds the interop cost, not
the exported kernel's own throughput, which part 1 measures.
"""

import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from export_accuracy import grid, ref_kernel  # noqa: E402

from symbolic_mf.export import codegen  # noqa: E402
from symbolic_mf.export.family import family_parameters, ntk_parameters  # noqa: E402

CASES = [("relu", 1, 1, 0), ("leaky_relu(0.1)", 1, 1, 0.1), ("rho_2", 2, 1, 0), ("rho_2.7", 2.7, 1, 0),
         ("abs_0.5", 0.5, 1, -1)]
N = 10 ** 6


def worst_ulp(f, alpha, a, b, kind):
    c = grid(20, 30)
    P = (family_parameters if kind == "nngp" else ntk_parameters)(alpha, a, b)
    if kind == "ntk" and alpha <= 0.5:
        c = c[c < 1]
    got = np.asarray(f(c), dtype=np.float64)
    w = 0.0
    for ci, gi in zip(c, got):
        ref = ref_kernel(P["beta"], P["a"], P["b"], ci, P["exact"])
        if ref == 0:
            w = max(w, 0.0 if gi == 0 else np.inf)
            continue
        w = max(w, float(abs(gi - ref)) / np.spacing(abs(float(ref))))
    return w


def timeit(f, reps=3):
    best = np.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def part1():
    rng = np.random.default_rng(0)
    cc = rng.uniform(-1, 1, N)
    ones = np.ones(N)
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
    except ImportError:
        jax = None
    tmp = tempfile.mkdtemp()
    print(f"{'activation':16} {'backend':6} {'M entries/s (NNGP+NTK)':>24} {'worst ulp NNGP':>15} {'worst ulp NTK':>14}")
    for name, alpha, a, b in CASES:
        mod = codegen.load_module(codegen.numpy_module_source(alpha, a, b))
        rows = [("numpy", lambda c: mod.nngp_fn(c, 1.0, 1.0), lambda c: mod.d_nngp_fn(c, 1.0, 1.0), cc, ones)]
        if jax is not None:
            jm = codegen.load_module(codegen.jax_module_source(alpha, a, b))
            jn, jd = jax.jit(jm.nngp_fn), jax.jit(jm.d_nngp_fn)
            jc, jo = jnp.asarray(cc), jnp.asarray(ones)
            rows.append(("jax", lambda c: np.asarray(jn(jnp.asarray(c), 1.0, 1.0)),
                         lambda c: np.asarray(jd(jnp.asarray(c), 1.0, 1.0)), jc, jo))
            rows[-1] = rows[-1] + ((jn, jd),)
        h, s = codegen.c_source(alpha, a, b, prefix="smf")
        open(os.path.join(tmp, "smf_kernel.h"), "w").write(h)
        open(os.path.join(tmp, "smf_kernel.c"), "w").write(s)
        so = os.path.join(tmp, f"{name.replace('(', '_').replace(')', '')}.so")
        subprocess.run(["gcc", "-O2", "-std=c99", "-shared", "-fPIC", "-o", so, os.path.join(tmp, "smf_kernel.c"), "-lm"],
                       check=True)
        lib = ctypes.CDLL(so)
        dp = ctypes.POINTER(ctypes.c_double)
        for fname in ("smf_nngp_fn_array", "smf_d_nngp_fn_array"):
            getattr(lib, fname).argtypes = [dp, dp, dp, dp, ctypes.c_size_t]

        def c_call(fname):
            def f(c):
                c = np.ascontiguousarray(c, dtype=np.float64)
                o = np.ones_like(c)
                out = np.empty_like(c)
                getattr(lib, fname)(c.ctypes.data_as(dp), o.ctypes.data_as(dp), o.ctypes.data_as(dp),
                                    out.ctypes.data_as(dp), c.size)
                return out
            return f
        rows.append(("c", c_call("smf_nngp_fn_array"), c_call("smf_d_nngp_fn_array"), cc, ones))
        for row in rows:
            backend, fn, dfn, cin, oin = row[:5]
            if backend == "jax":
                jn, jd = row[5]
                jn(cin, oin, oin).block_until_ready()
                jd(cin, oin, oin).block_until_ready()
                dt = timeit(lambda: (jn(cin, oin, oin).block_until_ready(), jd(cin, oin, oin).block_until_ready()))
            else:
                dt = timeit(lambda: (fn(cin), dfn(cin)))
            wn = worst_ulp(fn, alpha, a, b, "nngp")
            wd = worst_ulp(dfn, alpha, a, b, "ntk")
            print(f"{name:16} {backend:6} {N / dt / 1e6:24.2f} {wn:15.3g} {wd:14.3g}")


NT_SCRIPT = r'''
import json, sys, time, importlib.util
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
from neural_tangents import stax

cases = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
d = 64
n = 1000
x = jnp.asarray(rng.normal(size=(n, d)))
out = []
for name, path, nt_layer in cases:
    spec = importlib.util.spec_from_file_location("m", path)
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    ours = stax.serial(stax.Dense(1, W_std=1.0, b_std=0.0), stax.Elementwise(m.fn, m.nngp_fn, m.d_nngp_fn))[2]
    layer = eval("stax." + nt_layer)
    theirs = stax.serial(stax.Dense(1, W_std=1.0, b_std=0.0), layer)[2]
    dense = stax.Dense(1, W_std=1.0, b_std=0.0)[2]
    ko, kt = jax.jit(lambda x: ours(x, None, ("nngp", "ntk"))), jax.jit(lambda x: theirs(x, None, ("nngp", "ntk")))
    kd = jax.jit(lambda x: dense(x, None, ("nngp", "ntk")))
    res = {"name": name}
    for tag, f in (("ours", ko), ("nt", kt), ("dense_only", kd)):
        r = f(x); jax.block_until_ready(r)
        best = 1e9
        for _ in range(5):
            t0 = time.perf_counter(); r = f(x); jax.block_until_ready(r); best = min(best, time.perf_counter() - t0)
        res[tag + "_s"] = best
        res[tag] = [np.asarray(r[0]).tolist(), np.asarray(r[1]).tolist()] if tag != "dense_only" else None
    cov = np.asarray(kd(x)[0])
    res["cov"] = cov.tolist()
    out.append(res)
print(json.dumps(out))
'''


def part2(nt_python):
    import mpmath

    tmp = tempfile.mkdtemp()
    specs = [("relu", 1, 1, 0, "Relu()"), ("leaky_relu(0.1)", 1, 1, 0.1, "LeakyRelu(0.1)"),
             ("rho_2", 2, 1, 0, "RectifiedMonomial(2)")]
    cases = []
    for name, alpha, a, b, layer in specs:
        path = os.path.join(tmp, f"k{len(cases)}.py")
        open(path, "w").write(codegen.jax_module_source(alpha, a, b))
        cases.append((name, path, layer))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([nt_python, "-c", NT_SCRIPT, json.dumps(cases)], capture_output=True, text=True, env=env)
    if proc.returncode:
        print(proc.stderr[-2000:])
        return
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\nneural-tangents 0.6.5 / jax 0.5.3 (float64), serial(Dense, act) on 1000 x 64 inputs "
          f"(10^6 entries, NNGP+NTK), times minus the Dense-only kernel:")
    print(f"{'activation':16} {'ours ms':>8} {'NT ms':>8} {'speed ratio':>11} {'max rel diff':>12} "
          f"{'ours max ulp':>12} {'NT max ulp':>10}  (ratio = NT time / ours; ulp on 400 NNGP entries vs mpmath)")
    for (name, alpha, a, b, _), r in zip(specs, res):
        to, tn = r["ours_s"] - r["dense_only_s"], r["nt_s"] - r["dense_only_s"]
        o, t = np.array(r["ours"][0]), np.array(r["nt"][0])
        cov = np.array(r["cov"])
        fin = np.isfinite(o) & np.isfinite(t)
        rel = np.max(np.abs(o - t)[fin] / np.maximum(np.abs(t[fin]), 1e-300))
        nan_o = int(np.sum(~np.isfinite(o)) + np.sum(~np.isfinite(np.array(r["ours"][1]))))
        nan_t = int(np.sum(~np.isfinite(t)) + np.sum(~np.isfinite(np.array(r["nt"][1]))))
        # reference at 400 entries: K from the covariance entries (variances on the diagonal)
        idx = np.random.default_rng(1).integers(0, cov.shape[0], size=(400, 2))
        uo = un = 0.0
        P = family_parameters(alpha, a, b)
        for i, j in idx:
            q1, q2, c12 = cov[i, i], cov[j, j], cov[i, j]
            with mpmath.workdps(40):
                cm = mpmath.mpf(c12) / mpmath.sqrt(mpmath.mpf(q1) * mpmath.mpf(q2))
                cm = max(min(cm, 1), -1)
                from symbolic_mf.export.family import family_kernel_mp
                ref = family_kernel_mp(alpha, a, b, cm) * (mpmath.mpf(q1) * mpmath.mpf(q2)) ** (mpmath.mpf(alpha) / 2)
            sp_ = np.spacing(abs(float(ref)))
            uo = max(uo, float(abs(o[i, j] - ref)) / sp_ if np.isfinite(o[i, j]) else np.inf)
            un = max(un, float(abs(t[i, j] - ref)) / sp_ if np.isfinite(t[i, j]) else np.inf)
        print(f"{name:16} {1e3 * to:8.2f} {1e3 * tn:8.2f} {tn / to:11.2f} {rel:12.2e} {uo:12.3g} {un:10.3g}"
              f"   non-finite entries: ours {nan_o}, NT {nan_t} (of 2e6)")


if __name__ == "__main__":
    part1()
    if "--nt" in sys.argv:
        part2(sys.argv[sys.argv.index("--nt") + 1])
