r"""Kernels of ELU by the orthant engine, checked against a kink-aware quadrature.

Right sides are engine output (:mod:`symbolic_mf.engines.orthant`, derived
lazily on first use): sums of tilted orthant probabilities
:math:`e^{Q/2}\Phi_2(h, k; \pm\rho)` and elementary terms.  Left sides are
the Gaussian expectations they claim to equal, for variances ``q1``, ``q2``
and correlation ``r`` (covariance :math:`r\sqrt{q_1q_2}`), evaluated by
:func:`symbolic_mf.kink_quadrature.kink_pair_expectation` from ELU's
definition on the two half-lines (a 1-D quadrature over closed-form inner
integrals, never using :math:`\Phi_2`).
"""

from __future__ import annotations

import sympy as sp
from mpmath import mp

from ..domains import CORRELATION, RealInterval
from ..functions import GaussianExpectation, u, v
from ..identity import Identity

TOPIC = "orthant"

q1 = sp.Symbol("q1", positive=True)
q2 = sp.Symbol("q2", positive=True)
r = sp.Symbol("r", real=True)
a = sp.Symbol("a", positive=True)
_x = sp.Symbol("x", real=True)

CLEVERT = ("Clevert, Unterthiner & Hochreiter (2016), Fast and accurate deep network learning by exponential "
           "linear units (ELUs), ICLR")
TSUCHIDA = ("Tsuchida, Pearce, van der Heide, Roosta & Gallagher (2021), Avoiding kernel fixed points: "
            "computing with ELU and GELU infinite networks, AAAI")
PRICE = "Price (1958), A useful theorem for nonlinear devices having Gaussian inputs, IRE Trans. Inf. Theory 4"
GENZ = "Genz (2004), Numerical computation of rectangular bivariate and trivariate normal probabilities, Stat. Comput. 14"

#: variances (0, 2] (the pool reaches 2^-27 near 0); the ELU scale a in (0, 3]
VARIANCE = RealInterval(0, 2, left_open=True, right_open=False, sharp="none")
SCALE = RealInterval(0, 3, left_open=True, right_open=False, sharp="none")


def _cov(q1_, q2_, r_):
    return [[q1_, r_ * sp.sqrt(q1_ * q2_)], [r_ * sp.sqrt(q1_ * q2_), q2_]]


def elu_pieces(av, derivative=False):
    """ELU's definition on x > 0 and x < 0 as ``{sign: {(power, rate): coef}}`` (numbers)."""
    if derivative:  # elu'(x) = 1 for x > 0, a e^x for x < 0
        return {1: {(0, 0): 1}, -1: {(0, 1): av}}
    return {1: {(1, 0): 1}, -1: {(0, 1): av, (0, 0): -av}}  # x; a (e^x - 1)


def _recipe(derivative):
    from ..kink_quadrature import kink_pair_expectation

    def recipe(env):
        P = elu_pieces(env[a], derivative)
        Q1, Q2 = env[q1], env[q2]
        return kink_pair_expectation(P, P, Q1, Q2, env[r] * mp.sqrt(Q1 * Q2))

    return recipe


def _kernel(derivative):
    from .. import activations as A
    from ..engines import orthant as O

    pieces = O.activation_pieces(A.elu(a))
    if derivative:
        pieces = O.piece_derivative(pieces)
    name = "delu(a)" if derivative else "elu(a)"
    return O.derive_correlation_kernel(pieces, None, r, q1, q2, subject=name).result


def register(reg):
    elu = sp.Piecewise((_x, _x > 0), (a * (sp.exp(_x) - 1), True))
    delu = sp.Piecewise((1, _x > 0), (a * sp.exp(_x), True))
    for name, expr, deriv, title in (
        ("elu", elu, False, "E[elu(u) elu(v)], ELU_a(x) = x (x > 0), a(e^x - 1) (x <= 0), unequal variances: "
                            "four orthants, each a derivative of a tilted orthant probability e^{Q/2} Phi_2"),
        ("elu-derivative", delu, True, "NTK kernel E[elu'(u) elu'(v)]: a sum of four tilted orthant "
                                       "probabilities (Price: d/dc of the ELU kernel)"),
    ):
        reg.add(Identity(
            f"orthant.{name}",
            title,
            GaussianExpectation(expr.subs(_x, u) * expr.subs(_x, v), [u, v], _cov(q1, q2, r)),
            (lambda deriv=deriv: _kernel(deriv)),
            {q1: VARIANCE, q2: VARIANCE, r: CORRELATION, a: SCALE},
            references=[CLEVERT, TSUCHIDA, PRICE, GENZ],
            topics=[TOPIC],
            method="orthant",
            numeric={"lhs": _recipe(deriv)},
            notes="Holds for all q1, q2 > 0, r in [-1, 1], a > 0 (sampled on q in (0, 2], a in (0, 3]).  "
                  "Left side: 1-D quadrature in the Cholesky variable x, split at the kink, over inner "
                  "integrals in closed form (truncated Gaussian moments); right side: the orthant engine, "
                  "Phi_2 evaluated by Drezner's angular Plackett integral (mpmath).",
        ))
