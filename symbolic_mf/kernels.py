r"""Dual kernels of the α-homogeneous family, derived by the engines, and their compositions.

For :math:`\phi(x) = a\rho_\alpha(x) - b\rho_\alpha(-x)` (α real, > −½) and
:math:`(u, v)` a centred Gaussian pair with unit variances and correlation
``c``:

* :func:`dual_kernel` — :math:`K_\phi(c) = \mathbb{E}[\phi(u)\phi(v)]`, a
  SymPy expression derived by an engine (``method="hermite"``: two ₂F₁'s in
  :math:`c^2`, elementary for integer α; ``"polar"``: Cho & Saul's
  radial × angular route, elementary for integer α; ``"bessel"``: the K₀
  integral representation of Yang & Schoenholz; ``"stable"``: a Piecewise
  of the Hermite form for c ≥ 0 and the Bessel–Laplace form
  :math:`(1-c^2)^{\alpha+1/2}{}_2F_1(\alpha+1,\alpha+1;\alpha+\tfrac32;\tfrac{1+c}{2})` for
  c < 0, accurate to full relative precision near c = −1);
* :func:`derivation` — the :class:`~symbolic_mf.derivation.Derivation`
  (steps) behind it;
* :func:`normalized_kernel` :math:`J_\phi = K_\phi/K_\phi(1)`,
  :func:`kernel_constant` :math:`K_\phi(1) = \mathbb{E}[\phi(z)^2]`,
  :func:`derivative_kernel` :math:`\mathbb{E}[\phi'(u)\phi'(v)]`;
* :func:`kernel_value` — numeric :math:`K_\phi(c)` at ``dps`` digits;
* :func:`kernel_matrix` — :math:`V_\phi(\Sigma)` for any PSD Σ by homogeneity;
* :func:`nngp`, :func:`ntk` — depth-L composition.

>>> import sympy as sp
>>> from symbolic_mf.activations import relu, rho_alpha
>>> c = sp.Symbol("c", real=True)
>>> dual_kernel(relu(), c)
-c*acos(c)/(2*pi) + c/2 + sqrt(1 - c**2)/(2*pi)
>>> kernel_constant(relu())
1/2
>>> print(mp.nstr(kernel_value(rho_alpha(sp.Rational(3, 2)), 0.5, dps=30), 25))
0.429371123948631574261991
"""

from __future__ import annotations

import functools
from typing import Optional

import sympy as sp
from mpmath import mp

from .activations import Activation, HomogeneousActivation
from .derivation import Derivation
from .errors import DomainError, NotPSDError

__all__ = [
    "c",
    "METHODS",
    "Derivation",
    "family",
    "derivation",
    "dual_kernel",
    "normalized_kernel",
    "kernel_constant",
    "derivative_kernel",
    "kernel_value",
    "derivative_kernel_value",
    "kernel_matrix",
    "nngp",
    "ntk",
]

#: the correlation symbol the kernels are written in by default
c = sp.Symbol("c", real=True)

#: engines that derive dual kernels of the homogeneous family
METHODS = ("hermite", "polar", "bessel", "stable", "fourier", "orthant")


def family(phi):
    """``(alpha, a, b)`` of a member of the α-homogeneous family (typed error otherwise).

    >>> from symbolic_mf.activations import leaky_relu
    >>> family(leaky_relu(sp.Rational(1, 10)))
    (1, 1, 1/10)
    """
    if isinstance(phi, HomogeneousActivation):
        return phi.alpha, phi.a, phi.b
    if isinstance(phi, tuple) and len(phi) == 3:
        return tuple(sp.sympify(t) for t in phi)
    name = getattr(phi, "name", phi)
    raise DomainError("phi", name, "a member of the alpha-homogeneous family a*rho_alpha(x) - b*rho_alpha(-x) "
                      "(general activations: see the Fourier/series engines)")


def _check_alpha(alpha, lo=sp.Rational(-1, 2), what="alpha"):
    if alpha.is_number and not alpha > lo:
        raise DomainError(what, alpha, f"{what} > {lo} (the second moment E[phi(z)^2] is finite only there)")


