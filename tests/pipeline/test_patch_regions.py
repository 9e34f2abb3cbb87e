"""``probing patch --region-token all``: every token of a region patched at once, token for
token; a pair whose region has other token counts in its two members is excluded with a
reason, never mixed."""

import json
import re
import types

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.cli.main import main
from probing.models import patch_pairs
from probing.pipeline.causal_pairs import screen_pairs
from probing.pipeline.commands.mediate import MediateOptions
from probing.pipeline.commands.patch import PatchOptions, run_patch
from tests.conftest import PARADIGMS

PARADIGM = PARADIGMS / "agreement_pp_attractor.yaml"
FAST = {"limit": 4, "n_boot": 20, "batch_size": 8, "readout": "logit_diff",
        "contrast": "subject_number", "layers": "1"}
REASON = r"^region \w+ has \d+ and \d+ tokens in the two members: --region-token all"


def never_loaded():
    raise AssertionError("the model was loaded although an input was bad")


def _word_regions(stimulus_id, text):
    """One region per whitespace word (``w1``, ``w2``, ...), in characters."""
    rows, start = [], 0
    for number, word in enumerate(text.split(), start=1):
        start = text.index(word, start)
        rows.append((stimulus_id, number, f"w{number}", start, start + len(word)))
        start += len(word)
    return rows


SAME = ("The cat sat on the mat.", "The mat sat on the cat.")  # every word splits alike
PLANTED = ("The keys to the cabinet are on the table.",
           "The keys to the cabinets are on the table.")


def _screen(lm, texts):
    """Screen the pairs ``texts`` (source, target, ...) with one region per word."""
    n = len(texts) // 2
    pairs = pd.DataFrame({"pair_id": [f"p{k}" for k in range(n)], "item_id": range(n),
                          "source_id": range(0, 2 * n, 2), "target_id": range(1, 2 * n, 2),
                          "source": texts[0::2], "target": texts[1::2]})
    regions = pd.DataFrame([r for sid, text in enumerate(texts) for r in _word_regions(sid, text)],
                           columns=["stimulus_id", "region_number", "region", "char_start",
                                    "char_end"])
    options = types.SimpleNamespace(readout="logit_diff", positions="regions",
                                    region_token="all", limit=None)
    return screen_pairs(lm, pairs, types.SimpleNamespace(regions=regions), options)


def test_planted_token_count_mismatch_is_excluded_with_its_reason(make_lm):
    # pair p1: word 5 is "cabinet" against "cabinets", which the tiny GPT-2 tokenizer
    # splits into other numbers of tokens: excluded, one reason; p0 kept
    lm = make_lm("gpt2")
    screened = _screen(lm, [*SAME, *PLANTED])
    assert screened.pairs["pair_id"].tolist() == ["p0"]
    assert screened.excluded["pair_id"].tolist() == ["p1"]
    reason = screened.excluded["reason"].item()
    counts = re.match(r"region w5 has (\d+) and (\d+) tokens in the two members: "
                      r"--region-token all patches a region token for token$", reason)
    assert counts and int(counts[1]) + 1 == int(counts[2]), reason
    # each region is the span of its own tokens in each member, in order and disjoint
    where = screened.where[~screened.where["label"].str.endswith(":answer")]
    assert where["label"].tolist() == [f"{k}:w{k}" for k in range(1, 7)]
    spans = where["target_position"].tolist()
    assert where["source_position"].tolist() == spans
    flat = [p for span in spans for p in span]
    assert flat == list(range(len(flat)))  # every input position, once


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_every_region_at_once_restores_the_clean_read_out(make_lm, arch):
    # regions that cover the sentence, patched together (each member's own tokens): the
    # corrupted run reads out as the clean one at every layer
    lm = make_lm(arch)
    screened = _screen(lm, list(SAME))
    spans = {pid: [tuple(p for span in group["target_position"] for p in span)]
             for pid, group in screened.where[~screened.where["label"].str.endswith(
                 ":answer")].groupby("pair_id")}
    table = patch_pairs(lm, screened.pairs, layers=[0, 1, 2], positions=spans,
                        readout="logit_diff")
    reads = table.pivot_table(index=["run", "layer"], columns="member", values="logprob")
    diff = reads["source"] - reads["target"]
    clean, corrupted = diff.loc[("source", -1)], diff.loc[("target", -1)]
    assert abs(clean - corrupted) > 1e-6
    np.testing.assert_allclose(diff.loc["patched"], clean, rtol=0, atol=1e-10)


@pytest.fixture
def llama(make_lm):
    return make_lm("llama")


def test_region_patching_run_folder(llama, tmp_path):
    with pytest.warns(UserWarning, match="fewer than 20 items"):
        tables = run_patch(PARADIGM, llama, tmp_path / "run",
                           options=PatchOptions(region_token="all", **FAST))
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    excluded = pd.read_csv(tmp_path / "run" / "excluded_pairs.csv")
    assert manifest["options"]["region_token"] == "all"
    assert manifest["notes"]["n_pairs_excluded"] == len(excluded) > 0
    assert excluded["reason"].str.match(REASON).all()
    assert manifest["notes"]["n_pairs"] == len(tables["patch_pairs"]) >= 1
    positions = list(pd.unique(tables["patching"]["position"]))
    assert positions[:4] == ["1:subject", "2:prep", "3:attractor", "4:answer"]


@pytest.mark.parametrize("argv,message", [
    (["patch", "--region-token", "every"], "region_token 'every': allowed last, first, all"),
    (["patch", "--region-token", "all", "--positions", "tokens"],
     "--region-token all: needs --positions regions"),
    (["mediate", "--region-token", "all"], "--region-token all: probing patch only"),
], ids=["value", "tokens", "mediate"])
def test_bad_region_token_is_refused_before_the_model_loads(monkeypatch, tmp_path, capsys,
                                                          argv, message):
    import probing.models

    monkeypatch.setattr(probing.models, "load_model", lambda *a, **k: never_loaded())
    code = main([argv[0], str(PARADIGM), *argv[1:], "--contrast", "subject_number",
                 "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0
    assert not (tmp_path / "run").exists()


def test_region_token_all_in_the_api_options():
    assert PatchOptions(region_token="all").region_token == "all"
    with pytest.raises(ProbingError, match="allowed here: last, first"):
        MediateOptions(region_token="all")


EXPERIMENT = f"""\
name: exp
paradigms:
  - {PARADIGM}
models:
  - name: small
    path: smollm2-135m
analyses:
  - kind: patch
    options: {{contrast: subject_number, region_token: all}}
"""


def test_region_token_all_in_an_experiment_file(tmp_path):
    from probing._core.errors import SpecError
    from probing.pipeline.experiment import load_experiment

    path = tmp_path / "exp.yaml"
    path.write_text(EXPERIMENT)
    spec = load_experiment(path)
    assert spec.analyses[0].options["region_token"] == "all"
    for text, message in ((EXPERIMENT.replace("region_token: all", "region_token: every"),
                           "region_token 'every': allowed last, first, all"),
                          (EXPERIMENT.replace("kind: patch", "kind: mediate"),
                           "--region-token all: probing patch only")):
        path.write_text(text)
        with pytest.raises(SpecError, match=message) as err:
            load_experiment(path)
        assert str(err.value).startswith(f"{path}:"), str(err.value)
