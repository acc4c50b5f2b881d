r"""Mean field theory of batch normalization (Yang, Pennington, Rao, Sohl-Dickstein, Schoenholz, ICLR 2019).

A batch of size :math:`B` passes through :math:`h^l = W^l x^{l-1}`,
:math:`x^l = \phi(\mathcal N(h^l))` with the BN map
:math:`\mathcal N(h) = \sqrt B\,Gh/\|Gh\|`, :math:`G = I - \mathbf 1\mathbf 1^T/B`
(:math:`\gamma = 1, \beta = 0, \epsilon = 0`), weights
:math:`W_{ij}\sim\mathcal N(0, \sigma_w^2/N)`.  In the wide limit

* forward: :math:`\Sigma^l = \sigma_w^2 V_{B\phi}(\Sigma^{l-1})` with
  :math:`V_{B\phi}(\Sigma) = \mathbb E_{h\sim\mathcal N(0,\Sigma)}[\phi(\mathcal N(h))\phi(\mathcal N(h))^T]`;
  after one layer from any BSB1 covariance the output is the BSB1 matrix
  :math:`q^*((1-c^*)I + c^*\mathbf 1\mathbf 1^T)` (:func:`bsb1_fixed_point`);
* backward (gradient independence): the BN Jacobian is
  :math:`J = \frac{\sqrt B}{\|Gh\|}(G - \hat y\hat y^T)`, :math:`\hat y = Gh/\|Gh\|`
  (derived by SymPy in :func:`bn_jacobian`), and the gradient covariance
  obeys :math:`\Pi^{l-1} = \sigma_w^2\,\mathbb E[J D\Pi^l D J]`,
  :math:`D = \mathrm{diag}\,\phi'(\mathcal N(h))`.  At the fixed point
  :math:`\Pi \propto G` is an eigenvector with eigenvalue
  :math:`\lambda_G` (:func:`gradient_explosion_rate`); :math:`\sigma_w`
  cancels (BN is scale invariant), so tuning it cannot remove the growth.

Derived here (none of it typed in from the paper), with :math:`n = B-1`,
:math:`\rho = -1/n`, :math:`t_i` coordinates of :math:`x\sim U(S^{n-1})`,
:math:`d_i = \phi'(\sqrt n t_i)`:

.. math::

   \lambda_G = \frac{n\,\mathbb E d_1^2 + \mathbb E d_1d_2 - n\,\mathbb E d_1^2t_1^2
   + n\,\mathbb E d_1t_1d_2t_2}{(n-2)\,\mu^*},\qquad \mu^* = q^*(1-c^*).

For :math:`\phi` homogeneous of degree :math:`\alpha` the sphere decouples
from the Gaussian radius (Laplace engine at a BSB1 point) and

.. math::

   q^* = \frac{n^\alpha K_\phi(1)}{M_{2\alpha}},\quad q^*c^* = \frac{n^\alpha K_\phi(\rho)}{M_{2\alpha}},\quad
   \lambda_G = \frac{1}{n-2}\left[\frac{(nK_{\phi'}(1) + K_{\phi'}(\rho))(n+2\alpha-2)}{n(K_\phi(1)-K_\phi(\rho))} - \alpha^2\right],

:math:`M_{2\alpha} = 2^\alpha\Gamma(n/2+\alpha)/\Gamma(n/2)`.

>>> from symbolic_mf.activations import relu, identity, tanh
>>> q, c = bsb1_fixed_point(relu(), 4, dps=20)
>>> print(mp.nstr(q, 15), mp.nstr(c, 15))
0.5 0.169496588042166
>>> print(mp.nstr(gradient_explosion_rate(identity(), 10, dps=20), 15))   # (B-2)/(B-3)
1.14285714285714
>>> gradient_explosion_rate(relu(), 3)
Traceback (most recent call last):
...
symbolic_mf.errors.DomainError: B = 3 is outside its valid range: integer B >= 4 (lambda_G needs E[1/||Gh||^2] < oo, i.e. B >= 4)
"""

from __future__ import annotations

import functools
from typing import Callable, Optional, Tuple

import numpy as np
import sympy as sp
from mpmath import mp

from .activations import Activation, HomogeneousActivation, get_activation, x as X
from .engines import laplace as _laplace
from .engines import spherical as _sph
from .errors import DomainError
from .numeric import MPMATH_FUNCTIONS

__all__ = [
    "bn_map",
    "bn_map_symbolic",
    "bn_jacobian",
    "bn_jacobian_formula",
    "rho_kernel",
    "homogeneous_kernel",
    "homogeneous_derivative_kernel",
    "chi_moment",
    "bsb1_fixed_point_closed_form",
    "gradient_explosion_rate_closed_form",
    "bsb1_fixed_point",
    "gradient_explosion_rate",
    "V_bn",
    "forward_recursion",
    "backward_map_monte_carlo",
    "backward_operator_monte_carlo",
    "simulate_gradient_growth",
    "forward_jacobian_eigenvalues",
    "forward_eigenvalues_closed_form",
    "forward_eigenvalues_sphere",
    "forward_eigenvalues",
    "forward_eigenvalue_limits",
    "symmetry_breaking_alpha",
    "gradient_explosion_rate_eps",
]

c_ = sp.Symbol("c", real=True)


# ---------------------------------------------------------------------------
# the BN map and its Jacobian


def bn_map(h, axis=-1):
    r"""NumPy BN map :math:`\sqrt B\,Gh/\|Gh\|` along ``axis`` (the batch axis).

    >>> y = bn_map(np.array([1.0, 2.0, 4.0, 5.0]))
    >>> round(float(y.sum()), 12), round(float((y**2).sum()), 12)
    (0.0, 4.0)
    """
    h = np.asarray(h, dtype=float)
    B = h.shape[axis]
    g = h - h.mean(axis=axis, keepdims=True)
    return np.sqrt(B) * g / np.linalg.norm(g, axis=axis, keepdims=True)


def bn_map_symbolic(B):
    """The BN map as a SymPy column vector in symbols ``h1..hB``.

    >>> y, h = bn_map_symbolic(2)
    >>> sp.simplify(y[0].subs({h[0]: 3, h[1]: 1}))
    1
    """
    B = int(B)
    h = sp.Matrix(sp.symbols(f"h1:{B + 1}", real=True))
    g = h - sp.ones(B, 1) * (sum(h) / B)
    r = sp.sqrt(sum(gi ** 2 for gi in g))
    return sp.sqrt(B) * g / r, h


def bn_jacobian(B):
    r"""The Jacobian :math:`\partial\mathcal N(h)/\partial h` derived by SymPy differentiation.

    Returns ``(J, h)``; :func:`bn_jacobian_formula` is its closed form
    :math:`\frac{\sqrt B}{\|Gh\|}(G - \hat y\hat y^T)` (symmetric, rank
    :math:`B-2`, annihilating :math:`\mathbf 1` and :math:`h`).

    >>> J, h = bn_jacobian(3)
    >>> F = bn_jacobian_formula(3, h)
    >>> pt = {h[0]: 1, h[1]: -2, h[2]: 5}
    >>> sp.simplify((J - F).subs(pt))
    Matrix([
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0]])
    """
    y, h = bn_map_symbolic(B)
    return y.jacobian(h), h


def bn_jacobian_formula(B, h=None):
    r"""Closed form :math:`\frac{\sqrt B}{\|Gh\|}(G - \hat y\hat y^T)` as a SymPy matrix."""
    B = int(B)
    if h is None:
        h = sp.Matrix(sp.symbols(f"h1:{B + 1}", real=True))
    G = _laplace.centering(B)
    g = G * h
    r = sp.sqrt(sum(gi ** 2 for gi in g))
    yh = g / r
    return sp.sqrt(B) / r * (G - yh * yh.T)


