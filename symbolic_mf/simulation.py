r"""Finite-width experiments beside the mean-field theory (seeded NumPy, real backpropagation).

:func:`compare_feedforward` and :func:`compare_residual` run networks of a
given width and depth on two inputs for a few seeds, measure lengths,
correlations and gradient norms layer by layer, and return them next to the
infinite-width predictions of :mod:`symbolic_mf.meanfield` /
:mod:`symbolic_mf.residual`, with relative errors and, so that a deviation
can be told from a finite-width fluctuation, standard errors over seeds
(``z`` scores) and the maps applied to each measured layer (``one_step``).

Gradients are computed by backpropagation through the very network that
produced the forward pass (no independence assumption on the simulation
side): for the feed-forward net :math:`\delta^l = \phi'(h^l)\odot
W^{l+1\,T}\delta^{l+1}` from :math:`\delta^L = \phi'(h^L)\odot v`, v a random
readout, and the measured :math:`\chi` is :math:`\|\delta^l\|^2/\|\delta^{l+1}\|^2`.

>>> from symbolic_mf.activations import tanh
>>> r = compare_feedforward(tanh(), 1.5, 0.3, width=200, depth=6, seeds=(0,))
>>> sorted(r)
['layers', 'one_step', 'rel_error', 'simulation', 'theory', 'z']
>>> bool(abs(r["rel_error"]["q"][-1]) < 0.2)
True
"""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
import sympy as sp
from mpmath import mp

from .activations import HomogeneousActivation, x
from .errors import DomainError
from .meanfield import _activation, _check_sigmas, moments

__all__ = ["numpy_activation", "simulate_feedforward", "theory_feedforward", "compare_feedforward",
           "simulate_residual", "theory_residual", "compare_residual"]


def numpy_activation(phi):
    """``(f, df)``: NumPy callables for φ and φ'.

    >>> from symbolic_mf.activations import relu
    >>> f, df = numpy_activation(relu())
    >>> f(np.array([-1.0, 2.0])).tolist(), df(np.array([-1.0, 2.0])).tolist()
    ([0.0, 2.0], [0.0, 1.0])
    """
    phi = _activation(phi)
    if isinstance(phi, HomogeneousActivation):
        al, a, b = float(phi.alpha), float(phi.a), float(phi.b)

        def f(h):
            return a * np.maximum(h, 0) ** al - b * np.maximum(-h, 0) ** al

        def df(h):
            if al == 0:
                return np.zeros_like(h)
            with np.errstate(divide="ignore", invalid="ignore"):
                pos = np.where(h > 0, al * np.abs(h) ** (al - 1), 0.0)
                neg = np.where(h < 0, al * np.abs(h) ** (al - 1), 0.0)
            return a * pos + b * neg

        return f, df
    try:
        from scipy.special import erf as erf_np
    except ImportError:  # SciPy is optional: math.erf elementwise (slower, same values)
        import math

        erf_np = np.vectorize(math.erf, otypes=[float])
    mods = ["numpy", {"erf": erf_np}]
    from .functions import rho
    # kinked activations (ELU, SELU: rho_alpha factors) as Piecewise, which NumPy evaluates
    expr = phi.expr.replace(lambda e: isinstance(e, rho), lambda e: e.rewrite(sp.Piecewise))
    f = sp.lambdify(x, expr, mods)
    df = sp.lambdify(x, sp.diff(expr, x), mods)
    return (lambda h: f(h) + 0 * h), (lambda h: df(h) + 0 * h)


def _check_size(width, depth, seeds):
    if not isinstance(width, int) or width < 2:
        raise DomainError("width", width, "an integer >= 2")
    if not isinstance(depth, int) or depth < 1:
        raise DomainError("depth", depth, "an integer >= 1")
    if not seeds:
        raise DomainError("seeds", seeds, "a non-empty sequence of integer seeds")


#: input pairs per network: lengths and correlations are averaged over them (one network per seed)
PAIRS = 8


def _inputs(rng, N, q0, c0, B=PAIRS):
    """B pairs of inputs (columns) with squared length q0*N and correlation exactly c0."""
    u = rng.standard_normal((N, B))
    w = rng.standard_normal((N, B))
    w -= np.sum(w * u, axis=0) / np.sum(u * u, axis=0) * u
    u *= np.sqrt(q0 * N) / np.linalg.norm(u, axis=0)
    w *= np.sqrt(q0 * N) / np.linalg.norm(w, axis=0)
    return u, c0 * u + np.sqrt(1 - c0 * c0) * w


