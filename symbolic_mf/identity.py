r"""An identity is data.

An :class:`Identity` records a stable id, a title, the two sides as SymPy
expressions kept unevaluated (so LaTeX shows the paper's form), the free
variables with their domains, the assumptions under which it holds,
references, topics, the engine that derived it, and optionally numeric
recipes for sides that need bespoke quadrature.

Sides may be given lazily (a zero-argument callable): an identity derived by
an engine is only derived when a side is first needed, not when the
catalogue is listed.

>>> import sympy as sp
>>> from symbolic_mf.functions import rho, expectation, z
>>> from symbolic_mf.domains import RealInterval
>>> a = sp.Symbol("alpha", real=True)
>>> idy = Identity(
...     id="example.rho-second-moment",
...     title="Second moment of the rectified power",
...     lhs=expectation(rho(a, z)**2),
...     rhs=2**(a - 1) * sp.gamma(a + sp.S.Half) / sp.sqrt(sp.pi),
...     variables={a: RealInterval(-sp.S.Half, 8, right_open=False)},
...     references=["Cho & Saul (2009), eq. (3)"],
...     topics=["gaussian"],
... )
>>> idy
Identity('example.rho-second-moment')
>>> print(idy.latex())
\mathbb{E}_{z \sim \mathcal{N}(0, 1)}\left[\rho_{\alpha}\left(z\right)^{2}\right] = \frac{2^{\alpha - 1} \Gamma\left(\alpha + \frac{1}{2}\right)}{\sqrt{\pi}} \qquad \left(\alpha \in \left(- \frac{1}{2}, 8\right]\right)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import sympy as sp

from .domains import Domain, IntegerRange, RealInterval
from .errors import DomainError

__all__ = ["Identity", "Variable", "RELATIONS"]

#: relations an identity may state between its sides
RELATIONS = ("==", "<=", "<", ">=", ">")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._\-]*$")

Side = Union[sp.Expr, Callable[[], sp.Expr]]


@dataclass(frozen=True)
class Variable:
    """A free variable of an identity and the domain it ranges over."""

    symbol: sp.Symbol
    domain: Domain

    @property
    def name(self) -> str:
        return self.symbol.name


def _domain_latex(sym, dom: Domain) -> str:
    s = sp.latex(sym)
    if isinstance(dom, IntegerRange):
        if dom.hi is None:
            return r"%s \in \mathbb{Z}_{\ge %d}" % (s, dom.lo)
        return r"%s \in \{%d, \ldots, %d\}" % (s, dom.lo, dom.hi)
    if isinstance(dom, RealInterval):
        if dom.lo == -sp.oo and dom.hi == sp.oo:
            return r"%s \in \mathbb{R}" % s
        return r"%s \in \left%s%s, %s\right%s" % (
            s,
            "(" if dom.left_open else "[",
            sp.latex(dom.lo),
            sp.latex(dom.hi),
            ")" if dom.right_open else "]",
        )
    return r"%s \in %s" % (s, str(dom))


class Identity:
    """A mathematical statement ``lhs REL rhs`` with everything needed to check it.

    Parameters
    ----------
    id : str
        Stable, unique id (lower case, digits, ``.``, ``-``, ``_``).
    title : str
        One line in words.
    lhs, rhs : sympy.Expr or callable
        The sides, unevaluated; a zero-argument callable is called (once)
        when the side is first needed.
    variables : mapping or sequence of (Symbol, Domain)
        Free variables and their domains, in a stable order.
    assumptions : sequence of SymPy booleans
        Extra conditions on the variables (e.g. ``Ne(j, k)``).
    references : sequence of str
        Paper, section, equation.
    topics : sequence of str
        Topic views this identity appears in (first is primary).
    method : str, optional
        The engine that derived the right side (``None`` for a reference
        identity from the literature).
    relation : str
        One of ``==``, ``<=``, ``<``, ``>=``, ``>``.
    numeric : mapping, optional
        ``{"lhs": f, "rhs": g}`` with ``f(env) -> mpmath number`` evaluating a
        side at the ambient mpmath precision, where ``env`` maps each
        variable's Symbol to an mpmath number.  Overrides the generic
        evaluator for that side.
    tolerance : callable or number, optional
        For statements that hold only to a certified accuracy: the verifier
        accepts ``|lhs - rhs| <= tolerance`` (a callable receives ``env``).
    zero_scale : number
        Absolute scale below which a value counts as zero (default 1).
    exact : bool
        Check by exact SymPy evaluation at rational sample points.
    extra_points : sequence of mappings
        Points always checked in addition to sampled ones.
    notes : str
        Free text (misprints found, conventions).
    """

    def __init__(
        self,
        id: str,
        title: str,
        lhs: Side,
        rhs: Side,
        variables: Union[Mapping, Sequence[Tuple[sp.Symbol, Domain]]] = (),
        assumptions: Sequence = (),
        references: Sequence[str] = (),
        topics: Sequence[str] = (),
        method: Optional[str] = None,
        relation: str = "==",
        numeric: Optional[Mapping[str, Callable]] = None,
        tolerance=None,
        zero_scale=1,
        exact: bool = False,
        extra_points: Sequence[Mapping] = (),
        notes: str = "",
    ):
        if not isinstance(id, str) or not _ID_RE.match(id):
            raise DomainError("id", repr(id), f"lower case letters, digits, '.', '-', '_' ({_ID_RE.pattern})")
        if relation not in RELATIONS:
            raise DomainError("relation", repr(relation), f"one of {', '.join(RELATIONS)}")
        self.id = id
        self.title = title
        self._lhs = lhs
        self._rhs = rhs
        pairs = list(variables.items()) if isinstance(variables, Mapping) else list(variables)
        self.variables: Tuple[Variable, ...] = tuple(
            p if isinstance(p, Variable) else Variable(*p) for p in pairs
        )
        self.assumptions = tuple(sp.sympify(a) for a in assumptions)
        self.references = tuple(references)
        self.topics = tuple(topics)
        self.method = method
        self.relation = relation
        self.numeric = dict(numeric or {})
        for k in self.numeric:
            if k not in ("lhs", "rhs"):
                raise ValueError(f"numeric recipes are keyed 'lhs' or 'rhs', got {k!r}")
        self.tolerance = tolerance
        self.zero_scale = zero_scale
        self.exact = exact
        self.extra_points = tuple(dict(p) for p in extra_points)
        self.notes = notes

    # -- sides ---------------------------------------------------------------
    def _side(self, name):
        val = getattr(self, "_" + name)
        if callable(val) and not isinstance(val, sp.Basic):
            val = sp.sympify(val())
            setattr(self, "_" + name, val)
        return val

    @property
    def lhs(self) -> sp.Expr:
        """Left side (derived on first access if given lazily)."""
        return self._side("lhs")

    @property
    def rhs(self) -> sp.Expr:
        """Right side (derived on first access if given lazily)."""
        return self._side("rhs")

    @property
    def symbols(self) -> Tuple[sp.Symbol, ...]:
        return tuple(v.symbol for v in self.variables)

    def domain_of(self, name) -> Domain:
        for v in self.variables:
            if v.symbol == name or v.name == str(name):
                return v.domain
        raise KeyError(name)

    def undeclared_symbols(self):
        """Free symbols of the sides that are not declared variables."""
        declared = set(self.symbols)
        return (self.lhs.free_symbols | self.rhs.free_symbols) - declared

    def admits(self, point: Mapping) -> bool:
        """True if ``point`` lies in every domain and satisfies the assumptions."""
        for v in self.variables:
            if not v.domain.contains(point[v.symbol]):
                return False
        subs = {v.symbol: point[v.symbol] for v in self.variables}
        for a in self.assumptions:
            val = a.subs(subs)
            if val is not sp.true and val is not True:
                return False
        return True

    # -- presentation --------------------------------------------------------
    def statement(self):
        """The identity as an unevaluated SymPy relational."""
        op = {"==": sp.Eq, "<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt}[self.relation]
        return op(self.lhs, self.rhs, evaluate=False)

    def conditions_latex(self) -> str:
        parts = [_domain_latex(v.symbol, v.domain) for v in self.variables]
        parts += [sp.latex(a) for a in self.assumptions]
        return r",\ ".join(parts)

    def latex(self, conditions: bool = True) -> str:
        """LaTeX of the statement, with its conditions as a side condition."""
        rel = {"==": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}[self.relation]
        tex = "%s %s %s" % (sp.latex(self.lhs), rel, sp.latex(self.rhs))
        cond = self.conditions_latex()
        if conditions and cond:
            tex += r" \qquad \left(%s\right)" % cond
        return tex

    def _repr_latex_(self):
        return "$$%s$$" % self.latex()

    def __repr__(self):
        return f"Identity({self.id!r})"

    def describe(self) -> str:
        """Plain-text description (used by ``symbolic-mf show``)."""
        lines = [f"{self.id}: {self.title}"]
        lines.append(f"  {sp.sstr(self.lhs)}  {self.relation}  {sp.sstr(self.rhs)}")
        for v in self.variables:
            lines.append(f"  {v.name} in {v.domain}")
        for a in self.assumptions:
            lines.append(f"  assuming {a}")
        if self.method:
            lines.append(f"  derived by: {self.method}")
        for r in self.references:
            lines.append(f"  ref: {r}")
        if self.topics:
            lines.append(f"  topics: {', '.join(self.topics)}")
        if self.notes:
            lines.append(f"  note: {self.notes}")
        return "\n".join(lines)

    # -- variation (for mutation testing and user edits) ---------------------
    def replace(self, **changes) -> "Identity":
        """A copy with some fields changed (sides resolved first).

        >>> import sympy as sp
        >>> x = sp.Symbol("x")
        >>> i = Identity("t.one", "t", x, x, {x: RealInterval()})
        >>> i.replace(id="t.two", rhs=2 * x).rhs
        2*x
        """
        fields = dict(
            id=self.id,
            title=self.title,
            lhs=self.lhs,
            rhs=self.rhs,
            variables=self.variables,
            assumptions=self.assumptions,
            references=self.references,
            topics=self.topics,
            method=self.method,
            relation=self.relation,
            numeric=self.numeric,
            tolerance=self.tolerance,
            zero_scale=self.zero_scale,
            exact=self.exact,
            extra_points=self.extra_points,
            notes=self.notes,
        )
        fields.update(changes)
        return Identity(**fields)
