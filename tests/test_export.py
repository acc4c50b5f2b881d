"""Export: LaTeX that parses back, and numeric kernels accurate over all of [-1, 1].

References are mpmath values at >= 40 digits taken at the exact binary value
of each float64 input; the closed form they use is itself checked against
the quadrature of ``HomogeneousActivation.kernel_numeric`` at 30 digits.
"""

import ctypes
import subprocess
import shutil

import mpmath
import numpy as np
import pytest
import sympy as sp

from symbolic_mf.activations import HomogeneousActivation
from symbolic_mf.errors import DomainError
from symbolic_mf.export import codegen, family, latex, printers
from symbolic_mf.export.family import evaluate_kernel, family_parameters, ntk_parameters, rho_kernel_mp

C = sp.Symbol("c", real=True)


# --------------------------------------------------------------- references --
def ref_K(beta, a, b, c, dps=60):
    """K(c) at `dps` working digits, in a form with no cancellation for the case.
    beta, a, b: exact numbers (SymPy rationals, ints) or a table's ``exact`` strings."""
    with mpmath.workdps(dps):
        bt, a, b = family.exact_parameters({"exact": (beta, a, b)})
        cm = mpmath.mpf(float(c))
        kc, kmc = rho_kernel_mp(bt, cm), rho_kernel_mp(bt, -cm)
        if a * b <= 0:
            return (a * a + b * b) * kc - 2 * a * b * kmc
        mu1sq = 2 ** (bt + 1) * mpmath.gamma(bt / 2 + 1) ** 2 / (4 * mpmath.pi)
        h = (1 - bt) / 2
        odd = cm * mu1sq * mpmath.hyp2f1(h, h, 1.5, cm * cm) if abs(cm) < 0.9 else (kc - kmc) / 2
        return (a - b) ** 2 * (kc + kmc) / 2 + (a + b) ** 2 * odd


def grid():
    """Correlations concentrated toward the ends, the ends, their float neighbours, and 0."""
    t = np.logspace(-15, -0.5, 12)
    pts = [-1.0, 1.0, np.nextafter(-1.0, 0), np.nextafter(1.0, 0), 0.0, 0.25, -0.25, 0.5, -0.5, 0.7, -0.7]
    return np.unique(np.concatenate([pts, -1 + t, 1 - t]))


def max_errors(P, cs):
    """(max ulp, max relative error) of the exported kernel on `cs`."""
    got = evaluate_kernel(P, cs)
    worst_ulp = worst_rel = 0.0
    for ci, gi in zip(cs, got):
        ref = ref_K(*P["exact"], ci)
        assert np.isfinite(gi), (ci, gi)
        if ref == 0:
            assert gi == 0, (ci, gi)
            continue
        err = abs(mpmath.mpf(float(gi)) - ref)
        worst_rel = max(worst_rel, float(err / abs(ref)))
        worst_ulp = max(worst_ulp, float(err) / np.spacing(abs(float(ref))))
    return worst_ulp, worst_rel


# -------------------------------------------------- the derived closed form --
@pytest.mark.parametrize("alpha,a,b,c", [
    (1, 1, 0, sp.Rational(3, 10)),
    (sp.Rational(1, 2), 1, 0, sp.Rational(-7, 10)),
    (sp.Rational(7, 3), 1, 2, sp.Rational(4, 5)),
    (0, 1, 0, sp.Rational(-1, 5)),
    (sp.Rational(-1, 4), 1, -1, sp.Rational(9, 10)),
])
def test_mehler_dirichlet_form_matches_quadrature(alpha, a, b, c):
    with mpmath.workdps(30):
        quad = HomogeneousActivation(alpha, a, b).kernel_numeric(c, dps=30)
    closed = sp.N(family.family_kernel_expr(alpha, a, b, C).subs(C, c), 35)
    with mpmath.workdps(30):
        _check_closed(quad, closed)


