r"""Batch norm orthogonalises representations (Daneshmand, Joudaki, Bach, NeurIPS 2021).

The rescaling-only linear chain: representations :math:`H_\ell\in\mathbb R^{d\times n}`
(width :math:`d`, batch :math:`n`, columns are samples),

.. math::

   H_{\ell+1} = \mathrm{BN}(W_\ell H_\ell),\qquad (W_\ell)_{ij}\sim\mathcal N(0,1),\qquad
   \mathrm{BN}(M) = \sqrt n\,\mathrm{diag}(MM^T)^{-1/2}M

(each feature rescaled to mean square one over the batch; no recentering).
The orthogonality gap is
:math:`V(H) = \big\|H^TH/\|H\|_F^2 - I_n/n\big\|_F`; with :math:`C = H^TH/d`
(trace :math:`n` after BN) it is :math:`\|C - I\|_F/n`.

Derived here:

* **next-layer Gram matrix.**  Each row of :math:`W H` is :math:`r\sim\mathcal N(0, H^TH)`
  and :math:`\mathbb E[C_{\ell+1}\mid H_\ell] = n\,\mathbb E[rr^T/\|r\|^2]`, exact at
  every width.  With :math:`\|r\|^{-2}=\int_0^\infty e^{-t\|r\|^2}dt` and the
  eigenvalues :math:`\lambda_k = s_k^2` of :math:`H^TH` (squared singular values),
  in the eigenbasis

  .. math::

     \mathbb E\Big[\frac{r_i^2}{\|r\|^2}\Big] = \int_0^\infty \frac{\lambda_i}{1+2t\lambda_i}
     \prod_k (1+2t\lambda_k)^{-1/2}\,dt

  (:func:`normalized_second_moment`), a one-dimensional integral over the
  singular values; for :math:`n = 2` SymPy evaluates it to
  :math:`\sqrt{\lambda_1}/(\sqrt{\lambda_1}+\sqrt{\lambda_2})`.
* **contraction rate.**  In the infinite-width limit :math:`C\mapsto nF(C)`;
  :math:`C = I` is a fixed point and the derivative there is
  :math:`\frac{n}{n+2}E - \frac{\mathrm{tr}E}{n+2}I` (:func:`contraction_rate`,
  by SymPy), so the gap contracts by :math:`n/(n+2)` per layer.
* **finite-width floor.**  At :math:`C = I` one layer adds the noise
  :math:`\frac1d\sum_k (n u_ku_k^T - I)`, :math:`u_k` uniform on the sphere, of mean
  square :math:`n(n-1)/d`; the linear recursion then has the stationary value
  :math:`\mathbb E V^2 \approx \frac{(n-1)(n+2)^2}{4n(n+1)\,d}` (:func:`gap_floor`), to
  leading order in :math:`1/d`.

>>> round(float(contraction_rate(4)), 6)
0.666667
>>> import numpy as np
>>> orthogonality_gap(np.eye(3))
0.0
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import sympy as sp
from mpmath import mp

from .errors import DomainError

__all__ = ["orthogonality_gap", "bn_rescale", "simulate_chain", "normalized_second_moment",
           "gram_map_eigenvalues", "contraction_rate", "contraction_rate_symbolic", "gap_floor",
           "two_point_closed_form", "one_layer_gram_mc"]


def orthogonality_gap(H) -> float:
    """V(H) = || H^T H / ||H||_F^2 - I/n ||_F for H of shape (d, n).

    >>> round(orthogonality_gap(np.ones((5, 2))), 6)       # two equal samples
    0.707107
    """
    H = np.asarray(H, dtype=float)
    if H.ndim != 2:
        raise DomainError("H", H.shape, "a 2-d array (width d, batch n)")
    n = H.shape[1]
    G = H.T @ H
    return float(np.linalg.norm(G / np.trace(G) - np.eye(n) / n))


def bn_rescale(M):
    """Rescaling-only BN: each row of M (a feature over the batch) to mean square 1."""
    M = np.asarray(M, dtype=float)
    n = M.shape[1]
    return np.sqrt(n) * M / np.linalg.norm(M, axis=1, keepdims=True)


def simulate_chain(H0, depth: int, seed: int = 0):
    """Gaps V(H_0), ..., V(H_depth) of the rescaling-only linear chain (seeded).

    >>> H0 = np.ones((64, 4)) + 0.01 * np.random.default_rng(0).normal(size=(64, 4))
    >>> v = simulate_chain(H0, 12, seed=1); bool(v[0] > 0.8 and v[-1] < 0.2)
    True
    """
    if not isinstance(depth, int) or depth < 0:
        raise DomainError("depth", depth, "integer depth >= 0")
    rng = np.random.default_rng(seed)
    H = np.asarray(H0, dtype=float)
    d = H.shape[0]
    out = [orthogonality_gap(H)]
    for _ in range(depth):
        H = bn_rescale(rng.standard_normal((d, d)) @ H)
        out.append(orthogonality_gap(H))
    return np.array(out)


def normalized_second_moment(lams: Sequence, i: int, dps: int = 20):
    r"""E[r_i^2/||r||^2] for r ~ N(0, diag(lams)): the one-dimensional t-integral (mpmath).

    >>> round(float(normalized_second_moment([1, 4], 0)), 12)    # sqrt(1)/(sqrt(1)+sqrt(4))
    0.333333333333
    """
    lams = [mp.mpf(x) for x in lams]
    if any(x <= 0 for x in lams):
        raise DomainError("lams", lams, "positive eigenvalues (a non-singular Gram matrix)")
    with mp.workdps(dps + 10):
        def f(t):
            p = mp.one
            for x in lams:
                p /= mp.sqrt(1 + 2 * t * x)
            return lams[i] / (1 + 2 * t * lams[i]) * p
        val = mp.quad(f, [0, 1, mp.inf])
    return +val


def gram_map_eigenvalues(lams: Sequence, dps: int = 20):
    """Infinite-width map on the spectrum of C: lambda_i -> n E[r_i^2/||r||^2]."""
    n = len(lams)
    return [n * normalized_second_moment(lams, i, dps) for i in range(n)]


@functools.lru_cache(maxsize=1)
def contraction_rate_symbolic():
    r"""SymPy: the derivative of the spectral map at lambda = 1, as (a, b) in a E + b tr(E) I.

    >>> contraction_rate_symbolic()
    (n/(n + 2), -1/(n + 2))
    """
    n = sp.Symbol("n", positive=True)
    t = sp.Symbol("t", positive=True)
    l1, l2 = sp.symbols("lambda1 lambda2", positive=True)
    # f_1 = n lambda_1 int (1+2t l1)^-1 (1+2t l1)^-1/2 (1+2t l2)^-1/2 (1+2t)^-(n-2)/2 dt
    integrand = n * l1 / (1 + 2 * t * l1) * (1 + 2 * t * l1) ** sp.Rational(-1, 2) \
        * (1 + 2 * t * l2) ** sp.Rational(-1, 2) * (1 + 2 * t) ** (-(n - 2) / 2)
    d11 = sp.integrate(sp.simplify(sp.diff(integrand, l1).subs({l1: 1, l2: 1})), (t, 0, sp.oo))
    d12 = sp.integrate(sp.simplify(sp.diff(integrand, l2).subs({l1: 1, l2: 1})), (t, 0, sp.oo))
    a = sp.simplify(sp.gammasimp(d11 - d12))
    b = sp.simplify(sp.gammasimp(d12))
    return a, b


def contraction_rate(n):
    """n/(n+2): per-layer contraction of the gap near orthogonality in the infinite-width limit."""
    if not isinstance(n, int) or n < 2:
        raise DomainError("n", n, "integer batch size n >= 2")
    a, _ = contraction_rate_symbolic()
    return a.subs(sp.Symbol("n", positive=True), n)


def gap_floor(n: int, d: int) -> float:
    """Leading-order finite-width floor of E[V^2]: (n-1)(n+2)^2 / (4 n (n+1) d)."""
    if not isinstance(n, int) or n < 2:
        raise DomainError("n", n, "integer batch size n >= 2")
    if not isinstance(d, int) or d < 1:
        raise DomainError("d", d, "integer width d >= 1")
    a = sp.Rational(n, n + 2)
    noise = sp.Rational(n * (n - 1), d)           # E||n u u^T - I||_F^2 / d
    return float(noise / (1 - a ** 2) / n ** 2)


def two_point_closed_form():
    """SymPy's value of the t-integral for n = 2: sqrt(l1)/(sqrt(l1) + sqrt(l2)).

    >>> two_point_closed_form()
    sqrt(lambda1)/(sqrt(lambda1) + sqrt(lambda2))
    """
    t = sp.Symbol("t", positive=True)
    a, b = sp.symbols("lambda1 lambda2", positive=True)
    p, q = sp.symbols("p q", positive=True)
    val = sp.integrate(a * (1 + 2 * t * a) ** sp.Rational(-3, 2) * (1 + 2 * t * b) ** sp.Rational(-1, 2), (t, 0, sp.oo))
    val = sp.simplify(sp.factor(val.subs({a: p ** 2, b: q ** 2})))
    return val.subs({p: sp.sqrt(a), q: sp.sqrt(b)})


def one_layer_gram_mc(H, draws: int, seed: int = 0):
    """Monte Carlo of E[C_{l+1} | H] = E[(BN(WH))^T BN(WH)]/d: mean and standard error (seeded).

    >>> m, se = one_layer_gram_mc(np.eye(3), 200, seed=0); bool(np.allclose(m, np.eye(3), atol=6 * se.max()))
    True
    """
    H = np.asarray(H, dtype=float)
    n = H.shape[1]
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((draws, H.shape[0])) @ H             # rows r ~ N(0, H^T H)
    U = n * np.einsum("ki,kj->kij", R, R) / np.einsum("ki,ki->k", R, R)[:, None, None]
    return U.mean(axis=0), U.std(axis=0, ddof=1) / np.sqrt(draws)
