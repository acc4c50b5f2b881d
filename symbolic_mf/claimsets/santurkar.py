r"""Santurkar, Tsipras, Ilyas, Madry (2018), "How does batch normalization help optimization?", Section 4.

Setting (one unit :math:`j`, batch size :math:`m`): :math:`y = Xw \in \mathbb R^m`,
:math:`z = \gamma\hat y + \beta` with the biased variance, :math:`\gamma, \beta`
constants; the loss downstream of :math:`z` is the same function :math:`L` in the
BN and the "identical non-BN" network, so :math:`g := \nabla_z L` plays the
part of :math:`\nabla_{y} L` (the paper's identification), and
:math:`\nabla_y\hat L = J^T g` with :math:`J` the BN Jacobian.  Every left side
below is computed from the Jacobian and Hessians **derived by SymPy** from the BN
map (:mod:`symbolic_mf.bnlayer`), exactly at rational inputs; the right sides
are the statements.

What the stored sources showed (search look-ups; the paper's own §4 text
was not reachable, only its abstract/introduction): Fact C.1 (gradient
through BN) and Theorem 4.1 with :math:`1/m` on both subtracted terms, quoted in a
question on math.stackexchange and in a Korean summary (GitHub); garbled
transcriptions of Thm 4.2 and 4.4 in the same summary; Lemma 4.5 only
through the abstract of Dannemann & Junike (2025, arXiv:2502.17913), which
reports a counterexample.  Forms not visible there are marked
"reading" in ``confirmed``.
"""

from __future__ import annotations

import functools
import itertools

import sympy as sp

from ..bnlayer import batch_norm
from ..claims import Claim

SRC = "Santurkar, Tsipras, Ilyas, Madry (2018), How does batch normalization help optimization?, NeurIPS"
R = sp.Rational


# -- exact evaluation of the BN layer at a rational batch ---------------------------------


@functools.lru_cache(maxsize=None)
def _symbolic(m, variance, hessians=False):
    ys = sp.symbols(f"y1:{m + 1}", real=True)
    z = batch_norm(list(ys), 1, 0, variance)            # gamma applied by the caller
    J = z.jacobian(ys)                                   # SymPy's derivative, not the closed form
    H = [sp.hessian(z[b], ys) for b in range(m)] if hessians else None
    return ys, J, H


def _sub(expr, ys, y):
    return expr.subs(dict(zip(ys, y)))


def stats(y, variance="biased"):
    """(mean, centred batch, sigma^2) exactly."""
    m = len(y)
    mu = R(sum(y), m)
    c = [sp.Rational(v) - mu for v in y]
    var = R(1, m - (variance == "unbiased")) * sum(ci ** 2 for ci in c)
    return mu, sp.Matrix(c), var


def grad_bn(inst, variance="biased"):
    """grad_y L-hat = J^T g with J derived by SymPy (times gamma)."""
    y, g, gam = inst["y"], sp.Matrix(inst["g"]), inst["gamma"]
    ys, J, _ = _symbolic(len(y), variance)
    Jn = _sub(J, ys, y)
    return (gam * Jn.T * g).applyfunc(sp.radsimp)


def sq(v):
    return sp.expand(sp.radsimp((v.T * v)[0, 0]))


def _t41_terms(inst, variance="biased"):
    y, g, gam = inst["y"], sp.Matrix(inst["g"]), inst["gamma"]
    m = len(y)
    _, c, var = stats(y, variance)
    one_g = sum(g)
    g_yhat2 = (g.T * c)[0, 0] ** 2 / var       # <g, y-hat>^2, y-hat = c/sigma
    return m, gam ** 2 / var, sq(g), one_g ** 2, g_yhat2


# -- instance generators --------------------------------------------------------------


def _batch(r, m, lo=-4, hi=4):
    while True:
        y = [r.randint(lo, hi) for _ in range(m)]
        if len(set(y)) > 1:
            return y


def sample_grad(r, mlo=2, mhi=6):
    m = r.randint(mlo, mhi)
    return {"m": m, "y": _batch(r, m), "g": [r.randint(-4, 4) for _ in range(m)],
            "gamma": r.choice([R(1, 2), R(1), R(2), R(3), R(5)])}


