"""Export to and import from rsatoolbox."""

import builtins

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.rsa import RDMs, compute_rdm, from_rsatoolbox, to_rsatoolbox


def test_round_trip(rng):
    pytest.importorskip("rsatoolbox")
    rdms = compute_rdm(rng.normal(size=(6, 3, 5)), stimulus_ids=list("abcdef"))
    out = to_rsatoolbox(rdms)
    assert out.n_rdm == 3 and out.rdm_descriptors["layer"] == [0, 1, 2]
    back = from_rsatoolbox(out)
    assert back.stimulus_ids == rdms.stimulus_ids and back.distance == "correlation"
    np.testing.assert_array_equal(back.values, rdms.values)
    assert back.descriptors["layer"].tolist() == [0, 1, 2]


def test_exported_rdms_compare_the_same_in_rsatoolbox(rng):
    rsatoolbox = pytest.importorskip("rsatoolbox")
    a, b = RDMs(rng.normal(size=(2, 10))), RDMs(rng.normal(size=10))
    theirs = rsatoolbox.rdm.compare(to_rsatoolbox(a), to_rsatoolbox(b), method="spearman")
    from probing.rsa import compare_rdms

    np.testing.assert_allclose(compare_rdms(a, b), theirs, atol=1e-12)


def test_missing_rsatoolbox_is_a_clear_error(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("rsatoolbox"):
            raise ImportError("no rsatoolbox")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr("importlib.import_module", lambda name: fake_import(name))
    with pytest.raises(ProbingError, match="need rsatoolbox; install it with"):
        to_rsatoolbox(RDMs([1.0, 2.0, 3.0]))
