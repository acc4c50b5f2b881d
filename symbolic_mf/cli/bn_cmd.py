"""``bn``: the batch-norm mean-field numbers for one activation and batch size.

>>> from symbolic_mf.cli import main
>>> main(["bn", "identity", "--batch", "10", "--dps", "20"])  # doctest: +ELLIPSIS
activation  identity
B           10
q*          1.0
c*          -0.11111111111111111111
mu*         1.1111111111111111111
lambda_G    1.1428571428571428571
depth scale 7.4888...
lambda_L    0.81818181818181818182  (multiplicity 9)
lambda_M    0.81818181818181818182  (multiplicity 35)
lambda_tr   0.0  (multiplicity 1; G direction: BN is scale invariant)
0
"""

from __future__ import annotations

import json

from mpmath import mp

from ..activations import get_activation


def add_parser(sub):
    p = sub.add_parser(
        "bn",
        help="BSB1 fixed point and gradient explosion rate of a batch-normalised network",
        description=("q*, c*, mu* = q*(1-c*), lambda_G and the depth scale 1/log lambda_G for phi after batch "
                     "norm with batch size B (Yang et al. 2019), and the forward Jacobian eigenvalues lambda_L, "
                     "lambda_M at the BSB1 fixed point (closed form for homogeneous phi; sphere integrals otherwise, "
                     "slower; --no-forward skips them). Example: symbolic-mf bn relu --batch 32"),
    )
    p.add_argument("activation", help="relu, identity, tanh, rho_<alpha>, abs_<alpha>, ...")
    p.add_argument("--batch", "-B", type=int, required=True, help="batch size B >= 4")
    p.add_argument("--dps", type=int, default=30)
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-forward", action="store_true", help="skip the forward Jacobian eigenvalues")
    p.set_defaults(func=cmd_bn)


def cmd_bn(args):
    from ..batchnorm import bsb1_fixed_point, forward_eigenvalues, gradient_explosion_rate

    phi = get_activation(args.activation)
    q, c = bsb1_fixed_point(phi, args.batch, dps=args.dps)
    lam = gradient_explosion_rate(phi, args.batch, dps=args.dps)
    with mp.workdps(args.dps):
        mu = q * (1 - c)
        depth = 1 / mp.log(lam) if lam > 1 else mp.inf
        out = {"activation": phi.name, "B": args.batch, "q_star": mp.nstr(q, args.dps),
               "c_star": mp.nstr(c, args.dps), "mu_star": mp.nstr(mu, args.dps),
               "lambda_G": mp.nstr(lam, args.dps), "depth_scale": mp.nstr(depth, args.dps)}
    if not args.no_forward:
        ev = forward_eigenvalues(phi, args.batch, dps=args.dps)
        with mp.workdps(args.dps):
            for k in ("lambda_L", "lambda_M", "lambda_trace"):
                out[k] = mp.nstr(ev[k], args.dps)
        out["multiplicities"] = ev["multiplicities"]
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for k, label in (("activation", "activation"), ("B", "B"), ("q_star", "q*"), ("c_star", "c*"),
                         ("mu_star", "mu*"), ("lambda_G", "lambda_G"), ("depth_scale", "depth scale")):
            print(f"{label:11s} {out[k]}")
        if "lambda_L" in out:
            m = out["multiplicities"]
            print(f"{'lambda_L':11s} {out['lambda_L']}  (multiplicity {m['lambda_L']})")
            print(f"{'lambda_M':11s} {out['lambda_M']}  (multiplicity {m['lambda_M']})")
            print(f"{'lambda_tr':11s} {out['lambda_trace']}  (multiplicity 1; G direction: BN is scale invariant)")
    return 0
