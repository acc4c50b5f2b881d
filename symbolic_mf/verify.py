r"""The verifier: numbers can refute an identity, and only earn a PASS.

For each identity the verifier

1. samples admissible points: per-variable pools of awkward values
   (boundaries first, see :mod:`symbolic_mf.domains`), combined in a seeded
   order that cycles through every pool, filtered by the domains and the
   assumptions; the identity's ``extra_points`` always come first;
2. evaluates both sides at each point with mpmath at the requested
   precision ``dps`` and again at ``check_dps`` (default ``dps + max(10,
   dps//2)``), through :mod:`symbolic_mf.numeric`;
3. decides, per point (raising both precisions step by step, up to
   ``max_dps``, while a side is a definite number but short of the target:
   ill-conditioned closed forms need more working digits, not a verdict):

   * **PASS** if each side agrees with itself across the two precisions and
     the two sides agree at the higher one, all to at least ``digits``
     significant digits (default ``dps - 5``);
   * **FAIL** if both sides are stable (at least 3 digits across precisions)
     and differ by more than 1000 times their combined uncertainty
     (the change between precisions): the point is a counterexample;
   * **UNKNOWN** otherwise (a pole, a divergent or non-converged integral,
     a non-finite value, or agreement short of the target).

The identity's verdict is FAIL if any point fails, PASS only if *every*
sampled point passes (and there is at least one), UNKNOWN otherwise.
mpmath's own error estimates never make a PASS: only agreement between
independent evaluations does.

Values below ``zero_scale * 10**-p`` at precision ``p`` count as zero
(relative agreement is meaningless for an exact zero).

>>> import sympy as sp
>>> from symbolic_mf.identity import Identity
>>> from symbolic_mf.functions import rho, expectation, z
>>> from symbolic_mf.domains import RealInterval
>>> a = sp.Symbol("alpha", real=True)
>>> good = Identity("demo.moment", "second moment of rho_alpha",
...                 expectation(rho(a, z)**2),
...                 2**(a - 1) * sp.gamma(a + sp.S.Half) / sp.sqrt(sp.pi),
...                 {a: RealInterval(-sp.S.Half, 4, right_open=False)})
>>> v = verify(good, points=4)
>>> v.status, v.n_points, v.digits >= 25
('PASS', 4, True)
>>> bad = good.replace(id="demo.moment-wrong", rhs=good.rhs * sp.Rational(1001, 1000))
>>> w = verify(bad, points=4)
>>> w.status, w.counterexample.point
('FAIL', {'alpha': '4'})
"""

from __future__ import annotations

import itertools
import math
import random
import time
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence

import sympy as sp
from mpmath import mp

from .errors import DomainError, PrecisionError, SymbolicMFError
from .identity import Identity
from .numeric import compile_expr, to_mp

__all__ = ["verify", "Verdict", "PointResult", "sample_points", "agreement_digits", "MIN_DPS"]

#: below this many digits the verdict's guarantees are not worth stating
MIN_DPS = 15
#: sides are "stable" if they agree with themselves to this many digits
STABLE_DIGITS = 3
#: a FAIL needs the discrepancy to exceed this multiple of the uncertainty
FAIL_FACTOR = 1000
#: default number of sampled points per identity
DEFAULT_POINTS = 6


def agreement_digits(a, b, floor=0, digits_if_zero=math.inf) -> float:
    r"""Significant digits to which ``a`` and ``b`` agree.

    :math:`-\log_{10}(|a-b| / \max(|a|, |b|))`, ``inf`` if equal.  Two values
    both no larger than ``floor`` are both zero at that resolution: they
    agree to ``digits_if_zero`` digits.

    >>> from mpmath import mpf
    >>> round(agreement_digits(mpf(1), mpf('1.0001')), 2)
    4.0
    >>> agreement_digits(mpf(0), mpf('1e-40'), mpf('1e-30'), 30)
    30
    >>> round(agreement_digits(mpf('1e-32'), mpf('1.0001e-32'), mpf('1e-45')), 2)
    4.0
    """
    if abs(a) <= floor and abs(b) <= floor:
        return digits_if_zero
    diff = abs(a - b)
    if diff == 0:
        return math.inf
    return float(-mp.log10(diff / max(abs(a), abs(b))))


