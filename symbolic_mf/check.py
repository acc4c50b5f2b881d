r"""Checking a user's own identity.

>>> v = check("E(relu(u) * relu(v))",
...           "(sqrt(1 - c^2) + (pi - acos(c)) * c) / (2 * pi)",
...           where={"c": "[-1, 1]"})
>>> v.status
'PASS'
>>> w = check("E(relu(u) * relu(v))", "(sqrt(1 - c^2) + (pi - acos(c)) * c) / pi",
...           where={"c": "[-1, 1]"})
>>> print(w)
FAIL user.check: counterexample at c = 1: lhs = 0.5 (± ...), rhs = 1.0 (± ...); sides agree to only 0.3 digits

(At ``c = -1`` both sides vanish, so the first counterexample is ``c = 1``.)
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence, Union

import sympy as sp

from .domains import Domain, parse_domain
from .errors import DomainError
from .identity import Identity
from .parsing import parse_condition, parse_expression
from .verify import Verdict, verify

__all__ = ["check"]


def check(
    lhs: Union[str, sp.Expr],
    rhs: Union[str, sp.Expr],
    where: Optional[Mapping] = None,
    assumptions: Sequence = (),
    relation: str = "==",
    dps: int = 30,
    points: int = 8,
    seed: int = 0,
    rigorous: bool = False,
) -> Verdict:
    """Is ``lhs REL rhs`` true?  A three-state :class:`~symbolic_mf.verify.Verdict`.

    Parameters
    ----------
    lhs, rhs : str or sympy.Expr
        Strings are read by :func:`symbolic_mf.parsing.parse_expression`
        (safely: no Python is evaluated).  Gaussian expectations are written
        ``E(...)`` over ``z`` or over the pair ``u, v`` with correlation ``c``.
    where : mapping
        Every free variable's domain: a :class:`~symbolic_mf.domains.Domain`
        or a string such as ``"(-1/2, oo)"``, ``"[-1, 1]"``,
        ``"integer [0, 10]"``.
    assumptions : sequence of str or SymPy booleans
        Extra conditions (``"k != j"``).
    relation : str
        ``==`` (default), ``<=``, ``<``, ``>=`` or ``>``.
    dps, points, seed, rigorous
        As for :func:`symbolic_mf.verify.verify`.
    """
    symbols = {}
    exprs = []
    for side in (lhs, rhs):
        if isinstance(side, str):
            side = parse_expression(side, symbols)
            symbols.update({s.name: s for s in side.free_symbols})
        exprs.append(sp.sympify(side))
    domains = {}
    for name, dom in (where or {}).items():
        name = name.name if isinstance(name, sp.Symbol) else str(name)
        domains[name] = dom if isinstance(dom, Domain) else parse_domain(dom)
    conds = [parse_condition(a, symbols) if isinstance(a, str) else a for a in assumptions]
    free = set().union(*(e.free_symbols for e in exprs))
    free |= set().union(*(sp.sympify(c).free_symbols for c in conds)) if conds else set()
    variables = []
    for s in sorted(free, key=lambda s: s.name):
        if s.name not in domains:
            raise DomainError(
                s.name, "without a domain",
                f"every free variable needs a domain, e.g. where={{'{s.name}': '[-1, 1]'}}",
            )
        variables.append((s, domains[s.name]))
    unused = set(domains) - {s.name for s in free}
    if unused:
        raise DomainError(", ".join(sorted(unused)), "given a domain",
                          "a variable that appears in the identity")
    identity = Identity(
        "user.check", "user identity", exprs[0], exprs[1], variables,
        assumptions=conds, relation=relation, topics=["user"],
    )
    return verify(identity, dps=dps, points=points, seed=seed, rigorous=rigorous)
