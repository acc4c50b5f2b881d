r"""The bivariate normal CDF :math:`\Phi_2(h, k; \rho)` as a SymPy function, evaluated by mpmath.

:math:`\Phi_2(h, k; \rho) = P(X \le h, Y \le k)` for :math:`(X, Y)` standard
normal with correlation :math:`\rho \in [-1, 1]`.  The orthant engine
(:mod:`symbolic_mf.engines.orthant`) writes the kernels of piecewise
activations (ELU) in terms of it; differentiating it symbolically gives the
polynomial moments.

* :class:`BivariateNormalCDF` — ``fdiff`` in h is
  :math:`\varphi(h)\,P(Y \le k \mid X = h)` (:class:`ConditionalNormalCDF`),
  in :math:`\rho` the bivariate density (Plackett's identity,
  :math:`\partial_\rho\Phi_2 = \partial_h\partial_k\Phi_2`).  Automatic
  evaluation only where canonical: :math:`\rho = 0` (independence) and
  :math:`h = k = 0` (Sheppard: :math:`\tfrac14 + \arcsin\rho/2\pi`, the
  Plackett integral of the density at the origin; see the tests).
* :class:`ConditionalNormalCDF` — :math:`\Phi((k - \rho h)/\sqrt{1-\rho^2})`,
  finite at :math:`\rho = \pm1` (a step); it rewrites itself as
  :math:`\Phi(w\sqrt{1-\rho^2})` whenever :math:`k - \rho h` is divisible by
  :math:`1 - \rho^2` (always so for tilted orthant probabilities), which keeps
  the kernels finite at :math:`c = \pm\sqrt{q_1q_2}`.
* :func:`bvn_cdf_mp` — mpmath evaluation at the ambient precision, by
  Drezner's angular form of Plackett's integral
  :math:`\Phi_2 = \Phi(h)\Phi(k) + \frac1{2\pi}\int_0^{\arcsin\rho}
  e^{-(h^2 - 2hk\sin\theta + k^2)/2\cos^2\theta}d\theta`, integrated from
  the nearer of 0 and :math:`\pm\pi/2` (where :math:`\Phi_2` is known in
  closed form), with the exponent written without cancellation.

>>> import sympy as sp
>>> h, k, r = sp.symbols("h k rho", real=True)
>>> BivariateNormalCDF(0, 0, r)
asin(rho)/(2*pi) + 1/4
>>> sp.diff(BivariateNormalCDF(h, k, r), h)
sqrt(2)*exp(-h**2/2)*ConditionalNormalCDF(h, k, rho)/(2*sqrt(pi))
>>> print(mp.nstr(bvn_cdf_mp(1, -0.5, mp.mpf(3) / 10), 15))      # SciPy: 0.28313842024448094
0.283138420244481
"""

from __future__ import annotations

import sympy as sp
from mpmath import mp
from sympy.core.function import ArgumentIndexError

from .errors import DomainError

__all__ = [
    "BivariateNormalCDF",
    "ConditionalNormalCDF",
    "normal_cdf",
    "normal_pdf",
    "bvn_cdf_mp",
    "conditional_cdf_mp",
]


def normal_cdf(x):
    r""":math:`\Phi(x) = (1 + \operatorname{erf}(x/\sqrt2))/2` (SymPy).

    >>> normal_cdf(0)
    1/2
    """
    return (1 + sp.erf(sp.sympify(x) / sp.sqrt(2))) / 2


def normal_pdf(x):
    r""":math:`\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}` (SymPy).

    >>> normal_pdf(0)
    sqrt(2)/(2*sqrt(pi))
    """
    return sp.exp(-sp.sympify(x) ** 2 / 2) / sp.sqrt(2 * sp.pi)


# ---------------------------------------------------------------------------
# mpmath evaluation


def _rho_checked(rho):
    rho = mp.mpf(rho)
    tol = mp.mpf(10) ** (-mp.dps + 3)
    if abs(rho) > 1 + tol:
        raise DomainError("rho", rho, "a correlation in [-1, 1]")
    return max(min(rho, mp.one), -mp.one)


def _ncdf(x):
    return mp.ncdf(x)


