r"""Recentering + ReLU and the odd point (Nachum, Bondaschi, Gastpar, Khina 2024, "Batch normalization decomposed").

A batch :math:`X\in\mathbb R^{d\times n}` (columns are samples) goes through
:math:`Z = WX`, recentering of each feature over the batch
(:math:`Z \mapsto Z(I - \mathbf 1\mathbf 1^T/n)`), optionally rescaling of each
feature to unit variance, and ReLU.  Derived here:

* **two-cluster configurations are invariant, exactly.**  If :math:`k` samples sit at
  :math:`a` and :math:`n-k` at :math:`b`, each feature's centred values are
  :math:`-(n-k)\delta/n` (cluster A) and :math:`k\delta/n` (cluster B),
  :math:`\delta = w^T(b-a)`: after ReLU exactly one cluster is non-zero on each
  feature, so the output is again two clusters, **orthogonal**, for every
  :math:`W` (:func:`invariance_proof`).  With :math:`N_\pm` the numbers of
  features with :math:`\delta \gtrless 0`, the norm ratio is
  :math:`\|b'\|^2/\|a'\|^2 = (k/(n-k))^2\,N_+/N_-` with rescaling (exact) and
  :math:`\to (k/(n-k))^2` at infinite width without.  The odd point is
  :math:`k = n-1`: one sample :math:`n-1` times farther out, orthogonal to the
  cluster.
* **its linear stability.**  Spread inside a cluster, :math:`e`, maps to
  :math:`D W e` (:math:`D` the active features of that cluster), while the
  cluster distance maps to :math:`\|b'-a'\|^2 = \|a'\|^2 + \|b'\|^2`.  At infinite
  width the spread relative to the distance grows per layer by
  :math:`n/\sqrt{(n-k)^2+k^2}`: the exponent
  :math:`\Lambda(n,k) = \tfrac12\log\frac{n^2}{(n-k)^2+k^2} > 0` (:func:`stability_exponent`);
  exactly collapsed clusters are *unstable*, weakly for the odd point
  (:math:`\Lambda \approx 1/n`), strongly for a balanced split (:math:`\tfrac12\log 2`).
* **the symmetric fixed point** of the infinite-width map
  :math:`G\mapsto K_{\rm ReLU}(PGP)` has pairwise cosine
  :math:`c^* = J_1(-1/(n-1))` (:func:`symmetric_cosine`, from the arc-cosine kernel);
  its linearisation has spectral radius below 1 for every n checked (3..13; it tends
  to 1 like :math:`1 - O(1/n)`, :func:`symmetric_stability`), so it stays stable; but
  for :math:`n \ge 7` a second attractor appears (:func:`odd_fixed_point`): an
  :math:`S_{n-1}`-symmetric fixed point with one odd sample, whose cluster tightens
  (cosine 0.48 at n = 7, 0.87 at n = 16) and turns orthogonal to the odd point
  (cosine 0.066, 0.006) with norm ratio near n - 2.  For n <= 6 the same start
  relaxes to the symmetric point.  The exactly collapsed configuration is the
  :math:`n\to\infty` limit of this attractor, unstable at every finite n.

>>> round(float(symmetric_cosine(4)), 6)
0.169497
>>> round(float(stability_exponent(10, 9)), 6)
0.099225
"""

from __future__ import annotations

import functools
from typing import Optional

import numpy as np
import sympy as sp

from .errors import DomainError

__all__ = ["rc_layer", "two_cluster", "invariance_proof", "norm_ratio_rescaled", "stability_exponent",
           "stability_exponent_symbolic", "tangent_exponent", "gram_map", "iterate_gram_map",
           "symmetric_cosine", "symmetric_stability", "symmetric_stability_closed_form", "odd_fixed_point", "odd_point_score", "simulate_network"]


def _check_nk(n, k=None):
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise DomainError("n", n, "integer batch size n >= 2")
    if k is not None and (not isinstance(k, (int, np.integer)) or not 0 < k < n):
        raise DomainError("k", k, f"integer cluster size 0 < k < n = {n}")


def rc_layer(X, W, rescale: bool = False):
    """One layer: ReLU(recentre(W X)), optionally rescaling each feature to unit variance (NumPy).

    Exact for object arrays of SymPy numbers too (used by the exact invariance checks).

    >>> X = np.array([[1., 1., 0.], [0., 0., 1.]])            # two samples at e1, one at e2
    >>> rc_layer(X, np.array([[1., 2.], [3., 1.]]))            # still two clusters, now orthogonal
    array([[0.        , 0.        , 0.66666667],
           [0.66666667, 0.66666667, 0.        ]])
    """
    Z = W @ X
    n = Z.shape[1]
    Z = Z - Z.sum(axis=1, keepdims=True) / n
    if rescale:
        if Z.dtype == object:
            Z = np.array([[v / sp.sqrt(sum(x ** 2 for x in row) / n) if any(row) else v for v in row] for row in Z],
                         dtype=object)
        else:
            sd = np.sqrt((Z ** 2).mean(axis=1, keepdims=True))
            Z = np.divide(Z, sd, out=np.zeros_like(Z), where=sd > 0)
    if Z.dtype == object:
        return np.vectorize(lambda v: v if v > 0 else sp.Integer(0), otypes=[object])(Z)
    return np.maximum(Z, 0)


