r"""Orthogonalisation by rescaling-only BN (Daneshmand, Joudaki, Bach, NeurIPS 2021).

Right sides derived by SymPy in :mod:`symbolic_mf.orthogonal`; left sides by
independent numeric routes: an angular integral for the two-sample moment,
and ``mpmath.diff`` of the quadrature form of the infinite-width spectral map
for the contraction rate.
"""

from __future__ import annotations

import sympy as sp
from mpmath import mp

from ..domains import IntegerRange, RealInterval
from ..errors import DomainError
from ..identity import Identity

TOPIC = "orthogonal"
DJB = "Daneshmand, Joudaki, Bach (2021), Batch normalization orthogonalizes representations in deep random networks, NeurIPS"

l1, l2 = sp.symbols("lambda1 lambda2", positive=True)
th = sp.Symbol("theta", real=True)
n = sp.Symbol("n", integer=True, positive=True)


def register(reg):
    from ..orthogonal import contraction_rate_symbolic, two_point_closed_form

    add = reg.add
    add(Identity(
        "orthogonal.two-sample-moment",
        "E[r1^2/||r||^2] for r ~ N(0, diag(l1, l2)): angular integral = SymPy's value of the t-integral",
        2 * sp.Integral(l1 * sp.cos(th) ** 2 / (l1 * sp.cos(th) ** 2 + l2 * sp.sin(th) ** 2), (th, 0, sp.pi / 2)) / sp.pi,
        lambda: two_point_closed_form(),
        {l1: RealInterval(sp.Rational(1, 10), 10, left_open=False, right_open=False, sharp="none"),
         l2: RealInterval(sp.Rational(1, 10), 10, left_open=False, right_open=False, sharp="none")},
        references=[DJB + ", expectation of the next layer's Gram matrix (reading)"],
        topics=[TOPIC],
        method="schwinger",
        notes="lhs: r = (sqrt(l1) z1, sqrt(l2) z2); the ratio depends only on the angle of (z1, z2) ~ N(0, I), "
              "which is uniform.",
    ))
    eps, t = sp.Symbol("epsilon", real=True), sp.Symbol("t", positive=True)
    F = n * (1 + eps) / (1 + 2 * t * (1 + eps)) * (1 + 2 * t * (1 + eps)) ** sp.Rational(-1, 2) \
        * (1 + 2 * t * (1 - eps)) ** sp.Rational(-1, 2) * (1 + 2 * t) ** (-(n - 2) / 2)
    add(Identity(
        "orthogonal.contraction-rate",
        "Infinite-width rescaling-only BN chain: derivative of the spectral map at C = I on traceless directions = n/(n+2)",
        sp.Integral(sp.diff(F, eps).subs(eps, 0), (t, 0, sp.oo)),
        lambda: contraction_rate_symbolic()[0].subs(sp.Symbol("n", positive=True), n),
        {n: IntegerRange(2, 40, sharp="none")},   # the formula continues to n > -2
        references=[DJB + ", contraction of the orthogonality gap (rate derived here)"],
        topics=[TOPIC],
        method="schwinger",
        notes="lhs: quadrature of d/de at e = 0 of n int l_1/(1+2t l_1) prod_k (1+2t l_k)^(-1/2), "
              "l = (1+e, 1-e, 1, ..., 1); rhs: SymPy's Gamma-function evaluation for symbolic n.",
    ))
