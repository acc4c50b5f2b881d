"""C export of the certified Mehler-series kernels (tanh, SiLU/swish, softplus; issue 8).

Accuracy: the C functions (symbolic_mf.export.series.c_kernel_source, tol 1e-12) against 30-digit pair quadrature
(symbolic_mf.pair_quadrature.pair_expectation, as bench/fourier_export_accuracy.py), with the stated bound of the
C _with_bound form, on q pairs and correlations including rho = +-1 and 1 - 1e-6; and C vs the NumPy series
(same coefficients up to rounding) in eps of the kernel scale sqrt(K(q1,q1) K(q2,q2)).
Throughput (pairs/s) of C (array form, one gcc -O2 shared object) and NumPy on 1e5 entries, either
one variance pair (the network case: the coefficients are computed once) or 5 distinct variances.

    PYTHONPATH=$PWD nice python bench/series_c_export.py [--quick]   (full: > 15 min, the 30-digit quadratures at q = 10; --quick: a few min)
"""

import ctypes
import shutil
import subprocess
import sys
import tempfile
import time

import mpmath
import numpy as np
import sympy as sp

from symbolic_mf import activations as A
from symbolic_mf.export.series import c_kernel_source, series_stax_functions
from symbolic_mf.pair_quadrature import pair_expectation

D = ctypes.c_double
P = ctypes.POINTER(D)


def compile_c(phi, tol=1e-12):
    d = tempfile.mkdtemp()
    with open(f"{d}/k.c", "w") as fh:
        fh.write(c_kernel_source(phi, tol=tol))
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Werror", "-shared", "-fPIC", "-o", f"{d}/k.so", f"{d}/k.c",
                    "-lm"], check=True)
    lib = ctypes.CDLL(f"{d}/k.so")
    for kind in ("nngp_fn", "d_nngp_fn"):
        f = getattr(lib, f"smf_{kind}_array_with_bound")
        f.restype, f.argtypes = None, [P, P, P, P, P, ctypes.c_size_t]
    return lib


def call(lib, kind, c, q1, q2):
    c, q1, q2 = (np.ascontiguousarray(t, dtype=float) for t in np.broadcast_arrays(c, q1, q2))
    out, bound = np.empty_like(c), np.empty_like(c)
    getattr(lib, f"smf_{kind}_array_with_bound")(*(t.ctypes.data_as(P) for t in (c, q1, q2, out, bound)), c.size)
    return out, bound


def main():
    quick = "--quick" in sys.argv
    if shutil.which("gcc") is None:
        print("no gcc: nothing to measure")
        return
    x = sp.Symbol("x", real=True)
    pairs = ((0.01, 10.0), (1.0, 1.0), (2.0, 0.3)) if quick else \
        ((0.0, 1.0), (0.01, 10.0), (1.0, 1.0), (2.0, 0.3), (1.0, 10.0), (10.0, 10.0))
    rhos = (-1.0, 0.5, 1 - 1e-6, 1.0) if quick else (-1.0, -(1 - 1e-6), -0.5, 0.0, 0.5, 1 - 1e-6, 1.0)
    print(f"C series kernels (tol 1e-12) vs 30-digit pair quadrature; q pairs {pairs}, rho {rhos}:")
    for phi in (A.tanh(), A.swish(), A.softplus()):
        lib = compile_c(phi)
        _, k, dk = series_stax_functions(phi, 1e-12)
        pole = mpmath.pi / 2 if phi.name == "tanh" else mpmath.pi
        for label, kind, f, e in (("nngp", "nngp_fn", k, phi.expr), ("ntk", "d_nngp_fn", dk, sp.diff(phi.expr, x))):
            g = sp.lambdify(x, e, "mpmath")
            worst, ratio, maxb, vs_np = 0.0, 0.0, 0.0, 0.0
            for q1, q2 in pairs:
                c = np.array(rhos) * np.sqrt(q1 * q2)
                val, bound = call(lib, kind, c, q1, q2)
                ref_np = f(c, np.full_like(c, q1), np.full_like(c, q2))
                scale = np.sqrt(float(f(q1, q1, q1)) * float(f(q2, q2, q2))) or 1.0
                vs_np = max(vs_np, float(np.max(np.abs(val - ref_np))) / scale / 2.0 ** -52)
                for v, b, c12 in zip(val, bound, c):
                    with mpmath.workdps(30):
                        s_ = mpmath.sqrt(mpmath.mpf(q1) * q2)
                        ref = pair_expectation(g, g, q1, q2, max(min(mpmath.mpf(float(c12)), s_), -s_), pole,
                                               growth=1)
                        err = float(abs(mpmath.mpf(float(v)) - ref))
                    worst, maxb, ratio = max(worst, err), max(maxb, float(b)), max(ratio, err / float(b) if b > 0 else (0.0 if err == 0 else np.inf))
            print(f"  {phi.name:9} {label:5} max |error| {worst:.2e}, max stated bound {maxb:.2e}, "
                  f"max error/bound {ratio:.4f}; C vs NumPy {vs_np:.1f} eps of the kernel scale")
    n = 10 ** 4 if quick else 10 ** 5
    print(f"Throughput, {n} entries (nngp_fn; C: the _array form):")
    rng = np.random.default_rng(0)
    for phi in (A.tanh(), A.swish(), A.softplus()):
        lib = compile_c(phi)
        for desc, qs in (("one variance pair (1, 1)", np.ones((2, n))),
                         ("5 distinct variances in [0.01, 10]", rng.choice([0.01, 0.5, 1.0, 3.0, 10.0], (2, n)))):
            c = rng.uniform(-1, 1, n) * np.sqrt(qs[0] * qs[1])
            _, k, _ = series_stax_functions(phi, 1e-12)
            t0 = time.perf_counter()
            k(c, qs[0], qs[1])
            tn = time.perf_counter() - t0
            t0 = time.perf_counter()
            call(lib, "nngp_fn", c, qs[0], qs[1])
            tc = time.perf_counter() - t0
            # sorted by variance pair: the C cache recomputes only when the pair changes
            o = np.lexsort(qs)
            t0 = time.perf_counter()
            call(lib, "nngp_fn", c[o], qs[0][o], qs[1][o])
            ts = time.perf_counter() - t0
            print(f"  {phi.name:9} {desc:36} NumPy {n / tn:10.3g} pairs/s, C {n / tc:10.3g} pairs/s "
                  f"(entries sorted by variance pair: {n / ts:10.3g} pairs/s)")


if __name__ == "__main__":
    main()
