r"""Nachum, Bondaschi, Gastpar, Khina (2024), "Batch normalization decomposed": recentering + ReLU.

Only the abstract could be read in the stored sources ("the representation
of the batch converges to a single cluster except for an odd data point that
breaks far away from the cluster in an orthogonal direction ... we prove a
stability result for the aforementioned configuration").  The theorem's
statement was not readable, so the claims below are what the mathematics
shows (:mod:`symbolic_mf.oddpoint`), plus one explicit *reading* of
"stability" that is refuted.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..claims import Claim
from ..oddpoint import rc_layer, stability_exponent, tangent_exponent, two_cluster

SRC = "Nachum, Bondaschi, Gastpar, Khina (2024), Batch normalization decomposed, arXiv:2412.02843"


def _sample_cfg(r):
    n = r.randint(3, 6)
    k = r.randint(1, n - 1)
    d = r.randint(3, 6)
    a = [sp.Integer(r.randint(-3, 3)) for _ in range(d)]
    b = [sp.Integer(r.randint(-3, 3)) for _ in range(d)]
    W = np.array([[sp.Integer(r.randint(-3, 3)) for _ in range(d)] for _ in range(d)], dtype=object)
    return {"n": n, "k": k, "d": d, "a": a, "b": b, "W": sp.Matrix(W)}


def _out(inst, rescale):
    X = two_cluster(np.array(inst["a"], dtype=object), np.array(inst["b"], dtype=object), inst["n"], inst["k"])
    return rc_layer(X, np.array(inst["W"].tolist(), dtype=object), rescale)


def _invariants(rescale):
    def f(inst):
        Y = _out(inst, rescale)
        k = inst["k"]
        spreadA = sum(sp.expand((Y[i, j] - Y[i, 0]) ** 2) for i in range(Y.shape[0]) for j in range(k))
        spreadB = sum(sp.expand((Y[i, j] - Y[i, -1]) ** 2) for i in range(Y.shape[0]) for j in range(k, inst["n"]))
        dot = sp.expand(sum(Y[i, 0] * Y[i, -1] for i in range(Y.shape[0])))
        return sp.Matrix([spreadA, spreadB, dot])
    return f


def _signs(inst):
    delta = inst["W"] * (sp.Matrix(inst["b"]) - sp.Matrix(inst["a"]))
    return sum(1 for v in delta if v > 0), sum(1 for v in delta if v < 0)


def _ratio_lhs(inst):
    Y = _out(inst, True)
    na = sum(sp.expand(Y[i, 0] ** 2) for i in range(Y.shape[0]))
    nb = sum(sp.expand(Y[i, -1] ** 2) for i in range(Y.shape[0]))
    return sp.nsimplify(sp.expand(nb / na))


def _ratio_rhs(inst):
    npl, nmi = _signs(inst)
    n, k = inst["n"], inst["k"]
    return sp.Rational(k, n - k) ** 2 * sp.Rational(npl, nmi)


def _sample_exp(r):
    n = r.randint(3, 10)
    return {"n": n, "k": r.randint(2, n - 1), "d": 256, "_seed": r.randrange(2 ** 31)}


def _exp_lhs(inst):
    return tangent_exponent(inst["n"], inst["k"], inst["d"], depth=80, seed=inst["_seed"])


def _exp_rhs(inst, allowance=0.02):
    return float(stability_exponent(inst["n"], inst["k"])), allowance


def register(reg):
    add = reg.add
    hyp = ("any weights W (integer entries sampled), any two points a, b (k copies of a, n-k of b)",
           "recentering over the batch, then ReLU")
    add(Claim(
        "nachum.invariance", "Two clusters stay two clusters and become orthogonal after recentering + ReLU",
        SRC + " (invariance; derived here)", "spread(A') = spread(B') = <a', b'> = 0, exactly",
        _sample_cfg, _invariants(False), lambda i: sp.zeros(3, 1), "==", hyp, topic="oddpoint",
        confirmed="abstract: 'a single cluster except for an odd data point ... in an orthogonal direction'",
    ))
    add(Claim(
        "nachum.invariance-rescaled", "... also with rescaling of each feature to unit variance",
        SRC + " (invariance with rescaling; derived here)", "spread(A') = spread(B') = <a', b'> = 0, exactly",
        _sample_cfg, _invariants(True), lambda i: sp.zeros(3, 1), "==", hyp + ("rescaling each feature",),
        topic="oddpoint",
    ))
    add(Claim(
        "nachum.norm-ratio-rescaled", "Norm ratio after recentering + rescaling + ReLU: ||b'||^2/||a'||^2 = (k/(n-k))^2 N+/N-",
        SRC + " (norm ratio; derived here)", "||b'||^2/||a'||^2 == (k/(n-k))^2 N+/N-,  N+- = #{features: w^T(b-a) >< 0}",
        _sample_cfg, _ratio_lhs, _ratio_rhs, "==", hyp + ("rescaling", "N+ > 0 and N- > 0"),
        admissible=lambda i: min(_signs(i)) > 0, topic="oddpoint",
        notes="odd point: k = n-1, ratio of norms (n-1) sqrt(N+/N-) -> n-1 at large width",
    ))
    add(Claim(
        "nachum.stability-exponent", "Linear instability exponent of collapsed clusters: (1/2) log(n^2/((n-k)^2+k^2))",
        SRC + " (stability; exponent derived here)",
        "mean log growth per layer of spread(A)/||b-a|| == Lambda(n, k)   (width 256; allowance 0.02 for O(1/d))",
        _sample_exp, _exp_lhs, _exp_rhs, "==", ("recentering + ReLU, Gaussian W, no rescaling",),
        statistical=True, topic="oddpoint",
    ))
    add(Claim(
        "nachum.collapsed-configuration-stable", "Reading: the exactly collapsed odd-point configuration is linearly stable",
        SRC + " (stability result; statement not readable, this is one reading)",
        "Lambda(n, n-1) <= 0 (a small spread inside the cluster does not grow relative to the cluster distance)",
        lambda r: {"n": r.randint(3, 10), "d": 256, "_seed": r.randrange(2 ** 31)},
        lambda i: tangent_exponent(i["n"], i["n"] - 1, i["d"], depth=80, seed=i["_seed"]),
        lambda i: (0.0, 0.0), "<=", ("odd point: k = n - 1",), statistical=True, expected="fails",
        topic="oddpoint",
        confirmed="abstract only ('we prove a stability result'); the theorem's hypotheses could not be read",
        notes="what holds instead: for n >= 7 the infinite-width map has a stable odd-point fixed point with a "
              "fuzzy cluster (symbolic_mf.oddpoint.odd_fixed_point); the collapsed configuration is its n -> oo limit",
    ))
