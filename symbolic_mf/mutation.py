"""Deliberately wrong twins of identities, for testing the verifier.

A verifier that cannot be talked into a wrong PASS must reject, for every
identity in the catalogue:

* ``factor``  the right side times 1001/1000 (an error in the third digit);
* ``double``  the right side times 2;
* ``sign``    the right side negated;
* ``shift``   a variable shifted in the right side only: ``alpha -> alpha + 1``,
  ``k -> k + 1``, and ``c -> c/2`` for a variable confined to an interval of
  width at most 2 such as a correlation (so the wrong twin stays evaluable);
* ``widen``   a variable's domain widened past a *sharp* end (one where the
  mathematics stops holding), sampled only outside the original domain.

The first four must FAIL; a widened domain must not PASS (an integral that
diverges there is UNKNOWN, which is the honest answer).

>>> from symbolic_mf.catalogue import catalogue
>>> ms = mutants(catalogue()["gauss.sheppard"])
>>> [m.kind for m in ms]
['factor', 'double', 'sign', 'shift:c', 'widen:c']
>>> import sympy
>>> sympy.simplify(ms[0].identity.rhs / catalogue()["gauss.sheppard"].rhs)
1001/1000
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

import sympy as sp

from .domains import RealInterval
from .identity import Identity
from .verify import Verdict, verify

__all__ = ["Mutant", "mutants", "check_mutant"]


@dataclass
class Mutant:
    """A wrong twin of an identity and what the verifier must say of it."""

    kind: str
    identity: Identity
    must: str  # "FAIL" or "not PASS"
    pools: Optional[Dict] = None

    def __repr__(self):
        return f"<Mutant {self.identity.id} ({self.must})>"


def _slug(name: str) -> str:
    """A variable name usable inside an identity id (upper case, e.g. the batch size B, gets a suffix)."""
    return name if name == name.lower() else name.lower() + "-uc"


def _mul(expr, k):
    return sp.Mul(k, expr, evaluate=False) if isinstance(expr, sp.Add) else k * expr


def _shift(sym, domain):
    lo, hi = getattr(domain, "lo", None), getattr(domain, "hi", None)
    if isinstance(domain, RealInterval) and lo != -sp.oo and hi != sp.oo and hi - lo <= 2:
        return sym / 2
    return sym + 1


def mutants(identity: Identity) -> List[Mutant]:
    """All mutants of ``identity`` (see the module docstring)."""
    out: List[Mutant] = []
    base = identity.id
    rhs = identity.rhs
    if identity.relation != "==":
        # for an inequality a factor may keep it true; flip the relation instead
        flipped = {"<=": ">", "<": ">=", ">=": "<", ">": "<="}[identity.relation]
        out.append(Mutant("flip", identity.replace(id=base + ".mutant-flip", relation=flipped), "FAIL"))
        return out
    out.append(Mutant("factor", identity.replace(id=base + ".mutant-factor",
                                                 rhs=sp.Rational(1001, 1000) * rhs), "FAIL"))
    out.append(Mutant("double", identity.replace(id=base + ".mutant-double", rhs=2 * rhs), "FAIL"))
    out.append(Mutant("sign", identity.replace(id=base + ".mutant-sign", rhs=-rhs), "FAIL"))
    for var in identity.variables:
        sym = var.symbol
        if sym in rhs.free_symbols:
            shifted = rhs.xreplace({sym: _shift(sym, var.domain)})
            if shifted != rhs:
                out.append(Mutant(f"shift:{sym.name}",
                                  identity.replace(id=f"{base}.mutant-shift-{_slug(sym.name)}", rhs=shifted),
                                  "FAIL"))
    for var in identity.variables:
        wide = var.domain.widen()
        if wide is None:
            continue
        outside = wide.outside_pool(var.domain)
        if not outside:
            continue
        variables = [(v.symbol, wide if v.symbol == var.symbol else v.domain) for v in identity.variables]
        out.append(Mutant(
            f"widen:{var.name}",
            identity.replace(id=f"{base}.mutant-widen-{_slug(var.name)}", variables=variables, extra_points=()),
            "not PASS",
            pools={var.symbol: outside},
        ))
    return out


def check_mutant(m: Mutant, **kwargs) -> Verdict:
    """Verify a mutant; the caller compares the verdict with ``m.must``."""
    return verify(m.identity, pools=m.pools, **kwargs)