def _check_closed(quad, closed):
    assert abs(quad - mpmath.mpf(str(closed))) < mpmath.mpf(10) ** -25 * abs(quad)
    # a wrong twin (prefactor off by sqrt 2) is rejected by the same check
    assert abs(quad - mpmath.mpf(str(closed)) * mpmath.sqrt(2)) > mpmath.mpf(10) ** -3 * abs(quad)


def test_hermite_tables_match_quadrature():
    """The Hermite even/odd coefficients (used for |c| <= 1/2) against quadrature."""
    P = family_parameters(sp.Rational(5, 2), 1, 0)
    with mpmath.workdps(30):
        quad = HomogeneousActivation(sp.Rational(5, 2)).kernel_numeric(sp.Rational(1, 4), dps=30)
    assert abs(float(evaluate_kernel(P, 0.25)) - float(quad)) <= 4 * np.spacing(float(quad))


# --------------------------------------------------------------- accuracy --
@pytest.mark.parametrize("alpha,a,b,ulps", [
    (1, 1, 0, 4), (1, 1, -1, 4), (1, 1, 1, 4), (1, 1, sp.Rational(1, 100), 4), (1, 1, sp.Rational(1, 10), 32),
    (2, 1, 0, 4), (3, 1, 0, 4), (5, 1, 0, 4), (10, 1, 0, 6),
])
def test_integer_alpha_within_few_ulp(alpha, a, b, ulps):
    """alpha = 1 (ReLU, abs, identity, leaky) within 4 ulp except where K nearly
    vanishes inside (-1, 0) for leaky 0.1 (condition number ~10: 32 ulp allowed)."""
    for make in (family_parameters, ntk_parameters):
        ulp, _ = max_errors(make(alpha, a, b), grid())
        assert ulp <= ulps, (make.__name__, ulp)


@pytest.mark.parametrize("alpha,a,b", [
    (sp.Rational(1, 2), 1, 0), (sp.Rational(3, 2), 1, -1), (sp.Rational(-1, 4), 1, 0), (sp.Rational(-9, 20), 1, 0),
    (sp.Rational(27, 10), 1, sp.Rational(1, 2)), (sp.Rational(79, 10), 1, 0), (8, 1, 0), (sp.Rational(9, 4), 1, 1),
])
def test_real_alpha_relative_1e13(alpha, a, b):
    cs = grid()
    _, rel = max_errors(family_parameters(alpha, a, b), cs)
    assert rel <= 1e-13
    if alpha > sp.Rational(1, 2):  # the NTK kernel is finite on the closed domain
        _, rel = max_errors(ntk_parameters(alpha, a, b), cs)
        assert rel <= 1e-13


def test_textbook_forms_fail_near_minus_one_where_export_does_not():
    cs = np.array([-1 + 2.0 ** -40, -1 + 1e-6, -0.999])
    # ReLU: (sqrt(1-c^2) + (pi - acos c) c) / (2 pi)
    naive = (np.sqrt(1 - cs ** 2) + (np.pi - np.arccos(cs)) * cs) / (2 * np.pi)
    refs = np.array([float(ref_K(1, 1, 0, c)) for c in cs])
    assert np.max(np.abs(naive - refs) / refs) > 1e-6
    assert np.max(np.abs(evaluate_kernel(family_parameters(1, 1, 0), cs) - refs) / refs) < 5e-16
    # real alpha: the two-2F1 Hermite form E + c O (2F1 by SciPy when installed, else a NumPy series)
    ns = printers.numpy_namespace()
    gamma, hyp2f1 = ns["smf_gamma"], ns["smf_hyp2f1"]

    al = 2.7
    E = 2 ** al * gamma((al + 1) / 2) ** 2 / (4 * np.pi) * hyp2f1(-al / 2, -al / 2, 0.5, cs ** 2)
    O = cs * 2 ** (al + 1) * gamma(al / 2 + 1) ** 2 / (4 * np.pi) * hyp2f1((1 - al) / 2, (1 - al) / 2, 1.5, cs ** 2)
    refs = np.array([float(ref_K(al, 1, 0, c)) for c in cs])
    assert np.max(np.abs(E + O - refs) / refs) > 1e-3
    assert np.max(np.abs(evaluate_kernel(family_parameters(al, 1, 0), cs) - refs) / refs) < 1e-14


