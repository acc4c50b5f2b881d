r"""Feed-forward mean field (Poole et al. 2016; Schoenholz et al. 2017): definitions and derived results.

Right sides come from :mod:`symbolic_mf.meanfield` (the erf kernel derived
through Price's theorem, the order-to-chaos line of the α-homogeneous family
solved by SymPy, the critical expansion of the ReLU kernel by SymPy's
series); left sides are independent numeric recipes: Gaussian quadrature of
the defining expectations, a product trapezoidal rule in two dimensions, or
a numerical root of the defining equations with every moment integrated at
the point (homogeneity is not used).
"""

from __future__ import annotations

import sympy as sp
from mpmath import mp

from ..domains import CORRELATION, RealInterval
from ..errors import DomainError
from ..functions import expectation, rho, z
from ..identity import Identity

TOPIC = "meanfield"
POOLE = "Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli (2016), Exponential expressivity in deep neural networks through transient chaos, NIPS"
SCHOENHOLZ = "Schoenholz, Gilmer, Ganguli & Sohl-Dickstein (2017), Deep information propagation, ICLR, eqs. (3)-(9)"
PRICE = "Price (1958), IRE Trans. Inf. Theory 4"
NG_GELLER = "Ng & Geller (1969), A table of integrals of the error functions, J. Res. NBS 73B, 4.3.8"
WILLIAMS = "Williams (1997), Computing with infinite networks, NIPS (the arcsine kernel of erf)"

alpha = sp.Symbol("alpha", real=True)
a = sp.Symbol("a", real=True)
b = sp.Symbol("b", real=True)
c = sp.Symbol("c", real=True)
q = sp.Symbol("q", positive=True)
sigma_b = sp.Symbol("sigma_b", positive=True)
eps = sp.Symbol("epsilon", positive=True)


def _mf():
    from .. import meanfield
    return meanfield


# -- left sides by independent routes ---------------------------------------------


def _erf_kernel_1d(env):
    r"""E[erf(sqrt(q) u) erf(sqrt(q) v)] as a 1-D quadrature (no kernel closed form used).

    Condition on u = z: v = c z + sqrt(1-c^2) w, and the inner Gaussian
    average of erf is the 1-D convolution E_w[erf(m + t w)] = erf(m/sqrt(1 + 2 t^2))
    (Ng & Geller 1969, 4.3.8); the outer expectation is integrated numerically.
    """
    from ..quadrature import gaussian_expectation_1d

    qq, cc = env[q], env[c]
    if abs(cc) > 1:
        raise DomainError("c", cc, "[-1, 1]")
    s = mp.sqrt(qq)
    k = s * cc / mp.sqrt(1 + 2 * qq * (1 - cc) * (1 + cc))
    return gaussian_expectation_1d(lambda x, w: mp.erf(s * x) * mp.erf(k * x), 1)


def _rho_moment(al, qq, power, coef=1):
    """E[(coef * rho_al(sqrt(q) z))^power] by quadrature with the kink at 0 (no homogeneity used)."""
    from ..quadrature import gaussian_expectation_1d

    return gaussian_expectation_1d(lambda x, w: (coef * w[0] ** al) ** power if w[0] > 0 else mp.zero, qq, [(1, 0)])


def _erf_dkernel_1d(env):
    r"""E[erf'(sqrt(q) u) erf'(sqrt(q) v)] as a 1-D quadrature (no kernel closed form used).

    erf'(y) = (2/sqrt(pi)) exp(-y^2); conditioning on u = z, v = c z + sqrt(1-c^2) w, the inner
    Gaussian average is E_w[exp(-(m + t w)^2)] = exp(-m^2/(1 + 2t^2)) / sqrt(1 + 2t^2); the outer
    expectation is integrated numerically.
    """
    from ..quadrature import gaussian_expectation_1d

    qq, cc = env[q], env[c]
    if abs(cc) > 1:
        raise DomainError("c", cc, "[-1, 1]")
    s = mp.sqrt(qq)
    d = 1 + 2 * qq * (1 - cc) * (1 + cc)
    k = 4 / (mp.pi * mp.sqrt(d))
    return gaussian_expectation_1d(lambda x, w: k * mp.exp(-qq * x * x - qq * cc * cc * x * x / d), 1)


