r"""Fast high-precision :math:`\mathbb{E}[f(u)g(v)]` for smooth activations: the trapezoidal rule.

For :math:`(u, v)` centred Gaussian with variances :math:`q_1, q_2` and
covariance :math:`c_{12}`, write :math:`u = s_1x`,
:math:`v = s_2(\rho x + \sigma y)` with :math:`x, y` independent standard
normal, :math:`\rho = c_{12}/(s_1s_2)`, :math:`\sigma = \sqrt{(1-\rho)(1+\rho)}`.
The double integral :math:`\iint f(u)g(v)\,e^{-(x^2+y^2)/2}dx\,dy/2\pi` is
taken by the trapezoidal rule with step ``h`` on :math:`[-L, L]^2`.

Why the trapezoidal rule: for an integrand analytic in the strip
:math:`|\operatorname{Im}x| < d` and Gaussian-decaying, its error is about
:math:`e^{-2\pi d/h + d^2/2}` — exponential in :math:`1/h` (and
:math:`e^{-2\pi^2/h^2}` for entire integrands, choosing d freely), where the
general nested quadrature of :mod:`symbolic_mf.quadrature` spends minutes
on oscillatory entire integrands at 30 digits.  It needs smoothness: no kinks
(use :mod:`symbolic_mf.quadrature` for those).  The parametrisation is
uniform in :math:`\rho\in[-1, 1]`: as :math:`\rho\to\pm1` the integrand
only becomes flatter in y.

The step is chosen from the target digits and ``pole_distance`` (the
distance from the real axis of the nearest singularity of f and g: π/2 for
tanh, π for softplus and SiLU; ``None`` for entire functions).  Nothing here
is an error *estimate*: a caller that needs a guarantee compares two
targets (the verifier compares two working precisions, which use two
different grids).

>>> from mpmath import mp, mpf, sin, exp, sinh
>>> with mp.workdps(30):
...     val = pair_expectation(sin, sin, 1, 1, mpf("0.5"))
...     ref = exp(-1) * sinh(mpf("0.5"))
>>> abs(val - ref) < mpf(10)**-29
True
"""

from __future__ import annotations

from typing import Callable, Optional

from mpmath import mp

from .errors import DomainError, NotPSDError

__all__ = ["pair_expectation", "trapezoid_step"]


def trapezoid_step(digits, pole_distance=None, gauss_type=0):
    r"""Step ``h`` for ``digits`` correct digits (``pole_distance`` in the standardised variable).

    Entire, :math:`|f(x+iy)| \lesssim e^{\tau y^2}` (``gauss_type`` τ = 0 for
    sin, exp; 1 for erf): the error is about :math:`e^{-2\pi d/h + (1/2+\tau)d^2}`,
    smallest at :math:`d = \pi/((1/2+\tau)h)`, so
    :math:`\pi^2/((1/2+\tau)h^2) = D\ln 10`, then a safety factor 1.25;
    singularity at distance d: :math:`2\pi d/h - d^2/2 = D\ln10`, capped
    by the entire-case step.

    >>> print(mp.nstr(trapezoid_step(30), 5), mp.nstr(trapezoid_step(30, mp.pi / 2), 5))
    0.42765 0.14037
    """
    D = mp.mpf(digits) * mp.log(10)
    h_entire = mp.pi / mp.sqrt((mp.mpf(1) / 2 + gauss_type) * D) / mp.mpf(1.25)
    if pole_distance is None:
        return h_entire
    d = mp.mpf(pole_distance)
    return min(h_entire, 2 * mp.pi * d / (D + d * d / 2))


def pair_expectation(f: Callable, g: Callable, q1, q2, c12, pole_distance=None,
                     digits: Optional[int] = None, growth=0, gauss_type=0):
    r""":math:`\mathbb{E}[f(u)g(v)]` at the ambient precision (see the module docstring).

    ``digits`` defaults to ``mp.dps + 5``; ``growth`` bounds :math:`|\log|f||`
    growth rate (e.g. 1 for :math:`e^x`) and widens the truncation window
    by :math:`2\,\mathrm{growth}\cdot(s_1+s_2)`; ``gauss_type`` is τ with
    :math:`|f(x+iy)|, |g(x+iy)| \lesssim e^{\tau y^2}` (1 for erf and GELU).  Raises
    :class:`~symbolic_mf.errors.NotPSDError` if the covariance is not PSD.

    >>> from mpmath import mpf, erf, asin, pi
    >>> with mp.workdps(30):
    ...     val = pair_expectation(erf, erf, 1, 1, mpf(1), gauss_type=1)
    ...     ref = 2 * asin(mpf(2) / 3) / pi
    >>> abs(val - ref) < mpf(10)**-29
    True
    """
    q1, q2, c12 = mp.mpf(q1), mp.mpf(q2), mp.mpf(c12)
    if q1 < 0 or q2 < 0 or c12 * c12 > q1 * q2 * (1 + mp.mpf(10) ** (-mp.dps + 3)):
        raise NotPSDError("Sigma", [[q1, c12], [c12, q2]], "variances >= 0 and c^2 <= q1 q2")
    D = (mp.dps + 5) if digits is None else digits
    if D < 5:
        raise DomainError("digits", digits, "digits >= 5")
    s1, s2 = mp.sqrt(q1), mp.sqrt(q2)
    rho = c12 / (s1 * s2) if s1 * s2 > 0 else mp.zero
    rho = max(min(rho, mp.one), -mp.one)
    sig = mp.sqrt((1 - rho) * (1 + rho))
    scale = max(s1, s2, mp.mpf(1) / 4)
    pd = None if pole_distance is None else mp.mpf(pole_distance) / scale
    # growth of the integrand off the real axis: in x, f(s1 x) g(s2 rho x + ...); in y, g(... + s2 sigma y)
    hx = trapezoid_step(D, pd, gauss_type * (q1 + q2 * rho * rho))
    hy = trapezoid_step(D, pd, gauss_type * q2 * sig * sig)
    L = mp.sqrt(2 * D * mp.log(10)) + 2 * growth * (s1 + s2) + 1
    with mp.extradps(10):
        xs = [i * hx for i in range(-int(mp.ceil(L / hx)), int(mp.ceil(L / hx)) + 1)]
        ys = [j * hy for j in range(-int(mp.ceil(L / hy)), int(mp.ceil(L / hy)) + 1)]
        wy = [mp.exp(-t * t / 2) for t in ys]
        total = mp.zero
        for xi in xs:
            fx = f(s1 * xi)
            if fx == 0:
                continue
            base = s2 * rho * xi
            inner = mp.fsum(g(base + s2 * sig * yj) * wj for yj, wj in zip(ys, wy))
            total += fx * mp.exp(-xi * xi / 2) * inner
        val = total * hx * hy / (2 * mp.pi)
    return +val