def test_closed_domain_and_zero_variance_without_nan():
    cs = np.concatenate([grid(), [np.nextafter(1, 2), -np.nextafter(1, 2)]])  # rounding just outside is clipped
    for alpha, a, b in [(1, 1, 0), (0, 1, 0), (sp.Rational(-2, 5), 1, -1), (sp.Rational(13, 2), 2, 3)]:
        src = codegen.load_module(codegen.numpy_module_source(alpha, a, b))
        k = src.nngp_fn(cs, 1.0, 1.0)
        assert np.all(np.isfinite(k))
        with np.errstate(divide="ignore"):  # 0**(alpha) with alpha < 0 is inf, as it should be
            z = src.nngp_fn(np.zeros(3), np.array([0.0, 1.0, 0.0]), np.array([2.0, 0.0, 0.0]))
        assert not np.any(np.isnan(z))
        assert np.all(np.isfinite(z)) == (alpha >= 0)  # phi(0) is infinite for alpha < 0
        if alpha > 0:
            assert np.all(z == 0)
            assert np.all(np.isfinite(src.d_nngp_fn(cs, 1.0, 1.0))) == (alpha > sp.Rational(1, 2))


def test_variances_scale_as_in_quadrature():
    mod = codegen.load_module(codegen.numpy_module_source(sp.Rational(3, 2), 1, sp.Rational(1, 5)))
    q1, q2, cov = sp.Rational(2), sp.Rational(1, 2), sp.Rational(-3, 5)
    with mpmath.workdps(30):
        quad = HomogeneousActivation(sp.Rational(3, 2), 1, sp.Rational(1, 5)).kernel_numeric(cov, q1, q2, dps=30)
    got = float(mod.nngp_fn(float(cov), float(q1), float(q2)))
    assert abs(got - float(quad)) <= 1e-14 * abs(float(quad))
    # the derivative kernel is E[phi'(u) phi'(v)]: check against quadrature of phi'
    d = HomogeneousActivation(sp.Rational(1, 2), sp.Rational(3, 2), -sp.Rational(3, 10))
    with mpmath.workdps(30):
        quad_d = d.kernel_numeric(cov, q1, q2, dps=30)
    assert abs(float(mod.d_nngp_fn(float(cov), float(q1), float(q2))) - float(quad_d)) <= 1e-14 * abs(float(quad_d))


def test_float32_consistent():
    mod = codegen.load_module(codegen.numpy_module_source(1, 1, 0))
    cs = grid().astype(np.float32)
    k32 = mod.nngp_fn(cs, np.float32(1), np.float32(1))
    assert k32.dtype == np.float32
    k64 = mod.nngp_fn(cs.astype(np.float64), 1.0, 1.0)
    r32 = k64.astype(np.float32)
    assert np.all(np.abs(k32 - r32) <= 4 * np.spacing(np.abs(r32)))  # float32 arithmetic throughout


def test_bad_parameters_raise_typed_errors():
    with pytest.raises(DomainError, match="alpha"):
        family_parameters(-0.5)
    with pytest.raises(DomainError, match="alpha > 0"):
        ntk_parameters(0)


