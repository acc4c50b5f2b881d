r"""Daneshmand, Joudaki, Bach (2021): orthogonalisation by rescaling-only BN, as seeded statistical claims.

The paper's theorems (their constants) could not be read in the stored
sources (abstract only: "the deviation from orthogonality decays with depth
up to a term inversely proportional to the width"); the statements below are
the ones derived in :mod:`symbolic_mf.orthogonal`, checked against seeded
simulation.  Each instance is decided within sampling error (PASS within 4,
FAIL beyond 6 standard errors).
"""

from __future__ import annotations

import numpy as np

from ..claims import Claim
from ..orthogonal import gap_floor, normalized_second_moment, simulate_chain

SRC = "Daneshmand, Joudaki, Bach (2021), Batch normalization orthogonalizes representations in deep random networks"
DRAWS = 20000


def _sample_H(r):
    n = r.randint(3, 5)
    d = r.randint(n, 8)
    rng = np.random.default_rng(r.randrange(2 ** 32))
    H = rng.standard_normal((d, n)) * rng.uniform(0.3, 2.0, size=n) + rng.uniform(0, 1.5) * rng.standard_normal((d, 1))
    return {"n": n, "d": d, "H": np.round(H, 3), "_seed": r.randrange(2 ** 32), "i": r.randrange(n)}


def _eig(inst):
    lam, U = np.linalg.eigh(inst["H"].T @ inst["H"])
    return lam, U


def lhs_gram(inst):
    lam, U = _eig(inst)
    # the (i, i) entry of n r r^T/||r||^2 in the eigenbasis, over seeded draws of a row r = w^T H
    n, H = inst["n"], inst["H"]
    rng = np.random.default_rng(inst["_seed"])
    X = rng.standard_normal((DRAWS, H.shape[0])) @ H
    vals = n * (X @ U[:, inst["i"]]) ** 2 / np.einsum("ki,ki->k", X, X)
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(DRAWS))


def rhs_gram(inst):
    lam, _ = _eig(inst)
    return float(inst["n"] * normalized_second_moment(list(lam), inst["i"], dps=15)), 0.0


def _sample_floor(r):
    return {"n": r.randint(2, 4), "d": r.choice([64, 128]), "_seed": r.randrange(2 ** 32)}


def lhs_floor(inst, seeds=4, depth=60, burn=25):
    n, d = inst["n"], inst["d"]
    per = []
    for k in range(seeds):
        rng = np.random.default_rng([inst["_seed"], k])
        v = simulate_chain(rng.standard_normal((d, n)), depth, seed=int(rng.integers(2 ** 31)))
        per.append(np.mean(v[burn:] ** 2))
    per = np.array(per) * d
    return float(per.mean()), float(per.std(ddof=1) / np.sqrt(seeds))


def rhs_floor(inst, allowance=0.10):
    f = gap_floor(inst["n"], inst["d"]) * inst["d"]
    return f, allowance * f


def register(reg):
    add = reg.add
    add(Claim(
        "daneshmand.next-gram-expectation",
        "E[C_{l+1} | H] = n E[r r^T/||r||^2], r ~ N(0, H^T H): a 1-d integral over the singular values of H",
        SRC + " (expectation identity; derived here)",
        "u_i^T E[C'] u_i == n int_0^oo l_i/(1+2t l_i) prod_k (1+2t l_k)^(-1/2) dt  (u_i, l_i eigenpairs of H^T H)",
        _sample_H, lhs_gram, rhs_gram, "==",
        ("rescaling-only BN, W Gaussian; expectation over W given H (any width d)",),
        statistical=True, topic="orthogonal",
        confirmed="abstract only; the identity is derived independently (Schwinger parametrisation)",
    ))
    add(Claim(
        "daneshmand.gap-floor",
        "Finite-width floor of the orthogonality gap: d E[V^2] -> (n-1)(n+2)^2/(4n(n+1))",
        SRC + " ('up to a term inversely proportional to the width'; constant derived here)",
        "d * mean over layers >= 25 of V(H_l)^2 == (n-1)(n+2)^2/(4 n (n+1))  (10% allowance for O(1/d) corrections)",
        _sample_floor, lhs_floor, rhs_floor, "==",
        ("rescaling-only linear chain, Gaussian W, random H_0", "leading order in 1/d"),
        statistical=True, topic="orthogonal",
        confirmed="abstract: decay with depth to a floor ~ 1/width; the constant is not in the stored text",
    ))