def small_grad(mlo=2, mhi=4, gammas=(1, 2)):
    """Small instances in order of size: m, then entries in {0,1,2}, g in {-1,0,1}, gamma."""
    for m in range(mlo, mhi + 1):
        for gam in gammas:
            for y in itertools.product(range(3), repeat=m):
                if len(set(y)) == 1 or list(y) != sorted(y):
                    continue
                for g in itertools.product((0, 1, -1), repeat=m):
                    yield {"m": m, "y": list(y), "g": list(g), "gamma": R(gam)}


# -- Theorem 4.1 --------------------------------------------------------------------------


def _lhs41(inst, variance="biased"):
    return sq(grad_bn(inst, variance))


def _rhs41(k_last, variance="biased"):
    def f(inst):
        m, s, gg, og, gy = _t41_terms(inst, variance)
        return s * (gg - og / m - k_last(m) * gy)
    return f


T41 = (r"||grad_y Lhat||^2  REL  gamma^2/sigma^2 (||g||^2 - <1,g>^2/m - K <g,yhat>^2),  "
       r"g = grad_y L (= grad_z Lhat)")


def register(reg):
    add = reg.add
    hyp = ("batch y not constant (sigma > 0)", "biased variance sigma^2 = ||y - mu||^2/m",
           "gamma, beta constants; g = grad_y L of the identical non-BN network = grad_z of the loss")
    add(Claim(
        "santurkar.thm41", "Thm 4.1: BN gradient norm bound, as quoted (K = 1/m)", SRC + ", Thm 4.1",
        T41.replace("REL", "<=").replace("K", "1/m"),
        sample_grad, _lhs41, _rhs41(lambda m: R(1, m)), "<=", hyp, small=small_grad,
        confirmed="statement with 1/m on both terms, via Fact C.1, as quoted on math.stackexchange and a GitHub summary",
    ))
    add(Claim(
        "santurkar.thm41-equality", "Thm 4.1 holds with equality: J = (gamma/sigma) x orthogonal projector",
        SRC + ", Thm 4.1 (sharpened)", T41.replace("REL", "==").replace("K", "1/m"),
        sample_grad, _lhs41, _rhs41(lambda m: R(1, m)), "==", hyp, small=small_grad, corrects="santurkar.thm41",
        notes="1 and yhat are orthogonal with ||1||^2 = ||yhat||^2 = m, so the bracket is ||P g||^2 exactly.",
    ))
    add(Claim(
        "santurkar.thm41-sqrt-m", "Thm 4.1 variant with 1/sqrt(m) on the last term",
        SRC + ", Thm 4.1 (variant printing)", T41.replace("REL", "<=").replace("K", "1/sqrt(m)"),
        sample_grad, _lhs41, _rhs41(lambda m: 1 / sp.sqrt(m)), "<=", hyp, small=small_grad,
        expected="fails", confirmed="reading: not visible in the stored sources (which show 1/m); registered "
        "because the arXiv version is recalled, without verification here, to print 1/sqrt(m); it is refuted",
    ))
    hyp_u = hyp[:1] + ("unbiased variance sigma^2 = ||y - mu||^2/(m-1) in BN",) + hyp[2:]
    add(Claim(
        "santurkar.thm41-unbiased", "Thm 4.1 equality kept with 1/m under the unbiased-variance convention",
        SRC + ", Thm 4.1 (other convention)", T41.replace("REL", "==").replace("K", "1/m"),
        sample_grad, lambda i: _lhs41(i, "unbiased"), _rhs41(lambda m: R(1, m), "unbiased"), "==", hyp_u,
        small=small_grad, expected="fails",
        notes="with sigma unbiased, ||yhat||^2 = m - 1, so the last coefficient must be 1/(m-1)",
    ))
    add(Claim(
        "santurkar.thm41-unbiased-corrected", "Thm 4.1 under the unbiased convention: K = 1/(m-1), equality",
        SRC + ", Thm 4.1 (corrected for the unbiased convention)", T41.replace("REL", "==").replace("K", "1/(m-1)"),
        sample_grad, lambda i: _lhs41(i, "unbiased"), _rhs41(lambda m: R(1, m - 1), "unbiased"), "==", hyp_u,
        small=small_grad, corrects="santurkar.thm41-unbiased",
    ))
    add(Claim(
        "santurkar.thm41-no-rescaling", "Reading of Thm 4.1 as 'BN never increases the gradient': ||grad Lhat|| <= ||grad L||",
        SRC + ", Thm 4.1 (informal reading)", "||grad_y Lhat||^2 <= ||g||^2",
        sample_grad, _lhs41, lambda i: sq(sp.Matrix(i["g"])), "<=", hyp, small=small_grad, expected="fails",
        confirmed="the paper's text notes the gamma/sigma factor; the informal reading drops it",
    ))
    add(Claim(
        "santurkar.thm41-no-rescaling-corrected", "BN never increases the gradient when gamma <= sigma",
        SRC + ", Thm 4.1 (with hypothesis)", "||grad_y Lhat||^2 <= ||g||^2  if gamma^2 <= sigma^2",
        sample_grad, _lhs41, lambda i: sq(sp.Matrix(i["g"])), "<=", hyp + ("gamma^2 <= sigma^2",),
        admissible=lambda i: i["gamma"] ** 2 <= stats(i["y"])[2], small=small_grad,
        corrects="santurkar.thm41-no-rescaling",
    ))

    # -- Theorem 4.2 -----------------------------------------------------------------------
    hyp2 = hyp + ("H = Hessian of L at z (any symmetric matrix); v = grad_y Lhat",)
    add(Claim(
        "santurkar.thm42", "Thm 4.2: second-order term along the gradient",
        SRC + ", Thm 4.2 (first form)",
        "v^T (d^2 Lhat/dy^2) v <= gamma^2/sigma^2 v^T H v - gamma/(m sigma^2) <g, yhat> ||v||^2",
        sample_hess, lhs42, rhs42, "<=", hyp2, small=small_hess,
        confirmed="reading: the summary's transcription has this shape (first term with grad Lhat, "
        "coefficient gamma/(m sigma^2)); symbols partly garbled",
    ))
    add(Claim(
        "santurkar.thm42-equality", "Thm 4.2 first form holds with equality",
        SRC + ", Thm 4.2 (sharpened)",
        "v^T (d^2 Lhat/dy^2) v == gamma^2/sigma^2 v^T H v - gamma/(m sigma^2) <g, yhat> ||v||^2",
        sample_hess, lhs42, rhs42, "==", hyp2, small=small_hess, corrects="santurkar.thm42",
        notes="v lies in range(P): along it the mean is fixed, d^2 sigma = ||v||^2/(m sigma), so "
        "d^2 yhat = -yhat ||v||^2/(m sigma^2)",
    ))
    hyp3 = hyp2 + ("H preserves the relative norms of g and v (read as: equal Rayleigh quotients; sampled as H = h I)",)
    add(Claim(
        "santurkar.thm42-second-form", "Thm 4.2 second form (H preserves relative norms of g and grad Lhat)",
        SRC + ", Thm 4.2 (second form, reading)",
        "v^T (d^2 Lhat/dy^2) v <= gamma^2/sigma^2 (g^T H g - <g, yhat> ||g||^2/(m gamma))",
        sample_iso, lhs42, rhs42b, "<=", hyp3, small=small_iso, expected="fails",
        confirmed="reading: the transcription is garbled; this is the form that makes the first form's terms "
        "comparable",
    ))
    add(Claim(
        "santurkar.thm42-second-form-corrected", "Thm 4.2 second form: exact value (gamma^2/sigma^2) K ||v||^2",
        SRC + ", Thm 4.2 (second form, corrected)",
        "v^T (d^2 Lhat/dy^2) v == gamma^2/sigma^2 K ||v||^2, K = g^T H g/||g||^2 - <g,yhat>/(m gamma); "
        "so the printed bound holds iff K (||g||^2 - ||v||^2) >= 0 (e.g. gamma <= sigma and K >= 0)",
        sample_iso, lhs42, rhs42c, "==", hyp3, small=small_iso, corrects="santurkar.thm42-second-form",
    ))

    # -- Observation 4.3 --------------------------------------------------------------------
    add(Claim(
        "santurkar.obs43", "Obs 4.3: gamma = sigma, beta = mu reproduce the non-BN activations",
        SRC + ", Obs 4.3", "BN_{gamma = sigma, beta = mu}(y) == y",
        sample_grad, lambda i: batch_norm(i["y"], sp.sqrt(stats(i["y"])[2]), stats(i["y"])[0]),
        lambda i: sp.Matrix(i["y"]), "==", ("batch y not constant", "biased variance in BN and in gamma = sigma"),
        small=small_grad,
        confirmed="reading: the statement (BN can represent the identity with gamma = sigma) is referred to in "
        "secondary sources; its exact wording was not visible",
    ))
    add(Claim(
        "santurkar.obs43-mixed-conventions", "Obs 4.3 with gamma = the unbiased sigma (running-variance convention)",
        SRC + ", Obs 4.3 (convention pitfall)", "BN_biased with gamma = sqrt(||c||^2/(m-1)), beta = mu: == y",
        sample_grad, lambda i: batch_norm(i["y"], sp.sqrt(stats(i["y"], "unbiased")[2]), stats(i["y"])[0]),
        lambda i: sp.Matrix(i["y"]), "==", ("batch y not constant",), small=small_grad, expected="fails",
        notes="frameworks normalise with the biased variance but store the unbiased one; mixing them scales "
        "the output by sqrt(m/(m-1))",
    ))

    # -- Theorem 4.4 -------------------------------------------------------------------------
    hyp4 = hyp + ("max over inputs X with ||X||_op <= lambda (or ||X||_F <= lambda), y-statistics and g held "
                  "fixed; grad_w = X^T grad_y, so max ||X^T u||^2 = lambda^2 ||u||^2",)
    add(Claim(
        "santurkar.thm44", "Thm 4.4: minimax bound on weight-space Lipschitzness, as printed (reading)",
        SRC + ", Thm 4.4",
        "ghat_j <= gamma^2/sigma^2 (g_j^2 - m mu_g^2 - lambda^2 <g, yhat>^2),  g_j = max ||grad_W L||^2, "
        "ghat_j = max ||grad_W Lhat||^2, mu_g = <1,g>/m",
        sample_44, lhs44, rhs44, "<=", hyp4, small=small_44, expected="fails",
        confirmed="reading: shape (g_j^2, m mu^2, lambda^2 <.,.>^2) from the summary's transcription; "
        "the summary has gamma where gamma^2 is expected",
    ))
    add(Claim(
        "santurkar.thm44-corrected", "Thm 4.4 corrected: ghat_j = gamma^2/sigma^2 (g_j - lambda^2 m mu_g^2 - lambda^2 <g,yhat>^2/m)",
        SRC + ", Thm 4.4 (corrected)",
        "ghat_j == gamma^2/sigma^2 (g_j - lambda^2 m mu_g^2 - lambda^2 <g, yhat>^2 / m)",
        sample_44, lhs44, rhs44c, "==", hyp4, small=small_44, corrects="santurkar.thm44",
        notes="the printed form is not homogeneous in g (g_j^2 is quartic): scaling g by t -> 0 breaks it",
    ))

    # -- Lemma 4.5 ----------------------------------------------------------------------------
    hyp5 = ("one linear unit y = Xw on a data set X (n x d), squared loss to targets t",
            "non-BN network: f = Xw (no bias); BN network: f = BN(Xw) with gamma = 1, beta = 0 constant",
            "W* = the (unique) least-squares optimum; BN optima: the ray {c w_bn, c > 0}; "
            "What* = its point closest to W0",
            "<W0, W*> > 0 and <W0, w_bn> > 0")
    add(Claim(
        "santurkar.lemma45", "Lemma 4.5: BN leads to a favourable initialisation, as printed (reading)",
        SRC + ", Lemma 4.5",
        "||W0 - What*||^2 <= ||W0 - W*||^2 - (||W*||^2 - <W*, W0>)^2 / ||W*||^2",
        sample_45, lhs45, rhs45, "<=", hyp5, admissible=adm45, small=small_45, expected="fails",
        confirmed="reading: statement not visible; Dannemann & Junike (arXiv:2502.17913) abstract: "
        "a single-neuron, identity-activation, 3-point counterexample",
    ))
    add(Claim(
        "santurkar.lemma45-corrected", "Lemma 4.5 corrected: the right side with a BN optimum is the distance to the BN-optimal ray",
        SRC + ", Lemma 4.5 (corrected)",
        "||W0 - What*||^2 == ||W0 - Wb||^2 - (||Wb||^2 - <Wb, W0>)^2/||Wb||^2 for any Wb on the BN-optimal ray",
        sample_45, lhs45, rhs45c, "==", hyp5, admissible=adm45, small=small_45, corrects="santurkar.lemma45",
    ))
    add(Claim(
        "santurkar.lemma45-with-bias", "Lemma 4.5 holds (with equality) when the non-BN unit has a bias",
        SRC + ", Lemma 4.5 (hypothesis that rescues it)",
        "non-BN f = Xw + b: W* (weights of the LS fit with intercept) lies on the BN ray, so the printed "
        "bound holds with equality",
        sample_45, lhs45, rhs45_bias, "==", hyp5[:1] + ("non-BN network with bias b",) + hyp5[2:],
        admissible=adm45, small=small_45, corrects="santurkar.lemma45",
    ))


