r"""Self-contained NumPy / JAX modules and C ``.c``/``.h`` pairs for the family.

Each generated artefact defines ``fn(x)``, ``nngp_fn(cov12, var1, var2)``
and ``d_nngp_fn(cov12, var1, var2)`` — :math:`\phi`,
:math:`\mathbb{E}[\phi(u)\phi(v)]` and :math:`\mathbb{E}[\phi'(u)\phi'(v)]`
for the covariance ``cov12`` and variances ``var1``, ``var2`` (the signature
of neural-tangents' ``stax.Elementwise``), with the coefficient tables of
:mod:`symbolic_mf.export.family` embedded and nothing imported beyond NumPy
(resp. JAX, resp. libm).

>>> src = numpy_module_source(1, 1, 0)
>>> ns = {}
>>> exec(compile(src, "relu_kernel.py", "exec"), ns)
>>> round(float(ns["nngp_fn"](0.0, 1.0, 1.0)), 15), float(ns["d_nngp_fn"](1.0, 1.0, 1.0))  # 1/(2 pi), 1/2
(0.159154943091895, 0.5)
"""

from __future__ import annotations

import inspect
import pprint

from . import _runtime
from .family import _as_number, family_parameters, ntk_parameters

__all__ = ["numpy_module_source", "jax_module_source", "c_source", "stax_triple", "load_module"]


def _tables(alpha, a, b):
    P = family_parameters(alpha, a, b)
    alpha_n = _as_number(alpha, "alpha")
    Q = ntk_parameters(alpha, a, b) if alpha_n > 0 else None
    return P, Q, float(alpha_n), float(_as_number(a, "a")), float(_as_number(b, "b"))


_PY_TAIL = '''

NNGP_TABLE = {P}
NTK_TABLE = {Q}
ALPHA, A, B = {alpha!r}, {a!r}, {b!r}


def fn(x):
    """phi(x) = A*max(x, 0)**ALPHA - B*max(-x, 0)**ALPHA (0 at x = 0)."""
    x = {asarray}(x)
    ax = {xp}.where(x == 0, {xp}.ones_like(x), {xp}.abs(x)) ** ALPHA
    return {xp}.where(x > 0, A * ax, {xp}.where(x < 0, -B * ax, 0 * x))


def nngp_fn(cov12, var1, var2):
    """E[phi(u) phi(v)] for (u, v) centred Gaussian with Var u = var1, Var v = var2, Cov = cov12."""
    cov12, var1, var2 = {broadcast}
    return _scaled({xp}, NNGP_TABLE, cov12, var1, var2)


def d_nngp_fn(cov12, var1, var2):
    """E[phi'(u) phi'(v)] (the NTK derivative kernel), same arguments as nngp_fn."""
    if NTK_TABLE is None:
        raise ValueError("the derivative kernel needs alpha > 0")
    cov12, var1, var2 = {broadcast}
    return _scaled({xp}, NTK_TABLE, cov12, var1, var2)
'''


def _module(alpha, a, b, backend):
    P, Q, al, a_, b_ = _tables(alpha, a, b)
    runtime = inspect.getsource(_runtime)
    if backend == "numpy":
        head = f'"""Exported by symbolic_mf: kernels of phi = {a}*rho_{alpha}(x) - {b}*rho_{alpha}(-x) (NumPy)."""\n\nimport numpy as np\n'
        xp, asarray = "np", "np.asarray"
        broadcast = "np.broadcast_arrays(*(np.asarray(t, dtype=np.result_type(t, 1.0)) for t in (cov12, var1, var2)))"
    else:
        head = f'"""Exported by symbolic_mf: kernels of phi = {a}*rho_{alpha}(x) - {b}*rho_{alpha}(-x) (JAX, jit-safe)."""\n\nimport jax.numpy as jnp\n'
        xp, asarray = "jnp", "jnp.asarray"
        broadcast = "jnp.broadcast_arrays(*(jnp.asarray(t, dtype=jnp.result_type(float)) for t in (cov12, var1, var2)))"
    tail = _PY_TAIL.format(P=pprint.pformat(P, width=100), Q=pprint.pformat(Q, width=100), alpha=al, a=a_, b=b_,
                           xp=xp, asarray=asarray, broadcast=broadcast)
    return head + "\n" + runtime + tail


def numpy_module_source(alpha, a=1, b=0) -> str:
    """Python source of a NumPy module with ``fn``, ``nngp_fn``, ``d_nngp_fn``."""
    return _module(alpha, a, b, "numpy")


