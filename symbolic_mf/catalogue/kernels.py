r"""Dual kernels of the α-homogeneous family, as the engines derive them.

Every right side here is an engine's output (``method`` names it), computed
lazily when the identity is first verified or printed; the left side is the
Gaussian expectation it claims to equal.  The two engines are also tested
against each other symbolically in ``tests/test_kernels.py``.
"""

from __future__ import annotations

import sympy as sp

from ..activations import HomogeneousActivation, rho_alpha
from ..domains import CORRELATION, OPEN_CORRELATION, IntegerRange, RealInterval
from ..engines.bessel import KERNEL, bessel_kernel, bessel_recurrence
from ..engines.polar import arccos_kernel
from ..functions import bivariate_expectation, expectation, rho, u, v, z
from ..identity import Identity
from .. import kernels as K

TOPIC = "kernels"

alpha = sp.Symbol("alpha", real=True)
a = sp.Symbol("a", real=True)
b = sp.Symbol("b", real=True)
c = sp.Symbol("c", real=True)
r = sp.Symbol("r", real=True)
q1 = sp.Symbol("q1", positive=True)
q2 = sp.Symbol("q2", positive=True)
theta = sp.Symbol("theta", real=True)
zz = sp.Symbol("z", positive=True)

CHO_SAUL = "Cho & Saul (2009), Kernel methods for deep learning, NIPS, eqs. (1)-(6)"
MEHLER = "Mehler's formula; O'Donnell (2014) Analysis of Boolean Functions §11.2 (Hermite expansion)"
YS17 = "Yang & Schoenholz (2017), Mean field residual networks: on the edge of chaos, NIPS, §A (Bessel identities)"
PRICE = "Price (1958), A useful theorem for nonlinear devices having Gaussian inputs"
DLMF_K0 = "DLMF 10.32.10 and 16.19 (Meijer G of K_0)"


#: the family's coefficients: any reals; [-2, 2] only caps the sampling (no sharp end)
AB = RealInterval(-2, 2, sharp="none")


def _alpha(lo, hi=6):
    return RealInterval(lo, hi, left_open=True, right_open=False, sharp="lo")


def _lazy(f, *args, **kw):
    return lambda: f(*args, **kw)


def _family_kernel(x):
    """K_phi(x) of the generic family member (alpha, a, b), Hermite engine."""
    return K.dual_kernel(HomogeneousActivation(alpha, a, b, name="phi"), x)


def _phi(x):
    return a * rho(alpha, x) - b * rho(alpha, -x)


