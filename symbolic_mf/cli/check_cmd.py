"""``check``: is the user's identity true?"""

from __future__ import annotations

import json
import re

from ..check import check
from ..errors import ParseError

EXIT_FAIL = 1
EXIT_UNKNOWN = 3


def add_parser(sub):
    p = sub.add_parser(
        "check",
        help="check your own identity",
        description=(
            "Check LHS == RHS numerically at sampled points. Expressions are parsed safely "
            "(no Python is evaluated): E(...) is a Gaussian expectation over z, or over the pair "
            "u, v with correlation c; rho(alpha, x), relu, step, He(n, x), hyp2f1, gamma, ... "
            "Example: symbolic-mf check 'E(relu(u)*relu(v))' "
            "'(sqrt(1-c^2) + (pi - acos(c))*c)/(2*pi)' --where 'c in [-1, 1]'"
        ),
    )
    p.add_argument("lhs")
    p.add_argument("rhs")
    p.add_argument("--where", action="append", default=[], metavar="'NAME in DOMAIN'",
                   help="a variable's domain, e.g. 'alpha in (-1/2, 8]', 'k in integer [0, 10]'")
    p.add_argument("--assume", action="append", default=[], metavar="COND",
                   help="an extra condition, e.g. 'j != k'")
    p.add_argument("--relation", default="==", choices=["==", "<=", "<", ">=", ">"])
    p.add_argument("--dps", type=int, default=30)
    p.add_argument("--points", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rigorous", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)


_WHERE_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:\bin\b|=|:)\s*(.+)$")


def parse_where(items):
    out = {}
    for item in items:
        m = _WHERE_RE.match(item)
        if not m:
            raise ParseError(f"--where {item!r}: write 'NAME in DOMAIN', e.g. 'c in [-1, 1]'")
        out[m.group(1)] = m.group(2).strip()
    return out


def cmd_check(args):
    v = check(args.lhs, args.rhs, where=parse_where(args.where), assumptions=args.assume,
              relation=args.relation, dps=args.dps, points=args.points, seed=args.seed,
              rigorous=args.rigorous)
    if args.json:
        print(json.dumps(v.to_dict(), indent=1))
    else:
        print(v.summary())
        for p in v.points:
            print(f"  {p.status:<7} {p}")
    if v.status == "FAIL":
        return EXIT_FAIL
    return EXIT_UNKNOWN if v.status == "UNKNOWN" else 0
