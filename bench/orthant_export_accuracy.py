"""Accuracy and speed of the float64 bivariate normal CDF and the exported ELU kernels (issue 8).

1. ``symbolic_mf.export.orthant.bvn_cdf`` (NumPy, Drezner-Wesolowsky / Genz method) against the
   mpmath Phi_2 of ``symbolic_mf.bivariate_normal`` at 30 digits, at the exact binary value of each
   float64 input: h, k on a grid in [-8, 8], rho with the ends exactly and points within 1e-15 of +-1.
2. ELU (a = 1 and a = 2) NNGP and NTK kernels (``stax_functions``) against the same closed forms
   evaluated by mpmath at 30 digits at the float64 correlation the export uses; correlations
   log-spaced toward +-1 (to 1e-16) and the ends; variance pairs including 1e-6 and 4.
3. Throughput of bvn_cdf and of nngp_fn + d_nngp_fn on 10^6 random inputs; the C export
   (gcc -O2, if present): its largest difference from NumPy and its throughput.
4. The JAX export (if jax is installed; jit, float64 in a scoped x64 block): largest difference of
   bvn_cdf_jax and the ELU kernels from NumPy (in ulps) on 10^6 random inputs, and throughput.

    PYTHONPATH=$PWD nice python bench/orthant_export_accuracy.py [--quick] [--jax-only]
"""

import sys
import time

import numpy as np
import sympy as sp
from mpmath import mp

from symbolic_mf import activations as A
from symbolic_mf.bivariate_normal import bvn_cdf_mp
from symbolic_mf.export.orthant import _r, _v1, _v2, bvn_cdf, kernel_expressions, stax_functions
from symbolic_mf.numeric import compile_expr


def rho_grid(n_log):
    t = np.logspace(-15, -0.3, n_log)
    r = np.concatenate([[-1.0, 1.0, 0.0, 0.925, -0.925, 0.3, -0.3, 0.75, -0.75], -1 + t, 1 - t,
                        np.linspace(-0.9, 0.9, 7)])
    return np.unique(np.clip(r, -1, 1))


def bvn_accuracy(quick):
    hs = np.array([-8, -5, -3, -1.5, -0.7, -0.1, 0, 0.2, 1, 2.5, 5, 8.0]) if not quick else \
        np.array([-5, -1.5, 0, 0.2, 1, 5.0])
    rs = rho_grid(6 if quick else 14)
    H, K, R = (g.ravel() for g in np.meshgrid(hs, hs, rs, indexing="ij"))
    v = bvn_cdf(H, K, R)
    with mp.workdps(30):
        ref = np.array([float(bvn_cdf_mp(mp.mpf(h), mp.mpf(k), mp.mpf(r))) for h, k, r in zip(H, K, R)])
    err = np.abs(v - ref)
    i = int(np.argmax(err))
    big = ref > 1e-8
    rel = err[big] / ref[big]
    j = int(np.argmax(rel))
    print(f"Phi_2 float64: {len(H)} points (h, k in [{hs.min():g}, {hs.max():g}], {len(rs)} correlations incl. "
          f"+-1 and 1e-15 from them); reference mpmath 30 digits")
    print(f"  max abs error {err.max():.2e} at (h, k, rho) = ({H[i]:g}, {K[i]:g}, {R[i]!r})")
    print(f"  max rel error {rel.max():.2e} where Phi_2 > 1e-8, at ({H[big][j]:g}, {K[big][j]:g}, {R[big][j]!r})")


def kernel_accuracy(quick):
    rs = rho_grid(8 if quick else 24)
    qs = [1e-6, 0.25, 1.0, 4.0] if not quick else [1e-6, 1.0, 4.0]
    print(f"ELU kernels: {len(rs)} correlations x {len(qs)**2} variance pairs; reference: the same closed "
          "form in mpmath at 30 digits")
    print(f"  {'a':>3} {'kernel':6} {'max abs err':>12} {'max rel err':>12} {'at (rho, q1, q2)':>28}")
    for av in (1, 2):
        phi = A.elu(av)
        _, nngp, dnngp = stax_functions(phi)
        for name, fn, expr in zip(("NNGP", "NTK"), (nngp, dnngp), kernel_expressions(phi)):
            f = compile_expr(expr)
            worst_abs, worst_rel, where = 0.0, 0.0, None
            for q1 in qs:
                for q2 in qs:
                    c = rs * np.sqrt(q1 * q2)
                    got = fn(c, q1, q2)
                    rho = np.clip(c / np.sqrt(q1 * q2), -1, 1)
                    with mp.workdps(30):
                        ref = np.array([float(f({_r: mp.mpf(float(r)), _v1: mp.mpf(q1), _v2: mp.mpf(q2)}))
                                        for r in rho])
                    ea = np.abs(got - ref)
                    er = ea / np.maximum(np.abs(ref), 1e-300)
                    if er.max() > worst_rel:
                        k = int(np.argmax(er))
                        worst_rel, where = float(er.max()), (float(rho[k]), q1, q2)
                    worst_abs = max(worst_abs, float(ea.max()))
            print(f"  {av:>3} {name:6} {worst_abs:12.2e} {worst_rel:12.2e}   {where}")


