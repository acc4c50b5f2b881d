"""Theory beside finite-width simulation: how far apart, and whether that is a fluctuation.

    PYTHONPATH=$PWD python bench/meanfield_simulation.py [seeds] [width] [depth]     (default: 16 1000 50)

For each network (the cases of docs/derivations/meanfield.md) it prints, over layers:
the largest relative error of the seed-averaged trajectory (and at the last layer); the median and
largest |z|, z = (simulation - theory) / standard error of the seed mean (close to standard normal
when the difference is a finite-width fluctuation); and for feed-forward nets the one-step bias:
the length / correlation map applied to every measured layer, averaged over layers and seeds, with its
standard error (an error of the map itself would show here, undiluted by fluctuations accumulated
over depth).
"""

import sys
import time

import numpy as np

from symbolic_mf.activations import erf, relu, rho_alpha, tanh
from symbolic_mf.simulation import compare_feedforward, compare_residual

S = int(sys.argv[1]) if len(sys.argv) > 1 else 16
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
L = int(sys.argv[3]) if len(sys.argv) > 3 else 50
seeds = tuple(range(S))
print(f"width {N}, depth {L}, {S} seeds (8 input pairs per network)\n")
print("| network | phi | sigma_w, sigma_b (sigma_v) | quantity | max rel / last | median z / max z | one-step bias +- se |"
      " seconds |")
print("|---|---|---|---|---|---|---|---|")

ff = [(tanh(), 1.5, 0.3), (tanh(), 1.0, 0.05), (erf(), 2.0, 0.5), (relu(), 1.2, 0.3), (relu(), 1.414, 0.1)]
res = [(relu(), 1.0, 0.5, "full"), (erf(), 1.0, 1.0, "reduced"), (tanh(), 1.0, 1.0, "reduced"),
       (rho_alpha(0.75), 1.0, 1.0, "full")]


def row(net, name, sig, k, rel, z, extra, secs):
    rel = np.asarray(rel)
    zz = np.abs(z[~np.isnan(z)])
    print(f"| {net} | {name} | {sig} | {k} | {100 * np.max(np.abs(rel)):.1f} % / {100 * rel[-1]:+.1f} % | "
          f"{np.median(zz):.2f} / {np.max(zz):.2f} | {extra} | {secs:.0f} |", flush=True)


for phi, sw, sb in ff:
    t = time.time()
    r = compare_feedforward(phi, sw, sb, width=N, depth=L, seeds=seeds)
    secs = time.time() - t
    one = r["one_step"]
    for k in ("q", "c", "log_chi"):
        rel = r["rel_error"]["chi" if k == "log_chi" else k]
        extra = (f"{100 * one[k + '_bias']:+.2f} +- {100 * one[k + '_bias_se']:.2f} %" if k in ("q", "c") else "")
        row("feed-forward", phi.name, f"{sw}, {sb}", k, rel, r["z"][k], extra, secs)
for phi, sw, sv, variant in res:
    t = time.time()
    r = compare_residual(phi, sw, sv, width=N, depth=L, seeds=seeds, variant=variant)
    secs = time.time() - t
    for k in ("p", "e", "log_chi"):
        z = r["z"][k][1:] if k == "log_chi" else r["z"][k]
        row(f"residual {variant}", phi.name, f"{sw}, 0 ({sv})", k, r["rel_error"][k], z, "", secs)