def _critical_sigma_w2_numeric(env):
    r"""sigma_w^2 on chi1 = 1 for rho_alpha, from the defining equations solved numerically.

    Unknown q: sigma_w^2(q) = 1/E[rho_alpha'(sqrt q z)^2] (chi1 = 1) and the
    length fixed point q = sigma_w^2(q) E[rho_alpha(sqrt q z)^2] + sigma_b^2;
    every expectation is integrated at the trial q; secant iterations from
    q = 1, 2 until the step is below 10^(3 - dps) relative.
    """
    al, sb = env[alpha], env[sigma_b]

    def F(qq):
        Md = _rho_moment(al - 1, qq, 2, al)
        return qq - _rho_moment(al, qq, 2) / Md - sb * sb, Md

    def secant(q1, q2, tol):
        (f1, _), (f2, Md) = F(q1), F(q2)
        for _ in range(60):
            if f1 == f2:
                break
            q3 = q2 - f2 * (q2 - q1) / (f2 - f1)
            if not q3 > 0:
                raise DomainError("sigma_b", sb, "a critical point reachable by the secant method")
            q1, f1 = q2, f2
            q2, (f2, Md) = q3, F(q3)
            if abs(q2 - q1) <= tol * abs(q2):
                break
        return q2, Md

    # secant from q = 1, 2 at 15 digits, then refined at the working precision from there
    with mp.workdps(15):
        q0, _ = secant(mp.mpf(1), mp.mpf(2), mp.mpf(10) ** -12)
    q0 = mp.mpf(q0)
    _, Md = secant(q0, q0 * (1 + mp.mpf(10) ** -10), mp.mpf(10) ** (3 - mp.dps))
    return 1 / Md


def _relu_expansion_lhs(env):
    r"""(J(1-eps) - 1 + eps) / eps^(3/2), J = 2 E[relu(u) relu(v)] by the polar quadrature route."""
    from ..quadrature import gaussian_expectation_2d

    e = env[eps]
    extra = int(-mp.log10(e) * 1.5) + 10  # the difference cancels about 1.5 log10(1/eps) digits
    with mp.workdps(mp.dps + extra):
        cc = 1 - e
        K = gaussian_expectation_2d(lambda x, y, w: (w[0] if w[0] > 0 else 0) * (w[1] if w[1] > 0 else 0),
                                    1, 1, cc, degree=2, kinks=[(1, 0, 0), (0, 1, 0)])
        val = (2 * K - 1 + e) / e ** mp.mpf(1.5)
    return +val


def _relu_expansion_rhs():
    s, e = _mf().critical_expansion(__import__("symbolic_mf.activations", fromlist=["relu"]).relu(), 3)
    s = s.removeO()
    A, B = s.coeff(e ** sp.Rational(3, 2)), s.coeff(e ** sp.Rational(5, 2))
    return (A + B * e).subs(e, eps)


def _relu_expansion_tolerance(env):
    s, e = _mf().critical_expansion(__import__("symbolic_mf.activations", fromlist=["relu"]).relu(), 4)
    C = s.removeO().coeff(e ** sp.Rational(7, 2))
    return 2 * abs(mp.mpf(sp.N(C, mp.dps + 5))) * env[eps] ** 2


# -- registration ----------------------------------------------------------------------


