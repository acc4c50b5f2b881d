"""``export`` and ``latex``: numeric code and LaTeX for a kernel or an identity.

>>> import os
>>> main(["export", "relu", "--to", "numpy", "-o", os.devnull])
wrote /dev/null
0
>>> main(["latex", "homogeneous:1,1,0"])  # doctest: +ELLIPSIS
K\\left(c\\right) = ...
0
"""

from __future__ import annotations

import os
import re

import sympy as sp

from ..errors import DomainError

_HOMOG_RE = re.compile(r"^homogeneous:\s*([^,]+),\s*([^,]+),\s*([^,]+)$")


def parse_family_spec(spec):
    """``(alpha, a, b)`` from an activation spec (``relu``, ``leaky_relu``, ``rho_1/2``,
    ``abs_2``, ``signed_3``, ``homogeneous:ALPHA,A,B``)."""
    from ..activations import HomogeneousActivation, get_activation

    m = _HOMOG_RE.match(str(spec).strip())
    if m:
        vals = []
        for name, txt in zip(("alpha", "a", "b"), m.groups()):
            try:
                vals.append(sp.Rational(txt.strip()))
            except (TypeError, ValueError):
                raise DomainError(name, txt, "a real number, e.g. 1/2 or 0.1") from None
        return tuple(vals)
    act = get_activation(spec)
    if not isinstance(act, HomogeneousActivation) or not act.alpha.is_number:
        raise DomainError("activation", spec, "a member of the alpha-homogeneous family "
                          "(relu, leaky_relu, step, identity, rho_<alpha>, abs_<alpha>, signed_<alpha>, "
                          "homogeneous:ALPHA,A,B); other activations export through symbolic_mf.export.printers")
    return act.alpha, act.a, act.b


def add_parser(sub):
    p = sub.add_parser("export", help="export a kernel to NumPy, JAX, C or LaTeX",
                       description="Write nngp_fn(cov12, var1, var2) and d_nngp_fn(cov12, var1, var2) "
                                   "(E[phi(u)phi(v)] and E[phi'(u)phi'(v)]) for an alpha-homogeneous activation "
                                   "or one with a Fourier-engine closed form (erf, gelu, sin, cos, exp), ELU "
                                   "(orthant engine: closed forms in the bivariate normal CDF), or tanh, swish, "
                                   "softplus (certified Mehler series: absolute error <= --tol; numpy/jax/c only). "
                                   "Example: symbolic-mf export leaky_relu --to numpy -o leaky.py")
    p.add_argument("spec", help="relu, leaky_relu, step, identity, rho_<alpha>, abs_<alpha>, signed_<alpha>, "
                                "homogeneous:ALPHA,A,B; erf, gelu, sin, cos, exp; elu, elu:a=A; tanh, swish, softplus")
    p.add_argument("--to", choices=["numpy", "jax", "c", "latex"], default="numpy")
    p.add_argument("-o", "--output", help="file (numpy/jax/latex) or path stem for STEM_kernel.c/.h (c); "
                                          "default: standard output")
    p.add_argument("--prefix", default="smf", help="C symbol prefix")
    p.add_argument("--tol", type=float, default=1e-12,
                   help="absolute tolerance of the series kernels (tanh, swish, softplus), in [1e-14, 1e-2]")
    p.set_defaults(func=cmd_export)
    q = sub.add_parser("latex", help="LaTeX of an identity or a kernel",
                       description="Print LaTeX of a catalogue identity (by id) or of the dual kernel of an activation.")
    q.add_argument("target", help="identity id or activation spec")
    q.add_argument("--markdown", action="store_true", help="wrap in $$ for Markdown")
    q.set_defaults(func=cmd_latex)


def _kernel_latex(spec):
    from ..export.family import family_kernel_expr
    from ..export.latex import to_latex

    alpha, a, b = parse_family_spec(spec)
    c = sp.Symbol("c", real=True)
    return r"K\left(c\right) = %s \qquad \left(c \in \left[-1, 1\right]\right)" % to_latex(
        family_kernel_expr(alpha, a, b, c))