def bvn_cdf_mp(h, k, rho):
    r""":math:`\Phi_2(h, k; \rho)` at the ambient mpmath precision.

    Raises :class:`~symbolic_mf.errors.DomainError` for :math:`|\rho| > 1`.
    Accurate to about ``mp.dps`` digits *absolute* (the integral is done at
    10 extra digits; a result much smaller than 1 that comes out of the
    complement near :math:`|\rho| = 1` has fewer relative digits).

    >>> with mp.workdps(30):
    ...     v = bvn_cdf_mp(0, 0, mp.mpf(1) / 2)       # Sheppard: 1/4 + asin(1/2)/(2 pi) = 1/3
    ...     abs(v - mp.mpf(1) / 3) < mp.mpf(10) ** -29
    True
    """
    rho = _rho_checked(rho)
    h, k = mp.mpf(h), mp.mpf(k)
    if h == -mp.inf or k == -mp.inf:
        return mp.zero
    if h == mp.inf:
        return _ncdf(k)
    if k == mp.inf:
        return _ncdf(h)
    with mp.extradps(10):
        if rho == 0:
            return +(_ncdf(h) * _ncdf(k))
        if rho == 1:
            return +_ncdf(min(h, k))
        if rho == -1:
            return +max(mp.zero, _ncdf(h) + _ncdf(k) - 1)
        hk = h * k
        dp, dm = (h - k) ** 2 / 2, (h + k) ** 2 / 2

        def f(t):
            s, c2 = mp.sin(t), mp.cos(t) ** 2
            if c2 == 0:
                return mp.zero
            # h^2 - 2hk s + k^2 = (h - k)^2 + 2hk(1 - s) = (h + k)^2 - 2hk(1 + s): no cancellation near s = +-1
            if t >= 0:
                return mp.exp(-dp / c2 - hk / (1 + s))
            return mp.exp(-dm / c2 + hk / (1 - s))

        theta = mp.asin(rho)
        half = mp.pi / 2
        if abs(rho) <= mp.mpf(1) / 2:
            # [0, theta] with |theta| <= pi/6: the integrand is analytic well beyond it, Gauss-Legendre is fast;
            # near |rho| = 1 the complement integrand turns over within cos(theta) ~ |h - k| of pi/2:
            # tanh-sinh, which clusters nodes at the ends, is needed there
            val = _ncdf(h) * _ncdf(k) + mp.quad(f, [0, theta], method="gauss-legendre") / (2 * mp.pi)
        elif rho > 0:
            val = _ncdf(min(h, k)) - mp.quad(f, [theta, half]) / (2 * mp.pi)
        else:
            val = max(mp.zero, _ncdf(h) + _ncdf(k) - 1) + mp.quad(f, [-half, theta]) / (2 * mp.pi)
    return +val


def conditional_cdf_mp(h, k, rho):
    r""":math:`\Phi((k - \rho h)/\sqrt{1 - \rho^2})`, the limit step at :math:`\rho = \pm1` (1/2 on the edge).

    >>> conditional_cdf_mp(1, 1, 1), conditional_cdf_mp(1, 2, 1), conditional_cdf_mp(1, 2, -1)
    (mpf('0.5'), mpf('1.0'), mpf('1.0'))
    """
    rho = _rho_checked(rho)
    h, k = mp.mpf(h), mp.mpf(k)
    num = k - rho * h
    sig2 = (1 - rho) * (1 + rho)
    if sig2 == 0:
        return mp.one if num > 0 else (mp.zero if num < 0 else mp.mpf(1) / 2)
    return _ncdf(num / mp.sqrt(sig2))


def _density(h, k, rho):
    sig2 = 1 - rho**2
    return sp.exp(-(h**2 - 2 * rho * h * k + k**2) / (2 * sig2)) / (2 * sp.pi * sp.sqrt(sig2))


def _evalf_with(fn, args, prec):
    vals = [a.evalf(prec_to_dps(prec) + 5) for a in args]
    if not all(v.is_number and v.is_real for v in vals):
        return None
    with mp.workprec(prec + 20):
        res = fn(*[mp.mpf(str(v)) if not v.is_Float else mp.mpf(v._mpf_) for v in vals])
    return sp.Float(res, precision=prec)


def prec_to_dps(prec):
    return max(1, int(round(int(prec) / 3.3219280948873626) - 1))