# -- Theorem 4.2 helpers -------------------------------------------------------------------


def sample_hess(r):
    inst = sample_grad(r, 3, 5)
    m = inst["m"]
    H = sp.zeros(m, m)
    for i in range(m):
        for j in range(i, m):
            H[i, j] = H[j, i] = r.randint(-3, 3)
    inst["H"] = H
    return inst


def small_hess():
    for inst in small_grad(3, 3):
        for h in (1, -1):
            inst = dict(inst)
            inst["H"] = h * sp.eye(inst["m"])
            yield inst


def sample_iso(r):
    inst = sample_grad(r, 3, 5)
    inst["H"] = r.choice([-2, -1, 1, 2, 3]) * sp.eye(inst["m"])
    return inst


small_iso = small_hess


def _hess_Lhat(inst, variance="biased"):
    """d^2 Lhat/dy^2 = J^T H J + sum_b g_b d^2 z_b/dy^2, all derivatives by SymPy."""
    y, g, gam, H = inst["y"], inst["g"], inst["gamma"], inst["H"]
    ys, J, Hs = _symbolic(len(y), variance, True)
    Jn = gam * _sub(J, ys, y)
    out = Jn.T * H * Jn
    for b, gb in enumerate(g):
        if gb:
            out += gb * gam * _sub(Hs[b], ys, y)
    return out