@dataclass
class PointResult:
    """The evaluation of both sides at one point."""

    point: Dict[str, str]
    status: str
    lhs: Optional[str] = None  # values at the highest precision used
    rhs: Optional[str] = None
    lhs_uncertainty: Optional[str] = None
    rhs_uncertainty: Optional[str] = None
    digits: Optional[float] = None
    reason: str = ""
    _ill_conditioned: bool = field(default=False, repr=False)

    def to_dict(self):
        d = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        if d["digits"] is not None and math.isinf(d["digits"]):
            d["digits"] = None
        return d

    def __str__(self):
        pt = ", ".join(f"{k} = {v}" for k, v in self.point.items())
        if self.lhs is None:
            return f"at {pt}: {self.reason}"
        return (
            f"at {pt}: lhs = {self.lhs} (± {self.lhs_uncertainty}), "
            f"rhs = {self.rhs} (± {self.rhs_uncertainty})"
            + (f"; {self.reason}" if self.reason else "")
        )


@dataclass
class Verdict:
    """Outcome of verifying one identity.

    ``status`` is ``"PASS"``, ``"FAIL"`` or ``"UNKNOWN"``; ``digits`` is the
    smallest number of significant digits agreed over all points (capped at
    ``dps``); a FAIL carries its ``counterexample``.
    """

    identity_id: str
    status: str
    n_points: int
    digits: Optional[float]
    dps: int
    check_dps: int
    seconds: float
    reason: str = ""
    counterexample: Optional[PointResult] = None
    points: List[PointResult] = field(default_factory=list)
    rigorous: Optional[object] = None

    @property
    def passed(self) -> bool:
        return self.status == "PASS"

    def summary(self) -> str:
        if self.status == "PASS":
            dig = "exact" if self.digits is None else f">= {int(self.digits)} digits"
            s = (
                f"PASS {self.identity_id}: {self.n_points} points, {dig} "
                f"at dps {self.dps} (checked at {self.check_dps})"
            )
        elif self.status == "FAIL":
            s = f"FAIL {self.identity_id}: counterexample {self.counterexample}"
        else:
            s = f"UNKNOWN {self.identity_id}: {self.reason}"
        if self.rigorous is not None:
            s += f"\n  rigorous: {self.rigorous}"
        return s

    __str__ = summary

    def __repr__(self):
        return f"<Verdict {self.summary()}>"

    def _repr_latex_(self):
        msg = self.summary().replace("_", r"\_").replace("#", r"\#")
        return r"$\text{%s}$" % msg

    def to_dict(self) -> dict:
        return {
            "id": self.identity_id,
            "verdict": self.status,
            "points": self.n_points,
            "digits": None if self.digits is None or math.isinf(self.digits) else round(self.digits, 1),
            "dps": self.dps,
            "check_dps": self.check_dps,
            "seconds": round(self.seconds, 3),
            "reason": self.reason,
            "counterexample": None if self.counterexample is None else self.counterexample.to_dict(),
            "rigorous": None if self.rigorous is None else self.rigorous.to_dict(),
        }


# ---------------------------------------------------------------------------
# Sampling


def _seed_for(identity_id: str, seed: int) -> int:
    return zlib.crc32(identity_id.encode()) ^ (seed * 0x9E3779B1 & 0xFFFFFFFF)