# -------------------------------------------------------------- C and JAX --
@pytest.mark.skipif(shutil.which("gcc") is None, reason="no C compiler")
def test_c_export_compiles_and_matches_numpy(tmp_path):
    cs = grid()
    for alpha, a, b in [(1, 1, 0), (sp.Rational(27, 10), 1, sp.Rational(1, 10)), (sp.Rational(1, 2), 1, 1)]:
        h, s = codegen.c_source(alpha, a, b, prefix="smf")
        (tmp_path / "smf_kernel.h").write_text(h)
        (tmp_path / "smf_kernel.c").write_text(s)
        so = tmp_path / f"k{hash((alpha, a, b)) & 0xffff}.so"
        subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Werror", "-shared", "-fPIC", "-o", str(so),
                        str(tmp_path / "smf_kernel.c"), "-lm"], check=True)
        lib = ctypes.CDLL(str(so))
        for name in ("smf_nngp_fn", "smf_d_nngp_fn"):
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = ctypes.c_double, [ctypes.c_double] * 3
        mod = codegen.load_module(codegen.numpy_module_source(alpha, a, b))
        for f_c, f_np in ((lib.smf_nngp_fn, mod.nngp_fn), (lib.smf_d_nngp_fn, mod.d_nngp_fn)):
            got = np.array([f_c(float(c), 1.0, 1.0) for c in cs])
            want = f_np(cs, 1.0, 1.0)
            fin = np.isfinite(want)
            assert np.array_equal(np.isfinite(got), fin)
            assert np.all(np.abs(got[fin] - want[fin]) <= 2 * np.spacing(np.abs(want[fin])))
        assert lib.smf_nngp_fn(ctypes.c_double(0.3), ctypes.c_double(0.0), ctypes.c_double(2.0)) == 0.0


def test_c_printer_ships_its_2f1(tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("no C compiler")
    expr = sp.gamma(C + 1) * sp.hyper([sp.S.Half, sp.S.Half], [sp.Rational(5, 2)], (1 + C) / 2)
    (tmp_path / "g.c").write_text(printers.c_function_source(expr, [C], name="g"))
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(tmp_path / "g.so"), str(tmp_path / "g.c"), "-lm"],
                   check=True)
    g = ctypes.CDLL(str(tmp_path / "g.so")).g
    g.restype, g.argtypes = ctypes.c_double, [ctypes.c_double]
    for c in (-0.9, 0.0, 0.6):
        ref = float(mpmath.gamma(c + 1) * mpmath.hyp2f1(0.5, 0.5, 2.5, (1 + c) / 2))
        assert abs(g(c) - ref) <= 1e-14 * abs(ref)
        assert abs(printers.numpy_function(expr, [C])(c) - ref) <= 1e-14 * abs(ref)