# ---------------------------------------------------------------------------
# kernels of the homogeneous family (interface to the kernel engine)


def rho_kernel(alpha, c=c_):
    r""":math:`\mathbb E[\rho_\alpha(u)\rho_\alpha(v)]`, unit variances, correlation ``c``, :math:`\alpha > -1/2`.

    Mehler series summed into :math:`{}_2F_1`'s (even and odd parts):
    :math:`\frac{2^\alpha}{4\pi}\big[\Gamma(\tfrac{\alpha+1}2)^2F(-\tfrac\alpha2,-\tfrac\alpha2;\tfrac12;c^2)
    + 2c\,\Gamma(\tfrac\alpha2+1)^2F(\tfrac{1-\alpha}2,\tfrac{1-\alpha}2;\tfrac32;c^2)\big]`.
    This is the interface point for the kernel engine (``symbolic_mf.kernels``,
    issue 3); it is checked against quadrature in tests/test_batchnorm.py.

    >>> sp.simplify(sp.hyperexpand(rho_kernel(1, sp.Integer(0))))
    1/(2*pi)
    """
    a = sp.sympify(alpha)
    h = sp.S.Half
    return 2 ** a / (4 * sp.pi) * (
        sp.gamma((a + 1) / 2) ** 2 * sp.hyper([-a / 2, -a / 2], [h], c ** 2)
        + 2 * c * sp.gamma(a / 2 + 1) ** 2 * sp.hyper([(1 - a) / 2, (1 - a) / 2], [3 * h], c ** 2)
    )


def _family(phi):
    phi = get_activation(phi)
    if not isinstance(phi, HomogeneousActivation):
        return None
    return phi.alpha, phi.a, phi.b


def homogeneous_kernel(phi, c=c_):
    r""":math:`K_\phi(c)` for :math:`\phi = a\rho_\alpha(x) - b\rho_\alpha(-x)`: :math:`(a^2+b^2)k_\alpha(c) - 2ab\,k_\alpha(-c)`.

    >>> from symbolic_mf.activations import identity
    >>> sp.simplify(sp.hyperexpand(homogeneous_kernel(identity())))
    c
    """
    alpha, a, b = _family(phi)
    return (a ** 2 + b ** 2) * rho_kernel(alpha, c) - 2 * a * b * rho_kernel(alpha, -c)


def homogeneous_derivative_kernel(phi, c=c_):
    r""":math:`K_{\phi'}(c)`, :math:`\phi' = \alpha(a\rho_{\alpha-1}(x) + b\rho_{\alpha-1}(-x))`."""
    alpha, a, b = _family(phi)
    return alpha ** 2 * ((a ** 2 + b ** 2) * rho_kernel(alpha - 1, c) + 2 * a * b * rho_kernel(alpha - 1, -c))


def chi_moment(k, n):
    r""":math:`\mathbb E\|g\|^{k}` for :math:`g\sim\mathcal N(0, I_n)`: :math:`2^{k/2}\Gamma(\tfrac{n+k}2)/\Gamma(\tfrac n2)`."""
    k, n = sp.sympify(k), sp.sympify(n)
    return 2 ** (k / 2) * sp.gamma((n + k) / 2) / sp.gamma(n / 2)


def bsb1_fixed_point_closed_form(phi, B) -> Tuple[sp.Expr, sp.Expr]:
    r"""``(q*, c*)`` for homogeneous :math:`\phi` (``B`` may be a Symbol).

    Derivation: at a BSB1 point the BN output is :math:`\sqrt n\,\phi(t_i)`
    with :math:`t` on the sphere; for homogeneous :math:`\phi`,
    :math:`\mathbb E[F(g)] = \mathbb E\|g\|^{2\alpha}\,\mathbb E[F(g/\|g\|)]`
    (radius and direction of a Gaussian are independent), which is the
    Laplace engine's Beta function (:func:`~symbolic_mf.engines.laplace.bsb1_s_integral`).

    >>> from symbolic_mf.activations import relu
    >>> q, c = bsb1_fixed_point_closed_form(relu(), 4)
    >>> q
    1/2
    >>> sp.nsimplify(sp.simplify(sp.hyperexpand(c)) - (sp.sqrt(8) / 3 + sp.pi / 2 * (-sp.Rational(1, 3)) + (-sp.Rational(1, 3)) * sp.asin(-sp.Rational(1, 3))) / sp.pi)
    0
    """
    alpha, a, b = _family(phi)
    B = sp.sympify(B)
    n = B - 1
    M = chi_moment(2 * alpha, n)
    K = lambda cc: homogeneous_kernel(phi, cc)
    q = sp.simplify(sp.hyperexpand(n ** alpha * K(sp.Integer(1)) / M))
    qc = n ** alpha * K(-1 / n) / M
    return q, qc / q


def gradient_explosion_rate_closed_form(phi, B) -> sp.Expr:
    r""":math:`\lambda_G(B)` for homogeneous :math:`\phi` of degree :math:`\alpha > 1/2` (see module docstring).

    >>> from symbolic_mf.activations import identity
    >>> Bs = sp.Symbol("B", integer=True, positive=True)
    >>> sp.factor(sp.hyperexpand(gradient_explosion_rate_closed_form(identity(), Bs)))
    (B - 2)/(B - 3)
    """
    alpha, a, b = _family(phi)
    if alpha.is_number and not alpha > sp.S.Half:
        raise DomainError("alpha", alpha, "alpha > 1/2 (E[phi'(z)^2] diverges otherwise)")
    B = sp.sympify(B)
    n = B - 1
    r = -1 / n
    K = lambda cc: homogeneous_kernel(phi, cc)
    Kd = lambda cc: homogeneous_derivative_kernel(phi, cc)
    one = sp.Integer(1)
    return ((n * Kd(one) + Kd(r)) * (n + 2 * alpha - 2) / (n * (K(one) - K(r))) - alpha ** 2) / (n - 2)


# ---------------------------------------------------------------------------
# numeric evaluation for any phi


def _mp_callable(expr) -> Callable:
    f = sp.lambdify(X, expr, modules=[MPMATH_FUNCTIONS, "mpmath"])
    return lambda y: mp.mpf(f(y)) if not isinstance(f(y), mp.mpc) else f(y)


def _sphere_moments(phi: Activation, B):
    """The six sphere expectations behind q*, c*, lambda_G (general phi, spherical engine)."""
    n = B - 1
    f = _mp_callable(phi.expr)
    d = _mp_callable(sp.diff(phi.expr, X))
    q = _sph.expect_one(lambda y: f(y) ** 2, B)
    qc = _sph.expect_two(lambda a, b: f(a) * f(b), B)
    return q, qc, f, d, n


def _numeric_homogeneous(expr, dps):
    with mp.workdps(dps + 10):
        val = sp.N(sp.hyperexpand(expr) if expr.has(sp.hyper) else expr, dps + 10)
        return mp.mpf(str(val)) if val.is_real or val.is_number else mp.mpf(val)