def two_cluster(a, b, n: int, k: int):
    """The batch with k columns equal to a and n - k equal to b."""
    _check_nk(n, k)
    a, b = np.asarray(a), np.asarray(b)
    return np.column_stack([a] * k + [b] * (n - k))


def invariance_proof(n=None, k=None):
    r"""SymPy: per feature, the two clusters' post-ReLU values have product 0 (for delta > 0 and < 0).

    Returns the per-feature values ``{sign: (A, B)}`` for symbolic n, k (or given ones), with and
    without rescaling, and asserts the products vanish.

    >>> r = invariance_proof(); r["orthogonal"], r["values"]["+"]
    (True, (0, k*p/n))
    """
    nn = sp.Symbol("n", positive=True) if n is None else sp.Integer(n)
    kk = sp.Symbol("k", positive=True) if k is None else sp.Integer(k)
    p = sp.Symbol("p", positive=True)
    relu = lambda e: sp.Max(0, e)
    vals, ok = {}, True
    for sign, delta in (("+", p), ("-", -p)):
        A, B = -(nn - kk) * delta / nn, kk * delta / nn      # centred values of the two clusters
        sd = sp.sqrt((kk * A ** 2 + (nn - kk) * B ** 2) / nn)
        for tag, (x, y) in (("", (A, B)), ("rescaled", (A / sd, B / sd))):
            xa, yb = [sp.simplify(relu(sp.simplify(v.subs(nn, kk + sp.Symbol("q", positive=True)))))
                      for v in (x, y)]
            ok = ok and sp.simplify(xa * yb) == 0
            if not tag:
                vals[sign] = tuple(sp.simplify(relu(v.subs(nn, kk + sp.Symbol("q", positive=True))).subs(
                    sp.Symbol("q", positive=True), nn - kk)) for v in (x, y))
    return {"orthogonal": bool(ok), "values": vals}


def norm_ratio_rescaled(n: int, k: int, n_plus: int, n_minus: int):
    """Exact ||b'||^2/||a'||^2 after recentering + rescaling + ReLU: (k/(n-k))^2 N+/N-."""
    _check_nk(n, k)
    if n_minus <= 0:
        raise DomainError("n_minus", n_minus, "at least one feature with delta < 0 (else cluster A vanishes)")
    return sp.Rational(k, n - k) ** 2 * sp.Rational(n_plus, n_minus)


@functools.lru_cache(maxsize=None)
def stability_exponent_symbolic():
    r"""SymPy: (1/2) log of [E||D W e||^2/||e||^2] / [E||b'-a'||^2/||b-a||^2] at infinite width.

    Half-Gaussian moments :math:`\mathbb E[z^2\mathbf 1(z<0)] = \mathbb E[z^2\mathbf 1(z>0)] = 1/2`
    are integrated by SymPy.

    >>> stability_exponent_symbolic()
    log(n**2/(k**2 + (k - n)**2))/2
    """
    z = sp.Symbol("z", real=True)
    n, k = sp.symbols("n k", positive=True)
    phi = sp.exp(-z ** 2 / 2) / sp.sqrt(2 * sp.pi)
    half = sp.integrate(z ** 2 * phi, (z, 0, sp.oo))                   # = E[z^2 1(z>0)]
    spread = half                                                       # per feature, active features of A
    dist = half * ((n - k) ** 2 / n ** 2) + half * (k ** 2 / n ** 2)  # ||a'||^2 + ||b'||^2 per feature
    return sp.log(sp.simplify(spread / dist)) / 2


def stability_exponent(n: int, k: int):
    """Lambda(n, k) = (1/2) log(n^2/((n-k)^2 + k^2)): growth per layer of the within-cluster spread (infinite width)."""
    _check_nk(n, k)
    e = stability_exponent_symbolic()
    return e.subs({sp.Symbol("n", positive=True): n, sp.Symbol("k", positive=True): k})


