r"""Laplace (Schwinger) engine for batch norm with a positively homogeneous activation.

For :math:`\phi` of degree :math:`\alpha > 0` the BN output
:math:`\phi(\sqrt B\,Gh/\|Gh\|) = B^{\alpha/2}\|Gh\|^{-\alpha}\phi(Gh)`, so
:math:`V_{B\phi}(\Sigma)_{ij} = B^\alpha\,\mathbb{E}[\phi((Gh)_i)\phi((Gh)_j)\,\|Gh\|^{-2\alpha}]`.
Writing :math:`\|y\|^{-2\alpha} = \Gamma(\alpha)^{-1}\int_0^\infty
s^{\alpha-1}e^{-s\|y\|^2}ds` (identity ``bn.schwinger``) and absorbing
:math:`e^{-s\,h^TGh}` into the Gaussian (completing the square:
:math:`\Sigma^{-1}\to\Sigma^{-1}+2sG`) gives

.. math::

   V_{B\phi}(\Sigma) = \frac{B^\alpha}{\Gamma(\alpha)}\int_0^\infty ds\;
   s^{\alpha-1}\det(I + 2s\Sigma G)^{-1/2}\;
   V_\phi\!\big(G(I+2s\Sigma G)^{-1}\Sigma G\big).

:func:`laplace_integrand` derives this integrand symbolically (any ``B``,
any PSD ``Sigma``) and :func:`V_bn_laplace` evaluates it at any precision.
At a BSB1 point (:math:`G\Sigma G = \mu G`) the determinant is
:math:`(1+2s\mu)^{B-1}`, the transformed covariance is
:math:`\mu G/(1+2s\mu)` and the s-integral is a Beta function
(:func:`bsb1_s_integral`, derived by SymPy's ``integrate``).

>>> from mpmath import mp
>>> import sympy as sp
>>> S = sp.Matrix([[2, 1, 0, 0], [1, 2, 1, 0], [0, 1, 2, 1], [0, 0, 1, 2]])
>>> with mp.workdps(20):
...     V = V_bn_laplace(1, relu_kernel_mp, S)
>>> print(mp.nstr(sum(V[i, i] for i in range(4)) / 4, 12))  # ||y||^2 = B and y -> -y: mean diagonal 1/2
0.5
>>> print(mp.nstr(V[0, 1], 8))   # Monte Carlo (2e6 samples): 0.14442
0.14433259
"""

from __future__ import annotations

from typing import Callable

import sympy as sp
from mpmath import mp

from ..errors import DomainError, NotPSDError

__all__ = [
    "centering",
    "schwinger_identity",
    "laplace_integrand",
    "bsb1_s_integral",
    "V_bn_laplace",
    "relu_kernel_mp",
]

s = sp.Symbol("s", positive=True)


def centering(B):
    """The centring projection :math:`G = I - 11^T/B` as a SymPy matrix.

    >>> centering(3)
    Matrix([
    [ 2/3, -1/3, -1/3],
    [-1/3,  2/3, -1/3],
    [-1/3, -1/3,  2/3]])
    """
    B = int(B)
    return sp.eye(B) - sp.ones(B, B) / B


def schwinger_identity(alpha=None, y2=None):
    r"""The pair (lhs, rhs) of :math:`y^{-2\alpha} = \Gamma(\alpha)^{-1}\int_0^\infty s^{\alpha-1}e^{-s y^2}ds`.

    >>> l, r = schwinger_identity(sp.Integer(2), sp.Integer(3))
    >>> sp.simplify(r.doit() - l)
    0
    """
    alpha = sp.Symbol("alpha", positive=True) if alpha is None else alpha
    y2 = sp.Symbol("y2", positive=True) if y2 is None else y2
    return y2 ** (-alpha), sp.Integral(s ** (alpha - 1) * sp.exp(-s * y2), (s, 0, sp.oo)) / sp.gamma(alpha)


def laplace_integrand(Sigma, alpha):
    r"""Symbolic pieces of the s-integrand: ``(det(I + 2 s Sigma G)^(-1/2), G (I + 2 s Sigma G)^(-1) Sigma G)``.

    >>> d, M = laplace_integrand(sp.eye(3), 1)
    >>> sp.factor(d)
    1/(2*s + 1)
    >>> sp.simplify(M - centering(3) / (1 + 2 * s))
    Matrix([
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0]])
    """
    Sigma = sp.Matrix(Sigma)
    B = Sigma.shape[0]
    G = centering(B)
    A = sp.eye(B) + 2 * s * Sigma * G
    det = sp.factor(A.det())
    M = (G * A.inv() * Sigma * G).applyfunc(sp.simplify)
    return det ** sp.Rational(-1, 2), M


