r"""Batch-norm mean field (Yang, Pennington, Rao, Sohl-Dickstein, Schoenholz, ICLR 2019).

Every right side here is produced by an engine of :mod:`symbolic_mf.batchnorm`
(Laplace, spherical, Gegenbauer), derived lazily on first use; every left
side is computed by an independent route: a one-dimensional integral, an
integral over the sphere :math:`S^{B-2}` in polar coordinates, or direct
quadrature.  None of the formulas is typed in from the paper.  An earlier
version of the paper (OpenReview submission) was later found with its
equations; docs/derivations/batchnorm.md, section 9, compares its printed
formulas with these identities and lists the misprints (Thm 6: v* for
u* = q*(1-c*); Thm 9: sign of an exponent; Thm 3: a missing inverse;
Eq. 9: sigma^2 for sigma and 1/N for 1/B).
"""

from __future__ import annotations

import sympy as sp
from mpmath import mp

from ..domains import CORRELATION, IntegerRange, RealInterval
from ..errors import DomainError
from ..identity import Identity

TOPIC = "batchnorm"
YANG = ("Yang, Pennington, Rao, Sohl-Dickstein, Schoenholz (2019), A mean field theory of batch "
        "normalization, ICLR")

alpha = sp.Symbol("alpha", positive=True)
B = sp.Symbol("B", integer=True, positive=True)
mu = sp.Symbol("mu", positive=True)
y = sp.Symbol("y", positive=True)
s = sp.Symbol("s", positive=True)
t = sp.Symbol("t", real=True)
b = sp.Symbol("b", real=True)
rho = sp.Symbol("rho", real=True)
j = sp.Symbol("j", integer=True, nonnegative=True)
k = sp.Symbol("k", integer=True, nonnegative=True)


def _int(env, sym, lo=None):
    v = env[sym]
    if v != mp.nint(v) or (lo is not None and v < lo):
        raise DomainError(sym.name, v, f"integer >= {lo}")
    return int(mp.nint(v))


# -- left sides by independent routes ------------------------------------------


def _lambda_G_sphere_leaky(env):
    """lambda_G of leaky ReLU x -> max(x,0) - b max(-x,0)... as phi = rho_1(x) - b rho_1(-x), by sphere integrals."""
    from ..engines.spherical import expect_one, expect_two_homogeneous

    BB, bb = _int(env, B), env[b]
    n = BB - 1
    f = lambda v: v if v > 0 else bb * v
    d = lambda v: mp.one if v > 0 else bb
    q = expect_one(lambda v: f(v) ** 2, BB)
    qc = expect_two_homogeneous(lambda u, v: f(u) * f(v), BB, 2)
    Ed2 = expect_one(lambda v: d(v) ** 2, BB)
    Ed2t2 = expect_one(lambda v: d(v) ** 2 * v * v, BB) / n
    Ed1d2 = expect_two_homogeneous(lambda u, v: d(u) * d(v), BB, 0)
    Ee1e2 = expect_two_homogeneous(lambda u, v: d(u) * d(v) * u * v, BB, 2) / n
    return (n * Ed2 + Ed1d2 - n * Ed2t2 + n * Ee1e2) / ((n - 2) * (q - qc))


def _relu_c_sphere(env):
    from ..engines.spherical import expect_one, expect_two_homogeneous

    BB = _int(env, B)
    relu = lambda v: v if v > 0 else mp.zero
    return expect_two_homogeneous(lambda u, v: relu(u) * relu(v), BB, 2) / expect_one(lambda v: relu(v) ** 2, BB)


