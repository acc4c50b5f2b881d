"""Batch-norm mean field: engines against each other, against Monte Carlo and a finite-width network.

Each numeric comparison states the digits it demands and why that is the
right number: quadrature comparisons at 15 digits (both routes carry more),
Monte Carlo within a few standard errors of the sample size used.
"""

import numpy as np
import pytest
import sympy as sp
from mpmath import mp

from symbolic_mf.activations import HomogeneousActivation, identity, leaky_relu, relu, tanh
from symbolic_mf.batchnorm import (V_bn, backward_map_monte_carlo, backward_operator_monte_carlo, bn_jacobian, bn_jacobian_formula, bn_map,
                                   bsb1_fixed_point, bsb1_fixed_point_closed_form, gradient_explosion_rate,
                                   gradient_explosion_rate_closed_form, rho_kernel, simulate_gradient_growth)
from symbolic_mf.catalogue import catalogue
from symbolic_mf.engines import gegenbauer as gg
from symbolic_mf.engines import laplace, spherical
from symbolic_mf.errors import DomainError, NotPSDError
from symbolic_mf.verify import verify

c = sp.Symbol("c", real=True)


def close(a, b, digits):
    return abs(a - b) <= mp.mpf(10) ** (-digits) * max(1, abs(b))


# -- kernels (interface to the kernel engine) ---------------------------------------


@pytest.mark.parametrize("alpha", [0, 1, sp.Rational(3, 2), 2])
@pytest.mark.parametrize("cv", [sp.Rational(-1, 3), sp.Rational(1, 7), sp.Rational(9, 10)])
def test_rho_kernel_matches_quadrature(alpha, cv):
    with mp.workdps(20):
        closed = mp.mpf(sp.N(rho_kernel(alpha, cv), 25))
        quad = HomogeneousActivation(alpha).kernel_numeric(cv, dps=20)
        assert close(closed, quad, 15)


# -- the BN map and its Jacobian ----------------------------------------------------


def test_bn_jacobian_symbolic_equals_closed_form_and_finite_difference():
    J, h = bn_jacobian(4)
    F = bn_jacobian_formula(4, h)
    pt = {h[0]: sp.Rational(1, 3), h[1]: -2, h[2]: sp.Rational(5, 2), h[3]: 7}
    assert sp.simplify((J - F).subs(pt)) == sp.zeros(4, 4)
    # finite difference of the NumPy map agrees with the closed form
    x0 = np.array([float(v) for v in pt.values()])
    Jn = np.array(F.subs(pt).evalf(), dtype=float)
    eps = 1e-6
    fd = np.column_stack([(bn_map(x0 + eps * e) - bn_map(x0 - eps * e)) / (2 * eps) for e in np.eye(4)])
    assert np.allclose(fd, Jn, atol=1e-8)
    # rank B-2, kills 1 and h
    assert np.linalg.matrix_rank(Jn, tol=1e-10) == 2
    assert np.allclose(Jn @ np.ones(4), 0) and np.allclose(Jn @ x0, 0)


def test_wrong_jacobian_is_rejected():
    J, h = bn_jacobian(3)
    G = laplace.centering(3)
    g = G * h
    r = sp.sqrt(sum(v ** 2 for v in g))
    wrong = sp.sqrt(3) / r * G  # forgets the -y y^T projection
    pt = {h[0]: 1, h[1]: 0, h[2]: -4}
    assert sp.simplify((J - wrong).subs(pt)) != sp.zeros(3, 3)


# -- Laplace engine -----------------------------------------------------------------