def sample_points(identity: Identity, n: int = DEFAULT_POINTS, seed: int = 0,
                  pools: Optional[Mapping] = None) -> List[Dict[sp.Symbol, sp.Expr]]:
    """Up to ``n`` admissible points for ``identity``, seeded and reproducible.

    Point ``i`` takes entry ``(i + shift_v) mod len(pool_v)`` of each
    variable's pool (a seeded shift per variable; a non-zero seed also
    reorders the values away from the ends), so the first
    ``max(len(pool))`` points visit every awkward value of every variable;
    later rounds use seeded random draws.  ``pools`` may override a
    variable's pool (used for widened-domain mutants).

    >>> import sympy as sp
    >>> from symbolic_mf.identity import Identity
    >>> from symbolic_mf.domains import CORRELATION
    >>> c = sp.Symbol("c")
    >>> pts = sample_points(Identity("demo.c", "c", c, c, {c: CORRELATION}), 4)
    >>> [str(p[c]) for p in pts]
    ['-1', '1', '-134217727/134217728', '134217727/134217728']
    """
    rng = random.Random(_seed_for(identity.id, seed))
    syms = identity.symbols
    out: List[Dict[sp.Symbol, sp.Expr]] = []
    seen = set()

    def offer(pt):
        key = tuple(pt[s] for s in syms)
        if key in seen:
            return
        seen.add(key)
        try:
            ok = identity.admits(pt)
        except (TypeError, ValueError):
            ok = False
        if ok:
            out.append(pt)

    for extra in identity.extra_points:
        pt = {}
        for s in syms:
            val = extra.get(s, extra.get(s.name))
            pt[s] = sp.sympify(val)
        key = tuple(pt[s] for s in syms)
        seen.add(key)
        out.append(pt)  # explicit points are checked even if outside the sampled pools
        if len(out) >= n:
            return out[:n]
    if not syms:
        if not out:
            out.append({})
        return out[:n]
    plist = []
    for s in syms:
        if pools and s in pools:
            pool = list(pools[s])
        else:
            edges, interior = identity.domain_of(s).pool_parts()
            if seed:
                rng.shuffle(interior)  # the seed reorders the interior; edges always come first
            pool = edges + interior
        plist.append(pool)
    shifts = [0] + [rng.randrange(len(p)) for p in plist[1:]]
    span = max(len(p) for p in plist)
    total = 1
    for p in plist:
        total *= len(p)
    i = 0
    # cycle through the pools diagonally, then walk their product in a seeded order
    while len(out) < n and i < span:
        offer({s: p[(i + sh) % len(p)] for s, p, sh in zip(syms, plist, shifts)})
        i += 1
    if len(out) < n and total <= 20000:
        combos = list(itertools.product(*plist))
        rng.shuffle(combos)
        for combo in combos:
            if len(out) >= n:
                break
            offer(dict(zip(syms, combo)))
    tries = 0
    while len(out) < n and tries < 50 * n:
        tries += 1
        offer({s: rng.choice(p) if pools and s in pools else identity.domain_of(s).random(rng, 1)[0]
               for s, p in zip(syms, plist)})
    return out[:n]


# ---------------------------------------------------------------------------
# Evaluation


class _SideEvaluator:
    """Evaluates one side of an identity at a point, at the ambient precision."""

    def __init__(self, identity: Identity, which: str):
        self.recipe = identity.numeric.get(which)
        self.expr = getattr(identity, which)
        self.compiled = None if self.recipe is not None else compile_expr(self.expr)

    def __call__(self, env):
        if self.recipe is not None:
            return self.recipe(env)
        return self.compiled({s: env[s] for s in self.compiled.symbols})


def _env(point, dps):
    with mp.workdps(dps):
        return {s: to_mp(v) for s, v in point.items()}


def _nstr(x, n=20):
    return mp.nstr(x, n)


def _finite(x) -> bool:
    if isinstance(x, mp.mpc):
        return mp.isfinite(x.real) and mp.isfinite(x.imag)
    try:
        return bool(mp.isfinite(x))
    except TypeError:
        return False


def _evaluate_side(ev, point, dps):
    env = _env(point, dps)
    with mp.workdps(dps):
        val = ev(env)
        val = mp.mpmathify(val)
        return +val


_EVAL_ERRORS = (SymbolicMFError, ValueError, ZeroDivisionError, ArithmeticError, TypeError)