def _x64(jax):
    """float64 for the block only (the caller's global jax_enable_x64 is left as it was)."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    from jax.experimental import enable_x64  # jax < 0.5

    return enable_x64()


def test_jax_export_matches_numpy_under_jit():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    before = bool(jax.config.jax_enable_x64)
    with _x64(jax):
        cs = grid()
        for alpha, a, b in [(1, 1, 0), (sp.Rational(27, 10), 1, -1)]:
            fn, nngp, dnngp = codegen.stax_triple(alpha, a, b)
            mod = codegen.load_module(codegen.numpy_module_source(alpha, a, b))
            got = np.asarray(jax.jit(nngp)(jnp.asarray(cs), 1.0, 1.0))
            assert got.dtype == np.float64
            assert np.all(np.abs(got - mod.nngp_fn(cs, 1.0, 1.0)) <= 2 * np.spacing(np.abs(got)))
            got = np.asarray(jax.jit(dnngp)(jnp.asarray(cs), 2.0, 0.5))
            assert np.all(np.abs(got - mod.d_nngp_fn(cs, 2.0, 0.5)) <= 2 * np.spacing(np.abs(got)))
            assert float(fn(-2.0)) == float(mod.fn(-2.0))
        # the generic JAX printer: Gamma under jit (SymPy's stock printer emits math.gamma)
        f = printers.jax_function(sp.gamma(C + 1) * sp.sqrt(1 - C ** 2), [C])
        assert abs(float(jax.jit(f)(0.5)) - float(mpmath.gamma(1.5) * mpmath.sqrt(0.75))) < 1e-14
    assert bool(jax.config.jax_enable_x64) == before


def test_cli_export_jax_module_under_jit(tmp_path):
    """``symbolic-mf export SPEC --to jax``: the module imports only jax and equals the NumPy module."""
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    from symbolic_mf.cli import main

    out = tmp_path / "leaky_jax.py"
    assert main(["export", "leaky_relu", "--to", "jax", "-o", str(out)]) == 0
    text = out.read_text()
    assert "import symbolic_mf" not in text and "from symbolic_mf" not in text and "import numpy" not in text
    mod = codegen.load_module(text)
    ref = codegen.load_module(codegen.numpy_module_source(1, 1, sp.Rational(1, 100)))
    cs = grid()
    with _x64(jax):
        for name in ("nngp_fn", "d_nngp_fn"):
            got = np.asarray(jax.jit(getattr(mod, name))(jnp.asarray(cs), 1.5, 0.5))
            want = getattr(ref, name)(cs, 1.5, 0.5)
            assert got.dtype == np.float64 and np.all(np.abs(got - want) <= 2 * np.spacing(np.abs(want)))


# ------------------------------------------------------------------ LaTeX --
def _parse(tex):
    """Parse with SymPy's ANTLR LaTeX parser.  The parser knows neither the
    Gamma nor the 2F1 notation, so (test only) both are first renamed to
    plain calls G(...) and F(a, b, c, z), then mapped back to gamma/hyper."""
    parse_latex = pytest.importorskip("sympy.parsing.latex").parse_latex
    pytest.importorskip("antlr4")
    tex = _hyper_to_call(tex).replace(r"\Gamma\left(", r"G\left(")
    back = parse_latex(tex)
    isf = lambda name: (lambda e: isinstance(e, sp.Function) and e.func.__name__ == name)  # noqa: E731
    back = back.subs(sp.Symbol("pi"), sp.pi).replace(isf("G"), lambda e: sp.gamma(e.args[0]))
    return back.replace(isf("F"), lambda e: sp.hyper(e.args[:2], e.args[2:3], e.args[3]))


def _values_agree(e1, e2, subs):
    return abs(complex(sp.N(e1.subs(subs), 30)) - complex(sp.N(e2.subs(subs), 30))) < 1e-20


def test_latex_parses_back_to_the_same_function():
    a = sp.Symbol("alpha")
    expr = sp.gamma(a + 1) ** 2 / (sp.sqrt(8 * sp.pi) * sp.gamma(a + sp.Rational(3, 2))) * (1 + C) ** (a + sp.S.Half) \
        + (sp.pi - sp.acos(C)) * C / (2 * sp.pi)
    back = _parse(latex.to_latex(expr, mul_symbol="dot"))
    names = {s.name: s for s in back.free_symbols}
    subs_back = {names["alpha"]: sp.Rational(7, 3), names["c"]: sp.Rational(-2, 5)}
    val = sp.N(expr.subs({a: sp.Rational(7, 3), C: sp.Rational(-2, 5)}), 30)
    assert abs(sp.N(back.subs(subs_back), 30) - val) < 1e-20
    # and a deliberately broken fragment does not parse
    tex = latex.to_latex(expr, mul_symbol="dot")
    from sympy.parsing.latex import LaTeXParsingError

    with pytest.raises(LaTeXParsingError):
        _parse(tex.replace(r"\right)", "", 1))  # an unbalanced \left( is refused
    # (the parser may also stop early on bad input, so the value check above is the real test)


def _hyper_to_call(tex):
    """Translate the printed 2F1 notation to a call the LaTeX parser knows (test only)."""
    import re

    pat = re.compile(r"\{\}_\{2\}F_\{1\}\\left\(\\begin\{matrix\} (.+?), (.+?) \\\\ (.+?) \\end\{matrix\}\\middle\| (.+?) \\right\)")
    return pat.sub(r"F(\1, \2, \3, \4)", tex)


def test_2f1_notation_round_trips():
    expr = family.rho_kernel_expr(sp.Rational(5, 2), C)
    tex = latex.to_latex(expr, mul_symbol="dot")
    assert r"{}_{2}F_{1}\left(\begin{matrix}" in tex and r"\middle|" in tex
    back = _parse(tex)
    assert len(back.atoms(sp.hyper)) == 1
    cb = [s for s in back.free_symbols if s.name == "c"][0]
    assert abs(sp.N(back.subs(cb, sp.Rational(1, 3)), 25) - sp.N(expr.subs(C, sp.Rational(1, 3)), 25)) < 1e-20


def test_identity_and_derivation_latex():
    from symbolic_mf.catalogue import identities

    idy = identities()[0]
    tex = latex.identity_latex(idy)
    assert r"\qquad \left(" in tex and tex.count(r"\left") == tex.count(r"\right")
    steps = [("Mehler-Dirichlet integral", family.rho_kernel_expr(1, C)),
             ("arc-cosine form", (sp.sqrt(1 - C ** 2) + (sp.pi - sp.acos(C)) * C) / (2 * sp.pi))]
    block = latex.derivation_latex(steps, lhs=sp.Function("K")(C), mul_symbol="dot")
    assert block.startswith(r"\begin{aligned}") and block.endswith(r"\end{aligned}")
    rows = block.split("\n")[1:-1]
    assert len(rows) == 2
    # the formula of every row parses back
    body = rows[1].split("&&")[0].replace("&=", "").strip()
    back = _parse(body)
    cb = [s for s in back.free_symbols if s.name == "c"][0]
    assert abs(sp.N(back.subs(cb, sp.Rational(1, 5))) - sp.N(steps[1][1].subs(C, sp.Rational(1, 5)))) < 1e-20
    # TeX's special characters in the words are escaped, not passed through
    odd = latex.derivation_latex([("P^{-1/2}_nu & 50% #1 ~x", C)])
    assert r"\text{(P\^{}\{-1/2\}\_nu \& 50\% \#1 \~{}x)}" in odd
    md = latex.derivation_markdown(steps, title="ReLU")
    assert md.count("$$") == 4 and "1. Mehler-Dirichlet integral" in md


# -------------------------------------------------------------------- CLI --
def test_cli_export_numpy_module_is_self_contained(tmp_path, capsys):
    from symbolic_mf.cli import main

    out = tmp_path / "leaky.py"
    assert main(["export", "leaky_relu", "--to", "numpy", "-o", str(out)]) == 0
    text = out.read_text()
    assert "import symbolic_mf" not in text and "from symbolic_mf" not in text  # imports nothing of ours
    mod = codegen.load_module(text)
    ref = float(ref_K(1, 1, 0.01, -0.3))
    assert abs(float(mod.nngp_fn(-0.3, 1.0, 1.0)) - ref) <= 4 * np.spacing(abs(ref))
    assert main(["export", "tanh", "--to", "latex"]) == 2  # tanh exports (series) but has no closed form
    assert "no closed form" in capsys.readouterr().err
    assert main(["latex", "homogeneous:1/2,1,-1"]) == 0


def test_jax_float32_consistent_with_float64():
    """JAX's default float32: within 2 float32 ulp of the float64 kernel rounded to float32."""
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    if jax.config.jax_enable_x64:
        pytest.skip("x64 enabled globally")
    cs = grid()
    c32 = cs.astype(np.float32)
    for alpha, a, b in [(1, 1, 0), (sp.Rational(27, 10), 1, -1)]:
        _, nngp, dnngp = codegen.stax_triple(alpha, a, b)
        mod = codegen.load_module(codegen.numpy_module_source(alpha, a, b))
        for f32, f64 in ((nngp, mod.nngp_fn), (dnngp, mod.d_nngp_fn)):
            got = np.asarray(jax.jit(f32)(jnp.asarray(c32), 1.0, 1.0))
            assert got.dtype == np.float32 and np.all(np.isfinite(got))
            want = f64(c32.astype(np.float64), 1.0, 1.0).astype(np.float32)
            assert np.all(np.abs(got - want) <= 2 * np.spacing(np.abs(want)))
