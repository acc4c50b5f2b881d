"""Fast special-function paths of symbolic_mf.numeric agree with mpmath to the last bit."""

import pytest
from mpmath import mp, mpf

from symbolic_mf.numeric import MPMATH_FUNCTIONS, _besselk_mp


@pytest.mark.parametrize("dps", [15, 30, 45, 75, 120])
def test_k0_series_matches_mpmath_besselk(dps):
    with mp.workdps(dps):
        for x in ("1e-30", "0.001", "0.5", "1", "2", "7.3", "20", "33.3", "50", "61", "80", "100", "140"):
            x = mpf(x)
            ref = mp.besselk(0, x)
            assert abs(_besselk_mp(0, x) / ref - 1) <= 2 * mp.eps, (dps, x)


def test_other_orders_and_arguments_go_to_mpmath():
    with mp.workdps(30):
        assert _besselk_mp(1, mpf(3)) == mp.besselk(1, mpf(3))
        assert _besselk_mp(0, mpf(10) ** 4) == mp.besselk(0, mpf(10) ** 4)  # asymptotic regime
        z = mp.mpc(2, 1)
        assert _besselk_mp(0, z) == mp.besselk(0, z)
    assert MPMATH_FUNCTIONS["besselk"] is _besselk_mp  # what lambdify uses for sympy's besselk
