"""``probing lens``: each layer's read-out, checked against the model's own scores."""

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.models import score_tokens
from probing.pipeline.commands.execute import load_paradigm_value, run_command
from probing.pipeline.commands.lens import COMMAND, LensOptions
from tests.conftest import PARADIGMS

SIMPLE = PARADIGMS / "rsa_number_animacy.yaml"


def test_last_layer_reads_out_the_models_own_log_probabilities(make_lm, tmp_path):
    lm = make_lm("gpt2")
    paradigm = load_paradigm_value(SIMPLE)
    result = run_command(COMMAND, paradigm, lm, tmp_path / "run", options=LensOptions())
    scores = result.tables["lens_scores"]
    assert sorted(set(scores["layer"])) == [0, 1, 2]
    plain = score_tokens(lm, paradigm.stimuli.table).groupby("stimulus_id")["logprob"].sum()
    last = scores[scores["layer"] == 2].set_index("stimulus_id")["logprob_sum"]
    np.testing.assert_allclose(last.loc[plain.index], plain, rtol=1e-9, atol=1e-9)
    assert not np.allclose(scores[scores["layer"] == 0]["logprob_sum"], last)  # a read-out
    lens = result.tables["lens"]
    assert lens["n"].tolist() == [int(scores[scores["layer"] == 2]["n_tokens"].sum())] * 3
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "lens.csv", "lens_scores.csv", "manifest.json"]


def test_repeated_layers_fail_before_the_model_loads(tmp_path):
    def never():
        raise AssertionError("the model was loaded")

    with pytest.raises(ProbingError, match=r"layers repeat: \[1, 1\]"):
        run_command(COMMAND, SIMPLE, never, tmp_path / "run", options=LensOptions(layers="1,1"))
    with pytest.raises(ProbingError, match="parent folder .* does not exist"):
        run_command(COMMAND, SIMPLE, never, tmp_path / "no" / "run", options=LensOptions())
