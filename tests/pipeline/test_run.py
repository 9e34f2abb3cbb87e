"""``probing run``: the run folder contract, its numbers, and failure without leftovers."""

import json
import warnings

import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.cli.main import main
from probing.paradigms import generate, load_paradigm
from probing.pipeline.paradigm_run import RunOptions, run_paradigm
from probing.pipeline.sanity import SANITY_PAIRS, check_sanity
from tests.conftest import DATA, PARADIGMS

MINIMAL = f"""
name: tiny_agreement
version: 1
kind: minimal_pairs
lexicon: {DATA / "lexicon" / "english_core.tsv"}
factors:
  subject_number: [sg, pl]
template: "The {{subject}} {{verb}}."
slots:
  subject: {{pos: noun, human: "yes", number: $subject_number}}
  verb: {{pos: verb, vform: pres, transitivity: intransitive, number: {{same_as: subject}}}}
contrast: {{slot: verb, feature: number, keep: [lemma, vform]}}
items_per_cell: 4
"""


@pytest.fixture
def paradigm(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL)
    return path


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2")


def _run(paradigm, lm, out, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a random model fails the sanity check by design
        return run_paradigm(paradigm, lm, out, options=RunOptions(n_boot=200, **options))


def test_minimal_pairs_folder_contract(paradigm, gpt2, tmp_path):
    out = tmp_path / "run"
    _run(paradigm, gpt2, out)
    files = {p.name for p in out.iterdir()}
    assert files == {"manifest.json", "stimuli.csv", "tokens.csv", "scores.csv", "words.csv",
                     "pairs.csv", "summary.csv"}
    pairs = pd.read_csv(out / "pairs.csv")
    assert list(pairs.columns[:9]) == ["phenomenon", "pair_id", "item_id", "condition", "good",
                                       "bad", "logprob_good", "logprob_bad", "correct"]
    assert list(pd.read_csv(out / "summary.csv").columns[:1]) == ["phenomenon"]
    assert {"n", "accuracy", "ci_low", "ci_high", "p_val", "p_corr"} <= set(
        pd.read_csv(out / "summary.csv").columns)
    assert len(pairs) == 8
    assert ((pairs["logprob_good"] > pairs["logprob_bad"]) == (pairs["correct"] == 1)).all()


def test_scores_sum_the_token_table(paradigm, gpt2, tmp_path):
    tables = _run(paradigm, gpt2, tmp_path / "run")
    summed = tables["tokens"].groupby("stimulus_id")["logprob"].sum()
    scores = tables["scores"].set_index("stimulus_id")["logprob_sum"]
    pd.testing.assert_series_equal(scores.sort_index(), summed.sort_index(), check_names=False)
    pairs = tables["pairs"].set_index("pair_id")
    good = tables["stimuli"].query("role == 'good'").set_index("pair_id")["stimulus_id"]
    assert pairs.loc[good.index, "logprob_good"].to_numpy() == pytest.approx(
        scores.loc[good.to_numpy()].to_numpy())


def test_manifest_records_provenance(paradigm, gpt2, tmp_path):
    out = tmp_path / "run"
    _run(paradigm, gpt2, out, seed=7, reduction="mean", ties="half")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7
    assert manifest["options"]["reduction"] == "mean" and manifest["options"]["ties"] == "half"
    assert len(manifest["paradigm"]["sha256"]) == 64
    assert manifest["packages"]["torch"] and manifest["model"]
    assert manifest["started"] <= manifest["finished"]
    assert manifest["sanity_pairs_correct"].endswith(f"/{len(SANITY_PAIRS)}")


def test_syntaxgym_suite_regions_and_predictions(gpt2, tmp_path):
    path = PARADIGMS / "syntaxgym_fgd_subject.yaml"
    tables = _run(path, gpt2, tmp_path / "run")
    regions, predictions = tables["regions"], tables["predictions"]
    assert list(regions.columns) == ["suite", "stimulus_id", "item_id", "condition",
                                     "region_number", "region", "surprisal", "n_tokens",
                                     "eow_corrected", "model", "paradigm"]
    assert list(predictions.columns) == ["suite", "item_id", "prediction", "correct", "model",
                                         "paradigm"]
    assert predictions["item_id"].nunique() == tables["stimuli"]["item_id"].nunique()
    # a region's surprisal is the sum over the tokens that start inside its span, with the
    # end-of-word terms: - logprob_eow of its last token + that of the token before it
    stim = tables["stimuli"].iloc[0]
    spans = generate(load_paradigm(path)).regions
    span = spans[(spans["stimulus_id"] == stim["stimulus_id"]) & (spans["region_number"] == 3)]
    row = regions[(regions["stimulus_id"] == stim["stimulus_id"]) & (regions["region_number"] == 3)]
    tokens = tables["tokens"].query("stimulus_id == @stim.stimulus_id")
    start, end = span[["char_start", "char_end"]].iloc[0]
    inside = tokens[(tokens["char_start"] >= start) & (tokens["char_start"] < end)]
    assert len(inside) > 0
    before = tokens[tokens["token_index"] == inside["token_index"].min() - 1]["logprob_eow"]
    expected = inside["surprisal"].sum() - inside["logprob_eow"].iloc[-1] + before.item()
    assert row["surprisal"].item() == pytest.approx(expected)
    assert row["eow_corrected"].item()


def test_failed_run_leaves_no_folder(paradigm, make_lm, tmp_path):
    short = make_lm("gpt2", max_positions=4)  # every stimulus is longer than the context
    out = tmp_path / "run"
    with pytest.raises(ProbingError, match="tiny_agreement-0001"):
        _run(paradigm, short, out)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.yaml"]


def test_existing_folder_needs_force(paradigm, gpt2, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    with pytest.raises(ProbingError, match="--force"):
        _run(paradigm, gpt2, out)
    assert (out / "old.txt").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_paradigm(paradigm, gpt2, out, options=RunOptions(n_boot=200), force=True)
    assert not (out / "old.txt").exists() and (out / "pairs.csv").exists()


@pytest.mark.parametrize("bad, match", [({"reduction": "max"}, "reduction 'max'"),
                                        ({"ties": "coin"}, "ties 'coin'"),
                                        ({"batch_size": 0}, "batch_size")],
                         ids=["reduction", "ties", "batch-size"])
def test_bad_options(bad, match):
    with pytest.raises(ProbingError, match=match):
        RunOptions(**bad)


def test_cli_unknown_model_is_one_line_exit_2(paradigm, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", str(paradigm), "--model", str(tmp_path / "no-such-model"),
                 "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "local folder" in err or "folder" in err
    assert not out.exists()


def _scores(good, bad):
    rows = [{"stimulus_id": f"sanity-{i}-good", "logprob_sum": good} for i in range(len(SANITY_PAIRS))]
    rows += [{"stimulus_id": f"sanity-{i}-bad", "logprob_sum": bad} for i in range(len(SANITY_PAIRS))]
    return pd.DataFrame(rows)


def test_sanity_check_warns_only_when_pairs_are_wrong():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_sanity(_scores(-10.0, -20.0), model_name="m") == len(SANITY_PAIRS)
    with pytest.warns(UserWarning, match="SANITY CHECK FAILED"):
        assert check_sanity(_scores(-20.0, -10.0), model_name="m") == 0


def test_truncation_only_when_asked_and_recorded(paradigm, make_lm, tmp_path):
    short = make_lm("gpt2", max_positions=6)
    out = tmp_path / "run"
    tables = _run(paradigm, short, out, truncate=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["truncate"] is True
    truncated = manifest["notes"]["truncated_stimuli"]
    assert truncated and set(truncated) <= set(tables["stimuli"]["stimulus_id"])
    # inputs are the start token plus tokens 1..n-1, so n scored tokens fill n positions
    assert tables["tokens"].groupby("stimulus_id").size().max() == 6


def test_every_table_carries_model_and_paradigm_and_only_vocabulary_columns(paradigm, gpt2,
                                                                             tmp_path):
    from probing._core.vocabulary import check_columns

    tables = _run(paradigm, gpt2, tmp_path / "run")
    for name, table in tables.items():
        assert list(table.columns[-2:]) == ["model", "paradigm"], name
        assert set(table["paradigm"]) == {"tiny_agreement"} and table["model"].nunique() == 1
        if name != "stimuli":  # stimuli keep the paradigm's own factor columns
            check_columns(table.columns, name)
    pairs = tables["pairs"]
    assert {"item_id", "condition"} <= set(pairs)
    good = tables["stimuli"].query("role == 'good'").set_index("pair_id")["condition"]
    assert pairs["condition"].tolist() == good.loc[pairs["pair_id"]].tolist()


@pytest.mark.parametrize("override", [None, 11], ids=["paradigm-seed", "seed-option"])
def test_bootstrap_seed_is_the_run_seed(override, paradigm, gpt2, tmp_path, monkeypatch):
    """One seed reproduces the whole folder: the intervals use the paradigm's seed (or
    --seed), not a fixed 0."""
    import probing.pipeline.measures as measures

    seen = []
    original = measures.summarize_pairs

    def recording(pairs, **kwargs):
        seen.append(kwargs["random_state"])
        return original(pairs, **kwargs)

    monkeypatch.setattr(measures, "summarize_pairs", recording)
    paradigm.write_text(MINIMAL + "seed: 5\n")
    _run(paradigm, gpt2, tmp_path / "run", seed=override)
    assert seen == [5 if override is None else 11]