def _point_str(point):
    return {s.name: str(v) for s, v in point.items()}


def _check_point(identity, lhs_ev, rhs_ev, point, dps, check_dps, digits, max_dps) -> PointResult:
    """Decide one point, raising the precision while a side is ill-conditioned."""
    pstr = _point_str(point)
    vals = {}

    def value(side, ev, p):
        if (side, p) not in vals:
            vals[side, p] = _evaluate_side(ev, point, p)
        return vals[side, p]

    step = check_dps - dps
    p1, p2 = dps, check_dps
    while True:
        for side, ev in (("lhs", lhs_ev), ("rhs", rhs_ev)):
            for p in (p1, p2):
                try:
                    value(side, ev, p)
                except _EVAL_ERRORS as e:
                    return PointResult(pstr, "UNKNOWN",
                                       reason=f"{side} could not be evaluated: {type(e).__name__}: {e}")
        L1, L2, R1, R2 = vals["lhs", p1], vals["lhs", p2], vals["rhs", p1], vals["rhs", p2]
        for side, val in (("lhs", L1), ("lhs", L2), ("rhs", R1), ("rhs", R2)):
            if not _finite(val):
                return PointResult(pstr, "UNKNOWN", reason=f"{side} is not finite ({val})")
        res = _decide(identity, point, L1, L2, R1, R2, dps, p1, p2, digits)
        # escalate only when a side is stable enough to be a number but
        # short of the target: an ill-conditioned closed form or integrand
        if res.status != "UNKNOWN" or p2 + step > max_dps or not res._ill_conditioned:
            if p2 > check_dps:
                note = f"precision raised to {p2} digits"
                res.reason = f"{res.reason} ({note})" if res.reason else note
            return res
        p1, p2 = p2, p2 + step


def _decide(identity, point, L1, L2, R1, R2, dps, p1, p2, digits) -> PointResult:
    pstr = _point_str(point)
    with mp.workdps(p2 + 10):
        S = mp.mpf(identity.zero_scale)
        floor1 = S * mp.mpf(10) ** (-p1)
        floor2 = S * mp.mpf(10) ** (-p2)
        dL = agreement_digits(L1, L2, floor1, p1)
        dR = agreement_digits(R1, R2, floor1, p1)
        uL, uR = abs(L1 - L2), abs(R1 - R2)
        unc = uL + uR + floor2
        res = PointResult(pstr, "UNKNOWN", _nstr(L2), _nstr(R2), mp.nstr(uL, 3), mp.nstr(uR, 3))
        res._ill_conditioned = STABLE_DIGITS <= min(dL, dR) < digits
        stable = min(dL, dR) >= STABLE_DIGITS
        tol = None
        if identity.tolerance is not None:
            t = identity.tolerance
            env = _env(point, p2)
            with mp.workdps(p2):
                tol = mp.mpf(t(env) if callable(t) else t)
        if identity.relation == "==" and tol is None:
            dLR = agreement_digits(L2, R2, floor2, p2)
            res.digits = min(dLR, dL, dR, float(dps))
            if min(dLR, dL, dR) >= digits:
                res.status = "PASS"
            elif stable and abs(L2 - R2) > FAIL_FACTOR * unc and dLR < digits:
                res.status = "FAIL"
                res.reason = f"sides agree to only {max(dLR, 0):.1f} digits"
            else:
                res.reason = (
                    f"agreement short of {digits} digits (sides {dLR:.1f}, "
                    f"lhs across precisions {dL:.1f}, rhs {dR:.1f})"
                )
                # a closed form that cancels is unstable, or sits below the
                # zero floor and looks stable: more working digits decide it
                # (an integral that cannot converge raises instead)
                res._ill_conditioned = True
            return res
        if identity.relation == "==":
            gap = abs(L2 - R2)
            res.digits = min(dL, dR, float(dps))
            # a statement that holds to a stated tolerance (a certified series) needs each side
            # settled well inside that tolerance (uncertainty <= tol/100), not to `digits` digits
            settled = min(dL, dR) >= digits or 100 * (uL + uR) <= tol
            if not stable or not settled:
                res.reason = f"sides not stable to {digits} digits (nor to 1/100 of the tolerance)"
            elif gap <= tol + unc:
                res.status = "PASS"
            elif gap > tol + FAIL_FACTOR * unc:
                res.status = "FAIL"
                res.reason = f"|lhs - rhs| = {mp.nstr(gap, 5)} exceeds the stated tolerance {mp.nstr(tol, 5)}"
            return res
        # inequalities: margin >= 0 means the statement holds (tolerance added as slack)
        margin = (R2 - L2) if identity.relation in ("<=", "<") else (L2 - R2)
        if isinstance(margin, mp.mpc):
            res.reason = "inequality between complex values"
            return res
        margin += tol or 0
        res.digits = min(dL, dR, float(dps))
        strict = identity.relation in ("<", ">")
        if not stable:
            res.reason = "sides not stable across precisions"
        elif margin > unc or (not strict and margin >= -unc):
            res.status = "PASS"
        elif margin < -FAIL_FACTOR * unc:
            res.status = "FAIL"
            res.reason = f"violated by {mp.nstr(-margin, 5)}"
        else:
            res.reason = "inequality undecided within the numerical uncertainty"
        return res


