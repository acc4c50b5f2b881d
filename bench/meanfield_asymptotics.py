"""Residual-network depth exponents: derived (SymPy) against the exact recursions iterated to L layers.

    PYTHONPATH=$PWD python bench/meanfield_asymptotics.py [L] [dps]      (default L = 10**6, dps = 20)

Prints one row per law: derived value, last local log-log slope (L/2 -> L), the Richardson-extrapolated
slope, the digits on which it agrees with the derived value, and the seconds the iteration took.
"""

import sys

from mpmath import mp

from symbolic_mf.residual import exponent_checks

L = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10 ** 6
dps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
print(f"L = {L}, dps = {dps}")
print("| law | derived | slope L/2 -> L | extrapolated | digits | seconds |")
print("|---|---|---|---|---|---|")
rows = exponent_checks(L, dps, progress=lambda r: print("  ...", r[0], mp.nstr(r[3], 10), flush=True))
for name, d, sl, ex, dg, t in rows:
    print(f"| {name} | {mp.nstr(d, 10)} | {mp.nstr(sl, 10)} | {mp.nstr(ex, 10)} | {dg:.1f} | {t:.0f} |")
