r"""Claims: published statements checked as printed, with their hypotheses.

An :class:`~symbolic_mf.identity.Identity` is a formula in a few scalar
variables, checked by quadrature.  A *claim* is a statement about structured
instances (a batch, a gradient, a Hessian, a data set): ``lhs(inst) REL
rhs(inst)`` for every instance satisfying the hypotheses.  The checker

* draws seeded random instances (``sample(rng)``), keeps those satisfying
  the hypotheses (``admissible``) and evaluates both sides;
* decides each instance **exactly** when the sides are exact SymPy numbers
  (rationals, or algebraic numbers such as :math:`\sqrt{q}`): an equality
  by ``expand(lhs - rhs) == 0``, an inequality by SymPy's certified
  comparison of algebraic numbers; or, for a ``statistical`` claim whose
  sides are estimates ``(value, standard error)``, PASS within 4 standard
  errors and FAIL beyond 6;
* gives the verdict of :mod:`symbolic_mf.verify`: FAIL if any instance
  fails, PASS if all pass, UNKNOWN otherwise.  A FAIL carries a
  counterexample: the *first failing instance in the claim's enumeration of
  small instances* (``small``, ordered by size) when it has one -- a minimal
  readable counterexample -- else the failing random instance.

>>> import sympy as sp
>>> c = Claim("demo.am-gm", "AM-GM for two rationals", "textbook", "(a+b)/2 >= sqrt(ab)",
...           sample=lambda r: {"a": sp.Rational(r.randint(1, 9)), "b": sp.Rational(r.randint(1, 9))},
...           lhs=lambda i: (i["a"] + i["b"]) / 2, rhs=lambda i: sp.sqrt(i["a"] * i["b"]), relation=">=")
>>> check_claim(c, n=10).status
'PASS'
>>> bad = c.replace(id="demo.am-gm-wrong", relation="<")
>>> v = check_claim(bad, n=10); v.status, v.counterexample.point      # the failing random instance
('FAIL', {'a': '4', 'b': '6'})
>>> small = lambda: ({"a": sp.Integer(a), "b": sp.Integer(b)} for a in range(1, 9) for b in range(1, 9))
>>> check_claim(bad.replace(small=small), n=10).counterexample.point  # the first small one
{'a': '1', 'b': '1'}
"""

from __future__ import annotations

import random
import time
import zlib
from dataclasses import dataclass, field, replace as _dc_replace
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import sympy as sp

from .errors import DuplicateIdentityError, SymbolicMFError, UnknownIdentityError
from .verify import PointResult, Verdict

__all__ = ["Claim", "ClaimVerdict", "ClaimRegistry", "check_claim", "RELATIONS"]

RELATIONS = ("==", "<=", "<", ">=", ">")
PASS_SIGMAS = 4
FAIL_SIGMAS = 6


@dataclass
class Claim:
    """A statement ``lhs(inst) REL rhs(inst)`` over instances satisfying the hypotheses.

    ``source`` cites the statement (paper, number, and whether this is the
    printed or a corrected form); ``confirmed`` says which parts could be read
    in the source; ``corrects`` names the claim this one corrects;
    ``expected`` ("holds" / "fails") records the verdict the analysis
    predicts, so tests and docs can compare.
    """

    id: str
    title: str
    source: str
    statement: str
    sample: Callable[[random.Random], Dict]
    lhs: Callable[[Dict], object]
    rhs: Callable[[Dict], object]
    relation: str = "=="
    hypotheses: Tuple[str, ...] = ()
    admissible: Optional[Callable[[Dict], bool]] = None
    small: Optional[Callable[[], Iterable[Dict]]] = None
    statistical: bool = False
    corrects: Optional[str] = None
    expected: str = "holds"
    confirmed: str = ""
    notes: str = ""
    topic: str = "bnlayer"

    def __post_init__(self):
        if self.relation not in RELATIONS:
            raise ValueError(f"relation must be one of {RELATIONS}, got {self.relation!r}")
        if self.expected not in ("holds", "fails"):
            raise ValueError(f"expected must be 'holds' or 'fails', got {self.expected!r}")
        self.hypotheses = tuple(self.hypotheses)

    def replace(self, **changes) -> "Claim":
        return _dc_replace(self, **changes)

    def describe(self) -> str:
        lines = [f"{self.id}: {self.title}", f"  {self.statement}", f"  source: {self.source}"]
        lines += [f"  hypothesis: {h}" for h in self.hypotheses]
        if self.corrects:
            lines.append(f"  corrects: {self.corrects}")
        if self.confirmed:
            lines.append(f"  read in source: {self.confirmed}")
        if self.notes:
            lines.append(f"  note: {self.notes}")
        return "\n".join(lines)


