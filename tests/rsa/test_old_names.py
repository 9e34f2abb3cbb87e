"""The RSA names that said "conditions" for an RDM's rows work one more release, with a warning.

A condition is a paradigm's design cell; the rows of an RDM are stimuli (``stimulus_ids``,
``n_stimuli``). Each old name must warn and give exactly what the new name gives.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from probing._core.deprecation import renamed_values
from probing.rsa import RDMs, bootstrap_stimuli, draw_permutations, rsa_layers
from probing.rsa.rdm import n_stimuli_from_pairs
from probing.stats import FewItemsWarning


def _planted(rng, n=12):
    labels = np.repeat([0, 1], n // 2)
    acts = rng.normal(size=(n, 2, 8))
    acts[:, 1, :3] += 2 * labels[:, None]
    return acts, {"label": (labels[:, None] != labels[None]).astype(float)}


def test_bootstrap_conditions_is_bootstrap_stimuli(rng):
    from probing.rsa import bootstrap_conditions

    model = rng.normal(size=45)
    data = model + rng.normal(size=(2, 45))
    with pytest.warns(DeprecationWarning, match="'bootstrap_conditions' is deprecated .* "
                                                "use 'bootstrap_stimuli'"):
        old = bootstrap_conditions(data, model, n_boot=50, random_state=3)
    new = bootstrap_stimuli(data, model, n_boot=50, random_state=3)
    for field in ("value", "ci_low", "ci_high", "std_err", "n_degenerate"):
        np.testing.assert_array_equal(getattr(old, field), getattr(new, field))
    assert old.resample == new.resample == "stimuli"


def test_rsa_layers_bootstrap_conditions_is_stimuli(rng):
    acts, model = _planted(rng)
    kwargs = {"n_perm": 50, "n_boot": 50, "random_state": 1}
    with pytest.warns(DeprecationWarning,
                      match="bootstrap='conditions' is deprecated .* use bootstrap='stimuli'"):
        old = rsa_layers(acts, model, bootstrap="conditions", **kwargs)
    new = rsa_layers(acts, model, bootstrap="stimuli", **kwargs)
    pd.testing.assert_frame_equal(old, new)
    assert new["n_stimuli"].tolist() == [12, 12] and "n_conditions" not in new


def test_rdms_n_conditions_is_n_stimuli():
    rdms = RDMs([1.0, 2.0, 3.0], stimulus_ids="abc")
    with pytest.warns(DeprecationWarning, match="'n_conditions' is deprecated .* use 'n_stimuli'"):
        assert rdms.n_conditions == rdms.n_stimuli == 3


def test_n_conditions_from_pairs_is_n_stimuli_from_pairs():
    from probing.rsa.rdm import n_conditions_from_pairs

    with pytest.warns(DeprecationWarning, match="use 'n_stimuli_from_pairs'"):
        assert n_conditions_from_pairs(10) == n_stimuli_from_pairs(10) == 5


def test_draw_permutations_n_conditions_keyword():
    with pytest.warns(DeprecationWarning, match="'n_conditions' is deprecated .* use 'n_stimuli'"):
        old, old_exact = draw_permutations(n_conditions=8, n_perm=20, random_state=2)
    new, new_exact = draw_permutations(n_stimuli=8, n_perm=20, random_state=2)
    np.testing.assert_array_equal(old, new)
    assert old_exact == new_exact is False


def test_new_names_never_warn(rng):
    acts, model = _planted(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", FewItemsWarning)  # few stimuli: not a name warning
        table = rsa_layers(acts, model, bootstrap="stimuli", n_perm=20, n_boot=20)
        assert RDMs([1.0, 2.0, 3.0]).n_stimuli == 3
        draw_permutations(n_stimuli=4)
    assert table["n_boot"].tolist() == [20, 20]


def test_renamed_values_leaves_other_values_alone():
    @renamed_values(bootstrap={"conditions": "stimuli"})
    def f(*, bootstrap="stimuli"):
        return bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [f(), f(bootstrap="items"), f(bootstrap=None)] == ["stimuli", "items", None]
    with pytest.warns(DeprecationWarning, match="f: bootstrap='conditions'"):
        assert f(bootstrap="conditions") == "stimuli"


def test_to_frame_names_the_pair_by_stimulus_id():
    frame = RDMs([1.0, 2.0, 3.0], stimulus_ids="abc").to_frame()
    assert frame[["stimulus_id_a", "stimulus_id_b"]].values.tolist() == [
        ["a", "b"], ["a", "c"], ["b", "c"]]


def test_from_rsatoolbox_reads_the_old_conditions_descriptor():
    rsatoolbox = pytest.importorskip("rsatoolbox")
    from probing.rsa import from_rsatoolbox, to_rsatoolbox

    # what to_rsatoolbox wrote before the rename
    old = rsatoolbox.rdm.RDMs(np.array([[1.0, 2.0, 3.0]]),
                              pattern_descriptors={"conditions": ["x", "y", "z"]})
    assert from_rsatoolbox(old).stimulus_ids == ("x", "y", "z")
    new = to_rsatoolbox(RDMs([1.0, 2.0, 3.0], stimulus_ids="xyz"))
    assert new.pattern_descriptors["stimulus_id"] == ["x", "y", "z"]
    assert from_rsatoolbox(new).stimulus_ids == ("x", "y", "z")
    # an explicit descriptor still wins
    assert from_rsatoolbox(new, descriptor="index").stimulus_ids == (0, 1, 2)


def test_no_public_rsa_name_says_conditions():
    import inspect

    import probing.rsa as rsa

    assert not [name for name in rsa.__all__ if "condition" in name]
    offenders = [name for name in rsa.__all__ if callable(getattr(rsa, name))
                 and any("condition" in p for p in _parameters(getattr(rsa, name)))]
    assert offenders == []
    assert "n_stimuli" in rsa.RSA_COLUMNS and not any("condition" in c for c in rsa.RSA_COLUMNS)
    current = [n for n, member in inspect.getmembers(RDMs) if "condition" in n
               and not (member.__doc__ or "").startswith("Deprecated name")]
    assert current == []


def _parameters(obj):
    import inspect

    try:
        return inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return {}
