r"""A record of the steps an engine took: what it did, and the SymPy result of each step.

Every engine returns a :class:`Derivation`; export and the docs print it.

>>> import sympy as sp
>>> d = Derivation("demo", "relu")
>>> d.add("a Gamma integral", sp.gamma(sp.Rational(3, 2)))
>>> d.result = sp.sqrt(sp.pi) / 2
>>> print(d.markdown().splitlines()[0])
### demo: relu
>>> len(d.steps)
1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import sympy as sp

__all__ = ["Derivation"]


@dataclass
class Derivation:
    """Steps ``[(description, sympy expression), ...]`` of one derivation, and its result.

    ``method`` names the engine (``"hermite"``, ``"polar"``, ``"bessel"``),
    ``subject`` what was derived (e.g. the activation's name), ``seconds``
    the wall time the engine took.
    """

    method: str
    subject: str
    steps: List[Tuple[str, sp.Basic]] = field(default_factory=list)
    result: Optional[sp.Basic] = None
    seconds: float = 0.0

    def add(self, description: str, expr) -> None:
        """Record one step (``expr`` is kept as a SymPy object)."""
        self.steps.append((description, sp.sympify(expr)))

    def markdown(self) -> str:
        """The steps as Markdown with ``$$`` LaTeX display maths."""
        lines = [f"### {self.method}: {self.subject}", ""]
        for i, (desc, expr) in enumerate(self.steps, 1):
            lines += [f"{i}. {desc}", "", "$$" + sp.latex(expr) + "$$", ""]
        if self.result is not None:
            lines += ["Result:", "", "$$" + sp.latex(self.result) + "$$", ""]
        lines.append(f"_derived in {self.seconds:.2f} s_")
        return "\n".join(lines)

    def __str__(self):
        out = [f"{self.method}: {self.subject}"]
        for i, (desc, expr) in enumerate(self.steps, 1):
            out.append(f"  {i}. {desc}: {sp.sstr(expr)}")
        if self.result is not None:
            out.append(f"  => {sp.sstr(self.result)}")
        return "\n".join(out)
