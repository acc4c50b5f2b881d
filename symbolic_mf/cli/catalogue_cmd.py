"""``list``, ``show`` and ``verify``: the catalogue from the shell."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
import time

from ..catalogue import catalogue

EXIT_FAIL = 1
EXIT_UNKNOWN = 3


def add_parser(sub):
    p = sub.add_parser("list", help="list identities")
    p.add_argument("--topic", help="only this topic")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show one identity")
    p.add_argument("id")
    p.add_argument("--latex", action="store_true", help="print the LaTeX of the statement")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser(
        "verify",
        help="verify identities numerically",
        description="Verify identities at two precisions. Exit status: 0 all PASS, "
        f"{EXIT_FAIL} any FAIL, {EXIT_UNKNOWN} no FAIL but some UNKNOWN.",
    )
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true", help="every identity in the catalogue")
    p.add_argument("--topic", help="every identity in this topic")
    p.add_argument("--dps", type=int, default=30, help="working precision in digits (default 30)")
    p.add_argument("--points", type=int, default=None, help="sampled points per identity (default 6)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rigorous", action="store_true", help="also run the python-flint ball-arithmetic referee")
    p.add_argument("--jobs", "-j", type=int, default=None,
                   help="parallel processes (default: number of CPUs, at most 4)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.add_argument("--json-out", metavar="PATH",
                   help="also write the --json list to PATH (the table still goes to stdout)")
    p.set_defaults(func=cmd_verify)


def cmd_list(args):
    ids = catalogue().filter(topic=args.topic)
    if args.json:
        print(json.dumps([{"id": i.id, "title": i.title, "topics": list(i.topics),
                           "method": i.method} for i in ids], indent=1))
        return 0
    width = max((len(i.id) for i in ids), default=10)
    for i in ids:
        print(f"{i.id:<{width}}  {i.topics[0] if i.topics else '':<10}  {i.title}")
    return 0


def cmd_show(args):
    idy = catalogue()[args.id]
    print(idy.latex() if args.latex else idy.describe())
    return 0


def _verify_one(job):
    from ..verify import verify

    id_, opts = job
    return verify(catalogue()[id_], **opts).to_dict()


_SHIPPED = catalogue


def _start_method():
    """How to start ``--jobs`` workers, or ``None`` to verify in this process.

    ``fork`` is cheap (the catalogue is already built) and sees any identity
    registered at run time, but forking a process whose other threads may hold
    locks (JAX/XLA start native thread pools) can deadlock the child.  Such a
    process starts its workers from a ``forkserver`` (``spawn`` where there is
    none): fresh processes that rebuild the shipped catalogue.  Identities they
    cannot rebuild (a registry substituted at run time) are verified serially.
    """
    methods = multiprocessing.get_all_start_methods()
    threaded = threading.active_count() > 1 or "jax" in sys.modules
    if "fork" in methods and not threaded:
        return "fork"
    if catalogue is not _SHIPPED:
        return None
    return "forkserver" if "forkserver" in methods else "spawn"


def _rows(ids, opts, jobs):
    work = [(i, opts) for i in ids]
    method = _start_method() if jobs > 1 and len(work) > 1 else None
    if method is None:
        for w in work:
            yield _verify_one(w)
        return
    with multiprocessing.get_context(method).Pool(jobs) as pool:
        yield from pool.imap(_verify_one, work)


def cmd_verify(args):
    reg = catalogue()
    if args.all:
        ids = reg.ids()
    elif args.topic:
        ids = [i.id for i in reg.filter(topic=args.topic)]
    else:
        ids = list(args.ids)
    if not ids:
        print("symbolic-mf verify: give identity ids, --topic T or --all", file=sys.stderr)
        return 2
    for i in ids:
        reg[i]  # unknown ids fail before any work
    if args.rigorous:
        from ..rigorous import require_flint

        require_flint()  # a clear error before any work (and before worker processes)
    jobs = args.jobs or min(os.cpu_count() or 1, 4)
    opts = dict(dps=args.dps, points=args.points, seed=args.seed, rigorous=args.rigorous)
    t0 = time.perf_counter()
    rows = []
    width = max(len(i) for i in ids)
    if not args.json:
        print(f"{'identity':<{width}}  {'verdict':<7}  {'points':>6}  {'digits':>6}  {'seconds':>7}"
              + ("  rigorous" if args.rigorous else ""))
    for n, row in enumerate(_rows(ids, opts, jobs), 1):
        rows.append(row)
        if not args.quiet:
            print(f"[{n}/{len(ids)}] {row['id']} {row['verdict']}", file=sys.stderr, flush=True)
        if not args.json:
            dig = "-" if row["digits"] is None else f"{row['digits']:.0f}"
            print(f"{row['id']:<{width}}  {row['verdict']:<7}  {row['points']:>6}  {dig:>6}  "
                  f"{row['seconds']:>7.2f}" + (f"  {row['rigorous']['status']}" if row["rigorous"] else ""),
                  flush=True)
            if row["verdict"] != "PASS":
                why = row["counterexample"] or row["reason"]
                print(f"    {why}", flush=True)
    counts = {k: sum(r["verdict"] == k for r in rows) for k in ("PASS", "FAIL", "UNKNOWN")}
    wall = time.perf_counter() - t0
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(rows, fh, indent=1)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(f"PASS {counts['PASS']} / FAIL {counts['FAIL']} / UNKNOWN {counts['UNKNOWN']}"
              f"  ({len(rows)} identities, dps {args.dps}, {wall:.1f} s wall, {jobs} jobs)")
        if args.rigorous:
            rig = [r["rigorous"]["status"] for r in rows if r["rigorous"]]
            print("rigorous: " + " / ".join(f"{k} {rig.count(k)}" for k in ("AGREE", "REFUTED", "UNDECIDED"))
                  + "  (AGREE: enclosures overlap; REFUTED: disjoint, a proof of FAIL)")
    if counts["FAIL"]:
        return EXIT_FAIL
    if counts["UNKNOWN"]:
        return EXIT_UNKNOWN
    return 0
