"""Accuracy and speed of the exported homogeneous-family kernels.

For each (alpha, a, b): the NNGP kernel K(c) and the NTK derivative kernel
E[phi'(u)phi'(v)] from the exported NumPy evaluator, compared with mpmath
references at 40 digits taken at the exact binary value of each float64
input, on a grid concentrated toward c = +-1 (log-spaced down to 1e-16 of the
ends, plus the floating-point neighbours of +-1 and the ends exactly).
Prints max ulp and max relative error per region, and throughput.

    PYTHONPATH=$PWD nice python bench/export_accuracy.py [--quick]
"""

import sys
import time

import mpmath
import numpy as np

from symbolic_mf.export.family import (evaluate_kernel, exact_parameters, family_parameters, ntk_parameters,
                                      rho_kernel_mp)


def grid(n_log=40, n_mid=60):
    t = np.logspace(-16, -0.3, n_log)
    pts = [-1.0, 1.0, np.nextafter(-1, 0), np.nextafter(1, 0), np.nextafter(np.nextafter(1, 0), 0), 0.0,
           np.nextafter(0, 1), -np.nextafter(0, 1), 1e-300, -1e-300]
    pts += list(-1 + t) + list(1 - t) + list(np.linspace(-0.99, 0.99, n_mid))
    c = np.unique(np.clip(np.array(pts), -1, 1))
    return c


def ref_kernel(beta, a, b, c, exact=None):
    """K(c) at 60 working digits: (a^2+b^2)k(c) - 2ab k(-c) if ab <= 0, else
    (a-b)^2 E(c) + (a+b)^2 O(c) with O from its 2F1 (exact zeros of O kept)."""
    with mpmath.workdps(60):
        cm = mpmath.mpf(float(c))
        a, b, bt = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(beta)
        if exact is not None:  # the table's exact (rational) parameters, not their float roundings
            bt, a, b = exact_parameters({"exact": exact})
        kc, kmc = rho_kernel_mp(bt, cm), rho_kernel_mp(bt, -cm)
        if mpmath.isinf(kc) or mpmath.isinf(kmc):
            return mpmath.inf
        if a * b <= 0:
            return (a * a + b * b) * kc - 2 * a * b * kmc
        even = (kc + kmc) / 2
        mu1sq = 2 ** (bt + 1) * mpmath.gamma(bt / 2 + 1) ** 2 / (4 * mpmath.pi)
        h = (1 - bt) / 2
        odd = cm * mu1sq * mpmath.hyp2f1(h, h, 1.5, cm * cm) if abs(cm) < 0.9 else (kc - kmc) / 2
        return (a - b) ** 2 * even + (a + b) ** 2 * odd


def region(c):
    if c <= -0.9:
        return "near -1"
    if c >= 0.9:
        return "near +1"
    return "middle"


def measure(P, c, dtype=np.float64):
    got = evaluate_kernel(P, c.astype(dtype)).astype(np.float64) if dtype == np.float64 else \
        evaluate_kernel(P, c.astype(dtype).astype(np.float64)).astype(dtype)
    out = {}
    for ci, gi in zip(c, got):
        ref = ref_kernel(P["beta"], P["a"], P["b"], ci, P["exact"])
        rg = region(ci)
        if abs(ref) < np.finfo(dtype).tiny:  # zero or subnormal: counted in ulp of the smallest subnormal
            err = abs(mpmath.mpf(float(gi)) - ref)
            err_rel, ulp = 0.0, float(err / np.finfo(dtype).smallest_subnormal)
        else:
            err_rel = float(abs((mpmath.mpf(float(gi)) - ref) / ref))
            ulp = float(abs(mpmath.mpf(float(gi)) - ref) / np.spacing(dtype(abs(float(ref)))))
        if not np.isfinite(gi):
            err_rel = ulp = np.inf
        o = out.setdefault(rg, [0.0, 0.0])
        o[0], o[1] = max(o[0], ulp), max(o[1], err_rel)
    return out


CASES = [(1, 1, 0), (1, 1, 0.1), (1, 1, -1), (1, 1, 1), (1, 1, 0.01), (2, 1, 0), (3, 1, 0), (5, 1, 0), (10, 1, 0),
         (0, 1, 0), (0.5, 1, 0), (-0.25, 1, 0), (-0.45, 1, 0), (0.3, 1, 0), (1.5, 1, 0), (2.7, 1, -1), (4.5, 1, 0),
         (7.9, 1, 0), (8, 1, 0.5), (2.5, 1, 1)]


def main():
    quick = "--quick" in sys.argv
    c = grid(20, 20) if quick else grid()
    print(f"{len(c)} correlations per case; references: mpmath 40 digits at the binary value of each input")
    print(f"{'kernel':6} {'alpha':>6} {'a':>5} {'b':>5} | " + " | ".join(f"{r:>24}" for r in ("near -1", "middle", "near +1")))
    for alpha, a, b in CASES:
        for kind in ("nngp", "ntk"):
            if kind == "ntk" and alpha <= 0:
                continue
            P = (family_parameters if kind == "nngp" else ntk_parameters)(alpha, a, b)
            cc = c if not (kind == "ntk" and alpha <= 0.5) else c[c < 1]
            res = measure(P, cc)
            row = " | ".join(f"{res.get(r, [0, 0])[0]:9.3g} ulp {res.get(r, [0, 0])[1]:9.2e}" for r in ("near -1", "middle", "near +1"))
            print(f"{kind:6} {alpha:>6} {a:>5} {b:>5} | {row}")
    # float32 consistency
    print("float32 (inputs rounded to float32, computed in float64, rounded back):")
    for alpha, a, b in [(1, 1, 0), (2.7, 1, -1)]:
        P = family_parameters(alpha, a, b)
        res = measure(P, c.astype(np.float32).astype(np.float64), dtype=np.float32)
        print(f"  alpha={alpha} a={a} b={b}: " + ", ".join(f"{r}: {v[0]:.3g} ulp32" for r, v in res.items()))
    # throughput
    rng = np.random.default_rng(0)
    cc = rng.uniform(-1, 1, 10**6)
    for alpha, a, b in [(1, 1, 0), (1, 1, 0.1), (2.7, 1, 0)]:
        P, Q = family_parameters(alpha, a, b), ntk_parameters(alpha, a, b)
        evaluate_kernel(P, cc[:10])
        t0 = time.perf_counter()
        evaluate_kernel(P, cc)
        evaluate_kernel(Q, cc)
        dt = time.perf_counter() - t0
        print(f"throughput numpy alpha={alpha} a={a} b={b}: NNGP+NTK {1e-6 * len(cc) / dt:.2f} M entries/s")


if __name__ == "__main__":
    main()
