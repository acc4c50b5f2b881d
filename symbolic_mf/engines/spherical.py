r"""Spherical engine: batch-norm expectations as integrals over a sphere.

Batch norm on a batch of size :math:`B` (with :math:`\gamma = 1`,
:math:`\beta = 0`, :math:`\epsilon = 0`) is the projection
:math:`G = I - \mathbf{1}\mathbf{1}^T/B` followed by the radial projection
onto the sphere of radius :math:`\sqrt B` in the :math:`n = B-1`
dimensional subspace :math:`\mathbf{1}^\perp`.  For a BSB1 input covariance
(:math:`G\Sigma G \propto G`) the direction :math:`\hat y = Gh/\|Gh\|` is
uniform on that unit sphere :math:`S^{n-1}` and independent of
:math:`\|Gh\|`.  Coordinate :math:`i` of the BN output is
:math:`\sqrt{B}\,\hat y_i = \sqrt{n}\; t_i`, with :math:`t_i = x\cdot u_i`,
:math:`x` uniform on :math:`S^{n-1}` and :math:`u_i` the unit vector along
:math:`G e_i`; two such unit vectors meet at :math:`u_i\cdot u_j = -1/n`.

Reductions used here (all derived, none typed in from the paper):

* one coordinate: :math:`t` has density
  :math:`w_n(t) = \frac{\Gamma(n/2)}{\sqrt\pi\,\Gamma((n-1)/2)}(1-t^2)^{(n-3)/2}`
  on :math:`[-1, 1]` (:func:`coordinate_density`);
* two coordinates: the projection of :math:`x` onto the plane of
  :math:`u_1, u_2` is :math:`r(\cos\theta, \sin\theta)` with :math:`\theta`
  uniform and independent of :math:`r`, and :math:`r` has density
  :math:`(n-2)\,r(1-r^2)^{(n-4)/2}`; the substitution
  :math:`r = \sqrt{1 - w^2}` turns the radial weight into the smooth
  :math:`(n-2)w^{n-3}\,dw` on :math:`[0, 1]` (:func:`expect_two`).

>>> from mpmath import mp
>>> relu = lambda y: max(y, 0)
>>> with mp.workdps(20):
...     print(mp.nstr(expect_one(lambda y: relu(y)**2, 6), 15))   # ReLU q* = 1/2 for every B
0.5
"""

from __future__ import annotations

from typing import Callable, Sequence

import sympy as sp
from mpmath import mp

from ..errors import DomainError

__all__ = ["coordinate_density", "expect_one", "expect_two", "expect_two_homogeneous", "radial_moment", "check_batch_size"]


def check_batch_size(B, minimum=4, why="lambda_G needs E[1/||Gh||^2] < oo, i.e. B >= 4"):
    """Raise :class:`DomainError` unless ``B`` is an integer ``>= minimum``.

    >>> check_batch_size(3)
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.DomainError: B = 3 is outside its valid range: integer B >= 4 (lambda_G needs E[1/||Gh||^2] < oo, i.e. B >= 4)
    """
    try:
        ok = int(B) == B and int(B) >= minimum
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise DomainError("B", B, f"integer B >= {minimum}", why)
    return int(B)


def coordinate_density(B, t=None):
    r"""SymPy density of one coordinate :math:`t = x\cdot u` of :math:`x` uniform on :math:`S^{B-2}`.

    >>> t = sp.Symbol("t")
    >>> coordinate_density(4, t)   # n = 3: uniform on [-1, 1] (Archimedes)
    1/2
    >>> sp.integrate(coordinate_density(7, t), (t, -1, 1))
    1
    """
    n = sp.sympify(B) - 1
    t = sp.Symbol("t", real=True) if t is None else t
    return sp.gamma(n / 2) / (sp.sqrt(sp.pi) * sp.gamma((n - 1) / 2)) * (1 - t ** 2) ** ((n - 3) / 2)


def _density_mp(n):
    n = mp.mpf(n)
    k = mp.gamma(n / 2) / (mp.sqrt(mp.pi) * mp.gamma((n - 1) / 2))
    e = (n - 3) / 2
    return lambda t: k * (1 - t * t) ** e


def expect_one(f: Callable, B, breaks: Sequence = (0,)):
    r""":math:`\mathbb{E}[f(\sqrt{n}\,t)]`, :math:`t` one coordinate on :math:`S^{n-1}`, :math:`n = B-1`.

    ``f`` is an mpmath-callable; ``breaks`` are points (in the argument of
    ``f``) where it has a kink.  The substitution :math:`t = \sin\psi`
    removes the endpoint power of the density for every ``B >= 3``.

    >>> with mp.workdps(25):
    ...     print(mp.nstr(expect_one(lambda y: y**2, 9), 20))   # E[(sqrt(n) t)^2] = 1
    1.0
    """
    n = check_batch_size(B, 3, "the sphere S^{B-2} needs B >= 3") - 1
    sn = mp.sqrt(n)
    k = mp.gamma(mp.mpf(n) / 2) / (mp.sqrt(mp.pi) * mp.gamma(mp.mpf(n - 1) / 2))
    # t = sin(psi): dt w(t) = k cos(psi)^(n-2) dpsi
    pts = [-mp.pi / 2]
    for b in sorted(breaks):
        tb = mp.mpf(b) / sn
        if -1 < tb < 1:
            pts.append(mp.asin(tb))
    pts.append(mp.pi / 2)
    return k * mp.quad(lambda p: f(sn * mp.sin(p)) * mp.cos(p) ** (n - 2), pts)


