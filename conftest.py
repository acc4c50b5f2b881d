"""Shared test configuration (tests and doctests).

``--full`` runs the tests marked ``slow`` (50-digit sweeps, rigorous
referee, large samples); by default CI runs a representative sample.
"""

import mpmath
import pytest


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true", default=False,
                     help="also run slow high-precision and rigorous sweeps")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--full"):
        return
    skip = pytest.mark.skip(reason="slow: run with --full")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _restore_mpmath_precision():
    """No test may leak a changed mp.dps into the next one."""
    prec = mpmath.mp.prec
    yield
    leaked = mpmath.mp.prec
    mpmath.mp.prec = prec
    assert leaked == prec, f"test changed mpmath precision from {prec} to {leaked} bits"


def pytest_terminal_summary(terminalreporter):
    """Report the size of the mutation corpus and how much of it was rejected."""
    key = "test_mutant_is_rejected"
    ok = [r for r in terminalreporter.stats.get("passed", []) if key in r.nodeid]
    bad = [r for r in terminalreporter.stats.get("failed", []) if key in r.nodeid]
    if ok or bad:
        terminalreporter.write_line(
            f"mutation corpus: {len(ok) + len(bad)} mutants, {len(ok)} rejected, {len(bad)} wrongly accepted"
        )


try:  # the rigorous referee's doctests need the optional extra 'rigorous'
    import flint  # noqa: F401
except ImportError:
    collect_ignore = ["symbolic_mf/rigorous.py"]