def _check_method(method):
    if method not in METHODS:
        raise DomainError("method", method, "one of " + ", ".join(METHODS))


@functools.lru_cache(maxsize=256)
def _derive(alpha, a, b, method, cs, elementary):
    if method == "hermite":
        from .engines.hermite import derive_kernel
        return derive_kernel(alpha, a, b, cs, elementary=elementary)
    if method == "polar":
        from .engines.polar import derive_kernel
        return derive_kernel(alpha, a, b, cs)
    if method == "stable":
        return _stable(alpha, a, b, cs)
    from .engines.bessel import derive_kernel
    return derive_kernel(alpha, a, b, cs)


def _stable(alpha, a, b, cs):
    """Hermite 2F1 form for c >= 0, the Bessel-Laplace form in (1+c)/2 for c < 0."""
    import time

    from .engines import bessel
    from .engines.hermite import derive_kernel

    start = time.perf_counter()
    rec = Derivation("stable", f"{a}*rho_{alpha}(x) - {b}*rho_{alpha}(-x)")
    pos = derive_kernel(alpha, 1, 0, bessel.c, elementary=False).result
    neg = bessel.derive_negative_c_form(rec)
    rec.steps = derive_kernel(alpha, 1, 0, bessel.c, elementary=False).steps + rec.steps
    R = lambda arg: sp.Piecewise((pos.subs(bessel.alpha, alpha).subs(bessel.c, arg), arg >= 0),
                                 (neg.subs(bessel.alpha, alpha).subs(bessel.c, arg), True))
    res = a**2 * R(cs) if b == 0 else (a**2 + b**2) * R(cs) - 2 * a * b * R(-cs)
    rec.add(r"no cancellation anywhere on $[-1, 1]$: Hermite form for $c \ge 0$, "
            r"$(1-c^2)^{\alpha+1/2}{}_2F_1(\ldots;(1+c)/2)$ for $c < 0$; "
            r"family via $(a^2+b^2)K_\alpha(c) - 2ab\,K_\alpha(-c)$", res)
    rec.result = res
    rec.seconds = time.perf_counter() - start
    return rec


def derivation(phi, c=c, method: str = "hermite", elementary: bool = True) -> Derivation:
    """The :class:`Derivation` (steps and result) of :math:`K_\\phi(c)` by ``method``.

    >>> from symbolic_mf.activations import relu
    >>> d = derivation(relu())
    >>> d.method, len(d.steps) > 4
    ('hermite', True)
    """
    _check_method(method)
    if method == "fourier":  # any activation with a Fourier/characteristic-function route (engines/fourier.py)
        from .engines.fourier import derive_kernel
        return derive_kernel(phi, sp.sympify(c))
    if method == "orthant":  # piecewise exp-polynomial activations, e.g. ELU (engines/orthant.py)
        from .engines.orthant import derive_kernel
        return derive_kernel(phi, sp.sympify(c))
    alpha, a, b = family(phi)
    _check_alpha(alpha)
    return _derive(alpha, a, b, method, sp.sympify(c), elementary)


def dual_kernel(phi, c=c, method: str = "hermite", elementary: bool = True):
    r""":math:`K_\phi(c) = \mathbb{E}[\phi(u)\phi(v)]` (unit variances), derived by ``method``.

    ``phi`` is a :class:`~symbolic_mf.activations.HomogeneousActivation`
    (symbolic or numeric α > −½, any a, b).  ``elementary=False`` keeps the
    ₂F₁ form even for integer α.  ``method="fourier"`` takes any
    :class:`~symbolic_mf.activations.Activation` the Fourier engine handles
    (sin, cos, exp, Gaussian bumps, erf, GELU: :mod:`symbolic_mf.engines.fourier`).

    >>> from symbolic_mf.activations import step, rho_alpha
    >>> dual_kernel(step())
    -acos(c)/(2*pi) + 1/2
    >>> dual_kernel(rho_alpha(sp.Symbol("alpha"))).atoms(sp.hyper) != set()
    True
    >>> from symbolic_mf.activations import erf
    >>> dual_kernel(erf(), method="fourier")
    2*asin(2*c/3)/pi

    ``method="orthant"`` takes activations with a kink at 0 whose pieces are
    sums of :math:`x^ie^{\lambda x}` (ELU: :mod:`symbolic_mf.engines.orthant`).
    """
    return derivation(phi, c, method, elementary).result


