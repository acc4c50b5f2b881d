"""The default catalogue, assembled from one module per topic.

Each topic module defines ``register(registry)``; :func:`catalogue` builds
the registry once, on first use (never at import), and refuses duplicate ids.
Identities whose right side an engine derives are registered with lazy sides,
so listing the catalogue derives nothing.

>>> reg = catalogue()
>>> "gauss.rho-second-moment" in reg
True
>>> reg["gauss.rho-second-moment"].topics[0]
'gaussian'
"""

from __future__ import annotations

import functools
import importlib
from typing import List, Optional

from ..identity import Identity
from ..registry import Registry

__all__ = ["catalogue", "get_identity", "identities", "MODULES"]

#: topic modules, in the order their identities are listed
MODULES = ("gaussian", "kernels", "batchnorm", "meanfield", "bnlayer", "orthogonal", "oddpoint", "fourier")
MODULES = MODULES + ("orthant",)  # ELU kernels by the orthant engine (issue 8)


@functools.lru_cache(maxsize=1)
def catalogue() -> Registry:
    """The default registry of every identity shipped with symbolic_mf."""
    reg = Registry()
    for name in MODULES:
        mod = importlib.import_module(f"{__name__}.{name}")
        mod.register(reg)
    return reg


def get_identity(id: str) -> Identity:
    """Fetch one identity by id (raises UnknownIdentityError with suggestions)."""
    return catalogue()[id]


def identities(topic: Optional[str] = None, method: Optional[str] = None,
               match: Optional[str] = None) -> List[Identity]:
    """Identities filtered by topic, deriving engine or a text match."""
    return catalogue().filter(topic=topic, method=method, match=match)
