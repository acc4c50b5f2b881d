r"""Kernels of activations that are not homogeneous: the Fourier engine and certified Mehler series.

Right sides are engine output (:mod:`symbolic_mf.engines.fourier`, derived
lazily on first use; :mod:`symbolic_mf.engines.hermite_series` for tanh,
SiLU and softplus).  Left sides are the Gaussian expectations they claim to
equal, for variances ``q1``, ``q2`` and correlation ``r`` (covariance
:math:`r\sqrt{q_1q_2}`), evaluated by the trapezoidal pair quadrature of
:mod:`symbolic_mf.pair_quadrature` — an independent numeric recipe (the
generic nested quadrature takes minutes per point on these oscillatory or
slowly decaying integrands at 30 digits).

The series identities hold to a *stated* accuracy: their ``tolerance`` is
the certified tail bound :math:`|r|^{K+1}\sqrt{T_1T_2}` plus the quadrature
allowance, and the verifier accepts :math:`|\mathrm{lhs} - \mathrm{rhs}| \le`
tolerance (never an exact PASS).
"""

from __future__ import annotations

import sympy as sp
from mpmath import mp

from ..domains import CORRELATION, RealInterval
from ..functions import GaussianExpectation, u, v
from ..identity import Identity

TOPIC = "fourier"

#: identities whose 30-digit verification takes more than ~10 s (erf-type integrands grow like
#: exp(q y^2) off the axis, so the reference quadrature needs a fine grid): the test suite runs
#: them, and their mutants, only with --full
SLOW = ("fourier.erf", "fourier.gelu", "fourier.gelu-derivative", "fourier.gaussian-bump", "fourier.tanh-series")

q1 = sp.Symbol("q1", positive=True)
q2 = sp.Symbol("q2", positive=True)
r = sp.Symbol("r", real=True)
c = sp.Symbol("c", real=True)
s = sp.Symbol("s", positive=True)
_x = sp.Symbol("x", real=True)

YPRSS = ("Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz (2019), A mean field theory of batch "
         "normalization, ICLR (Fourier route for non-homogeneous activations)")
WILLIAMS = "Williams (1997), Computing with infinite networks, NIPS (the erf / arcsine kernel)"
PRICE = "Price (1958), A useful theorem for nonlinear devices having Gaussian inputs, IRE Trans. Inf. Theory 4"
MEHLER = "Mehler's formula, DLMF 18.18.28"
TSUCHIDA = ("Tsuchida, Pearce, van der Heide, Roosta & Gallagher (2021), Avoiding kernel fixed points: "
            "computing with ELU and GELU infinite networks, AAAI")

#: variance domain (0, 2]: the pool reaches 2^-27 near 0; larger variances only slow the reference quadrature
VARIANCE = RealInterval(0, 2, left_open=True, right_open=False, sharp="none")
#: erf and GELU grow like exp(q y^2) off the real axis, which makes the reference quadrature's step ~ 1/sqrt(q)
VARIANCE_ERF = RealInterval(0, 1, left_open=True, right_open=False, sharp="none")


def _cov(q1_, q2_, r_):
    return [[q1_, r_ * sp.sqrt(q1_ * q2_)], [r_ * sp.sqrt(q1_ * q2_), q2_]]


def _lhs(phi_expr, extra_params=()):
    return GaussianExpectation(phi_expr.subs(_x, u) * phi_expr.subs(_x, v), [u, v], _cov(q1, q2, r))


def _pair_recipe(phi_expr, params=(), pole_distance=None, gauss_type=0, growth=0, digits=None):
    """Numeric left side: pair quadrature of phi(u) phi(v) (phi with parameters ``params``)."""
    from ..pair_quadrature import pair_expectation

    f = sp.lambdify([_x, *params], phi_expr, "mpmath")

    def recipe(env):
        pv = [env[p] for p in params]
        fn = lambda t: f(t, *pv)  # noqa: E731
        Q1, Q2, R = env[q1], env[q2], env[r]
        gt = gauss_type(env) if callable(gauss_type) else gauss_type
        D = None if digits is None else digits(mp.dps)
        return pair_expectation(fn, fn, Q1, Q2, R * mp.sqrt(Q1 * Q2), pole_distance, D, growth, gt)

    return recipe


def _fourier(phi, derivative=False):
    from ..engines import fourier as F
    p = phi.derivative() if derivative else phi
    res = F.derive_kernel(p, var1=F.q1, var2=F.q2).result
    return res.subs({F.q1: q1, F.q2: q2}, simultaneous=True).subs(F.cov, r * sp.sqrt(q1 * q2))


_VARS = {q1: VARIANCE, q2: VARIANCE, r: CORRELATION}