def kernel_constant(phi):
    r""":math:`K_\phi(1) = \mathbb{E}[\phi(z)^2] = (a^2 + b^2)\,2^{\alpha-1}\Gamma(\alpha+\tfrac12)/\sqrt\pi`.

    Derived from the Gaussian Mellin integral of :math:`\rho_{2\alpha}`
    (``phi(z)^2 = a^2 rho_{2alpha}(z) + b^2 rho_{2alpha}(-z)``: the cross term
    vanishes, the supports being disjoint).

    >>> from symbolic_mf.activations import rho_alpha, abs_power
    >>> kernel_constant(rho_alpha(sp.Symbol("alpha")))
    2**(alpha - 1)*gamma(alpha + 1/2)/sqrt(pi)
    >>> kernel_constant(abs_power(2))
    3
    """
    from .engines.hermite import mellin_mean

    alpha, a, b = family(phi)
    _check_alpha(alpha)
    return sp.powsimp(sp.gammasimp((a**2 + b**2) * mellin_mean(2 * alpha)))


def normalized_kernel(phi, c=c, method: str = "hermite"):
    r""":math:`J_\phi(c) = K_\phi(c)/K_\phi(1)`.

    >>> from symbolic_mf.activations import relu
    >>> sp.simplify(normalized_kernel(relu()).subs(c, 1))
    1
    """
    return dual_kernel(phi, c, method) / kernel_constant(phi)


def derivative_kernel(phi, c=c, method: str = "hermite"):
    r""":math:`\dot K_\phi(c) = \mathbb{E}[\phi'(u)\phi'(v)]`, the NTK ingredient.

    :math:`\phi' = \alpha a\rho_{\alpha-1}(x) + \alpha b\rho_{\alpha-1}(-x)`
    is again in the family (degree α−1), so the same engine derives it; it
    is finite for :math:`|c| < 1` when α > 0 and at :math:`c = \pm1` when
    α > ½.  By Price's theorem it equals :math:`dK_\phi/dc`.

    >>> from symbolic_mf.activations import relu
    >>> derivative_kernel(relu())
    -acos(c)/(2*pi) + 1/2
    """
    _check_method(method)
    if method == "fourier":
        from .engines.fourier import derive_kernel
        return derive_kernel(phi.derivative(), sp.sympify(c)).result
    if method == "orthant":
        from .engines.orthant import derivative_kernel as orthant_derivative
        return orthant_derivative(phi, sp.sympify(c))
    alpha, a, b = family(phi)
    _check_alpha(alpha, sp.S.Zero, "alpha (derivative kernel)")
    if alpha.is_number and alpha <= sp.S.Half and method == "polar":
        method = "hermite"
    if method == "polar":
        from .engines.polar import derive_kernel
        return derive_kernel(alpha - 1, alpha * a, -alpha * b, sp.sympify(c)).result
    if method == "bessel":
        from .engines.bessel import derive_kernel
        return derive_kernel(alpha - 1, alpha * a, -alpha * b, sp.sympify(c)).result
    from .engines.hermite import derive_kernel
    return derive_kernel(alpha - 1, alpha * a, -alpha * b, sp.sympify(c)).result


# ---------------------------------------------------------------------------
# numeric evaluation


def _mp_function(expr):
    """Compile a closed form in :data:`c` into an mpmath callable (hyper -> mpmath.hyper)."""
    from .numeric import compile_expr

    free = expr.free_symbols - {c}
    if free:
        raise DomainError("phi", sorted(map(str, free)), "numeric parameters (alpha, a, b) for numeric evaluation")
    f = compile_expr(expr)
    return lambda cv: f({c: cv})


