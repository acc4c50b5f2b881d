"""``kernel``: print the derived dual kernel of an activation, its method and values.

>>> main_ = __import__("symbolic_mf.cli", fromlist=["main"]).main
>>> main_(["kernel", "relu", "--at", "0", "--dps", "15"])  # doctest: +NORMALIZE_WHITESPACE
K(c) = -c*acos(c)/(2*pi) + c/2 + sqrt(1 - c**2)/(2*pi)
method: hermite (Hermite/Mehler series summed to 2F1, hyperexpanded for integer alpha)
K(0) = 0.159154943091895
0
"""

from __future__ import annotations

import json

import sympy as sp
from mpmath import mp

from ..activations import HomogeneousActivation, get_activation
from ..errors import DomainError

METHOD_TEXT = {
    "hermite": "Hermite/Mehler series summed to 2F1, hyperexpanded for integer alpha",
    "polar": "Cho & Saul polar route: radial Gamma integral x angular integral",
    "bessel": "Yang & Schoenholz K_0 integral representation of the product density",
    "stable": "Hermite form for c >= 0, Bessel-Laplace 2F1((1+c)/2) form for c < 0",
    "orthant": "tilted orthant probabilities e^{Q/2} Phi_2 differentiated (kink at 0, pieces x^i e^{lambda x}: ELU)",
}

def parse_spec(spec: str):
    """An activation from ``NAME[:key=value,...]`` (see :func:`symbolic_mf.activations.parse_activation_spec`).

    >>> parse_spec("homogeneous:alpha=1.5,a=1,b=0.3").b
    3/10
    """
    return get_activation(spec)


def add_parser(sub):
    p = sub.add_parser(
        "kernel",
        help="derive the dual kernel E[phi(u) phi(v)] of an activation",
        description=(
            "Derive K(c) = E[phi(u)phi(v)] (unit variances, correlation c) for phi = a rho_alpha(x) - "
            "b rho_alpha(-x). SPEC is NAME[:key=value,...]: relu, step, identity, abs[:alpha=A], "
            "signed[:alpha=A], rho:alpha=0.7, homogeneous:alpha=1.5,a=1,b=0.3, leaky_relu:slope=0.1. "
            "A parameter given as a name (alpha=alpha) stays symbolic."
        ),
    )
    p.add_argument("spec")
    p.add_argument("--method", default="hermite", choices=list(METHOD_TEXT))
    p.add_argument("--derivative", action="store_true", help="E[phi'(u) phi'(v)] instead")
    p.add_argument("--at", nargs="+", default=[], metavar="C", help="correlations at which to evaluate")
    p.add_argument("--dps", type=int, default=30)
    p.add_argument("--latex", action="store_true")
    p.add_argument("--steps", action="store_true", help="print the derivation's steps")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kernel)


def cmd_kernel(args):
    from .. import kernels

    phi = parse_spec(args.spec)
    if args.method == "orthant":
        return _orthant_kernel(phi, args)
    if not isinstance(phi, HomogeneousActivation):
        return _numeric_kernel(phi, args)
    c = kernels.c
    if args.derivative:
        expr = kernels.derivative_kernel(phi, c, method=args.method)
        steps = None
    else:
        d = kernels.derivation(phi, c, method=args.method)
        expr, steps = d.result, d
    values = []
    for text in args.at:
        cv = sp.nsimplify(text) if "." in text else sp.Rational(text)
        val = kernels.kernel_value(phi, cv, dps=args.dps, derivative=args.derivative)
        values.append({"c": text, "value": mp.nstr(val, args.dps)})
    label = "Kdot" if args.derivative else "K"
    if args.json:
        print(json.dumps({
            "activation": args.spec,
            "closed_form": sp.sstr(expr),
            "latex": sp.latex(expr),
            "method": args.method,
            "derivative": bool(args.derivative),
            "values": values,
        }, indent=1))
        return 0
    print(f"{label}(c) = {sp.sstr(expr)}")
    if args.latex:
        print(f"latex: {sp.latex(expr)}")
    print(f"method: {args.method} ({METHOD_TEXT[args.method]})")
    if args.steps and steps is not None:
        print(str(steps))
    for v in values:
        print(f"{label}({v['c']}) = {v['value']}")
    return 0


def _orthant_kernel(phi, args):
    """``--method orthant``: any activation the orthant engine takes (ELU, ReLU, ...), unit variances.

    >>> main_ = __import__("symbolic_mf.cli", fromlist=["main"]).main
    >>> main_(["kernel", "elu", "--method", "orthant", "--derivative", "--at", "0", "--dps", "15"])  # (1/2 + e^(1/2) Phi(-1))^2
    Kdot(c) = E*exp(c)*BivariateNormalCDF(-c - 1, -c - 1, c) + 2*exp(1/2)*BivariateNormalCDF(-1, c, -c) + asin(c)/(2*pi) + 1/4
    method: orthant (tilted orthant probabilities e^{Q/2} Phi_2 differentiated (kink at 0, pieces x^i e^{lambda x}: ELU))
    Kdot(0) = 0.580001494640199
    0
    """
    from .. import kernels
    from ..engines import orthant

    c = kernels.c
    d = orthant.derive_kernel(phi, c, derivative=args.derivative)
    values = []
    for text in args.at:
        cv = sp.Rational(text)
        values.append({"c": text, "value": mp.nstr(orthant.kernel_value(phi, cv, dps=args.dps,
                                                                         derivative=args.derivative), args.dps)})
    label = "Kdot" if args.derivative else "K"
    if args.json:
        print(json.dumps({"activation": args.spec, "closed_form": sp.sstr(d.result), "latex": sp.latex(d.result),
                          "method": "orthant", "derivative": bool(args.derivative), "values": values}, indent=1))
        return 0
    print(f"{label}(c) = {sp.sstr(d.result)}")
    if args.latex:
        print(f"latex: {sp.latex(d.result)}")
    print(f"method: orthant ({METHOD_TEXT['orthant']})")
    if args.steps:
        print(str(d))
    for v in values:
        print(f"{label}({v['c']}) = {v['value']}")
    return 0


def _numeric_kernel(phi, args):
    """No engine derives this activation's kernel yet: values by 2-D quadrature only."""
    if args.method != "hermite" or args.latex or args.steps:
        raise DomainError("spec", args.spec, "a member of the alpha-homogeneous family for --method/--latex/"
                          "--steps (no closed form is derived for this activation; values come from quadrature)")
    target = phi.derivative() if args.derivative else phi
    values = []
    for text in args.at:
        cv = sp.Rational(text)
        if abs(cv) > 1:
            raise DomainError("c", text, "-1 <= c <= 1")
        values.append({"c": text, "value": mp.nstr(target.kernel_numeric(cv, dps=args.dps), args.dps)})
    label = "Kdot" if args.derivative else "K"
    if args.json:
        print(json.dumps({"activation": args.spec, "closed_form": None, "latex": None, "method": "quadrature",
                          "derivative": bool(args.derivative), "values": values}, indent=1))
        return 0
    print(f"{label}(c): no closed form derived for {args.spec}; values by Gaussian quadrature")
    print("method: quadrature")
    for v in values:
        print(f"{label}({v['c']}) = {v['value']}")
    return 0