def _check_point_exact(identity, point) -> PointResult:
    pstr = _point_str(point)
    try:
        L = identity.lhs.subs(point).doit()
        R = identity.rhs.subs(point).doit()
        if identity.relation == "==":
            diff = sp.simplify(L - R)
            zero = diff.is_zero_matrix if hasattr(diff, "is_zero_matrix") else diff == 0
            if zero:
                return PointResult(pstr, "PASS", sp.sstr(L)[:200], sp.sstr(R)[:200], "0", "0", None)
            num = sp.N(diff, 30)
            if hasattr(num, "norm"):
                num = num.norm()
            if num != 0 and num.is_number and abs(num) > sp.Float("1e-25"):
                return PointResult(pstr, "FAIL", sp.sstr(L)[:200], sp.sstr(R)[:200], "0", "0", None,
                                   f"lhs - rhs = {sp.sstr(diff)[:200]}")
            return PointResult(pstr, "UNKNOWN", sp.sstr(L)[:200], sp.sstr(R)[:200], reason="could not decide lhs - rhs = 0")
        rel = identity.statement().func(L, R)
        if rel is sp.true:
            return PointResult(pstr, "PASS", sp.sstr(L), sp.sstr(R), "0", "0", None)
        if rel is sp.false:
            return PointResult(pstr, "FAIL", sp.sstr(L), sp.sstr(R), "0", "0", None, "inequality violated")
        return PointResult(pstr, "UNKNOWN", sp.sstr(L), sp.sstr(R), reason="could not decide the inequality")
    except _EVAL_ERRORS as e:
        return PointResult(pstr, "UNKNOWN", reason=f"exact evaluation failed: {type(e).__name__}: {e}")


