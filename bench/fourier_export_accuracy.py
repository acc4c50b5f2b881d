"""Accuracy and speed of the exported Fourier-engine kernels (issue 8).

For sin, cos, exp, erf, GELU and the Gaussian bump exp(-x^2/2): the NumPy
nngp_fn / d_nngp_fn printed from the derived closed forms after the
stabilising rewrite (symbolic_mf.export.stable), against the *derived* forms
evaluated by mpmath at 40 digits at the exact binary value of each float64
input; correlations log-spaced toward +-1 (down to 1e-16 of the ends, and
the ends exactly) and linear in between, variances q1, q2 in {0, 0.25, 1, 2.5}
(the issue's grid) and, with --wide, also {10, 100}.

Two figures per kernel: the error in ulp of the value, and the error in ulp of
the condition scale S = |K| + |c dK/dc| + |q1 dK/dq1| + |q2 dK/dq2| ("cond-ulp",
what a backward-stable float64 evaluation can promise: near a zero of K, no
float64 formula has small relative error).  "ulp@k<=4": the largest ulp error
among points whose condition number S/|K| is at most 4.  Then the certified
Mehler polynomials of tanh, SiLU and softplus (unit variances): float64
evaluation against a 30-digit trapezoidal quadrature of E[phi(u) phi(v)].

    PYTHONPATH=$PWD nice python bench/fourier_export_accuracy.py [--quick] [--wide] [--no-series]

The closed forms are measured for the NumPy, JAX (jit, x64 scoped; if installed) and C (gcc) exports.
Then the variance-general series export (symbolic_mf.export.series) against 30-digit pair quadrature.
"""

import sys
import time

import mpmath
import numpy as np
import sympy as sp

from symbolic_mf import activations as A
from symbolic_mf.export.fourier import _c12, _v1, _v2, kernel_expressions, series_nngp_fn, stax_functions
from symbolic_mf.pair_quadrature import pair_expectation


def grid(n_log):
    t = np.logspace(-16, -0.3, n_log)
    c = np.concatenate([[-1.0, 1.0, 0.0], -1 + t, 1 - t, np.linspace(-0.9, 0.9, 11)])
    return np.unique(np.clip(c, -1, 1))


def accuracy(f, expr, cs, qs):
    """(max ulp, max cond-ulp, max ulp where kappa <= 4, worst point) of f against expr at 40 digits."""
    args = [_c12, _v1, _v2]
    ref = sp.lambdify(args, expr, "mpmath")
    ders = [sp.lambdify(args, sp.diff(expr, a) * a, "mpmath") for a in args]
    worst = (0.0, 0.0, 0.0, None)
    for q1 in qs:
        for q2 in qs:
            s = np.sqrt(q1 * q2)
            c12 = cs * s
            with np.errstate(under="ignore"):
                got = np.broadcast_to(f(c12, np.full_like(c12, q1), np.full_like(c12, q2)), c12.shape)
            for ci, gi in zip(c12, got):
                with mpmath.workdps(40):
                    a = [mpmath.mpf(float(ci)), mpmath.mpf(q1), mpmath.mpf(q2)]
                    r = ref(*a)
                    err = abs(mpmath.mpf(float(gi)) - r) if np.isfinite(gi) else mpmath.inf
                    S = abs(r) + sum(abs(d(*a)) for d in ders)
                ulp = float(err) / np.spacing(abs(float(r))) if r != 0 else (0.0 if err == 0 else np.inf)
                cond = float(err) / np.spacing(float(S)) if S != 0 else ulp
                kappa = float(S / abs(r)) if r != 0 else np.inf
                rho = float(ci / s) if s else 0.0
                worst = (max(worst[0], ulp), max(worst[1], cond), max(worst[2], ulp if kappa <= 4 else 0.0),
                         (rho, q1, q2) if ulp > worst[0] else worst[3])
    return worst


