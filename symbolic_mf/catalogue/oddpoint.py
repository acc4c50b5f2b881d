r"""Recentering + ReLU at infinite width (Nachum, Bondaschi, Gastpar, Khina 2024).

The symmetric fixed point of :math:`G\mapsto K_{\rm ReLU}(PGP)`: a symmetric
Gram matrix is centred to correlation :math:`-1/(n-1)` between samples, so the
pairwise cosine after one layer is :math:`J_1(-1/(n-1))`.  Left side: Gaussian
quadrature of :math:`2\,\mathbb E[\mathrm{relu}(u)\mathrm{relu}(v)]`; right side:
the arc-cosine kernel derived by the kernel engine (:func:`symbolic_mf.kernels.normalized_kernel`).
"""

from __future__ import annotations

import sympy as sp

from mpmath import mp

from ..domains import IntegerRange
from ..errors import DomainError
from ..functions import bivariate_expectation, rho, u, v
from ..identity import Identity

TOPIC = "oddpoint"
NBGK = "Nachum, Bondaschi, Gastpar, Khina (2024), Batch normalization decomposed, arXiv:2412.02843"

n = sp.Symbol("n", integer=True, positive=True)


def _mp_map(G):
    """Infinite-width recentering + ReLU on a Gram matrix, normalised to trace n (mpmath, no closed forms)."""
    n = G.rows
    P = mp.eye(n) - mp.ones(n, n) / n
    S = P * G * P
    K = mp.matrix(n, n)
    for i in range(n):
        for j in range(n):
            r = mp.sqrt(S[i, i] * S[j, j])
            c = max(min(S[i, j] / r, mp.one), -mp.one)
            th = mp.acos(c)
            K[i, j] = r * (mp.sin(th) + (mp.pi - th) * c) / (2 * mp.pi)
    tr = mp.fsum(K[i, i] for i in range(n))
    return K * (n / tr)


def _n(env, lo):
    v = env[n]
    if v != mp.nint(v) or v < lo:
        raise DomainError("n", v, f"integer batch size n >= {lo}")
    return int(mp.nint(v))


def _lambda1_lhs(env):
    nn = _n(env, 3)
    G0 = _mp_map(mp.eye(nn))                       # one step from I lands on the symmetric fixed point
    D = mp.matrix(nn, nn)
    D[0, 0], D[1, 1] = 1, -1                       # standard mode: diagonal x = e0 - e1

    def f(eps):
        F = _mp_map(G0 + eps * D)
        return F[0, 0] - (F[0, 1] + F[0, 2] - F[1, 2])   # x'_0 - 2 y'_0
    return mp.diff(f, 0)


def _lambda3_lhs(env):
    nn = _n(env, 4)
    G0 = _mp_map(mp.eye(nn))
    E = mp.matrix(nn, nn)
    for (i, j), v in {(0, 1): 1, (2, 3): 1, (0, 2): -1, (1, 3): -1}.items():
        E[i, j] = E[j, i] = v                      # off-diagonal, zero row sums

    return mp.diff(lambda eps: _mp_map(G0 + eps * E)[0, 1], 0)


def register(reg):
    from ..activations import relu
    from ..kernels import normalized_kernel

    c = sp.Symbol("c")
    reg.add(Identity(
        "oddpoint.symmetric-cosine",
        "Symmetric fixed point of infinite-width recentering + ReLU: pairwise cosine c* = J_1(-1/(n-1))",
        2 * bivariate_expectation(rho(1, u) * rho(1, v), -1 / (n - 1)),
        lambda: normalized_kernel(relu(), c).subs(c, -1 / (n - 1)),
        {n: IntegerRange(2, 500, sharp="none")},
        references=[NBGK + " (symmetric fixed point; derived here)", "Cho & Saul (2009), arc-cosine kernel n = 1"],
        topics=[TOPIC],
        method="hermite",
        notes="Stable: see oddpoint.symmetric-stability-* (spectral radius 0.78 at n = 3, 0.976 at n = 13); for n >= 7 an "
              "odd-point attractor coexists (symbolic_mf.oddpoint.odd_fixed_point).",
    ))
    from ..oddpoint import symmetric_stability_closed_form

    ns = sp.Symbol("n", positive=True)
    reg.add(Identity(
        "oddpoint.symmetric-stability-standard",
        "Symmetric fixed point of recentering + ReLU: eigenvalue of the standard-representation mode",
        sp.Function("dF_standard")(n),
        lambda: symmetric_stability_closed_form()[0].subs(ns, n),
        {n: IntegerRange(3, 14)},
        references=[NBGK + " (symmetric fixed point; stability derived here)"],
        topics=[TOPIC],
        method="hermite",
        numeric={"lhs": _lambda1_lhs},
        notes="lhs: mpmath.diff of the map (arc-cosine kernel of the centred Gram matrix) along diag(1,-1,0..); "
              "rhs: [(1-2/n) - 4 beta]/s from the S_n mode decomposition. Below 1 for every n, -> 1 as n grows.",
    ))
    reg.add(Identity(
        "oddpoint.symmetric-stability-offdiagonal",
        "Symmetric fixed point of recentering + ReLU: eigenvalue 2 kappa'/s of the zero-row-sum off-diagonal mode",
        sp.Function("dF_offdiag")(n),
        lambda: symmetric_stability_closed_form()[1].subs(ns, n),
        {n: IntegerRange(4, 14)},
        references=[NBGK + " (symmetric fixed point; stability derived here)"],
        topics=[TOPIC],
        method="hermite",
        numeric={"lhs": _lambda3_lhs},
    ))
