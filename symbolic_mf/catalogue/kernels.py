r"""Dual kernels of the α-homogeneous family, as derived by the kernel engines.

Every right side here is an engine's output (computed lazily, on first use);
every left side is the Gaussian expectation it claims to equal, evaluated by
the polar quadrature route — so verifying an identity checks a derivation,
not a retyped formula.
"""

from __future__ import annotations

import sympy as sp

from ..domains import CORRELATION, OPEN_CORRELATION, RealInterval
from ..functions import GaussianExpectation, bivariate_expectation, expectation, rho, u, v, z
from ..identity import Identity

TOPIC = "kernels"

alpha = sp.Symbol("alpha", real=True)
a = sp.Symbol("a", real=True)
b = sp.Symbol("b", real=True)
c = sp.Symbol("c", real=True)
q1 = sp.Symbol("q1", positive=True)
q2 = sp.Symbol("q2", positive=True)
r = sp.Symbol("r", real=True)

CHO_SAUL = "Cho & Saul (2009), Kernel methods for deep learning, NIPS, eqs. (1)-(6)"
YS = "Yang & Schoenholz (2017), Mean field residual networks: on the edge of chaos, NIPS, appendix (K_0 identities)"
MEHLER = "Mehler's formula, DLMF 18.18.28; O'Donnell (2014), Analysis of Boolean functions, 11.2"
PRICE = "Price (1958), IRE Trans. Inf. Theory 4"
DANIELY = "Daniely, Frostig & Singer (2016), Toward deeper understanding of neural networks, Sec. 8 (dual activations)"


NONNEG_CORRELATION = RealInterval(0, 1, left_open=False, right_open=False, sharp="hi")


def _alpha(lo, hi=8, sharp="lo"):
    return RealInterval(lo, hi, left_open=True, right_open=False, sharp=sharp)


def _coef():
    return RealInterval(-2, 2, left_open=False, right_open=False, sharp="none")


def _phi(x, al=alpha, aa=a, bb=b):
    return aa * rho(al, x) - bb * rho(al, -x)


def _hermite(al, aa=1, bb=0, elementary=False):
    from ..engines.hermite import derive_kernel
    return derive_kernel(al, aa, bb, c, elementary=elementary).result


def _kernels():
    from .. import kernels
    return kernels


def _engine(name):
    import importlib
    return importlib.import_module(f"symbolic_mf.engines.{name}")


_X = sp.Symbol("x", real=True)


def _dphi(x):
    return sp.diff(_phi(_X), _X).subs(_X, x)


def _K(al):
    return bivariate_expectation(rho(al, u) * rho(al, v), c)


