"""The BN layer (symbolic_mf.bnlayer) and the claims of Santurkar et al. section 4."""

import random

import numpy as np
import pytest
import sympy as sp

from symbolic_mf.bnlayer import (batch_norm, batch_norm_np, bn_jacobian, bn_jacobian_closed_form,
                                 bn_jacobian_np, jacobian_structure, projector)
from symbolic_mf.claims import Claim, check_claim
from symbolic_mf.claimsets import claims, get_claim
from symbolic_mf.claimsets import santurkar as st
from symbolic_mf.errors import DomainError, DuplicateIdentityError, UnknownIdentityError


@pytest.mark.parametrize("variance", ["biased", "unbiased"])
def test_structure_proved_m3(variance):
    s = jacobian_structure(3, variance)
    assert (s.equals_closed_form, s.symmetric, s.projector, s.rank, s.kernel_is_span_1_y) == (True, True, True, 1, True)


@pytest.mark.slow
@pytest.mark.parametrize("m", [4, 5, 6])
@pytest.mark.parametrize("variance", ["biased", "unbiased"])
def test_structure_proved_small_m(m, variance):
    s = jacobian_structure(m, variance)
    assert s.equals_closed_form and s.symmetric and s.projector and s.kernel_is_span_1_y
    assert s.rank == m - 2


def test_eps_breaks_projector_but_not_the_closed_form():
    s = jacobian_structure(3, eps=sp.Rational(1, 100))
    assert s.equals_closed_form and s.symmetric
    assert not s.projector and s.rank is None and not s.kernel_is_span_1_y


def test_wrong_closed_forms_are_rejected():
    y = [0, 1, 3, 7]
    J = bn_jacobian(y)
    # the unbiased closed form at a biased BN, and a missing 1 1^T/m term, both differ
    assert not (J - bn_jacobian_closed_form(y, variance="unbiased")).applyfunc(sp.simplify).is_zero_matrix
    _, c, var = st.stats(y)
    wrong = (sp.eye(4) - c * c.T / (4 * var)) / sp.sqrt(var)
    assert not (J - wrong).applyfunc(sp.simplify).is_zero_matrix
    assert (J - bn_jacobian_closed_form(y)).applyfunc(sp.simplify).is_zero_matrix


@pytest.mark.parametrize("seed", range(3))
def test_numpy_jacobian_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(3, 12))
    y = rng.normal(size=m)
    gamma, eps = 1.7, (0.0 if seed < 2 else 0.3)
    for variance in ("biased", "unbiased"):
        J = bn_jacobian_np(y, gamma, variance, eps)
        h = 1e-6
        fd = np.column_stack([(batch_norm_np(y + h * e, gamma, 0, variance, eps)
                               - batch_norm_np(y - h * e, gamma, 0, variance, eps)) / (2 * h) for e in np.eye(m)])
        assert np.allclose(J, fd, atol=1e-7)
        if eps == 0:
            P = J * np.sqrt(((y - y.mean()) ** 2).sum() / (m - (variance == "unbiased"))) / gamma
            assert np.allclose(P @ P, P, atol=1e-12) and np.linalg.matrix_rank(P, 1e-9) == m - 2
            assert np.allclose(J @ np.ones(m), 0) and np.allclose(J @ y, 0)


def test_m2_jacobian_vanishes_and_bad_input_is_typed():
    assert bn_jacobian([0, 5]).is_zero_matrix
    with pytest.raises(DomainError, match="variance"):
        batch_norm([0, 1, 2], variance="sample")
    with pytest.raises(DomainError, match="m = 1"):
        batch_norm([3])
    with pytest.raises(DomainError, match="m"):
        jacobian_structure(1)
    assert (projector([1, 2, 4]) * sp.Matrix([1, 1, 1])).is_zero_matrix


# -- claims ------------------------------------------------------------------------------

CLAIM_IDS = claims().ids()


@pytest.mark.parametrize("cid", [c for c in CLAIM_IDS if c.startswith("santurkar.")])
def test_santurkar_claim_verdict_is_the_predicted_one(cid):
    c = get_claim(cid)
    v = check_claim(c, n=6 if c.expected == "holds" else 20)
    assert v.status == ("PASS" if c.expected == "holds" else "FAIL"), v.summary()
    if v.status == "FAIL":
        assert v.counterexample is not None and v.counterexample.point