@functools.lru_cache(maxsize=256)
def _compiled(alpha, a, b, derivative):
    if derivative:
        expr = _derive(alpha - 1, alpha * a, -alpha * b, "stable", c, True).result
    else:
        expr = _derive(alpha, a, b, "stable", c, True).result
    return _mp_function(expr)


def _mp_corr(cval, name="c"):
    cv = mp.mpf(sp.Rational(cval).p) / sp.Rational(cval).q if isinstance(cval, (sp.Rational, int)) else mp.mpf(cval)
    if cv > 1 or cv < -1:
        raise DomainError(name, cval, "a correlation in [-1, 1]")
    return cv


def kernel_value(phi, cval, dps: int = 30, derivative: bool = False):
    r"""Numeric :math:`K_\phi(c)` (or :math:`\mathbb{E}[\phi'(u)\phi'(v)]`) at ``dps`` digits, an mpf.

    Evaluates the derived closed form (``method="stable"``: no cancellation on
    [-1, 1]) with mpmath at the working precision plus 10 guard digits.  Raises :class:`DomainError` for
    :math:`|c| > 1`.

    >>> from symbolic_mf.activations import relu
    >>> print(mp.nstr(kernel_value(relu(), 1, dps=20), 15))
    0.5
    >>> kernel_value(relu(), 1.5)
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.DomainError: c = 1.5 is outside its valid range: a correlation in [-1, 1]
    """
    alpha, a, b = family(phi)
    with mp.workdps(dps + 10):
        cv = _mp_corr(cval)
        if derivative:
            _check_alpha(alpha, sp.S.Zero, "alpha (derivative kernel)")
            if abs(cv) == 1 and alpha <= sp.S.Half:
                raise DomainError("c", cval, "|c| < 1 (E[phi'(u)phi'(v)] diverges at c = +-1 for alpha <= 1/2)")
        f = _compiled(alpha, a, b, derivative)
        val = f(cv)
        val = val.real if isinstance(val, mp.mpc) else mp.mpf(val)
    with mp.workdps(dps):
        return +val


def derivative_kernel_value(phi, cval, dps: int = 30):
    """Numeric :math:`\\mathbb{E}[\\phi'(u)\\phi'(v)]` (see :func:`kernel_value`).

    >>> from symbolic_mf.activations import relu
    >>> print(mp.nstr(derivative_kernel_value(relu(), 0), 10))
    0.25
    """
    return kernel_value(phi, cval, dps, derivative=True)


# ---------------------------------------------------------------------------
# matrices and compositions


def _is_numeric_matrix(S):
    return all(sp.sympify(e).is_number for e in S)


def _check_psd(S, name="Sigma"):
    n = S.rows
    if S != S.T:
        raise NotPSDError(name, S.tolist(), "not symmetric")
    A = mp.matrix([[mp.mpf(sp.N(S[i, j], mp.dps + 5)) for j in range(n)] for i in range(n)])
    ev = mp.eigsy(A, eigvals_only=True) if n > 1 else [A[0, 0]]
    scale = max([abs(A[i, i]) for i in range(n)] + [mp.one])
    if min(ev) < -scale * mp.mpf(10) ** (-mp.dps + 3):
        raise NotPSDError(name, S.tolist(), f"smallest eigenvalue {mp.nstr(min(ev), 6)} < 0")


