r"""Gegenbauer engine: the BSB1 fixed point and :math:`\lambda_G` as quadratic forms.

After BN a coordinate of the batch is :math:`\sqrt n\,t` with :math:`t =
x\cdot u`, :math:`x\sim U(S^{n-1})`, :math:`n = B-1`; :math:`t` has weight
:math:`\propto(1-t^2)^{\lambda-1/2}`, :math:`\lambda = (n-2)/2 = (B-3)/2`,
the Gegenbauer weight.  Expand :math:`f(t) = \phi(\sqrt n\,t) = \sum_l a_l C^{\lambda}_l(t)`.
Two facts diagonalise everything (both registered in the catalogue and
checked there by an independent route):

* reproducing property (Funk-Hecke): for unit :math:`u, v`,
  :math:`\mathbb E_x[C_j^\lambda(x\cdot u)C_k^\lambda(x\cdot v)] = \delta_{jk}\frac{\lambda}{j+\lambda}C_j^\lambda(u\cdot v)`;
* Dirichlet form: :math:`\mathbb E_t[(1-t^2)\,C_j^{\lambda\prime}(t)C_k^{\lambda\prime}(t)] = \delta_{jk}\,j(j+2\lambda)\frac{\lambda}{j+\lambda}C_j^\lambda(1)`
  (:math:`C_j^\lambda` is an eigenfunction of the Laplace-Beltrami operator of the sphere).

With :math:`N_l = \lambda/(l+\lambda)`, :math:`\rho = -1/n`,
:math:`d = \phi'(\sqrt n t) = \sum d_lC_l`, :math:`e = t\phi'(\sqrt n t) = \sum e_lC_l`:

.. math::

   q^* = \sum_l a_l^2N_lC_l(1),\quad q^*c^* = \sum_l a_l^2N_lC_l(\rho),\quad
   \lambda_G = \frac{\sum_l N_l\big[a_l^2\,l(l+2\lambda)C_l(1) + (d_l^2 + n e_l^2)C_l(\rho)\big]}
                    {(n-2)\sum_l a_l^2N_l\,(C_l(1)-C_l(\rho))},

where the Dirichlet form turned :math:`n\mathbb E[d^2(1-t^2)] = \mathbb E[(1-t^2)f'^2]`
into the first sum.  Coefficients are exact (SymPy) for polynomial and
piecewise-polynomial :math:`\phi` (ReLU, step, identity, leaky ReLU, integer
powers) and by quadrature otherwise.

>>> from symbolic_mf.activations import identity
>>> a = coefficients(identity().expr, 5, 3)      # sqrt(n) t = sqrt(4) t = C_1^{1}(t)
>>> a
[0, 1, 0, 0]
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import sympy as sp
from mpmath import mp

from ..activations import x as X
from ..functions import rho as Rho
from .spherical import check_batch_size, expect_one

__all__ = ["weight_index", "gegenbauer_norm", "coefficients", "coefficients_numeric", "fixed_point",
           "lambda_G", "series_terms", "coefficients_fast", "gegenbauer_all", "accelerated"]

t = sp.Symbol("t", real=True)


def weight_index(B):
    """:math:`\\lambda = (B-3)/2`.

    >>> weight_index(4)
    1/2
    """
    return (sp.sympify(B) - 3) / 2


def gegenbauer_norm(l, lam):
    r""":math:`\mathbb E_t[C_l^\lambda(t)^2] = \frac{\lambda}{l+\lambda}C_l^\lambda(1)` under the normalised weight.

    >>> gegenbauer_norm(2, sp.S.Half)   # Legendre: 1/(2l+1)
    1/5
    """
    lam = sp.sympify(lam)
    return sp.simplify(lam / (l + lam) * sp.gegenbauer(l, lam, 1))


def _half_moment(k, n):
    r""":math:`\int_0^1 t^k w_n(t)\,dt` for the normalised weight, exact."""
    c = sp.gamma(sp.Rational(n, 2)) / (sp.sqrt(sp.pi) * sp.gamma(sp.Rational(n - 1, 2)))
    return sp.simplify(c * sp.beta(sp.Rational(k + 1, 2), sp.Rational(n - 1, 2)) / 2)


def _pieces(expr, n):
    """(polynomial on t > 0, polynomial on t < 0) of expr(sqrt(n) t), or None if not piecewise polynomial."""
    y = sp.sqrt(n) * t
    e = expr.subs(X, y)

    def side(sign):
        rep = {}
        for r in e.atoms(Rho):
            a, arg = r.args
            pos = (arg.subs(t, sign) > 0) == True  # noqa: E712
            if not (a.is_Integer and a >= 0):
                return None
            rep[r] = arg ** a if pos else sp.Integer(0)
        out = sp.expand(e.xreplace(rep))
        return out if out.is_polynomial(t) else None

    return side(1), side(-1)


def coefficients(expr, B, L) -> List[sp.Expr]:
    r"""Exact Gegenbauer coefficients :math:`a_0..a_L` of :math:`f(t) = \mathrm{expr}(\sqrt{B-1}\,t)`, :math:`\lambda = (B-3)/2`.

    ``expr`` is a SymPy expression in the activation variable ``x`` that is
    polynomial on each half-line (``rho(k, x)`` with integer ``k``).

    >>> from symbolic_mf.activations import relu
    >>> coefficients(relu().expr, 4, 3)     # Legendre expansion of sqrt(3) max(t, 0)
    [sqrt(3)/4, sqrt(3)/2, 5*sqrt(3)/16, 0]
    """
    B = check_batch_size(B)
    n = B - 1
    lam = weight_index(B)
    pos, neg = _pieces(sp.sympify(expr), n)
    if pos is None or neg is None:
        raise ValueError("coefficients(): expr is not polynomial on each half-line; use coefficients_numeric")
    out = []
    for l in range(L + 1):
        C = sp.expand(sp.gegenbauer(l, lam, t))
        num = 0
        for poly, sgn in ((pos, 1), (neg, -1)):
            P = sp.Poly(sp.expand(poly * C), t)
            for (k,), coef in P.terms():
                num += coef * (sgn ** k) * _half_moment(k, n)
        out.append(sp.nsimplify(sp.simplify(num / gegenbauer_norm(l, lam))))
    return out


def coefficients_numeric(phi_mp, B, L, breaks: Sequence = (0,)) -> List:
    r"""Gegenbauer coefficients by quadrature (mpmath, ambient precision) for any :math:`\phi`.

    >>> import mpmath
    >>> with mp.workdps(20):
    ...     a = coefficients_numeric(mpmath.tanh, 6, 3)
    >>> print([mp.nstr(v, 6) for v in a])
    ['0.0', '0.480033', '0.0', '-0.0677888']
    """
    B = check_batch_size(B)
    n = B - 1
    lam = mp.mpf(B - 3) / 2
    sn = mp.sqrt(n)
    out = []
    for l in range(L + 1):
        norm = lam / (l + lam) * mp.gegenbauer(l, lam, 1)
        num = expect_one(lambda y: phi_mp(y) * mp.gegenbauer(l, lam, y / sn), B, breaks)
        out.append(num / norm)
    return out


def series_terms(a, B, rho=None):
    r"""Terms :math:`a_l^2N_lC_l(1)` and :math:`a_l^2N_lC_l(\rho)` (mpf lists), :math:`\rho = -1/(B-1)` by default."""
    n = mp.mpf(B) - 1
    lam = (n - 2) / 2
    rho = -1 / n if rho is None else mp.mpf(rho)
    t1, tr = [], []
    for l, al in enumerate(a):
        al = mp.mpf(sp.N(al, mp.dps + 5)) if isinstance(al, sp.Basic) else al
        N = lam / (l + lam)
        t1.append(al ** 2 * N * mp.gegenbauer(l, lam, 1))
        tr.append(al ** 2 * N * mp.gegenbauer(l, lam, rho))
    return t1, tr


def fixed_point(a, B) -> Tuple:
    r"""``(q*, c*)`` from coefficients :math:`a_l` (truncated series).

    >>> from symbolic_mf.activations import identity
    >>> q, c = fixed_point(coefficients(identity().expr, 6, 2), 6)
    >>> print(mp.nstr(q, 10), mp.nstr(c, 10))
    1.0 -0.2
    """
    t1, tr = series_terms(a, B)
    q = mp.fsum(t1)
    return q, mp.fsum(tr) / q


def lambda_G(a, d, e, B):
    r""":math:`\lambda_G` from the coefficients of :math:`\phi(\sqrt n t)`, :math:`\phi'(\sqrt n t)`, :math:`t\phi'(\sqrt n t)`.

    >>> from symbolic_mf.activations import identity
    >>> B = 7
    >>> a = coefficients(identity().expr, B, 2)
    >>> d = coefficients(sp.Integer(1), B, 2)
    >>> e = coefficients(X / sp.sqrt(B - 1), B, 2)
    >>> print(mp.nstr(lambda_G(a, d, e, B), 12))   # (B-2)/(B-3)
    1.25
    """
    n = mp.mpf(B) - 1
    lam = (n - 2) / 2
    rho = -1 / n
    num = mp.zero
    den = mp.zero
    L = max(len(a), len(d), len(e))
    conv = lambda v: mp.mpf(sp.N(v, mp.dps + 5)) if isinstance(v, sp.Basic) else mp.mpf(v)
    for l in range(L):
        al = conv(a[l]) if l < len(a) else mp.zero
        dl = conv(d[l]) if l < len(d) else mp.zero
        el = conv(e[l]) if l < len(e) else mp.zero
        N = lam / (l + lam)
        C1, Cr = mp.gegenbauer(l, lam, 1), mp.gegenbauer(l, lam, rho)
        num += N * (al ** 2 * l * (l + 2 * lam) * C1 + (dl ** 2 + n * el ** 2) * Cr)
        den += al ** 2 * N * (C1 - Cr)
    return num / ((n - 2) * den)


def _gl_nodes(m):
    """Gauss-Legendre nodes/weights on [-1, 1] with 3*2**(m-1) points at the ambient precision."""
    from mpmath.calculus.quadrature import GaussLegendre

    return GaussLegendre(mp).calc_nodes(m, mp.prec)


def gegenbauer_all(L, lam, z):
    r""":math:`[C_0^\lambda(z), \ldots, C_L^\lambda(z)]` by the three-term recurrence.

    >>> print([mp.nstr(v, 6) for v in gegenbauer_all(3, mp.mpf(1), mp.mpf('0.5'))])   # Chebyshev U_l(1/2)
    ['1.0', '1.0', '0.0', '-1.0']
    """
    out = [mp.one, 2 * lam * z]
    for l in range(1, L):
        out.append((2 * (l + lam) * z * out[l] - (l + 2 * lam - 1) * out[l - 1]) / (l + 1))
    return out[: L + 1]


def coefficients_fast(phi_mp, B, L, breaks: Sequence = (0,), m: int = None) -> List:
    r"""Gegenbauer coefficients :math:`a_0..a_L` of :math:`\phi(\sqrt n t)` by Gauss-Legendre in :math:`\psi` (:math:`t = \sin\psi`).

    Each smooth piece between kinks (``breaks``, in the argument of
    :math:`\phi`) gets ``3*2**(m-1)`` nodes; :math:`C_l` by recurrence at all
    nodes at once, so the cost is :math:`O(L\cdot\#\text{nodes})`.  Agrees
    with :func:`coefficients` (exact) and :func:`coefficients_numeric`.

    >>> from symbolic_mf.activations import relu
    >>> with mp.workdps(20):
    ...     a = coefficients_fast(lambda y: max(y, 0), 4, 3)
    >>> print([mp.nstr(v, 8) for v in a[:3]], abs(a[3]) < 1e-18)   # sqrt(3)*[1/4, 1/2, 5/16, 0]
    ['0.4330127', '0.8660254', '0.54126588'] True
    """
    B = check_batch_size(B)
    n = B - 1
    lam = mp.mpf(B - 3) / 2
    sn = mp.sqrt(n)
    if m is None:
        m = max(6, int(mp.ceil(mp.log(max(L, 8) * 2 + mp.dps, 2))))
    nodes = _gl_nodes(m)
    k = mp.gamma(mp.mpf(n) / 2) / (mp.sqrt(mp.pi) * mp.gamma(mp.mpf(n - 1) / 2))
    pts = [-mp.pi / 2] + sorted(mp.asin(mp.mpf(b) / sn) for b in breaks if -sn < b < sn) + [mp.pi / 2]
    acc = [mp.zero] * (L + 1)
    for a_, b_ in zip(pts[:-1], pts[1:]):
        half, mid = (b_ - a_) / 2, (b_ + a_) / 2
        for xn, wn in nodes:
            p = mid + half * xn
            tt = mp.sin(p)
            w = wn * half * k * mp.cos(p) ** (n - 2) * phi_mp(sn * tt)
            for l, C in enumerate(gegenbauer_all(L, lam, tt)):
                acc[l] += w * C
    Cone = gegenbauer_all(L, lam, mp.one)
    return [acc[l] / (lam / (l + lam) * Cone[l]) for l in range(L + 1)]


def _ratio_sup(L, lam, rho, span=None):
    r""":math:`\max_{L<l\le L+\mathrm{span}}|C_l^\lambda(\rho)/C_l^\lambda(1)|` (the tail factor; decreasing like :math:`l^{-\lambda}`)."""
    span = span or max(L, 20)
    Cr = gegenbauer_all(L + span, lam, rho)
    C1 = gegenbauer_all(L + span, lam, mp.one)
    return max(abs(Cr[l] / C1[l]) for l in range(L + 1, L + span + 1))


def accelerated(phi_mp, dphi_mp, B, L: int = 60, breaks: Sequence = (0,)):
    r"""Fixed point and :math:`\lambda_G` by the Gegenbauer engine with the slow sums summed exactly.

    The sums weighted by :math:`C_l(1)` (which converge like :math:`L^{-1}`
    for ReLU, whose :math:`f'` jumps) are replaced by their values from
    Parseval and the Dirichlet-form identity: :math:`\sum a_l^2N_lC_l(1) =
    \mathbb E f^2` and :math:`\sum a_l^2 l(l+2\lambda)N_lC_l(1) = n\,\mathbb
    E[(1-t^2)\phi'(\sqrt n t)^2]` (1-D integrals).  Only the sums weighted by
    :math:`C_l(\rho)` stay series; their tails are bounded by
    :math:`\sup_{l>L}|C_l(\rho)/C_l(1)|` times the Parseval remainder
    :math:`\mathbb E g^2 - \sum_{l\le L} g_l^2N_lC_l(1)` (the sup taken over
    :math:`L < l \le 2L`, where it is attained in practice since the ratio
    decays like :math:`l^{-\lambda}`).

    Returns a dict with ``q_star``, ``c_star``, ``lambda_G`` and
    ``tail_bound`` (bound on the error of the three series, in the units of
    :math:`\lambda_G`'s numerator and denominator, propagated to first order).

    >>> from symbolic_mf.activations import relu
    >>> with mp.workdps(20):
    ...     r = accelerated(lambda y: max(y, 0), lambda y: 1 if y > 0 else 0, 8, L=40)
    >>> print(mp.nstr(r["q_star"], 12), mp.nstr(r["lambda_G"], 8), r["tail_bound"] < 1e-4)
    0.5 1.78819 True
    """
    B = check_batch_size(B)
    n = B - 1
    lam = mp.mpf(n - 2) / 2
    rho = -mp.one / n
    sn = mp.sqrt(n)
    f = phi_mp
    d = dphi_mp
    e = lambda y: y / sn * dphi_mp(y)
    Ef2 = expect_one(lambda y: f(y) ** 2, B, breaks)
    Ed2 = expect_one(lambda y: d(y) ** 2, B, breaks)
    Ee2 = expect_one(lambda y: e(y) ** 2, B, breaks)
    dirichlet = n * expect_one(lambda y: (1 - y * y / n) * d(y) ** 2, B, breaks)
    a = coefficients_fast(f, B, L, breaks)
    dc = coefficients_fast(d, B, L, breaks)
    ec = coefficients_fast(e, B, L, breaks)
    C1 = gegenbauer_all(L, lam, mp.one)
    Cr = gegenbauer_all(L, lam, rho)
    N = [lam / (l + lam) for l in range(L + 1)]
    S = lambda c, w: mp.fsum(c[l] ** 2 * N[l] * w[l] for l in range(L + 1))
    qc = S(a, Cr)
    dser, eser = S(dc, Cr), S(ec, Cr)
    sup = _ratio_sup(L, lam, rho)
    ta = sup * max(Ef2 - S(a, C1), 0)
    td = sup * max(Ed2 - S(dc, C1), 0)
    te = sup * n * max(Ee2 - S(ec, C1), 0)
    num = dirichlet + dser + n * eser
    den = (n - 2) * (Ef2 - qc)
    lamG = num / den
    tail = (td + te) / den + abs(lamG) * (n - 2) * ta / den
    return {"q_star": Ef2, "c_star": qc / Ef2, "lambda_G": lamG, "tail_bound": tail,
            "coefficients": a}