def _gegenbauer_monomials(l, lam):
    """Coefficients c_m of C_l^lam(x) = sum_m c_m x^m (mpmath)."""
    c = [mp.zero] * (l + 1)
    for m in range(l // 2 + 1):
        c[l - 2 * m] = (-1) ** m * mp.gamma(l - m + lam) / (mp.gamma(lam) * mp.factorial(m) * mp.factorial(l - 2 * m)) \
            * mp.mpf(2) ** (l - 2 * m)
    return c


def _reproducing_lhs(env):
    r"""E_x[C_j(x.u) C_k(x.v)] over x ~ U(S^{B-2}), u.v = rho: polar in the plane of u, v.

    t1 = r cos(th), t2 = r cos(th - gamma); E[r^m] is a Beta function and the
    angular mean of a trigonometric polynomial of degree < N is exact with N
    equispaced nodes.  Nothing here uses Gegenbauer theory beyond the
    monomial coefficients of C_l.
    """
    from ..engines.spherical import radial_moment

    jj, kk, BB, r = _int(env, j, 0), _int(env, k, 0), _int(env, B, 4), env[rho]
    if abs(r) > 1:
        raise DomainError("rho", r, "[-1, 1] (rho = u.v for unit vectors u, v)")
    with mp.workdps(mp.dps + 25):   # the monomial sum cancels: carry 25 guard digits
        return +_reproducing_sum(jj, kk, BB, r)


def _reproducing_sum(jj, kk, BB, r):
    from ..engines.spherical import radial_moment

    lam = mp.mpf(BB - 3) / 2
    cj, ck = _gegenbauer_monomials(jj, lam), _gegenbauer_monomials(kk, lam)
    gam = mp.acos(r)
    N = jj + kk + 2
    mom = [radial_moment(m, BB) for m in range(jj + kk + 1)]
    tot = mp.zero
    for i in range(N):
        th = 2 * mp.pi * i / N + mp.mpf(1) / 7  # any offset: exact for trigonometric polynomials
        c1, c2 = mp.cos(th), mp.cos(th - gam)
        for a_, ca in enumerate(cj):
            if ca == 0:
                continue
            for b_, cb in enumerate(ck):
                if cb:
                    tot += ca * cb * c1 ** a_ * c2 ** b_ * mom[a_ + b_]
    return tot / N


def _dirichlet_lhs(env):
    r"""E_t[(1-t^2) C_j'(t) C_k'(t)] under the normalised weight, by quadrature (t = sin psi)."""
    from ..engines.spherical import expect_one

    jj, kk, BB = _int(env, j, 0), _int(env, k, 0), _int(env, B, 4)
    lam = mp.mpf(BB - 3) / 2
    sn = mp.sqrt(BB - 1)
    dC = lambda l, x: mp.zero if l == 0 else mp.diff(lambda z: mp.gegenbauer(l, lam, z), x)
    # derivative by mpmath.diff of the polynomial (no derivative formula assumed)
    return expect_one(lambda v: (1 - (v / sn) ** 2) * dC(jj, v / sn) * dC(kk, v / sn), BB, breaks=())


def _homog(env):
    from ..activations import HomogeneousActivation

    return HomogeneousActivation(sp.Float(env[alpha], mp.dps + 5), 1, sp.Float(env[b], mp.dps + 5))


def _forward_sphere(key):
    """lambda_L or lambda_M of a rho_alpha(x) - b rho_alpha(-x) by the sphere (score-function) route."""
    def f(env):
        from ..batchnorm import forward_eigenvalues_sphere

        return forward_eigenvalues_sphere(_homog(env), _int(env, B, 5), dps=mp.dps)[key]
    return f


def _lambda_L_at_threshold(env):
    """lambda_L at alpha*(B) (closed-form root) evaluated by the sphere route."""
    from ..activations import HomogeneousActivation
    from ..batchnorm import forward_eigenvalues_sphere, symmetry_breaking_alpha

    BB = _int(env, B, 5)
    a_star = symmetry_breaking_alpha(BB, dps=mp.dps)
    return forward_eigenvalues_sphere(HomogeneousActivation(sp.Float(a_star, mp.dps + 5)), BB, dps=mp.dps)["lambda_L"]


# -- registration ----------------------------------------------------------------


def register(reg):
    from ..activations import HomogeneousActivation, relu
    from ..batchnorm import (bsb1_fixed_point_closed_form, chi_moment,
                             gradient_explosion_rate_closed_form)
    from ..engines.laplace import bsb1_s_integral
    from ..engines.spherical import coordinate_density

    add = reg.add
    add(Identity(
        "bn.schwinger",
        "Schwinger (Laplace) parametrisation of a negative power",
        sp.Integral(s ** (alpha - 1) * sp.exp(-s * y), (s, 0, sp.oo)) / sp.gamma(alpha),
        y ** (-alpha),
        {alpha: RealInterval(0, 6, right_open=False, sharp="lo"), y: RealInterval(0, 20, sharp="none")},
        references=["DLMF 5.9.1", YANG + ", Laplace method"],
        topics=[TOPIC],
        notes="With y = ||Gh||^2 this turns the BN normalisation into a Gaussian tilt e^{-s h^T G h}.",
    ))
    add(Identity(
        "bn.laplace-bsb1-beta",
        "At a BSB1 point the Laplace s-integral is a Beta function (independent of mu = q(1-c))",
        sp.Integral(s ** (alpha - 1) * (1 + 2 * s * mu) ** (-(B - 1) / 2) * (mu / (1 + 2 * s * mu)) ** alpha,
                    (s, 0, sp.oo)),
        lambda: bsb1_s_integral().subs({sp.Symbol("alpha", positive=True): alpha,
                                        sp.Symbol("n", positive=True): B - 1}),
        {alpha: RealInterval(0, 6, right_open=False, sharp="lo"), B: IntegerRange(2, 40),
         mu: RealInterval(0, 10, right_open=False, sharp="none")},
        references=[YANG + ", Laplace method at BSB1 points"],
        topics=[TOPIC],
        method="laplace",
        notes="det(I + 2s Sigma G) = (1 + 2 s mu)^(B-1) and G(I+2s Sigma G)^(-1) Sigma G = mu G/(1+2 s mu) at BSB1.",
    ))
    n = B - 1
    add(Identity(
        "bn.sphere-rho-moment",
        "q* of rho_alpha: sphere moment E[rho_alpha(sqrt(B-1) t)^2] from the Gaussian moment and chi moments",
        sp.Integral((sp.sqrt(n) * t) ** (2 * alpha) * coordinate_density(B, t), (t, 0, 1)),
        lambda: bsb1_fixed_point_closed_form(HomogeneousActivation(alpha, 1, 0), B)[0],
        {alpha: RealInterval(-sp.S.Half, 6, right_open=False, sharp="lo"), B: IntegerRange(4, 60)},
        references=[YANG],
        topics=[TOPIC],
        method="laplace",
        notes="Radius and direction of a Gaussian vector are independent: E F(g) = E||g||^{2 alpha} E F(g/||g||).",
    ))
    add(Identity(
        "bn.relu-bsb1-c",
        "ReLU BSB1 correlation c* = 2 K_relu(-1/(B-1)), the arc-cosine kernel at -1/(B-1) (q* = 1/2)",
        sp.Function("c_star_sphere")(B),
        lambda: sp.hyperexpand(bsb1_fixed_point_closed_form(relu(), B)[1]),
        {B: IntegerRange(4, 400)},
        references=[YANG, "Cho & Saul (2009), arc-cosine kernel n = 1"],
        topics=[TOPIC],
        method="laplace",
        numeric={"lhs": _relu_c_sphere},
        extra_points=[{"B": 4}],
        notes="lhs: polar integral over S^{B-2} (spherical engine); rhs: Gaussian kernel route.",
    ))
    add(Identity(
        "bn.lambda-g-leaky",
        "Gradient explosion rate of leaky ReLU rho_1(x) - b rho_1(-x): sphere integrals = kernel closed form",
        sp.Function("lambda_G_sphere")(b, B),
        lambda: sp.hyperexpand(gradient_explosion_rate_closed_form(HomogeneousActivation(1, 1, b), B)),
        {b: RealInterval(-1, 1, left_open=False, right_open=False, sharp="none"), B: IntegerRange(4, 300)},
        references=[YANG + ", gradient explosion theorem"],
        topics=[TOPIC],
        method="spherical",
        numeric={"lhs": _lambda_G_sphere_leaky},
        extra_points=[{"b": 0, "B": 4}, {"b": 1, "B": 7}],
        notes="b = 0 ReLU, b = 1 identity ((B-2)/(B-3)), b = -1 |x|.",
    ))
    add(Identity(
        "bn.lambda-g-lower-bound",
        "lambda_G >= (B-2)/(B-3) for the homogeneous family (equality for linear phi)",
        lambda: sp.hyperexpand(gradient_explosion_rate_closed_form(HomogeneousActivation(alpha, 1, b), B)),
        (B - 2) / (B - 3),
        {alpha: RealInterval(sp.Rational(1, 2), 3, right_open=False, sharp="lo"),
         b: RealInterval(-1, 1, left_open=False, right_open=False, sharp="none"), B: IntegerRange(4, 60)},
        references=[YANG + ", Theorem: lambda_G >= (B-2)/(B-3), equality iff phi linear"],
        topics=[TOPIC],
        method="laplace",
        relation=">=",
        extra_points=[{"alpha": 1, "b": 1, "B": 5}],
    ))
    add(Identity(
        "bn.gegenbauer-reproducing",
        "Reproducing property on S^{B-2}: E[C_j(x.u) C_k(x.v)] = delta_jk lambda/(j+lambda) C_j(u.v), lambda = (B-3)/2",
        sp.Function("E_sphere_CC")(j, k, B, rho),
        sp.KroneckerDelta(j, k) * ((B - 3) / 2) / (j + (B - 3) / 2) * sp.gegenbauer(j, (B - 3) / 2, rho),
        {j: IntegerRange(0, 8), k: IntegerRange(0, 8), B: IntegerRange(4, 24), rho: CORRELATION},
        references=["DLMF 18.18.8 / Funk-Hecke", YANG + ", Gegenbauer method"],
        topics=[TOPIC],
        method="gegenbauer",
        numeric={"lhs": _reproducing_lhs},
        extra_points=[{"j": 3, "k": 3, "B": 4, "rho": sp.Rational(-1, 3)}, {"j": 2, "k": 2, "B": 9, "rho": 1}],
        zero_scale=10,
    ))
    add(Identity(
        "bn.gegenbauer-dirichlet",
        "Dirichlet form on the sphere is diagonal in the Gegenbauer basis: E[(1-t^2) C_j' C_k'] = delta_jk j(j+2 lam) E[C_j^2]",
        sp.Function("E_t_dCdC")(j, k, B),
        sp.KroneckerDelta(j, k) * j * (j + B - 3) * ((B - 3) / 2) / (j + (B - 3) / 2) * sp.gegenbauer(j, (B - 3) / 2, 1),
        {j: IntegerRange(0, 7), k: IntegerRange(0, 7), B: IntegerRange(4, 20)},
        references=[YANG + ", Dirichlet form", "DLMF 18.8.1 (Gegenbauer ODE)"],
        topics=[TOPIC],
        method="gegenbauer",
        numeric={"lhs": _dirichlet_lhs},
        extra_points=[{"j": 4, "k": 4, "B": 6}, {"j": 2, "k": 4, "B": 5}],
        zero_scale=10,
    ))

    # -- forward Jacobian at BSB1 (issue 5, second part) --------------------------------
    from ..batchnorm import forward_eigenvalue_limits, forward_eigenvalues_closed_form
    from ..functions import expectation, rho as Rho, z

    hom = lambda: HomogeneousActivation(alpha, 1, b)
    dom3 = {alpha: RealInterval(0, 3, right_open=False, sharp="lo"),
            b: RealInterval(-1, 1, left_open=False, right_open=False, sharp="none"), B: IntegerRange(5, 40)}
    add(Identity(
        "bn.forward-lambda-m",
        "Forward Jacobian at BSB1, M subspace (multiplicity B(B-3)/2): "
        "lambda_M = B K'(rho)/((B-1+2 alpha)(K(1)-K(rho))), rho = -1/(B-1)",
        sp.Function("lambda_M_sphere")(alpha, b, B),
        lambda: sp.hyperexpand(forward_eigenvalues_closed_form(hom(), B)["lambda_M"]),
        dom3,
        references=[YANG + ", forward eigenvalues at the BSB1 fixed point"],
        topics=[TOPIC],
        method="laplace",
        numeric={"lhs": _forward_sphere("lambda_M")},
        extra_points=[{"alpha": 1, "b": 0, "B": 5}, {"alpha": 1, "b": 1, "B": 6}],
        notes="lhs: Gaussian score function + conditional moments on S^{B-2} (spherical engine); "
              "rhs: derivative of the Laplace integral at Sigma*, Beta function at B+2. Misprint: the earlier "
              "(OpenReview) version's Thm 6 divides by v* (the 11^T coefficient of Sigma*); it must be "
              "u* = q*(1-c*) = (K(1)-K(rho))-proportional, else ReLU B = 8 gives 1.6147 instead of 0.53861.",
    ))
    add(Identity(
        "bn.forward-lambda-l",
        "Forward Jacobian at BSB1, L subspace (multiplicity B-1): lambda_L = (B-2) alpha/(B-1+2 alpha) + lambda_M/(B-1)",
        sp.Function("lambda_L_sphere")(alpha, b, B),
        lambda: sp.hyperexpand(forward_eigenvalues_closed_form(hom(), B)["lambda_L"]),
        dom3,
        references=[YANG + ", forward eigenvalues at the BSB1 fixed point"],
        topics=[TOPIC],
        method="laplace",
        numeric={"lhs": _forward_sphere("lambda_L")},
        extra_points=[{"alpha": 1, "b": 0, "B": 5}, {"alpha": 2, "b": 0, "B": 7}],
        notes="Delta_L = G diag(1,-1,0,...) G; lambda_L = <Delta_L, dV(Delta_L)>/|Delta_L|^2 on the sphere side.",
    ))
    phi_z = Rho(alpha, z) - b * Rho(alpha, -z)
    dphi_z = alpha * Rho(alpha - 1, z) + b * alpha * Rho(alpha - 1, -z)
    add(Identity(
        "bn.forward-lambda-m-limit",
        "Large-batch limit of lambda_M: E[phi'(z)]^2 / Var[phi(z)] (lambda_L -> alpha)",
        expectation(dphi_z) ** 2 / (expectation(phi_z ** 2) - expectation(phi_z) ** 2),
        lambda: forward_eigenvalue_limits(hom())["lambda_M"],
        {alpha: RealInterval(0, 3, right_open=False, sharp="lo"),
         b: RealInterval(-1, 1, left_open=False, right_open=False, sharp="none")},
        references=[YANG + ", large-B limit of the forward eigenvalues"],
        topics=[TOPIC],
        method="laplace",
        extra_points=[{"alpha": 1, "b": 0}],
        notes="rhs: SymPy limit B -> oo of the closed form; lhs: K'(0) = E[phi']^2 (Price), K(1) - K(0) = Var phi, "
              "by Gaussian quadrature. ReLU: pi/(2(pi-1)); identity: 1; |x|: 0.",
    ))
    add(Identity(
        "bn.symmetry-breaking",
        "At alpha*(B), the root of max(lambda_L, lambda_M) = 1 for rho_alpha, the BSB1 fixed point loses stability",
        sp.Function("lambda_L_sphere_at_alpha_star")(B),
        sp.Integer(1),
        {B: IntegerRange(5, 64)},
        references=[YANG + ", batch symmetry breaking"],
        topics=[TOPIC],
        method="laplace",
        numeric={"lhs": _lambda_L_at_threshold},
        extra_points=[{"B": 5}, {"B": 8}],
        notes="alpha*(B) from the closed forms (symmetry_breaking_alpha): 3.904 (B=5), 1.619 (B=8), 1.194 (B=16), "
              "-> 1 as B -> oo (lambda_L -> alpha); at B = 4 lambda_L < 1 for every alpha.",
    ))
