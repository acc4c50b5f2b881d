r"""The batch-norm layer for general batch size m (Santurkar et al. 2018, §4 and appendix).

:func:`symbolic_mf.bnlayer.jacobian_structure` proves the structure of the
BN Jacobian exactly for a given m; here the statements are registered for
*general* m.  Each left side is an independent numeric recipe: the Jacobian
of the BN map obtained by numerical differentiation (``mpmath.diff``, at the
working precision) of the map itself, at the batch :math:`y_i = e^{s i/m}`
(non-constant for :math:`s > 0`); the right sides are the consequences of
:math:`J = \frac{\gamma}{\sigma}P`, :math:`P` the projector onto
:math:`\mathrm{span}\{\mathbf 1, y\}^\perp`, written as finite sums in m.
"""

from __future__ import annotations

import sympy as sp
from mpmath import mp

from ..domains import IntegerRange, RealInterval
from ..errors import DomainError
from ..identity import Identity

TOPIC = "bnlayer"
SANTURKAR = ("Santurkar, Tsipras, Ilyas, Madry (2018), How does batch normalization help optimization?, "
             "NeurIPS, section 4 and appendix C")

m = sp.Symbol("m", integer=True, positive=True)
s = sp.Symbol("s", positive=True)
gamma = sp.Symbol("gamma", positive=True)
i = sp.Symbol("i", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)


def _m(env, lo=2):
    v = env[m]
    if v != mp.nint(v) or v < lo:
        raise DomainError("m", v, f"integer batch size m >= {lo}")
    return int(mp.nint(v))


def _batch(mm, ss):
    return [mp.exp(ss * (j + 1) / mm) for j in range(mm)]


def _bn(y, g=1, delta=0):
    mm = len(y)
    mu = mp.fsum(y) / mm
    var = mp.fsum((v - mu) ** 2 for v in y) / (mm - delta)
    return [g * (v - mu) / mp.sqrt(var) for v in y]


def _sigma(y, delta=0):
    mm = len(y)
    mu = mp.fsum(y) / mm
    return mp.sqrt(mp.fsum((v - mu) ** 2 for v in y) / (mm - delta))


def _jac_entry(y, a, b, g=1, delta=0):
    """dz_a/dy_b by numerical differentiation of the BN map."""
    def f(t):
        yy = list(y)
        yy[b] += t
        return _bn(yy, g, delta)[a]
    return mp.diff(f, 0)


def _trace_lhs(delta):
    def f(env):
        mm = _m(env)
        y = _batch(mm, env[s])
        g = env[gamma]
        return _sigma(y, delta) / g * mp.fsum(_jac_entry(y, a, a, g, delta) for a in range(mm))
    return f


def _frob_lhs(env):
    mm = _m(env)
    y = _batch(mm, env[s])
    g = env[gamma]
    tot = mp.fsum(_jac_entry(y, a, b, g) ** 2 for a in range(mm) for b in range(mm))
    return _sigma(y) ** 2 / g ** 2 * tot


def _grad_lhs(env):
    """||J^T g||^2 with g_i = cos(i), J by numerical differentiation."""
    mm = _m(env)
    y = _batch(mm, env[s])
    g = env[gamma]
    gv = [mp.cos(j + 1) for j in range(mm)]
    J = [[_jac_entry(y, a, b, g) for b in range(mm)] for a in range(mm)]
    return mp.fsum(mp.fsum(J[a][b] * gv[a] for a in range(mm)) ** 2 for b in range(mm))


def register(reg):
    add = reg.add
    dom = {m: IntegerRange(2, 24), s: RealInterval(0, 4, sharp="none"),
           gamma: RealInterval(sp.Rational(1, 4), 4, left_open=False, right_open=False, sharp="none")}
    add(Identity(
        "bnlayer.jacobian-trace",
        "BN Jacobian (biased variance): sigma tr(J)/gamma = m - 2, the rank of the projector",
        sp.Function("sigma_trJ_over_gamma")(m, s, gamma),
        m - 2,
        dom,
        references=[SANTURKAR + " (Fact C.2)"],
        topics=[TOPIC],
        numeric={"lhs": _trace_lhs(0)},
        notes="lhs: mpmath.diff of the BN map at y_i = exp(s i/m); J = (gamma/sigma)(I - 11^T/m - yhat yhat^T/m).",
    ))
    add(Identity(
        "bnlayer.jacobian-trace-unbiased",
        "BN Jacobian (unbiased variance): sigma_u tr(J)/gamma = m - 2 (same projector, other scale)",
        sp.Function("sigma_u_trJ_over_gamma")(m, s, gamma),
        m - 2,
        dom,
        references=[SANTURKAR],
        topics=[TOPIC],
        numeric={"lhs": _trace_lhs(1)},
    ))
    dom16 = dict(dom)
    dom16[m] = IntegerRange(2, 12)
    dom3 = dict(dom16)
    dom3[m] = IntegerRange(3, 12)      # m = 2: both sides vanish (J = 0), a cancellation the verifier cannot rate
    add(Identity(
        "bnlayer.jacobian-frobenius",
        "BN Jacobian: sigma^2 ||J||_F^2/gamma^2 = m - 2 (all non-zero singular values equal gamma/sigma)",
        sp.Function("sigma2_frobJ2_over_gamma2")(m, s, gamma),
        m - 2,
        dom16,
        references=[SANTURKAR],
        topics=[TOPIC],
        numeric={"lhs": _frob_lhs},
    ))
    # Thm 4.1 with equality, for general m: y_i = exp(s i/m), g_i = cos(i)
    y_ = lambda idx: sp.exp(s * idx / m)
    mu = sp.Sum(y_(k), (k, 1, m)) / m
    var = sp.Sum((y_(i) - mu) ** 2, (i, 1, m)) / m
    gg = sp.Sum(sp.cos(i) ** 2, (i, 1, m))
    g1 = sp.Sum(sp.cos(i), (i, 1, m))
    gy = sp.Sum(sp.cos(i) * (y_(i) - mu), (i, 1, m))
    rhs = gamma ** 2 / var * (gg - g1 ** 2 / m - gy ** 2 / (m * var))
    add(Identity(
        "bnlayer.gradient-norm",
        "Thm 4.1 as an identity: ||grad_y Lhat||^2 = gamma^2/sigma^2 (||g||^2 - <1,g>^2/m - <g,yhat>^2/m)",
        sp.Function("norm2_JT_g")(m, s, gamma),
        rhs,
        dom3,
        references=[SANTURKAR + ", Thm 4.1 (printed as an inequality)"],
        topics=[TOPIC],
        numeric={"lhs": _grad_lhs},
        notes="g_i = cos(i) stands for any upstream gradient; the claims santurkar.thm41* check random ones exactly.",
    ))