def test_laplace_general_sigma_matches_monte_carlo():
    S = np.array([[2.0, 1, 0, 0], [1, 2, 1, 0], [0, 1, 2, 1], [0, 0, 1, 2]])
    with mp.workdps(15):
        V = laplace.V_bn_laplace(1, laplace.relu_kernel_mp, sp.Matrix(S.astype(int)))
    rng = np.random.default_rng(7)
    h = rng.standard_normal((400000, 4)) @ np.linalg.cholesky(S).T
    p = np.maximum(bn_map(h), 0)
    mc = p.T @ p / len(p)
    se = (p[:, :, None] * p[:, None, :]).std(0) / np.sqrt(len(p))
    assert np.all(np.abs(np.array(V.tolist(), dtype=float) - mc) < 5 * se + 1e-12)


def test_laplace_at_bsb1_equals_beta_closed_form():
    for B in (4, 6):
        with mp.workdps(20):
            V = V_bn(relu(), sp.eye(B) + sp.ones(B, B) / 3, dps=20)   # any BSB1 input
            q, cs = bsb1_fixed_point(relu(), B, dps=20)
            assert close(V[0, 0], q, 15) and close(V[0, 1], q * cs, 15)


def test_laplace_rejects_bad_input():
    with pytest.raises(NotPSDError):
        laplace.V_bn_laplace(1, laplace.relu_kernel_mp, sp.Matrix([[1, 2], [2, 1]]))
    with pytest.raises(DomainError):
        V_bn(tanh(), sp.eye(4))


# -- fixed point: engines against each other ------------------------------------------


@pytest.mark.parametrize("B", [4, 8, 33])
def test_relu_fixed_point_three_engines(B):
    with mp.workdps(20):
        q, cs = bsb1_fixed_point(relu(), B, dps=20)
        assert q == mp.mpf(1) / 2
        # arc-cosine kernel at -1/(B-1)
        assert close(cs, 2 * laplace.relu_kernel_mp(-mp.one / (B - 1)), 18)
        # spherical engine, full 2-D polar integral (no homogeneity used)
        relu_mp = lambda v: v if v > 0 else mp.zero
        qc = spherical.expect_two(lambda a, b: relu_mp(a) * relu_mp(b), B)
        assert close(qc / q, cs, 15)
        # Gegenbauer: exact coefficients, truncated at L = 30, error bounded by the Parseval remainder
        a = gg.coefficients(relu().expr, B, 12) if B == 4 else None
        if a is not None:
            qg, cg = gg.fixed_point(a, B)
            assert abs(qg - q) < 2e-3 and abs(cg - cs) < 2e-3


def test_tanh_fixed_point_spherical_vs_gegenbauer_vs_monte_carlo():
    B = 5
    with mp.workdps(15):
        q, cs = bsb1_fixed_point(tanh(), B, dps=15)
        r = gg.accelerated(mp.tanh, lambda y: 1 / mp.cosh(y) ** 2, B, L=30, breaks=())
        assert close(r["q_star"], q, 13) and close(r["c_star"], cs, 12)
    rng = np.random.default_rng(3)
    y = np.tanh(bn_map(rng.standard_normal((400000, B))))
    assert abs(np.mean(y[:, 0] ** 2) - float(q)) < 5 * np.std(y[:, 0] ** 2) / np.sqrt(len(y))
    assert abs(np.mean(y[:, 0] * y[:, 1]) - float(q * cs)) < 5 * np.std(y[:, 0] * y[:, 1]) / np.sqrt(len(y))


# -- lambda_G --------------------------------------------------------------------------


def test_lambda_G_linear_is_B_minus_2_over_B_minus_3():
    Bs = sp.Symbol("B", integer=True, positive=True)
    assert sp.simplify(sp.hyperexpand(gradient_explosion_rate_closed_form(identity(), Bs)) - (Bs - 2) / (Bs - 3)) == 0
    # a wrong variant (B-1)/(B-3) is rejected by the same machinery
    assert sp.simplify(sp.hyperexpand(gradient_explosion_rate_closed_form(identity(), Bs)) - (Bs - 1) / (Bs - 3)) != 0