def verify(
    identity: Identity,
    dps: int = 30,
    points: Optional[int] = None,
    seed: int = 0,
    digits: Optional[int] = None,
    check_dps: Optional[int] = None,
    rigorous: bool = False,
    pools: Optional[Mapping] = None,
    stop_on_fail: bool = True,
    max_dps: Optional[int] = None,
) -> Verdict:
    """Check ``identity`` numerically; return a :class:`Verdict`.

    Parameters
    ----------
    dps : int
        Working precision in decimal digits (at least 15).
    points : int
        Number of sampled points (default 6).
    seed : int
        Sampling seed (combined with the identity's id).
    digits : int
        Digits both sides must agree to for a PASS (default ``dps - 5``).
    check_dps : int
        The second, higher precision (default ``dps + max(10, dps // 2)``).
    rigorous : bool
        Also run the ball-arithmetic referee (:mod:`symbolic_mf.rigorous`,
        needs python-flint) at the same points: disjoint enclosures turn the
        verdict into FAIL; its findings are in ``Verdict.rigorous``.
    pools : mapping
        Override the sampling pool of some variables.
    max_dps : int
        Where a side is stable but short of ``digits`` (an ill-conditioned
        closed form, e.g. a cancellation near c = -1), both precisions are
        raised step by step up to this (default ``3 * dps``).

    Leaves ``mp.dps`` as it found it.
    """
    if not _is_int(dps) or dps < MIN_DPS:
        raise PrecisionError("dps", dps, f"an integer dps >= {MIN_DPS}")
    digits = dps - 5 if digits is None else digits
    if not _is_int(digits) or not 1 <= digits <= dps:
        raise PrecisionError("digits", digits, f"an integer 1 <= digits <= dps = {dps}")
    check_dps = dps + max(10, dps // 2) if check_dps is None else check_dps
    if not _is_int(check_dps) or check_dps <= dps:
        raise PrecisionError("check_dps", check_dps, f"an integer check_dps > dps = {dps}")
    max_dps = 3 * dps if max_dps is None else max_dps
    if not _is_int(max_dps) or max_dps < check_dps:
        raise PrecisionError("max_dps", max_dps, f"an integer max_dps >= check_dps = {check_dps}")
    n = DEFAULT_POINTS if points is None else points
    if not _is_int(n) or n < 1:
        raise DomainError("points", n, "an integer number of points >= 1")
    if not _is_int(seed):
        raise DomainError("seed", seed, "an integer seed")
    if rigorous:
        from .rigorous import require_flint  # fail before any work if python-flint is missing

        require_flint()
    t0 = time.perf_counter()
    saved = mp.prec
    try:
        pts = sample_points(identity, n, seed, pools)
        if not pts:
            return Verdict(identity.id, "UNKNOWN", 0, None, dps, check_dps,
                           time.perf_counter() - t0, "no admissible point exists in the sampled pools")
        results: List[PointResult] = []
        if identity.exact:
            for pt in pts:
                results.append(_check_point_exact(identity, pt))
                if results[-1].status == "FAIL" and stop_on_fail:
                    break
        else:
            try:
                lhs_ev = _SideEvaluator(identity, "lhs")
                rhs_ev = _SideEvaluator(identity, "rhs")
            except _EVAL_ERRORS as e:
                return Verdict(identity.id, "UNKNOWN", 0, None, dps, check_dps,
                               time.perf_counter() - t0, f"cannot compile: {type(e).__name__}: {e}")
            for pt in pts:
                r = _check_point(identity, lhs_ev, rhs_ev, pt, dps, check_dps, digits, max_dps)
                results.append(r)
                if r.status == "FAIL" and stop_on_fail:
                    break
        verdict = _aggregate(identity, results, dps, check_dps, time.perf_counter() - t0)
        if rigorous:
            from .rigorous import referee  # optional dependency

            verdict.rigorous = referee(identity, pts, dps=dps)
            if verdict.rigorous.refutes:
                verdict.status = "FAIL"
                verdict.counterexample = verdict.rigorous.counterexample
            verdict.seconds = time.perf_counter() - t0
        return verdict
    finally:
        mp.prec = saved


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _aggregate(identity, results, dps, check_dps, seconds) -> Verdict:
    fails = [r for r in results if r.status == "FAIL"]
    unknown = [r for r in results if r.status == "UNKNOWN"]
    digs = [r.digits for r in results if r.digits is not None]
    dmin = min(digs) if digs else None
    if fails:
        return Verdict(identity.id, "FAIL", len(results), dmin, dps, check_dps, seconds,
                       fails[0].reason, fails[0], results)
    if unknown:
        reason = f"{len(unknown)} of {len(results)} points undecided; first {unknown[0]}"
        return Verdict(identity.id, "UNKNOWN", len(results), dmin, dps, check_dps, seconds,
                       reason, None, results)
    return Verdict(identity.id, "PASS", len(results), dmin, dps, check_dps, seconds, "", None, results)