def lhs42(inst):
    v = grad_bn(inst)
    return sp.expand(sp.radsimp((v.T * _hess_Lhat(inst) * v)[0, 0]))


def _g_yhat(inst):
    _, c, var = stats(inst["y"])
    return (sp.Matrix(inst["g"]).T * c)[0, 0] / sp.sqrt(var)


def rhs42(inst):
    v = grad_bn(inst)
    _, c, var = stats(inst["y"])
    m, gam, H = inst["m"], inst["gamma"], inst["H"]
    return sp.expand(sp.radsimp(gam ** 2 / var * (v.T * H * v)[0, 0] - gam / (m * var) * _g_yhat(inst) * sq(v)))


def rhs42b(inst):
    g = sp.Matrix(inst["g"])
    _, c, var = stats(inst["y"])
    m, gam, H = inst["m"], inst["gamma"], inst["H"]
    return sp.expand(sp.radsimp(gam ** 2 / var * ((g.T * H * g)[0, 0] - _g_yhat(inst) * sq(g) / (m * gam))))


def rhs42c(inst):
    g = sp.Matrix(inst["g"])
    _, c, var = stats(inst["y"])
    m, gam, H = inst["m"], inst["gamma"], inst["H"]
    if sq(g) == 0:
        return sp.Integer(0)
    K = (g.T * H * g)[0, 0] / sq(g) - _g_yhat(inst) / (m * gam)
    return sp.expand(sp.radsimp(gam ** 2 / var * K * sq(grad_bn(inst))))