@pytest.mark.parametrize("B", [4, 9, 40])
def test_relu_lambda_G_gegenbauer_within_its_tail_bound(B):
    with mp.workdps(20):
        exact = gradient_explosion_rate(relu(), B, dps=20)
        r = gg.accelerated(lambda y: max(y, 0), lambda y: 1 if y > 0 else 0, B, L=24)
        assert abs(r["lambda_G"] - exact) <= r["tail_bound"]
        assert r["tail_bound"] < 1e-2   # B = 4: |C_l(rho)/C_l(1)| decays only like l^(-1/2)


def test_relu_lambda_G_decreases_to_pi_over_pi_minus_1():
    vals = [gradient_explosion_rate(relu(), B, dps=20) for B in (4, 16, 256, 10 ** 4, 10 ** 6)]
    assert all(a > b for a, b in zip(vals, vals[1:]))
    assert abs(vals[-1] - mp.pi / (mp.pi - 1)) < 1e-5


def test_lambda_G_cannot_be_tuned_below_linear_bound():
    # "toward linear" knobs: leaky slope b -> 1 lowers lambda_G to (B-2)/(B-3), never below
    B = 10
    with mp.workdps(20):
        lin = mp.mpf(B - 2) / (B - 3)
        prev = None
        for slope in (0, sp.Rational(1, 2), sp.Rational(9, 10), 1):
            lam = gradient_explosion_rate(leaky_relu(slope), B, dps=20)
            assert lam >= lin - mp.mpf(10) ** -18
            if prev is not None:
                assert lam < prev
            prev = lam
        assert close(prev, lin, 18)


@pytest.mark.slow
def test_tanh_lambda_G_spherical_vs_gegenbauer():
    with mp.workdps(15):
        lam = gradient_explosion_rate(tanh(), 5, dps=15)
        r = gg.accelerated(mp.tanh, lambda y: 1 / mp.cosh(y) ** 2, 5, L=40, breaks=())
        assert close(lam, r["lambda_G"], 12)
        assert lam > mp.mpf(3) / 2


def test_lambda_G_rejects_small_batches():
    for bad in (3, 2, 4.5, "four"):
        with pytest.raises(DomainError) as e:
            gradient_explosion_rate(relu(), bad)
        assert e.value.parameter == "B"
    with pytest.raises(DomainError):
        gradient_explosion_rate_closed_form(HomogeneousActivation(sp.Rational(1, 2)), 8)


def test_G_is_the_top_eigenvector_of_the_backward_map():
    B = 6
    lam = float(gradient_explosion_rate(relu(), B, dps=15))
    G = np.eye(B) - 1.0 / B
    TG = backward_map_monte_carlo(relu(), B, G, samples=200000, seed=1)
    assert np.allclose(TG, lam * G, atol=0.03 * lam)
    # the whole operator on symmetric matrices in 1-perp: G is the top eigenvector, with a gap
    w, vecs = backward_operator_monte_carlo(relu(), B, samples=40000, seed=3)
    assert abs(w[0] / lam - 1) < 0.02
    cos = np.sum(vecs[0] * G) / (np.linalg.norm(vecs[0]) * np.linalg.norm(G))
    assert abs(cos) > 0.99
    assert w[1] < 0.85 * w[0]


# -- finite-width network ----------------------------------------------------------------


@pytest.mark.parametrize("phi,B", [(relu(), 8), (identity(), 32)])
def test_finite_width_network_matches_lambda_G(phi, B):
    # width 400, depth 30, two seeds: per-seed spread about 2% (measured), mean within 4%
    lam = float(gradient_explosion_rate(phi, B, dps=15))
    rates = [simulate_gradient_growth(phi, B, width=400, depth=30, seed=s, skip=6)[0] for s in range(2)]
    assert abs(np.mean(rates) / lam - 1) < 0.04, (rates, lam)


