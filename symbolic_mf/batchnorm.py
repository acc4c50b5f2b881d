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
                             sigma_w: float = 1.0, skip: int = 10):
    r"""Finite-width experiment: deep BN network, exact BN backprop; per-layer squared-gradient growth.

    Forward :math:`h^l = x^{l-1}W^l`, :math:`x^l = \phi(\mathcal N(h^l))` per neuron;
    backward from a Gaussian :math:`\partial L/\partial x^L`, through the
    exact BN Jacobian.  Returns ``(rate, norms)``: the geometric-mean ratio
    :math:`\|\delta h^{l-1}\|^2/\|\delta h^l\|^2` over layers away from both
    ends (``skip`` at each), and the list of :math:`\|\delta h^l\|^2`.

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
        r = np.linalg.norm(g, axis=0, keepdims=True)
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
        dh = np.sqrt(B) / r * (Gv - yh * (yh * v).sum(0, keepdims=True))
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
