r"""High-precision quadrature with deliberate treatment of endpoint singularities.

These routines take plain callables of mpmath numbers and work at the
ambient mpmath precision (``mp.prec``); they know nothing of SymPy.

Why not just ``mpmath.quad``?
-----------------------------
Tanh-sinh quadrature truncates its nodes about one machine epsilon away from
each endpoint, so for an integrand that behaves like :math:`(x-a)^\beta` with
:math:`-1 < \beta < 0` it silently drops
:math:`\int_a^{a+\epsilon}(x-a)^\beta\,dx \approx \epsilon^{\beta+1}/(\beta+1)`:
at 30 digits :math:`\int_0^1 x^{-0.99}dx` comes out as 54.6 instead of 100,
with no error raised.  Two things are done here instead.

1. **Offsets, not positions.**  A singular endpoint is only useful if the
   integrand can be evaluated at distance ``y`` from it *exactly*, even when
   ``y`` is far below the working precision.  A kink location such as
   :math:`\pi/2` carries a rounding error :math:`\delta`, and
   :math:`f(\pi/2 + y)` is garbage for :math:`y \lesssim \delta`; the mass lost
   is about :math:`\delta^{\beta+1}`, i.e. half the digits for
   :math:`\beta = -1/2`, and everything as :math:`\beta \to -1`.  So every piece
   is described by two functions of the *offset* from each of its ends
   (:class:`Piece`), and callers build them so that the quantity that vanishes
   at the end (a kink argument) is computed from the offset directly.

2. **Measured exponent, removed by substitution.**  At each end the local
   exponent :math:`\beta` of :math:`g(y) \sim C y^\beta` is measured from
   evaluations at ``y = L·10^{-D}, L·10^{-2D}, L·10^{-3D}`` (raised precision);
   if :math:`\beta < 0` the half-piece is integrated after the substitution
   :math:`y = w^{1/(\hat\beta+1)}`, which makes the integrand bounded.
   :math:`\beta \le -1` raises :class:`~symbolic_mf.errors.DivergentIntegralError`.

>>> from mpmath import mp, mpf, quad
>>> b = mpf(-0.99)          # the binary double nearest -0.99
>>> with mp.workdps(30):
...     good = integrate(lambda x: x**b, [0, 1])
...     bad = quad(lambda x: x**b, [0, 1])
...     exact = 1 / (1 + b)
>>> print(mp.nstr(abs(good / exact - 1), 3), mp.nstr(bad / exact, 5))
0.0 0.54605

Two-dimensional Gaussian expectations are reduced to one dimension where the
mathematics allows: for an integrand positively homogeneous of degree ``d``
the radial integral is :math:`2^{d/2}\Gamma(d/2+1)` and only an angular
integral remains, split at the angles where the integrand has kinks.

Integrands of the Gaussian routines are *lifted*: ``Phi(x..., w)`` takes the
Gaussian variables and, separately, the list ``w`` of the values of its kink
arguments (the affine forms at which it is non-smooth: the argument of
:math:`\rho_\alpha`, of ``Abs``, of ``Heaviside``...).  This is what lets a
breakpoint be approached exactly.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Tuple

from mpmath import mp

from .errors import DivergentIntegralError, DomainError, NotPSDError, QuadratureError

__all__ = [
    "Piece",
    "integrate_pieces",
    "integrate",
    "integrate_lifted",
    "endpoint_exponent",
    "gaussian_expectation_1d",
    "gaussian_expectation_2d",
    "check_covariance_2x2",
]


def _is_inf(x) -> bool:
    return x in (mp.inf, -mp.inf)


class Piece:
    """One integration piece of finite length ``length``.

    ``from_left(y)`` is the integrand at distance ``y`` from the left end and
    ``from_right(y)`` at distance ``y`` from the right end, each exact for
    tiny ``y``.  Either end may carry an integrable power singularity.
    """

    __slots__ = ("from_left", "from_right", "length")

    def __init__(self, from_left: Callable, from_right: Callable, length):
        self.from_left = from_left
        self.from_right = from_right
        self.length = length


def _exponent_digits():
    """Decimal spacing D of the samples used to measure an endpoint exponent."""
    return max(8, mp.dps // 3)


def endpoint_exponent(g: Callable, length) -> Optional[Tuple[object, bool]]:
    r"""Estimate :math:`\beta` in :math:`g(y) \sim y^\beta (A\log(1/y) + B)` as :math:`y \to 0^+`.

    ``g`` takes the *offset* ``y`` from the endpoint.  It is evaluated (with
    the precision raised) at ``y_k = length * rho**k``, ``k = 1..4``,
    ``rho = 10**-D``.  Because the :math:`\log(1/y_k)` are equally spaced, the
    right :math:`\beta` makes the second difference of
    :math:`g(y_k)\,y_k^{-\beta}` vanish: with :math:`x = \rho^{-\beta}`,
    :math:`g_2 - 2 g_3 x + g_4 x^2 = 0`, a quadratic.  Its root that predicts
    the first sample is taken.  This is exact for pure powers and for a
    power times a logarithm plus a constant (as :math:`x^{s-1}K_0(x)`), where
    a pure power fit would be off by about :math:`1/\log^2 y`, which matters
    when :math:`\beta` is within :math:`10^{-5}` of :math:`-1`.  A second
    model, :math:`y^\beta(\log 1/y)^\gamma` (linear in the logarithms), is
    also fitted; the one predicting the first sample better is kept, so
    :math:`1/(y\log(1/y))` is recognised as divergent.

    Returns ``(beta, clean)`` (``clean``: the model predicts the first
    sample), or ``None`` when ``g`` vanishes identically near 0.

    >>> from mpmath import mp, mpf, log, besselk
    >>> eps = mpf(2)**-27
    >>> with mp.workdps(30):
    ...     b1, c1 = endpoint_exponent(lambda y: y**mpf(0.25) * (1 + y), 1)
    ...     b2, c2 = endpoint_exponent(lambda y: y**(eps - 1) * besselk(0, y), 1)
    >>> print(mp.nstr(b1, 8), c1, mp.nstr((b2 + 1) / eps, 8), c2)
    0.25 True 1.0 True
    """
    dps = mp.dps
    D = _exponent_digits()
    with mp.workdps(dps + 20):
        rho_ = mp.mpf(10) ** (-D)
        hs = [mp.mpf(length) * rho_**k for k in (1, 2, 3, 4)]
        vals = []
        for h in hs:
            try:
                y = g(h)
            except (ZeroDivisionError, ValueError, OverflowError):
                y = mp.inf
            vals.append(abs(y))
        if all(y == 0 for y in vals):
            return None
        if any(_is_inf(y) or mp.isnan(y) for y in vals):
            return (mp.mpf(-1), False)
        if any(y == 0 for y in vals):
            return (mp.mpf(1), False)
        g1, g2, g3, g4 = vals
        best = None  # (prediction error, beta, gamma or None)
        # model A: y^beta (A log(1/y) + B); the right beta zeroes the second
        # difference of g_k y_k^-beta, a quadratic in x = rho^-beta
        disc = max(g3 * g3 - g2 * g4, mp.zero)
        for sgn in (1, -1):
            x = (g3 + sgn * mp.sqrt(disc)) / g4
            if x <= 0:
                continue
            beta = -mp.log(x) / mp.log(rho_)
            r2, r3 = g2 * hs[1] ** (-beta), g3 * hs[2] ** (-beta)
            pred, r1 = 2 * r2 - r3, g1 * hs[0] ** (-beta)
            err = abs(pred - r1) / max(abs(r1), abs(pred))
            if best is None or err < best[0]:
                best = (err, beta, None)
        # model B: y^beta (log 1/y)^gamma, linear in (log C, beta, gamma)
        rows = [[mp.one, mp.log(h), mp.log(-mp.log(h))] for h in hs]
        try:
            lc, beta, gamma = mp.lu_solve(mp.matrix(rows[1:]), mp.matrix([mp.log(y) for y in vals[1:]]))
            pred = lc + beta * rows[0][1] + gamma * rows[0][2]
            err = abs(mp.exp(pred - mp.log(g1)) - 1)
            if best is None or err < best[0]:
                best = (err, beta, gamma)
        except ZeroDivisionError:
            pass
        if best is None:
            return (mp.mpf(-1), False)
        err, beta, gamma = best
        clean = err <= mp.mpf(10) ** (-(D // 2))
        if gamma is not None and abs(beta + 1) < mp.mpf(10) ** (-D) and clean:
            # y^-1 (log 1/y)^gamma: divergent for gamma >= -1, and for gamma < -1
            # convergent only logarithmically, out of reach of this method
            beta = mp.mpf(-1) if gamma >= -1 - mp.mpf(10) ** (-D) else beta
            if beta != -1:
                raise QuadratureError(
                    f"endpoint behaves like y^-1 (log 1/y)^{mp.nstr(gamma, 4)}: convergent only "
                    "logarithmically, not integrable to high precision by substitution"
                )
    return (+beta, bool(clean))


#: extra digits carried by the main quadrature pass (covers a scale estimate
#: that is off by up to this many orders of magnitude)
GUARD_DPS = 8


#: above this p = 1/(beta+1) (beta within 1e-2 of -1) a singular end is split in two (see _from_end)
LOG_SPLIT_P = 100


def _quad(f, a, b):
    """mpmath tanh-sinh on [a, b], converged *relative to the integrand's size*.

    mpmath stops when its error estimate is below epsilon in absolute terms,
    so a piece worth 1e-32 would be accepted with almost no correct digit.
    The integrand is therefore normalised by a cheap estimate of its L1 mass
    (a low-degree, 10-digit pass) and integrated with ``GUARD_DPS`` extra
    digits.  Raises QuadratureError when not converged.
    """
    with mp.workdps(10):
        mass = mp.quad(lambda x: abs(f(x)), [a, b], maxdegree=3)
    if mass == 0:
        return mp.zero
    if mp.isnan(mass) or _is_inf(mass):
        raise QuadratureError(f"integral over [{mp.nstr(a, 8)}, {mp.nstr(b, 8)}] is not finite")
    dps = mp.dps
    with mp.workdps(dps + GUARD_DPS):
        scale = 1 / mp.mpf(mass)
        val, err = mp.quad(lambda x: f(x) * scale, [a, b], error=True)
    if mp.isnan(val) or _is_inf(val):
        raise QuadratureError(f"integral over [{mp.nstr(a, 8)}, {mp.nstr(b, 8)}] is not finite")
    if err > mp.mpf(10) ** (-(dps // 2)):
        raise QuadratureError(
            f"quadrature over [{mp.nstr(a, 8)}, {mp.nstr(b, 8)}] did not converge "
            f"(relative error estimate {mp.nstr(err, 3)})"
        )
    return val / scale


def _singular(est) -> bool:
    """Does an endpoint estimate call for the power substitution?"""
    if est is None:
        return False
    beta, _ = est
    # the fit is accurate to about 10**-(2D) (its samples reach 10**-(2D) and below)
    if beta <= -1 + mp.mpf(10) ** (-(2 * _exponent_digits() - 2)):
        raise DivergentIntegralError(
            f"integrand behaves like y^{mp.nstr(beta, 6)} at an endpoint: the integral diverges"
        )
    return beta < 0


def _from_end(g, length, est="measure"):
    r""":math:`\int_0^{L} g(y)\,dy` where ``g`` may be singular at ``y = 0`` (``L`` may be inf)."""
    if length == 0:
        return mp.zero
    if est == "measure":
        est = endpoint_exponent(g, 1 if _is_inf(length) else length)
    if est is None:
        return mp.zero
    if not _singular(est):
        return _quad(g, 0, length)
    if _is_inf(length):
        # substitute only next to the singular end: w**p explodes for w > 1
        return _from_end(g, mp.one, est) + _quad(lambda y: g(1 + y), 0, mp.inf)
    beta, clean = est
    # y = w**p turns C*y**beta*dy into C*p*w**(p*(beta+1)-1) dw, bounded for p = 1/(beta+1)
    bhat = beta if clean else max(beta - mp.mpf("0.05"), (beta - 1) / 2)
    p = 1 / (bhat + 1)
    W = length ** (bhat + 1)

    def h(w):
        if w == 0:
            return mp.zero
        return g(w**p) * p * w ** (p - 1)

    if p > LOG_SPLIT_P:
        # beta within 1/LOG_SPLIT_P of -1: w**p squeezes all of y in (tiny, L] into the last
        # ~1/p of the w-range, a boundary layer that costs tanh-sinh its deepest levels
        # (a 4.7 s evaluation of gauss.price-signed-power at alpha = 2^-27).  Split exactly at
        # y1 = L*10**-(dps+GUARD_DPS+2): below y1, g(y)*y**-beta is constant (or a log) to working
        # precision, so the substituted integral has no layer; above, y = L*exp(-s) makes
        # int_{y1}^{L} g an integral of a smooth function over the finite range s in [0, ln(L/y1)].
        y1 = length * mp.mpf(10) ** (-(mp.dps + GUARD_DPS + 2))
        far = _quad(lambda s_: g(length * mp.exp(-s_)) * length * mp.exp(-s_), 0, mp.log(length / y1))
        return _quad(h, 0, y1 ** (bhat + 1)) + far
    return _quad(h, 0, W)


def integrate_pieces(pieces: Sequence[Piece]):
    """Sum of the integrals of finite :class:`Piece` objects.

    Both ends of each piece are examined; a piece regular at both ends is
    integrated in one pass, otherwise it is split at its midpoint and each
    half integrated from its end, where the power singularity is removed.

    >>> from mpmath import mp, mpf, pi, sin
    >>> a = mpf(-0.5)
    >>> pieces = [Piece(lambda y: sin(y)**a, lambda y: sin(y)**a, pi)]  # sin(t)^a on (0, pi)
    >>> with mp.workdps(30):
    ...     val = integrate_pieces(pieces)
    ...     ref = mp.sqrt(pi) * mp.gamma((a + 1) / 2) / mp.gamma(a / 2 + 1)
    >>> abs(val - ref) < mpf(10)**-29
    True
    """
    total = mp.zero
    for p in pieces:
        L = mp.mpf(p.length)
        if L == 0:
            continue
        left = endpoint_exponent(p.from_left, L / 2)
        right = endpoint_exponent(p.from_right, L / 2)
        if left is None and right is None:
            continue
        if not _singular(left) and not _singular(right):
            total += _quad(p.from_left, 0, L)
            continue
        total += _from_end(p.from_left, L / 2, left) + _from_end(p.from_right, L / 2, right)
    return total


def _offset_evaluator(f):
    """``near(e, d)(y) = f(e + d*y)``, with ``e + d*y`` formed exactly.

    When ``y`` is far below the resolution of ``e`` the sum would round to
    ``e``; the working precision is raised by the missing bits (up to four
    times the precision, beyond which the remaining mass is below the
    working precision for any exponent above -3/4).
    """

    def near(e, d):
        if e == 0:
            return lambda y: f(d * y)

        def g(y):
            if y == 0:
                return f(e)
            extra = mp.mag(e) - mp.mag(y)
            if extra <= 0:
                return f(e + d * y)
            with mp.workprec(mp.prec + min(extra, 4 * mp.prec) + 10):
                val = f(e + d * y)
            return +val

        return g

    return near


def integrate(f: Callable, points: Sequence):
    r"""Integrate ``f`` over consecutive intervals of ``points``.

    ``points`` are the interval ends and every interior point where ``f`` may
    have a kink or a power singularity (``±mp.inf`` allowed at the ends).
    Every finite end of every piece is examined for a power singularity,
    which is removed by substitution.  ``f`` is a black box in ``x``, so near
    an end ``e`` it is evaluated at ``e + y`` with the precision raised until
    the sum is exact.  The ends themselves are rounded to the working
    precision: callers with irrational breakpoints (a kink at pi/2) should
    build :class:`Piece` objects from offsets instead, or use
    :func:`integrate_lifted`.

    Raises :class:`~symbolic_mf.errors.QuadratureError` when a piece does not
    converge and :class:`~symbolic_mf.errors.DivergentIntegralError` for a
    non-integrable endpoint.

    >>> from mpmath import mp, mpf, exp, gamma
    >>> with mp.workdps(40):
    ...     val = integrate(lambda x: x**mpf(-0.75) * exp(-x**2 / 2), [0, mp.inf])
    ...     ref = 2**mpf(-0.875) * gamma(mpf(0.125))
    >>> abs(val - ref) < mpf(10)**-38
    True
    """
    pts = [p if _is_inf(p) else mp.mpf(p) for p in points]
    near = _offset_evaluator(f)
    total = mp.zero
    for a, b in zip(pts[:-1], pts[1:]):
        if a == b:
            continue
        if a > b:
            raise ValueError("integration points must be increasing")
        if _is_inf(a) and _is_inf(b):
            total += _quad(f, -mp.inf, mp.inf)
            continue
        if _is_inf(b):
            total += _from_end(near(a, 1), mp.inf)
            continue
        if _is_inf(a):
            total += _from_end(near(b, -1), mp.inf)
            continue
        total += integrate_pieces([Piece(near(a, 1), near(b, -1), b - a)])
    return total


def _inv_sqrt_2pi():
    return 1 / mp.sqrt(2 * mp.pi)


def _close(x, y):
    return abs(x - y) <= mp.eps * 64 * (1 + abs(x) + abs(y))


def integrate_lifted(Phi: Callable, kinks: Sequence[Tuple[object, object]], a=-mp.inf, b=mp.inf):
    r""":math:`\int_a^b f(x)\,dx` for a lifted integrand ``Phi(x, w)``.

    ``kinks[i] = (k1, k0)`` means ``w[i] = k1*x + k0``.  The integral is split
    at every zero of a kink argument inside ``(a, b)``; next to each finite
    end the kink arguments that vanish there are computed from the offset,
    exactly, and any power singularity is measured and removed.

    >>> from mpmath import mp, mpf, gamma
    >>> f = lambda x, w: (w[0]**mpf(-0.5) if w[0] > 0 else 0) * mp.exp(-x)   # rho_{-1/2}(x - 1/3) e^{-x}
    >>> with mp.workdps(30):
    ...     val = integrate_lifted(f, [(1, -mpf(1) / 3)], 0, mp.inf)
    ...     ref = mp.sqrt(mp.pi) * mp.exp(-mpf(1) / 3)
    >>> abs(val / ref - 1) < mpf(10)**-29
    True
    """
    ks = [(mp.mpf(k1), mp.mpf(k0)) for k1, k0 in kinks]
    a = a if _is_inf(a) else mp.mpf(a)
    b = b if _is_inf(b) else mp.mpf(b)
    if a == b:
        return mp.zero

    def plain(x):
        return Phi(x, [k1 * x + k0 for k1, k0 in ks])

    def at(x0, direction):
        """Integrand at x0 + direction*y, kinks vanishing at x0 made exact."""
        w0 = [mp.zero if (k1 != 0 and _close(-k0 / k1, x0)) else k1 * x0 + k0 for k1, k0 in ks]

        def g(y):
            return Phi(x0 + direction * y, [w + direction * k1 * y for w, (k1, _) in zip(w0, ks)])

        return g

    roots = sorted({-k0 / k1 for k1, k0 in ks if k1 != 0})
    pts = [r for r in roots if a < r < b]
    finite = ([] if _is_inf(a) else [a]) + pts + ([] if _is_inf(b) else [b])
    if not finite:
        return _quad(plain, -mp.inf, mp.inf)
    total = mp.zero
    if _is_inf(a):
        total += _from_end(at(finite[0], -1), mp.inf)
    for x0, x1 in zip(finite[:-1], finite[1:]):
        total += integrate_pieces([Piece(at(x0, 1), at(x1, -1), x1 - x0)])
    if _is_inf(b):
        total += _from_end(at(finite[-1], 1), mp.inf)
    return total


def gaussian_expectation_1d(Phi: Callable, variance, kinks: Sequence[Tuple[object, object]] = ()):
    r""":math:`\mathbb{E}_{z\sim\mathcal N(0,q)}[f(z)]` for a lifted integrand.

    ``Phi(z, w)`` is the integrand with its kink arguments passed separately:
    ``kinks[i] = (k1, k0)`` means ``w[i] = k1*z + k0`` (see
    :func:`integrate_lifted`).

    >>> from mpmath import mp, mpf
    >>> relu_sq = lambda z, w: w[0]**2 if w[0] > 0 else mp.zero
    >>> with mp.workdps(30):
    ...     print(mp.nstr(gaussian_expectation_1d(relu_sq, 1, [(1, 0)]), 20))
    0.5
    """
    q = mp.mpf(variance)
    if q < 0:
        raise DomainError("variance", variance, "variance >= 0")
    ks = [(mp.mpf(k1), mp.mpf(k0)) for k1, k0 in kinks]
    if q == 0:
        return Phi(mp.zero, [k0 for _, k0 in ks])
    s = mp.sqrt(q)
    norm = _inv_sqrt_2pi()
    # in the standardised variable x (z = s*x) the kink arguments are (k1*s)*x + k0
    return integrate_lifted(
        lambda x, w: Phi(s * x, w) * norm * mp.exp(-x * x / 2), [(k1 * s, k0) for k1, k0 in ks]
    )


def check_covariance_2x2(q1, q2, c12, name="Sigma"):
    """Raise :class:`NotPSDError` unless [[q1, c12], [c12, q2]] is PSD.

    >>> from mpmath import mpf
    >>> check_covariance_2x2(mpf(1), mpf(1), mpf('1.5'))
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.NotPSDError: Sigma = [[1.0, 1.5], [1.5, 1.0]] is outside its valid range: a symmetric positive semi-definite matrix (q1*q2 - c12**2 = -1.25 < 0; for unit variances the correlation must satisfy |c| <= 1)
    """
    if q1 < 0 or q2 < 0 or q1 * q2 - c12 * c12 < 0:
        det = q1 * q2 - c12 * c12
        detail = (
            f"q1*q2 - c12**2 = {mp.nstr(det, 6)} < 0; for unit variances the correlation "
            "must satisfy |c| <= 1"
            if q1 >= 0 and q2 >= 0
            else "variances must be >= 0"
        )
        raise NotPSDError(
            name,
            "[[%s, %s], [%s, %s]]" % tuple(mp.nstr(x, 8) for x in (q1, c12, c12, q2)),
            detail,
        )


def gaussian_expectation_2d(
    Phi: Callable,
    q1,
    q2,
    c12,
    degree=None,
    kinks: Sequence[Tuple[object, object, object]] = (),
):
    r""":math:`\mathbb{E}[f(u, v)]` for :math:`(u,v)\sim\mathcal N(0, [[q_1, c_{12}], [c_{12}, q_2]])`.

    ``Phi(u, v, w)`` is the lifted integrand: ``kinks[i] = (ku, kv, k0)``
    means ``w[i] = ku*u + kv*v + k0``.  If ``degree`` is given, ``f`` must be
    positively homogeneous of that degree and every kink line must pass
    through the origin; the expectation then reduces exactly to

    .. math:: \frac{2^{d/2}\Gamma(d/2+1)}{2\pi}\int_0^{2\pi}
              f(\sqrt{q_1}\cos t, \sqrt{q_2}\cos(t-\theta))\,dt,\qquad
              \cos\theta = c_{12}/\sqrt{q_1 q_2},

    a one-dimensional integral split at the kink angles, each piece
    parametrised by the offset from its ends.  Otherwise a nested
    two-dimensional quadrature is used (slower, less robust near kinks that
    cross away from the origin).

    >>> from mpmath import mp, mpf, pi, acos, sin
    >>> relu2 = lambda a, b, w: (w[0] if w[0] > 0 else 0) * (w[1] if w[1] > 0 else 0)
    >>> c = mpf('0.3')
    >>> with mp.workdps(30):
    ...     val = gaussian_expectation_2d(relu2, 1, 1, c, degree=2, kinks=[(1, 0, 0), (0, 1, 0)])
    ...     th = acos(c)
    ...     ref = (sin(th) + (pi - th) * c) / (2 * pi)
    >>> abs(val - ref) < mpf(10)**-29
    True
    """
    q1, q2, c12 = mp.mpf(q1), mp.mpf(q2), mp.mpf(c12)
    check_covariance_2x2(q1, q2, c12)
    s1, s2 = mp.sqrt(q1), mp.sqrt(q2)
    if q1 == 0 or q2 == 0:
        cc, ss = mp.one, mp.zero
    else:
        cc = c12 / (s1 * s2)
        cc = max(min(cc, mp.one), -mp.one)
        # (1 - c)(1 + c) rather than 1 - c*c: no cancellation near c = +-1
        ss = mp.sqrt((1 - cc) * (1 + cc))
    ks = [(mp.mpf(a), mp.mpf(b), mp.mpf(c)) for a, b, c in kinks]
    if degree is not None and all(k0 == 0 for _, _, k0 in ks):
        return _polar(Phi, s1, s2, cc, ss, mp.mpf(degree), ks)
    return _nested_2d(Phi, s1, s2, cc, ss, ks)


def _polar(Phi, s1, s2, cc, ss, d, ks):
    if d <= -2:
        raise DivergentIntegralError(
            f"homogeneous integrand of degree {mp.nstr(d, 6)} <= -2: the radial integral diverges"
        )
    radial = 2 ** (d / 2) * mp.gamma(d / 2 + 1)
    # Kink angles are differences of arctangents: two kinks a small angle
    # apart (c near -1 puts the zeros of u and v within sqrt(2(1+c)) of each
    # other) lose -log10(gap) digits in the piece length and in cos/sin at
    # its ends.  Build the pieces with that many extra digits.
    extra = 10
    while True:
        with mp.extradps(extra):
            nodes, AB = _polar_nodes(s1, s2, cc, ss, ks)
            gap = min(t1 - t0 for (t0, _), (t1, _) in zip(nodes[:-1], nodes[1:]))
        need = 10 + int(max(0, -mp.log10(gap))) + 2
        if need <= extra:
            break
        extra = need
    high = mp.prec + int(extra * 3.33) + 1

    def at(t0, vanishing, direction):
        # values and derivatives of u, v, w at t0; vanishing kinks snapped to 0
        with mp.workprec(high):
            ct, st = mp.cos(t0), mp.sin(t0)
            u0, du = s1 * ct, -s1 * st
            v0, dv = s2 * (cc * ct + ss * st), s2 * (ss * ct - cc * st)
            w0 = [mp.zero if i in vanishing else A * ct + B * st for i, (A, B) in enumerate(AB)]
            dw = [B * ct - A * st for A, B in AB]

        def g(y):
            with mp.workprec(high):
                cy, sy = mp.cos(y), direction * mp.sin(y)
                args = (u0 * cy + du * sy, v0 * cy + dv * sy, [a * cy + b * sy for a, b in zip(w0, dw)])
            return Phi(*args)

        return g

    with mp.workprec(high):
        spans = [(t0, i0, t1, i1, t1 - t0) for (t0, i0), (t1, i1) in zip(nodes[:-1], nodes[1:])]
    pieces = [Piece(at(t0, set(i0), 1), at(t1, set(i1), -1), +length) for t0, i0, t1, i1, length in spans]
    return radial * integrate_pieces(pieces) / (2 * mp.pi)


def _polar_nodes(s1, s2, cc, ss, ks):
    """Angles (ascending, one full turn) splitting the circle at kink zeros, pieces <= pi/2."""
    # u(t) = s1*cos t, v(t) = s2*(cc*cos t + ss*sin t); each kink w_i(t) = A_i cos t + B_i sin t
    AB = [(ku * s1 + kv * s2 * cc, kv * s2 * ss) for ku, kv, _ in ks]
    roots = []  # (angle, indices of kinks vanishing there)
    for i, (A, B) in enumerate(AB):
        if A == 0 and B == 0:
            continue
        t0 = mp.atan2(-A, B) % mp.pi
        for t in (t0, t0 + mp.pi):
            for r in roots:
                if _close(r[0], t):
                    r[1].append(i)
                    break
            else:
                roots.append([t, [i]])
    roots.sort(key=lambda r: r[0])
    if not roots:
        roots = [[mp.zero, []]]
    nodes = []
    for j, (t, idx) in enumerate(roots):
        nodes.append((t, idx))
        nxt = roots[j + 1][0] if j + 1 < len(roots) else roots[0][0] + 2 * mp.pi
        n = int(mp.ceil((nxt - t) / (mp.pi / 2)))
        for m in range(1, n):
            nodes.append((t + (nxt - t) * m / n, []))
    nodes.append((nodes[0][0] + 2 * mp.pi, nodes[0][1]))
    return nodes, AB


def _nested_2d(Phi, s1, s2, cc, ss, ks):
    """E[f(u,v)], u = s1*x, v = s2*(cc*x + ss*y), x, y iid N(0,1), nested quadrature."""
    norm = _inv_sqrt_2pi()
    # each kink in (x, y): w_i = A_i*x + B_i*y + k0_i
    lines = [(ku * s1 + kv * s2 * cc, kv * s2 * ss, k0) for ku, kv, k0 in ks]
    if ss == 0:
        # v is a deterministic multiple of u: a one-dimensional expectation in x
        return gaussian_expectation_1d(
            lambda x, w: Phi(x, s2 * cc * x / s1 if s1 != 0 else s2 * x, w),
            s1 * s1 if s1 != 0 else s2 * s2,
            [(A / (s1 if s1 != 0 else s2), k0) for A, _, k0 in lines],
        )

    def inner(x):
        # kinks in y for fixed x: w_i = B_i*y + (A_i*x + k0_i)
        return gaussian_expectation_1d(
            lambda y, w: Phi(s1 * x, s2 * (cc * x + ss * y), w),
            1,
            [(B, A * x + k0) for A, B, k0 in lines],
        )

    outer = set()
    for A, B, k0 in lines:
        if B == 0 and A != 0:
            outer.add(-k0 / A)
    for i, (A1, B1, c1) in enumerate(lines):
        for A2, B2, c2 in lines[i + 1:]:
            det = A1 * B2 - A2 * B1
            if det != 0:
                outer.add((B1 * c2 - B2 * c1) / det)
    cutoff = mp.mpf(10) ** (-4 * mp.dps)

    def outer_integrand(x):
        weight = norm * mp.exp(-x * x / 2)
        # Far out the inner integrand's y-dependence drops below the working
        # precision and its quadrature cannot converge; there the weight is
        # below 10**(-4 dps), negligible for any inner expectation growing
        # slower than exp(x**2/2)*10**(-3 dps).  The cut scales with the
        # precision, so the verifier's two-precision check would expose a
        # violation.
        if weight < cutoff:
            return mp.zero
        return inner(x) * weight

    return integrate(outer_integrand, [-mp.inf] + sorted(outer) + [mp.inf])
