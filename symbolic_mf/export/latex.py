r"""LaTeX as a paper prints it: identities, expressions and whole derivations.

Γ as ``\Gamma``, ₂F₁ as :math:`{}_2F_1\left(\begin{matrix}a, b\\ c\end{matrix}\middle| z\right)`,
``\arccos`` (not ``\operatorname{acos}``), an identity's domains and
assumptions as a side condition, and a derivation (the ``(description,
expression)`` steps an engine records) as an ``aligned`` block or as Markdown
with ``$$``.

>>> import sympy as sp
>>> c = sp.Symbol("c")
>>> print(to_latex(sp.acos(c)), to_latex(sp.gamma(c)))
\arccos{\left(c \right)} \Gamma\left(c\right)
>>> print(to_latex(sp.hyper([1, 2], [3], c**2)))
{}_{2}F_{1}\left(\begin{matrix} 1, 2 \\ 3 \end{matrix}\middle| c^{2} \right)
>>> steps = [("Hermite series", sp.Sum(c**sp.Symbol("k"), (sp.Symbol("k"), 0, sp.oo))), ("sum", 1 / (1 - c))]
>>> print(derivation_latex(steps, lhs=sp.Symbol("K")))
\begin{aligned}
K &= \sum_{k=0}^{\infty} c^{k} && \text{(Hermite series)} \\
&= \frac{1}{1 - c} && \text{(sum)}
\end{aligned}
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import sympy as sp
from sympy.printing.latex import LatexPrinter

__all__ = ["KernelLatexPrinter", "to_latex", "identity_latex", "derivation_latex", "derivation_markdown"]


class KernelLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the conventions of the mean-field papers."""

    def __init__(self, settings=None):
        settings = dict(settings or {})
        settings.setdefault("inv_trig_style", "full")
        super().__init__(settings)

    def _print_gamma(self, expr, exp=None):
        tex = r"\Gamma\left(%s\right)" % self._print(expr.args[0])
        return tex if exp is None else r"%s^{%s}" % (tex, exp)

    def _print_hyper(self, expr, exp=None):
        ap = ", ".join(self._print(t) for t in expr.ap)
        bq = ", ".join(self._print(t) for t in expr.bq)
        tex = r"{}_{%d}F_{%d}\left(\begin{matrix} %s \\ %s \end{matrix}\middle| %s \right)" % (
            len(expr.ap), len(expr.bq), ap, bq, self._print(expr.argument))
        return tex if exp is None else r"{%s}^{%s}" % (tex, exp)


def to_latex(expr, **settings) -> str:
    """LaTeX of a SymPy expression (kept unevaluated) with the papers' notation."""
    return KernelLatexPrinter(settings).doprint(expr)


_REL = {"==": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}


def identity_latex(identity, conditions: bool = True, display: bool = False) -> str:
    r"""An :class:`~symbolic_mf.identity.Identity` as ``lhs = rhs \qquad (conditions)``.

    >>> import sympy as sp
    >>> from symbolic_mf.identity import Identity
    >>> from symbolic_mf.domains import RealInterval
    >>> a = sp.Symbol("alpha")
    >>> idy = Identity("t.g", "t", sp.gamma(a + 1), a * sp.gamma(a), {a: RealInterval(0, sp.oo, left_open=True)})
    >>> print(identity_latex(idy))
    \Gamma\left(\alpha + 1\right) = \alpha \Gamma\left(\alpha\right) \qquad \left(\alpha \in \left(0, \infty\right)\right)
    """
    tex = "%s %s %s" % (to_latex(identity.lhs), _REL[identity.relation], to_latex(identity.rhs))
    cond = identity.conditions_latex()
    if conditions and cond:
        tex += r" \qquad \left(%s\right)" % cond
    return r"\begin{equation}" + "\n" + tex + "\n" + r"\end{equation}" if display else tex


_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "{": r"\{",
                 "}": r"\}", "^": r"\^{}", "~": r"\~{}", "$": r"\$"}


def _text(s: str) -> str:
    """Plain words for ``\\text{...}`` (TeX's special characters escaped)."""
    return "".join(_TEXT_ESCAPES.get(ch, ch) for ch in s)


def derivation_latex(steps: Sequence[Tuple[str, sp.Expr]], lhs: Optional[sp.Expr] = None, **settings) -> str:
    """An ``aligned`` block: ``lhs &= step_1 && (why) \\\\ &= step_2 ...`` (printer ``settings`` as in :func:`to_latex`)."""
    lines = []
    for i, (why, expr) in enumerate(steps):
        head = (to_latex(lhs, **settings) + " " if (i == 0 and lhs is not None) else "") + "&= "
        lines.append(head + to_latex(expr, **settings) + r" && \text{(%s)}" % _text(why))
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


def derivation_markdown(steps: Sequence[Tuple[str, sp.Expr]], lhs: Optional[sp.Expr] = None,
                        title: str = "Derivation") -> str:
    """Markdown: a numbered list of the steps in words, each with its formula in ``$$``.

    >>> import sympy as sp
    >>> print(derivation_markdown([("start", sp.gamma(sp.Symbol("a")))], title="T"))
    ## T
    <BLANKLINE>
    1. start
    <BLANKLINE>
    $$\\Gamma\\left(a\\right)$$
    <BLANKLINE>
    """
    out = [f"## {title}", ""]
    for i, (why, expr) in enumerate(steps, 1):
        tex = to_latex(expr)
        if lhs is not None:
            tex = to_latex(lhs) + " = " + tex
        out += [f"{i}. {why}", "", f"$${tex}$$", ""]
    return "\n".join(out)