def bsb1_fixed_point(phi, B, dps: int = 30):
    r"""The BSB1 fixed point ``(q*, c*)`` of :math:`\Sigma\mapsto V_{B\phi}(\Sigma)` (mpf at ``dps`` digits).

    Homogeneous :math:`\phi`: the closed form (Laplace engine, Beta function);
    otherwise the spherical engine (1-D and 2-D integrals over :math:`S^{B-2}`).

    >>> from symbolic_mf.activations import tanh
    >>> q, c = bsb1_fixed_point(tanh(), 5, dps=15)
    >>> print(mp.nstr(q, 10), mp.nstr(c, 10))
    0.4410290813 -0.2355710571
    """
    phi = get_activation(phi)
    B = _sph.check_batch_size(B, 3, "the sphere S^{B-2} needs B >= 3") if not isinstance(phi, HomogeneousActivation) \
        else _sph.check_batch_size(B, 2, "BN needs B >= 2")
    if isinstance(phi, HomogeneousActivation) and phi.alpha.is_number and not phi.parameters:
        q, c = bsb1_fixed_point_closed_form(phi, B)
        with mp.workdps(dps):
            return +_numeric_homogeneous(q, dps), +_numeric_homogeneous(c, dps)
    B = _sph.check_batch_size(B, 4, "two coordinates with a radial density need B >= 4")
    with mp.workdps(dps + 5):
        q, qc, *_ = _sphere_moments(phi, B)
        res = q, qc / q
    with mp.workdps(dps):
        return +res[0], +res[1]


def gradient_explosion_rate(phi, B, dps: int = 30):
    r""":math:`\lambda_G(B, \phi)`: per-layer growth of the squared gradient norm at the BSB1 fixed point.

    ``B`` must be an integer ``>= 4`` (:class:`DomainError` otherwise).

    >>> from symbolic_mf.activations import relu
    >>> print(mp.nstr(gradient_explosion_rate(relu(), 10**4, dps=20), 12))  # decreases to pi/(pi-1) = 1.46694220692...
    1.46710139553
    """
    phi = get_activation(phi)
    B = _sph.check_batch_size(B)
    if isinstance(phi, HomogeneousActivation) and phi.alpha.is_number and not phi.parameters:
        return _numeric_homogeneous(gradient_explosion_rate_closed_form(phi, B), dps)
    with mp.workdps(dps + 5):
        q, qc, f, d, n = _sphere_moments(phi, B)
        mu = q - qc
        Ed2 = _sph.expect_one(lambda y: d(y) ** 2, B)
        Ed2t2 = _sph.expect_one(lambda y: d(y) ** 2 * y * y, B) / n
        Ed1d2 = _sph.expect_two(lambda a, b: d(a) * d(b), B)
        Ee1e2 = _sph.expect_two(lambda a, b: d(a) * d(b) * a * b, B) / n
        lam = (n * Ed2 + Ed1d2 - n * Ed2t2 + n * Ee1e2) / ((n - 2) * mu)
    with mp.workdps(dps):
        return +lam


# ---------------------------------------------------------------------------
# forward and backward recursions


def V_bn(phi, Sigma, dps: int = 20):
    r""":math:`V_{B\phi}(\Sigma)` (mpmath matrix): Laplace engine for homogeneous :math:`\phi` of degree > 0.

    >>> from symbolic_mf.activations import relu
    >>> V = V_bn(relu(), sp.eye(4), dps=15)
    >>> print(mp.nstr(V[0, 0], 10), mp.nstr(V[0, 1], 10))
    0.5 0.08474829402
    """
    phi = get_activation(phi)
    fam = _family(phi)
    if fam is None or not fam[0].is_number or not fam[0] > 0:
        raise DomainError("phi", phi, "a homogeneous activation of degree alpha > 0 (Laplace engine); "
                          "use bsb1_fixed_point for general phi at BSB1 points")
    Kexpr = homogeneous_kernel(phi)
    Kexpr = sp.hyperexpand(Kexpr)
    with mp.workdps(dps):
        k = sp.lambdify(c_, Kexpr, modules=[MPMATH_FUNCTIONS, "mpmath"])
        return _laplace.V_bn_laplace(mp.mpf(fam[0]), lambda cc: mp.re(k(max(min(cc, mp.one), -mp.one))), Sigma)


def forward_recursion(phi, Sigma0, depth: int, sigma_w2=1, dps: int = 15):
    r"""List :math:`[\Sigma^0, \Sigma^1, \ldots]` of :math:`\Sigma^l = \sigma_w^2V_{B\phi}(\Sigma^{l-1})` (homogeneous phi).

    >>> from symbolic_mf.activations import relu
    >>> S = forward_recursion(relu(), sp.diag(1, 2, 3, 4), 6)
    >>> print(mp.nstr(S[-1][0, 0], 4), mp.nstr(S[-1][0, 1], 4))   # -> BSB1 (1/2, 0.08475), halving the gap per layer
    0.4946 0.08518
    """
    out = [mp.matrix(sp.Matrix(Sigma0).tolist())]
    for _ in range(depth):
        out.append(sigma_w2 * V_bn(phi, out[-1], dps))
    return out


def _np_funcs(phi):
    phi = get_activation(phi)
    mods = [{"rho": lambda a, y: np.where(y > 0, np.abs(y) ** a, 0.0 if a > 0 else 0.0)}, "numpy"]
    f = sp.lambdify(X, phi.expr, modules=mods)
    d = sp.lambdify(X, sp.diff(phi.expr, X), modules=mods)
    return (lambda y: f(y) + 0 * y), (lambda y: d(y) + 0 * y)


def backward_map_monte_carlo(phi, B, Pi, samples: int = 200000, seed: int = 0):
    r"""Monte Carlo of :math:`\Pi\mapsto\frac{B}{\mu^*(B-3)}\mathbb E[Q D\Pi DQ]`, :math:`Q = G - \hat y\hat y^T`.

    The radius :math:`\|Gh\|` is integrated exactly (:math:`\mathbb E[1/r^2] = 1/(\mu^*(B-3))`),
    the direction by sampling.  Returns a NumPy array.

    >>> from symbolic_mf.activations import identity
    >>> G = np.eye(5) - 1 / 5
    >>> T = backward_map_monte_carlo(identity(), 5, G, samples=1000)
    >>> bool(np.allclose(T, 1.5 * G, atol=0.03))     # (B-2)/(B-3) for linear phi
    True
    """
    B = _sph.check_batch_size(B)
    phi = get_activation(phi)
    f, d = _np_funcs(phi)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((samples, B))
    g -= g.mean(1, keepdims=True)
    yh = g / np.linalg.norm(g, axis=1, keepdims=True)
    y = np.sqrt(B) * yh
    q, c = bsb1_fixed_point(phi, B, dps=15)
    mu = float(q * (1 - c))
    G = np.eye(B) - 1.0 / B
    D = d(y)
    M = D[:, :, None] * np.asarray(Pi, float)[None] * D[:, None, :]
    Q = G[None] - yh[:, :, None] * yh[:, None, :]
    return B / (mu * (B - 3)) * np.einsum("sij,sjk,skl->il", Q, M, Q) / samples


