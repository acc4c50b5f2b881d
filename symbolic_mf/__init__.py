r"""symbolic_mf: derived and verified mean-field identities for wide networks.

The spine is a flat registry of identities (:func:`catalogue`), each one
data: two SymPy sides kept unevaluated, the domains of its free variables,
its assumptions and references.  :func:`verify` checks an identity against
high-precision quadrature at sampled points of its domain and returns a
:class:`Verdict` (PASS, FAIL with a counterexample, or UNKNOWN);
:func:`check` does the same for an identity a user types.

>>> from symbolic_mf import check
>>> check("E(relu(u) * relu(v))", "(sqrt(1 - c^2) + (pi - acos(c)) * c) / (2 * pi)",
...       where={"c": "[-1, 1]"}, points=4).status
'PASS'
>>> check("E(relu(u) * relu(v))", "c / 2", where={"c": "[-1, 1]"}, points=4).status
'FAIL'
"""

from .catalogue import catalogue, get_identity, identities
from .check import check
from .domains import CORRELATION, OPEN_CORRELATION, REALS, IntegerRange, RealInterval, parse_domain
from .errors import (
    DomainError,
    NotPSDError,
    ParseError,
    PrecisionError,
    QuadratureError,
    SymbolicMFError,
    UnknownIdentityError,
)
from .functions import GaussianExpectation, bivariate_expectation, expectation, rho
from .identity import Identity, Variable
from .parsing import parse_expression
from .registry import Registry
from .verify import Verdict, verify

__version__ = "0.1.0"

__all__ = [
    "catalogue", "get_identity", "identities", "check", "verify", "Verdict",
    "Identity", "Variable", "Registry", "rho", "GaussianExpectation", "expectation",
    "bivariate_expectation", "parse_expression", "parse_domain", "RealInterval",
    "IntegerRange", "REALS", "CORRELATION", "OPEN_CORRELATION", "SymbolicMFError",
    "DomainError", "NotPSDError", "ParseError", "PrecisionError", "QuadratureError",
    "UnknownIdentityError",
]
