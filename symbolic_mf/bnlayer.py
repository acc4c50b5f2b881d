r"""The batch-norm layer itself, one unit and one batch of size :math:`m`.

For a batch :math:`y \in \mathbb R^m` of one unit's pre-activations

.. math::

   \mu = \tfrac1m \mathbf 1^T y,\quad c = y - \mu\mathbf 1,\quad
   \sigma^2 = \frac{\|c\|^2}{m - \delta} + \epsilon,\quad
   \hat y = c/\sigma,\quad z = \gamma\hat y + \beta,

with :math:`\delta = 0` for the biased variance (the convention of Ioffe &
Szegedy and of Santurkar et al.) and :math:`\delta = 1` for the unbiased one.
SymPy differentiates the map (:func:`bn_jacobian`); the result is
(:func:`jacobian_structure` proves it for given :math:`m` with symbolic
inputs)

.. math::

   J = \frac{\partial z}{\partial y} = \frac{\gamma}{\sigma}\Big(I - \frac{\mathbf 1\mathbf 1^T}{m}
   - \frac{c\,c^T}{m\sigma^2}\Big),

and for :math:`\epsilon = 0` (whatever the variance convention)
:math:`J = \frac{\gamma}{\sigma}P` with :math:`P = I - \mathbf 1\mathbf 1^T/m - cc^T/\|c\|^2`
the orthogonal projector onto the complement of
:math:`\mathrm{span}\{\mathbf 1, \hat y\}`: symmetric, idempotent, rank
:math:`m - 2`, kernel :math:`\mathrm{span}\{\mathbf 1, y\}`.  With
:math:`\epsilon > 0` it is *not* a multiple of a projector (the eigenvalue on
:math:`c` is :math:`\gamma\epsilon/\sigma^3`).

>>> import sympy as sp
>>> J = bn_jacobian([0, 1, 3])
>>> sp.simplify(J - bn_jacobian_closed_form([0, 1, 3])) == sp.zeros(3, 3)
True
>>> s = jacobian_structure(3)
>>> s.equals_closed_form, s.projector, s.rank, s.kernel_is_span_1_y
(True, True, 1, True)
>>> jacobian_structure(3, eps=sp.Rational(1, 10)).projector
False
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Sequence

import numpy as np
import sympy as sp

from .errors import DomainError

__all__ = [
    "VARIANCES", "batch_norm", "bn_jacobian", "bn_jacobian_closed_form", "projector",
    "jacobian_structure", "JacobianStructure", "bn_backward", "batch_norm_np", "bn_jacobian_np",
]

#: variance conventions: name -> the delta in ||c||^2 / (m - delta)
VARIANCES = {"biased": 0, "unbiased": 1}


def _delta(variance: str) -> int:
    if variance not in VARIANCES:
        raise DomainError("variance", variance, "'biased' (divide by m) or 'unbiased' (divide by m - 1)")
    return VARIANCES[variance]


def _as_batch(y, min_m=2):
    if isinstance(y, int):
        if y < min_m:
            raise DomainError("m", y, f"integer batch size m >= {min_m}")
        return sp.Matrix(sp.symbols(f"y1:{y + 1}", real=True))
    ys = sp.Matrix([sp.sympify(v) for v in y])
    if ys.rows < min_m:
        raise DomainError("m", ys.rows, f"batch size m >= {min_m}")
    return ys


def _stats(ys: sp.Matrix, variance: str, eps):
    m = ys.rows
    mu = sum(ys) / m
    c = ys - mu * sp.ones(m, 1)
    var = sum(ci ** 2 for ci in c) / (m - _delta(variance)) + sp.sympify(eps)
    return mu, c, var


def batch_norm(y, gamma=1, beta=0, variance: str = "biased", eps=0) -> sp.Matrix:
    r"""The BN map :math:`z = \gamma (y - \mu)/\sigma + \beta` on one batch (SymPy).

    ``y`` is a sequence of numbers or symbols, or an integer ``m`` (then
    symbols ``y1..ym`` are used).

    >>> batch_norm([0, 1, 2]).T
    Matrix([[-sqrt(6)/2, 0, sqrt(6)/2]])
    >>> batch_norm([0, 1, 2], variance="unbiased").T
    Matrix([[-1, 0, 1]])
    """
    ys = _as_batch(y)
    mu, c, var = _stats(ys, variance, eps)
    return sp.sympify(gamma) * c / sp.sqrt(var) + sp.sympify(beta) * sp.ones(ys.rows, 1)


def bn_jacobian(y, gamma=1, variance: str = "biased", eps=0) -> sp.Matrix:
    """The Jacobian dz/dy, derived by SymPy from :func:`batch_norm` (evaluated at ``y`` if numeric).

    >>> bn_jacobian([0, 2])   # m = 2: the output is always (-1, 1)*gamma, so J = 0
    Matrix([
    [0, 0],
    [0, 0]])
    """
    ys = _as_batch(y)
    m = ys.rows
    syms = sp.Matrix(sp.symbols(f"_y1:{m + 1}", real=True))
    z = batch_norm(list(syms), gamma, 0, variance, eps)
    J = z.jacobian(syms)
    if all(not v.free_symbols for v in ys):
        return sp.simplify(J.subs(dict(zip(syms, ys))))
    return J.subs(dict(zip(syms, ys)))


def bn_jacobian_closed_form(y, gamma=1, variance: str = "biased", eps=0) -> sp.Matrix:
    r"""The closed form :math:`\frac{\gamma}{\sigma}(I - \mathbf 1\mathbf 1^T/m - cc^T/(m'\sigma^2))`, :math:`m' = m-\delta`.

    >>> bn_jacobian_closed_form([0, 1, 3]) * sp.sqrt(14) / 3   # sigma J = P
    Matrix([
    [ 2/7,  -3/7,   1/7],
    [-3/7,  9/14, -3/14],
    [ 1/7, -3/14,  1/14]])
    """
    ys = _as_batch(y)
    m = ys.rows
    mu, c, var = _stats(ys, variance, eps)
    md = m - _delta(variance)
    return sp.sympify(gamma) / sp.sqrt(var) * (sp.eye(m) - sp.ones(m, m) / m - c * c.T / (md * var))


def projector(y) -> sp.Matrix:
    r"""The orthogonal projector :math:`I - \mathbf 1\mathbf 1^T/m - cc^T/\|c\|^2` onto :math:`\mathrm{span}\{\mathbf 1, y\}^\perp`.

    >>> P = projector([0, 1, 3]); (P * P - P).is_zero_matrix, P.trace()
    (True, 1)
    """
    ys = _as_batch(y)
    m = ys.rows
    mu, c, _ = _stats(ys, "biased", 0)
    return sp.eye(m) - sp.ones(m, m) / m - c * c.T / sum(ci ** 2 for ci in c)


@dataclass
class JacobianStructure:
    """What :func:`jacobian_structure` proved for one batch size (symbolic inputs)."""

    m: int
    variance: str
    eps: object
    equals_closed_form: bool
    symmetric: bool
    projector: bool          # J = (gamma/sigma) P with P an orthogonal projector
    rank: Optional[int]      # rank of P (= trace, P idempotent); None if not a projector
    kernel_is_span_1_y: bool  # J 1 = 0 and J y = 0
    seconds: float = 0.0


def jacobian_structure(m: int, variance: str = "biased", eps=0, gamma=None) -> JacobianStructure:
    r"""Prove the structure of the BN Jacobian for batch size ``m`` with symbolic inputs ``y1..ym``.

    SymPy differentiates :math:`z = \gamma c/\sqrt{V(y)}` by the chain rule with
    :math:`V` an opaque function, then substitutes :math:`\partial V/\partial y_j`
    (SymPy's derivative of the variance) and a symbol for :math:`V`: every
    check is then an identity between rational functions, decided exactly by
    ``cancel``: derivative = closed form; :math:`J^T = J`;
    :math:`\sigma J/\gamma = P` once :math:`V = \|c\|^2/(m-\delta)` (fails for
    :math:`\epsilon \ne 0`); :math:`P^2 = P`, :math:`P^T = P`; the rank of an
    idempotent is its trace, :math:`m - 2`; :math:`J\mathbf 1 = Jy = 0`.

    >>> jacobian_structure(3, variance="unbiased").rank
    1
    """
    import time

    t0 = time.perf_counter()
    if not isinstance(m, int) or m < 2:
        raise DomainError("m", m, "integer batch size m >= 2")
    g = sp.Symbol("gamma", positive=True) if gamma is None else sp.sympify(gamma)
    ys = _as_batch(m)
    mu, c, var = _stats(ys, variance, eps)
    md = m - _delta(variance)
    Vf = sp.Function("V")(*ys)
    V = sp.Symbol("V", positive=True)
    z = g * c / sp.sqrt(Vf)
    J = z.jacobian(ys)
    J = J.subs({sp.Derivative(Vf, yj): sp.diff(var, yj) for yj in ys}).subs(Vf, V)
    # R = sqrt(V) J: rational in (y, V) once expanded
    R = (J * sp.sqrt(V)).applyfunc(sp.expand)
    Rc = g * (sp.eye(m) - sp.ones(m, m) / m - c * c.T / (md * V))
    zero = lambda M: all(sp.cancel(e) == 0 for e in M)
    eq = zero(R - Rc)
    sym = zero(R - R.T)
    P = projector(list(ys))
    Rv = R.subs(V, var)
    idem = zero(P * P - P) and zero(P - P.T)
    scaled = zero(Rv / g - P)
    is_proj = bool(idem and scaled)
    rank = int(sp.cancel(P.trace())) if is_proj else None
    ker = zero(Rv * sp.Matrix.hstack(sp.ones(m, 1), ys))
    return JacobianStructure(m, variance, eps, eq, sym, is_proj, rank, ker, time.perf_counter() - t0)


def bn_backward(y, g, gamma=1, variance: str = "biased"):
    r"""Gradient through BN, :math:`\nabla_y\hat L = J^T g`, exact for rational inputs (Fractions in, SymPy out).

    >>> bn_backward([0, 1, 3], [1, 0, 0]).T * sp.sqrt(14)
    Matrix([[6/7, -9/7, 3/7]])
    """
    J = bn_jacobian_closed_form(y, gamma, variance)
    return J.T * sp.Matrix([sp.sympify(v) for v in g])


# -- NumPy versions for simulations and seeded random instances -------------------------


def batch_norm_np(Y, gamma=1.0, beta=0.0, variance: str = "biased", eps=0.0, axis=-1):
    """BN of each row of ``Y`` over ``axis`` (the batch axis), NumPy.

    >>> np.round(batch_norm_np(np.array([0., 1., 2.])), 6)
    array([-1.224745,  0.      ,  1.224745])
    """
    Y = np.asarray(Y, dtype=float)
    m = Y.shape[axis]
    c = Y - Y.mean(axis=axis, keepdims=True)
    var = (c ** 2).sum(axis=axis, keepdims=True) / (m - _delta(variance)) + eps
    return gamma * c / np.sqrt(var) + beta


def bn_jacobian_np(y, gamma=1.0, variance: str = "biased", eps=0.0):
    """Closed-form Jacobian at one batch ``y`` (NumPy).

    >>> J = bn_jacobian_np([0., 1., 3.]); bool(np.allclose(J @ J * np.std([0., 1., 3.]), J))
    True
    """
    y = np.asarray(y, dtype=float)
    m = y.size
    c = y - y.mean()
    var = (c @ c) / (m - _delta(variance)) + eps
    return gamma / np.sqrt(var) * (np.eye(m) - np.ones((m, m)) / m - np.outer(c, c) / ((m - _delta(variance)) * var))
