"""The Mehler-Dirichlet form of the rectified-power kernel, step by step.

Derives k_beta(c) = E[rho_beta(u) rho_beta(v)] (unit variances, correlation
c = cos(theta)) from the polar route to a single 2F1 whose terms are all
positive for c <= 0 -- the form symbolic_mf.export uses near c = -1.  Every
step is an unevaluated SymPy expression; each is evaluated numerically at
beta = 7/3, c = -3/5 (mpmath, 30 digits) and must agree with the previous one
and with the quadrature of HomogeneousActivation.kernel_numeric.  Writes
docs/derivations/mehler_dirichlet.md (Markdown with $$ LaTeX).

    PYTHONPATH=$PWD python derivations/mehler_dirichlet.py
"""

import os

import mpmath
import sympy as sp

from symbolic_mf.activations import HomogeneousActivation
from symbolic_mf.export.latex import derivation_latex, derivation_markdown

beta, c, psi, t, phi = sp.symbols("beta c psi t phi", real=True)
theta = sp.acos(c)
delta = (sp.pi - theta) / 2
pre = 2 ** beta * sp.gamma(beta + 1) / (2 * sp.pi)
I = lambda f, v, lo, hi: sp.Integral(f, (v, lo, hi))  # noqa: E731

steps = [
    ("polar route: (u, v) = r (cos psi, cos(psi - theta)), radial integral is a Gamma function",
     pre * I(sp.cos(psi) ** beta * sp.cos(psi - theta) ** beta, psi, theta - sp.pi / 2, sp.pi / 2)),
    ("symmetrise, psi = theta/2 + t; cos(theta/2 + t) cos(t - theta/2) = (cos 2t - cos 2 delta)/2",
     pre * 2 ** -beta * I((sp.cos(2 * t) - sp.cos(2 * delta)) ** beta, t, -delta, delta)),
    ("phi = 2t; the Mehler-Dirichlet integral of P^{-beta-1/2}_{-1/2}(cos 2 delta), cos 2 delta = -c (DLMF 14.12.1)",
     pre * 2 ** -beta * I((sp.cos(phi) + c) ** beta, phi, 0, sp.pi - theta)),
    ("Legendre function as 2F1 (DLMF 14.3.1)",
     sp.gamma(beta + 1) ** 2 / (sp.sqrt(8 * sp.pi) * sp.gamma(beta + sp.Rational(3, 2)))
     * (1 + c) ** (beta + sp.S.Half) * sp.hyper([sp.S.Half, sp.S.Half], [beta + sp.Rational(3, 2)], (1 + c) / 2)),
]


def value(expr, b, cv):
    e = expr.subs({beta: b, c: cv})
    with mpmath.workdps(30):
        if e.has(sp.Integral):
            integ = e.atoms(sp.Integral).pop()
            (v, lo, hi), = integ.limits
            f = sp.lambdify(v, integ.function, "mpmath")
            val = mpmath.quad(f, [mpmath.mpf(sp.N(lo, 40)), mpmath.mpf(sp.N(hi, 40))])
            return mpmath.mpf(sp.N(e.subs(integ, sp.Symbol("_I")).subs(sp.Symbol("_I"), 1), 40)) * val
        return mpmath.mpf(sp.N(e, 40))


def main():
    b, cv = sp.Rational(7, 3), sp.Rational(-3, 5)
    with mpmath.workdps(30):
        quad = HomogeneousActivation(b).kernel_numeric(cv, dps=30)
    lines = []
    for why, expr in steps:
        val = value(expr, b, cv)
        agree = -mpmath.log10(abs(val - quad) / abs(quad)) if val != quad else 30
        lines.append(f"- {why}: {mpmath.nstr(val, 20)} ({float(agree):.0f} digits agree with quadrature)")
        assert agree > 20, (why, val, quad)
    lhs = sp.Function("k_beta")(c)
    md = derivation_markdown(steps, lhs=lhs, title="Mehler-Dirichlet form of the rectified-power kernel")
    md += ("\n### As an aligned block\n\n$$\n" + derivation_latex(steps, lhs=lhs) + "\n$$\n"
           + "\n### Numerical check at beta = 7/3, c = -3/5 (mpmath, 30 digits; quadrature "
           + f"{mpmath.nstr(quad, 20)})\n\n" + "\n".join(lines) + "\n")
    out = os.path.join(os.path.dirname(__file__), "..", "docs", "derivations", "mehler_dirichlet.md")
    with open(out, "w") as fh:
        fh.write(md)
    print("\n".join(lines))
    print(f"wrote {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
