import json

import pytest
import sympy as sp
from mpmath import mp, mpf

from symbolic_mf import activations as A
from symbolic_mf.activations import SPECS, parse_activation_spec
from symbolic_mf.cli import main
from symbolic_mf.errors import DomainError, NotPSDError, ParseError


@pytest.mark.parametrize("act, ref", [
    (A.relu(), lambda t: max(t, 0)),
    (A.leaky_relu(sp.Rational(1, 10)), lambda t: t if t > 0 else t / 10),
    (A.identity(), lambda t: t),
    (A.abs_power(sp.Rational(3, 2)), lambda t: abs(t) ** 1.5),
    (A.signed_power(2), lambda t: (1 if t > 0 else -1) * t * t),
    (A.step(), lambda t: 1.0 if t > 0 else 0.0),
])
def test_family_members_match_their_definition(act, ref):
    for t in (-2.5, -0.3, 0.7, 3.0):
        assert float(act(sp.Float(t))) == pytest.approx(ref(t), rel=1e-14)


def test_homogeneity_degree_is_checked_by_scaling():
    for act in (A.relu(), A.abs_power(sp.Rational(1, 3)), A.leaky_relu()):
        t = sp.Rational(7, 3)
        for val in (sp.Rational(-5, 2), sp.Rational(3, 4)):
            assert sp.simplify(act(t * val) - t ** act.degree * act(val)) == 0
    assert A.tanh().degree is None


@pytest.mark.parametrize("alpha", [sp.Rational(-1, 2), -1, sp.Rational(-7, 10)])
def test_alpha_at_or_below_minus_half_is_a_domain_error(alpha):
    with pytest.raises(DomainError, match="alpha"):
        A.rho_alpha(alpha)


def test_relu_kernel_numeric_matches_arccos_kernel():
    with mp.workdps(30):
        c = mpf(3) / 10
        th = mp.acos(c)
        ref = (mp.sin(th) + (mp.pi - th) * c) / (2 * mp.pi)
        got = A.relu().kernel_numeric(sp.Rational(3, 10), dps=30)
        assert abs(got - ref) < mpf(10) ** -28
        # and a wrong reference is not within that tolerance
        assert abs(got - ref * mpf("1.001")) > mpf(10) ** -6


def test_kernel_numeric_rejects_non_psd_covariance():
    with pytest.raises(NotPSDError):
        A.relu().kernel_numeric(2, q1=1, q2=1, dps=20)


def test_derivative_of_relu_is_step():
    assert A.relu().derivative().expr == A.step().expr


# --- activation specs (the CLI's NAME[:key=value,...]) ---------------------



@pytest.mark.parametrize("spec, alpha, a, b", [
    ("relu", 1, 1, 0), ("rho:alpha=0.7", sp.Rational(7, 10), 1, 0),
    ("homogeneous:alpha=1.5,a=1,b=0.3", sp.Rational(3, 2), 1, sp.Rational(3, 10)),
    ("leaky_relu:slope=0.1", 1, 1, sp.Rational(1, 10)), ("abs", 1, 1, -1), ("abs:alpha=2", 2, 1, -1),
    ("signed:alpha=1/3", sp.Rational(1, 3), 1, 1), ("step", 0, 1, 0), ("identity", 1, 1, 1),
])
def test_spec_family_parameters(spec, alpha, a, b):
    phi = parse_activation_spec(spec)
    assert (phi.alpha, phi.a, phi.b) == (alpha, a, b)


def test_spec_symbolic_parameter_and_elu():
    assert parse_activation_spec("rho:alpha=alpha").alpha == sp.Symbol("alpha", real=True)
    assert parse_activation_spec("elu:a=2")(-1) == 2 * (sp.exp(-1) - 1)


@pytest.mark.parametrize("spec, error", [
    ("rho:beta=2", ParseError), ("rho:alpha", ParseError), ("rho:alpha=x+1", ParseError),
    ("tanh:gamma=2", ParseError), ("sigmoid", DomainError), ("rho:alpha=-0.5", DomainError),
])
def test_spec_errors_name_the_parameter(spec, error):
    with pytest.raises(error):
        parse_activation_spec(spec)


def test_activations_command_lists_every_spec_and_each_parses(capsys):
    assert main(["activations", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["spec"].split(":")[0] for r in rows] == list(SPECS)
    for r in rows:
        phi = parse_activation_spec(r["spec"])
        assert (r["degree"] is None) == (phi.degree is None)


def test_float_parameters_are_read_as_exact_decimals():
    # the engines need exact exponents: 0.75 as typed is 3/4 (a binary float of 0.1 is not 1/10, its repr is)
    from symbolic_mf.kernels import kernel_value

    rho_alpha, HomogeneousActivation = A.rho_alpha, A.HomogeneousActivation
    assert rho_alpha(0.75).alpha == sp.Rational(3, 4) and rho_alpha(sp.Float(0.1)).alpha == sp.Rational(1, 10)
    assert HomogeneousActivation(1, 1.5, 0.1).a == sp.Rational(3, 2)
    assert rho_alpha(0.1).alpha != sp.Rational(0.1)  # not the binary value 3602879701896397/36028797018963968
    assert kernel_value(rho_alpha(0.75), "0.3", 30) == kernel_value(rho_alpha(sp.Rational(3, 4)), "0.3", 30)
    with pytest.raises(DomainError, match="alpha > -1/2"):
        rho_alpha(-0.5)