def _sq(a):
    return np.sum(a * a, axis=0)


def _corr(a1, a2):
    return np.mean(np.sum(a1 * a2, axis=0) / np.sqrt(_sq(a1) * _sq(a2)))


def simulate_feedforward(phi, sigma_w, sigma_b, width=1000, depth=50, seeds=(0, 1, 2), q0=1.0, c0=0.5):
    r"""Measured :math:`q^l`, :math:`c^l` (l = 1..depth) and :math:`\chi^l` (l = 1..depth-1), averaged over seeds.

    >>> from symbolic_mf.activations import relu
    >>> s = simulate_feedforward(relu(), 2 ** 0.5, 0, width=100, depth=3, seeds=(0,))
    >>> len(s["q"]), len(s["chi"])
    (3, 2)
    """
    _check_size(width, depth, seeds)
    sw, sb = (float(v) for v in _check_sigmas(sigma_w, sigma_b))
    f, df = numpy_activation(phi)
    N = width
    Q, C, CHI = [], [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        x1, x2 = _inputs(rng, N, q0, c0)
        hs, Ws = [], []
        a1, a2 = x1, x2
        qs, cs = [], []
        for l in range(depth):
            W = rng.standard_normal((N, N)) * sw / np.sqrt(N)
            b = rng.standard_normal((N, 1)) * sb
            h1, h2 = W @ a1 + b, W @ a2 + b
            Ws.append(W)
            hs.append(h1)
            qs.append(np.mean(np.concatenate([_sq(h1), _sq(h2)])) / N)
            cs.append(_corr(h1, h2))
            a1, a2 = f(h1), f(h2)
        v = rng.standard_normal(hs[-1].shape)
        delta = df(hs[-1]) * v
        norms = [np.sum(delta * delta)]
        for l in range(depth - 2, -1, -1):
            delta = df(hs[l]) * (Ws[l + 1].T @ delta)
            norms.append(np.sum(delta * delta))
        norms = norms[::-1]  # norms[l] = ||delta^{l+1}||^2
        Q.append(qs)
        C.append(cs)
        CHI.append([norms[l] / norms[l + 1] for l in range(depth - 1)])
    Q, C, LCHI = np.array(Q), np.array(C), np.log(CHI)
    return {"q": Q.mean(axis=0), "c": C.mean(axis=0), "chi": np.exp(LCHI.mean(axis=0)),
            "q_sd": Q.std(axis=0), "c_sd": C.std(axis=0),
            "q_se": _se(Q), "c_se": _se(C), "log_chi_se": _se(LCHI),
            "per_seed": {"q": Q, "c": C, "log_chi": LCHI}}


def _se(a):
    """Standard error of the mean over seeds (axis 0); NaN with a single seed."""
    n = a.shape[0]
    return a.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(a.shape[1:], np.nan)


class FloatMoments:
    r"""Double-precision Gaussian moments by the trapezoidal rule (for simulations of analytic activations).

    Same interface as :class:`symbolic_mf.meanfield.Moments`.  The integrand
    :math:`\phi(\sqrt q z)` varies on the scale :math:`1/\sqrt q` in z (tanh has
    poles at :math:`z = \pm i\pi/(2\sqrt q)`), so a fixed rule loses accuracy as
    q grows (120-point Gauss-Hermite was off by 1 % in :math:`\mathbb E\tanh'^2`
    at q = 10 and by half at q = 50, the variances a residual network reaches).
    Here the step is :math:`h = \min(1/4, H/\sqrt q)` on :math:`|z| \le 9`: for
    :math:`\phi` analytic in the strip :math:`|\mathrm{Im}\,x| < d` the error is
    about :math:`e^{-2\pi d/H}` (:math:`10^{-28}` for tanh with H = 0.15), below
    double precision; the Gaussian tail beyond 9 holds :math:`2\cdot10^{-19}`.

    >>> from symbolic_mf.activations import tanh
    >>> m = FloatMoments(tanh())
    >>> round(float(m.second(1)), 8), round(float(m.dsecond(50)), 8)
    (0.39429449, 0.0749841)
    """

    route = "trapezoidal rule, step scaled with the variance (double precision)"

    def __init__(self, phi, H=0.15):
        self.f, self.df = numpy_activation(phi)
        self.H = float(H)
        self._rules = {}

    def _rule(self, q):
        h = min(0.25, self.H / np.sqrt(q)) if q > 0 else 0.25
        n = int(np.ceil(9 / h))
        if n not in self._rules:
            z = np.arange(-n, n + 1) * (9 / n)
            w = np.exp(-z * z / 2)
            self._rules[n] = (z, w / w.sum())
        return self._rules[n]

    def _e(self, q, g):
        z, w = self._rule(float(q))
        return mp.mpf(float(np.sum(w * g(np.sqrt(float(q)) * z))))

    def second(self, q):
        return self._e(q, lambda x: self.f(x) ** 2)

    def dsecond(self, q):
        return self._e(q, lambda x: self.df(x) ** 2)

    def mean(self, q):
        return self._e(q, self.f)

    def kernel(self, q, c):
        z, w = self._rule(float(q))
        s, c = np.sqrt(float(q)), float(c)
        r = np.sqrt(max(1 - c * c, 0.0))
        fz = self.f(s * z)
        # sum_i w_i f(s z_i) sum_j w_j f(s (c z_i + r z_j)), one row of the grid at a time
        inner = np.array([np.dot(w, self.f(s * (c * zi + r * z))) for zi in z])
        return mp.mpf(float(np.dot(w * fz, inner)))


def _sim_moments(phi):
    m = moments(phi, 15)
    return FloatMoments(phi) if m.route.startswith("trapezoidal") else m


def theory_feedforward(phi, sigma_w, sigma_b, depth=50, q0=1.0, c0=0.5, dps=15):
    r"""Mean-field :math:`q^l, c^l` (l = 1..depth) from the length and correlation maps, and :math:`\chi^l = \sigma_w^2\mathbb E[\phi'(\sqrt{q^l}z)^2]`.

    >>> from symbolic_mf.activations import relu
    >>> t = theory_feedforward(relu(), 2 ** 0.5, 0, depth=3)
    >>> [round(float(v), 12) for v in t["q"]]
    [2.0, 2.0, 2.0]
    """
    sw, sb = _check_sigmas(sigma_w, sigma_b)
    m = _sim_moments(phi)
    with mp.workdps(dps):
        q = sw ** 2 * mp.mpf(q0) + sb ** 2
        cov = sw ** 2 * mp.mpf(q0) * mp.mpf(c0) + sb ** 2
        Q, C, X = [], [], []
        for l in range(depth):
            Q.append(q)
            C.append(cov / q)
            X.append(sw ** 2 * m.dsecond(q))
            cov = sw ** 2 * m.kernel(q, max(min(cov / q, mp.one), -mp.one)) + sb ** 2
            q = sw ** 2 * m.second(q) + sb ** 2
    return {"q": np.array([float(v) for v in Q]), "c": np.array([float(v) for v in C]),
            "chi": np.array([float(v) for v in X[:-1]])}


def _rel(sim, th):
    th = np.asarray(th, dtype=float)
    return (np.asarray(sim, dtype=float) - th) / np.where(th == 0, 1.0, np.abs(th))


def compare_feedforward(phi, sigma_w, sigma_b, width=1000, depth=50, seeds=(0, 1, 2), q0=1.0, c0=0.5) -> Dict:
    """Theory and simulation side by side.

    ``theory``, ``simulation``, ``rel_error``: dicts of arrays over layers;
    ``z``: (simulation - theory) / standard error of the seed mean, for ``q``,
    ``c`` and ``log_chi`` (close to standard normal with 8 or more seeds; with
    fewer the standard error is itself uncertain); ``one_step``: the maps
    applied to each measured layer (:func:`_one_step_feedforward`), which
    separates an error of the maps from fluctuations accumulated over depth.

    >>> from symbolic_mf.activations import relu
    >>> r = compare_feedforward(relu(), 2 ** 0.5, 0.1, width=200, depth=10, seeds=range(8))
    >>> sorted(r["z"]), bool(abs(r["one_step"]["q_bias"]) < 4 * r["one_step"]["q_bias_se"])
    (['c', 'log_chi', 'q'], True)
    """
    th = theory_feedforward(phi, sigma_w, sigma_b, depth, q0, c0)
    sim = simulate_feedforward(phi, sigma_w, sigma_b, width, depth, seeds, q0, c0)
    rel = {k: _rel(sim[k], th[k]) for k in ("q", "c", "chi")}
    # the total gradient ratio ||delta^1||^2 / ||delta^L||^2 = prod chi
    th["log_grad"] = float(np.sum(np.log(th["chi"])))
    sim["log_grad"] = float(np.sum(np.log(sim["chi"])))
    # relative where the theory is O(1) or larger, absolute near 0 (at criticality log_grad = 0)
    rel["log_grad"] = (sim["log_grad"] - th["log_grad"]) / max(abs(th["log_grad"]), 1.0)
    z = {"q": _z(sim["q"], th["q"], sim["q_se"]), "c": _z(sim["c"], th["c"], sim["c_se"]),
         "log_chi": _z(np.log(sim["chi"]), np.log(th["chi"]), sim["log_chi_se"])}
    one = _one_step_feedforward(phi, sigma_w, sigma_b, sim["per_seed"])
    return {"layers": np.arange(1, depth + 1), "theory": th, "simulation": sim, "rel_error": rel, "z": z,
            "one_step": one}


def _z(sim, th, se):
    """(simulation - theory) / standard error of the seed mean (NaN where the error is 0 or unknown)."""
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, (np.asarray(sim) - np.asarray(th)) / se, np.nan)


