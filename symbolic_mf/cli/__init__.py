"""The ``symbolic-mf`` command.

Each subcommand lives in its own module listed in :data:`COMMANDS`; a module
defines ``add_parser(subparsers)`` which registers its parser and sets
``func`` (called with the parsed arguments, returning the exit code).

>>> main(["list", "--topic", "gaussian"])  # doctest: +ELLIPSIS
gauss.rho-mean ...
0
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

from ..errors import SymbolicMFError

__all__ = ["main", "COMMANDS"]

#: subcommand modules, in the order they are listed by ``--help``
COMMANDS = ("catalogue_cmd", "check_cmd", "export_cmd", "bn_cmd", "kernel_cmd", "activations_cmd", "claims_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symbolic-mf",
        description="Derived and verified mean-field identities for wide neural networks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SymbolicMFError as e:
        print(f"symbolic-mf: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
