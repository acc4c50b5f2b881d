"""``fixed-point`` and ``critical``: feed-forward mean-field numbers from the shell.

>>> from symbolic_mf.cli import main
>>> main(["fixed-point", "relu", "--sigma-w", "1", "--sigma-b", "1", "--dps", "20"])  # doctest: +ELLIPSIS
activation relu
sigma_w    1
sigma_b    1
q*         2.0
c*         1.0
chi1       0.5
xi_q       1.4426950408889634074
xi_c       1.4426950408889634074
xi_grad    1.4426950408889634074
digits     20...
0
>>> main(["critical", "erf", "--sigma-b", "0.5", "--json", "--dps", "20"])  # doctest: +ELLIPSIS
{
 "activation": "erf",
 "sigma_b": "0.5",
 "sigma_w": "1.3713304703233635854",
 "q_star": "1.1832724388953773922",
 "dps": 20
}
0
"""

from __future__ import annotations

import json

from mpmath import mp

from .kernel_cmd import parse_spec

SPEC_HELP = ("activation: relu, tanh, erf, gelu, ..., rho_<alpha>, or NAME[:key=value,...] as for 'kernel' "
             "(rho:alpha=0.7, homogeneous:alpha=1.5,a=1,b=0.3, leaky_relu:slope=0.1)")


def _spec(text):
    from ..activations import get_activation
    return parse_spec(text) if ":" in text else get_activation(text)


def _num(v, dps):
    if v == mp.inf:
        return "inf"
    if v == -mp.inf:
        return "-inf"
    if v != v:
        return "nan"
    return mp.nstr(v, dps)


def add_parser(sub):
    p = sub.add_parser(
        "fixed-point",
        help="q*, c*, chi1 and the depth scales of a feed-forward network",
        description=("Fixed points of the length and correlation maps of a fully connected network with weight "
                     "and bias standard deviations sigma_w, sigma_b (Poole et al. 2016; Schoenholz et al. 2017), "
                     "chi1 and the depth scales xi_q, xi_c, xi_grad (negative = growth length). The computation is "
                     "repeated at dps + 10 and the digits on which both agree are printed. "
                     "Example: symbolic-mf fixed-point tanh --sigma-w 1.5 --sigma-b 0.3"),
    )
    p.add_argument("spec", help=SPEC_HELP)
    p.add_argument("--sigma-w", required=True, help="weight standard deviation sigma_w > 0")
    p.add_argument("--sigma-b", required=True, help="bias standard deviation sigma_b >= 0")
    p.add_argument("--dps", type=int, default=30)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fixed_point)

    p = sub.add_parser(
        "critical",
        help="the sigma_w on the order-to-chaos line chi1 = 1 for a given sigma_b",
        description=("sigma_w with chi1(sigma_w, sigma_b) = 1 and q* there: closed form (derived by SymPy) for the "
                     "alpha-homogeneous family, a high-precision root otherwise. Example: "
                     "symbolic-mf critical tanh --sigma-b 0.3 --json"),
    )
    p.add_argument("spec", help=SPEC_HELP)
    p.add_argument("--sigma-b", required=True, help="bias standard deviation sigma_b >= 0")
    p.add_argument("--dps", type=int, default=30)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_critical)


def cmd_fixed_point(args):
    from ..meanfield import fixed_point

    phi = _spec(args.spec)
    fp = fixed_point(phi, args.sigma_w, args.sigma_b, dps=args.dps)
    s = fp.as_strings()
    out = {"activation": args.spec, "sigma_w": args.sigma_w, "sigma_b": args.sigma_b,
           "q_star": s["q_star"], "c_star": s["c_star"], "chi1": s["chi1"], "xi_q": s["xi_q"],
           "xi_c": s["xi_c"], "xi_grad": s["xi_grad"], "digits": round(float(fp.digits), 1), "dps": args.dps,
           "route": fp.route}
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    for k, label in (("activation", "activation"), ("sigma_w", "sigma_w"), ("sigma_b", "sigma_b"),
                     ("q_star", "q*"), ("c_star", "c*"), ("chi1", "chi1"), ("xi_q", "xi_q"), ("xi_c", "xi_c"),
                     ("xi_grad", "xi_grad"), ("digits", "digits")):
        print(f"{label:10s} {out[k]}")
    return 0


def cmd_critical(args):
    from ..meanfield import critical_sigma_w

    phi = _spec(args.spec)
    sw, q = critical_sigma_w(phi, args.sigma_b, dps=args.dps)
    out = {"activation": args.spec, "sigma_b": args.sigma_b, "sigma_w": _num(sw, args.dps),
           "q_star": _num(q, args.dps), "dps": args.dps}
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    for k, label in (("activation", "activation"), ("sigma_b", "sigma_b"), ("sigma_w", "sigma_w"),
                     ("q_star", "q*")):
        print(f"{label:10s} {out[k]}")
    return 0
