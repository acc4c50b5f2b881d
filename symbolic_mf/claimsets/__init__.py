"""Registered claims, assembled from one module per source.

Each module defines ``register(registry)``; :func:`claims` builds the
registry once, on first use.

>>> reg = claims()
>>> "santurkar.thm41" in reg
True
"""

from __future__ import annotations

import functools
import importlib

from ..claims import ClaimRegistry

__all__ = ["claims", "get_claim", "CLAIM_MODULES"]

#: claim modules, in the order their claims are listed
CLAIM_MODULES = ("santurkar", "orthogonal", "oddpoint")


@functools.lru_cache(maxsize=1)
def claims() -> ClaimRegistry:
    """The registry of every claim shipped with symbolic_mf."""
    reg = ClaimRegistry()
    for name in CLAIM_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(reg)
    return reg


def get_claim(cid: str):
    """One claim by id (UnknownIdentityError with suggestions otherwise)."""
    return claims()[cid]
