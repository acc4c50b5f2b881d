r"""Fourier engine: :math:`V_{B\phi}(\Sigma)` for general :math:`\phi` through a Fourier representation of the normalisation.

Batch norm divides by :math:`r = \|Gh\|/\sqrt B`.  Insert
:math:`1 = \int_0^\infty d(r^2)\,\delta(r^2 - \|Gh\|^2/B)` and represent the delta
by its Fourier integral, :math:`\delta(x) = \int\frac{d\lambda}{2\pi}e^{i\lambda x}`.
For fixed :math:`r` the output :math:`\phi(Gh/r)` is an ordinary coordinatewise
activation of a Gaussian vector, and the factor :math:`e^{-i\lambda h^TGh/B}` is
a complex Gaussian tilt (precision :math:`\Sigma^{-1}\to\Sigma^{-1} + 2i\lambda G/B`):

.. math::

   V_{B\phi}(\Sigma) = \int_0^\infty d(r^2)\int_{-\infty}^\infty\frac{d\lambda}{2\pi}\,e^{i\lambda r^2}
   \frac{V_\phi\big(G(\Sigma^{-1} + 2i\lambda G/B)^{-1}G\;r^{-2}\big)}{\sqrt{\det(I + 2i\lambda G\Sigma/B)}}.

(The earlier, OpenReview version of Yang et al. prints the covariance without
the inverse; see docs/derivations/batchnorm.md, section 9.)  The
:math:`r^2`-integral must stay **outermost**: for fixed :math:`\lambda` the
:math:`r^2`-integral of :math:`V_\phi(\cdot/r^2)` diverges at :math:`r\to 0`
for homogeneous :math:`\phi` of degree :math:`\ge 1`; only after the
:math:`\lambda`-integral (which makes the inner function vanish like
:math:`r^{B-1}` there) does it converge.  With :math:`s = i\lambda` the inner
integral is a Bromwich (inverse Laplace) integral evaluated at time
:math:`t = r^2`, here by Talbot's contour (``mpmath.invertlaplace``): its
integrand is analytic off the negative real axis (the pencil
:math:`\Sigma^{-1} + 2sG/B` is singular only at real :math:`s < 0`), so the
contour is valid whenever the kernel's own branch points lie there too (true
at BSB1 points; checked against the Laplace engine for a general
:math:`\Sigma` in tests).

:math:`V_\phi` is needed at complex covariances, so it must be a closed form
analytic in the covariance: :func:`fourier_kernel` takes it from

* the kernel engine's Fourier route (:func:`symbolic_mf.engines.fourier.derive_kernel`,
  with :math:`M_{11}, M_{22}, M_{12}` as symbols): sums of exponentials and
  trigonometric functions, Gaussian-type transforms, ``erf`` and GELU by Price's theorem;
* the α-homogeneous family: :math:`(M_{11}M_{22})^{\alpha/2}K_\phi(M_{12}/\sqrt{M_{11}M_{22}})`
  with the kernel engine's :math:`K_\phi` (principal square roots, taken separately).

>>> from mpmath import mp
>>> import sympy as sp
>>> from symbolic_mf.activations import sin
>>> round(V_bn_fourier(sin(), sp.eye(4), (0, 1), backend="numpy"), 9)    # spherical engine: -0.1728644522
-0.172864452
"""

from __future__ import annotations

import functools
from typing import Tuple

import sympy as sp
from mpmath import mp

from ..activations import HomogeneousActivation, get_activation
from ..errors import DomainError, MissingDependencyError, NotPSDError

__all__ = ["fourier_kernel", "V_bn_fourier"]

M11, M22 = sp.symbols("M11 M22")
M12 = sp.Symbol("M12")


@functools.lru_cache(maxsize=32)
def _homogeneous_kernel(family):
    from ..batchnorm import homogeneous_kernel

    alpha = family[0]
    cv = sp.Symbol("c_", real=True)
    K = sp.hyperexpand(homogeneous_kernel(HomogeneousActivation(*family), cv))
    r1, r2 = sp.sqrt(M11), sp.sqrt(M22)
    return (r1 * r2) ** alpha * K.subs(cv, M12 / (r1 * r2))