def kernel_matrix(phi, Sigma, dps: Optional[int] = None, method: str = "hermite"):
    r""":math:`V_\phi(\Sigma) = \mathbb{E}[\phi(h)\phi(h)^T]`, :math:`h\sim\mathcal N(0,\Sigma)`.

    By homogeneity :math:`V_{ij} = (\Sigma_{ii}\Sigma_{jj})^{\alpha/2}
    K_\phi(\Sigma_{ij}/\sqrt{\Sigma_{ii}\Sigma_{jj}})`.  With ``dps`` and a
    numeric Σ the result is an ``mpmath.matrix`` at ``dps`` digits; otherwise
    a SymPy ``Matrix``.  A numeric Σ that is not symmetric PSD raises
    :class:`~symbolic_mf.errors.NotPSDError`.

    >>> from symbolic_mf.activations import relu
    >>> V = kernel_matrix(relu(), [[2, 0], [0, 1]])
    >>> V
    Matrix([
    [         1, sqrt(2)/(2*pi)],
    [sqrt(2)/(2*pi),        1/2]])
    >>> kernel_matrix(relu(), [[1, 2], [2, 1]])
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.NotPSDError: Sigma = [[1, 2], [2, 1]] is outside its valid range: a symmetric positive semi-definite matrix (smallest eigenvalue -1.0 < 0)
    """
    alpha, a, b = family(phi)
    S = sp.Matrix(Sigma)
    if S.rows != S.cols:
        raise NotPSDError("Sigma", S.tolist(), "not square")
    n = S.rows
    numeric = _is_numeric_matrix(S)
    if numeric:
        with mp.workdps((dps or 30) + 5):
            _check_psd(S)
    if dps is not None and numeric:
        with mp.workdps(dps + 10):
            q = [mp.mpf(sp.N(S[i, i], dps + 15)) for i in range(n)]
            out = mp.matrix(n, n)
            al = mp.mpf(sp.N(alpha, dps + 15))
            for i in range(n):
                for j in range(i, n):
                    if q[i] == 0 or q[j] == 0:
                        if alpha <= 0:
                            raise DomainError("Sigma", S.tolist(), "positive variances when alpha <= 0")
                        val = mp.zero
                    else:
                        cij = mp.mpf(sp.N(S[i, j], dps + 15)) / mp.sqrt(q[i] * q[j])
                        cij = max(min(cij, mp.one), -mp.one)
                        val = (q[i] * q[j]) ** (al / 2) * kernel_value(phi, cij, dps + 5)
                    out[i, j] = out[j, i] = val
        return out
    K = dual_kernel(phi, c, method)
    K1 = kernel_constant(phi)
    V = sp.zeros(n, n)
    for i in range(n):
        for j in range(i, n):
            qi, qj = S[i, i], S[j, j]
            if i == j:
                val = qi**alpha * K1
            else:
                val = (qi * qj) ** (alpha / 2) * K.subs(c, S[i, j] / sp.sqrt(qi * qj))
            V[i, j] = V[j, i] = sp.simplify(val) if numeric else val
    return V


def _layers(phi, depth, sigma_w2, sigma_b2, Sigma0, dps, with_ntk):
    if not (isinstance(depth, int) and depth >= 0):
        raise DomainError("depth", depth, "an integer >= 0")
    sw, sb = sp.sympify(sigma_w2), sp.sympify(sigma_b2)
    if sw.is_number and not sw > 0:
        raise DomainError("sigma_w2", sigma_w2, "sigma_w2 > 0")
    if sb.is_number and not sb >= 0:
        raise DomainError("sigma_b2", sigma_b2, "sigma_b2 >= 0")
    alpha, a, b = family(phi)
    S0 = sp.Matrix(Sigma0)
    n = S0.rows
    if dps is None:
        ones = sp.ones(n, n)
        Sig = sw * S0 + sb * ones
        Th = Sig
        dphi = (alpha - 1, alpha * a, -alpha * b)
        for _ in range(depth):
            V = kernel_matrix(phi, Sig)
            if with_ntk:
                Vd = _derivative_matrix_symbolic(dphi, Sig)
                Th = sw * V + sb * ones + sw * Vd.multiply_elementwise(Th)
            Sig = sw * V + sb * ones
        return Sig, Th
    with mp.workdps(dps + 10):
        swm, sbm = mp.mpf(sp.N(sw, dps + 15)), mp.mpf(sp.N(sb, dps + 15))
        Sig = mp.matrix([[swm * mp.mpf(sp.N(S0[i, j], dps + 15)) + sbm for j in range(n)] for i in range(n)])
        Th = Sig.copy()
        al = mp.mpf(sp.N(alpha, dps + 15))
        for _ in range(depth):
            Ssym = sp.Matrix(n, n, lambda i, j: sp.Float(Sig[i, j], dps + 10))
            V = kernel_matrix(phi, Ssym, dps=dps + 5)
            if with_ntk:
                Vd = mp.matrix(n, n)
                for i in range(n):
                    for j in range(n):
                        qq = Sig[i, i] * Sig[j, j]
                        cij = max(min(Sig[i, j] / mp.sqrt(qq), mp.one), -mp.one)
                        Vd[i, j] = qq ** ((al - 1) / 2) * derivative_kernel_value(phi, cij, dps + 5)
                Th = mp.matrix([[swm * V[i, j] + sbm + swm * Vd[i, j] * Th[i, j] for j in range(n)] for i in range(n)])
            Sig = mp.matrix([[swm * V[i, j] + sbm for j in range(n)] for i in range(n)])
        return Sig, Th


