"""Orthogonalisation by rescaling-only BN (symbolic_mf.orthogonal) and its claims."""

import numpy as np
import pytest
import sympy as sp
from mpmath import mp

from symbolic_mf.claims import check_claim
from symbolic_mf.claimsets import claims, get_claim
from symbolic_mf.claimsets import orthogonal as co
from symbolic_mf.errors import DomainError
from symbolic_mf.orthogonal import (bn_rescale, contraction_rate, contraction_rate_symbolic, gap_floor,
                                    gram_map_eigenvalues, normalized_second_moment, orthogonality_gap,
                                    simulate_chain, two_point_closed_form)


def test_rate_symbolic_and_wrong_rates_rejected():
    a, b = contraction_rate_symbolic()
    n = sp.Symbol("n", positive=True)
    assert sp.simplify(a - n / (n + 2)) == 0 and sp.simplify(b + 1 / (n + 2)) == 0
    assert sp.simplify(a - (n - 1) / (n + 1)) != 0 and sp.simplify(a - n / (n + 1)) != 0
    assert contraction_rate(4) == sp.Rational(2, 3)


def test_spectral_map_derivative_by_finite_differences_n3():
    # full Jacobian at lambda = 1 matches a I + b 11^T, including the trace direction
    n, h = 3, mp.mpf("1e-8")
    a, b = [float(x.subs(sp.Symbol("n", positive=True), n)) for x in contraction_rate_symbolic()]
    with mp.workdps(30):
        for j in range(n):
            up = [1 + (h if k == j else 0) for k in range(n)]
            dn = [1 - (h if k == j else 0) for k in range(n)]
            col = [(p - q) / (2 * h) for p, q in zip(gram_map_eigenvalues(up, 25), gram_map_eigenvalues(dn, 25))]
            for i in range(n):
                assert abs(float(col[i]) - (a * (i == j) + b)) < 1e-6


def test_fixed_point_and_trace_preserved():
    lam = [0.3, 1.2, 2.5, 0.01]
    out = gram_map_eigenvalues(lam, 20)
    assert abs(sum(out) - 4) < 1e-15
    assert all(abs(x - 1) < 1e-15 for x in gram_map_eigenvalues([1, 1, 1], 20))
    # contraction toward equal eigenvalues: the spread shrinks
    assert max(out) - min(out) < max(lam) - min(lam)


def test_two_point_closed_form_and_wrong_forms():
    cf = two_point_closed_form()
    l1, l2 = sp.symbols("lambda1 lambda2", positive=True)
    val = float(cf.subs({l1: 2, l2: 5}))
    assert abs(val - float(normalized_second_moment([2, 5], 0))) < 1e-14
    assert abs(val - 2 / 7) > 1e-3             # the ratio of expectations l1/(l1+l2) is wrong


def test_orthogonality_gap_and_errors():
    assert orthogonality_gap(np.eye(4)) == 0.0
    assert abs(orthogonality_gap(np.ones((3, 2))) - np.sqrt(0.5)) < 1e-15
    H = bn_rescale(np.random.default_rng(0).normal(size=(10, 3)))
    assert np.allclose((H ** 2).mean(axis=1), 1)
    with pytest.raises(DomainError, match="H"):
        orthogonality_gap(np.ones(3))
    with pytest.raises(DomainError, match="depth"):
        simulate_chain(np.eye(3), -1)
    with pytest.raises(DomainError, match="d = 0"):
        gap_floor(3, 0)
    with pytest.raises(DomainError, match="lams"):
        normalized_second_moment([1, 0], 0)


def test_infinite_width_map_contracts_at_n_over_n_plus_2():
    lam = [1.02, 0.99, 0.995, 0.995]
    dev = lambda l: np.sqrt(sum((float(x) - 1) ** 2 for x in l))
    for _ in range(3):
        new = gram_map_eigenvalues(lam, 20)
        assert abs(dev(new) / dev(lam) - 2 / 3) < 0.01
        lam = new


def test_wide_chain_contracts_roughly_at_that_rate():
    n, d = 4, 1500
    ratios = []
    for s in range(3):
        rng = np.random.default_rng(7 + s)
        v = simulate_chain(rng.normal(size=(d, n)) @ np.diag([1.0, 1.0, 1.0, 1.6]), 3, seed=3 + s)
        ratios.extend(v[1:] / v[:-1])
    assert 0.55 < np.mean(ratios) < 0.8, ratios      # 2/3, plus the floor (0.03) and nonlinearity


@pytest.mark.parametrize("cid", [c.id for c in claims().filter(topic="orthogonal")])
def test_orthogonal_claims_pass(cid):
    assert check_claim(get_claim(cid), n=4).status == "PASS"


def test_ratio_of_expectations_is_rejected():
    wrong = get_claim("daneshmand.next-gram-expectation").replace(
        id="x.ratio", rhs=lambda i: (float(i["n"] * co._eig(i)[0][i["i"]] / co._eig(i)[0].sum()), 0.0))
    assert check_claim(wrong, n=10).status == "FAIL"
    half = get_claim("daneshmand.gap-floor").replace(id="x.floor", rhs=lambda i: (co.rhs_floor(i)[0] / 2, 0.05))
    assert check_claim(half, n=6).status == "FAIL"


@pytest.mark.slow
def test_floor_scales_inversely_with_width():
    vals = {}
    for d in (32, 256):
        vals[d] = np.mean([np.mean(simulate_chain(np.random.default_rng(s).normal(size=(d, 4)), 70, s)[30:] ** 2)
                           for s in range(8)])
    assert 5 < vals[32] / vals[256] < 11          # 8 expected
