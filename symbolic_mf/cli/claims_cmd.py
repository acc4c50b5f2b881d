"""``claims``: list and check registered claims (published statements as printed, and corrected).

>>> from symbolic_mf.cli import main
>>> main(["claims", "santurkar.thm41-sqrt-m", "-n", "4"])  # doctest: +ELLIPSIS
FAIL santurkar.thm41-sqrt-m: counterexample at m = 2, y = (0, 1), g = (0, 1), gamma = 1: ...
1
"""

from __future__ import annotations

import json


def add_parser(sub):
    p = sub.add_parser(
        "claims",
        help="check published claims (Santurkar et al., Daneshmand et al., Nachum et al.) with counterexamples",
        description=("Check registered claims on seeded instances: exact (rational/algebraic) or statistical. "
                     "A FAIL prints a minimal counterexample. Examples: symbolic-mf claims --list; "
                     "symbolic-mf claims santurkar; symbolic-mf claims santurkar.lemma45 --show"),
    )
    p.add_argument("ids", nargs="*", help="claim ids or prefixes (default: all)")
    p.add_argument("--list", action="store_true", help="list ids, sources and predicted verdicts")
    p.add_argument("--show", action="store_true", help="print each claim's statement and hypotheses")
    p.add_argument("-n", type=int, default=20, help="instances per claim (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_claims)


def _select(reg, ids):
    if not ids:
        return list(reg)
    out = []
    for key in ids:
        if key in reg:
            out.append(reg[key])
            continue
        hits = [c for c in reg if c.id.startswith(key + ".") or c.id.startswith(key) or c.topic == key]
        if not hits:
            reg[key]  # raises UnknownIdentityError with suggestions
        out.extend(c for c in hits if c not in out)
    return out


def cmd_claims(args):
    from ..claims import check_claim
    from ..claimsets import claims

    sel = _select(claims(), args.ids)
    if args.list:
        for c in sel:
            print(f"{c.id:45s} {c.expected:6s} {c.source}")
        return 0
    if args.show:
        for c in sel:
            print(c.describe())
        return 0
    bad = 0
    rows = []
    for c in sel:
        v = check_claim(c, n=args.n, seed=args.seed)
        rows.append(dict(v.to_dict(), expected=c.expected, source=c.source))
        if v.status != "PASS":
            bad = 1
        if not args.json:
            print(v.summary())
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
    return bad
