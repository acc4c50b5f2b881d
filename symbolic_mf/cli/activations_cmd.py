"""``activations``: list the activation specs the other commands accept.

>>> main_ = __import__("symbolic_mf.cli", fromlist=["main"]).main
>>> main_(["activations"])  # doctest: +ELLIPSIS
SPEC                                    PHI(X)...
relu                                    max(0, x)...
rho:alpha=1                             rho_alpha(x) = max(0, x)^alpha, alpha > -1/2 ...
0
"""

from __future__ import annotations

import json

import sympy as sp

from ..activations import SPECS, HomogeneousActivation, parse_activation_spec
from ..meanfield import kernel_route


def add_parser(sub):
    p = sub.add_parser(
        "activations",
        help="list activation specs NAME[:key=value,...]",
        description="List the activation specs that kernel, export, bn and the other commands accept, "
                    "with their parameters (defaults shown), formula, homogeneity degree and kernel route.",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_activations)


def _rows():
    for name, (params, text) in SPECS.items():
        spec = name + (":" + ",".join(f"{k}={v}" for k, v in params) if params else "")
        phi = parse_activation_spec(spec)
        homogeneous = isinstance(phi, HomogeneousActivation)
        yield {
            "spec": spec,
            "phi": text,
            "parameters": {k: str(v) for k, v in params},
            "degree": None if phi.degree is None else sp.sstr(phi.degree),
            "kernel": kernel_route(phi),
        }


def cmd_activations(args):
    rows = list(_rows())
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'SPEC':<40}{'PHI(X)':<52}{'DEGREE':<8}KERNEL")
    for r in rows:
        print(f"{r['spec']:<40}{r['phi']:<52}{r['degree'] or '-':<8}{r['kernel']}")
    return 0