def throughput():
    rng = np.random.default_rng(0)
    n = 10**6
    h, k, r = rng.normal(size=n), rng.normal(size=n), rng.uniform(-1, 1, n)
    t = time.perf_counter()
    bvn_cdf(h, k, r)
    dt = time.perf_counter() - t
    print(f"throughput: bvn_cdf {n / dt / 1e6:.2f} M/s (rho uniform in [-1, 1])")
    _, nngp, dnngp = stax_functions(A.elu())
    c = rng.uniform(-1, 1, n)
    t = time.perf_counter()
    nngp(c, 1.0, 1.0)
    dnngp(c, 1.0, 1.0)
    dt = time.perf_counter() - t
    print(f"throughput: ELU nngp_fn + d_nngp_fn {n / dt / 1e6:.2f} M pairs/s (unit variances)")


def c_export():
    import ctypes
    import os
    import shutil
    import subprocess
    import tempfile

    from symbolic_mf.export.orthant import c_kernel_source

    if shutil.which("gcc") is None:
        print("C export: no gcc")
        return
    src = c_kernel_source(A.elu()) + """
void smf_both(const double *c, long n, double q1, double q2, double *k, double *kd)
{ long i; for (i = 0; i < n; i++) { k[i] = smf_nngp_fn(c[i], q1, q2); kd[i] = smf_d_nngp_fn(c[i], q1, q2); } }
"""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "elu.c")
        with open(path, "w") as fh:
            fh.write(src)
        so = os.path.join(tmp, "elu.so")
        subprocess.run(["gcc", "-O2", "-std=c99", "-shared", "-fPIC", "-o", so, path, "-lm"], check=True)
        lib = ctypes.CDLL(so)
        dp = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
        lib.smf_both.argtypes = [dp, ctypes.c_long, ctypes.c_double, ctypes.c_double, dp, dp]
        n = 10**6
        c = np.random.default_rng(1).uniform(-1, 1, n)
        k, kd = np.empty(n), np.empty(n)
        t = time.perf_counter()
        lib.smf_both(c, n, 1.0, 1.0, k, kd)
        dt = time.perf_counter() - t
        _, nngp, dnngp = stax_functions(A.elu())
        dk = np.max(np.abs(k - nngp(c, 1.0, 1.0)))
        dkd = np.max(np.abs(kd - dnngp(c, 1.0, 1.0)))
        print(f"C export (gcc -O2): max |C - NumPy| NNGP {dk:.1e}, NTK {dkd:.1e}; {n / dt / 1e6:.2f} M pairs/s")


def jax_export():
    try:
        import jax
    except ImportError:
        print("JAX export: jax not installed")
        return
    from symbolic_mf.export.orthant import bvn_cdf_jax

    eps = np.finfo(float).eps
    rng = np.random.default_rng(2)
    n = 10**6
    h, k = rng.normal(scale=2, size=n), rng.normal(scale=2, size=n)
    r = np.concatenate([rng.uniform(-1, 1, n - 4), [-1.0, 1.0, 1 - 1e-15, -1 + 1e-15]])
    with jax.enable_x64(True):
        f = jax.jit(bvn_cdf_jax)
        f(h, k, r).block_until_ready()
        t = time.perf_counter()
        got = np.asarray(f(h, k, r).block_until_ready())
        dt = time.perf_counter() - t
        ref = bvn_cdf(h, k, r)
        print(f"JAX bvn_cdf (jit, x64): max |JAX - NumPy| {np.max(np.abs(got - ref)) / eps:.2f} eps; "
              f"{n / dt / 1e6:.2f} M/s")
        for a in (1, 2):
            fj = stax_functions(A.elu(a), backend="jax")
            fn = stax_functions(A.elu(a))
            for q1, q2 in ((1.0, 1.0), (0.5, 3.0)):
                s_ = np.sqrt(q1 * q2)
                c = s_ * r
                jn, jd = jax.jit(fj[1]), jax.jit(fj[2])
                jn(c, q1, q2).block_until_ready(), jd(c, q1, q2).block_until_ready()
                t = time.perf_counter()
                kn, kd = np.asarray(jn(c, q1, q2).block_until_ready()), np.asarray(jd(c, q1, q2).block_until_ready())
                dt = time.perf_counter() - t
                rn, rd = fn[1](c, q1, q2), fn[2](c, q1, q2)
                print(f"  ELU a={a} (q1, q2) = ({q1:g}, {q2:g}): NNGP max |JAX - NumPy| "
                      f"{np.max(np.abs(kn - rn)) / eps / (1 + s_):.2f} eps (1 + sqrt(q1 q2)), NTK max rel "
                      f"{np.max(np.abs(kd - rd) / np.abs(rd)) / eps:.2f} ulp; {n / dt / 1e6:.2f} M pairs/s")


def main():
    quick = "--quick" in sys.argv
    t0 = time.perf_counter()
    if "--jax-only" in sys.argv:
        jax_export()
        print(f"total {time.perf_counter() - t0:.1f} s")
        return
    bvn_accuracy(quick)
    kernel_accuracy(quick)
    throughput()
    c_export()
    jax_export()
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    sp.init_printing(use_unicode=False)
    main()
