"""Benchmark: BSB1 fixed point and lambda_G at 30 digits for B up to 10^4; prints seconds per call.

Run: PYTHONPATH=$PWD python bench/bn_lambda_G.py
Target (issue 5): well under a second each for the homogeneous family; tanh (Gegenbauer engine,
15 digits, L = 30) for comparison.
"""

import time

from mpmath import mp

from symbolic_mf.activations import identity, relu, tanh
from symbolic_mf.batchnorm import bsb1_fixed_point, gradient_explosion_rate
from symbolic_mf.engines import gegenbauer as gg

print(f"{'phi':9s} {'B':>6s} {'q*':>10s} {'c*':>22s} {'lambda_G':>34s} {'s fp':>6s} {'s lamG':>6s}")
for phi in (relu(), identity()):
    for B in (4, 10, 100, 1000, 10 ** 4):
        t = time.time()
        q, c = bsb1_fixed_point(phi, B, dps=30)
        t1 = time.time() - t
        t = time.time()
        lam = gradient_explosion_rate(phi, B, dps=30)
        t2 = time.time() - t
        print(f"{phi.name:9s} {B:6d} {mp.nstr(q, 8):>10s} {mp.nstr(c, 20):>22s} {mp.nstr(lam, 30):>34s} "
              f"{t1:6.3f} {t2:6.3f}")
for B in (4, 16, 64):
    t = time.time()
    with mp.workdps(15):
        r = gg.accelerated(mp.tanh, lambda y: 1 / mp.cosh(y) ** 2, B, L=30, breaks=())
    print(f"{'tanh':9s} {B:6d} {mp.nstr(r['q_star'], 8):>10s} {mp.nstr(r['c_star'], 12):>22s} "
          f"{mp.nstr(r['lambda_G'], 15):>34s} {'':6s} {time.time() - t:6.3f}")