def tangent_exponent(n: int, k: int, d: int, depth: int = 200, seed: int = 0, eps: float = 1e-7, burn: int = 5):
    """Seeded estimate of the exponent at width d (no rescaling): mean log-growth per layer of
    (spread inside cluster A) / (distance between the clusters).

    The exact two-cluster configuration is propagated; each layer a zero-mean perturbation of
    cluster A of relative size ``eps`` is pushed through the same W (standard Lyapunov method).
    Returns (mean, standard error) over layers after ``burn``.

    >>> m, se = tangent_exponent(4, 2, 512, depth=40, seed=0); bool(abs(m - float(stability_exponent(4, 2))) < 0.1)
    True
    """
    _check_nk(n, k)
    if k < 2:
        raise DomainError("k", k, "k >= 2 (cluster A needs two points to have a spread)")
    if not isinstance(d, (int, np.integer)) or d < 2:
        raise DomainError("d", d, "integer width d >= 2")
    rng = np.random.default_rng(seed)
    a = np.zeros(d)
    a[: d // 2] = rng.random(d // 2) + 0.1
    b = np.zeros(d)
    b[d // 2:] = rng.random(d - d // 2) + 0.1
    X = two_cluster(a, b, n, k)
    logs = []
    for layer in range(depth):
        dist = np.linalg.norm(X[:, 0] - X[:, -1])
        E = np.zeros((d, n))
        E[:, :k] = rng.standard_normal((d, k))
        E[:, :k] -= E[:, :k].mean(axis=1, keepdims=True)
        E *= eps * dist / np.linalg.norm(E)
        W = rng.standard_normal((d, d))
        Y = rc_layer(X, W)
        Yp = rc_layer(X + E, W)
        spread = np.linalg.norm(Yp[:, :k] - Yp[:, :k].mean(axis=1, keepdims=True))
        newdist = np.linalg.norm(Y[:, 0] - Y[:, -1])
        if newdist == 0 or spread == 0:
            continue
        if layer >= burn:
            logs.append(np.log(spread / newdist / eps))
        X = Y / np.linalg.norm(Y)
    logs = np.array(logs)
    return float(logs.mean()), float(logs.std(ddof=1) / np.sqrt(len(logs)))


def gram_map(G):
    r"""Infinite-width recentering + ReLU on a Gram matrix: :math:`K_{\rm ReLU}(PGP)`, normalised to trace n (NumPy)."""
    G = np.asarray(G, dtype=float)
    n = G.shape[0]
    P = np.eye(n) - 1.0 / n
    S = P @ G @ P
    dg = np.sqrt(np.clip(np.diag(S), 1e-300, None))
    C = np.clip(S / np.outer(dg, dg), -1, 1)
    th = np.arccos(C)
    K = np.outer(dg, dg) * (np.sin(th) + (np.pi - th) * C) / (2 * np.pi)
    return K / np.trace(K) * n


def iterate_gram_map(n: int, depth: int = 2000, seed: int = 0):
    """Iterate :func:`gram_map` from a seeded random Gram matrix; return (cosines, norms) at the end.

    >>> C, r = iterate_gram_map(4, 300); bool(abs(C[0, 1] - float(symmetric_cosine(4))) < 1e-9)
    True
    """
    _check_nk(n)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    G = A @ A.T
    for _ in range(depth):
        G = gram_map(G)
    r = np.sqrt(np.diag(G))
    return G / np.outer(r, r), r


def symmetric_cosine(n: int):
    r"""Pairwise cosine :math:`c^* = J_1(-1/(n-1))` of the symmetric fixed point (arc-cosine kernel, derived)."""
    _check_nk(n)
    from .activations import relu
    from .kernels import normalized_kernel

    c = sp.Symbol("c")
    J = normalized_kernel(relu(), c)
    return J.subs(c, sp.Rational(-1, n - 1))


def symmetric_stability(n: int, h: float = 1e-6):
    """Eigenvalues (largest modulus first) of the linearised map at the symmetric fixed point,
    on perturbations of the Gram matrix modulo scale (central differences, NumPy).

    >>> [round(float(abs(symmetric_stability(n)[0])), 4) for n in (4, 10)]
    [0.8764, 0.9669]
    """
    _check_nk(n)
    c = float(symmetric_cosine(n))
    G0 = (1 - c) * np.eye(n) + c * np.ones((n, n))
    iu = np.triu_indices(n)
    basis = []
    for i, j in zip(*iu):
        E = np.zeros((n, n))
        E[i, j] = E[j, i] = 1.0
        basis.append(E)
    cols = []
    for E in basis:
        D = (gram_map(G0 + h * E) - gram_map(G0 - h * E)) / (2 * h)
        cols.append(D[iu])
    M = np.array(cols).T
    ev = np.linalg.eigvals(M)
    ev = ev[np.argsort(-np.abs(ev))]
    # drop the scale direction (the map is normalised to trace n: one zero eigenvalue direction)
    return ev


def symmetric_stability_closed_form(n=None):
    r"""Eigenvalues of the linearised map at the symmetric fixed point, derived (SymPy).

    With :math:`\rho = -1/(n-1)`, :math:`\kappa(\rho) = (\sqrt{1-\rho^2} + (\pi - \arccos\rho)\rho)/(2\pi)`
    (ReLU kernel), :math:`\kappa' = (\pi - \arccos\rho)/(2\pi)`, :math:`c^* = 2\kappa`,
    :math:`s = (1-c^*)(n-1)/n`: the modes of symmetric perturbations under :math:`S_n` give

    * off-diagonal, zero row sums (dimension :math:`n(n-3)/2`): :math:`\lambda_3 = 2\kappa'/s`;
    * the standard representation (two copies; only :math:`x - 2y` of diagonal :math:`x` and
      off-diagonal :math:`y_i + y_j` passes the centring): :math:`\lambda_1 = [(1 - 2/n) - 4\beta]/s`,
      :math:`\beta = \tfrac12(\kappa - \rho\kappa')(1 - 2/n) - \kappa'/n`, and 0;
    * constant off-diagonal (killed by the centring) and scale (normalised away): 0.

    Returns ``(lambda_1, lambda_3)``.  As :math:`n\to\infty` (SymPy series in :math:`1/n`):
    :math:`\lambda_1 = 1 - \frac{\pi^2/2 - 3\pi/2 + 1}{(\pi-1)^2\,n} + O(n^{-2})` (about
    :math:`1 - 0.267/n`) and :math:`\lambda_3 \to \pi/(2(\pi-1))`: stable at every n, ever more weakly.

    >>> l1, l3 = symmetric_stability_closed_form(4); round(float(l1), 4), round(float(l3), 4)
    (0.8764, 0.6291)
    """
    nn = sp.Symbol("n", positive=True) if n is None else sp.Integer(n)
    if n is not None:
        _check_nk(n)
    rho = -1 / (nn - 1)
    th = sp.acos(rho)
    kap = (sp.sqrt(1 - rho ** 2) + (sp.pi - th) * rho) / (2 * sp.pi)
    dkap = (sp.pi - th) / (2 * sp.pi)
    c_star = 2 * kap
    s_ = (1 - c_star) * (nn - 1) / nn
    beta = (kap - rho * dkap) * (1 - 2 / nn) / 2 - dkap / nn
    return ((1 - 2 / nn) - 4 * beta) / s_, 2 * dkap / s_


def odd_fixed_point(n: int, depth: int = 4000, noise: float = 1e-3, seed: int = 0):
    """Iterate the infinite-width map from the exact odd-point Gram matrix plus seeded noise.

    Returns the odd-point score of the limit: (cluster min cosine, odd max absolute cosine, norm ratio);
    a symmetric limit shows up as equal cosines and ratio 1.

    >>> [round(x, 3) for x in odd_fixed_point(6)], [round(x, 3) for x in odd_fixed_point(7)]
    ([0.225, 0.225, 1.0], [0.479, 0.066, 3.849])
    """
    _check_nk(n)
    G = np.zeros((n, n))
    G[: n - 1, : n - 1] = 1.0
    G[n - 1, n - 1] = (n - 1) ** 2
    A = np.random.default_rng(seed).standard_normal((n, n)) * noise
    G = G + A @ A.T
    for _ in range(depth):
        G = gram_map(G)
    return odd_point_score(np.linalg.cholesky(G + 1e-13 * np.eye(n)).T)


def odd_point_score(X):
    """(min cosine inside the n-1 closest samples, max absolute cosine of the remaining sample with them, norm ratio).

    An exact odd-point configuration scores (1, 0, n-1).

    >>> X = two_cluster([1., 0.], [0., 3.], 4, 3); odd_point_score(X)
    (1.0, 0.0, 3.0)
    """
    X = np.asarray(X, dtype=float)
    N = np.linalg.norm(X, axis=0)
    Nn = np.where(N > 0, N, 1.0)
    C = (X / Nn).T @ (X / Nn)
    n = C.shape[0]
    mc = (C.sum(axis=0) - 1) / (n - 1)
    j = int(np.argmin(mc))
    rest = [i for i in range(n) if i != j]
    ratio = N[j] / np.mean(N[rest]) if np.mean(N[rest]) > 0 else np.inf
    return float(C[np.ix_(rest, rest)].min()), float(np.abs(C[j, rest]).max()), float(ratio)


def simulate_network(n: int, d: int, depth: int, seed: int = 0, rescale: bool = False):
    """Seeded recentering(+rescaling)+ReLU network from a Gaussian batch; returns the odd-point score at the end."""
    _check_nk(n)
    if not isinstance(d, (int, np.integer)) or d < 2:
        raise DomainError("d", d, "integer width d >= 2")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((d, n))
    for _ in range(depth):
        X = rc_layer(X, rng.standard_normal((d, d)), rescale)
        nrm = np.linalg.norm(X)
        if nrm == 0:
            break
        X = X / nrm * np.sqrt(X.size)
    return odd_point_score(X)