def fourier_kernel(phi):
    r""":math:`\mathbb E[\phi(a)\phi(b)]` for :math:`(a, b)\sim\mathcal N(0, M)` as a closed form in ``M11, M22, M12``.

    Analytic in :math:`M`, so valid at the complex covariances of the Fourier
    route.  Raises :class:`DomainError` for an activation outside the class
    described in the module docstring.

    >>> from symbolic_mf.activations import sin, erf
    >>> fourier_kernel(sin())
    exp(-M11/2 - M22/2)*sinh(M12)
    >>> fourier_kernel(erf())
    2*asin(2*M12/(sqrt(2*M11 + 1)*sqrt(2*M22 + 1)))/pi
    """
    phi = get_activation(phi)
    if isinstance(phi, HomogeneousActivation):
        return _homogeneous_kernel((phi.alpha, phi.a, phi.b))
    # the kernel engine's Fourier route, with the covariance entries as symbols
    from .fourier import derive_kernel

    try:
        return sp.factor_terms(derive_kernel(phi, c=M12, var1=M11, var2=M22).result)
    except DomainError:
        raise DomainError("phi", phi.name, "an activation whose kernel the Fourier engine derives (sums of "
                          "exponentials, Gaussian-type transforms, erf/GELU by Price) or an alpha-homogeneous "
                          "activation") from None
    return K


def _kernel_for(phi, diagonal):
    """The kernel, or on the diagonal E[phi(a)^2] with M22 = M12 = M11 substituted symbolically
    (for homogeneous phi the off-diagonal form sits on the branch point c = 1 there)."""
    K = fourier_kernel(phi)
    if diagonal:
        K = sp.simplify(sp.hyperexpand(K.subs({M22: M11, M12: M11})))
    return K


def _mp_kernel(phi, diagonal=False):
    from ..numeric import MPMATH_FUNCTIONS

    return sp.lambdify((M11, M22, M12), _kernel_for(phi, diagonal), modules=[MPMATH_FUNCTIONS, "mpmath"])


def _talbot_np(F, t, M=32):
    """Fixed Talbot inversion (Abate-Valko) of F at time t, NumPy complex vectorised over the M nodes."""
    import numpy as np

    r = 2.0 * M / (5.0 * t)
    th = np.arange(1, M) * np.pi / M
    cot = 1.0 / np.tan(th)
    s = r * th * (cot + 1j)
    sig = th + (th * cot - 1.0) * cot
    vals = np.exp(t * s) * F(s) * (1.0 + 1j * sig)
    return r / M * (0.5 * np.exp(r * t) * F(np.array([r + 0j]))[0].real + vals.real.sum())


def _V_bn_fourier_numpy(phi, S, i, j):
    import warnings

    import numpy as np

    try:
        from scipy import integrate
    except ImportError:
        raise MissingDependencyError("scipy", "the Fourier route's numpy backend",
                                     "pip install 'symbolic_mf[scipy]', or use backend='mpmath'") from None

    K = _kernel_for(phi, i == j)
    k = sp.lambdify((M11, M22, M12), K, modules=["numpy", "scipy"])
    S = np.array(S, dtype=float)
    B = S.shape[0]
    if np.linalg.eigvalsh(S).min() <= 0:
        raise NotPSDError("Sigma", S, "the Fourier route needs Sigma positive definite (it uses Sigma^-1)")
    G = np.eye(B) - 1.0 / B
    L = np.linalg.cholesky(S)
    g, U = np.linalg.eigh(L.T @ G @ L)
    GW = G @ (L @ U)
    ci, cj = GW[i], GW[j]
    scale = g.sum() / B

    def F(s):
        den = 1 + 2 * s[:, None] * g[None, :] / B
        d = np.prod(np.sqrt(den), axis=1)
        return den, d

    def outer(u):
        def Fu(s):
            den, d = F(s)
            a11 = (ci * ci / den).sum(1) / u
            a22 = (cj * cj / den).sum(1) / u
            a12 = (ci * cj / den).sum(1) / u
            return k(a11, a22, a12) / d
        return _talbot_np(Fu, u)

    pts = [0, scale, 4 * scale, 16 * scale, np.inf]
    with warnings.catch_warnings():
        # double-precision Talbot leaves ~1e-12 noise: quad's tolerance warnings are expected
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        tot = sum(integrate.quad(outer, a, b, epsabs=1e-13, epsrel=1e-11, limit=200)[0] for a, b in zip(pts, pts[1:]))
    return float(np.real(tot))