@pytest.mark.slow
@pytest.mark.parametrize("phi,B", [(relu(), 8), (relu(), 32), (identity(), 8), (identity(), 32), (tanh(), 8)])
def test_finite_width_network_matches_lambda_G_full(phi, B):
    lam = float(gradient_explosion_rate(phi, B, dps=15))
    rates = [simulate_gradient_growth(phi, B, width=1000, depth=50, seed=s)[0] for s in range(4)]
    assert abs(np.mean(rates) / lam - 1) < 0.02, (rates, lam)


# -- wrong identities must be rejected --------------------------------------------------


@pytest.mark.parametrize("id_,wrong", [
    # c* with the kernel at -1/B instead of -1/(B-1) (a plausible misprint)
    ("bn.relu-bsb1-c", lambda B: 2 * ((sp.sqrt(1 - 1 / B ** 2) + (sp.pi - sp.acos(-1 / B)) * (-1 / B)) / (2 * sp.pi))),
    # Beta function with B/2 in place of (B-1)/2
    ("bn.laplace-bsb1-beta", None),
])
def test_plausible_misprints_are_rejected(id_, wrong):
    idy = catalogue()[id_]
    if id_ == "bn.relu-bsb1-c":
        B = idy.symbols[0]
        bad = idy.replace(id="bn.relu-bsb1-c.misprint", rhs=wrong(B))
    else:
        a, B, mu = idy.symbols
        bad = idy.replace(id="bn.laplace-bsb1-beta.misprint",
                          rhs=2 ** (-a) * sp.gamma(a) * sp.gamma(B / 2) / sp.gamma(B / 2 + a))
    assert verify(bad, points=4).status == "FAIL"


def test_lower_bound_flipped_is_rejected():
    idy = catalogue()["bn.lambda-g-lower-bound"]
    assert verify(idy.replace(id="bn.lb.flip", relation="<"), points=4).status == "FAIL"


# -- command line ---------------------------------------------------------------------