def backward_operator_monte_carlo(phi, B, samples: int = 20000, seed: int = 0):
    r"""The backward map as a matrix on symmetric matrices supported on :math:`\mathbf 1^\perp` (Monte Carlo in the direction).

    Returns ``(eigenvalues, eigenvectors_as_BxB_matrices)`` sorted by decreasing
    real part; one set of samples is shared by every basis element, so the
    matrix is that of one linear operator.  The top eigenvector is
    :math:`\propto G` with eigenvalue :math:`\lambda_G` (checked in tests).
    """
    B = _sph.check_batch_size(B)
    phi = get_activation(phi)
    f, d = _np_funcs(phi)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((samples, B))
    g -= g.mean(1, keepdims=True)
    yh = g / np.linalg.norm(g, axis=1, keepdims=True)
    D = d(np.sqrt(B) * yh)
    q, c = bsb1_fixed_point(phi, B, dps=15)
    mu = float(q * (1 - c))
    G = np.eye(B) - 1.0 / B
    Q = G[None] - yh[:, :, None] * yh[:, None, :]
    QD = Q * D[:, None, :]                       # Q_ij D_j
    K = np.einsum("sij,slk->iljk", QD, QD) * (B / (mu * (B - 3)) / samples)   # T(E)_il = K_iljk E_jk
    U = np.linalg.svd(G)[0][:, : B - 1]
    basis = []
    for i in range(B - 1):
        for j in range(i, B - 1):
            E = np.zeros((B - 1, B - 1))
            E[i, j] = E[j, i] = 1 / np.sqrt(2) if i != j else 1.0
            basis.append(U @ E @ U.T)
    M = np.array([[np.sum(Bi * np.einsum("iljk,jk->il", K, Bj)) for Bj in basis] for Bi in basis])
    w, v = np.linalg.eig(M)
    order = np.argsort(-w.real)
    vecs = [sum(v[a, o].real * basis[a] for a in range(len(basis))) for o in order]
    return w.real[order], vecs


def simulate_gradient_growth(phi, B: int, width: int = 1000, depth: int = 50, seed: int = 0,
                             sigma_w: float = 1.0, skip: int = 10, eps: float = 0.0):
    r"""Finite-width experiment: deep BN network, exact BN backprop; per-layer squared-gradient growth.

    Forward :math:`h^l = x^{l-1}W^l`, :math:`x^l = \phi(\mathcal N(h^l))` per neuron;
    backward from a Gaussian :math:`\partial L/\partial x^L`, through the
    exact BN Jacobian.  Returns ``(rate, norms)``: the geometric-mean ratio
    :math:`\|\delta h^{l-1}\|^2/\|\delta h^l\|^2` over layers away from both
    ends (``skip`` at each), and the list of :math:`\|\delta h^l\|^2`.
    ``eps > 0`` uses :math:`\sqrt B\,Gh/\sqrt{\|Gh\|^2 + B\epsilon}` (variance + eps),
    whose Jacobian :math:`\frac{\sqrt B}{\rho}(G - gg^T/\rho^2)` has the same form in :math:`\hat y = g/\rho`.

    >>> from symbolic_mf.activations import identity
    >>> rate, _ = simulate_gradient_growth(identity(), 6, width=200, depth=20, skip=5)
    >>> abs(rate - 4 / 3) < 0.05
    True
    """
    B = _sph.check_batch_size(B)
    f, d = _np_funcs(phi)
    rng = np.random.default_rng(seed)
    N = width
    x = rng.standard_normal((B, N))
    Ws, cache = [], []
    for _ in range(depth):
        W = rng.standard_normal((N, N)) * (sigma_w / np.sqrt(N))
        h = x @ W
        g = h - h.mean(0, keepdims=True)
        r = np.sqrt((g ** 2).sum(0, keepdims=True) + B * eps)     # BN with eps: sqrt(B) g / sqrt(|g|^2 + B eps)
        yh = g / r
        y = np.sqrt(B) * yh
        x = f(y)
        Ws.append(W)
        cache.append((yh, r, d(y)))
    delta = rng.standard_normal((B, N))   # dL/dx^L
    norms = []
    for l in reversed(range(depth)):
        yh, r, D = cache[l]
        v = delta * D
        # J^T v per neuron (column): sqrt(B)/r (G v - yh (yh . v)); G v = v - mean(v)
        Gv = v - v.mean(0, keepdims=True)
        dh = np.sqrt(B) / r * (Gv - yh * (yh * v).sum(0, keepdims=True))   # yh = g/r: exact for eps >= 0 too
        norms.append(float((dh ** 2).sum()))
        delta = dh @ Ws[l].T
    norms = norms[::-1]  # norms[l] = ||dh^l||^2, l = 0..depth-1
    seg = np.log(norms[skip:depth - skip])
    rate = float(np.exp(-(seg[-1] - seg[0]) / (len(seg) - 1)))
    return rate, norms


