r"""The record of what an engine did: named steps, each a statement and a SymPy expression.

>>> from sympy import Symbol, gamma
>>> d = Derivation("example")
>>> k = Symbol("k")
>>> _ = d.step("Gamma at an integer", gamma(k + 1), lhs=Symbol("a_k"))
>>> print(d.markdown())  # doctest: +NORMALIZE_WHITESPACE
### example
1. Gamma at an integer
$$a_{k} = \Gamma\left(k + 1\right)$$
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import sympy as sp

__all__ = ["Derivation", "Step"]


@dataclass
class Step:
    """One step: what was done (words), and what it gave (``lhs = expr``)."""

    text: str
    expr: sp.Basic
    lhs: Optional[sp.Basic] = None

    def latex(self) -> str:
        rhs = sp.latex(self.expr)
        return rhs if self.lhs is None else f"{sp.latex(self.lhs)} = {rhs}"


@dataclass
class Derivation:
    """An ordered list of :class:`Step` taken by a named method."""

    method: str
    steps: List[Step] = field(default_factory=list)

    def step(self, text: str, expr, lhs=None):
        """Record a step and return ``expr`` (so engines can chain)."""
        self.steps.append(Step(text, sp.sympify(expr), None if lhs is None else sp.sympify(lhs)))
        return expr

    @property
    def result(self):
        """The expression of the last step."""
        return self.steps[-1].expr if self.steps else None

    def latex(self) -> str:
        """An ``aligned`` LaTeX fragment, one line per step with its words as a ``\\text`` tag."""
        lines = []
        for s in self.steps:
            body = s.latex()
            lines.append(r"&\text{%s:} && %s" % (s.text.replace("%", r"\%"), body))
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def markdown(self) -> str:
        """Markdown with ``$$`` display maths, one numbered step each."""
        out = [f"### {self.method}"]
        for i, s in enumerate(self.steps, 1):
            out.append(f"{i}. {s.text}")
            out.append(f"$${s.latex()}$$")
        return "\n".join(out)