def register(reg):
    add = reg.add

    def erf_K():
        K, qs, cs = _mf().erf_kernel()
        return K.subs({qs: q, cs: c})

    add(Identity(
        "mf.erf-kernel",
        "Arcsine kernel of erf, derived via Price's theorem: E[erf(sqrt(q) u) erf(sqrt(q) v)] = (2/pi) asin(2qc/(1+2q))",
        sp.Function("E_erf_erf")(q, c),
        erf_K,
        {q: RealInterval(0, 3, left_open=True, right_open=False, sharp="none"), c: CORRELATION},
        references=[WILLIAMS, PRICE, NG_GELLER],
        topics=[TOPIC],
        method="price",
        numeric={"lhs": _erf_kernel_1d},
        extra_points=[{"q": 1, "c": 1}, {"q": sp.Rational(1, 2), "c": sp.Rational(-1, 2)}],
        notes="lhs: 1-D quadrature after the inner Gaussian average of erf (Ng & Geller 4.3.8); "
              "rhs: dK/dc = q E[erf'(u) erf'(v)] = (4q/pi) det(I + 2q Sigma)^(-1/2) integrated from c = 0.",
    ))

    def erf_chi():
        K, qs, cs = _mf().erf_kernel()
        return sp.simplify(sp.diff(K, cs).subs(cs, 1) / qs).subs(qs, q)

    add(Identity(
        "mf.chi1-erf",
        "chi1/sigma_w^2 is the slope of the correlation map at c = 1 (erf): E[erf'(sqrt(q) z)^2] = q^-1 dK/dc at c = 1",
        expectation(sp.diff(sp.erf(sp.sqrt(q) * z), z) ** 2 / q),
        erf_chi,
        {q: RealInterval(0, 20, left_open=True, right_open=False, sharp="none")},
        references=[SCHOENHOLZ + ", eq. (5) and the stability of c* = 1", PRICE],
        topics=[TOPIC],
        method="price",
        notes="chi1 = sigma_w^2 E[phi'(sqrt(q*) z)^2] = d/dc [(sigma_w^2 K(q*, c) + sigma_b^2)/q*] at c = 1.",
    ))

    def hom_slope():
        from ..kernels import dual_kernel
        K = dual_kernel((alpha, a, b), c, method="hermite", elementary=False)
        return q ** (alpha - 1) * sp.diff(K, c).subs(c, 1)

    _X = sp.Symbol("x", real=True)
    dphi = sp.diff(a * rho(alpha, _X) - b * rho(alpha, -_X), _X)
    add(Identity(
        "mf.chi1-homogeneous",
        "chi1/sigma_w^2 as the slope of the correlation map at c = 1 for a rho_alpha(x) - b rho_alpha(-x): "
        "E[phi'(sqrt(q) z)^2] = q^(alpha-1) K_phi'(1)",
        expectation(dphi.subs(_X, sp.sqrt(q) * z) ** 2),
        hom_slope,
        {alpha: RealInterval(sp.S.Half, 4, left_open=True, right_open=False, sharp="lo"),
         a: RealInterval(-2, 2, left_open=False, right_open=False, sharp="none"),
         b: RealInterval(-2, 2, left_open=False, right_open=False, sharp="none"),
         q: RealInterval(0, 10, left_open=True, right_open=False, sharp="none")},
        references=[SCHOENHOLZ, "Yang & Schoenholz (2017), Mean field residual networks, NIPS"],
        topics=[TOPIC],
        method="hermite",
        notes="rhs: SymPy's derivative of the Hermite engine's 2F1 form of K_phi at c = 1 (a 2F1 at 1 summed by "
              "Gauss, convergent exactly when alpha > 1/2); lhs: 1-D quadrature at variance q.",
    ))

    def erf_length_slope():
        K, qs, cs = _mf().erf_kernel()
        return sp.diff(K.subs(cs, 1), qs).subs(qs, q)

    _y = sp.Symbol("y", real=True)
    _erf_y = sp.erf(_y)
    add(Identity(
        "mf.length-map-slope-erf",
        "xi_q: the slope of the length map, d/dq E[erf(sqrt(q) z)^2] = E[erf'^2 + erf erf''](sqrt(q) z) "
        "(Gaussian integration by parts), so V'(q*) = sigma_w^2 E[phi'^2 + phi phi''] and xi_q = -1/log V'(q*)",
        expectation((sp.diff(_erf_y, _y) ** 2 + _erf_y * sp.diff(_erf_y, _y, 2)).subs(_y, sp.sqrt(q) * z)),
        erf_length_slope,
        {q: RealInterval(0, 20, left_open=True, right_open=False, sharp="none")},
        references=[SCHOENHOLZ + ", eq. (4) and xi_q", POOLE],
        topics=[TOPIC],
        method="price",
        notes="rhs: SymPy's q-derivative of the Price-derived erf kernel at c = 1 (what meanfield uses for xi_q "
              "through the closed-form routes); lhs: the Stein form by 1-D quadrature.",
    ))

    def erf_corr_slope():
        K, qs, cs = _mf().erf_kernel()
        return (sp.diff(K, cs) / qs).subs({qs: q, cs: c})

    add(Identity(
        "mf.correlation-map-slope-erf",
        "xi_c: the slope of the correlation map at any c, q^-1 dK/dc = E[erf'(sqrt(q) u) erf'(sqrt(q) v)] "
        "(Price), so C'(c*) = sigma_w^2 E[phi'(u) phi'(v)] and xi_c = -1/log C'(c*)",
        sp.Function("E_derf_derf")(q, c),
        erf_corr_slope,
        {q: RealInterval(0, 3, left_open=True, right_open=False, sharp="none"), c: CORRELATION},
        references=[SCHOENHOLZ + ", eq. (5) and xi_c", PRICE],
        topics=[TOPIC],
        method="price",
        numeric={"lhs": _erf_dkernel_1d},
        extra_points=[{"q": 2, "c": sp.Rational(9, 10)}, {"q": sp.Rational(1, 2), "c": -1}],
        notes="rhs: SymPy's c-derivative of the Price-derived erf kernel over q; lhs: 1-D quadrature after the "
              "inner Gaussian average of erf' (a Gaussian). At c = 1 this is mf.chi1-erf.",
    ))

    def crit():
        d = _mf().critical_line_closed_form()
        S = d["symbols"]
        return d["sigma_w2"].subs({S["alpha"]: alpha, S["a"]: 1, S["b"]: 0, S["sigma_b"]: sigma_b})

    add(Identity(
        "mf.critical-line-rho",
        "Order-to-chaos line of rho_alpha (alpha != 1): sigma_w^2 = q*^(1-alpha)/Kdot(1) with q* = alpha^2 sigma_b^2/(alpha-1)^2",
        sp.Function("sigma_w2_critical")(alpha, sigma_b),
        crit,
        {alpha: RealInterval(sp.Rational(3, 5), 3, left_open=False, right_open=False, sharp="none"),
         sigma_b: RealInterval(0, 2, left_open=True, right_open=False, sharp="none")},
        assumptions=[sp.Ne(alpha, 1)],
        references=[SCHOENHOLZ + ", the chi1 = 1 line", POOLE],
        topics=[TOPIC],
        method="hermite",
        numeric={"lhs": _critical_sigma_w2_numeric},
        extra_points=[{"alpha": sp.Rational(3, 4), "sigma_b": sp.Rational(1, 10)}, {"alpha": 2, "sigma_b": 1}],
        notes="lhs: chi1 = 1 and V(q) = q solved numerically with both moments integrated at the trial q. "
              "rhs: SymPy's solution of the same pair with the engine's Gamma moments (the a, b factors cancel). "
              "For alpha = 1 the line is sigma_w^2 = 1/K(1) with no finite q* unless sigma_b = 0; sigma_b = 0 "
              "leaves no critical point for alpha != 1; alpha <= 1/2 has none (chi1 = oo).",
    ))

    def erf_line_part(which):
        def side():
            sw2, sb2, qs = _mf().erf_critical_line()
            sw2, sb2 = sw2.subs(qs, q), sb2.subs(qs, q)
            if which == "length":
                return sw2 * expectation(sp.erf(sp.sqrt(q) * z) ** 2) + sb2
            return sw2 * expectation(sp.diff(sp.erf(sp.sqrt(q) * z), z) ** 2 / q)
        return side

    add(Identity(
        "mf.critical-line-erf-length",
        "Order-to-chaos line of erf parametrised by q*: with sigma_w^2 = pi sqrt(1+4q)/4 and "
        "sigma_b^2 = q - sqrt(1+4q) asin(2q/(1+2q))/2, q is a fixed point of the length map",
        erf_line_part("length"),
        q,
        {q: RealInterval(0, 20, left_open=True, right_open=False, sharp="none")},
        references=[SCHOENHOLZ, WILLIAMS],
        topics=[TOPIC],
        method="price",
        notes="sigma_w(q), sigma_b(q) from meanfield.erf_critical_line (SymPy, from the derived erf moments); "
              "lhs by quadrature. Companion: mf.critical-line-erf-chi1.",
    ))
    add(Identity(
        "mf.critical-line-erf-chi1",
        "Order-to-chaos line of erf parametrised by q*: sigma_w^2(q) E[erf'(sqrt(q) z)^2] = 1",
        erf_line_part("chi1"),
        sp.S.One,
        {q: RealInterval(0, 20, left_open=True, right_open=False, sharp="none")},
        references=[SCHOENHOLZ, WILLIAMS],
        topics=[TOPIC],
        method="price",
    ))

    from ..activations import relu as _relu  # noqa: F401  (documented dependency)
    add(Identity(
        "mf.relu-critical-expansion",
        "ReLU normalised kernel at c = 1: J(1-eps) = 1 - eps + (2 sqrt 2/(3 pi)) eps^(3/2) + B eps^(5/2) + O(eps^(7/2)) "
        "(SymPy series of the engine's closed form); the eps^(3/2) term gives 1 - c^l ~ 9 pi^2/(2 l^2)",
        sp.Function("J_relu_expansion_ratio")(eps),
        _relu_expansion_rhs,
        {eps: RealInterval(sp.Rational(1, 10 ** 8), sp.Rational(1, 10 ** 3), left_open=False, right_open=False,
                           sharp="none")},
        references=[SCHOENHOLZ, "Cho & Saul (2009), arc-cosine kernel n = 1"],
        topics=[TOPIC],
        method="hermite",
        numeric={"lhs": _relu_expansion_lhs},
        tolerance=_relu_expansion_tolerance,
        extra_points=[{"epsilon": sp.Rational(1, 10 ** 6)}],
        notes="lhs: (J(1-eps) - 1 + eps)/eps^(3/2) with J by the polar quadrature at raised precision; the "
              "statement holds to O(eps^2) (tolerance twice the next series coefficient times eps^2).",
    ))
