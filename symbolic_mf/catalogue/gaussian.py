r"""Gaussian expectations every mean-field computation stands on.

Moments and Mellin transforms of the rectified power, Hermite orthogonality,
Stein's lemma and Price's theorem, Sheppard's orthant formula and the
arc-cosine kernel of ReLU.  These are reference identities from the
literature (``method=None``): the kernel engines derive their own, and these
are what they are tested against.
"""

from __future__ import annotations

import sympy as sp

from ..domains import CORRELATION, OPEN_CORRELATION, IntegerRange, RealInterval
from ..functions import bivariate_expectation, expectation, rho, u, v, z
from ..identity import Identity

TOPIC = "gaussian"

alpha = sp.Symbol("alpha", real=True)
beta = sp.Symbol("beta", real=True)
s = sp.Symbol("s", real=True)
q = sp.Symbol("q", positive=True)
c = sp.Symbol("c", real=True)
m = sp.Symbol("m", real=True)
j = sp.Symbol("j", integer=True, nonnegative=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
omega = sp.Symbol("omega", real=True)
x = sp.Symbol("x", positive=True)

half = sp.S.Half
pi = sp.pi
CHO_SAUL = "Cho & Saul (2009), Kernel methods for deep learning, NIPS, eqs. (1)-(6)"
DLMF_GAMMA = "DLMF 5.9.1 (Euler's integral), 5.2.1"


def _alpha_dom(lo):
    """alpha in (lo, 8], the lower end sharp, 8 a sampling cap."""
    return RealInterval(lo, 8, left_open=True, right_open=False, sharp="lo")


def register(reg):
    add = reg.add
    add(Identity(
        "gauss.rho-mean",
        "Gaussian mean of the rectified power",
        expectation(rho(alpha, z)),
        2 ** (alpha / 2 - 1) * sp.gamma((alpha + 1) / 2) / sp.sqrt(pi),
        {alpha: _alpha_dom(-1)},
        references=[DLMF_GAMMA, CHO_SAUL],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.rho-second-moment",
        "Second Gaussian moment of the rectified power (the normalising constant K(1))",
        expectation(rho(alpha, z) ** 2),
        2 ** (alpha - 1) * sp.gamma(alpha + half) / sp.sqrt(pi),
        {alpha: _alpha_dom(-half)},
        references=[DLMF_GAMMA, CHO_SAUL],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.rho-mean-variance",
        "Mean of the rectified power of N(0, q): homogeneity in the variance",
        expectation(rho(alpha, z), variance=q),
        q ** (alpha / 2) * 2 ** (alpha / 2 - 1) * sp.gamma((alpha + 1) / 2) / sp.sqrt(pi),
        {alpha: _alpha_dom(-1), q: RealInterval(0, 50, sharp="none")},
        references=[DLMF_GAMMA],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.abs-mellin",
        "Gaussian Mellin transform: absolute moments E|z|^s",
        expectation(sp.Abs(z) ** s),
        2 ** (s / 2) * sp.gamma((s + 1) / 2) / sp.sqrt(pi),
        {s: RealInterval(-1, 12, right_open=False, sharp="lo")},
        references=["Winkelbauer (2012), Moments and absolute moments of the normal distribution, eq. (17)"],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.mellin-density",
        "Mellin transform of the Gaussian kernel exp(-x^2/2)",
        sp.Integral(x ** (s - 1) * sp.exp(-x ** 2 / 2), (x, 0, sp.oo)),
        2 ** (s / 2 - 1) * sp.gamma(s / 2),
        {s: RealInterval(0, 12, right_open=False, sharp="lo")},
        references=[DLMF_GAMMA],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.rho-shifted-mean",
        "Mean of the rectified power of a shifted Gaussian (Kummer functions)",
        expectation(rho(alpha, z + m)),
        2 ** (alpha / 2) / (2 * sp.sqrt(pi)) * (
            sp.gamma((alpha + 1) / 2) * sp.hyper([-alpha / 2], [half], -m ** 2 / 2)
            + sp.sqrt(2) * m * sp.gamma(alpha / 2 + 1) * sp.hyper([(1 - alpha) / 2], [sp.Rational(3, 2)], -m ** 2 / 2)
        ),
        {alpha: _alpha_dom(-1), m: RealInterval(-4, 4, sharp="none")},
        references=["DLMF 12.5.1 and 12.7.14 (parabolic cylinder function D_{-alpha-1} via 1F1)"],
        topics=[TOPIC],
        notes="The breakpoint sits at z = -m, generally not a binary number: exercises exact offsets.",
    ))
    add(Identity(
        "gauss.hermite-orthogonality",
        "Orthogonality of the probabilists' Hermite polynomials under N(0, 1)",
        expectation(sp.hermite_prob(j, z) * sp.hermite_prob(k, z)),
        sp.factorial(k) * sp.KroneckerDelta(j, k),
        {j: IntegerRange(0, 12), k: IntegerRange(0, 12)},
        references=["DLMF 18.3 (Table 18.3.1), 18.2.1"],
        topics=[TOPIC],
        extra_points=[{"j": 7, "k": 7}, {"j": 0, "k": 0}],
        zero_scale=sp.factorial(12),
    ))
    add(Identity(
        "gauss.stein-rho",
        "Stein's lemma for the rectified power: E[z rho_alpha(z)] = alpha E[rho_{alpha-1}(z)]",
        expectation(z * rho(alpha, z)),
        alpha * expectation(rho(alpha - 1, z)),
        {alpha: _alpha_dom(0)},
        references=["Stein (1981), Ann. Statist. 9, Lemma 1"],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.stein-variance",
        "Stein's lemma with variance q, for tanh(beta z)",
        expectation(z * sp.tanh(beta * z), variance=q),
        q * expectation(beta / sp.cosh(beta * z) ** 2, variance=q),
        {beta: RealInterval(-3, 3, sharp="none"), q: RealInterval(0, 9, sharp="none")},
        references=["Stein (1981), Ann. Statist. 9, Lemma 1"],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.stein-sin",
        "Stein's lemma for sin: E[z sin(omega z)] = omega exp(-omega^2/2)",
        expectation(z * sp.sin(omega * z)),
        omega * sp.exp(-omega ** 2 / 2),
        {omega: RealInterval(-6, 6, sharp="none")},
        references=["Stein (1981), Ann. Statist. 9, Lemma 1"],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.sheppard",
        "Sheppard's orthant probability: E[rho_0(u) rho_0(v)]",
        bivariate_expectation(rho(0, u) * rho(0, v), c),
        sp.Rational(1, 4) + sp.asin(c) / (2 * pi),
        {c: CORRELATION},
        references=["Sheppard (1899), Phil. Trans. R. Soc. A 192", CHO_SAUL + " (n = 0)"],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.arccos-relu",
        "Arc-cosine kernel of ReLU (n = 1)",
        bivariate_expectation(rho(1, u) * rho(1, v), c),
        (sp.sqrt(1 - c ** 2) + (pi - sp.acos(c)) * c) / (2 * pi),
        {c: CORRELATION},
        references=[CHO_SAUL + " (n = 1, with the 1/(2 pi) normalisation of a Gaussian expectation)"],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.price-rho",
        "Price's theorem for rectified powers: d/dc E[rho_a(u) rho_b(v)] = ab E[rho_{a-1}(u) rho_{b-1}(v)]",
        sp.Derivative(bivariate_expectation(rho(alpha, u) * rho(beta, v), c), c),
        alpha * beta * bivariate_expectation(rho(alpha - 1, u) * rho(beta - 1, v), c),
        {alpha: _alpha_dom(0), beta: _alpha_dom(0), c: OPEN_CORRELATION},
        references=["Price (1958), IRE Trans. Inf. Theory 4, eq. (1)"],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.price-step",
        "Price's theorem for the step function: d/dc E[rho_0(u) rho_0(v)] = 1/(2 pi sqrt(1-c^2))",
        sp.Derivative(bivariate_expectation(rho(0, u) * rho(0, v), c), c),
        1 / (2 * pi * sp.sqrt(1 - c ** 2)),
        {c: OPEN_CORRELATION},
        references=["Price (1958), IRE Trans. Inf. Theory 4", "Sheppard (1899)"],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.price-signed-power",
        "Price's theorem for the odd power sign(x)|x|^a: derivative gives the even power |x|^(a-1)",
        sp.Derivative(bivariate_expectation(sp.sign(u) * sp.Abs(u) ** alpha * sp.sign(v) * sp.Abs(v) ** alpha, c), c),
        alpha ** 2 * bivariate_expectation(sp.Abs(u) ** (alpha - 1) * sp.Abs(v) ** (alpha - 1), c),
        {alpha: _alpha_dom(0), c: OPEN_CORRELATION},
        references=["Price (1958), IRE Trans. Inf. Theory 4, eq. (1)"],
        topics=[TOPIC],
    ))
    add(Identity(
        "gauss.bessel-k0-mellin",
        "Mellin transform of K_0 (the density of a product of two independent Gaussians is K_0(|x|)/pi)",
        sp.Integral(x ** (s - 1) * sp.besselk(0, x), (x, 0, sp.oo)),
        2 ** (s - 2) * sp.gamma(s / 2) ** 2,
        {s: RealInterval(0, 12, right_open=False, sharp="lo")},
        references=["DLMF 10.43.19", "Yang & Schoenholz (2017), Mean field residual networks, appendix"],
        topics=[TOPIC],
    ))
