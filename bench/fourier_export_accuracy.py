"""Accuracy and speed of the exported Fourier-engine kernels (issue 8).

For sin, cos, exp, erf, GELU: the NumPy nngp_fn / d_nngp_fn printed from the
derived closed forms, against the same closed forms evaluated by mpmath at
40 digits at the exact binary value of each float64 input; correlations
log-spaced toward +-1 (down to 1e-16 of the ends, and the ends exactly),
variances q1, q2 in {0, 0.25, 1, 2.5}.  Then the certified Mehler polynomials
of tanh, SiLU and softplus (unit variances): float64 evaluation against a
30-digit trapezoidal quadrature of E[phi(u) phi(v)], with the stated bound.

    PYTHONPATH=$PWD nice python bench/fourier_export_accuracy.py [--quick]
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


def main():
    quick = "--quick" in sys.argv
    cs = grid(8 if quick else 24)
    qs = [0.0, 0.25, 1.0, 2.5]
    print(f"closed forms: {len(cs)} correlations x {len(qs)**2} variance pairs; reference mpmath 40 digits")
    print(f"{'activation':10} {'kernel':6} {'max rel err':>12} {'max ulp':>9} {'at (rho, q1, q2)':>26}")
    for phi in (A.sin(), A.cos(), A.exp(), A.erf(), A.gelu()):
        t0 = time.perf_counter()
        _, nngp, dnngp = stax_functions(phi)
        K, Kd = kernel_expressions(phi)
        derive_s = time.perf_counter() - t0
        for kind, f, expr in (("nngp", nngp, K), ("ntk", dnngp, Kd)):
            mpf_ = sp.lambdify([_c12, _v1, _v2], expr, "mpmath")
            worst, worst_ulp, where = 0.0, 0.0, None
            for q1 in qs:
                for q2 in qs:
                    s = np.sqrt(q1 * q2)
                    c12 = cs * s
                    got = f(c12, np.full_like(c12, q1), np.full_like(c12, q2))
                    for ci, gi in zip(c12, np.broadcast_to(got, c12.shape)):
                        with mpmath.workdps(40):
                            ref = mpf_(mpmath.mpf(float(ci)), mpmath.mpf(q1), mpmath.mpf(q2))
                            err = abs(mpmath.mpf(float(gi)) - ref)
                            rel = float(err / abs(ref)) if ref != 0 else float(err)
                        ulp = float(err) / np.spacing(abs(float(ref))) if ref != 0 else 0.0
                        if not np.isfinite(gi):
                            rel = ulp = np.inf
                        if rel > worst:
                            worst, worst_ulp, where = rel, ulp, (float(ci / s) if s else 0.0, q1, q2)
            loc = "-" if where is None else f"({where[0]:.3g}, {where[1]}, {where[2]})"
            print(f"{phi.name:10} {kind:6} {worst:12.2e} {worst_ulp:9.1f} {loc:>26}")
        rng = np.random.default_rng(0)
        c = rng.uniform(-1, 1, 10**6)
        t0 = time.perf_counter()
        nngp(c, 1.0, 1.0)
        dnngp(c, 1.0, 1.0)
        dt = time.perf_counter() - t0
        print(f"{'':10} derived in {derive_s:.1f} s; NumPy NNGP+NTK {1e-6 * len(c) / dt:.1f} M entries/s")
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


if __name__ == "__main__":
    main()
