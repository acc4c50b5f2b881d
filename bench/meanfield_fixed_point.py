"""Feed-forward fixed points through each moment route: seconds and digits agreed (run at dps and dps + 10).

    PYTHONPATH=$PWD python bench/meanfield_fixed_point.py [dps ...]      (default: 15 25 30)

Rows: tanh in the chaotic phase (sigma_w = 1.5, sigma_b = 0.3; c* from the Mehler series at fixed q*),
erf (Fourier-engine closed form), GELU (Fourier engine, Price route), swish (Mehler series).  The number of
Mehler terms used at q* is printed for the series route.
"""

import sys
import time

from mpmath import mp

from symbolic_mf.activations import erf, gelu, swish, tanh
from symbolic_mf.meanfield import fixed_point, moments

dpss = [int(a) for a in sys.argv[1:]] or [15, 25, 30]
print("| phi | sigma_w, sigma_b | dps | c* | digits | terms | route | seconds |")
print("|---|---|---|---|---|---|---|---|")
for phi, sw, sb in ((tanh(), "1.5", "0.3"), (erf(), "2", "0.5"), (gelu(), "1.3", "0.3"), (swish(), "1.3", "0.3")):
    for dps in dpss:
        t = time.time()
        fp = fixed_point(phi, sw, sb, dps=dps)
        secs = time.time() - t
        ser = getattr(moments(phi, dps), "_series", {})
        terms = max((len(v[0]) for v in ser.values()), default=0)
        print(f"| {phi.name} | {sw}, {sb} | {dps} | {mp.nstr(fp.c_star, dps)} | {fp.digits:.1f} | {terms or '-'} | "
              f"{fp.route} | {secs:.1f} |", flush=True)
