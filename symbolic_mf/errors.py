"""Typed errors.

Every error raised for bad input names the offending parameter and, where it
has one, the valid range, so that a user reading a traceback knows what to
change.

>>> from symbolic_mf.errors import DomainError
>>> raise DomainError("alpha", -0.7, "alpha > -1/2")
Traceback (most recent call last):
...
symbolic_mf.errors.DomainError: alpha = -0.7 is outside its valid range: alpha > -1/2
"""

from __future__ import annotations

__all__ = [
    "SymbolicMFError",
    "DomainError",
    "NotPSDError",
    "PrecisionError",
    "ParseError",
    "RegistryError",
    "DuplicateIdentityError",
    "UnknownIdentityError",
    "QuadratureError",
    "DivergentIntegralError",
    "MissingDependencyError",
]


class SymbolicMFError(Exception):
    """Base class of all errors raised by symbolic_mf."""


class DomainError(SymbolicMFError, ValueError):
    """A parameter is outside the range where the mathematics holds.

    Attributes ``parameter``, ``value`` and ``valid`` hold the parameter's
    name, the offending value and a human-readable description of the valid
    range.
    """

    def __init__(self, parameter: str, value, valid: str, detail: str = ""):
        self.parameter = parameter
        self.value = value
        self.valid = valid
        msg = f"{parameter} = {value} is outside its valid range: {valid}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class NotPSDError(DomainError):
    """A covariance matrix is not positive semi-definite."""

    def __init__(self, parameter: str, value, detail: str = ""):
        super().__init__(parameter, value, "a symmetric positive semi-definite matrix", detail)


class PrecisionError(DomainError):
    """A requested precision is too low to give the stated guarantees."""


class ParseError(SymbolicMFError, ValueError):
    """A user-typed expression was rejected by the safe parser."""


class RegistryError(SymbolicMFError):
    """Base class of catalogue errors."""


class DuplicateIdentityError(RegistryError, ValueError):
    """Two identities were registered under the same id."""


class UnknownIdentityError(RegistryError, KeyError):
    """No identity has the requested id."""

    def __str__(self):  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class QuadratureError(SymbolicMFError, ArithmeticError):
    """A numerical integral did not converge to the requested precision."""


class DivergentIntegralError(QuadratureError):
    """A numerical integral diverges (e.g. a non-integrable endpoint power)."""


class MissingDependencyError(SymbolicMFError, ImportError):
    """An optional dependency needed for the requested feature is not installed."""

    def __init__(self, package: str, feature: str, install: str = ""):
        self.package = package
        self.feature = feature
        msg = f"{feature} needs the optional package {package}, which is not installed"
        if install:
            msg += f": {install}"
        super().__init__(msg)