def register(reg):
    from .. import activations as A

    bump = A.Activation(sp.exp(-_x**2 / (2 * s**2)), "gaussian_bump")
    exact = [
        ("sin", A.sin(), False, dict(), "E[sin u sin v]: the transform of sin is two Dirac masses; "
         "characteristic function at k = +-1/(2 pi i)"),
        ("cos", A.cos(), False, dict(), "E[cos u cos v] from the Dirac spectrum of cos"),
        ("exp", A.exp(), False, dict(growth=1), "E[exp u exp v]: the moment generating function "
         "(characteristic function continued to imaginary frequency)"),
        ("erf", A.erf(), False, dict(gauss_type=1), "E[erf u erf v], the arcsine kernel, by the "
         "derivative route: Fourier on erf' (a Gaussian), then Price's theorem"),
        ("erf-derivative", A.erf(), True, dict(gauss_type=1), "NTK kernel E[erf'(u) erf'(v)] (Gaussian bumps)"),
        ("gelu", A.gelu(), False, dict(gauss_type=1), "E[gelu u gelu v], GELU = x Phi(x): Fourier on "
         "gelu'' = (2 - x^2) phi(x), Price's theorem twice"),
        ("gelu-derivative", A.gelu(), True, dict(gauss_type=1), "NTK kernel E[gelu'(u) gelu'(v)]: Fourier "
         "on gelu'', Price's theorem once"),
    ]
    for name, phi, deriv, kw, title in exact:
        expr = sp.diff(phi.expr, _x) if deriv else phi.expr
        reg.add(Identity(
            f"fourier.{name}",
            title,
            _lhs(expr),
            (lambda phi=phi, deriv=deriv: _fourier(phi, deriv)),
            dict(_VARS) if not kw.get("gauss_type") else {q1: VARIANCE_ERF, q2: VARIANCE_ERF, r: CORRELATION},
            references=[YPRSS, PRICE] + ([WILLIAMS] if "erf" in name else []) + ([TSUCHIDA] if "gelu" in name else []),
            topics=[TOPIC],
            method="fourier",
            numeric={"lhs": _pair_recipe(expr, (), **kw)},
            notes="Variances q1, q2 in (0, 2] ((0, 1] for erf and GELU), correlation r (covariance r sqrt(q1 q2)); the identity holds "
                  "for all q > 0, the reference quadrature only slows down for larger q.",
        ))
    reg.add(Identity(
        "fourier.gaussian-bump",
        "E[exp(-u^2/2s^2) exp(-v^2/2s^2)] from the transform s sqrt(2 pi) exp(-2 pi^2 s^2 k^2) "
        "(frequency integral one variable at a time)",
        GaussianExpectation(bump.expr.subs(_x, u) * bump.expr.subs(_x, v), [u, v], _cov(q1, q2, r)),
        lambda: _fourier(bump),
        {s: RealInterval(sp.Rational(1, 2), 3, left_open=False, right_open=False, sharp="none"), **_VARS},
        references=[YPRSS],
        topics=[TOPIC],
        method="fourier",
        numeric={"lhs": _pair_recipe(bump.expr, (s,), gauss_type=lambda env: 1 / (2 * env[s] ** 2))},
        notes="Holds for every s > 0; sampled on s in [1/2, 3] (a narrow bump slows the reference quadrature).",
    ))
    for name, make, tol in (("tanh", A.tanh, 1e-10), ("swish", A.swish, 1e-12), ("softplus", A.softplus, 1e-12)):
        _register_series(reg, name, make, tol)


def _series(make, tol):
    from ..engines.hermite_series import series_kernel
    return series_kernel(make(), tol=tol, dps=30)


def _register_series(reg, name, make, tol):
    from ..engines.hermite_series import POLE_DISTANCE

    phi = make()
    pole = mp.mpf(sp.N(POLE_DISTANCE[name], 40))
    tol_digits = int(-mp.log10(tol)) + 1

    def tolerance(env, make=make, tol=tol):
        return _series(make, tol).error_bound(env[c])

    lhs_num = _pair_recipe(phi.expr, (), pole_distance=pole, growth=1,
                           digits=lambda dps: tol_digits + 6 + dps // 5)
    reg.add(Identity(
        f"fourier.{name}-series",
        f"E[{name}(u) {name}(v)] as a Mehler series truncated with a certified tail bound below {tol:g} "
        f"(holds to that accuracy, not exactly)",
        GaussianExpectation(phi.expr.subs(_x, u) * phi.expr.subs(_x, v), [u, v], [[1, c], [c, 1]]),
        (lambda make=make, tol=tol: _series(make, tol).polynomial(c, 30)),
        {c: CORRELATION},
        references=[MEHLER, "Cauchy-Schwarz tail bound: |sum_{k>K} c^k a_k b_k| <= |c|^(K+1) sqrt(T_1 T_2)"],
        topics=[TOPIC],
        method="hermite-series",
        numeric={"lhs": lambda env, f=lhs_num: f({q1: mp.one, q2: mp.one, r: env[c]})},
        tolerance=tolerance,
        notes="Right side: sum_{k<=K} c^k alpha_k^2 with alpha_k = E[phi(z) He_k(z)]/sqrt(k!) from a "
              "trapezoidal rule at 50 digits (its change under a finer, wider rule is added to the bound). "
              "The tolerance is the certified bound |c|^(K+1) T + quadrature allowance, T = E[phi^2] - "
              "sum_k alpha_k^2; at c = +-1 it is attained (the tail is exactly T there).",
    ))