def other_backend(backend, phi):
    """(nngp, ntk) as NumPy-callable float64 functions from the JAX module (jit, x64 scoped) or the C source."""
    if backend == "jax":
        try:
            import jax
            import jax.numpy as jnp
        except ImportError:
            return None
        _, k, dk = stax_functions(phi, "jax")

        def wrap(f):
            jf = jax.jit(f)

            def g(c, a, b):
                with jax.enable_x64(True):
                    return np.asarray(jf(jnp.asarray(c), jnp.asarray(a), jnp.asarray(b)))
            return g
        return wrap(k), wrap(dk)
    import ctypes
    import shutil
    import subprocess
    import tempfile

    from symbolic_mf.export.fourier import c_kernel_source

    if shutil.which("gcc") is None:
        return None
    d = tempfile.mkdtemp()
    with open(f"{d}/k.c", "w") as fh:
        fh.write(c_kernel_source(phi))
    subprocess.run(["gcc", "-O2", "-std=c99", "-shared", "-fPIC", "-o", f"{d}/k.so", f"{d}/k.c", "-lm"], check=True)
    lib = ctypes.CDLL(f"{d}/k.so")
    out = []
    for name in ("smf_nngp_fn", "smf_d_nngp_fn"):
        cf = getattr(lib, name)
        cf.restype, cf.argtypes = ctypes.c_double, [ctypes.c_double] * 3
        out.append(lambda c, a, b, cf=cf: np.array([cf(*t) for t in zip(*np.broadcast_arrays(c, a, b))]))
    return tuple(out)


def bump():
    x = sp.Symbol("x", real=True)
    return A.Activation(sp.exp(-x**2 / 2), "bump")


def main():
    quick = "--quick" in sys.argv
    cs = grid(8 if quick else 24)
    qs = [0.0, 0.25, 1.0, 2.5] + ([10.0, 100.0] if "--wide" in sys.argv else [])
    print(f"closed forms: {len(cs)} correlations x {len(qs)**2} variance pairs (q in {qs}); reference: the derived "
          "forms, mpmath 40 digits")
    print(f"{'activation':10} {'kernel':6} {'max ulp':>9} {'cond-ulp':>9} {'ulp@k<=4':>9}   worst ulp at (rho, q1, q2)")
    for phi in (A.sin(), A.cos(), A.exp(), A.erf(), A.gelu(), bump()):
        t0 = time.perf_counter()
        _, nngp, dnngp = stax_functions(phi)
        K, Kd = kernel_expressions(phi)
        derive_s = time.perf_counter() - t0
        backends = [("numpy", (nngp, dnngp))] + [(b, fs) for b, fs in ((b, other_backend(b, phi)) for b in ("jax", "c"))
                                                 if fs is not None]
        for kind, j, expr in (("nngp", 0, K), ("ntk", 1, Kd)):
            for backend, fs in backends:
                ulp, cond, ulp4, where = accuracy(fs[j], expr, cs, qs)
                loc = "-" if where is None else f"({where[0]:.3g}, {where[1]}, {where[2]})"
                print(f"{phi.name:10} {kind:6} {ulp:9.1f} {cond:9.1f} {ulp4:9.1f}   {loc}  [{backend}]")
        rng = np.random.default_rng(0)
        c = rng.uniform(-1, 1, 10**6)
        t0 = time.perf_counter()
        with np.errstate(under="ignore"):
            nngp(c, 1.0, 1.0)
            dnngp(c, 1.0, 1.0)
        dt = time.perf_counter() - t0
        print(f"{'':10} derived + rewritten in {derive_s:.1f} s; NumPy NNGP+NTK {1e-6 * len(c) / dt:.1f} M entries/s")
    if "--no-series" in sys.argv:
        return
    series_any_variance(quick)
    print("certified Mehler polynomials (unit variances), float64 vs 30-digit trapezoidal quadrature:")
    for phi, tol in ((A.tanh(), 1e-12), (A.swish(), 1e-14), (A.softplus(), 1e-14)):
        t0 = time.perf_counter()
        f = series_nngp_fn(phi, tol)
        build = time.perf_counter() - t0
        g = sp.lambdify(sp.Symbol("x", real=True), phi.expr, "mpmath")
        pole = mpmath.pi / 2 if phi.name == "tanh" else mpmath.pi
        worst = 0.0
        pts = (-1.0, -0.999999, -0.5, 0.0, 0.5, 0.999999, 1.0) if quick else tuple(np.linspace(-1, 1, 21))
        for r in pts:
            with mpmath.workdps(30):
                ref = pair_expectation(g, g, 1, 1, mpmath.mpf(float(r)), pole, growth=1)
                worst = max(worst, float(abs(mpmath.mpf(float(f(r))) - ref)))
        print(f"  {phi.name:9} {f.terms:4d} terms, stated bound (series + float64) {f.error_bound:.2e}, "
              f"max |error| {worst:.2e} on {len(pts)} points (built in {build:.1f} s)")


