r"""Mean field of residual networks (Yang & Schoenholz 2017): recursions, asymptotic laws, depth-dependent initialisation.

Networks (width N → ∞, weights :math:`\mathcal N(0, \sigma^2/N)`, biases :math:`\mathcal N(0, \sigma^2)`):

* **full**: :math:`h^l = W^l x^{l-1} + b^l`, :math:`x^l = V^l\phi(h^l) + x^{l-1} + a^l`;
* **reduced**: :math:`x^l = \phi(W^l x^{l-1} + b^l) + x^{l-1}` (no V, no a).

With :math:`p^l = \mathbb E[(x^l_i)^2]`, :math:`q^l = \mathbb E[(h^l_i)^2]`, for
two inputs :math:`\gamma^l = \mathbb E[x_i x'_i]`, :math:`\lambda^l =
\mathbb E[h_i h'_i]`, correlations :math:`e^l = \gamma^l/p^l`,
:math:`c^l = \lambda^l/q^l`, and the gradient
:math:`\chi^l = \mathbb E[(\partial E/\partial x^l_i)^2]`:

.. math::

   q^l = \sigma_w^2 p^{l-1} + \sigma_b^2,\quad
   p^l = p^{l-1} + \sigma_v^2\,\mathbb E[\phi(\sqrt{q^l}z)^2] + \sigma_a^2,\quad
   \lambda^l = \sigma_w^2\gamma^{l-1} + \sigma_b^2,\quad
   \gamma^l = \gamma^{l-1} + \sigma_v^2\,\mathbb E[\phi(u)\phi(v)] + \sigma_a^2,

.. math::

   \chi^{l-1} = \chi^l\,(1 + \sigma_v^2\sigma_w^2\,\mathbb E[\phi'(\sqrt{q^l}z)^2]).

In the full network every cross term :math:`\mathbb E[x^{l-1}_i (V\phi(h))_i]`
vanishes because V has mean zero (and V, a are independent of the rest).
The reduced network has no V: :math:`\mathbb E[x^{l-1}_i\phi(h^l_i)] =
m^{l-1}\,\mathbb E[\phi(h^l_i)]` with :math:`m^l = \mathbb E[x^l_i]` (in the
mean-field limit :math:`h^l_i` is independent of :math:`x^{l-1}_i`), so

* ``variant="reduced"`` (the paper's form, σ_v = 1, σ_a = 0) drops that cross
  term and is valid **only when** :math:`\mathbb E[\phi(\sqrt q z)] = 0`
  (odd φ: tanh, erf, a·ρ_α(x) − a·ρ_α(−x)); it is enforced, with
  :class:`~symbolic_mf.errors.DomainError` otherwise;
* ``variant="reduced-mean"`` keeps it through the mean recursion
  :math:`m^l = m^{l-1} + \mathbb E\phi(h^l)`,
  :math:`p^l = p^{l-1} + \mathbb E\phi^2 + 2m^{l-1}\mathbb E\phi` (inputs with
  :math:`m^0 = 0`), valid for any φ.

The backward recursion uses the gradient-independence assumption (the
weights of the backward pass are treated as independent of the forward ones).

>>> from symbolic_mf.activations import relu, erf
>>> r = iterate(relu(), 3, sigma_w=1, sigma_v=1, dps=20)
>>> [mp.nstr(v, 10) for v in r.p]     # p^l = (3/2)^l for sigma_b = sigma_a = 0
['1.0', '1.5', '2.25', '3.375']
>>> iterate(relu(), 2, variant="reduced")
Traceback (most recent call last):
...
symbolic_mf.errors.DomainError: phi = relu is outside its valid range: E[phi(h)] = 0 for the reduced residual network (it drops the cross term 2 m E[phi(h)]; here E[phi(sqrt(q) z)] = 0.398942 at q = 1.0): use variant='reduced-mean' or an odd activation
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import sympy as sp
from mpmath import mp

from .activations import Activation, HomogeneousActivation
from .errors import DomainError
from .meanfield import GUARD, _activation, _mp, moments

__all__ = ["VARIANTS", "ResidualTrajectory", "iterate", "local_slopes", "asymptotics", "optimal_scaling", "exponent_checks",
           "fit_exponent", "correlation_fixed_point", "correlation_approach", "pre_asymptotic_slopes"]

VARIANTS = ("full", "reduced", "reduced-mean")


@dataclass
class ResidualTrajectory:
    """Values of the recursions at the recorded layers ``layers`` (0 = input).

    ``p, q``: lengths; ``e, c``: correlations of x and h (when two inputs are
    tracked); ``one_minus_e``: :math:`1 - e^l` computed without cancellation
    where the route allows; ``log_chi``: :math:`\\log(\\chi^0/\\chi^l)`, the
    log of the gradient growth from layer l back to the input; ``m``: the
    mean (``reduced-mean``).
    """

    layers: List[int] = field(default_factory=list)
    p: list = field(default_factory=list)
    q: list = field(default_factory=list)
    e: list = field(default_factory=list)
    c: list = field(default_factory=list)
    one_minus_e: list = field(default_factory=list)
    log_chi: list = field(default_factory=list)
    m: list = field(default_factory=list)


def _odd_check(phi, mom, q, dps):
    mean = mom.mean(q)
    scale = mp.sqrt(abs(mom.second(q))) + mp.mpf(10) ** (-dps)
    if abs(mean) > scale * mp.mpf(10) ** (-(dps - 5)):
        raise DomainError("phi", phi.name, "E[phi(h)] = 0 for the reduced residual network (it drops the cross term "
                          f"2 m E[phi(h)]; here E[phi(sqrt(q) z)] = {mp.nstr(mean, 6)} at q = {mp.nstr(q, 6)}): "
                          "use variant='reduced-mean' or an odd activation")


def _relu_one_minus_J(eps):
    r""":math:`1 - J_1(1 - \varepsilon)` for the normalised arc-cosine kernel, without cancellation."""
    from .meanfield import _theta_minus_sin
    th = 2 * mp.asin(mp.sqrt(eps / 2))
    return ((mp.pi - th) * eps + _theta_minus_sin(th)) / mp.pi  # 1 - cos(th) = eps


def iterate(phi, depth: int, sigma_w=1, sigma_v=1, sigma_b=0, sigma_a=0, p0=1, e0=None, variant: str = "full",
            dps: int = 30, record: Optional[Sequence[int]] = None, mom=None) -> ResidualTrajectory:
    r"""Iterate the forward and backward mean-field recursions for ``depth`` layers.

    ``p0`` is the input length :math:`p^0`; ``e0`` (optional) the input
    correlation :math:`e^0`, which switches on the two-input recursions.
    ``record``: the layers to keep (default: all); by default every layer is
    kept, so pass checkpoints for long runs (10⁶ layers).  Closed forms from
    :class:`~symbolic_mf.meanfield.Moments` are used per layer; for degree-1
    homogeneous activations :math:`1 - e^l` is propagated directly
    (:math:`\varepsilon^l p^l = \varepsilon^{l-1}p^{l-1} + \Delta(1-J(1-\varepsilon))`
    plus bias terms), so correlations within :math:`10^{-40}` of 1 keep their digits.
    ``mom`` overrides the moment provider (e.g. the double-precision
    Gauss-Hermite one of :mod:`symbolic_mf.simulation`).

    >>> from symbolic_mf.activations import erf
    >>> r = iterate(erf(), 3, sigma_w=1, e0=0.5, variant="reduced", dps=20)
    >>> [mp.nstr(v, 8) for v in r.e]
    ['0.5', '0.48912121', '0.47694915', '0.46446659']
    """
    if variant not in VARIANTS:
        raise DomainError("variant", variant, "one of " + ", ".join(VARIANTS))
    if not isinstance(depth, int) or depth < 0:
        raise DomainError("depth", depth, "an integer >= 0")
    phi = _activation(phi)
    mom = moments(phi, dps) if mom is None else mom
    with mp.workdps(dps + GUARD):
        sw, sv, sb, sa = (_mp(v, n) for v, n in ((sigma_w, "sigma_w"), (sigma_v, "sigma_v"),
                                                 (sigma_b, "sigma_b"), (sigma_a, "sigma_a")))
        for v, n in ((sw, "sigma_w"), (sv, "sigma_v")):
            if not v > 0:
                raise DomainError(n, v, f"{n} > 0")
        for v, n in ((sb, "sigma_b"), (sa, "sigma_a")):
            if v < 0:
                raise DomainError(n, v, f"{n} >= 0")
        if variant != "full" and (sv != 1 or sa != 0):
            raise DomainError("sigma_v", sigma_v, "sigma_v = 1 and sigma_a = 0 for the reduced network (it has no V, a)")
        p = _mp(p0, "p0")
        if not p > 0:
            raise DomainError("p0", p0, "p0 > 0")
        two = e0 is not None
        e = _mp(e0, "e0") if two else None
        if two and abs(e) > 1:
            raise DomainError("e0", e0, "a correlation in [-1, 1]")
        if variant == "reduced":
            _odd_check(phi, mom, sw ** 2 * p + sb ** 2, dps)
        deg1 = isinstance(phi, HomogeneousActivation) and phi.alpha == 1 and phi.b == 0
        eps = (1 - e) if two else None
        m = mp.zero
        log_chi = mp.zero
        sw2, sv2, sb2, sa2 = sw ** 2, sv ** 2, sb ** 2, sa ** 2
        K1 = mom.second(1) if deg1 else None
        rec = set(range(depth + 1)) if record is None else set(int(r) for r in record)
        out = ResidualTrajectory()

        def keep(l, qv, cv):
            out.layers.append(l)
            out.p.append(p)
            out.q.append(qv)
            out.log_chi.append(log_chi)
            out.m.append(m)
            if two:
                out.e.append(1 - eps if deg1 else e)
                out.one_minus_e.append(eps if deg1 else 1 - e)
                out.c.append(cv)

        if 0 in rec:
            keep(0, None, None)
        for l in range(1, depth + 1):
            q = sw2 * p + sb2
            second = mom.second(q)
            dsec = mom.dsecond(q)
            m_old = m
            if variant == "reduced-mean":
                mean = mom.mean(q)
                dp = second + 2 * m_old * mean
                m = m_old + mean
            else:
                dp = sv2 * second + sa2
            cv = None
            if two:
                if deg1:
                    # lambda = sw2 gamma + sb2, so 1 - c = sw2 p eps / q; gamma increment = sv2 q K1 J(c) + sa2
                    one_m_c = sw2 * p * eps / q
                    one_m_J = _relu_one_minus_J(one_m_c)
                    inc_gap = sv2 * q * K1 * one_m_J  # (p-increment) - (gamma-increment) from the kernel
                    if variant == "reduced-mean":
                        inc_gap = q * K1 * one_m_J  # the mean terms are equal for both inputs
                    p_new = p + dp
                    eps = (eps * p + inc_gap) / p_new
                    cv = 1 - one_m_c
                else:
                    lam_c = (sw2 * e * p + sb2) / q
                    lam_c = max(min(lam_c, mp.one), -mp.one)
                    K = mom.kernel(q, lam_c)
                    if variant == "reduced-mean":
                        dg = K + 2 * m_old * mean
                    else:
                        dg = sv2 * K + sa2
                    p_new = p + dp
                    e = (e * p + dg) / p_new
                    cv = lam_c
                p = p_new
            else:
                p = p + dp
            log_chi += mp.log1p(sv2 * sw2 * dsec)
            if l in rec:
                keep(l, q, cv)
    return out


def local_slopes(xs, ys):
    r"""Local log–log slopes :math:`\Delta\log y/\Delta\log x` between consecutive points.

    >>> [mp.nstr(s, 6) for s in local_slopes([1, 10, 100], [1, 100, 10000])]
    ['2.0', '2.0']
    """
    out = []
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        out.append((mp.log(abs(y1)) - mp.log(abs(y0))) / (mp.log(x1) - mp.log(x0)))
    return out


def fit_exponent(xs, ys, correction=None):
    r"""Exponent of :math:`y \sim C x^{k}` from the last local slopes, extrapolated.

    The local slope between :math:`x` and :math:`rx` behaves like
    :math:`k + d\,x^{-\omega}`; with ``correction = omega`` the last three
    slopes (geometric x) are Richardson-extrapolated to remove that term;
    with ``None`` the last slope is returned.

    >>> xs = [10 ** k for k in range(1, 7)]
    >>> ys = [x ** 2 * (1 + 1 / mp.sqrt(x)) for x in xs]
    >>> print(mp.nstr(fit_exponent(xs, ys, correction=0.5), 4))
    2.0
    """
    s = local_slopes(xs, ys)
    if correction is None:
        return s[-1]
    r = (mp.mpf(xs[-1]) / xs[-2]) ** (-mp.mpf(correction))
    s1, s2 = s[-2], s[-1]
    return (s2 - r * s1) / (1 - r)


# ---------------------------------------------------------------------------
# the correlation of alpha-ReLU residual networks (1/2 < alpha < 1): e* and the approach to it


@functools.lru_cache(maxsize=16)
def _corr_fp(name, srepr, dps, order):
    from .kernels import c as csym, normalized_kernel
    phi = _PHI_BY_KEY[(name, srepr)]
    J = normalized_kernel(phi)
    fs = [sp.lambdify(csym, sp.diff(J, csym, k), "mpmath") for k in range(order + 1)]
    with mp.workdps(dps + GUARD):
        g = lambda e: fs[0](e) - e
        lo, hi = mp.zero, None
        if not g(lo) > 0:
            raise DomainError("phi", name, "an activation with J(0) > 0 (the correlation fixed point e* in (0, 1))")
        for k in range(1, dps // 2):
            e = 1 - mp.mpf(10) ** (-k)
            if g(e) < 0:
                hi = e
                break
            lo = e
        if hi is None:
            raise DomainError("phi", name, "J'(1) > 1 (no fixed point of the normalised kernel below 1)")
        est = mp.findroot(g, (lo, hi), solver="anderson")
        if not (lo < est < hi) or abs(g(est)) > mp.mpf(10) ** (-dps):
            raise DomainError("phi", name, "a correlation map whose fixed point the root finder resolves")  # pragma: no cover
        taylor = [fs[k](est) / mp.factorial(k) for k in range(order + 1)]
    return est, taylor


_PHI_BY_KEY = {}


def correlation_fixed_point(phi, dps: int = 40, order: int = 8):
    r"""The correlation limit :math:`e^*` of the full α-ReLU residual network (½ < α < 1) and J's Taylor series there.

    Asymptotically :math:`e^l - e^{l-1} = \frac{\Delta p^l}{p^l}(J(e^{l-1}) - e^{l-1})`
    with J the normalised kernel of the engine (:func:`~symbolic_mf.kernels.normalized_kernel`,
    a sum of :math:`{}_2F_1`'s in c²), so :math:`e^l` tends to the attracting
    root :math:`e^*\in(0, 1)` of :math:`J(e) = e` (the root e = 1 repels, J'(1) > 1).
    Returns ``(e_star, taylor)`` with ``taylor[k]`` :math:`= J^{(k)}(e^*)/k!`
    (SymPy derivatives of the 2F1 form evaluated at ``dps`` digits), ``k <= order``.

    >>> from symbolic_mf.activations import rho_alpha
    >>> es, t = correlation_fixed_point(rho_alpha(sp.Rational(3, 4)), 30, 2)
    >>> print(mp.nstr(1 - es, 12), mp.nstr(t[1], 12))      # 1 - e*, J'(e*)
    0.00427719195109 0.968795533286
    """
    phi = _activation(phi)
    if not (isinstance(phi, HomogeneousActivation) and sp.S.Half < phi.alpha < 1):
        raise DomainError("phi", phi.name, "an alpha-homogeneous activation with 1/2 < alpha < 1")
    if not (isinstance(dps, int) and 10 <= dps <= 1000):
        raise DomainError("dps", dps, "an integer in [10, 1000]")
    if not (isinstance(order, int) and 1 <= order <= 30):
        raise DomainError("order", order, "an integer in [1, 30]")
    key = (phi.name, sp.srepr(phi.expr))
    _PHI_BY_KEY[key] = phi
    est, taylor = _corr_fp(key[0], key[1], dps, order)
    with mp.workdps(dps):
        return +est, [+t for t in taylor]


def correlation_approach(phi, depth: int, delta0_rel=mp.mpf("1e-8"), sigma_w=1, sigma_v=1, p0=1, dps: int = 40,
                         record: Optional[Sequence[int]] = None):
    r"""Iterate the exact correlation recursion of the full α-ReLU residual network with :math:`\delta = e - e^*` as the variable.

    With σ_b = σ_a = 0 the recursions :math:`p^l = p^{l-1} + \Delta^l`,
    :math:`\Delta^l = \sigma_v^2K(1)(\sigma_w^2p^{l-1})^\alpha` and
    :math:`\gamma^l = \gamma^{l-1} + \Delta^l J(e^{l-1})` give, exactly,

    .. math:: \delta^l = \delta^{l-1} + \frac{\Delta^l}{p^l}\,g(\delta^{l-1}),\qquad g(\delta) = J(e^* + \delta) - e^* - \delta,

    so no digits cancel however small δ is.  The fast path: g is evaluated
    from the Taylor series of J at e* (:func:`correlation_fixed_point`,
    computed once) instead of one 2F1 per layer; its radius is 1 - e*
    (the branch point of J at c = 1), so the start is restricted to
    :math:`|\delta^0| \le 10^{-4}(1 - e^*)` (``delta0_rel`` is
    :math:`\delta^0/(1 - e^*)`, negative starts below e*) and the order is chosen so
    the first omitted term is below :math:`10^{-\text{dps}}|\delta|` (|δ| only shrinks).
    Returns ``(layers, delta, p, order)``.

    >>> from symbolic_mf.activations import rho_alpha
    >>> ls, d, p, n = correlation_approach(rho_alpha(sp.Rational(3, 4)), 1000, dps=30, record=[500, 1000])
    >>> print(mp.nstr(local_slopes(ls, d)[0], 6))       # -> -(1 - J'(e*))/(1 - alpha) = -0.1248
    -0.123686
    """
    phi = _activation(phi)
    if not isinstance(depth, int) or depth < 1:
        raise DomainError("depth", depth, "an integer >= 1")
    es, t = correlation_fixed_point(phi, dps + GUARD, 8)
    with mp.workdps(dps + GUARD):
        gap = 1 - es
        d0 = _mp(delta0_rel, "delta0_rel")
        if not (0 < abs(d0) <= mp.mpf("1e-4")):
            raise DomainError("delta0_rel", delta0_rel, "0 < |delta0_rel| <= 1e-4 (the Taylor fast path needs "
                                                        "|e^0 - e*| well inside the radius 1 - e*)")
        delta = d0 * gap
        # order: first omitted term a_(n+1) |delta|^n below 10^-dps (relative to |delta|)
        n = 1
        while n < len(t) - 1 and abs(t[n + 1]) * abs(delta) ** n > mp.mpf(10) ** (-(dps + GUARD)):
            n += 1
        if n >= len(t) - 1:
            raise DomainError("delta0_rel", delta0_rel, "a smaller start (the Taylor series needs more than 7 terms)")
        coef = [t[0] - es, t[1] - 1] + t[2:n + 1]
        sw, sv, p = _mp(sigma_w, "sigma_w"), _mp(sigma_v, "sigma_v"), _mp(p0, "p0")
        if not (sw > 0 and sv > 0 and p > 0):
            raise DomainError("sigma_w", sigma_w, "sigma_w, sigma_v, p0 > 0")
        al = mp.mpf(sp.N(phi.alpha, dps + 2 * GUARD))
        from .kernels import kernel_constant
        K1 = mp.mpf(sp.N(kernel_constant(phi), dps + 2 * GUARD))
        A = sv ** 2 * K1 * sw ** (2 * al)
        rec = set(range(depth + 1)) if record is None else set(int(r) for r in record)
        layers, ds, ps = [], [], []
        if 0 in rec:
            layers.append(0), ds.append(delta), ps.append(p)
        rev = coef[::-1]
        for l in range(1, depth + 1):
            inc = A * p ** al
            p = p + inc
            g = mp.zero
            for a_ in rev:
                g = g * delta + a_
            delta = delta + inc / p * g
            if l in rec:
                layers.append(l), ds.append(delta), ps.append(p)
    with mp.workdps(dps):
        return layers, [+v for v in ds], [+v for v in ps], n


def pre_asymptotic_slopes(phi, depth: int = 20000, e0=0.5, dps: int = 15, points: int = 12, ratio=mp.mpf("1.25")):
    r"""Why a run from far away measures another slope: local slopes against the continuum law at the current e.

    Iterates the exact full recursion (σ_w = σ_v = 1, σ_b = σ_a = 0, one 2F1 per
    layer via :func:`iterate`) from ``e0`` and, at ``points`` layers l spaced
    geometrically up to ``depth``, compares the measured local slope of
    :math:`|e - e^*|` between :math:`l/r` and l with the slope the continuum equation
    :math:`de/d\log l = (J(e) - e)/(1-\alpha)` predicts at the current e,
    :math:`\frac{1}{1-\alpha}\frac{J(e) - e}{e - e^*}` (averaged over the two
    ends), which tends to the asymptotic :math:`-(1 - J'(e^*))/(1-\alpha)` only
    once :math:`|e - e^*| \ll 1 - e^*`.  Rows ``(l, e^l - e^*, measured, predicted)``.

    >>> from symbolic_mf.activations import rho_alpha
    >>> rows = pre_asymptotic_slopes(rho_alpha(sp.Rational(3, 4)), 300, points=2)
    >>> [(l, mp.nstr(m, 3), mp.nstr(pr, 3)) for l, _, m, pr in rows]
    [(240, '-0.474', '-0.491'), (300, '-0.458', '-0.471')]
    """
    phi = _activation(phi)
    es, _ = correlation_fixed_point(phi, dps + GUARD, 1)
    ls = sorted(set(int(mp.floor(depth / ratio ** k)) for k in range(points + 1)))
    ls = [l for l in ls if l >= 1]
    r = iterate(phi, ls[-1], e0=e0, dps=dps, record=ls)
    m = moments(phi, dps)
    al = mp.mpf(sp.N(phi.alpha, dps + GUARD))
    with mp.workdps(dps + GUARD):
        K1 = m.second(1)
        pred = [(m.kernel(1, e) / K1 - e) / ((1 - al) * (e - es)) for e in r.e]
        rows = []
        for i in range(1, len(r.layers)):
            meas = local_slopes(r.layers[i - 1:i + 1], [e - es for e in r.e[i - 1:i + 1]])[0]
            rows.append((r.layers[i], r.e[i] - es, meas, (pred[i - 1] + pred[i]) / 2))
    return rows


# ---------------------------------------------------------------------------
# asymptotic laws, derived


def asymptotics(phi, sigma_w=None, sigma_v=None, sigma_a=0, variant="full"):
    r"""The depth asymptotics of the recursions, derived with SymPy.

    Returns a dict with (where they apply) ``p_exponent`` (p^l ~ C l^k),
    ``p_constant``, ``p_rate`` (p^l ~ C r^l), ``chi_exponent``
    (:math:`\chi^0/\chi^l \sim l^{k}`), ``chi_rate`` (exponential),
    ``log_chi_sqrt`` (:math:`\log\chi^0/\chi^l \sim D\sqrt l`), ``e_limit``
    (:math:`e^l\to e^*`), ``e_exponent`` (:math:`|e^l - e^*| \sim l^{-k}`),
    ``e_constant`` and ``regime``.  Symbols ``sigma_w``, ``sigma_v`` are used
    when not given.

    * α-homogeneous ρ-type (b = 0), ½ < α < 1, full network: the continuum
      equation :math:`dp/dl = \sigma_v^2K(1)(\sigma_w^2 p)^\alpha` solved by
      ``dsolve``; :math:`\log\chi` grows like :math:`\int\sigma_v^2\sigma_w^2
      \dot K(1)q^{\alpha-1}dl`, whose coefficient of :math:`\log l` is the
      exponent; the correlation goes to the fixed point e* of J, at the rate
      :math:`(1 - J'(e^*))/(1-\alpha)`: ``e_rate_coefficient`` :math:`=\lim l\,p'/p = 1/(1-\alpha)`
      (SymPy), ``e_limit`` = e* and ``e_exponent`` from the engine's kernel
      (:func:`correlation_fixed_point`, 30 digits).
    * α = 1 (ReLU): exponential p and χ; :math:`1 - e^l \sim 4/(rA)^2 l^{-2}` with
      :math:`r = \sigma_v^2\sigma_w^2K(1)/(1+\sigma_v^2\sigma_w^2K(1))` and A
      the ε^{3/2} coefficient of :func:`~symbolic_mf.meanfield.critical_expansion`.
    * odd, bounded, tanh-like φ (tanh, erf; φ(±∞) = ±1): :math:`p^l \sim
      (\sigma_v^2+\sigma_a^2)\,l`, :math:`\log\chi^0/\chi^l \sim
      2\sigma_v^2\sigma_w I\sqrt l/\sqrt{2\pi(\sigma_v^2+\sigma_a^2)}` with
      :math:`I = \int\phi'(x)^2dx` (SymPy), and for σ_a = 0 :math:`e^l \to 0`
      like :math:`l^{-(1-2/\pi)}` (the large-q kernel is the sign kernel
      :math:`(2/\pi)\arcsin c`, slope 2/π at 0).

    >>> from symbolic_mf.activations import rho_alpha, tanh
    >>> d = asymptotics(rho_alpha(sp.Rational(3, 4)))
    >>> d["p_exponent"], d["chi_exponent"]
    (4, 9/2)
    >>> print(d["e_rate_coefficient"], sp.N(d["e_exponent"], 10))
    4 0.1248178669
    >>> d = asymptotics(tanh(), variant="reduced")
    >>> d["p_exponent"], d["e_exponent"], d["log_chi_sqrt"]
    (1, (-2 + pi)/pi, 4*sqrt(2)*sigma_w/(3*sqrt(pi)))
    """
    from .meanfield import critical_expansion

    phi = _activation(phi)
    sw = sp.Symbol("sigma_w", positive=True) if sigma_w is None else sp.nsimplify(sigma_w)
    sv = sp.Symbol("sigma_v", positive=True) if sigma_v is None else sp.nsimplify(sigma_v)
    sa = sp.nsimplify(sigma_a)
    if variant != "full":
        sv, sa = sp.S.One, sp.S.Zero
    l = sp.Symbol("l", positive=True)
    out = {}
    if isinstance(phi, HomogeneousActivation):
        from .kernels import kernel_constant
        al = phi.alpha
        K1 = kernel_constant(phi)
        Kd1 = sp.factor(sp.expand_func(kernel_constant(HomogeneousActivation(al - 1, al * phi.a, -al * phi.b))))
        if not al > sp.S.Half:
            raise DomainError("phi", phi.name, "alpha > 1/2 (E[phi'^2] = oo otherwise: the gradient is infinite)")
        if al < 1:
            P = sp.Function("P")
            sol = sp.dsolve(sp.Eq(P(l).diff(l), sv ** 2 * K1 * (sw ** 2 * P(l)) ** al), P(l))
            sols = sol if isinstance(sol, list) else [sol]
            lead = None
            for s_ in sols:
                r = s_.rhs.subs({s: 0 for s in s_.rhs.free_symbols if s.name == "C1"})
                r = sp.simplify(r)
                if r.is_positive is not False:
                    lead = r
                    break
            k = sp.simplify(sp.expand_log(sp.log(lead.subs(l, 2) / lead.subs(l, 1)), force=True) / sp.log(2))
            out["regime"] = "polynomial (alpha < 1)"
            out["p_exponent"] = sp.nsimplify(sp.simplify(k))
            out["p_constant"] = sp.simplify(lead / l ** out["p_exponent"])
            integrand = sv ** 2 * sw ** 2 * Kd1 * (sw ** 2 * lead) ** (al - 1)
            out["chi_exponent"] = sp.simplify(sp.limit(sp.powsimp(sp.expand_power_base(integrand * l, force=True),
                                                                   force=True), l, sp.oo))
            out["chi_exponent"] = sp.factor(sp.expand_func(sp.gammasimp(out["chi_exponent"])))
            # correlation: e^l - e^(l-1) = (Delta p/p)(J(e) - e), and Delta p/p -> dp/dl / p = r/l with
            # r = lim l p'/p (SymPy, = 1/(1 - alpha)); linearised at the attracting root e* of J(e) = e:
            # d(e - e*)/d log l = -r (1 - J'(e*)) (e - e*)
            rate = sp.limit(sp.simplify(l * sp.diff(lead, l) / lead), l, sp.oo)
            out["e_note"] = "e^l -> e*, the fixed point of J in (0, 1); |e - e*| ~ l^-(1 - J'(e*))/(1 - alpha)"
            out["e_exponent_formula"] = "(1 - J'(e*))/(1 - alpha)"
            out["e_rate_coefficient"] = rate
            try:
                es, tay = correlation_fixed_point(phi, 30, 1)
            except DomainError:  # no root of J(e) = e in (0, 1) (e.g. odd phi: J(0) = 0)
                pass
            else:
                out["e_limit"] = sp.Float(es, 30)
                out["e_exponent"] = sp.Float(rate * (1 - sp.Float(tay[1], 30)), 30)
        elif al == 1:
            g = sv ** 2 * sw ** 2 * K1
            out["regime"] = "exponential (alpha = 1)"
            out["p_rate"] = sp.simplify(1 + g)
            out["chi_rate"] = sp.simplify(1 + sv ** 2 * sw ** 2 * Kd1)
            if phi.b == 0:
                s_, eps = critical_expansion(phi, 2)
                A = s_.removeO().coeff(eps ** sp.Rational(3, 2))
                r = sp.simplify(g / (1 + g))
                out["e_limit"] = 1
                out["e_exponent"] = 2
                out["e_constant"] = sp.simplify(4 / (r * A) ** 2)
        else:
            out["regime"] = "alpha > 1: p^l grows doubly exponentially (finite-depth blow-up of the continuum law)"
        return out
    # tanh-like: odd, phi(+-oo) = +-1
    xx = sp.Symbol("x", real=True)
    expr = phi.expr.subs(phi.expr.free_symbols.pop(), xx) if phi.expr.free_symbols else phi.expr
    odd = sp.simplify(expr.subs(xx, -xx) + expr) == 0
    lim = sp.limit(expr, xx, sp.oo)
    if not (odd and lim == 1):
        raise DomainError("phi", phi.name, "the homogeneous family or an odd activation with phi(+oo) = 1 (tanh-like)")
    I = sp.simplify(sp.integrate(sp.diff(expr, xx) ** 2, (xx, -sp.oo, sp.oo)))
    out["regime"] = "tanh-like: p linear, gradient exp(sqrt(l)), correlation polynomial"
    out["p_exponent"] = 1
    out["p_constant"] = sv ** 2 + sa ** 2
    out["phi_prime_sq_integral"] = I
    # log chi ~ sum sv^2 sw^2 I / sqrt(2 pi q_l), q_l ~ sw^2 (sv^2 + sa^2) l  -> integral gives 2 sqrt(L)
    dlogchi = sv ** 2 * sw ** 2 * I / sp.sqrt(2 * sp.pi * sw ** 2 * (sv ** 2 + sa ** 2) * l)
    out["log_chi_sqrt"] = sp.simplify(sp.limit(sp.integrate(dlogchi, (l, 0, l)) / sp.sqrt(l), l, sp.oo))
    if sa == 0:
        c = sp.Symbol("c", real=True)
        Jsign = 2 / sp.pi * sp.asin(c)
        out["e_limit"] = 0
        out["e_exponent"] = sp.simplify(1 - sp.diff(Jsign, c).subs(c, 0))
    return out


def optimal_scaling(phi, variant="full"):
    r"""How σ_w, σ_v must scale with the depth L to keep the gradient (or the input geometry) bounded.

    Read off :func:`asymptotics`: returns ``{"quantity": ..., "combination":
    expr, "scaling": L**k}`` meaning *combination ∝ scaling* keeps
    *quantity* O(1) at depth L.

    >>> from symbolic_mf.activations import tanh, relu, rho_alpha
    >>> optimal_scaling(tanh(), variant="reduced")["combination"], optimal_scaling(tanh(), variant="reduced")["scaling"]
    (sigma_w, 1/sqrt(L))
    >>> optimal_scaling(relu())["combination"]
    sigma_v**2*sigma_w**2
    >>> optimal_scaling(rho_alpha(sp.Rational(3, 4)))["combination"]
    sigma_v**2*sigma_w**(3/2)
    """
    phi = _activation(phi)
    L = sp.Symbol("L", positive=True)
    sw, sv = sp.Symbol("sigma_w", positive=True), sp.Symbol("sigma_v", positive=True)
    d = asymptotics(phi, variant=variant)
    if "log_chi_sqrt" in d:
        D = d["log_chi_sqrt"]
        comb = sp.simplify(D / D.subs({sw: 1, sv: 1}))
        return {"quantity": "gradient growth chi^0/chi^L = exp(D sqrt(L))", "combination": comb,
                "scaling": 1 / sp.sqrt(L), "law": D}
    if "chi_rate" in d:
        comb = sv ** 2 * sw ** 2
        return {"quantity": "gradient growth (1 + sigma_v^2 sigma_w^2 Kdot(1))^L", "combination": comb,
                "scaling": 1 / L, "law": d["chi_rate"]}
    if "p_exponent" in d:
        al = phi.alpha
        comb = sv ** 2 * sw ** (2 * al)
        return {"quantity": "input-space length p^L ~ (combination * L)^(1/(1-alpha)); the gradient exponent "
                            "does not depend on sigma", "combination": comb, "scaling": 1 / L,
                "law": d["p_constant"]}
    raise DomainError("phi", phi.name, "an activation with a derived asymptotic law")


def exponent_checks(depth: int = 10 ** 6, dps: int = 20, cases=("rho34", "relu", "erf", "rho34-e"), progress=None):
    r"""Derived asymptotic exponents against the exact recursions iterated to ``depth`` layers.

    Returns rows ``(law, derived, last local slope, extrapolated, digits agreed, seconds)``.  The
    local slopes are taken between l = depth/4, depth/2, depth and extrapolated (Richardson) with the
    correction exponent of each law: 1 for the α-ReLU and ReLU laws (corrections ~ log l / l), ½ for
    the tanh-like ones (corrections ~ l^-1/2).  Case ``rho34-e``: the α = 3/4 correlation rate,
    :math:`|e^l - e^*|` from :math:`|e^0 - e^*| = 10^{-8}(1 - e^*)` (:func:`correlation_approach`,
    at dps + 10 digits) against :func:`asymptotics`' ``e_exponent``.

    >>> rows = exponent_checks(400, dps=15, cases=("rho34",))
    >>> [r[0] for r in rows]
    ['alpha=3/4: p^l ~ l^k', 'alpha=3/4: chi^0/chi^l ~ l^k']
    """
    import time

    from .activations import erf, relu, rho_alpha
    from .verify import agreement_digits

    rec = [depth // 4, depth // 2, depth]
    rows = []

    def row(name, derived, xs, ys, corr, secs):
        derived = mp.mpf(derived)
        sl = local_slopes(xs[-2:], ys[-2:])[0]
        ex = fit_exponent(xs, ys, correction=corr)
        rows.append((name, derived, sl, ex, agreement_digits(ex, derived), secs))

    if "rho34" in cases:
        a = asymptotics(rho_alpha(sp.Rational(3, 4)))
        t = time.time()
        r = iterate(rho_alpha(sp.Rational(3, 4)), depth, dps=dps, record=rec)
        dt = time.time() - t
        row("alpha=3/4: p^l ~ l^k", sp.N(a["p_exponent"], dps + 5), r.layers, r.p, 1, dt)
        row("alpha=3/4: chi^0/chi^l ~ l^k", sp.N(a["chi_exponent"], dps + 5), r.layers,
            [mp.exp(v) for v in r.log_chi], 1, dt)
        progress and progress(rows[-1])
    if "relu" in cases:
        t = time.time()
        r = iterate(relu(), depth, e0=0.5, dps=dps, record=rec)
        dt = time.time() - t
        row("ReLU full: 1 - e^l ~ l^k", -2, r.layers, r.one_minus_e, 1, dt)
        a = asymptotics(relu(), sigma_w=1, sigma_v=1)
        C = mp.mpf(sp.N(a["e_constant"], dps + 5))
        rows.append(("ReLU full: l^2 (1 - e^l) -> 81 pi^2/2", C, r.one_minus_e[-1] * depth ** 2,
                     r.one_minus_e[-1] * depth ** 2, agreement_digits(r.one_minus_e[-1] * depth ** 2, C), dt))
        progress and progress(rows[-1])
    if "erf" in cases:
        t = time.time()
        r = iterate(erf(), depth, e0=0.5, variant="reduced", dps=dps, record=rec)
        dt = time.time() - t
        row("erf reduced: e^l ~ l^k", -(1 - 2 / mp.pi), r.layers, r.e, 0.5, dt)
        row("erf reduced: p^l ~ l^k", 1, r.layers, r.p, 0.5, dt)
        sq = [mp.sqrt(l) for l in r.layers]
        s1 = (r.log_chi[1] - r.log_chi[0]) / (sq[1] - sq[0])
        s2 = (r.log_chi[2] - r.log_chi[1]) / (sq[2] - sq[1])
        rr = mp.sqrt(mp.mpf(r.layers[0]) / r.layers[1])
        D = (s2 - rr * s1) / (1 - rr)
        Dd = mp.mpf(sp.N(asymptotics(erf(), sigma_w=1, variant="reduced")["log_chi_sqrt"], dps + 5))
        rows.append(("erf reduced: log chi ~ D sqrt(l)", Dd, s2, D, agreement_digits(D, Dd), dt))
        progress and progress(rows[-1])
    if "rho34-e" in cases:
        phi = rho_alpha(sp.Rational(3, 4))
        t = time.time()
        ls, d, _, _ = correlation_approach(phi, depth, dps=dps + 10, record=rec)
        dt = time.time() - t
        row("alpha=3/4: abs(e^l - e*) ~ l^k", -sp.N(asymptotics(phi)["e_exponent"], dps + 5), ls, d, 1, dt)
        progress and progress(rows[-1])
    return rows