class ClaimVerdict(Verdict):
    """A :class:`~symbolic_mf.verify.Verdict` whose points are instances (exact, or statistical)."""

    def summary(self) -> str:
        how = "statistical" if self.reason.startswith("statistical") else "exact"
        if self.status == "PASS":
            return f"PASS {self.identity_id}: {self.n_points} instances, {how}"
        if self.status == "FAIL":
            return f"FAIL {self.identity_id}: counterexample {self.counterexample}"
        return f"UNKNOWN {self.identity_id}: {self.reason}"

    __str__ = summary


def _fmt(v) -> str:
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    if isinstance(v, sp.MatrixBase):
        if v.cols == 1:
            return _fmt(list(v))
        return "[" + "; ".join(_fmt(list(v.row(i))) for i in range(v.rows)) + "]"
    if hasattr(v, "tolist"):
        return _fmt(v.tolist())
    return sp.sstr(v) if isinstance(v, sp.Basic) else str(v)


def _num(v):
    return sp.N(v, 20) if isinstance(v, sp.Basic) else v


def _decide_exact(rel, L, R):
    L, R = sp.sympify(L), sp.sympify(R)
    if isinstance(L, sp.MatrixBase) or isinstance(R, sp.MatrixBase):
        if rel != "==":
            raise SymbolicMFError("matrix-valued sides need relation '=='")
        d = (sp.Matrix(L) - sp.Matrix(R)).applyfunc(lambda e: sp.expand(sp.radsimp(e)))
        return ("PASS", "") if d.is_zero_matrix else ("FAIL", f"lhs - rhs = {_fmt(d)}")
    diff = sp.expand(sp.radsimp(L - R))
    if rel == "==":
        if diff == 0:
            return "PASS", ""
        if diff.is_number and diff.is_zero is False:
            return "FAIL", f"lhs - rhs = {sp.sstr(diff)} = {sp.N(diff, 12)}"
        return "UNKNOWN", "could not decide lhs - rhs = 0"
    op = {"<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt}[rel]
    val = op(diff, 0)
    if val is sp.true:
        return "PASS", ""
    if val is sp.false:
        return "FAIL", f"lhs - rhs = {sp.sstr(diff)} = {sp.N(diff, 12)}"
    return "UNKNOWN", "could not decide the inequality"


def _decide_statistical(rel, L, R):
    (l, sl), (r, sr) = L, R
    se = (sl ** 2 + sr ** 2) ** 0.5
    margin = {"==": -abs(l - r), "<=": r - l, "<": r - l, ">=": l - r, ">": l - r}[rel]
    if rel == "==":
        if abs(l - r) <= PASS_SIGMAS * se:
            return "PASS", ""
        if abs(l - r) > FAIL_SIGMAS * se:
            return "FAIL", f"|lhs - rhs| = {abs(l - r):.4g} > {FAIL_SIGMAS} standard errors ({se:.3g})"
        return "UNKNOWN", f"|lhs - rhs| = {abs(l - r):.4g} between {PASS_SIGMAS} and {FAIL_SIGMAS} standard errors"
    if margin >= -PASS_SIGMAS * se:
        return "PASS", ""
    if margin < -FAIL_SIGMAS * se:
        return "FAIL", f"violated by {-margin:.4g} (> {FAIL_SIGMAS} standard errors, {se:.3g})"
    return "UNKNOWN", "inequality undecided within the sampling error"


def _evaluate(claim: Claim, inst) -> PointResult:
    pt = {k: _fmt(v) for k, v in inst.items() if not k.startswith("_")}
    try:
        L, R = claim.lhs(inst), claim.rhs(inst)
    except (SymbolicMFError, ValueError, ZeroDivisionError, ArithmeticError, TypeError) as e:
        return PointResult(pt, "UNKNOWN", reason=f"could not evaluate: {type(e).__name__}: {e}")
    if claim.statistical:
        status, why = _decide_statistical(claim.relation, L, R)
        return PointResult(pt, status, f"{L[0]:.6g}", f"{R[0]:.6g}", f"{L[1]:.2g}", f"{R[1]:.2g}", None, why)
    status, why = _decide_exact(claim.relation, L, R)
    return PointResult(pt, status, _fmt(L), _fmt(R), "0", "0", None, why)


def _seed(cid: str, seed: int) -> int:
    return zlib.crc32(cid.encode()) ^ (seed * 0x9E3779B1 & 0xFFFFFFFF)


def check_claim(claim: Claim, n: int = 20, seed: int = 0, minimal: bool = True,
                max_small: int = 5000) -> ClaimVerdict:
    """Check ``claim`` on ``n`` seeded admissible instances; return a :class:`ClaimVerdict`.

    On a FAIL, if ``minimal`` and the claim enumerates small instances, the
    counterexample is the first failing one of that enumeration (at most
    ``max_small`` tried).
    """
    if not isinstance(n, int) or n < 1:
        from .errors import DomainError

        raise DomainError("n", n, "integer number of instances n >= 1")
    t0 = time.perf_counter()
    rng = random.Random(_seed(claim.id, seed))
    results: List[PointResult] = []
    tries = 0
    while len(results) < n and tries < 50 * n:
        tries += 1
        inst = claim.sample(rng)
        if claim.admissible is not None and not claim.admissible(inst):
            continue
        r = _evaluate(claim, inst)
        results.append(r)
        if r.status == "FAIL":
            break
    kind = "statistical" if claim.statistical else "exact"
    if not results:
        return ClaimVerdict(claim.id, "UNKNOWN", 0, None, 0, 0, time.perf_counter() - t0,
                            f"{kind}: no instance satisfies the hypotheses")
    fails = [r for r in results if r.status == "FAIL"]
    if fails:
        cex = fails[0]
        if minimal and claim.small is not None:
            for k, inst in enumerate(claim.small()):
                if k >= max_small:
                    break
                if claim.admissible is not None and not claim.admissible(inst):
                    continue
                r = _evaluate(claim, inst)
                if r.status == "FAIL":
                    cex = r
                    break
        return ClaimVerdict(claim.id, "FAIL", len(results), None, 0, 0, time.perf_counter() - t0,
                            f"{kind}: {cex.reason}", cex, results)
    unknown = [r for r in results if r.status == "UNKNOWN"]
    if unknown:
        return ClaimVerdict(claim.id, "UNKNOWN", len(results), None, 0, 0, time.perf_counter() - t0,
                            f"{kind}: {len(unknown)} of {len(results)} instances undecided; first {unknown[0]}",
                            None, results)
    return ClaimVerdict(claim.id, "PASS", len(results), None, 0, 0, time.perf_counter() - t0,
                        f"{kind}", None, results)


class ClaimRegistry:
    """Ordered claims keyed by unique id (duplicates refused).

    >>> reg = ClaimRegistry()
    >>> c = Claim("demo.one", "one", "src", "1 = 1", lambda r: {}, lambda i: 1, lambda i: 1)
    >>> _ = reg.add(c); reg.add(c)
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.DuplicateIdentityError: claim id 'demo.one' is already registered
    """

    def __init__(self):
        self._by_id: Dict[str, Claim] = {}

    def add(self, claim: Claim) -> Claim:
        if claim.id in self._by_id:
            raise DuplicateIdentityError(f"claim id {claim.id!r} is already registered")
        if claim.corrects is not None and claim.corrects not in self._by_id:
            raise UnknownIdentityError(f"claim {claim.id!r} corrects {claim.corrects!r}, which is not registered yet")
        self._by_id[claim.id] = claim
        return claim

    def __getitem__(self, cid: str) -> Claim:
        try:
            return self._by_id[cid]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(cid, list(self._by_id), n=3)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownIdentityError(f"no claim {cid!r}{hint}") from None

    def __contains__(self, cid) -> bool:
        return cid in self._by_id

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self):
        return len(self._by_id)

    def ids(self) -> List[str]:
        return list(self._by_id)

    def filter(self, topic: Optional[str] = None, match: Optional[str] = None) -> List[Claim]:
        out = []
        for c in self:
            if topic is not None and c.topic != topic:
                continue
            if match is not None and match.lower() not in (c.id + " " + c.title).lower():
                continue
            out.append(c)
        return out