def test_cli_bn_json(capsys):
    import json

    from symbolic_mf.cli import main

    assert main(["bn", "relu", "--batch", "8", "--dps", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"q_star", "c_star", "mu_star", "lambda_G"}
    assert out["q_star"] == "0.5" and out["lambda_G"].startswith("1.788189976658748129")
    assert main(["bn", "relu", "--batch", "3"]) == 2


@pytest.mark.slow
def test_forward_jacobian_multiplicities():
    from symbolic_mf.batchnorm import forward_jacobian_eigenvalues

    B = 4
    ev = forward_jacobian_eigenvalues(relu(), B, dps=12)
    nonzero = sorted(m for v, m in ev if abs(v) > 1e-6)
    assert nonzero == sorted([B - 1, B * (B - 3) // 2])
    # finite differences of the Laplace engine against the closed forms (about dps/2 = 6 digits correct)
    cf = forward_eigenvalues(relu(), B, dps=20)
    got = {m: v for v, m in ev if abs(v) > 1e-6}
    assert abs(got[B - 1] - cf["lambda_L"]) < 1e-5 and abs(got[B * (B - 3) // 2] - cf["lambda_M"]) < 1e-5
    lin = forward_jacobian_eigenvalues(identity(), B, dps=12)
    assert [(round(float(v), 8), m) for v, m in lin if abs(v) > 1e-6] == [(0.6, B - 1 + B * (B - 3) // 2)]


# -- forward Jacobian at BSB1: closed form (Laplace) vs sphere route vs Monte Carlo ------------------


from symbolic_mf.batchnorm import (forward_eigenvalue_limits, forward_eigenvalues, forward_eigenvalues_closed_form,  # noqa: E402
                                   forward_eigenvalues_sphere, symmetry_breaking_alpha)


@pytest.mark.parametrize("phi,B", [(relu(), 5), (relu(), 12), (identity(), 7), (leaky_relu(sp.Rational(-1, 2)), 6),
                                   (HomogeneousActivation(sp.Rational(5, 2)), 9),
                                   (HomogeneousActivation(sp.Rational(1, 3), 1, sp.Rational(2, 3)), 5)])
def test_forward_eigenvalues_closed_form_equals_sphere_route(phi, B):
    # two independent routes (Laplace derivative + Beta integral; Gaussian score function on the sphere), 20 digits
    with mp.workdps(25):
        cf = forward_eigenvalues(phi, B, dps=25)
        sph = forward_eigenvalues_sphere(phi, B, dps=25)
        assert close(cf["lambda_L"], sph["lambda_L"], 20) and close(cf["lambda_M"], sph["lambda_M"], 20)
        assert cf["lambda_trace"] == 0
        assert cf["multiplicities"] == {"lambda_L": B - 1, "lambda_M": B * (B - 3) // 2, "lambda_trace": 1}


def test_forward_eigenvalues_symbolic_linear_and_structure():
    Bs = sp.Symbol("B", integer=True, positive=True)
    ev = forward_eigenvalues_closed_form(identity(), Bs)
    for k in ("lambda_L", "lambda_M"):
        assert sp.simplify(sp.hyperexpand(ev[k]) - (Bs - 1) / (Bs + 1)) == 0
        assert sp.simplify(sp.hyperexpand(ev[k]) - Bs / (Bs + 1)) != 0     # a shifted index is told apart
    assert ev["lambda_trace"] == 0
    # structure lambda_L = (n-1) alpha/(n+2 alpha) + lambda_M/n, checked for rho_2 at symbolic B
    ev2 = forward_eigenvalues_closed_form(HomogeneousActivation(2), Bs)
    n = Bs - 1
    d = sp.hyperexpand(ev2["lambda_L"] - (n - 1) * 2 / (n + 4) - ev2["lambda_M"] / n)
    assert all(abs(sp.N(d.subs(Bs, v), 30)) < 1e-25 for v in (5, 9, 40))


def test_laplace_perturbation_step_commutes():
    # the step G (I + 2 s X)^(-1) Sigma G = mu tau G + eps tau^2 Delta + O(eps^2), derived by SymPy at B = 4
    from symbolic_mf.engines.laplace import laplace_integrand, s

    eps = sp.Symbol("epsilon")
    G = laplace.centering(4)
    u, v = sp.Matrix([1, 0, -1, 0]), sp.Matrix([0, 1, 0, -1])
    D = u * v.T + v * u.T
    Sigma = sp.eye(4) + sp.ones(4, 4) / 5 + eps * D          # mu = 1
    det, M = laplace_integrand(Sigma, 1)
    dM = M.diff(eps).subs(eps, 0).applyfunc(sp.simplify)
    assert (dM - D / (1 + 2 * s) ** 2).applyfunc(sp.simplify) == sp.zeros(4, 4)
    assert sp.simplify(det.diff(eps).subs(eps, 0)) == 0          # tr Delta = 0: no determinant term


def _forward_operator_monte_carlo(f, B, samples, seed):
    """dV as a matrix on Sym(1-perp) by the score function, output projected by G (NumPy, shared samples)."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((samples, B))
    g -= g.mean(1, keepdims=True)
    yh = g / np.linalg.norm(g, axis=1, keepdims=True)
    F = f(np.sqrt(B) * yh)
    n = B - 1
    mu = np.mean(F[:, 0] ** 2) - np.mean(F[:, 0] * F[:, 1])
    U = np.linalg.svd(np.eye(B) - 1.0 / B)[0][:, :n]
    basis = []
    for i in range(n):
        for j in range(i, n):
            E = np.zeros((n, n))
            E[i, j] = E[j, i] = 1 / np.sqrt(2) if i != j else 1.0
            basis.append(U @ E @ U.T)
    FF = F[:, :, None] * F[:, None, :]
    EF = FF.mean(0)
    out = []
    for D in basis:
        w = np.einsum("si,ij,sj->s", yh, D, yh)
        dV = (n * np.einsum("s,sij->ij", w, FF) / samples - np.trace(D) * EF) / (2 * mu)
        out.append([np.sum(Bi * dV) for Bi in basis])
    return np.linalg.eigvals(np.array(out).T).real


def test_forward_spectrum_and_multiplicities_monte_carlo():
    # full operator on the B(B-1)/2 symmetric directions of 1-perp: eigenvalue 0 once (G), lambda_L B-1 times,
    # lambda_M B(B-3)/2 times; Monte Carlo with 200000 samples: single eigenvalues within 0.04 (seed spread of
    # the extreme ones ~0.015), group means within 0.015
    B = 6
    ev = forward_eigenvalues(relu(), B, dps=15)
    w = np.sort(_forward_operator_monte_carlo(lambda y: np.maximum(y, 0), B, 200000, 5))
    L, M = float(ev["lambda_L"]), float(ev["lambda_M"])
    mL, mM = B - 1, B * (B - 3) // 2
    expected = np.sort([0.0] + [L] * mL + [M] * mM)
    assert np.allclose(w, expected, atol=0.04), (w, expected)
    assert abs(w[0]) < 1e-10                                   # scale invariance: G is exactly in the kernel
    assert abs(w[1:1 + mM].mean() - M) < 0.015 and abs(w[1 + mM:].mean() - L) < 0.015


def test_forward_eigenvalue_limits_and_large_B():
    lim = forward_eigenvalue_limits(relu())
    assert lim["lambda_L"] == 1 and sp.simplify(lim["lambda_M"] - sp.pi / (2 * (sp.pi - 1))) == 0
    lim2 = forward_eigenvalue_limits(HomogeneousActivation(2))
    assert lim2["lambda_L"] == 2
    ev = forward_eigenvalues(HomogeneousActivation(2), 10 ** 5, dps=20)
    assert abs(ev["lambda_L"] - 2) < 1e-3 and abs(ev["lambda_M"] - mp.mpf(sp.N(lim2["lambda_M"], 20))) < 1e-3


def test_symmetry_breaking_alpha():
    with mp.workdps(20):
        vals = [symmetry_breaking_alpha(B, dps=20) for B in (5, 8, 32, 512)]
        assert all(a > b > 1 for a, b in zip(vals, vals[1:]))
        assert abs(vals[-1] - 1) < 0.01
        # below the threshold BSB1 attracts, above it does not (lambda_L crosses 1)
        for B, a in ((8, vals[1]), (32, vals[2])):
            lo = forward_eigenvalues(HomogeneousActivation(sp.Float(a - mp.mpf("0.01"), 25)), B, dps=20)["lambda_L"]
            hi = forward_eigenvalues(HomogeneousActivation(sp.Float(a + mp.mpf("0.01"), 25)), B, dps=20)["lambda_L"]
            assert lo < 1 < hi
    assert symmetry_breaking_alpha(None) == 1
    with pytest.raises(DomainError) as e:
        symmetry_breaking_alpha(4)
    assert e.value.parameter == "B"


@pytest.mark.parametrize("id_,rhs", [
    # lambda_M with n + 2 in place of n + 2 alpha (right only at alpha = 1)
    ("bn.forward-lambda-m", lambda ev, a, B: ev["lambda_M"] * (B - 1 + 2 * a) / (B + 1)),
    # lambda_L without the lambda_M / n term
    ("bn.forward-lambda-l", lambda ev, a, B: (B - 2) * a / (B - 1 + 2 * a)),
])
def test_forward_eigenvalue_misprints_rejected(id_, rhs):
    idy = catalogue()[id_]
    a, b_, B = idy.symbols
    ev = forward_eigenvalues_closed_form(HomogeneousActivation(a, 1, b_), B)
    bad = idy.replace(id=id_ + ".wrong", rhs=sp.hyperexpand(rhs(ev, a, B)))
    assert verify(bad, points=3).status == "FAIL"


def test_cli_bn_json_forward_keys(capsys):
    import json

    from symbolic_mf.cli import main

    assert main(["bn", "relu", "--batch", "5", "--dps", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["lambda_L"].startswith("0.60971679501353721") and out["lambda_M"].startswith("0.43886718005414885")
    assert out["multiplicities"] == {"lambda_L": 4, "lambda_M": 5, "lambda_trace": 1}


# -- eps > 0 ---------------------------------------------------------------------------------------


from symbolic_mf.batchnorm import gradient_explosion_rate_eps  # noqa: E402


def test_eps_rate_limits_and_invariance():
    with mp.workdps(20):
        r0 = gradient_explosion_rate_eps(relu(), 8, mp.mpf("1e-40"), dps=20)
        assert close(r0["lambda_G"], gradient_explosion_rate(relu(), 8, dps=20), 15)
        # depends on eps and sigma_w only through eps / sigma_w^2
        a = gradient_explosion_rate_eps(relu(), 8, mp.mpf("0.1"), 1, dps=20)
        b = gradient_explosion_rate_eps(relu(), 8, mp.mpf("0.2"), 2, dps=20)
        assert close(a["lambda_G"], b["lambda_G"], 15) and close(2 * a["mu"], b["mu"], 15)
        # eps lowers the rate monotonically (toward the linear regime), never to 1
        lams = [gradient_explosion_rate_eps(relu(), 8, e, dps=20)["lambda_G"] for e in ("0.01", "0.1", "0.3")]
        assert lams[0] > lams[1] > lams[2] > 1
    # ReLU: a non-zero fixed point exists only for eps/sigma_w^2 < mu_0 (B-1)/B (= 0.328 at B = 8)
    with pytest.raises(DomainError) as e:
        gradient_explosion_rate_eps(relu(), 8, 0.34)
    assert e.value.parameter == "eps"
    with pytest.raises(DomainError):
        gradient_explosion_rate_eps(relu(), 8, 0)


def test_eps_rate_matches_monte_carlo_of_backward_map():
    # Monte Carlo (200000 samples) of tr(sigma_w^2 E[J D G D J])/(B-1) at the eps fixed point, exact eps Jacobian;
    # standard error about 0.3%, tolerance 1.5%
    B, eps = 8, 0.1
    r = gradient_explosion_rate_eps(relu(), B, eps, dps=15)
    mu = float(r["mu"])
    rng = np.random.default_rng(11)
    z = rng.standard_normal((200000, B))
    g = np.sqrt(mu) * (z - z.mean(1, keepdims=True))
    rho = np.sqrt((g ** 2).sum(1) + B * eps)
    yh = g / rho[:, None]
    D = (yh > 0).astype(float)
    G = np.eye(B) - 1.0 / B
    # T(G) trace: (B/rho^2) tr[Q D G D Q] = (B/rho^2) ||G D Q||_F^2, Q = G - yh yh^T
    Q = G[None] - yh[:, :, None] * yh[:, None, :]
    GDQ = np.einsum("ij,sj,sjk->sik", G, D, Q)
    tr = (GDQ ** 2).sum((1, 2))
    lam_mc = np.mean(B / rho ** 2 * tr) / (B - 1)
    assert abs(lam_mc / float(r["lambda_G"]) - 1) < 0.015, (lam_mc, r)


@pytest.mark.parametrize("eps", [pytest.param(0.05, marks=pytest.mark.slow), 0.2])
def test_eps_rate_matches_finite_width_network(eps):
    # width 400, depth 30, two seeds (measured spread 1-2%), tolerance 4%
    lam = float(gradient_explosion_rate_eps(relu(), 8, eps, dps=15)["lambda_G"])
    rates = [simulate_gradient_growth(relu(), 8, width=400, depth=30, seed=s, skip=6, eps=eps)[0] for s in range(2)]
    assert abs(np.mean(rates) / lam - 1) < 0.04, (rates, lam)