def _derivative_matrix_symbolic(dphi, S):
    from .engines.hermite import derive_kernel

    alpha1, a1, b1 = dphi
    Kd = derive_kernel(alpha1, a1, b1, c).result
    n = S.rows
    V = sp.zeros(n, n)
    for i in range(n):
        for j in range(n):
            qi, qj = S[i, i], S[j, j]
            cij = sp.S.One if i == j else S[i, j] / sp.sqrt(qi * qj)
            V[i, j] = (qi * qj) ** (alpha1 / 2) * Kd.subs(c, cij)
    return V


def nngp(phi, depth: int, sigma_w2=1, sigma_b2=0, Sigma0=((1, c), (c, 1)), dps: Optional[int] = None):
    r"""NNGP kernel of a depth-``depth`` fully connected network with activation ``phi``.

    ``Sigma0`` is the input Gram matrix :math:`x_i\cdot x_j/d`; the first
    pre-activation covariance is :math:`\Sigma^{(1)} = \sigma_w^2\Sigma_0 +
    \sigma_b^2`, and each of the ``depth`` hidden layers maps
    :math:`\Sigma \mapsto \sigma_w^2 V_\phi(\Sigma) + \sigma_b^2`.  The
    returned matrix is the output layer's covariance
    :math:`\Sigma^{(\mathrm{depth}+1)}`: a SymPy Matrix (symbolic, for small
    depth) or, with ``dps``, an ``mpmath.matrix`` (any depth).

    >>> from symbolic_mf.activations import relu
    >>> nngp(relu(), 1, 2, 0)[0, 1]
    -2*c*acos(c)/pi + 2*c + 2*sqrt(1 - c**2)/pi
    >>> print(mp.nstr(nngp(relu(), 3, 2, 0, [[1, 0.5], [0.5, 1]], dps=20)[0, 1], 15))
    1.476256384602
    """
    return _layers(phi, depth, sigma_w2, sigma_b2, Sigma0, dps, False)[0]


def ntk(phi, depth: int, sigma_w2=1, sigma_b2=0, Sigma0=((1, c), (c, 1)), dps: Optional[int] = None):
    r"""Neural tangent kernel :math:`\Theta^{(\mathrm{depth}+1)}` (same conventions as :func:`nngp`).

    :math:`\Theta^{(1)} = \Sigma^{(1)}`, :math:`\Theta^{(l+1)} = \Sigma^{(l+1)}
    + \sigma_w^2\,\dot V_\phi(\Sigma^{(l)})\odot\Theta^{(l)}` with
    :math:`\dot V_\phi` the derivative kernel (Jacot et al. 2018).

    >>> from symbolic_mf.activations import relu
    >>> sp.simplify(ntk(relu(), 1, 2, 0)[0, 0])
    4
    """
    return _layers(phi, depth, sigma_w2, sigma_b2, Sigma0, dps, True)[1]
