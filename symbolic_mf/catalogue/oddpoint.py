r"""Recentering + ReLU at infinite width (Nachum, Bondaschi, Gastpar, Khina 2024).

The symmetric fixed point of :math:`G\mapsto K_{\rm ReLU}(PGP)`: a symmetric
Gram matrix is centred to correlation :math:`-1/(n-1)` between samples, so the
pairwise cosine after one layer is :math:`J_1(-1/(n-1))`.  Left side: Gaussian
quadrature of :math:`2\,\mathbb E[\mathrm{relu}(u)\mathrm{relu}(v)]`; right side:
the arc-cosine kernel derived by the kernel engine (:func:`symbolic_mf.kernels.normalized_kernel`).
"""

from __future__ import annotations

import sympy as sp

from ..domains import IntegerRange
from ..functions import bivariate_expectation, rho, u, v
from ..identity import Identity

TOPIC = "oddpoint"
NBGK = "Nachum, Bondaschi, Gastpar, Khina (2024), Batch normalization decomposed, arXiv:2412.02843"

n = sp.Symbol("n", integer=True, positive=True)


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
        notes="Stable for every n checked (spectral radius 0.78 at n = 3 up to 0.976 at n = 13); for n >= 7 an "
              "odd-point attractor coexists (symbolic_mf.oddpoint.odd_fixed_point).",
    ))