def forward_jacobian_eigenvalues(phi, B: int, dps: int = 20, step=None):
    r"""Eigenvalues (with multiplicities) of the forward map's Jacobian :math:`dV_{B\phi}` at the BSB1 fixed point.

    Central finite differences of the Laplace engine (homogeneous :math:`\phi`
    of degree > 0) in every symmetric direction :math:`E_{ij}`, at ``dps + 10``
    working digits with step :math:`10^{-(dps+10)/2}`, so about ``dps/2``
    digits are correct.  Eigenvalues are grouped when they agree to
    ``dps/3`` digits; returns a list of ``(eigenvalue, multiplicity)``,
    largest modulus first.  Scale invariance makes :math:`\Sigma^*` and
    :math:`\mathbf 1\mathbf 1^T`-directions eigenvalue 0; the non-zero
    groups have the multiplicities of the :math:`S_B` irreducibles in the
    symmetric matrices on :math:`\mathbf 1^\perp`: 1, :math:`B-1` and
    :math:`B(B-3)/2`.

    This is the slow independent check; the eigenvalues in closed form are
    :func:`forward_eigenvalues` / :func:`forward_eigenvalues_closed_form`.
    Slow (about a minute for B = 4 at dps = 12: 2 B(B+1)/2 Laplace evaluations
    at dps + 10 digits); measured values are in docs/derivations/batchnorm.md.

    >>> from symbolic_mf.activations import identity
    >>> ev = forward_jacobian_eigenvalues(identity(), 4, dps=12)   # doctest: +SKIP
    >>> [(mp.nstr(v, 5), m) for v, m in ev if abs(v) > 1e-5]       # doctest: +SKIP
    [('0.6', 5)]
    """
    B = _sph.check_batch_size(B)
    q, c = bsb1_fixed_point(phi, B, dps=dps + 10)
    with mp.workdps(dps + 10):
        # V depends on Sigma only through G Sigma G: add 11^T so that every perturbation stays PSD
        S0 = q * ((1 - c) * mp.eye(B) + c * mp.ones(B, B)) + mp.ones(B, B)
        h = step if step is not None else mp.mpf(10) ** (-(dps + 10) // 2)
        idx = [(i, j) for i in range(B) for j in range(i, B)]
        cols = []
        for (i, j) in idx:
            E = mp.zeros(B, B)
            E[i, j] = E[j, i] = 1
            Vp = V_bn(phi, S0 + h * E, dps + 10)
            Vm = V_bn(phi, S0 - h * E, dps + 10)
            D = (Vp - Vm) / (2 * h)
            cols.append([D[a, b] for (a, b) in idx])
        # matrix of dV in the coordinates Sigma_ab (a <= b): column k = dV(E_k)
        M = mp.matrix(len(idx), len(idx))
        for k, col in enumerate(cols):
            for r, v in enumerate(col):
                M[r, k] = v
        ev = mp.eig(M, left=False, right=False)
    ev = sorted((mp.re(e) for e in ev), key=lambda e: -abs(e))
    tol = mp.mpf(10) ** (-(dps // 3))
    groups = []
    for e in ev:
        for g in groups:
            if abs(g[0] - e) <= tol * max(1, abs(e)):
                g[1] += 1
                break
        else:
            groups.append([e, 1])
    with mp.workdps(dps):
        return [(+g[0], g[1]) for g in groups]


# ---------------------------------------------------------------------------
# forward Jacobian at the BSB1 fixed point: closed form (Laplace) and sphere route


@functools.lru_cache(maxsize=None)
def _s_integral(power):
    r"""SymPy-derived :math:`\int_0^\infty s^{\alpha-1+k}\mu^{\alpha+k}(1+2s\mu)^{-(B-1)/2-\alpha-1}ds` as a function of ``alpha``.

    ``power = k`` (0 or 1).  The substitution :math:`w = 2s\mu` leaves
    :math:`2^{-\alpha-k}\int_0^\infty w^{\alpha+k-1}(1+w)^{-(B-1)/2-\alpha-1}dw`,
    which SymPy's ``integrate`` turns into Gamma functions.
    """
    a = sp.Symbol("alpha", positive=True)
    n = sp.Symbol("n", positive=True)
    w = sp.Symbol("w", positive=True)
    val = 2 ** (-a - power) * sp.integrate(w ** (a + power - 1) * (1 + w) ** (-n / 2 - a - 1), (w, 0, sp.oo),
                                           conds="none")
    return sp.Lambda((a, n), sp.gammasimp(val))


def _gsimp(e):
    """Combine Gamma ratios (Gamma(z+1) = z Gamma(z)) and simplify."""
    return sp.simplify(sp.gammasimp(sp.expand_func(sp.gammasimp(e))))


@functools.lru_cache(maxsize=None)
def _local_derivative(alpha, B):
    r"""Derivative of :math:`V_\phi` (unit-variance kernel ``K``) at :math:`\Sigma = G`, derived by SymPy.

    Returns ``(d_diag, d_cross, d_off, K)``: for a symmetric perturbation
    :math:`\Delta`, :math:`dV_\phi(\Delta)_{ii} = d_{diag}\Delta_{ii}` and
    :math:`dV_\phi(\Delta)_{ij} = d_{cross}(\Delta_{ii}+\Delta_{jj}) + d_{off}\Delta_{ij}`
    (:math:`i\ne j`), with :math:`K` an undefined function (so the result
    holds for any :math:`\phi` of degree :math:`\alpha`).
    """
    K = sp.Function("K")
    S11, S22 = sp.symbols("S11 S22", positive=True)
    S12 = sp.Symbol("S12", real=True)
    off = (S11 * S22) ** (alpha / 2) * K(S12 / sp.sqrt(S11 * S22))
    diag = S11 ** alpha * K(sp.Integer(1))
    g, r = (B - 1) / B, -1 / B                       # G_ii, G_ij
    at = {S11: g, S22: g, S12: r}
    d_off = sp.diff(off, S12).subs(at).doit()
    d_cross = sp.diff(off, S11).subs(at).doit()
    d_diag = sp.diff(diag, S11).subs(at).doit()
    return sp.simplify(d_diag), sp.simplify(d_cross), sp.simplify(d_off), K


def forward_eigenvalues_closed_form(phi, B):
    r"""Eigenvalues of the forward Jacobian :math:`dV_{B\phi}` at the BSB1 fixed point, homogeneous :math:`\phi`.

    Returns a dict of SymPy expressions (``B`` may be a Symbol):
    ``lambda_L`` (multiplicity :math:`B-1`), ``lambda_M`` (multiplicity
    :math:`B(B-3)/2`) and ``lambda_trace`` (the direction :math:`G`, which
    the derivation reduces to 0: BN is scale invariant).

    Derivation (every step done by SymPy here): perturb
    :math:`\Sigma = \Sigma^* + \epsilon\Delta` with :math:`\Delta\mathbf 1 = 0`.
    In the Laplace integrand :math:`X = \Sigma G = \mu G + \epsilon\Delta`
    commutes with :math:`G`, so :math:`G(I+2sX)^{-1}\Sigma G = \mu\tau G +
    \epsilon\tau^2\Delta + O(\epsilon^2)`, :math:`\tau = 1/(1+2s\mu)`, and
    :math:`\det(I+2sX)^{-1/2}` changes by :math:`-s\tau\,\mathrm{tr}\Delta`.
    Homogeneity of :math:`V_\phi` puts the whole :math:`s`-dependence into
    Beta integrals (:func:`_s_integral`), leaving the derivative of
    :math:`V_\phi` at :math:`G` (:func:`_local_derivative`, in terms of
    :math:`K_\phi` and :math:`K_\phi' = K_{\phi'}`).  Representatives:
    :math:`\Delta_L = G\,\mathrm{diag}(1,-1,0,\ldots)G` and
    :math:`\Delta_M = \mathrm{sym}((e_1-e_3)(e_2-e_4)^T)`; the eigenvalue is
    read off :math:`G\,dV(\Delta)G = \lambda\Delta` with index-class sums
    (entries with indices :math:`\ge 3` are all equal), valid for symbolic
    :math:`B`.  Result, :math:`n = B-1`, :math:`\rho = -1/n`:

    .. math::

       \lambda_M = \frac{B\,K_\phi'(\rho)}{(n+2\alpha)(K_\phi(1)-K_\phi(\rho))},\qquad
       \lambda_L = \frac{(n-1)\alpha}{n+2\alpha} + \frac{\lambda_M}{n}.

    >>> from symbolic_mf.activations import identity
    >>> Bs = sp.Symbol("B", integer=True, positive=True)
    >>> ev = forward_eigenvalues_closed_form(identity(), Bs)
    >>> [sp.factor(sp.hyperexpand(ev[k])) for k in ("lambda_L", "lambda_M", "lambda_trace")]
    [(B - 1)/(B + 1), (B - 1)/(B + 1), 0]
    """
    alpha, a, b = _family(phi)
    if alpha.is_number and not alpha > 0:
        raise DomainError("alpha", alpha, "alpha > 0 (the Laplace s-integral needs a positive degree)")
    B = sp.sympify(B)
    n = B - 1
    rho = -1 / n
    d_diag, d_cross, d_off, K = _local_derivative(alpha, B)
    cv = sp.Symbol("c_", real=True)
    Kphi = sp.Lambda(cv, homogeneous_kernel(phi, cv))
    Kd = sp.Lambda(cv, homogeneous_derivative_kernel(phi, cv))

    def concrete(e):
        e = e.replace(lambda u: isinstance(u, sp.Subs), lambda u: Kd(u.point[0]))
        e = e.replace(lambda u: isinstance(u, sp.Derivative) and u.expr.func == K, lambda u: Kd(u.variables[0]))
        return e.replace(K, Kphi)

    def W(D):
        """dV_phi(Delta) entry function for a perturbation given as a dict of entries."""
        return lambda i, j: (d_diag * D(i, i) if i == j else d_cross * (D(i, i) + D(j, j)) + d_off * D(i, j))

    def proj11(Wf, cls):
        # (G W G)_{11} with index classes: `cls` lists representative indices and their counts
        row1 = sum(m * Wf(1, k) for k, m in cls)
        tot = sum(m1 * m2 * Wf(i, k) for i, m1 in cls for k, m2 in cls)
        return Wf(1, 1) - 2 * row1 / B + tot / B ** 2

    # L: Delta = G diag(1, -1, 0, ...) G
    def DL(i, j):
        dvec = {1: 1, 2: -1}
        di, dj = dvec.get(i, 0), dvec.get(j, 0)
        return (di if i == j else 0) - (di + dj) / B
    clsL = [(1, 1), (2, 1), (3, B - 2)]
    lamL_local = proj11(W(DL), clsL) / DL(1, 1)
    # M: Delta = sym((e1 - e3)(e2 - e4)^T); (G W G)_{12} = W_12 since W = d_off * Delta has zero row sums
    u = {1: 1, 3: -1}
    v = {2: 1, 4: -1}
    DM = lambda i, j: u.get(i, 0) * v.get(j, 0) + v.get(i, 0) * u.get(j, 0)
    lamM_local = W(DM)(1, 2) / DM(1, 2)
    # trace: Delta = G; both the V_phi derivative and the determinant term
    DG = lambda i, j: (n / B if i == j else -1 / B)
    Wt = W(DG)
    I0 = _s_integral(0)(alpha, n)          # ∫ s^(a-1) mu^a tau^(n/2+a+1) ds
    I1 = _s_integral(1)(alpha, n)          # ∫ s^a mu^(a+1) tau^(n/2+a+1) ds
    # mu* = n^alpha (K(1) - K(rho)) / M_{2 alpha}  (bsb1_fixed_point_closed_form); the Gamma ratios combine first
    M2a = chi_moment(2 * alpha, n)
    ratio = _gsimp(B ** alpha / sp.gamma(alpha) * I0 * M2a / n ** alpha)
    dK = Kphi(1) - Kphi(rho)
    lam_M = concrete(ratio * lamM_local / dK)
    lam_L = concrete(ratio * lamL_local / dK)
    # trace direction, entry (1,2): tau-derivative of V_phi minus the determinant term (tr G = n)
    V12 = K(rho) * (n / B) ** alpha
    ratio1 = _gsimp(B ** alpha / sp.gamma(alpha) * I1 * M2a / n ** alpha)
    lam_T = concrete(_gsimp(sp.expand(ratio * Wt(1, 2) - n * ratio1 * V12)) / dK)
    return {"lambda_L": lam_L, "lambda_M": lam_M, "lambda_trace": lam_T,
            "multiplicities": {"lambda_L": B - 1, "lambda_M": B * (B - 3) / 2, "lambda_trace": 1}}


def forward_eigenvalues_sphere(phi, B, dps: int = 30):
    r""":math:`\lambda_L, \lambda_M` for any :math:`\phi` by the spherical engine (independent of the Laplace route).

    Route: for :math:`\Delta\mathbf 1 = 0`, :math:`\mathrm{tr}\Delta = 0`,
    the Gaussian score function gives
    :math:`dV(\Delta) = \frac{n}{2\mu^*}\mathbb E_x[(\hat y^T\Delta\hat y)\,\phi(\sqrt n t)\phi(\sqrt n t)^T]`
    with :math:`\hat y` uniform on the unit sphere of :math:`\mathbf 1^\perp`
    (:math:`\|Gh\|^2/\mu^*\sim\chi^2_n` independent of :math:`\hat y`,
    :math:`\mathbb E\chi^2_n = n`).  With the representatives of
    :func:`forward_eigenvalues_closed_form`,
    :math:`\lambda_M = dV(\Delta_M)_{12}` and
    :math:`\lambda_L = \langle\Delta_L, dV(\Delta_L)\rangle/\|\Delta_L\|^2 = W_{11} - 2W_{13}`;
    coordinates other than the two inside :math:`\phi\phi` enter through
    their conditional moments given the projection :math:`p` on the plane of
    the two (uniform sphere: :math:`\mathbb E[x|p] = p`,
    :math:`\mathrm{Cov}[x|p] = (1-|p|^2)/(n-k)` on the complement), so
    everything is a one- or two-coordinate sphere integral
    (:func:`~symbolic_mf.engines.spherical.expect_two`; one angular integral
    per homogeneous piece when :math:`\phi` is homogeneous).

    Returns ``{"lambda_L": mpf, "lambda_M": mpf}`` at ``dps`` digits.

    >>> from symbolic_mf.activations import identity
    >>> ev = forward_eigenvalues_sphere(identity(), 6, dps=15)
    >>> print(mp.nstr(ev["lambda_L"], 12), mp.nstr(ev["lambda_M"], 12))   # (B-1)/(B+1)
    0.714285714286 0.714285714286
    """
    phi = get_activation(phi)
    B = _sph.check_batch_size(B, 5, "Delta_M needs four batch members and the plane complement n - 2 > 0")
    fam = _family(phi)
    hom = fam is not None and fam[0].is_number and not phi.parameters
    with mp.workdps(dps + 10):
        n = mp.mpf(B - 1)
        rho = -1 / n
        if hom:
            deg, ah, bh = (mp.mpf(sp.N(v, mp.dps)) for v in fam)
            f = lambda y: ah * y ** deg if y > 0 else (-bh * (-y) ** deg if y < 0 else mp.zero)
        else:
            f = _mp_callable(phi.expr)
        gam = mp.acos(rho)
        angles = sorted({mp.mpf(0), 2 * mp.pi} | {v % (2 * mp.pi) for v in
                                                 (mp.pi / 2, 3 * mp.pi / 2, gam + mp.pi / 2, gam + 3 * mp.pi / 2)})

        def E2(poly2, const):
            """E[(poly2(y1, y2) + const) phi(y1) phi(y2)]; poly2 homogeneous of degree 2 in y = sqrt(n) t."""
            if hom:
                # radius factors out of each homogeneous piece (expect_two_homogeneous), one angular integral
                w2 = n ** (deg + 1) * _sph.radial_moment(2 * deg + 2, B)
                w0 = n ** deg * _sph.radial_moment(2 * deg, B)

                def ang(th):
                    c1, c2 = mp.cos(th), mp.cos(th - gam)
                    ff = f(c1) * f(c2)
                    return (w2 * poly2(c1, c2) + w0 * const) * ff if ff else ff
                return mp.quad(ang, angles) / (2 * mp.pi)
            return _sph.expect_two(lambda u, v: (poly2(u, v) + const) * f(u) * f(v), B)

        q = _sph.expect_one(lambda y: f(y) ** 2, B)
        qc = E2(lambda u, v: 0, 1)
        mu = q - qc
        # |p|^2 in the plane of u1, u2 (u1.u2 = rho), in y = sqrt(n) t units: n |p|^2
        p2 = lambda u, v: (u * u - 2 * rho * u * v + v * v) / (1 - rho * rho)
        # M: n E[(t1 - t3)(t2 - t4) | p] = y1 y2 + (y1+y2)^2 n/(n-1)^2 + (n - n|p|^2) rho(1-rho)/((n-2)(1+rho))
        kM = rho * (1 - rho) / ((n - 2) * (1 + rho))
        EM = E2(lambda u, v: u * v + (u + v) ** 2 * n / (n - 1) ** 2 - kM * p2(u, v), kM * n)
        lam_M = n / (mu * B) * EM
        # L: W11 = n/(2 mu B) E[(y1^2 - n E[t2^2|t1]) phi(y1)^2], E[t2^2|t1] = rho^2 t1^2 + (1-t1^2)(1-rho^2)/(n-1)
        c2 = (1 - rho * rho) / (n - 1)
        W11 = n / (2 * mu * B) * _sph.expect_one(lambda y: (y * y - rho * rho * y * y - (n - y * y) * c2) * f(y) ** 2, B)
        # W13: E[t2^2 | t1, t3] = (rho (t1+t3)/(1+rho))^2 + (1-|p|^2)(1 - 2 rho^2/(1+rho))/(n-2)
        k3 = (1 - 2 * rho * rho / (1 + rho)) / (n - 2)
        E13 = E2(lambda u, v: u * u - (rho * (u + v) / (1 + rho)) ** 2 + k3 * p2(u, v), -k3 * n)
        W13 = n / (2 * mu * B) * E13
        lam_L = W11 - 2 * W13
    with mp.workdps(dps):
        return {"lambda_L": +lam_L, "lambda_M": +lam_M}


_Bsym = sp.Symbol("B", integer=True, positive=True)


@functools.lru_cache(maxsize=32)
def _forward_symbolic(alpha, a, b):
    """Closed forms with symbolic B, hyperexpanded, derived once per (alpha, a, b)."""
    ev = forward_eigenvalues_closed_form(HomogeneousActivation(alpha, a, b), _Bsym)
    return {k: sp.hyperexpand(ev[k]) for k in ("lambda_L", "lambda_M", "lambda_trace")}


def forward_eigenvalues(phi, B, dps: int = 30):
    r"""Forward Jacobian eigenvalues at the BSB1 fixed point: ``{"lambda_L", "lambda_M", "lambda_trace", "multiplicities"}``.

    Homogeneous :math:`\phi` of degree > 0: the closed form of
    :func:`forward_eigenvalues_closed_form` (derived once per activation with
    symbolic ``B``, then evaluated; well under a second for ``B`` up to
    :math:`10^4`).  Any other :math:`\phi`: the sphere route
    :func:`forward_eigenvalues_sphere` (two-dimensional quadrature, slower;
    needs ``B >= 5``).  ``lambda_trace`` is 0 for every :math:`\phi` (scale
    invariance of BN); the multiplicities are :math:`B-1` (L) and
    :math:`B(B-3)/2` (M).  BSB1 attracts iff :math:`\max(\lambda_L, \lambda_M) < 1`.

    >>> from symbolic_mf.activations import relu
    >>> ev = forward_eigenvalues(relu(), 10**4, dps=20)
    >>> print(mp.nstr(ev["lambda_L"], 12), mp.nstr(ev["lambda_M"], 12))   # -> 1 and pi/(2(pi-1)) = 0.7334...
    0.999773367059 0.733297280561
    """
    phi = get_activation(phi)
    fam = _family(phi)
    if fam is not None and fam[0].is_number and fam[0] > 0 and not phi.parameters:
        B = _sph.check_batch_size(B, 4, "the L and M subspaces are both non-empty for B >= 4")
        if fam[0].is_Rational:
            sym = _forward_symbolic(*fam)
            with mp.workdps(dps):
                out = {k: _numeric_homogeneous(v.subs(_Bsym, B), dps) for k, v in sym.items()}
                out = {k: +v for k, v in out.items()}
        else:   # a floating-point degree: the closed form with symbolic alpha, evaluated by mpmath
            fL, fM = _forward_alpha_functions(fam[1], fam[2])
            with mp.workdps(dps + 10):
                al = mp.mpf(sp.N(fam[0], dps + 10))
                vals = (mp.re(fL(al, mp.mpf(B))), mp.re(fM(al, mp.mpf(B))))
            with mp.workdps(dps):
                out = {"lambda_L": +vals[0], "lambda_M": +vals[1], "lambda_trace": mp.zero}
    else:
        out = forward_eigenvalues_sphere(phi, B, dps)
        out["lambda_trace"] = mp.zero
    out["multiplicities"] = {"lambda_L": int(B) - 1, "lambda_M": int(B) * (int(B) - 3) // 2, "lambda_trace": 1}
    return out


def forward_eigenvalue_limits(phi):
    r"""Large-batch limits of :math:`\lambda_L` and :math:`\lambda_M` (SymPy ``limit`` of the closed forms).

    For every homogeneous :math:`\phi` of degree :math:`\alpha`,
    :math:`\lambda_L\to\alpha` and
    :math:`\lambda_M\to K_\phi'(0)/(K_\phi(1)-K_\phi(0))`.

    >>> from symbolic_mf.activations import relu
    >>> forward_eigenvalue_limits(relu())
    {'lambda_L': 1, 'lambda_M': pi/(2*(-1 + pi))}
    """
    phi = get_activation(phi)
    fam = _family(phi)
    if fam is None:
        raise DomainError("phi", phi, "a homogeneous activation a rho_alpha(x) - b rho_alpha(-x) with alpha > 0")
    sym = _forward_symbolic(*fam)
    return {k: sp.simplify(sp.limit(sym[k], _Bsym, sp.oo)) for k in ("lambda_L", "lambda_M")}


@functools.lru_cache(maxsize=8)
def _forward_alpha_functions(a, b):
    """mpmath functions (alpha, B) -> lambda_L, lambda_M from the closed form with symbolic alpha and B."""
    al = sp.Symbol("alpha", positive=True)
    ev = forward_eigenvalues_closed_form(HomogeneousActivation(al, a, b), _Bsym)
    return tuple(sp.lambdify((al, _Bsym), ev[k], modules=[MPMATH_FUNCTIONS, "mpmath"]) for k in ("lambda_L", "lambda_M"))


def symmetry_breaking_alpha(B, a=1, b=0, dps: int = 30, bracket=(sp.Rational(1, 2), 64)):
    r"""The degree :math:`\alpha^*` at which BSB1 stops being attracting for :math:`\phi = a\rho_\alpha(x) - b\rho_\alpha(-x)`.

    Solves :math:`\max(\lambda_L(\alpha), \lambda_M(\alpha)) = 1` (closed forms
    with symbolic :math:`\alpha`, mpmath root finder on ``bracket``).  For
    :math:`\alpha > \alpha^*` the forward map pushes the batch away from the
    symmetric fixed point along the L subspace (:math:`\lambda_L > 1`): batch
    symmetry breaking.  Since :math:`\lambda_L\to\alpha`,
    :math:`\alpha^*\to 1` as :math:`B\to\infty` (for :math:`\rho_\alpha`,
    :math:`\lambda_M < 1` there).  ``B = None`` returns that limit.

    For :math:`\rho_\alpha` at :math:`B = 4`, :math:`\lambda_L` rises to 1 only as
    :math:`\alpha\to\infty` and no finite :math:`\alpha^*` exists (:class:`DomainError`).

    >>> print(mp.nstr(symmetry_breaking_alpha(8, dps=15), 10))
    1.619263847
    """
    al = sp.Symbol("alpha", positive=True)
    if B is None:
        lim = forward_eigenvalue_limits(HomogeneousActivation(sp.Integer(1), a, b))
        return sp.Integer(1) if lim["lambda_M"] < 1 else None
    B = _sph.check_batch_size(B, 4, "the L and M subspaces are both non-empty for B >= 4")
    fLB, fMB = _forward_alpha_functions(sp.sympify(a), sp.sympify(b))
    with mp.workdps(dps + 10):
        fL = lambda v: fLB(v, mp.mpf(B))
        fM = lambda v: fMB(v, mp.mpf(B))
        g = lambda v: max(mp.re(fL(v)), mp.re(fM(v))) - 1
        lo = mp.mpf(bracket[0])
        if not g(lo) < 0:
            raise DomainError("bracket", bracket, "a lower end where BSB1 is attracting")
        hi = None
        for h in [mp.mpf(2) ** k * lo for k in range(1, 40) if mp.mpf(2) ** k * lo <= bracket[1]] + [mp.mpf(bracket[1])]:
            if g(h) > 0:
                hi = h
                break
            lo = h
        if hi is None:
            raise DomainError("B", B, "a batch size where BSB1 loses stability for some alpha in the bracket",
                              f"max(lambda_L, lambda_M) < 1 for all alpha in {bracket}; for rho_alpha at B = 4, "
                              "lambda_L increases to (B-2)/2 = 1 as alpha -> oo and never crosses")
        root = mp.findroot(g, (lo, hi), solver="anderson")
        root = mp.findroot(g, (root, root * (1 + mp.mpf(10) ** (-dps // 2))), solver="secant")   # polish
    with mp.workdps(dps):
        return +root



# ---------------------------------------------------------------------------
# eps > 0: BN(h) = sqrt(B) G h / sqrt(|Gh|^2 + B eps) breaks scale invariance


def _chi2_expect(f, n):
    r""":math:`\mathbb E f(u)`, :math:`u\sim\chi^2_n` (mpmath quadrature at ambient precision)."""
    n = mp.mpf(n)
    c = 1 / (2 ** (n / 2) * mp.gamma(n / 2))
    return c * mp.quad(lambda u: f(u) * u ** (n / 2 - 1) * mp.exp(-u / 2), [0, n / 4, n, 4 * n, mp.inf])


def gradient_explosion_rate_eps(phi, B, eps, sigma_w2=1, dps: int = 20):
    r""":math:`\lambda_G` with :math:`\epsilon > 0` for homogeneous :math:`\phi` of degree :math:`\alpha > 1/2`.

    Derivation.  At a BSB1 pre-activation covariance with :math:`G\Sigma G = \mu G`,
    :math:`g = Gh = \sqrt\mu\,r\,\hat y` with :math:`r^2\sim\chi^2_n` independent of the
    uniform direction :math:`\hat y`, and the BN output is :math:`\kappa\,\sqrt n\,t`
    with the *radial shrink factor* :math:`\kappa^2 = r^2/(r^2+\beta)`,
    :math:`\beta = B\epsilon/\mu`: the :math:`\epsilon = 0` output times a scalar
    independent of the direction.  Homogeneity then gives

    * forward: :math:`V_\epsilon = \mathbb E[\kappa^{2\alpha}]\,V_0`, so :math:`c^*` is
      unchanged and the fixed point is the root of
      :math:`\epsilon/\sigma_w^2 = \beta\,\mu_0\,\mathbb E_\beta[\kappa^{2\alpha}]/B`
      (:math:`\mu_0 = q^*(1-c^*)` at :math:`\epsilon = 0`); it exists only while
      :math:`\epsilon/\sigma_w^2` is below the supremum of the right side (for ReLU
      :math:`\mu_0 n/B`, reached as :math:`\beta\to\infty`); above it the signal dies;
    * backward: the BN Jacobian is :math:`\frac{\sqrt B}{\rho}(G - \kappa^2\hat y\hat y^T)`,
      :math:`\rho^2 = \|g\|^2 + B\epsilon`, :math:`D(\kappa) = \kappa^{\alpha-1}D(1)`, and the
      trace of :math:`T(G) = \lambda G` gives

    .. math::

       \lambda_G(\epsilon) = \frac{B}{n\,\mu_0\,\mathbb E[\kappa^{2\alpha}]}\;
       \mathbb E_r\!\left[\frac{\kappa^{2\alpha-2}}{r^2+\beta}\big(A - (2\kappa^2-\kappa^4)\,C\big)\right],

    :math:`A = \mathbb E\,\mathrm{tr}(DGDG) = (n^2\mathbb Ed_1^2 + n\mathbb Ed_1d_2)/B`,
    :math:`C = \mathbb E\,\hat y^TDGD\hat y = \tfrac{n^2}{B}(\mathbb Ed_1^2t_1^2 - \mathbb Ed_1t_1d_2t_2)`
    (sphere integrals at :math:`\epsilon = 0`).  It depends on :math:`\epsilon` and
    :math:`\sigma_w` only through :math:`\epsilon/\sigma_w^2`, and at :math:`\epsilon = 0`
    reduces to :func:`gradient_explosion_rate` (:math:`\mathbb E[1/r^2] = 1/(n-2)`).

    Returns ``{"lambda_G", "beta", "mu"}`` (``mu``: pre-activation :math:`\mu` at the fixed point).

    >>> from symbolic_mf.activations import relu
    >>> r = gradient_explosion_rate_eps(relu(), 8, mp.mpf("1e-30"), dps=15)
    >>> print(mp.nstr(r["lambda_G"], 10))                 # eps -> 0: lambda_G(8) of ReLU
    1.788189977
    >>> print(mp.nstr(gradient_explosion_rate_eps(relu(), 8, 0.2, dps=15)["lambda_G"], 10))
    1.557640328
    """
    phi = get_activation(phi)
    fam = _family(phi)
    if fam is None or not fam[0].is_number or not fam[0] > sp.S.Half:
        raise DomainError("phi", phi, "a homogeneous activation of degree alpha > 1/2")
    B = _sph.check_batch_size(B)
    with mp.workdps(dps + 10):
        eps, sw2 = mp.mpf(eps), mp.mpf(sigma_w2)
        if not eps > 0 or not sw2 > 0:
            raise DomainError("eps", eps, "eps > 0 and sigma_w2 > 0 (eps = 0: gradient_explosion_rate)")
        alpha, a, b = (mp.mpf(sp.N(v, mp.dps)) for v in fam)
        n = B - 1
        f = lambda y: a * y ** alpha if y > 0 else (-b * (-y) ** alpha if y < 0 else mp.zero)
        d = lambda y: alpha * (a * y ** (alpha - 1) if y > 0 else (b * (-y) ** (alpha - 1) if y < 0 else mp.zero))
        q0 = _sph.expect_one(lambda y: f(y) ** 2, B)
        mu0 = q0 - _sph.expect_two_homogeneous(lambda u, v: f(u) * f(v), B, 2 * alpha)
        Ed2 = _sph.expect_one(lambda y: d(y) ** 2, B)
        Ed2t2 = _sph.expect_one(lambda y: d(y) ** 2 * y * y, B) / n
        Ed1d2 = _sph.expect_two_homogeneous(lambda u, v: d(u) * d(v), B, 2 * alpha - 2)
        Ee1e2 = _sph.expect_two_homogeneous(lambda u, v: d(u) * d(v) * u * v, B, 2 * alpha) / n
        A = (n * n * Ed2 + n * Ed1d2) / B
        C = mp.mpf(n * n) / B * (Ed2t2 - Ee1e2)
        k2a = lambda beta: _chi2_expect(lambda u: (u / (u + beta)) ** alpha, n)
        target = eps / sw2
        lhs = lambda lb: lb + mp.log(mu0 * k2a(mp.exp(lb)) / B) - mp.log(target)   # relative: eps may be tiny
        # bracket in log beta: the right side increases from 0 (beta -> 0)
        lo, hi = mp.log(target * B / mu0) - 5, None
        for k in range(60):
            v = lo + 2 * (k + 1)
            if lhs(v) > 0:
                hi = v
                break
        if hi is None:
            raise DomainError("eps", eps, "eps/sigma_w^2 below the largest value with a non-zero BSB1 fixed point",
                              "the signal mu -> 0: BN divides by sqrt(eps) and the layer is effectively linear")
        lb = mp.findroot(lhs, (hi - 2, hi), solver="anderson")
        beta = mp.exp(lb)

        def integrand(u):
            k2 = u / (u + beta)
            return k2 ** (alpha - 1) / (u + beta) * (A - (2 * k2 - k2 * k2) * C)

        lam = B / (n * mu0 * k2a(beta)) * _chi2_expect(integrand, n)
        out = {"lambda_G": lam, "beta": beta, "mu": B * eps / beta}
    with mp.workdps(dps):
        return {k: +v for k, v in out.items()}