# -- Theorem 4.4 helpers -------------------------------------------------------------------


def sample_44(r):
    inst = sample_grad(r)
    scale = r.choice([R(1, 4), R(1, 2), R(1)])       # small gradients expose the non-homogeneity
    inst["g"] = [scale * v for v in inst["g"]]
    inst["lambda"] = r.choice([R(1, 4), R(1, 2), R(1), R(2)])
    return inst


def small_44():
    for inst in small_grad(2, 3, gammas=(1,)):
        for lam in (1, 2):
            inst = dict(inst)
            inst["lambda"] = R(lam)
            yield inst


def lhs44(inst):
    # max_{||X|| <= lambda} ||X^T v||^2 = lambda^2 ||v||^2 (Cauchy-Schwarz; attained by X = lambda u e^T/||u||)
    return inst["lambda"] ** 2 * sq(grad_bn(inst))


def rhs44(inst):
    m, s, gg, og, gy = _t41_terms(inst)
    lam = inst["lambda"]
    gj = lam ** 2 * gg
    m_mu2 = og / m                      # m mu_g^2 with mu_g = <1,g>/m (og = <1,g>^2)
    return s * (gj ** 2 - m_mu2 - lam ** 2 * gy)


def rhs44c(inst):
    m, s, gg, og, gy = _t41_terms(inst)
    lam = inst["lambda"]
    return s * (lam ** 2 * gg - lam ** 2 * og / m - lam ** 2 * gy / m)