def series_any_variance(quick):
    """symbolic_mf.export.series (coefficients at call time, any variances) vs 30-digit pair quadrature."""
    from symbolic_mf.export.series import series_stax_functions

    x = sp.Symbol("x", real=True)
    pairs = ((0.01, 10.0), (10.0, 10.0), (2.0, 0.3)) if quick else \
        ((0.01, 0.01), (0.01, 10.0), (1.0, 1.0), (2.0, 0.3), (1.0, 10.0), (10.0, 10.0))
    rhos = (-1.0, 0.5, 1 - 1e-6) if quick else (-1.0, -1 + 1e-9, -0.5, 0.0, 0.5, 1 - 1e-6, 1.0)
    print(f"Mehler series, any variances (tol 1e-12), float64 vs 30-digit pair quadrature; q pairs {pairs}, "
          f"rho {rhos}:")
    for phi in (A.tanh(), A.swish(), A.softplus()):
        _, k, dk = series_stax_functions(phi, 1e-12)
        pole = mpmath.pi / 2 if phi.name == "tanh" else mpmath.pi
        for label, f, e in (("nngp", k, phi.expr), ("ntk", dk, sp.diff(phi.expr, x))):
            g = sp.lambdify(x, e, "mpmath")
            worst, worst_ratio, max_bound, terms = 0.0, 0.0, 0.0, 0
            for q1, q2 in pairs:
                for r in rhos:
                    c12 = r * np.sqrt(q1 * q2)
                    val, bound = f.with_bound(c12, q1, q2)
                    terms = max(terms, f.last_terms)
                    with mpmath.workdps(30):
                        s_ = mpmath.sqrt(mpmath.mpf(q1) * q2)
                        ref = pair_expectation(g, g, q1, q2, max(min(mpmath.mpf(c12), s_), -s_), pole, growth=1)
                        err = float(abs(mpmath.mpf(float(val)) - ref))
                    worst, max_bound = max(worst, err), max(max_bound, float(bound))
                    worst_ratio = max(worst_ratio, err / float(bound))
            print(f"  {phi.name:9} {label:5} max |error| {worst:.2e}, max stated bound {max_bound:.2e}, "
                  f"max error/bound {worst_ratio:.2f}, up to {terms} terms")
        rng = np.random.default_rng(0)
        qs = rng.choice([0.01, 0.5, 1.0, 3.0, 10.0], (2, 10**5))
        c = rng.uniform(-1, 1, 10**5) * np.sqrt(qs[0] * qs[1])
        t0 = time.perf_counter()
        k(c, qs[0], qs[1])
        dt = time.perf_counter() - t0
        print(f"  {phi.name:9} 1e5 entries, 5 distinct variances in [0.01, 10]: {dt:.2f} s ({k.last_terms} terms)")


if __name__ == "__main__":
    main()