def register(reg):
    add = reg.add
    from ..activations import HomogeneousActivation

    add(Identity(
        "kernels.rho-alpha",
        "Dual kernel of the rectified power rho_alpha for real alpha: two 2F1's of c^2 (Hermite/Mehler engine)",
        _K(alpha),
        lambda: _hermite(alpha),
        {alpha: _alpha(-sp.S.Half), c: NONNEG_CORRELATION},
        references=[MEHLER, CHO_SAUL, DANIELY],
        topics=[TOPIC],
        method="hermite",
        notes="Holds on [-1, 1]; at c = 1 the 2F1's are summed by Gauss's theorem (convergent since "
              "alpha > -1/2).  Sampled on [0, 1]: for c < 0 the even and odd halves cancel "
              "(K ~ (1+c)^(alpha+1/2) as c -> -1), which kernels.rho-alpha-negative-c avoids.",
    ))
    add(Identity(
        "kernels.rho-alpha-negative-c",
        "rho_alpha kernel as (1-c^2)^(alpha+1/2) 2F1(alpha+1, alpha+1; alpha+3/2; (1+c)/2): no cancellation at c -> -1",
        _K(alpha),
        lambda: _engine("bessel").derive_negative_c_form(),
        {alpha: _alpha(-sp.S.Half), c: RealInterval(-1, 0, left_open=False, right_open=False, sharp="lo")},
        references=[YS, "Gradshteyn & Ryzhik 6.621.3"],
        topics=[TOPIC],
        method="bessel",
        notes="Derived from the K_0 representation: e^{cs} = e^{-s} e^{(1+c)s}, term-by-term "
              "Laplace-Mellin integrals, summed from the term ratio.  Diverges as c -> 1 (the 2F1 at 1).",
    ))
    add(Identity(
        "kernels.family",
        "Dual kernel of a*rho_alpha(x) - b*rho_alpha(-x): even part (a-b)^2, odd part (a+b)^2 (Hermite/Mehler engine)",
        bivariate_expectation(_phi(u) * _phi(v), c),
        lambda: _kernels().dual_kernel((alpha, a, b), c, method="stable"),
        {alpha: _alpha(-sp.S.Half), a: _coef(), b: _coef(), c: CORRELATION},
        references=[MEHLER, CHO_SAUL, YS],
        topics=[TOPIC],
        method="hermite",
        notes="Right side: the 'stable' Piecewise (Hermite form for c >= 0, Bessel-Laplace form for c < 0) "
              "combined as (a^2+b^2) K(c) - 2ab K(-c).",
    ))
    add(Identity(
        "kernels.constant",
        "Normalising constant K_phi(1) = E[phi(z)^2] of the homogeneous family (Gaussian Mellin integral)",
        expectation(_phi(z) ** 2),
        lambda: _kernels().kernel_constant(
            HomogeneousActivation(alpha, a, b)),
        {alpha: _alpha(-sp.S.Half), a: _coef(), b: _coef()},
        references=[CHO_SAUL, "DLMF 5.9.1"],
        topics=[TOPIC],
        method="hermite",
    ))
    add(Identity(
        "kernels.derivative-kernel",
        "Derivative (NTK) kernel E[phi'(u) phi'(v)] of the homogeneous family (Hermite engine on phi')",
        bivariate_expectation(_dphi(u) * _dphi(v), c),
        lambda: _kernels().derivative_kernel(
            HomogeneousActivation(alpha, a, b), c),
        {alpha: _alpha(sp.S.Half), a: _coef(), b: _coef(), c: CORRELATION},
        references=["Jacot, Gabriel & Hongler (2018), Neural tangent kernel, NeurIPS", CHO_SAUL],
        topics=[TOPIC],
        method="hermite",
        notes="At c = +-1 finite only for alpha > 1/2 (E[rho_{alpha-1}(z)^2] < oo).",
    ))
    add(Identity(
        "kernels.price",
        "Price relation for the derived kernel: d/dc K_alpha(c) = alpha^2 K_{alpha-1}(c)",
        alpha**2 * _K(alpha - 1),
        lambda: sp.diff(_hermite(alpha), c),
        {alpha: _alpha(0), c: OPEN_CORRELATION},
        references=[PRICE, YS],
        topics=[TOPIC],
        method="hermite",
        notes="Right side: SymPy's derivative of the Hermite engine's 2F1 form; left: quadrature.",
    ))
    add(Identity(
        "kernels.unequal-variances",
        "Kernel for unequal variances by homogeneity: (q1 q2)^(alpha/2) K_alpha(Sigma12/sqrt(q1 q2))",
        GaussianExpectation(rho(alpha, u) * rho(alpha, v), [u, v],
                            [[q1, r * sp.sqrt(q1 * q2)], [r * sp.sqrt(q1 * q2), q2]]),
        lambda: _kernels().kernel_matrix(
            HomogeneousActivation(alpha), [[q1, r * sp.sqrt(q1 * q2)], [r * sp.sqrt(q1 * q2), q2]],
            method="stable")[0, 1],
        {alpha: _alpha(-sp.S.Half), q1: RealInterval(0, 4, sharp="none"), q2: RealInterval(0, 4, sharp="none"),
         r: CORRELATION},
        references=[CHO_SAUL, DANIELY],
        topics=[TOPIC],
        method="hermite",
    ))
    for n in (2, 3):
        add(Identity(
            f"kernels.arccos-n{n}",
            f"Arc-cosine kernel of rho_{n} from the polar route (radial Gamma x angular integral)",
            _K(n),
            (lambda n=n: _engine("polar").derive_kernel(
                n, 1, 0, c).result),
            {c: RealInterval(-sp.Rational(1, 2), 1, left_open=False, right_open=False, sharp="hi")},
            references=[CHO_SAUL],
            topics=[TOPIC],
            method="polar",
            notes="Holds on [-1, 1]; the elementary form cancels to K ~ (1+c)^(n+1/2) as c -> -1, "
                  "so it is sampled on [-1/2, 1] (kernels.rho-alpha-negative-c covers c -> -1).",
        ))
    add(Identity(
        "kernels.bessel-representation",
        "K_0 integral representation of the rho_alpha kernel (density of the product uv)",
        _K(alpha),
        lambda: _engine("bessel").derive_identities().representation,
        {alpha: _alpha(-sp.S.Half, 2), c: RealInterval(-sp.Rational(1, 2), sp.Rational(1, 2),
                                                       left_open=False, right_open=False, sharp="none")},
        references=[YS],
        topics=[TOPIC],
        method="bessel",
        notes="Holds on |c| < 1 and alpha > -1/2; sampled on |c| <= 1/2, alpha <= 2 because the K_0 "
              "integrand decays like s^(alpha-1/2) exp(-(1-c)s) and its quadrature is slow beyond "
              "(the 3 s budget).",
    ))
    add(Identity(
        "kernels.bessel-cosh-representation",
        "Elementary integral form of the rho_alpha kernel: K_0(s) = int exp(-s cosh t) dt, s integral first",
        _K(alpha),
        lambda: _engine("bessel").derive_cosh_form(),
        {alpha: _alpha(-sp.S.Half), c: RealInterval(-1, sp.Rational(9, 10), left_open=True, right_open=False,
                                                    sharp="none")},
        references=[YS, "DLMF 10.32.9"],
        topics=[TOPIC],
        method="bessel",
        notes="Holds on |c| < 1; sampled on (-1, 9/10] since as c -> 1 the integrand concentrates in "
              "t < sqrt(2(1-c)) and the quadrature slows down.",
    ))
    add(Identity(
        "kernels.bessel-recurrence",
        "Three-term recurrence in alpha: K_{alpha+1} = (2 alpha+1) c K_alpha + alpha^2 (1-c^2) K_{alpha-1}",
        _K(alpha + 1),
        lambda: _bessel_rhs("recurrence"),
        {alpha: _alpha(0, 7), c: OPEN_CORRELATION},
        references=[YS],
        topics=[TOPIC],
        method="bessel",
    ))
    add(Identity(
        "kernels.bessel-derivative",
        "Derivative identity from the K_0 representation: (1-c^2) K_alpha' = K_{alpha+1} - (2 alpha+1) c K_alpha",
        sp.Derivative(_K(alpha), c),
        lambda: _bessel_rhs("derivative"),
        {alpha: _alpha(0, 6, sharp="none"), c: RealInterval(-sp.Rational(99, 100), sp.Rational(99, 100),
                                               left_open=False, right_open=False, sharp="none")},
        references=[YS],
        topics=[TOPIC],
        method="bessel",
        notes="Needs only the representation (no boundary terms), so it holds for alpha > -1 when |c| < 1 "
              "(where E[rho_alpha(u) rho_alpha(v)] is finite); an earlier version stated alpha > 0 and "
              "the widened-domain mutant exposed it.  Sampled on alpha > 0 (not a sharp end) because "
              "the numerical derivative of the quadrature is slow as alpha -> -1.",
    ))


def _bessel_rhs(which):
    from ..engines.bessel import as_expectation, derive_identities

    return as_expectation(getattr(derive_identities(), which).rhs)