def _one_step_feedforward(phi, sigma_w, sigma_b, per_seed):
    r"""Relative error of one application of the maps to the *measured* layer:
    :math:`q^{l+1}` vs :math:`\sigma_w^2\mathbb E\phi(\sqrt{q^l}z)^2 + \sigma_b^2` and :math:`c^{l+1}` vs
    the correlation map at the measured :math:`(q^l, c^l)`, per seed, then averaged over seeds (l = 1..depth-1);
    ``q_bias``/``c_bias`` average them over layers too, with their standard errors ``*_bias_se``.

    The trajectories themselves carry finite-width fluctuations that accumulate
    with depth (for ReLU, :math:`\log q^l` performs a random walk of
    variance about :math:`5l/N`, while :math:`\mathbb E q^l` is exact); the one-step
    errors isolate the maps from that accumulation.
    """
    sw, sb = (float(v) for v in _check_sigmas(sigma_w, sigma_b))
    m = _sim_moments(phi)
    Q, C = per_seed["q"], per_seed["c"]
    with mp.workdps(15):
        second = {}
        pq, pc = np.empty_like(Q[:, 1:]), np.empty_like(C[:, 1:])
        for i in range(Q.shape[0]):
            for l in range(Q.shape[1] - 1):
                q, c = float(Q[i, l]), min(max(float(C[i, l]), -1.0), 1.0)
                s2 = second.setdefault(q, float(m.second(q)))
                pq[i, l] = sw * sw * s2 + sb * sb
                pc[i, l] = (sw * sw * float(m.kernel(q, c)) + sb * sb) / pq[i, l]
    eq, ec = Q[:, 1:] / pq - 1, C[:, 1:] / pc - 1
    # each layer draws fresh weights, so the one-step errors are nearly independent across layers and seeds
    return {"q": eq.mean(axis=0), "c": ec.mean(axis=0), "q_bias": float(eq.mean()), "c_bias": float(ec.mean()),
            "q_bias_se": float(eq.std(ddof=1) / np.sqrt(eq.size)), "c_bias_se": float(ec.std(ddof=1) / np.sqrt(ec.size))}


