"""Domains of free variables and their pools of awkward sample values.

A domain knows whether it contains a value, how to describe itself, which
values are worth testing (boundaries first: an identity that fails, fails
near an edge), how to draw seeded random values, and how to widen itself
past where an identity was stated to hold (for mutation testing).

All sample values are exact SymPy numbers, so that an identity is evaluated at
the *same* point at every working precision.

>>> d = RealInterval(-1, 1, left_open=False, right_open=False)
>>> str(d)
'[-1, 1]'
>>> [str(x) for x in d.pool()[:6]]
['-1', '1', '-134217727/134217728', '134217727/134217728', '-99/100', '99/100']
>>> d.contains(sympy.Rational(1, 2)), d.contains(2)
(True, False)
>>> parse_domain("(-1/2, oo)")
RealInterval(-1/2, oo, left_open=True, right_open=True)
>>> parse_domain("integer [0, 12]")
IntegerRange(0, 12)
"""

from __future__ import annotations

import random
import re
from typing import List, Optional

import sympy

from .errors import DomainError, ParseError

__all__ = [
    "Domain",
    "RealInterval",
    "IntegerRange",
    "REALS",
    "CORRELATION",
    "OPEN_CORRELATION",
    "parse_domain",
]

_S = sympy.S
# Awkward interior values tried in every real interval that contains them.
_INTERIOR = [
    _S(0),
    _S(1) / 2,
    -_S(1) / 2,
    _S(1),
    -_S(1),
    _S(7) / 10,
    -_S(3) / 10,
    _S(3) / 2,
    _S(2),
    -_S(2),
    _S(13) / 10,
    _S(3),
    _S(5) / 2,
    _S(9) / 10,
    -_S(9) / 10,
    _S(5),
    _S(8),
    _S(1) / 3,
]
# Offsets from a finite end: tiny and moderate.  The tiny one is dyadic
# (2**-27 ~ 7.5e-9) so that ``end + offset`` is exact in binary at every
# precision: a decimal 1e-8 would make ``alpha + 1/2`` lose 8 digits to input
# rounding, which measures the conversion, not the formula.
_EDGE_OFFSETS = [sympy.Rational(1, 2**27), sympy.Rational(1, 100)]


def _num(x):
    x = sympy.sympify(x)
    if x in (sympy.oo, -sympy.oo):
        return x
    if not x.is_number or not x.is_real:
        raise ValueError(f"domain bound must be a real number or +-oo, got {x}")
    return sympy.Rational(str(x)) if isinstance(x, sympy.Float) else x


class Domain:
    """Base class: a set of admissible values of one variable."""

    def contains(self, value) -> bool:
        raise NotImplementedError

    def pool(self) -> List[sympy.Expr]:
        """Deterministic list of awkward values, most awkward first."""
        edges, interior = self.pool_parts()
        return edges + interior

    def pool_parts(self):
        """``(edges, interior)``: values at or next to the ends, then the rest."""
        raise NotImplementedError

    def random(self, rng: random.Random, n: int) -> List[sympy.Expr]:
        """``n`` seeded random values (exact rationals)."""
        raise NotImplementedError

    def widen(self) -> Optional["Domain"]:
        """A strictly larger domain (or None if there is nothing to widen)."""
        return None

    def outside_pool(self, original: "Domain") -> List[sympy.Expr]:
        """Values of this (widened) domain that ``original`` excludes."""
        return [x for x in self.pool() if not original.contains(x)]

    def check(self, name: str, value) -> None:
        """Raise :class:`DomainError` unless ``value`` is in the domain."""
        if not self.contains(sympy.sympify(value)):
            raise DomainError(name, value, f"{name} in {self}")