class ConditionalNormalCDF(sp.Function):
    r""":math:`P(Y \le k \mid X = h) = \Phi\big((k - \rho h)/\sqrt{1-\rho^2}\big)` for a standard pair with correlation ρ.

    Rewrites itself as :math:`\Phi(w\sqrt{1-\rho^2})` when :math:`(k-\rho h)/(1-\rho^2) = w`
    has no pole at :math:`\rho = \pm1` (canonical: the form that is finite there).

    >>> a, b, r = sp.symbols("a b rho", real=True)
    >>> ConditionalNormalCDF(a + r * b, r * a + b, r)          # a tilted orthant: w = b
    erf(sqrt(2)*b*sqrt(1 - rho**2)/2)/2 + 1/2
    >>> ConditionalNormalCDF(1, 2, 1)
    1
    """

    nargs = 3

    @classmethod
    def eval(cls, h, k, rho):
        num = sp.expand(k - rho * h)
        if num == 0:
            return sp.S.Half
        if rho.is_number:
            if rho == 1 or rho == -1:
                if num.is_positive:
                    return sp.S.One
                if num.is_negative:
                    return sp.S.Zero
                return None
            if rho.is_zero:
                return normal_cdf(k)
        free = rho.free_symbols
        if free:
            w = sp.cancel(num / (1 - sp.expand(rho**2)))
            den = sp.fraction(w)[1]
            if not (den.free_symbols & free):
                return normal_cdf(sp.expand(w) * sp.sqrt(1 - rho**2))
        return None

    def fdiff(self, argindex=1):
        h, k, rho = self.args
        sig = sp.sqrt(1 - rho**2)
        dens = normal_pdf((k - rho * h) / sig)
        if argindex == 1:
            return -rho / sig * dens
        if argindex == 2:
            return dens / sig
        if argindex == 3:
            return (rho * k - h) / sig**3 * dens
        raise ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_erf(self, h, k, rho, **kwargs):
        return normal_cdf((k - rho * h) / sp.sqrt(1 - rho**2))

    def _eval_evalf(self, prec):
        return _evalf_with(conditional_cdf_mp, self.args, prec)

    def _latex(self, printer, exp=None):
        h, k, rho = (printer._print(a) for a in self.args)
        tex = r"\Phi\left(\frac{%s - %s\,(%s)}{\sqrt{1 - (%s)^2}}\right)" % (k, rho, h, rho)
        return tex if exp is None else r"%s^{%s}" % (tex, exp)


ConditionalNormalCDF._imp_ = staticmethod(conditional_cdf_mp)


class BivariateNormalCDF(sp.Function):
    r""":math:`\Phi_2(h, k; \rho) = P(X \le h, Y \le k)`, :math:`(X, Y)` standard normal with correlation ρ.

    >>> h, k, r = sp.symbols("h k rho", real=True)
    >>> BivariateNormalCDF(h, k, 0)
    (erf(sqrt(2)*h/2)/2 + 1/2)*(erf(sqrt(2)*k/2)/2 + 1/2)
    >>> sp.diff(BivariateNormalCDF(h, k, r), r)
    exp((-h**2 + 2*h*k*rho - k**2)/(2 - 2*rho**2))/(2*pi*sqrt(1 - rho**2))
    >>> print(sp.N(BivariateNormalCDF(1, 2, sp.Rational(1, 2)), 20))   # SciPy: 0.8318608311308805
    0.83186083113088047692
    """

    nargs = 3

    @classmethod
    def eval(cls, h, k, rho):
        if sp.default_sort_key(k) < sp.default_sort_key(h):  # symmetric in (h, k): one canonical order
            return cls(k, h, rho)
        if rho.is_zero:
            return normal_cdf(h) * normal_cdf(k)
        if h.is_zero and k.is_zero:
            return sp.Rational(1, 4) + sp.asin(rho) / (2 * sp.pi)
        if rho.is_number and h.is_number and k.is_number:
            if rho == 1 and h.is_comparable and k.is_comparable:
                return normal_cdf(sp.Min(h, k))
            if rho == -1 and h.is_comparable and k.is_comparable:
                return sp.Max(0, normal_cdf(h) + normal_cdf(k) - 1)
        return None

    def fdiff(self, argindex=1):
        h, k, rho = self.args
        if argindex == 1:
            return normal_pdf(h) * ConditionalNormalCDF(h, k, rho)
        if argindex == 2:
            return normal_pdf(k) * ConditionalNormalCDF(k, h, rho)
        if argindex == 3:
            return _density(h, k, rho)
        raise ArgumentIndexError(self, argindex)

    def _eval_evalf(self, prec):
        return _evalf_with(bvn_cdf_mp, self.args, prec)

    def _latex(self, printer, exp=None):
        h, k, rho = (printer._print(a) for a in self.args)
        tex = r"\Phi_2\left(%s, %s; %s\right)" % (h, k, rho)
        return tex if exp is None else r"%s^{%s}" % (tex, exp)


BivariateNormalCDF._imp_ = staticmethod(bvn_cdf_mp)
