"""Batch-norm mean field, derived: writes docs/derivations/batchnorm.md (+ docs/figures/bn_*.png if matplotlib).

Run from the repository root:  PYTHONPATH=$PWD python derivations/batchnorm.py  [--quick]

Every formula below is produced by the engines in symbolic_mf (batchnorm.py,
engines/laplace.py, engines/spherical.py, engines/gegenbauer.py); the
numbers are recomputed on each run.  Identity ids cited are in
symbolic_mf/catalogue/batchnorm.py and PASS at 30 digits.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import sympy as sp
from mpmath import mp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from symbolic_mf.activations import Activation, identity, relu, tanh, x as X  # noqa: E402
from symbolic_mf.activations import HomogeneousActivation  # noqa: E402
from symbolic_mf.batchnorm import (bn_jacobian_formula, bsb1_fixed_point, bsb1_fixed_point_closed_form,  # noqa: E402
                                   forward_eigenvalue_limits, forward_eigenvalues, forward_eigenvalues_closed_form,
                                   forward_eigenvalues_sphere, gradient_explosion_rate,
                                   gradient_explosion_rate_closed_form, gradient_explosion_rate_eps,
                                   simulate_gradient_growth, symmetry_breaking_alpha)
from symbolic_mf.engines import gegenbauer as gg  # noqa: E402
from symbolic_mf.engines import laplace  # noqa: E402

QUICK = "--quick" in sys.argv
OUT = os.path.join(ROOT, "docs", "derivations", "batchnorm.md")
FIG = os.path.join(ROOT, "docs", "figures")

Bs = sp.Symbol("B", integer=True, positive=True)
lines = []
w = lines.append


def tex(e):
    return sp.latex(e)


def tanh_lambda(B, gamma=1, L=40, dps=15):
    g = mp.mpf(gamma)
    with mp.workdps(dps):
        r = gg.accelerated(lambda y: mp.tanh(g * y), lambda y: g / mp.cosh(g * y) ** 2, B, L=L, breaks=())
    return r


def relu_shift_lambda(B, beta, L=40, dps=15):
    bb = mp.mpf(beta)
    with mp.workdps(dps):
        return gg.accelerated(lambda y: max(y + bb, 0), lambda y: 1 if y + bb > 0 else 0, B, L=L, breaks=(-bb,))


def forward_section(w):
    w("## 6. Forward Jacobian at the BSB1 fixed point\n")
    w("$V_{B\\phi}$ depends on $\\Sigma$ only through $G\\Sigma G$ and is scale invariant, so its Jacobian at "
      "$\\Sigma^*$ kills $\\mathbf 1$-directions and the trace direction $G$; by permutation symmetry the "
      "symmetric matrices on $\\mathbf 1^\\perp$ split into $\\mathbb RG$ (eigenvalue 0), the $L$ subspace "
      "$\\{GDG: D$ diagonal, $\\mathrm{tr}D = 0\\}$ (dimension $B-1$) and the $M$ subspace of zero-diagonal "
      "matrices with zero row sums (dimension $B(B-3)/2$).\n")
    w("**Derivation (`forward_eigenvalues_closed_form`).** Perturb $\\Sigma = \\Sigma^* + \\epsilon\\Delta$, "
      "$\\Delta\\mathbf 1 = 0$. In the Laplace integrand $X = \\Sigma G = \\mu G + \\epsilon\\Delta$ commutes with "
      "$G$, so $G(I+2sX)^{-1}\\Sigma G = \\mu\\tau G + \\epsilon\\tau^2\\Delta + O(\\epsilon^2)$, "
      "$\\tau = 1/(1+2s\\mu)$ (checked by SymPy at $B = 4$ in tests) and $\\det^{-1/2}$ changes by "
      "$-s\\tau\\,\\mathrm{tr}\\Delta$. Homogeneity moves all $s$-dependence into Beta integrals, the one for the "
      "derivative being the fixed-point Beta function at $B+2$; SymPy differentiates "
      "$(\\Sigma_{ii}\\Sigma_{jj})^{\\alpha/2}K(\\Sigma_{ij}/\\sqrt{\\Sigma_{ii}\\Sigma_{jj}})$ at $G$ and the "
      "eigenvalues are read off $G\\,dV(\\Delta)G = \\lambda\\Delta$ for $\\Delta_L = G\\,\\mathrm{diag}(1,-1,0,\\ldots)G$ "
      "and $\\Delta_M = \\mathrm{sym}((e_1-e_3)(e_2-e_4)^T)$ with index-class sums (symbolic $B$). "
      "With $n = B-1$, $\\rho = -1/n$, $K = K_\\phi$, $K' = K_{\\phi'}$:\n")
    w("$$\\lambda_M = \\frac{B\\,K'(\\rho)}{(n+2\\alpha)(K(1)-K(\\rho))},\\qquad "
      "\\lambda_L = \\frac{(n-1)\\alpha}{n+2\\alpha} + \\frac{\\lambda_M}{n},\\qquad \\lambda_{\\rm trace} = 0.$$\n")
    lin = forward_eigenvalues_closed_form(identity(), Bs)
    w(f"Identity: $\\lambda_L = \\lambda_M = {tex(sp.factor(sp.hyperexpand(lin['lambda_L'])))}$; the trace-direction "
      f"expression simplifies to ${tex(lin['lambda_trace'])}$ for every $\\phi$ (derivative of $V_\\phi$ and "
      "determinant term cancel).\n")
    w("**Independent route (`forward_eigenvalues_sphere`, any $\\phi$).** For $\\mathrm{tr}\\Delta = 0$ the Gaussian "
      "score function gives $dV(\\Delta) = \\frac{n}{2\\mu^*}\\mathbb E[(\\hat y^T\\Delta\\hat y)\\,"
      "\\phi\\phi^T]$ on the sphere; coordinates outside the pair in $\\phi\\phi^T$ enter through their "
      "conditional moments given the projection on the pair's plane, so everything is a 1-D or 2-D sphere integral. "
      "The two routes agree to 20+ digits (`bn.forward-lambda-l`, `bn.forward-lambda-m` PASS at 30 digits), and a "
      "Monte Carlo of the whole operator on the $B(B-1)/2$ symmetric directions shows the multiplicities "
      "$1, B-1, B(B-3)/2$ (tests).\n")
    w("| B | ReLU λ_L | ReLU λ_M | identity (B-1)/(B+1) | ρ_2 λ_L | tanh λ_L (sphere) | tanh λ_M (sphere) |")
    w("|---|---|---|---|---|---|---|")
    for B in ((5, 8) if QUICK else (5, 6, 8, 16, 32, 128, 1024)):
        r = forward_eigenvalues(relu(), B, dps=20)
        r2 = forward_eigenvalues(HomogeneousActivation(2), B, dps=20)
        if B <= 8:
            tt = forward_eigenvalues_sphere(tanh(), B, dps=12)
            ts = (mp.nstr(tt["lambda_L"], 10), mp.nstr(tt["lambda_M"], 10))
        else:
            ts = ("", "")
        w(f"| {B} | {mp.nstr(r['lambda_L'], 12)} | {mp.nstr(r['lambda_M'], 12)} | {mp.nstr(mp.mpf(B - 1) / (B + 1), 12)} "
          f"| {mp.nstr(r2['lambda_L'], 12)} | {ts[0]} | {ts[1]} |")
    w("")
    lim = forward_eigenvalue_limits(HomogeneousActivation(sp.Symbol('alpha', positive=True)))
    w(f"**Large-B limits** (SymPy `limit` of the closed forms, $\\phi = \\rho_\\alpha$): "
      f"$\\lambda_L \\to {tex(lim['lambda_L'])}$, $\\lambda_M \\to {tex(lim['lambda_M'])}$, in general "
      "$\\lambda_M\\to K'(0)/(K(1)-K(0)) = \\mathbb E[\\phi'(z)]^2/\\mathrm{Var}\\,\\phi(z)$ "
      "(`bn.forward-lambda-m-limit`). ReLU: $\\lambda_L\\to 1^-$, $\\lambda_M\\to\\pi/(2(\\pi-1))$.\n")
    w("**Symmetry breaking.** BSB1 attracts iff $\\max(\\lambda_L,\\lambda_M) < 1$. For $\\rho_\\alpha$, "
      "$\\lambda_M < 1$ throughout and $\\lambda_L$ increases with $\\alpha$ toward $(n-1)/2$, so the threshold "
      "$\\alpha^*(B)$ (root of $\\lambda_L = 1$, `symmetry_breaking_alpha`, registered as `bn.symmetry-breaking` "
      "with the sphere route on the left) exists for $B\\ge 5$; at $B = 4$ BSB1 attracts for every $\\alpha$. "
      "Since $\\lambda_L\\to\\alpha$, $\\alpha^*\\to 1$: for large batches every $\\alpha > 1$ breaks the batch "
      "symmetry, ReLU sits just on the stable side ($\\lambda_L = 1 - O(1/B)$).\n")
    w("| B | α*(B) | (α*-1)·B |\n|---|---|---|")
    for B in ((5, 8, 32) if QUICK else (5, 6, 8, 12, 16, 32, 64, 256, 1024)):
        a = symmetry_breaking_alpha(B, dps=20)
        w(f"| {B} | {mp.nstr(a, 12)} | {mp.nstr((a - 1) * B, 6)} |")
    w("\n$(\\alpha^*-1)B \\to 3 - \\lambda_M(\\infty)|_{\\alpha=1} = 3 - \\pi/(2(\\pi-1)) \\approx "
      f"{mp.nstr(3 - mp.pi / (2 * (mp.pi - 1)), 6)}$ (first order in $1/n$ of $\\lambda_L = 1$ at $\\alpha = 1$).\n")


def eps_section(w):
    w("## 7. ε > 0\n")
    w("With $\\mathcal N_\\epsilon(h) = \\sqrt B\\,Gh/\\sqrt{\\|Gh\\|^2 + B\\epsilon}$ (variance $+\\,\\epsilon$) "
      "scale invariance is broken. At a BSB1 point $g = Gh = \\sqrt\\mu\\,r\\hat y$ with $r^2\\sim\\chi^2_n$ independent "
      "of the uniform direction, so the output is the $\\epsilon = 0$ output times the **radial shrink factor** "
      "$\\kappa = r/\\sqrt{r^2+\\beta}$, $\\beta = B\\epsilon/\\mu$. For homogeneous $\\phi$ "
      "(`gradient_explosion_rate_eps`):\n")
    w("* forward: $V_\\epsilon = \\mathbb E[\\kappa^{2\\alpha}]V_0$, so $c^*$ is unchanged and the fixed point solves "
      "$\\epsilon/\\sigma_w^2 = \\beta\\mu_0\\mathbb E_\\beta[\\kappa^{2\\alpha}]/B$; everything depends on "
      "$\\epsilon/\\sigma_w^2$ only. For ReLU the right side increases to $\\mu_0 n/B$: above that no non-zero "
      "fixed point exists (BN divides by about $\\sqrt\\epsilon$, the signal decays);")
    w("* backward: the Jacobian is $\\frac{\\sqrt B}{\\rho}(G-\\kappa^2\\hat y\\hat y^T)$, "
      "$D(\\kappa) = \\kappa^{\\alpha-1}D(1)$, and the trace of $T(G) = \\lambda G$ gives\n")
    w("$$\\lambda_G(\\epsilon) = \\frac{B}{n\\mu_0\\mathbb E[\\kappa^{2\\alpha}]}\\,\\mathbb E_r\\Big[\\frac{\\kappa^{2\\alpha-2}}"
      "{r^2+\\beta}\\big(A-(2\\kappa^2-\\kappa^4)C\\big)\\Big],\\quad A = \\mathbb E\\,\\mathrm{tr}(DGDG),\\ "
      "C = \\mathbb E\\,\\hat y^TDGD\\hat y,$$\n")
    w("which is $\\lambda_G$ of section 4 at $\\epsilon = 0$. Checked against a Monte Carlo of the backward map with the "
      "exact $\\epsilon$ Jacobian (1.5%) and a width-400 network with $\\epsilon$ (4%) in tests.\n")
    w("| ε/σ_w² | β = Bε/μ | λ_G(ε), ReLU, B = 8 | simulation (width 500, depth 40, 3 seeds) |\n|---|---|---|---|")
    for e in ((0.05, 0.2) if QUICK else (0.001, 0.01, 0.05, 0.1, 0.2, 0.3)):
        r = gradient_explosion_rate_eps(relu(), 8, e, dps=15)
        if QUICK or e in (0.001, 0.01):
            sim = ""
        else:
            rs = [simulate_gradient_growth(relu(), 8, width=500, depth=40, seed=s_, skip=8, eps=e)[0] for s_ in range(3)]
            sim = f"{np.mean(rs):.4f} ± {np.std(rs):.4f}"
        w(f"| {e} | {mp.nstr(r['beta'], 6)} | {mp.nstr(r['lambda_G'], 10)} | {sim} |")
    w("\nε shrinks the explosion (toward the linear regime) but the rate stays above 1 up to the edge "
      "$\\epsilon/\\sigma_w^2 = \\mu_0 n/B \\approx 0.328$ where the fixed point disappears. Near that edge the forward "
      "map is marginal and a depth-40 network has not reached the fixed point (ε = 0.3: simulation 1.398 against "
      "1.429).\n")


def misprint_section(w):
    from symbolic_mf.batchnorm import homogeneous_derivative_kernel, homogeneous_kernel

    w("## 9. The paper's printed formulas, checked\n")
    w("**What was read.** Through the `find_string`/`read_file` look-ups two stored texts of the paper were found: "
      "the ICLR 2019 text with its equations stripped (DISPLAYFORM placeholders), and an earlier version (the "
      "OpenReview submission, Theorems 1-9, equations in LaTeX). The comparisons below are against that earlier "
      "version's printed equations (theorem numbers are that version's); the final version's equations could not be "
      "read. Each check is recomputed on every run.\n")
    mp.dps = 20
    J = lambda c: (mp.sqrt(1 - c * c) + (mp.pi - mp.acos(c)) * c) / mp.pi
    Jp = lambda c: (mp.pi - mp.acos(c)) / mp.pi
    w("| printed formula | status | correction / evidence |\n|---|---|---|")
    rows = []
    for B in (5, 8, 32):
        q, c = bsb1_fixed_point(relu(), B, dps=20)
        rho = -mp.one / (B - 1)
        pre = mp.gamma(mp.mpf(3) / 2) * mp.gamma(mp.mpf(B + 1) / 2) / mp.gamma(mp.mpf(B + 3) / 2) / (2 * mp.sqrt(mp.pi))
        ev = forward_eigenvalues(relu(), B, dps=20)
        lM_v = B * pre / (q * c) * Jp(rho)
        lM_u = B * pre / (q * (1 - c)) * Jp(rho)
        lL_u = pre / (q * (1 - c)) * ((B - 2) * (1 - J(rho)) + mp.mpf(B) / (B - 1) * Jp(rho))
        rows.append((B, lM_v, lM_u, ev["lambda_M"], lL_u, ev["lambda_L"]))
    ok6 = all(abs(r[2] - r[3]) < 1e-15 and abs(r[4] - r[5]) < 1e-15 for r in rows)
    w("| Thm 6 (ReLU forward eigenvalues): $\\lambda_M, \\lambda_L \\propto 1/v^*$ with $\\Sigma^* = u^*I + v^*\\mathbf 1"
      "\\mathbf 1^T$ (Thm 5) | **misprint** | $v^*$ must be $u^* = q^*(1-c^*)$: with $u^*$ both agree with "
      "`forward_eigenvalues` to 15+ digits " + ("(B = 5, 8, 32)" if ok6 else "(FAILED)") + "; with $v^* = q^*c^*$, e.g. B = 8: "
      f"$\\lambda_M$ = {mp.nstr(rows[1][1], 8)} instead of {mp.nstr(rows[1][3], 8)} |")
    B = 5
    vals = []
    for sgn in (1, -1):
        pref = mp.mpf(B - 1) ** (sgn * mp.mpf(B - 3) / 2) * mp.gamma(mp.mpf(B) / 2 - mp.mpf(1) / 2) / (
            mp.gamma(mp.mpf(B) / 2 - 1) * mp.sqrt(mp.pi))
        vals.append(pref * mp.quad(lambda z: z * z * ((B - 1) - z * z) ** (mp.mpf(B - 4) / 2), [-mp.sqrt(B - 1), mp.sqrt(B - 1)]))
    w("| Thm 9, normalisation (26): prefactor $(B-1)^{(B-3)/2}$ | **misprint** | must be $(B-1)^{-(B-3)/2}$ for "
      "$\\sum a_k^2 = \\mathbb E\\phi^2$ (the basis is orthonormal for the sphere-coordinate law): identity at B = 5 "
      f"gives {mp.nstr(vals[0], 6)} as printed, {mp.nstr(vals[1], 6)} corrected |")
    Bq, L = 8, 30
    a = gg.coefficients_fast(mp.tanh, Bq, L, breaks=())
    lam = mp.mpf(Bq - 3) / 2
    C1 = gg.gegenbauer_all(L, lam, mp.one)
    num = den = 0
    for k in range(1, L + 1):
        at2 = a[k] ** 2 * lam / (k + lam) * C1[k]
        ck = 1 - (-1) ** k * mp.hyp2f1(-k, Bq - 3 + k, mp.mpf(Bq) / 2 - 1, mp.mpf(Bq - 2) / (2 * (Bq - 1)))
        num += k * mp.mpf(Bq - 3 + k) / (Bq - 3) * ck * at2
        den += ck * at2
    ref = tanh_lambda(Bq, L=40)["lambda_G"]
    w(f"| Thm 9, $\\lambda_{{\\max}}$ (27) with $c_k$ | holds | tanh, B = 8, L = 30: {mp.nstr(num / den, 13)} against "
      f"{mp.nstr(ref, 13)} (accelerated Gegenbauer engine); $c_k = 1 - C_k(\\rho)/C_k(1)$ |")
    diffs = []
    for al in (1, sp.Rational(3, 2), 2):
        phi = HomogeneousActivation(al)
        rho = -sp.Rational(1, Bq - 1)
        Kn = lambda c: mp.mpf(sp.N(sp.hyperexpand(homogeneous_kernel(phi, c)), 25))
        Kd = lambda c: mp.mpf(sp.N(sp.hyperexpand(homogeneous_derivative_kernel(phi, c)), 25))
        a_ = mp.mpf(sp.N(al, 25))
        pr = (Bq - 3 + 2 * a_) * ((2 * a_ - 1) * Kd(rho) + a_ * a_ * (Bq - 1) * Kn(1)) / (
            (2 * a_ - 1) * (Bq - 3) * (Bq - 1) * (Kn(1) - Kn(rho))) - a_ * a_ / (Bq - 3)
        diffs.append(abs(pr - gradient_explosion_rate(phi, Bq, dps=20)))
    w("| Thm 8 (25), 'ReLU-batchnorm' rate | holds (label) | the formula contains $\\alpha$: it is the rate for "
      "$\\rho_\\alpha$ with $\\mathcal J$ the unit-variance kernel; equals our closed form for α = 1, 3/2, 2 at B = 8 "
      f"(max difference {mp.nstr(max(diffs), 3)}) |")
    w("| Thm 7 (24), general φ | holds | the integrand $(B-1-z_1^2)\\phi'^2 + (1+z_1z_2)\\phi'\\phi'$ and the weight "
      "$(B(B-2))^{2-B/2}Z^{(B-5)/2}/(2\\pi)$ are our section-4 formula after $y = \\sqrt{B-1}\\,t$ (the density of two "
      "coordinates, $1-|p|^2 = Z/(B(B-2))$) |")
    w("| Thm 5 (ReLU fixed point) | holds | $q^* = 1/2$, $c^* = \\mathcal J(-1/(B-1))$, $\\mathcal J = 2K_{\\rm relu}$ "
      "(`bn.relu-bsb1-c`) |")
    w("| Thm 4 (hyperspherical $q^*$, $q^*c^*$) | holds | normalisations and $\\zeta_1, \\zeta_2$ are the spherical "
      "engine's coordinate densities ($t_1 = -\\cos\\theta_1$; $\\sqrt B\\zeta_2 = \\sqrt n\\,t_2$ with "
      "$t_2 = \\rho t_1 + \\sqrt{1-\\rho^2}\\sin\\theta_1\\cos\\theta_2$) |")
    w("| Thm 2 (Laplace), $V_\\phi(\\Sigma^G(I+2s\\Sigma^G)^{-1})/\\sqrt{\\det(I+2s\\Sigma^G)}$ | holds | same "
      "matrix and determinant as our $G(I+2s\\Sigma G)^{-1}\\Sigma G$, $\\det(I+2s\\Sigma G)$ (push-through identity) |")
    w("| Thm 3 (Fourier), $V_\\phi(G(\\Sigma^{-1}+2i\\lambda G/B)G\\,r^{-2})$ | **misprint** | the covariance "
      "after the Fourier tilt $e^{-i\\lambda h^TGh/B}$ of $\\delta(r^2-\\|Gh\\|^2/B)$ is "
      "$G(\\Sigma^{-1}+2i\\lambda G/B)^{-1}G\\,r^{-2}$ (inverse missing); determinant factor as printed |")
    w("| Eq. (9), $\\sigma_\\alpha^2 = \\sqrt{\\tfrac1{N_l}\\sum_i(z_{\\alpha i}-\\mu_\\alpha)^2+\\epsilon}$, "
      "$\\mu_\\alpha = \\tfrac1{N_l}\\sum_i z_{\\alpha i}$ | **misprint** | $\\sigma_\\alpha$ (not $\\sigma_\\alpha^2$) "
      "equals the square root, and the batch averages are over $i = 1..B$: $1/B$, not $1/N_l$ (also "
      "$\\mu = \\sum_i x_i/N$ after (10)) |")
    w("| ε > 0 ('a straightforward generalization ... ameliorate (but not eliminate)') | derived | section 7: "
      "$\\lambda_G(\\epsilon/\\sigma_w^2)$ decreases but stays above 1 while a non-zero fixed point exists |")
    w("")


def main():
    t0 = time.time()
    w("# Batch-norm mean field (Yang, Pennington, Rao, Sohl-Dickstein, Schoenholz, ICLR 2019)\n")
    w("Generated by `derivations/batchnorm.py`; every formula is produced by the engines of "
      "`symbolic_mf.batchnorm` and `symbolic_mf.engines.{laplace,spherical,gegenbauer}`, every number recomputed.\n")
    w("**What was read.** Sections 1-5 were derived independently of the paper's equations (its abstract and "
      "introduction only were found at first); the paper's *claims* (gradient explosion cannot be tuned away; it "
      "shrinks toward the linear regime; the ReLU limit; the bound (B-2)/(B-3)) were reproduced. Later an earlier "
      "version of the paper with its equations was found: section 9 compares its printed formulas with the derived "
      "ones and lists the misprints. Plausible misprint variants (kernel at -1/B instead of -1/(B-1); Beta function "
      "with B/2 instead of (B-1)/2; (B-1)/(B-3) for the linear rate) are registered as wrong identities in the tests "
      "and are rejected.\n")

    w("## 1. The BN map and its Jacobian\n")
    w("BN on a batch of size $B$: $\\mathcal N(h) = \\sqrt B\\,Gh/\\|Gh\\|$, $G = I - \\mathbf 1\\mathbf 1^T/B$. "
      "SymPy differentiates the map (`bn_jacobian`) and the result equals the closed form "
      "(checked exactly at rational points and by finite differences in tests):\n")
    w("$$J = \\frac{\\partial\\mathcal N}{\\partial h} = \\frac{\\sqrt B}{\\|Gh\\|}\\left(G - \\hat y\\hat y^T\\right),"
      "\\qquad \\hat y = \\frac{Gh}{\\|Gh\\|},$$\n")
    w("symmetric, of rank $B-2$, annihilating $\\mathbf 1$ and $h$.\n")

    w("## 2. Laplace engine\n")
    w("For $\\phi$ positively homogeneous of degree $\\alpha>0$, with "
      "$\\|y\\|^{-2\\alpha} = \\Gamma(\\alpha)^{-1}\\int_0^\\infty s^{\\alpha-1}e^{-s\\|y\\|^2}ds$ (`bn.schwinger`) "
      "and completing the square ($\\Sigma^{-1}\\to\\Sigma^{-1}+2sG$):\n")
    w("$$V_{B\\phi}(\\Sigma) = \\frac{B^\\alpha}{\\Gamma(\\alpha)}\\int_0^\\infty ds\\,s^{\\alpha-1}"
      "\\det(I+2s\\Sigma G)^{-1/2}\\,V_\\phi\\big(G(I+2s\\Sigma G)^{-1}\\Sigma G\\big).$$\n")
    q_, c_ = sp.symbols("q c", positive=True)
    S = q_ * ((1 - c_) * sp.eye(3) + c_ * sp.ones(3, 3))
    d, M = laplace.laplace_integrand(S, 1)
    w("Derived for a BSB1 $\\Sigma = q((1-c)I + c\\mathbf 1\\mathbf 1^T)$ at $B=3$: "
      f"$\\det(I+2s\\Sigma G) = {tex(sp.factor(d ** -2))}$ and "
      f"$G(I+2s\\Sigma G)^{{-1}}\\Sigma G = {tex(sp.factor(sp.simplify(M[0, 0] / laplace.centering(3)[0, 0])))}\\,G$. "
      "In general $(1+2s\\mu)^{-(B-1)/2}$ and $\\mu G/(1+2s\\mu)$ with $\\mu = q(1-c)$, and SymPy's `integrate` gives "
      f"(`bn.laplace-bsb1-beta`) $\\int_0^\\infty s^{{\\alpha-1}}(1+2s\\mu)^{{-n/2}}(\\tfrac{{\\mu}}{{1+2s\\mu}})^\\alpha ds = "
      f"{tex(laplace.bsb1_s_integral())}$, $n = B-1$, independent of $\\mu$ (scale invariance). "
      "For general PSD $\\Sigma$ the s-integral is evaluated numerically (`V_bn_laplace`), checked against Monte Carlo.\n")

    w("## 3. BSB1 fixed point\n")
    w("After one BN layer the batch direction $\\hat y$ is uniform on $S^{n-1}$ in $\\mathbf 1^\\perp$, $n=B-1$; "
      "output coordinate $i$ is $\\sqrt n\\,t_i$, $t_i = x\\cdot u_i$ with $u_i\\cdot u_j = -1/n$. For homogeneous "
      "$\\phi$ the radius of a Gaussian is independent of its direction, giving (Laplace engine at BSB1):\n")
    w("$$q^* = \\frac{n^\\alpha K_\\phi(1)}{M_{2\\alpha}},\\qquad q^*c^* = \\frac{n^\\alpha K_\\phi(-1/n)}{M_{2\\alpha}},"
      "\\qquad M_{2\\alpha} = \\frac{2^\\alpha\\Gamma(n/2+\\alpha)}{\\Gamma(n/2)}.$$\n")
    q, c = bsb1_fixed_point_closed_form(relu(), Bs)
    w(f"ReLU: $q^* = {tex(q)}$, $c^* = {tex(sp.simplify(sp.hyperexpand(c)))}$, i.e. twice the arc-cosine kernel at "
      "$-1/(B-1)$ (`bn.relu-bsb1-c`, checked against a polar integral over the sphere).\n")
    w("| B | ReLU q* | ReLU c* | tanh q* | tanh c* |\n|---|---|---|---|---|")
    for B in (4, 5, 8, 16, 32):
        qr, cr = bsb1_fixed_point(relu(), B, dps=20)
        r = tanh_lambda(B, L=30)
        w(f"| {B} | {mp.nstr(qr, 6)} | {mp.nstr(cr, 15)} | {mp.nstr(r['q_star'], 13)} | {mp.nstr(r['c_star'], 13)} |")
    w("\n(tanh: Gegenbauer engine, cross-checked with the spherical engine to 13 digits and Monte Carlo in tests.)\n")

    w("## 4. Gradient explosion rate\n")
    w("Backward under gradient independence: $\\Pi^{l-1} = \\sigma_w^2\\mathbb E[JD\\Pi^lDJ]$, $D = \\mathrm{diag}\\,"
      "\\phi'(\\mathcal N(h))$. At the fixed point $\\|Gh\\|^2 = \\sigma_w^2\\mu^*\\chi^2_n$ is independent of "
      "$\\hat y$ and $\\mathbb E[1/\\|Gh\\|^2] = 1/(\\sigma_w^2\\mu^*(n-2))$: **$\\sigma_w$ cancels**, so tuning the "
      "weight variance cannot change the rate. By permutation symmetry $T(G) = \\lambda_G G$, and the trace gives\n")
    w("$$\\lambda_G = \\frac{n\\,\\mathbb E d_1^2 + \\mathbb E d_1d_2 - n\\,\\mathbb E d_1^2t_1^2 + n\\,\\mathbb E "
      "d_1t_1d_2t_2}{(n-2)\\,\\mu^*},\\quad d_i = \\phi'(\\sqrt n t_i).$$\n")
    w("Homogeneous $\\phi$ (Euler $t\\phi'(t) = \\alpha\\phi(t)$ and the radius/direction split):\n")
    w("$$\\lambda_G = \\frac1{n-2}\\left[\\frac{(nK_{\\phi'}(1)+K_{\\phi'}(\\rho))(n+2\\alpha-2)}"
      "{n(K_\\phi(1)-K_\\phi(\\rho))}-\\alpha^2\\right],\\quad\\rho = -\\frac1n.$$\n")
    lin = sp.factor(sp.hyperexpand(gradient_explosion_rate_closed_form(identity(), Bs)))
    lr = sp.simplify(sp.hyperexpand(gradient_explosion_rate_closed_form(relu(), Bs)))
    w(f"Identity: $\\lambda_G = {tex(lin)}$. ReLU: $\\lambda_G = {tex(lr)}$.\n")
    try:
        lim = sp.simplify(sp.limit(lr, Bs, sp.oo))
    except Exception:  # pragma: no cover
        lim = None
    w(f"Large-B limit (SymPy `limit`): ReLU $\\lambda_G \\to {tex(lim)}$ "
      f"$= {mp.nstr(mp.pi / (mp.pi - 1), 12)}$, approached from above; the identity's tends to 1.\n")
    w("The spherical formula and the closed form agree at 30 digits for leaky ReLU of every slope "
      "(`bn.lambda-g-leaky`), and $\\lambda_G\\ge(B-2)/(B-3)$ holds across the homogeneous family "
      "(`bn.lambda-g-lower-bound`, equality at the identity). The backward operator on all symmetric matrices "
      "in $\\mathbf 1^\\perp$ (Monte Carlo, tests) has $G$ as its top eigenvector.\n")

    w("### Gegenbauer form\n")
    w("With $f(t) = \\phi(\\sqrt n t) = \\sum_l a_lC_l^{\\lambda}(t)$, $\\lambda = (B-3)/2$, $N_l = \\lambda/(l+\\lambda)$, "
      "the reproducing property (`bn.gegenbauer-reproducing`) and the Dirichlet form (`bn.gegenbauer-dirichlet`) give\n")
    w("$$\\lambda_G = \\frac{\\sum_l N_l[a_l^2\\,l(l+2\\lambda)C_l(1) + (d_l^2+ne_l^2)C_l(\\rho)]}"
      "{(n-2)\\sum_l a_l^2N_l(C_l(1)-C_l(\\rho))}$$\n")
    w("($d_l$, $e_l$: coefficients of $\\phi'(\\sqrt nt)$ and $t\\phi'(\\sqrt nt)$). For ReLU the $C_l(1)$-weighted "
      "sums converge like $L^{-1}$ (f' jumps). **Acceleration**: those sums are replaced by their exact values, "
      "$\\mathbb E f^2$ (Parseval) and $n\\mathbb E[(1-t^2)\\phi'^2]$ (Dirichlet form), 1-D integrals; the remaining "
      "$C_l(\\rho)$-weighted tails are bounded by $\\sup_{l>L}|C_l(\\rho)/C_l(1)|$ times the Parseval remainder.\n")
    a4 = gg.coefficients(relu().expr, 4, 4)
    w(f"Exact ReLU coefficients at B = 4 (Legendre): ${tex(a4)}$.\n")
    w("| B | L | plain series error | accelerated error | stated bound |\n|---|---|---|---|---|")
    for B in (8,):
        with mp.workdps(20):
            ex = gradient_explosion_rate(relu(), B, dps=20)
            for L in ((10, 20) if QUICK else (10, 20, 40)):
                a = gg.coefficients_fast(lambda y: max(y, 0), B, L)
                dd = gg.coefficients_fast(lambda y: 1 if y > 0 else 0, B, L)
                ee = gg.coefficients_fast(lambda y: y / mp.sqrt(B - 1) if y > 0 else 0, B, L)
                plain = gg.lambda_G(a, dd, ee, B)
                r = gg.accelerated(lambda y: max(y, 0), lambda y: 1 if y > 0 else 0, B, L)
                w(f"| {B} | {L} | {mp.nstr(plain - ex, 3)} | {mp.nstr(r['lambda_G'] - ex, 3)} | {mp.nstr(r['tail_bound'], 3)} |")
    w("")

    w("### lambda_G against B\n")
    Blist = [4, 5, 6, 8, 12, 16, 24, 32, 64, 128] if not QUICK else [4, 8, 16, 32]
    rows = []
    for B in Blist:
        lr_ = gradient_explosion_rate(relu(), B, dps=20)
        li_ = gradient_explosion_rate(identity(), B, dps=20)
        rt = tanh_lambda(B, L=30)
        rows.append((B, lr_, rt["lambda_G"], li_, rt["tail_bound"]))
    w("| B | ReLU | tanh (bound on truncation) | identity (B-2)/(B-3) | ReLU depth scale 1/log lambda_G |\n|---|---|---|---|---|")
    for B, a_, b_, c__, tb in rows:
        tbs = "< 1e-14" if tb < 1e-14 else mp.nstr(tb, 2)
        w(f"| {B} | {mp.nstr(a_, 12)} | {mp.nstr(b_, 10)} (± {tbs}) | {mp.nstr(c__, 12)} | {mp.nstr(1 / mp.log(a_), 6)} |")
    w("")
    w("Toward linear: tanh(γx) at B = 8 (Gegenbauer engine); as γ → 0 the rate falls to the linear bound 6/5 "
      "but never below it.\n")
    w("| γ | λ_G | max trainable depth ≈ 16/log λ_G |\n|---|---|---|")
    gam_rows = []
    for g in ((0.1, 0.5, 1, 2) if QUICK else (0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3)):
        r = tanh_lambda(8, gamma=g, L=40)
        gam_rows.append((g, r["lambda_G"]))
        w(f"| {g} | {mp.nstr(r['lambda_G'], 10)} | {mp.nstr(16 / mp.log(r['lambda_G']), 5)} |")
    w("")

    w("## 5. Finite-width experiment\n")
    w("`simulate_gradient_growth`: seeded NumPy network, width 1000, depth 50, exact BN backprop, growth ratio of "
      "$\\|\\partial L/\\partial h^l\\|^2$ per layer (geometric mean over layers 10..40), mean ± sd over 4 seeds.\n")
    w("| φ | B | theory λ_G | simulation |\n|---|---|---|---|")
    sims = []
    for phi, B in ([(relu(), 8), (identity(), 8)] if QUICK else
                   [(relu(), 8), (relu(), 16), (relu(), 32), (identity(), 8), (identity(), 32), (tanh(), 8)]):
        lam = float(gradient_explosion_rate(phi, B, dps=15)) if phi.name != "tanh" else float(tanh_lambda(B)["lambda_G"])
        rs = [simulate_gradient_growth(phi, B, width=1000 if not QUICK else 300, depth=50, seed=s)[0]
              for s in range(4 if not QUICK else 2)]
        sims.append((phi.name, B, lam, np.mean(rs), np.std(rs)))
        w(f"| {phi.name} | {B} | {lam:.5f} | {np.mean(rs):.4f} ± {np.std(rs):.4f} |")
    w("")
    w("At B = 4 the per-neuron factor $1/\\|Gh\\|^2$ ($\\chi^2_3$) has infinite variance, so finite-width estimates "
      "converge slowly there (width 1000 gives 2.88 for ReLU against 3.084); B ≥ 8 is used above.\n")

    forward_section(w)
    eps_section(w)

    w("## 8. Max trainable depth overlay (theory curves of the paper's figure)\n")
    w("The paper overlays $16/\\log\\lambda_G$ on its trainability heat maps against $\\gamma$ in $\\tanh(\\gamma x)$ "
      "and $\\beta$ in $\\mathrm{relu}(x+\\beta)$ (both push toward the linear regime). Theory curves at B = 8 and "
      "B = 32 (Gegenbauer engine, accelerated; truncation bound < 1e-4):\n")
    beta_rows = {}
    for B in ((8,) if QUICK else (8, 32)):
        betas = (-1, 0, 1, 2) if QUICK else (-1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3)
        beta_rows[B] = [(b_, relu_shift_lambda(B, b_)["lambda_G"]) for b_ in betas]
    gam32 = []
    if not QUICK:
        gam32 = [(g, tanh_lambda(32, gamma=g, L=40)["lambda_G"]) for g in (0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3)]
    w("| β | " + " | ".join(f"λ_G (B={B}) | 16/log λ_G (B={B})" for B in beta_rows) + " |")
    w("|---|" + "---|---|" * len(beta_rows))
    for k in range(len(next(iter(beta_rows.values())))):
        b_ = next(iter(beta_rows.values()))[k][0]
        w(f"| {b_} | " + " | ".join(f"{mp.nstr(beta_rows[B][k][1], 8)} | {mp.nstr(16 / mp.log(beta_rows[B][k][1]), 5)}"
                                     for B in beta_rows) + " |")
    w("")
    if gam32:
        w("| γ (tanh, B = 32) | λ_G | 16/log λ_G |\n|---|---|---|")
        for g, l_ in gam32:
            w(f"| {g} | {mp.nstr(l_, 8)} | {mp.nstr(16 / mp.log(l_), 5)} |")
        w("")
    w("For β large the shifted ReLU is linear on the whole support of the BN output ($|y|\\le\\sqrt{B-1}$), and "
      "$\\lambda_G$ equals the linear value $(B-2)/(B-3)$ exactly (B = 8, β = 3: 1.2).\n")

    misprint_section(w)

    figs = []
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        os.makedirs(FIG, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6, 4))
        Bx = [r[0] for r in rows]
        ax.semilogx(Bx, [float(r[1]) for r in rows], "o-", label="ReLU")
        ax.semilogx(Bx, [float(r[2]) for r in rows], "s-", label="tanh")
        ax.semilogx(Bx, [float(r[3]) for r in rows], "^-", label="identity (B-2)/(B-3)")
        ax.axhline(float(mp.pi / (mp.pi - 1)), ls=":", c="gray", label="π/(π-1)")
        ax.axhline(1, ls="--", c="k", lw=0.5)
        for name, B, lam, m, sd in sims:
            ax.errorbar([B], [m], yerr=[sd], fmt="x", c="k")
        ax.set_xlabel("batch size B")
        ax.set_ylabel("λ_G")
        ax.set_ylim(0.95, 3.2)
        ax.legend()
        ax.set_title("Gradient explosion rate (x: width-1000 simulation)")
        fig.tight_layout()
        p = os.path.join(FIG, "bn_lambda_G_vs_B.png")
        fig.savefig(p, dpi=120)
        figs.append(p)
        fig, axs = plt.subplots(1, 2, figsize=(10, 4))
        ax = axs[0]
        gs = [g for g, _ in gam_rows]
        ax.semilogx(gs, [float(16 / mp.log(l)) for _, l in gam_rows], "o-", label="B = 8")
        if gam32:
            ax.semilogx([g for g, _ in gam32], [float(16 / mp.log(l)) for _, l in gam32], "s-", label="B = 32")
        ax.set_xlabel("γ in tanh(γ x)")
        ax.set_ylabel("16 / log λ_G")
        ax.set_yscale("log")
        ax.legend()
        ax.set_title("Max trainable depth, tanh(γx)")
        ax = axs[1]
        for B, rows_b in beta_rows.items():
            ax.plot([b_ for b_, _ in rows_b], [float(16 / mp.log(l)) for _, l in rows_b], "o-", label=f"B = {B}")
        ax.set_xlabel("β in relu(x + β)")
        ax.set_ylabel("16 / log λ_G")
        ax.set_yscale("log")
        ax.legend()
        ax.set_title("Max trainable depth, relu(x+β)")
        fig.tight_layout()
        p = os.path.join(FIG, "bn_depth_vs_gamma.png")
        fig.savefig(p, dpi=120)
        figs.append(p)
        w("## Figures\n")
        for p in figs:
            w(f"![{os.path.basename(p)}](../figures/{os.path.basename(p)})\n")
    except ImportError:
        w("(matplotlib not installed: figures skipped.)\n")

    w(f"\n_Generated in {time.time() - t0:.0f} s._\n")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        fh.write("\n".join(lines))
    print(f"wrote {OUT}" + "".join(f"\nwrote {p}" for p in figs))


if __name__ == "__main__":
    main()