def simulate_residual(phi, sigma_w, sigma_v=1.0, sigma_b=0.0, sigma_a=0.0, width=1000, depth=50, seeds=(0, 1, 2),
                      p0=1.0, e0=0.5, variant="full"):
    r"""Full (or reduced) residual network: measured :math:`p^l`, :math:`e^l` (l = 0..depth) and :math:`\log\chi^0/\chi^l`.

    The gradient is that of :math:`E = v\cdot x^L`, backpropagated:
    :math:`g^{l-1} = g^l + W^{l\,T}(\phi'(h^l)\odot V^{l\,T}g^l)` (V = I for
    the reduced network).

    >>> from symbolic_mf.activations import erf
    >>> s = simulate_residual(erf(), 1.0, width=100, depth=3, seeds=(0,), variant="reduced")
    >>> len(s["p"]), len(s["log_chi"])
    (4, 4)
    """
    _check_size(width, depth, seeds)
    if variant not in ("full", "reduced"):
        raise DomainError("variant", variant, "'full' or 'reduced'")
    f, df = numpy_activation(phi)
    N = width
    P, E, G = [], [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        x1, x2 = _inputs(rng, N, p0, e0)
        ps, es, cache = [np.mean(_sq(x1)) / N], [_corr(x1, x2)], []
        for l in range(depth):
            W = rng.standard_normal((N, N)) * sigma_w / np.sqrt(N)
            b = rng.standard_normal((N, 1)) * sigma_b
            h1, h2 = W @ x1 + b, W @ x2 + b
            if variant == "full":
                V = rng.standard_normal((N, N)) * sigma_v / np.sqrt(N)
                a = rng.standard_normal((N, 1)) * sigma_a
                x1, x2 = V @ f(h1) + x1 + a, V @ f(h2) + x2 + a
            else:
                V = None
                x1, x2 = f(h1) + x1, f(h2) + x2
            cache.append((W, V, h1))
            ps.append(np.mean(_sq(x1)) / N)
            es.append(_corr(x1, x2))
        g = rng.standard_normal(x1.shape)
        norms = [np.sum(g * g)]
        for W, V, h in reversed(cache):
            t = V.T @ g if V is not None else g
            g = g + W.T @ (df(h) * t)
            norms.append(np.sum(g * g))
        norms = norms[::-1]  # norms[l] = ||g^l||^2
        P.append(ps)
        E.append(es)
        G.append([np.log(norms[0] / norms[l]) for l in range(depth + 1)])
    P, E, G = np.array(P), np.array(E), np.array(G)
    return {"p": P.mean(axis=0), "e": E.mean(axis=0), "log_chi": G.mean(axis=0),
            "p_se": _se(P), "e_se": _se(E), "log_chi_se": _se(G), "per_seed": {"p": P, "e": E, "log_chi": G}}


def theory_residual(phi, sigma_w, sigma_v=1.0, sigma_b=0.0, sigma_a=0.0, depth=50, p0=1.0, e0=0.5, variant="full"):
    """Mean-field p^l, e^l, log(chi^0/chi^l) from :func:`symbolic_mf.residual.iterate` (l = 0..depth)."""
    from .residual import iterate

    r = iterate(phi, depth, sigma_w, sigma_v, sigma_b, sigma_a, p0=p0, e0=e0, variant=variant, dps=15,
                mom=_sim_moments(phi))
    return {"p": np.array([float(v) for v in r.p]), "e": np.array([float(v) for v in r.e]),
            "log_chi": np.array([float(v) for v in r.log_chi])}


def compare_residual(phi, sigma_w, sigma_v=1.0, sigma_b=0.0, sigma_a=0.0, width=1000, depth=50, seeds=(0, 1, 2),
                     p0=1.0, e0=0.5, variant="full") -> Dict:
    """Residual theory and simulation side by side (same layout as :func:`compare_feedforward`).

    >>> from symbolic_mf.activations import relu
    >>> r = compare_residual(relu(), 1.0, 0.5, width=200, depth=5, seeds=(0,))
    >>> bool(abs(r["rel_error"]["p"][-1]) < 0.2)
    True
    """
    th = theory_residual(phi, sigma_w, sigma_v, sigma_b, sigma_a, depth, p0, e0, variant)
    sim = simulate_residual(phi, sigma_w, sigma_v, sigma_b, sigma_a, width, depth, seeds, p0, e0, variant)
    rel = {k: _rel(sim[k], th[k]) for k in ("p", "e")}
    rel["log_chi"] = _rel(sim["log_chi"][1:], th["log_chi"][1:])
    z = {k: _z(sim[k], th[k], sim[k + "_se"]) for k in ("p", "e", "log_chi")}
    return {"layers": np.arange(0, depth + 1), "theory": th, "simulation": sim, "rel_error": rel, "z": z}