def bsb1_s_integral(alpha=None, B=None, mu=None):
    r"""Derive :math:`\int_0^\infty s^{\alpha-1}(1+2s\mu)^{-(B-1)/2}(\mu/(1+2s\mu))^\alpha ds` in closed form.

    The substitution :math:`w = 2s\mu` and SymPy's ``integrate`` give the
    Beta function :math:`2^{-\alpha}\Gamma(\alpha)\Gamma(\tfrac{B-1}2)/\Gamma(\tfrac{B-1}2+\alpha)`
    (independent of :math:`\mu`: BN is scale invariant).

    >>> bsb1_s_integral(sp.Integer(1), sp.Integer(5))
    1/4
    """
    a = sp.Symbol("alpha", positive=True)
    n = sp.Symbol("n", positive=True)
    w = sp.Symbol("w", positive=True)
    # s^(alpha-1) mu^alpha ds = 2^(-alpha) w^(alpha-1) dw
    val = 2 ** (-a) * sp.integrate(w ** (a - 1) * (1 + w) ** (-n / 2 - a), (w, 0, sp.oo), conds="none")
    subs = {}
    if alpha is not None:
        subs[a] = sp.sympify(alpha)
    if B is not None:
        subs[n] = sp.sympify(B) - 1
    return sp.simplify(val.subs(subs)) if subs else val


def relu_kernel_mp(c):
    r"""Arc-cosine kernel of ReLU, :math:`(\sqrt{1-c^2} + (\pi - \arccos c)c)/(2\pi)`, in mpmath."""
    c = max(min(c, mp.one), -mp.one)
    return (mp.sqrt(1 - c * c) + (mp.pi - mp.acos(c)) * c) / (2 * mp.pi)


def V_bn_laplace(alpha, kernel: Callable, Sigma, B=None):
    r""":math:`V_{B\phi}(\Sigma)` for :math:`\phi` homogeneous of degree ``alpha > 0`` by the s-integral.

    ``kernel(c)`` is the unit-variance dual kernel :math:`K_\phi(c)`
    (mpmath); :math:`V_\phi(M)_{ij} = (M_{ii}M_{jj})^{\alpha/2}K_\phi(M_{ij}/\sqrt{M_{ii}M_{jj}})`.
    Returns an mpmath matrix at the ambient precision.  ``Sigma`` must be
    PSD with :math:`G\Sigma G \ne 0`.
    """
    alpha = mp.mpf(alpha)
    if not alpha > 0:
        raise DomainError("alpha", alpha, "alpha > 0 (the Schwinger integral needs a positive power)")
    S = mp.matrix(Sigma.tolist() if hasattr(Sigma, "tolist") else Sigma)
    B = S.rows
    S = mp.matrix([[mp.re(S[i, j]) for j in range(B)] for i in range(B)])
    if any(abs(S[i, j] - S[j, i]) > mp.eps * 100 for i in range(B) for j in range(B)):
        raise NotPSDError("Sigma", Sigma, "not symmetric")
    ev = mp.eigsy(S)[0]
    if min(ev) < -mp.eps * 1000 * max(1, max(abs(e) for e in ev)):
        raise NotPSDError("Sigma", Sigma, "negative eigenvalue")
    G = mp.eye(B) - mp.ones(B, B) / B
    SG = S * G
    out = mp.zeros(B, B)
    I = mp.eye(B)

    def integrand(sv):
        A = I + 2 * sv * SG
        M = G * mp.inverse(A) * S * G
        d = mp.re(mp.det(A)) ** mp.mpf(-0.5)
        vals = mp.zeros(B, B)
        for i in range(B):
            for j in range(i, B):
                q = mp.sqrt(max(M[i, i] * M[j, j], 0))
                vals[i, j] = vals[j, i] = 0 if q == 0 else mp.re(q ** alpha * kernel(M[i, j] / q))
        return sv ** (alpha - 1) * d * vals

    # integrate each entry; the integrand is cached per s so the B^2 entries share work
    cache = {}

    def entry(i, j):
        def f(sv):
            key = sv
            if key not in cache:
                cache[key] = integrand(sv)
            return cache[key][i, j]
        return mp.quad(f, [0, 1, mp.inf])

    pre = mp.mpf(B) ** alpha / mp.gamma(alpha)
    for i in range(B):
        for j in range(i, B):
            out[i, j] = out[j, i] = pre * entry(i, j)
    return out