# -- Lemma 4.5 helpers -----------------------------------------------------------------------


def _ls(X, t):
    A = X.T * X
    if A.det() == 0:
        return None
    return A.inv() * X.T * t


def optima(inst):
    """(W*, w_bn): least-squares optimum without bias, and the direction of the BN optima."""
    X, t = inst["X"], inst["t"]
    n = X.rows
    Xc = X - sp.ones(n, 1) * (sp.ones(1, n) * X) / n
    return _ls(X, t), _ls(Xc, t)


def optimum_with_bias(inst):
    X, t = inst["X"], inst["t"]
    Xb = X.row_join(sp.ones(X.rows, 1))
    sol = _ls(Xb, t)
    return None if sol is None else sol[:X.cols, :]


def sample_45(r):
    X = sp.Matrix(3, 2, [r.randint(-3, 3) for _ in range(6)])
    t = sp.Matrix([r.randint(-3, 3) for _ in range(3)])
    W0 = sp.Matrix([r.randint(-3, 3) for _ in range(2)])
    return {"X": X, "t": t, "W0": W0}


def small_45():
    W0s = [sp.Matrix([1, 0]), sp.Matrix([0, 1]), sp.Matrix([1, 1])]
    for entries in itertools.product(range(3), repeat=6):
        X = sp.Matrix(3, 2, list(entries))
        for tt in itertools.product(range(3), repeat=3):
            for W0 in W0s:
                yield {"X": X, "t": sp.Matrix(tt), "W0": W0}


def adm45(inst):
    Ws, wb = optima(inst)
    if Ws is None or wb is None or sq(Ws) == 0 or sq(wb) == 0:
        return False
    X, t = inst["X"], inst["t"]
    n = X.rows
    Xc = X - sp.ones(n, 1) * (sp.ones(1, n) * X) / n
    if (t.T * Xc * wb)[0, 0] <= 0:     # BN can fit t at all (positive correlation)
        return False
    W0 = inst["W0"]
    return (W0.T * Ws)[0, 0] > 0 and (W0.T * wb)[0, 0] > 0


def _dist2_to_ray(W0, w):
    return sq(W0) - (W0.T * w)[0, 0] ** 2 / sq(w)


def lhs45(inst):
    _, wb = optima(inst)
    return _dist2_to_ray(inst["W0"], wb)


def _printed_rhs(W0, Ws):
    return sq(W0 - Ws) - (sq(Ws) - (Ws.T * W0)[0, 0]) ** 2 / sq(Ws)


def rhs45(inst):
    Ws, _ = optima(inst)
    return _printed_rhs(inst["W0"], Ws)


def rhs45c(inst):
    _, wb = optima(inst)
    return _printed_rhs(inst["W0"], 3 * wb)       # any point of the ray


def rhs45_bias(inst):
    Wb = optimum_with_bias(inst)
    return _printed_rhs(inst["W0"], Wb)