def register(reg):
    add = reg.add
    add(Identity(
        "kernels.rho-alpha",
        r"Dual kernel of $\rho_\alpha$ for real alpha: two 2F1 in c^2 (Hermite/Mehler engine)",
        bivariate_expectation(rho(alpha, u) * rho(alpha, v), c),
        _lazy(K.dual_kernel, rho_alpha(alpha), c),
        {alpha: _alpha(-sp.S.Half), c: CORRELATION},
        references=[MEHLER, CHO_SAUL],
        topics=[TOPIC],
        method="hermite",
        # the 2F1 terms are as large as K(1) ~ 5e3 at alpha = 6 and cancel at c = -1:
        # "zero" is relative to that scale
        zero_scale=10**4,
    ))
    add(Identity(
        "kernels.family",
        r"Dual kernel of a*rho_alpha(x) - b*rho_alpha(-x) (Hermite/Mehler engine)",
        bivariate_expectation(_phi(u) * _phi(v), c),
        lambda: _family_kernel(c),
        {alpha: _alpha(-sp.S.Half, 4), a: AB, b: AB, c: CORRELATION},
        references=[MEHLER],
        topics=[TOPIC],
        method="hermite",
    ))
    add(Identity(
        "kernels.constant",
        r"Normalising constant K(1) = E[phi(z)^2] of the family, from Gauss's 2F1(1) theorem",
        expectation(_phi(z) ** 2),
        lambda: sp.simplify(sp.gammasimp(sp.hyperexpand(_family_kernel(sp.S.One)))),
        {alpha: _alpha(-sp.S.Half), a: AB, b: AB},
        references=[MEHLER, "Gauss's summation theorem, DLMF 15.4.20"],
        topics=[TOPIC],
        method="hermite",
    ))
    for n in range(0, 5):
        add(Identity(
            f"kernels.arccos-{n}",
            f"Arc-cosine kernel J_{n}: E[rho_{n}(u) rho_{n}(v)] = J_{n}(theta)/(2 pi) (polar engine)",
            bivariate_expectation(rho(n, u) * rho(n, v), sp.cos(theta)),
            _lazy(lambda n=n: arccos_kernel(n, theta) / (2 * sp.pi)),
            {theta: RealInterval(0, sp.pi)},
            references=[CHO_SAUL],
            topics=[TOPIC],
            method="polar",
        ))
    add(Identity(
        "kernels.unequal-variances",
        r"Unequal variances: E[rho_a(u) rho_a(v)] = (q1 q2)^(a/2) K(r), Cov = [[q1, r sqrt(q1 q2)], ...]",
        bivariate_expectation(rho(alpha, u) * rho(alpha, v), r * sp.sqrt(q1 * q2), q1, q2),
        _lazy(lambda: K.kernel(rho_alpha(alpha), q1, q2, r * sp.sqrt(q1 * q2))),
        {alpha: _alpha(-sp.S.Half, 4), q1: RealInterval(0, 9, left_open=True, sharp="none"),
         q2: RealInterval(0, 9, left_open=True, sharp="none"), r: CORRELATION},
        references=[MEHLER, "homogeneity"],
        topics=[TOPIC],
        method="hermite",
    ))
    add(Identity(
        "kernels.price-derivative",
        r"Derivative kernel (Price): d/dc K_alpha(c) = alpha^2 K_{alpha-1}(c), from the engine's 2F1 form",
        _lazy(lambda: sp.diff(K.dual_kernel(rho_alpha(alpha), c), c)),
        alpha**2 * bivariate_expectation(rho(alpha - 1, u) * rho(alpha - 1, v), c),
        {alpha: _alpha(sp.S.Half, 5), c: OPEN_CORRELATION},
        references=[PRICE, YS17],
        topics=[TOPIC],
        method="hermite",
    ))
    add(Identity(
        "kernels.ntk-family",
        r"NTK ingredient E[phi'(u) phi'(v)] of the family (Hermite engine on phi')",
        bivariate_expectation(sp.diff(_phi(u), u) * sp.diff(_phi(v), v), c),
        _lazy(lambda: K.derivative_kernel(HomogeneousActivation(alpha, a, b), c)),
        {alpha: _alpha(sp.S.Half, 4), a: AB, b: AB, c: CORRELATION},
        references=[PRICE, "Jacot, Gabriel & Hongler (2018), Neural tangent kernel"],
        topics=[TOPIC],
        method="hermite",
    ))
    add(Identity(
        "kernels.bessel-representation",
        r"K_0 integral representation of the alpha-ReLU kernel (Bessel engine, density of uv)",
        bivariate_expectation(rho(alpha, u) * rho(alpha, v), c),
        _lazy(bessel_kernel, alpha, c),
        {alpha: _alpha(-sp.S.Half, 4), c: RealInterval(-1, 1, left_open=True, right_open=True, sharp="none")},
        references=[YS17, DLMF_K0],
        topics=[TOPIC],
        method="bessel",
    ))
    add(Identity(
        "kernels.bessel-recurrence",
        r"Three-term recurrence in alpha: K_{a+1} = (2a+1) c K_a + a^2 (1-c^2) K_{a-1} (Bessel engine)",
        bivariate_expectation(rho(alpha + 1, u) * rho(alpha + 1, v), c),
        _lazy(lambda: bessel_recurrence(alpha, c).replace(
            KERNEL, lambda al, cc: bivariate_expectation(rho(al, u) * rho(al, v), cc))),
        {alpha: _alpha(0, 4), c: RealInterval(-1, 1, left_open=True, right_open=True, sharp="none")},
        references=[YS17],
        topics=[TOPIC],
        method="bessel",
    ))
    add(Identity(
        "kernels.meijerg-k0",
        r"Meijer G^{0,2}_{2,0}(1/z | 1,1; -)/2 = K_0(2 sqrt z): the identification the Bessel engine uses",
        sp.meijerg(((1, 1), ()), ((), ()), 1 / zz) / 2,
        sp.besselk(0, 2 * sp.sqrt(zz)),
        {zz: RealInterval(0, 50, left_open=True, sharp="lo")},
        references=[DLMF_K0],
        topics=[TOPIC],
    ))