@pytest.mark.slow
@pytest.mark.parametrize("cid", CLAIM_IDS)
def test_claim_verdict_on_more_instances(cid):
    c = get_claim(cid)
    v = check_claim(c, n=40, seed=3)
    assert v.status == ("PASS" if c.expected == "holds" else "FAIL"), v.summary()


def test_counterexamples_are_minimal_and_readable():
    v = check_claim(get_claim("santurkar.thm41-sqrt-m"), n=10)
    assert v.counterexample.point == {"m": "2", "y": "(0, 1)", "g": "(0, 1)", "gamma": "1"}
    assert "sqrt(2)" in v.counterexample.rhs
    w = check_claim(get_claim("santurkar.lemma45"), n=10)
    assert w.counterexample.point["X"].count(";") == 2      # a 3-point data set in R^2


def test_wrong_variants_of_true_claims_fail():
    base = get_claim("santurkar.thm41-equality")
    # a factor 2 on the mean term, and a flipped sign of the second-order term of Thm 4.2
    wrong = base.replace(id="x.thm41-factor", rhs=lambda i: st._rhs41(lambda m: sp.Rational(1, m))(i)
                         - st._t41_terms(i)[1] * st._t41_terms(i)[3] / i["m"])
    assert check_claim(wrong, n=20).status == "FAIL"
    t42 = get_claim("santurkar.thm42-equality")
    flip = t42.replace(id="x.thm42-sign", rhs=lambda i: st.rhs42(i) + 2 * i["gamma"] / (i["m"] * st.stats(i["y"])[2])
                       * st._g_yhat(i) * st.sq(st.grad_bn(i)))
    assert check_claim(flip, n=20).status == "FAIL"
    flip44 = get_claim("santurkar.thm44-corrected").replace(id="x.thm44", relation="<")
    assert check_claim(flip44, n=5).status == "FAIL"


def test_bn_optimum_direction_minimises_the_bn_loss_on_a_grid():
    r = random.Random(5)
    done = 0
    while done < 3:
        inst = st.sample_45(r)
        if not st.adm45(inst):
            continue
        done += 1
        X = np.array(inst["X"].tolist(), dtype=float)
        t = np.array(inst["t"].tolist(), dtype=float).ravel()
        _, wb = st.optima(inst)
        wb = np.array(wb.tolist(), dtype=float).ravel()
        loss = lambda w: ((batch_norm_np(X @ w) - t) ** 2).sum()
        angles = np.linspace(0, 2 * np.pi, 4001)
        best = min(loss(np.array([np.cos(a), np.sin(a)])) for a in angles)
        assert loss(wb) <= best + 1e-9
        assert abs(loss(5 * wb) - loss(wb)) < 1e-12       # scale invariance: the optima form a ray


def test_claim_layer_errors_and_registry():
    c = get_claim("santurkar.obs43")
    with pytest.raises(DomainError, match="n = 0"):
        check_claim(c, n=0)
    with pytest.raises(UnknownIdentityError, match="did you mean .*'santurkar.thm41'"):
        get_claim("santurkar.thm4l")
    reg = type(claims())()
    reg.add(c)
    with pytest.raises(DuplicateIdentityError):
        reg.add(c)
    never = Claim("x.never", "no admissible instance", "src", "-", lambda r: {"a": 1}, lambda i: 1, lambda i: 1,
                  admissible=lambda i: False)
    assert check_claim(never, n=3).status == "UNKNOWN"


def test_claims_cli(capsys):
    from symbolic_mf.cli import main

    assert main(["claims", "santurkar.obs43", "-n", "3"]) == 0
    assert "PASS santurkar.obs43" in capsys.readouterr().out
    assert main(["claims", "santurkar.lemma45", "-n", "5", "--json"]) == 1
    out = capsys.readouterr().out
    assert '"verdict": "FAIL"' in out and '"expected": "fails"' in out
    assert main(["claims", "nachum", "--list"]) == 0
    assert "nachum.invariance" in capsys.readouterr().out
    assert main(["claims", "santurkar.thm4l"]) == 2
    assert "did you mean" in capsys.readouterr().err