def V_bn_fourier(phi, Sigma, entry: Tuple[int, int] = (0, 1), dps: int = None, backend: str = "mpmath"):
    r"""Entry ``(i, j)`` of :math:`V_{B\phi}(\Sigma)` by the Fourier route (:math:`r^2` outermost, Talbot inside).

    ``Sigma`` must be symmetric positive definite (the formula uses
    :math:`\Sigma^{-1}`).  ``backend="mpmath"``: about ``dps - 5`` digits
    (``mpmath.invertlaplace`` inside ``mpmath.quad``; slow, minutes at 15
    digits); ``backend="numpy"``: double precision, fixed Talbot with 32
    nodes inside ``scipy.integrate.quad``, about 9 digits, well under a second.
    The outer quadrature is split at multiples of :math:`\mathrm{tr}(G\Sigma)/B`.
    Both use the simultaneous diagonalisation :math:`W^T\Sigma^{-1}W = I`,
    :math:`W^TGW = \mathrm{diag}(g)`, which makes the integrand rational in
    :math:`s` apart from the kernel.

    >>> from symbolic_mf.activations import erf
    >>> round(V_bn_fourier(erf(), sp.eye(4), (0, 1), backend="numpy"), 8)   # spherical engine: -0.1689469559
    -0.16894696
    """
    phi = get_activation(phi)
    if backend not in ("mpmath", "numpy"):
        raise DomainError("backend", backend, "'mpmath' or 'numpy'")
    if backend == "numpy":
        Snp = sp.Matrix(Sigma).tolist() if not isinstance(Sigma, mp.matrix) else Sigma.tolist()
        Bn = len(Snp)
        i, j = entry
        if not (0 <= i < Bn and 0 <= j < Bn):
            raise DomainError("entry", entry, f"a pair of indices in 0..{Bn - 1}")
        return _V_bn_fourier_numpy(phi, [[float(v) for v in row] for row in Snp], i, j)
    k = _mp_kernel(phi, entry[0] == entry[1])
    dps = mp.dps if dps is None else dps
    with mp.workdps(dps + 10):
        S = mp.matrix(sp.Matrix(Sigma).tolist()) if not isinstance(Sigma, mp.matrix) else Sigma
        B = S.rows
        i, j = entry
        if not (0 <= i < B and 0 <= j < B):
            raise DomainError("entry", entry, f"a pair of indices in 0..{B - 1}")
        ev = mp.eigsy(S)[0]
        if min(ev) <= 0:
            raise NotPSDError("Sigma", Sigma, "the Fourier route needs Sigma positive definite (it uses Sigma^-1)")
        # simultaneous diagonalisation: W^T Sigma^-1 W = I, W^T G W = diag(g), so that
        # P(s)^-1 = W diag(1/(1 + 2 s g/B)) W^T and det(I + 2 s G Sigma/B) = prod(1 + 2 s g/B)
        L = mp.cholesky(S)                      # Sigma = L L^T, Sigma^-1 = L^-T L^-1: W = L U
        G = mp.eye(B) - mp.ones(B, B) / B
        g, U = mp.eigsy(L.T * G * L)
        W = L * U
        GW = G * W
        gs = [g[k] for k in range(B)]
        ci = [GW[i, k] for k in range(B)]
        cj = [GW[j, k] for k in range(B)]
        scale = sum(gs) / B

        def F(s, u):
            den = [1 + 2 * s * gk / B for gk in gs]
            d = mp.one
            for x_ in den:
                d *= mp.sqrt(x_)
            a11 = mp.fsum(ci[k] * ci[k] / den[k] for k in range(B)) / u
            a22 = mp.fsum(cj[k] * cj[k] / den[k] for k in range(B)) / u
            a12 = mp.fsum(ci[k] * cj[k] / den[k] for k in range(B)) / u
            return k(a11, a22, a12) / d

        def outer(u):
            if u == 0:
                return mp.zero
            return mp.re(mp.invertlaplace(lambda s: F(s, u), u, method="talbot"))

        val = mp.quad(outer, [0, scale, 4 * scale, 16 * scale, mp.inf])
    with mp.workdps(dps):
        return +val
