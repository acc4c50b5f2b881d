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
from ..errors import DomainError, ParseError

METHOD_TEXT = {
    "hermite": "Hermite/Mehler series summed to 2F1, hyperexpanded for integer alpha",
    "polar": "Cho & Saul polar route: radial Gamma integral x angular integral",
    "bessel": "Yang & Schoenholz K_0 integral representation of the product density",
    "stable": "Hermite form for c >= 0, Bessel-Laplace 2F1((1+c)/2) form for c < 0",
}

_FAMILY = {
    "rho": ("alpha",),
    "homogeneous": ("alpha", "a", "b"),
    "leaky_relu": ("slope",),
    "abs": ("alpha",),
    "signed": ("alpha",),
}


def _value(text, key):
    text = text.strip()
    if text.isidentifier():
        return sp.Symbol(text, real=True)
    try:
        return sp.nsimplify(sp.Rational(text)) if "." in text or "/" in text else sp.Integer(text)
    except (TypeError, ValueError):
        raise ParseError(f"activation parameter {key}={text!r}: expected a number like 0.7, 3/2 or a name")


def parse_spec(spec: str):
    """An activation from ``NAME[:key=value,...]``.

    >>> parse_spec("homogeneous:alpha=1.5,a=1,b=0.3").b
    3/10
    >>> parse_spec("rho:alpha=0.7").alpha
    7/10
    >>> parse_spec("rho:beta=2")
    Traceback (most recent call last):
    ...
    symbolic_mf.errors.ParseError: activation rho takes parameters alpha, got 'beta'
    """
    name, _, rest = spec.partition(":")
    name = name.strip()
    kw = {}
    if rest.strip():
        for item in rest.split(","):
            key, eq, val = item.partition("=")
            key = key.strip()
            if not eq:
                raise ParseError(f"activation parameter {item!r}: write key=value")
            allowed = _FAMILY.get(name)
            if allowed is None or key not in allowed:
                raise ParseError(f"activation {name} takes parameters {', '.join(allowed or ()) or 'none'}, got {key!r}")
            kw[key] = _value(val, key)
    if name == "rho":
        return HomogeneousActivation(kw.get("alpha", 1), 1, 0, name=spec)
    if name == "homogeneous":
        return HomogeneousActivation(kw.get("alpha", 1), kw.get("a", 1), kw.get("b", 0), name=spec)
    if name == "leaky_relu":
        return HomogeneousActivation(1, 1, kw.get("slope", sp.Rational(1, 100)), name=spec)
    if name == "abs":
        return HomogeneousActivation(kw.get("alpha", 1), 1, -1, name=spec)
    if name == "signed":
        return HomogeneousActivation(kw.get("alpha", 1), 1, 1, name=spec)
    return get_activation(name)


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
    if not isinstance(phi, HomogeneousActivation):
        raise DomainError("spec", args.spec, "a member of the alpha-homogeneous family "
                          "(non-homogeneous activations: numeric quadrature via Activation.kernel_numeric)")
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