def jax_module_source(alpha, a=1, b=0) -> str:
    """Python source of a JAX module (``jax.numpy`` only, safe under ``jax.jit``)."""
    return _module(alpha, a, b, "jax")


def load_module(source: str, name: str = "smf_exported"):
    """Execute generated source as a fresh module object."""
    import types

    mod = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), mod.__dict__)
    return mod


def stax_triple(alpha, a=1, b=0):
    """``(fn, nngp_fn, d_nngp_fn)`` as JAX functions, for ``stax.Elementwise``.

    Requires JAX (the optional extra ``symbolic_mf[jax]``).
    """
    mod = load_module(jax_module_source(alpha, a, b), "smf_jax_kernel")
    return mod.fn, mod.nngp_fn, mod.d_nngp_fn


# --------------------------------------------------------------------- C ---
_C_RUNTIME = r'''
/* sum_k cf[k] T_k(2t/h - 1): a Chebyshev series on [0, h], by Clenshaw's recurrence */
static double smf_cheb(const double *cf, int n, double t, double h)
{
    if (h == 0.0) {  /* a power series (Horner) */
        double acc = cf[n - 1];
        for (int i = n - 2; i >= 0; --i) acc = acc * t + cf[i];
        return acc;
    }
    double u = t * (2.0 / h) - 1.0, u2 = 2.0 * u, b1 = 0.0, b2 = 0.0;
    for (int i = n - 1; i >= 1; --i) {
        double b0 = u2 * b1 - b2 + cf[i];
        b2 = b1;
        b1 = b0;
    }
    return u * b1 - b2 + cf[0];
}

typedef struct {
    double beta, s, s_lo, a, b, c_right, hf, hp, hq, hr, he, ho; int m, elem;
    const double *f, *p, *q, *r, *e, *o;
    int nf, np, nq, nr, ne, no;
} smf_table;

/* t^s for s = s_hi + s_lo exactly (s_lo: rounding error of s in double) */
static double smf_pow(const smf_table *P, double t)
{
    double out = pow(t, P->s);
    if (P->s_lo != 0.0 && t > 0.0) out *= 1.0 + P->s_lo * log(t);
    return out;
}

/* k(c) = E[rho_beta(u) rho_beta(v)], unit variances, by region (see symbolic_mf.export._runtime) */
#define SMF_INV_2PI 0.15915494309189535

/* the arc-cosine kernels: k_0 (any c), k_1 (c >= 0): phi = atan2(s, -c), s = sqrt((1-c)(1+c)) */
static double smf_elementary(const smf_table *P, double c)
{
    double s = sqrt((1.0 - c) * (1.0 + c)), phi = atan2(s, -c);
    return (P->elem == 0 ? phi : s + phi * c) * SMF_INV_2PI;
}

static double smf_rho_kernel(const smf_table *P, double c)
{
    if (P->elem == 0 || (P->elem == 1 && c >= 0.0)) return smf_elementary(P, c);
    if (c < 0.0) {
        double x = 0.5 * (1.0 + c);
        return smf_pow(P, 2.0 * x) * smf_cheb(P->f, P->nf, x, P->hf);
    }
    if (c > P->c_right) {
        double y = 0.5 * (1.0 - c);
        double k = smf_cheb(P->p, P->np, y, P->hp) + smf_pow(P, y) * smf_cheb(P->q, P->nq, y, P->hq);
        if (P->nr > 0 && y > 0.0) k += pow(y, P->m) * log(y) * smf_cheb(P->r, P->nr, y, P->hr);
        return k;
    }
    double z = c * c;
    return smf_cheb(P->e, P->ne, z, P->he) + c * smf_cheb(P->o, P->no, z, P->ho);
}

static double smf_family_kernel(const smf_table *P, double c)
{
    double a = P->a, b = P->b;
    double kc = smf_rho_kernel(P, c);
    if (b == 0.0) return a * a * kc;
    double kmc = smf_rho_kernel(P, -c);
    double A = (a * a + b * b) * kc, B = 2.0 * a * b * kmc;
    if (a * b <= 0.0) return A - B;
    double odd = P->elem == 1 ? 0.25 * c
               : P->elem == 0 ? atan2(c, sqrt((1.0 - c) * (1.0 + c))) * SMF_INV_2PI
               : fabs(c) <= P->c_right ? c * smf_cheb(P->o, P->no, c * c, P->ho) : 0.5 * (kc - kmc);
    if (a == b) return 4.0 * a * a * odd;
    double even = 0.5 * (kc + kmc);
    double ke = (a - b) * (a - b) * even + (a + b) * (a + b) * odd;
    double cond_e = (a - b) * (a - b) * even + (a + b) * (a + b) * fabs(odd);
    return (A + B <= cond_e) ? A - B : ke;
}

static double smf_scaled(const smf_table *P, double cov12, double var1, double var2)
{
    double prod = var1 * var2, c = 0.0, root = 0.0;
    if (prod > 0.0) { root = sqrt(prod); c = cov12 / root; }
    if (c > 1.0) c = 1.0;
    if (c < -1.0) c = -1.0;
    double k = smf_family_kernel(P, c);
    if (P->beta == 0.0) return k;
    if (P->beta == 1.0) return root * k;
    return pow(prod > 0.0 ? prod : 0.0, 0.5 * P->beta) * k;
}
'''