def expect_two(F: Callable, B, rho=None, breaks_angle: Sequence = ()):
    r""":math:`\mathbb{E}[F(\sqrt n\,t_1, \sqrt n\,t_2)]` for two coordinates of :math:`x \sim U(S^{n-1})`.

    :math:`t_i = x\cdot u_i` with :math:`u_1\cdot u_2 = \rho` (default
    :math:`-1/n`, two BN outputs).  Polar form in the plane of
    :math:`u_1, u_2`: :math:`t_1 = r\cos\theta`, :math:`t_2 = r\cos(\theta -
    \gamma)`, :math:`\cos\gamma = \rho`, :math:`r = \sqrt{1-w^2}` with weight
    :math:`(n-2)w^{n-3}`.  ``breaks_angle`` are extra angles where ``F`` has
    kinks; the zero lines of :math:`t_1` and :math:`t_2`
    (:math:`\theta = \pm\pi/2`, :math:`\gamma\pm\pi/2`) are always split at.

    >>> print(mp.nstr(expect_two(lambda a, b: a * b, 5), 12))   # E[y1 y2] = n rho / n = -1/4
    -0.25
    """
    n = check_batch_size(B, 4, "two coordinates with a radial density need B >= 4") - 1
    rho = mp.mpf(-1) / n if rho is None else mp.mpf(rho)
    gam = mp.acos(rho)
    sn = mp.sqrt(n)
    angles = {mp.mpf(0), 2 * mp.pi}
    for a in [mp.pi / 2, 3 * mp.pi / 2, gam + mp.pi / 2, gam + 3 * mp.pi / 2] + list(breaks_angle):
        angles.add(a % (2 * mp.pi))
    angles = sorted(angles)

    def inner(theta):
        c1, c2 = mp.cos(theta), mp.cos(theta - gam)

        def g(w):
            r = mp.sqrt(1 - w * w)
            return F(sn * r * c1, sn * r * c2) * w ** (n - 3)

        return mp.quad(g, [0, 1])

    return (n - 2) * mp.quad(inner, angles) / (2 * mp.pi)


def radial_moment(m, B):
    r""":math:`\mathbb E[r^m]` for :math:`r` the length of the projection of :math:`x\sim U(S^{n-1})` on a 2-plane.

    :math:`(n-2)\int_0^1 r^{m+1}(1-r^2)^{(n-4)/2}dr = \tfrac{n-2}2\,\mathrm B(\tfrac m2+1, \tfrac{n-2}2)`, :math:`n = B-1`.

    >>> print(radial_moment(2, 6))   # E[r^2] = 2/n
    0.4
    """
    n = mp.mpf(B) - 1
    m = mp.mpf(m)
    return (n - 2) / 2 * mp.beta(m / 2 + 1, (n - 2) / 2)


def expect_two_homogeneous(F: Callable, B, degree, rho=None):
    r""":math:`\mathbb E[F(\sqrt n t_1, \sqrt n t_2)]` for ``F`` positively homogeneous of degree ``degree``.

    The radius factors out: :math:`n^{d/2}\,\mathbb E[r^d]\,\frac1{2\pi}\int_0^{2\pi}F(\cos\theta, \cos(\theta-\gamma))d\theta`;
    one angular integral split at the zero lines of both coordinates.

    >>> relu = lambda y: max(y, 0)
    >>> a = expect_two_homogeneous(lambda u, v: relu(u) * relu(v), 6, 2)
    >>> b = expect_two(lambda u, v: relu(u) * relu(v), 6)
    >>> abs(a - b) < 1e-14
    True
    """
    n = check_batch_size(B, 4, "two coordinates with a radial density need B >= 4") - 1
    rho = mp.mpf(-1) / n if rho is None else mp.mpf(rho)
    gam = mp.acos(rho)
    angles = {mp.mpf(0), 2 * mp.pi}
    for a in [mp.pi / 2, 3 * mp.pi / 2, gam + mp.pi / 2, gam + 3 * mp.pi / 2]:
        angles.add(a % (2 * mp.pi))
    ang = mp.quad(lambda th: F(mp.cos(th), mp.cos(th - gam)), sorted(angles)) / (2 * mp.pi)
    return mp.mpf(n) ** (mp.mpf(degree) / 2) * radial_moment(degree, B) * ang
