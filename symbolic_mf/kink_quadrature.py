r""":math:`\mathbb{E}[f(u)g(v)]` for activations with a kink at 0 and exponential-polynomial pieces, by 1-D quadrature.

The trapezoidal pair rule (:mod:`symbolic_mf.pair_quadrature`) needs smooth
integrands; ELU-type activations have a kink at 0.  Here each of ``f`` and
``g`` is given by its definition on the two half-lines, as sums of
:math:`\mathrm{coef}\cdot x^ie^{\lambda x}`.  In Cholesky variables
:math:`u = s_1x`, :math:`v = s_2(\rho x + \sigma y)` (:math:`\sigma = \sqrt{1-\rho^2}`)
the inner integral over y, for fixed x, splits at the kink
:math:`y_0 = -\rho x/\sigma` of v, and each piece is a truncated Gaussian
moment in closed form,

.. math:: \int_{-\infty}^{y_0}y^me^{by}\varphi(y)\,dy = bL_{m-1} + (m-1)L_{m-2} - y_0^{m-1}e^{by_0}\varphi(y_0),
   \qquad L_0 = e^{b^2/2}\Phi(y_0 - b)

(integration by parts with :math:`y\varphi = -\varphi'`; the upper tail
likewise).  The outer integral over x is ``mpmath.quad`` split at the kink
x = 0 and at the scale :math:`\sigma` on which the inner integral turns
over near 0 (so :math:`\rho \to \pm1` stays accurate); at :math:`\sigma = 0`
the pair is degenerate and the integral is one-dimensional.  No bivariate
normal CDF is used anywhere: this is an independent reference for the
orthant engine (:mod:`symbolic_mf.engines.orthant`).

>>> from mpmath import mp, mpf, asin, sqrt, pi
>>> relu = {1: {(1, 0): 1}, -1: {}}
>>> with mp.workdps(30):
...     val = kink_pair_expectation(relu, relu, 1, 1, mpf(1) / 2)
...     ref = (sqrt(mpf(3)) / 2 + (pi / 2 + asin(mpf(1) / 2)) / 2) / (2 * pi)   # Cho & Saul
...     abs(val - ref) < mpf(10) ** -28
True
"""

from __future__ import annotations

import math

from mpmath import mp

from .errors import DomainError, NotPSDError

__all__ = ["kink_pair_expectation", "truncated_moments"]

#: the mpmath rule on each subinterval (all are finite, the integrand analytic on each)
METHOD = "gauss-legendre"


def truncated_moments(m_max, b, y0, upper):
    r""":math:`[\int y^me^{by}\varphi(y)dy]_{m=0..m_{\max}}` over :math:`y > y_0` (``upper``) or :math:`y < y_0`.

    >>> with mp.workdps(20):
    ...     [mp.nstr(t, 10) for t in truncated_moments(2, 0, 0, True)]   # half-normal: 1/2, phi(0), 1/2
    ['0.5', '0.3989422804', '0.5']
    """
    b, y0 = mp.mpf(b), mp.mpf(y0)
    sgn = 1 if upper else -1
    if mp.isinf(y0):
        if (y0 > 0) == upper:  # empty region
            return [mp.zero] * (m_max + 1)
        boundary = mp.zero
        out = [mp.exp(b * b / 2)]
    else:
        boundary = mp.exp(b * y0 - y0 * y0 / 2) / mp.sqrt(2 * mp.pi)
        out = [mp.exp(b * b / 2) * mp.ncdf(sgn * (b - y0))]
    for m in range(1, m_max + 1):
        val = b * out[m - 1] + sgn * (y0 ** (m - 1) if boundary else 0) * boundary
        if m >= 2:
            val += (m - 1) * out[m - 2]
        out.append(val)
    return out


def _piece_value(terms, t):
    return mp.fsum(c * t**i * mp.exp(lam * t) for (i, lam), c in terms)


def _inner(g, s2, rho, sig, x):
    """E_y[g(s2 (rho x + sig y))] for fixed x, by the truncated moments on each side of the kink."""
    B, A = s2 * rho * x, s2 * sig
    if A == 0:
        t = B
        return _piece_value(g[1] if t > 0 else g[-1], t) if t != 0 else _piece_value(g[1], t)
    y0 = -B / A
    total = mp.zero
    for sgn in (1, -1):
        for (j, mu), coef in g[sgn]:
            mom = truncated_moments(j, mu * A, y0, sgn > 0)
            s = mp.zero
            for m in range(j + 1):
                s += math.comb(j, m) * B ** (j - m) * A**m * mom[m]
            total += coef * mp.exp(mu * B) * s
    return total


def _as_terms(pieces):
    return {sgn: [((int(i), mp.mpf(lam)), mp.mpf(c)) for (i, lam), c in pieces.get(sgn, {}).items()]
            for sgn in (1, -1)}


def kink_pair_expectation(f, g, q1, q2, c12):
    r""":math:`\mathbb{E}[f(u)g(v)]`, Var u = ``q1``, Var v = ``q2``, Cov = ``c12``, at the ambient precision.

    ``f``, ``g``: ``{+1: {(i, lambda): coef}, -1: {...}}``, the pieces on
    :math:`x > 0` and :math:`x < 0` (numbers).  Raises
    :class:`~symbolic_mf.errors.NotPSDError` for a covariance that is not
    positive semi-definite.

    >>> elu = {1: {(1, 0): 1}, -1: {(0, 1): 1, (0, 0): -1}}
    >>> with mp.workdps(20):
    ...     print(mp.nstr(kink_pair_expectation(elu, elu, 1, 1, 0), 12))     # (E elu z)^2 = (1/sqrt(2 pi) + e^(1/2) Phi(-1) - 1/2)^2
    0.0257668541208
    """
    q1, q2, c12 = mp.mpf(q1), mp.mpf(q2), mp.mpf(c12)
    if q1 < 0 or q2 < 0 or c12 * c12 > q1 * q2 * (1 + mp.mpf(10) ** (-mp.dps + 3)):
        raise NotPSDError("Sigma", [[q1, c12], [c12, q2]], "variances >= 0 and c^2 <= q1 q2")
    F, G = _as_terms(f), _as_terms(g)
    with mp.extradps(10):
        s1, s2 = mp.sqrt(q1), mp.sqrt(q2)
        rho = c12 / (s1 * s2) if s1 * s2 > 0 else mp.zero
        rho = max(min(rho, mp.one), -mp.one)
        sig = mp.sqrt((1 - rho) * (1 + rho))

        def integrand(sgn):
            def h(xv):
                return _piece_value(F[sgn], s1 * xv) * _inner(G, s2, rho, sig, xv) * mp.npdf(xv)
            return h

        if s1 == 0:
            val = _piece_value(F[1], mp.zero) * _inner(G, s2, mp.zero, mp.one, mp.zero)
        else:
            # Gaussian tail beyond L is below 10^-(dps + 10) (the pieces grow at most polynomially there)
            L = mp.sqrt(2 * (mp.dps + 5) * mp.log(10)) + 2
            pts = [mp.zero, mp.one, mp.mpf(3)]
            if 0 < sig < mp.mpf(1) / 4:
                pts += [sig, 4 * sig, 16 * sig, 64 * sig]
            pts = sorted(set(pts)) + [L]
            val = mp.zero
            for sgn in (1, -1):
                if not F[sgn]:
                    continue
                val += mp.quad(lambda t: integrand(sgn)(sgn * t), pts, method=METHOD)
    return +val


def _check(name, value):  # pragma: no cover - kept for symmetry with other modules
    if value < 0:
        raise DomainError(name, value, f"{name} >= 0")