def _c_array(name, vals):
    vals = vals or [0.0]
    body = ",\n    ".join(", ".join(repr(float(v)) for v in vals[i:i + 4]) for i in range(0, len(vals), 4))
    return f"static const double {name}[{len(vals)}] = {{\n    {body}\n}};\n"


def _c_table(tag, P):
    out = ""
    for key in ("f", "p", "q", "r", "e", "o"):
        out += _c_array(f"{tag}_{key}", P[key])
    lens = ", ".join(str(len(P[k])) for k in ("f", "p", "q")) + f", {len(P['r'])}, " + \
        ", ".join(str(len(P[k])) for k in ("e", "o"))
    out += (f"static const smf_table {tag} = {{ {P['beta']!r}, {P['s']!r}, {P['s_lo']!r}, {P['a']!r}, {P['b']!r}, {P['c_right']!r}, {P['hf']!r}, {P['hp']!r}, {P['hq']!r}, {P['hr']!r}, {P['he']!r}, {P['ho']!r}, {P['m']}, {P.get('elem', -1)},\n"
            f"    {tag}_f, {tag}_p, {tag}_q, {tag}_r, {tag}_e, {tag}_o, {lens} }};\n")
    return out


def c_source(alpha, a=1, b=0, prefix="smf"):
    """``(header, source)`` of a C99 pair depending only on libm.

    Functions: ``PREFIX_nngp_fn``, ``PREFIX_d_nngp_fn`` (scalars) and
    ``PREFIX_nngp_fn_array``/``PREFIX_d_nngp_fn_array`` (n entries).
    """
    P, Q, al, a_, b_ = _tables(alpha, a, b)
    guard = prefix.upper() + "_KERNEL_H"
    header = (f"/* Exported by symbolic_mf: kernels of phi = {a}*rho_{alpha}(x) - {b}*rho_{alpha}(-x). */\n"
              f"#ifndef {guard}\n#define {guard}\n#include <stddef.h>\n"
              f"double {prefix}_nngp_fn(double cov12, double var1, double var2);\n"
              f"double {prefix}_d_nngp_fn(double cov12, double var1, double var2);\n"
              f"void {prefix}_nngp_fn_array(const double *cov12, const double *var1, const double *var2, double *out, size_t n);\n"
              f"void {prefix}_d_nngp_fn_array(const double *cov12, const double *var1, const double *var2, double *out, size_t n);\n"
              f"#endif\n")
    src = f'#include <math.h>\n#include <stddef.h>\n#include "{prefix}_kernel.h"\n' + _C_RUNTIME
    src += _c_table(f"{prefix}_nngp_table", P)
    if Q is not None:
        src += _c_table(f"{prefix}_ntk_table", Q)
    src += (f"double {prefix}_nngp_fn(double cov12, double var1, double var2)\n"
            f"{{ return smf_scaled(&{prefix}_nngp_table, cov12, var1, var2); }}\n")
    ntk = f"smf_scaled(&{prefix}_ntk_table, cov12, var1, var2)" if Q is not None else "NAN"
    src += f"double {prefix}_d_nngp_fn(double cov12, double var1, double var2)\n{{ return {ntk}; }}\n"
    for fn in ("nngp_fn", "d_nngp_fn"):
        src += (f"void {prefix}_{fn}_array(const double *cov12, const double *var1, const double *var2, double *out, size_t n)\n"
                f"{{ for (size_t i = 0; i < n; ++i) out[i] = {prefix}_{fn}(cov12[i], var1[i], var2[i]); }}\n")
    return header, src