def cmd_latex(args):
    from ..errors import UnknownIdentityError
    from ..export.latex import identity_latex

    try:
        from ..catalogue import get_identity

        tex = identity_latex(get_identity(args.target))
    except UnknownIdentityError:
        tex = _kernel_latex(args.target)
    print(f"$${tex}$$" if args.markdown else tex)
    return 0


SERIES = ("tanh", "swish", "softplus")


def _routed_activation(spec, family_error):
    """``(route, phi)``: "fourier" if the Fourier engine derives its kernels in closed form (erf, gelu, sin, cos,
    exp), "orthant" for ELU (closed forms in the bivariate normal CDF), "series" for tanh, swish, softplus (the
    certified Mehler series); else ``family_error`` with the alternatives named."""
    from ..activations import get_activation
    from ..export import fourier, orthant

    valid = (family_error.valid + "; or an activation whose kernels the Fourier engine derives in closed form "
             "(erf, gelu, sin, cos, exp); elu, elu:a=A (orthant engine); tanh, swish, softplus (certified Mehler "
             "series, --tol)")
    try:
        phi = get_activation(spec)
    except DomainError:
        raise DomainError("activation", spec, valid) from None
    if getattr(phi, "name", "") in SERIES:
        return "series", phi
    try:
        fourier.kernel_expressions(phi)
        return "fourier", phi
    except DomainError:
        pass
    if str(getattr(phi, "name", "")).startswith("elu"):
        try:
            orthant.kernel_expressions(phi)
            return "orthant", phi
        except Exception:  # pragma: no cover - the orthant engine rejects it
            pass
    raise DomainError("activation", spec, valid)


def _cmd_export_routed(args, route, phi):
    from ..export import fourier, orthant, series
    from ..export.latex import to_latex

    if args.to == "latex":
        if route == "series":
            raise DomainError("--to", "latex", "numpy, jax or c for tanh, swish, softplus (no closed form)")
        K, _ = (fourier if route == "fourier" else orthant).kernel_expressions(phi)
        out = r"K = %s" % to_latex(K) + (r" \qquad \left(\rho = \frac{cov_{12}}{\sqrt{var_{1} var_{2}}}\right)"
                                          if route == "orthant" else "") + "\n"
    elif args.to in ("numpy", "jax"):
        if route == "series":
            out = series.module_source(phi, tol=args.tol, backend=args.to)
        else:
            out = (fourier if route == "fourier" else orthant).module_source(phi, args.to)
    else:
        if route == "series":
            out = series.c_kernel_source(phi, prefix=args.prefix, tol=args.tol)
        else:
            out = (fourier if route == "fourier" else orthant).c_kernel_source(phi, prefix=args.prefix)
        if args.output:
            args.output = f"{args.output}_kernel.c"
    return _emit(out, args.output)


def _emit(out, path):
    """Write ``out`` to ``path`` (and say so) or to standard output; exit status 0."""
    if path:
        with open(path, "w") as fh:
            fh.write(out)
        print(f"wrote {path}")
    else:
        print(out, end="")
    return 0


def cmd_export(args):
    from ..export import codegen

    try:
        parse_family_spec(args.spec)
    except DomainError as e:
        return _cmd_export_routed(args, *_routed_activation(args.spec, e))
    if args.to == "latex":
        out = _kernel_latex(args.spec) + "\n"
    elif args.to in ("numpy", "jax"):
        alpha, a, b = parse_family_spec(args.spec)
        make = codegen.numpy_module_source if args.to == "numpy" else codegen.jax_module_source
        out = make(alpha, a, b)
    else:
        alpha, a, b = parse_family_spec(args.spec)
        header, source = codegen.c_source(alpha, a, b, prefix=args.prefix)
        if not args.output:
            print(header)
            print(source.replace(f'#include "{args.prefix}_kernel.h"\n', header.split("#endif")[0].split("#include <stddef.h>\n", 1)[1]))
            return 0
        h, cfile = f"{args.output}_kernel.h", f"{args.output}_kernel.c"
        with open(h, "w") as fh:
            fh.write(header)
        with open(cfile, "w") as fh:
            fh.write(source.replace(f'"{args.prefix}_kernel.h"', f'"{os.path.basename(h)}"'))
        print(f"wrote {h} and {cfile}")
        return 0
    return _emit(out, args.output)


def main(argv):
    from . import main as _main

    return _main(argv)
