"""The mutation corpus: wrong twins of every identity must be rejected."""

import pytest

from symbolic_mf.catalogue import catalogue
from symbolic_mf.catalogue.fourier import SLOW as FOURIER_SLOW
from symbolic_mf.mutation import check_mutant, mutants

CORPUS = [m for idy in catalogue() for m in mutants(idy)]


def _default_sample(corpus):
    """Every identity's factor and sign (or flip) twins, and every kind for
    every fourth identity; ``--full`` runs the whole corpus."""
    ids = catalogue().ids()
    out = []
    for m in corpus:
        base = m.identity.id.split(".mutant-")[0]
        kind = m.kind.split(":")[0]
        slow = not (kind in ("factor", "sign", "flip") or ids.index(base) % 4 == 0) or base in FOURIER_SLOW
        out.append(pytest.param(m, id=m.identity.id, marks=[pytest.mark.slow] if slow else []))
    return out


def test_corpus_covers_every_identity_with_every_kind():
    by_id = {}
    for m in CORPUS:
        by_id.setdefault(m.identity.id.split(".mutant-")[0], set()).add(m.kind.split(":")[0])
    assert set(by_id) == set(catalogue().ids())
    for kinds in by_id.values():
        assert {"factor", "sign"} <= kinds or "flip" in kinds
    assert len(CORPUS) >= 4 * len(catalogue())


@pytest.mark.parametrize("mutant", _default_sample(CORPUS))
def test_mutant_is_rejected(mutant):
    v = check_mutant(mutant)
    if mutant.must == "FAIL":
        assert v.status == "FAIL", v.summary()
        assert v.counterexample is not None
    else:
        assert v.status != "PASS", v.summary()
