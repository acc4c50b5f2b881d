"""Recentering + ReLU: the odd-point configuration (symbolic_mf.oddpoint) and its claims."""

import numpy as np
import pytest
import sympy as sp

from symbolic_mf.claims import check_claim
from symbolic_mf.claimsets import claims, get_claim
from symbolic_mf.claimsets import oddpoint as co
from symbolic_mf.errors import DomainError
from symbolic_mf.oddpoint import (gram_map, invariance_proof, iterate_gram_map, norm_ratio_rescaled,
                                  odd_fixed_point, odd_point_score, rc_layer, simulate_network,
                                  stability_exponent, symmetric_cosine, symmetric_stability,
                                  tangent_exponent, two_cluster)


def test_invariance_proof_symbolic():
    r = invariance_proof()
    assert r["orthogonal"]
    k, n, p = sp.Symbol("k", positive=True), sp.Symbol("n", positive=True), sp.Symbol("p", positive=True)
    assert sp.simplify(r["values"]["+"][1] - k * p / n) == 0
    assert sp.simplify(r["values"]["-"][0] - (n - k) * p / n) == 0


@pytest.mark.parametrize("seed", range(3))
def test_invariance_numeric_any_width(seed):
    rng = np.random.default_rng(seed)
    d, n, k = 40, 9, 8
    X = two_cluster(rng.normal(size=d), rng.normal(size=d), n, k)
    for rescale in (False, True):
        Y = rc_layer(X, rng.normal(size=(d, d)), rescale)
        assert np.allclose(Y[:, :k], Y[:, [0]]) and abs(Y[:, 0] @ Y[:, -1]) < 1e-12
    # a three-cluster batch is NOT mapped to orthogonal clusters in general
    X3 = np.column_stack([rng.normal(size=d)] * 3 + [rng.normal(size=d)] * 3 + [rng.normal(size=d)] * 3)
    Y3 = rc_layer(X3, rng.normal(size=(d, d)))
    assert abs(Y3[:, 0] @ Y3[:, 3]) > 1e-3


def test_norm_ratio_large_width_and_errors():
    rng = np.random.default_rng(1)
    d, n = 4000, 6
    X = two_cluster(rng.normal(size=d), rng.normal(size=d), n, n - 1)
    Y = rc_layer(X, rng.normal(size=(d, d)))
    ratio = np.linalg.norm(Y[:, -1]) / np.linalg.norm(Y[:, 0])
    assert abs(ratio - (n - 1)) < 0.15 and abs(ratio - n) > 0.5
    assert norm_ratio_rescaled(4, 3, 5, 5) == 9
    with pytest.raises(DomainError, match="n_minus"):
        norm_ratio_rescaled(4, 3, 5, 0)
    with pytest.raises(DomainError, match="k"):
        tangent_exponent(5, 1, 16)
    with pytest.raises(DomainError, match="n = 1"):
        symmetric_cosine(1)


def test_exponent_formula_and_simulation():
    assert sp.simplify(stability_exponent(4, 2) - sp.log(2) / 2) == 0
    assert float(stability_exponent(10, 9)) > 0 and float(stability_exponent(10, 5)) > float(stability_exponent(10, 9))
    m, se = tangent_exponent(8, 4, 384, depth=60, seed=2)
    assert abs(m - float(stability_exponent(8, 4))) < 4 * se + 0.02
    # the wrong guess log(n/(n-k)) is rejected by the same simulation
    assert abs(m - float(sp.log(sp.Rational(8, 4)))) > 4 * se + 0.02


def test_symmetric_fixed_point_cosine_and_stability():
    for n in (3, 5, 9):
        C, r = iterate_gram_map(n, 600, seed=3) if n < 7 else (None, None)
        if C is not None:
            assert abs(C[0, 1] - float(symmetric_cosine(n))) < 1e-9
        c = float(symmetric_cosine(n))
        G = (1 - c) * np.eye(n) + c * np.ones((n, n))
        assert np.allclose(gram_map(G), G)
        assert abs(symmetric_stability(n)[0]) < 1


def test_odd_fixed_point_appears_from_n_7():
    low = odd_fixed_point(6)
    assert abs(low[0] - low[1]) < 1e-6 and abs(low[2] - 1) < 1e-6      # back to symmetric
    hi = odd_fixed_point(7)
    assert hi[1] < 0.1 and hi[0] > 0.4 and hi[2] > 3                  # cluster + orthogonal-ish odd point
    big = odd_fixed_point(16)
    assert big[0] > hi[0] and big[1] < hi[1]                            # tighter and more orthogonal with n


@pytest.mark.parametrize("cid", [c.id for c in claims().filter(topic="oddpoint")])
def test_oddpoint_claims(cid):
    c = get_claim(cid)
    v = check_claim(c, n=4 if c.statistical else 8)
    assert v.status == ("PASS" if c.expected == "holds" else "FAIL"), v.summary()


def test_wrong_norm_ratio_rejected():
    wrong = get_claim("nachum.norm-ratio-rescaled").replace(
        id="x.ratio", rhs=lambda i: sp.Rational(i["k"], i["n"] - i["k"]) ** 2)   # forgets N+/N-
    assert check_claim(wrong, n=20).status == "FAIL"


@pytest.mark.slow
def test_simulation_width_depth_batch():
    # wide, no rescaling, n = 16: a near-odd point appears from random data; n = 4 stays symmetric
    s16 = simulate_network(16, 256, 400, seed=0)
    s4 = simulate_network(4, 256, 400, seed=0)
    assert s4[2] < 1.5 and s16[2] > 3


def test_symmetric_stability_closed_form_matches_finite_differences():
    from symbolic_mf.oddpoint import symmetric_stability_closed_form

    for n in (3, 4, 7, 11):
        l1, l3 = [float(x) for x in symmetric_stability_closed_form(n)]
        ev = np.abs(symmetric_stability(n))
        assert abs(ev[0] - max(l1, l3)) < 1e-6
        assert (n < 4) or np.min(np.abs(ev - l3)) < 1e-6
        assert l1 < 1
    # the naive guess "slope of the normalised kernel J_1'(rho)" is not the spectral radius
    n = 5
    naive = (np.pi - np.arccos(-1 / (n - 1))) / np.pi
    assert abs(abs(symmetric_stability(n)[0]) - naive) > 0.1