class RealInterval(Domain):
    """A real interval, possibly unbounded, with open or closed ends.

    ``sharp`` says which finite ends are where the mathematics stops holding
    (``"both"``, ``"lo"``, ``"hi"`` or ``"none"``); the others are only caps
    on the sampled range (e.g. ``alpha <= 8``).  Only sharp ends are widened
    by :meth:`widen`, for mutation tests.
    """

    def __init__(self, lo=-sympy.oo, hi=sympy.oo, left_open=True, right_open=True, sharp="both"):
        self.lo = _num(lo)
        self.hi = _num(hi)
        if self.lo == -sympy.oo:
            left_open = True
        if self.hi == sympy.oo:
            right_open = True
        if not (self.lo < self.hi or (self.lo == self.hi and not left_open and not right_open)):
            raise ValueError(f"empty interval: lo={self.lo}, hi={self.hi}")
        self.left_open = bool(left_open)
        self.right_open = bool(right_open)
        if sharp not in ("both", "lo", "hi", "none"):
            raise ValueError(f"sharp must be 'both', 'lo', 'hi' or 'none', got {sharp!r}")
        self.sharp = sharp

    def __repr__(self):
        extra = "" if self.sharp == "both" else f", sharp={self.sharp!r}"
        return (
            f"RealInterval({self.lo}, {self.hi}, left_open={self.left_open}, "
            f"right_open={self.right_open}{extra})"
        )

    def __str__(self):
        return "%s%s, %s%s" % (
            "(" if self.left_open else "[",
            self.lo,
            self.hi,
            ")" if self.right_open else "]",
        )

    def __eq__(self, other):
        return isinstance(other, RealInterval) and repr(self) == repr(other)

    def __hash__(self):
        return hash(repr(self))

    def contains(self, value) -> bool:
        value = sympy.sympify(value)
        if not value.is_number or value.is_real is False:
            return False
        if value in (sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
            return False
        lo_ok = value > self.lo if self.left_open else value >= self.lo
        hi_ok = value < self.hi if self.right_open else value <= self.hi
        return bool(lo_ok) and bool(hi_ok)

    def pool_parts(self):
        out: List[sympy.Expr] = []

        def add(x):
            x = sympy.sympify(x)
            if self.contains(x) and x not in out:
                out.append(x)

        # the ends themselves (when closed), then just inside each end
        if not self.left_open:
            add(self.lo)
        if not self.right_open:
            add(self.hi)
        for off in _EDGE_OFFSETS:
            if self.lo != -sympy.oo:
                add(self.lo + off)
            if self.hi != sympy.oo:
                add(self.hi - off)
        n_edges = len(out)
        if self.lo != -sympy.oo and self.hi != sympy.oo:
            w = self.hi - self.lo
            for frac in (sympy.Rational(1, 20), sympy.Rational(19, 20), sympy.Rational(1, 4),
                         sympy.Rational(3, 4), sympy.Rational(1, 2)):
                add(self.lo + w * frac)
        for x in _INTERIOR:
            add(x)
        if self.lo != -sympy.oo and self.hi == sympy.oo:
            add(self.lo + 11)
        if self.hi != sympy.oo and self.lo == -sympy.oo:
            add(self.hi - 11)
        return out[:n_edges], out[n_edges:]

    def random(self, rng: random.Random, n: int) -> List[sympy.Expr]:
        lo = float(self.lo) if self.lo != -sympy.oo else -10.0
        hi = float(self.hi) if self.hi != sympy.oo else 10.0
        out = []
        while len(out) < n:
            x = sympy.Rational(round(rng.uniform(lo, hi) * 1000), 1000)
            if self.contains(x):
                out.append(x)
        return out

    def _sharp_lo(self):
        return self.lo != -sympy.oo and self.sharp in ("both", "lo")

    def _sharp_hi(self):
        return self.hi != sympy.oo and self.sharp in ("both", "hi")

    def widen(self) -> Optional["RealInterval"]:
        """The interval with each sharp end pushed out by 1 (None if no sharp end)."""
        if not (self._sharp_lo() or self._sharp_hi()):
            return None
        lo = self.lo - 1 if self._sharp_lo() else self.lo
        hi = self.hi + 1 if self._sharp_hi() else self.hi
        return RealInterval(lo, hi, self.left_open and not self._sharp_lo(),
                            self.right_open and not self._sharp_hi(), sharp="none")

    def outside_pool(self, original: Domain) -> List[sympy.Expr]:
        out = []
        if isinstance(original, RealInterval):
            ends = []
            if original._sharp_lo():
                ends.append((original.lo, -1))
            if original._sharp_hi():
                ends.append((original.hi, 1))
            for end, sgn in ends:
                for off in (sympy.Rational(1, 100), sympy.Rational(3, 10), sympy.Rational(7, 10)):
                    x = end + sgn * off
                    if self.contains(x) and not original.contains(x):
                        out.append(x)
                if not self.contains(end) or original.contains(end):
                    continue
                out.insert(0, end)
        return out or super().outside_pool(original)


class IntegerRange(Domain):
    """Integers ``lo <= n <= hi`` (``hi=None`` for no upper bound)."""

    #: how far above ``lo`` the pool reaches when there is no upper bound
    POOL_SPAN = 12

    def __init__(self, lo=0, hi=None, sharp="lo"):
        self.lo = int(lo)
        self.hi = None if hi is None else int(hi)
        if self.hi is not None and self.hi < self.lo:
            raise ValueError(f"empty integer range [{lo}, {hi}]")
        if sharp not in ("both", "lo", "hi", "none"):
            raise ValueError(f"sharp must be 'both', 'lo', 'hi' or 'none', got {sharp!r}")
        self.sharp = sharp

    def __repr__(self):
        return f"IntegerRange({self.lo}, {self.hi})"

    def __str__(self):
        return "integer [%d, %s]" % (self.lo, "oo)" if self.hi is None else f"{self.hi}]")

    def __eq__(self, other):
        return isinstance(other, IntegerRange) and (self.lo, self.hi) == (other.lo, other.hi)

    def __hash__(self):
        return hash((self.lo, self.hi))

    def contains(self, value) -> bool:
        value = sympy.sympify(value)
        if not value.is_Integer:
            return False
        return value >= self.lo and (self.hi is None or value <= self.hi)

    def pool_parts(self):
        top = self.lo + self.POOL_SPAN if self.hi is None else min(self.hi, self.lo + self.POOL_SPAN)
        vals = list(range(self.lo, top + 1))
        if self.hi is not None and self.hi > top:
            vals.append(self.hi)
        head = [vals[0]] + ([vals[-1]] if len(vals) > 1 else [])
        rest = vals[1:-1]
        return [sympy.Integer(x) for x in head], [sympy.Integer(x) for x in rest[::2] + rest[1::2]]

    def random(self, rng: random.Random, n: int) -> List[sympy.Expr]:
        top = self.hi if self.hi is not None else self.lo + 3 * self.POOL_SPAN
        return [sympy.Integer(rng.randint(self.lo, top)) for _ in range(n)]

    def widen(self) -> Optional["IntegerRange"]:
        """The range with each sharp end pushed out by 3 (None if no sharp end)."""
        lo_s = self.sharp in ("both", "lo")
        hi_s = self.sharp in ("both", "hi") and self.hi is not None
        if not (lo_s or hi_s):
            return None
        return IntegerRange(self.lo - 3 if lo_s else self.lo,
                            (self.hi + 3 if hi_s else self.hi) if self.hi is not None else None,
                            sharp="none")

    def outside_pool(self, original: Domain) -> List[sympy.Expr]:
        out = []
        if isinstance(original, IntegerRange):
            if original.sharp in ("both", "lo"):
                out += [sympy.Integer(original.lo - k) for k in (1, 2, 3)]
            if original.sharp in ("both", "hi") and original.hi is not None:
                out += [sympy.Integer(original.hi + k) for k in (1, 2, 3)]
        return out


#: The real line.
REALS = RealInterval()
#: Correlations, closed: c in [-1, 1].
CORRELATION = RealInterval(-1, 1, left_open=False, right_open=False)
#: Correlations strictly inside (-1, 1).
OPEN_CORRELATION = RealInterval(-1, 1, left_open=True, right_open=True)

_INTERVAL_RE = re.compile(r"^\s*([\(\[])\s*([^,]+?)\s*,\s*([^,]+?)\s*([\)\]])\s*$")


def _parse_bound(text: str):
    text = text.strip().replace("inf", "oo").replace("infinity", "oo")
    if not re.fullmatch(r"[-+]?(oo|[0-9]+(\.[0-9]*)?(e[-+]?[0-9]+)?(/[0-9]+)?)", text):
        raise ParseError(f"domain bound {text!r} is not a number, a fraction or +-oo")
    if text.endswith("oo"):
        return -sympy.oo if text.startswith("-") else sympy.oo
    return sympy.Rational(text)


def parse_domain(text: str) -> Domain:
    """Parse ``"(a, b]"``, ``"R"``, ``"integer [0, 10]"``, ``"Z>=0"``.

    Bounds are numbers, fractions or ``oo``; nothing is evaluated.

    >>> parse_domain("[-1, 1]") == CORRELATION
    True
    >>> parse_domain("R")
    RealInterval(-oo, oo, left_open=True, right_open=True)
    >>> parse_domain("Z>=1")
    IntegerRange(1, None)
    """
    if not isinstance(text, str):
        raise ParseError(f"a domain must be a string such as '(-1/2, oo)', got {text!r}")
    t = text.strip()
    if t in ("R", "reals", "real"):
        return REALS
    m = re.fullmatch(r"Z\s*>=\s*(-?[0-9]+)", t)
    if m:
        return IntegerRange(int(m.group(1)))
    integer = False
    for prefix in ("integer", "int", "Z"):
        if t.startswith(prefix + " ") or t.startswith(prefix + "["):
            integer = True
            t = t[len(prefix):].strip()
            break
    m = _INTERVAL_RE.match(t)
    if not m:
        raise ParseError(
            f"cannot read domain {text!r}: write an interval such as '(-1/2, oo)', "
            "'[-1, 1]', 'integer [0, 10]' or 'Z>=0'"
        )
    lb, a, b, rb = m.groups()
    lo, hi = _parse_bound(a), _parse_bound(b)
    if integer:
        if lo == -sympy.oo:
            raise ParseError("integer domains need a finite lower bound")
        lo_i = int(sympy.ceiling(lo)) + (1 if lb == "(" and lo.is_integer else 0)
        hi_i = None
        if hi != sympy.oo:
            hi_i = int(sympy.floor(hi)) - (1 if rb == ")" and hi.is_integer else 0)
        return IntegerRange(lo_i, hi_i)
    try:
        return RealInterval(lo, hi, lb == "(", rb == ")")
    except ValueError as e:
        raise ParseError(f"cannot read domain {text!r}: {e}") from None
