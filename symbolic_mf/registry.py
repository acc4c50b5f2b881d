"""The catalogue: one flat registry of identities; topics are views over it.

>>> import sympy as sp
>>> from symbolic_mf.identity import Identity
>>> from symbolic_mf.domains import REALS
>>> x = sp.Symbol("x")
>>> reg = Registry()
>>> _ = reg.add(Identity("demo.square", "a square", (x + 1)**2, x**2 + 2*x + 1, {x: REALS},
...                  topics=["algebra"]))
>>> reg.add(Identity("demo.square", "again", x, x, {x: REALS}))
Traceback (most recent call last):
...
symbolic_mf.errors.DuplicateIdentityError: identity id 'demo.square' is already registered ('a square')
>>> reg["demo.sqare"]
Traceback (most recent call last):
...
symbolic_mf.errors.UnknownIdentityError: no identity 'demo.sqare'; did you mean 'demo.square'?
>>> reg.topics()
{'algebra': ['demo.square']}
"""

from __future__ import annotations

import difflib
from typing import Dict, Iterable, Iterator, List, Optional

from .errors import DuplicateIdentityError, UnknownIdentityError
from .identity import Identity

__all__ = ["Registry"]


class Registry:
    """An ordered collection of identities keyed by their unique id."""

    def __init__(self, identities: Iterable[Identity] = ()):
        self._by_id: Dict[str, Identity] = {}
        for i in identities:
            self.add(i)

    def add(self, identity: Identity) -> Identity:
        """Register ``identity``; a duplicate id raises :class:`DuplicateIdentityError`."""
        if not isinstance(identity, Identity):
            raise TypeError(f"expected an Identity, got {type(identity).__name__}")
        old = self._by_id.get(identity.id)
        if old is not None:
            raise DuplicateIdentityError(
                f"identity id {identity.id!r} is already registered ({old.title!r})"
            )
        self._by_id[identity.id] = identity
        return identity

    def __getitem__(self, id: str) -> Identity:
        try:
            return self._by_id[id]
        except KeyError:
            close = difflib.get_close_matches(id, list(self._by_id), n=3)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownIdentityError(f"no identity {id!r}{hint}") from None

    def get(self, id: str, default=None) -> Optional[Identity]:
        return self._by_id.get(id, default)

    def __contains__(self, id) -> bool:
        return id in self._by_id

    def __iter__(self) -> Iterator[Identity]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def ids(self) -> List[str]:
        return list(self._by_id)

    def topics(self) -> Dict[str, List[str]]:
        """Topic name -> ids in registration order."""
        out: Dict[str, List[str]] = {}
        for i in self:
            for t in i.topics:
                out.setdefault(t, []).append(i.id)
        return out

    def filter(self, topic: Optional[str] = None, method: Optional[str] = None,
               match: Optional[str] = None) -> List[Identity]:
        """Identities in ``topic``, derived by ``method``, whose id or title contains ``match``."""
        out = []
        for i in self:
            if topic is not None and topic not in i.topics:
                continue
            if method is not None and i.method != method:
                continue
            if match is not None and match.lower() not in (i.id + " " + i.title).lower():
                continue
            out.append(i)
        return out

    def __repr__(self):
        return f"<Registry: {len(self)} identities in {len(self.topics())} topics>"
