"""Every identity in the catalogue earns a PASS, and the catalogue is well formed."""

import pytest

from symbolic_mf.catalogue import catalogue, get_identity, identities
from symbolic_mf.errors import UnknownIdentityError
from symbolic_mf.catalogue.fourier import SLOW as FOURIER_SLOW
from symbolic_mf.verify import verify

IDS = catalogue().ids()
_SLOW = set(FOURIER_SLOW)  # verified only with --full (tens of seconds each)


def test_catalogue_is_not_empty_and_ids_unique():
    assert len(IDS) >= 15
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("id_", IDS)
def test_identity_is_well_formed(id_):
    idy = get_identity(id_)
    assert idy.title and idy.references and idy.topics
    # every free symbol of the sides is a declared variable with a domain
    assert not idy.undeclared_symbols(), idy.undeclared_symbols()
    assert idy.latex()  # printable


@pytest.mark.parametrize("id_", [pytest.param(i, marks=[pytest.mark.slow] if i in _SLOW else []) for i in IDS])
def test_identity_passes_at_30_digits(id_):
    v = verify(get_identity(id_), dps=30)
    assert v.status == "PASS", v.summary()
    assert v.n_points >= 4
    # a tolerance identity (certified series) only needs its sides settled well inside the tolerance
    assert v.digits is None or v.digits >= 25 or get_identity(id_).tolerance is not None


@pytest.mark.slow
@pytest.mark.parametrize("id_", IDS)
def test_identity_passes_at_50_digits_on_more_points(id_):
    v = verify(get_identity(id_), dps=50, points=12, seed=1)
    assert v.status == "PASS", v.summary()


def test_topics_are_views_over_the_registry():
    reg = catalogue()
    for topic, ids in reg.topics().items():
        assert [i.id for i in identities(topic=topic)] == ids
        assert all(i in reg for i in ids)


def test_unknown_id_suggests_close_match():
    with pytest.raises(UnknownIdentityError, match="did you mean 'gauss.sheppard'"):
        get_identity("gauss.shepard")
