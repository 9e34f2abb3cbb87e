"""``probing run`` on ratings and reading-times paradigms writes alignment.csv."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from probing._core.vocabulary import table_columns
from probing.cli.main import main
from probing.pipeline.alignment_run import ALIGNMENT_COLUMNS
from probing.pipeline.paradigm_run import RunOptions, run_paradigm

WORDS = "the cat sat on the mat and the dog saw it there today .".split()


@pytest.fixture
def gpt2(make_lm):
    return make_lm("gpt2", max_positions=512)


def _run(path, lm, out, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_paradigm(path, lm, out, options=RunOptions(n_boot=200, **options))


def _paradigm(tmp_path, kind, data, columns, fmt="csv"):
    path = tmp_path / "p.yaml"
    path.write_text(f"name: human\nversion: 1\nkind: {kind}\nsource:\n  format: {fmt}\n"
                    f"  path: {data.name}\n  columns: {columns}\n")
    return path


def test_ratings_run(tmp_path, gpt2, rng):
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(4, 9))) for _ in range(24)]
    data = tmp_path / "r.csv"
    pd.DataFrame({"s": texts, "r": rng.uniform(1, 4, 24)}).to_csv(data, index=False)
    path = _paradigm(tmp_path, "ratings", data, "{text: s, rating: r}")
    tables = _run(path, gpt2, tmp_path / "run")
    alignment = pd.read_csv(tmp_path / "run" / "alignment.csv")
    assert list(alignment.columns) == ALIGNMENT_COLUMNS
    assert set(alignment["measure"]) == {"LP", "MeanLP", "PenLP", "NormLP", "SLOR"}
    assert set(alignment["metric"]) == {"pearson", "spearman", "calibrated_r2", "calibrated_rmse"}
    assert (alignment["n"] == 24).all()
    # the measure table agrees with the tokens: LP is the summed token log-probability
    lp = tables["tokens"].groupby("stimulus_id")["logprob"].sum()
    detail = tables["acceptability"].set_index("stimulus_id")
    np.testing.assert_allclose(detail["LP"], lp.loc[detail.index])
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["notes"]["alignment"]["unigram_source"]["package"] == "wordfreq"


def _reading_paradigm(tmp_path, rng):
    rows = [(w, z + 1, item, 300 + rng.normal(0, 20)) for item in (1, 2, 3)
            for z, w in enumerate(rng.choice(WORDS, size=40))]
    data = tmp_path / "rt.tsv"
    pd.DataFrame(rows, columns=["word", "zone", "item", "rt"]).to_csv(data, sep="\t", index=False)
    return _paradigm(tmp_path, "reading_times", data,
                     "{word: word, word_position: zone, item_id: item, time: rt}", fmt="tsv")


def test_reading_times_run(tmp_path, gpt2, rng):
    path = _reading_paradigm(tmp_path, rng)
    tables = _run(path, gpt2, tmp_path / "run")
    table = pd.read_csv(tmp_path / "run" / "alignment.csv")
    row = table.iloc[0]
    assert row["metric"] == "delta_loglik" and row["n"] == 3 * 38
    assert table["metric"].tolist() == ["delta_loglik", "ms_per_bit", "ms_per_bit_total"]
    exclusions = pd.read_csv(tmp_path / "run" / "reading_exclusions.csv")
    assert exclusions["rule"].tolist() == ["any"] and exclusions["n_excluded"].item() == 0
    reading = tables["reading"]
    written = pd.read_csv(tmp_path / "run" / "reading.csv")
    assert reading.columns.tolist() == written.columns.tolist() == table_columns(
        "reading", identity=True)
    assert len(reading) == 120 and reading["eow_corrected"].all()
    assert reading["delta_loglik"].notna().sum() == 3 * 38


def test_bad_data_fails_before_the_model_loads(tmp_path, capsys, monkeypatch):
    data = tmp_path / "r.csv"
    data.write_text("s,r\nthe cat sat,3\n")
    path = _paradigm(tmp_path, "ratings", data, "{text: sentence, rating: r}")

    def no_model(*args, **kwargs):
        raise AssertionError("the model must not load")

    monkeypatch.setattr("probing.models.load_model", no_model)
    assert main(["run", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert "r.csv: columns.text: column 'sentence' is not in the file" in err
    assert len(err.splitlines()) == 1


def test_reading_times_by_layer(tmp_path, gpt2, rng):
    tables = _run(_reading_paradigm(tmp_path, rng), gpt2, tmp_path / "run", layers="all")
    everything = pd.read_csv(tmp_path / "run" / "alignment.csv")
    assert list(everything.columns) == ALIGNMENT_COLUMNS
    alignment = everything[everything["metric"] == "delta_loglik"]
    assert alignment["layer"].isna().sum() == 1 and alignment["layer"].dropna().tolist() == [0, 1, 2]
    paired = everything[everything["metric"] == "delta_loglik_difference"].set_index("layer")
    assert paired.index.tolist() == [0, 1, 2]  # each layer against the model, same words
    assert abs(paired.loc[2, "estimate"]) < 1e-6
    plain = alignment[alignment["layer"].isna()].iloc[0]
    last = alignment[alignment["layer"] == 2].iloc[0]
    # the last layer's read-out is the model's prediction: the same fit
    np.testing.assert_allclose(last[["estimate", "ci_low", "ci_high"]].to_numpy(float),
                               plain[["estimate", "ci_low", "ci_high"]].to_numpy(float), atol=1e-6)
    assert alignment.loc[alignment["layer"] == 0, "estimate"].iloc[0] != plain["estimate"]
    layers = tables["reading_layers"]
    merged = layers[layers["layer"] == 2].merge(tables["reading"], on=["item_id", "word_position"])
    np.testing.assert_allclose(merged["surprisal_x"], merged["surprisal_y"], atol=1e-6)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["notes"]["alignment"]["layers"] == [0, 1, 2]


def test_ratings_by_layer(tmp_path, gpt2, rng):
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(4, 9))) for _ in range(20)]
    data = tmp_path / "r.csv"
    pd.DataFrame({"s": texts, "r": rng.uniform(1, 4, 20)}).to_csv(data, index=False)
    path = _paradigm(tmp_path, "ratings", data, "{text: s, rating: r}")
    _run(path, gpt2, tmp_path / "run", layers="1,-1")
    alignment = pd.read_csv(tmp_path / "run" / "alignment.csv")
    last = alignment[alignment["layer"] == 2].set_index(["measure", "metric"])["estimate"]
    plain = alignment[alignment["layer"].isna()].set_index(["measure", "metric"])["estimate"]
    assert set(alignment.loc[alignment["layer"].notna(), "metric"]) == {"pearson", "spearman"}
    np.testing.assert_allclose(last.sort_index(), plain.loc[last.index].sort_index(), atol=1e-6)


@pytest.mark.parametrize(("file", "layers", "message"), [
    ("agreement_simple.yaml", "1", "--layers: logit-lens read-outs are for paradigms of kind "
                                   "ratings or reading_times; this paradigm is 'minimal_pairs'"),
    ("naturalstories.yaml", "x", "layers must be 'all' or integers like 0,6,-1; got 'x'"),
], ids=["kind", "syntax"])
def test_bad_layers_fail_before_the_model_loads(tmp_path, capsys, monkeypatch, file, layers,
                                                message):
    def no_model(*args, **kwargs):
        raise AssertionError("the model must not load")

    monkeypatch.setattr("probing.models.load_model", no_model)
    paradigm = Path(__file__).resolve().parents[2] / "paradigms" / file
    assert main(["run", str(paradigm), "--layers", layers, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_reading_options_from_the_file_and_the_command_line(tmp_path, gpt2, rng):
    path = _reading_paradigm(tmp_path, rng)
    path.write_text(path.read_text() + "alignment:\n  spillover: 1\n  exclude: [text_edge]\n"
                    "  baseline: interaction\n")
    _run(path, gpt2, tmp_path / "run", alignment=(("log_rt", True),))
    exclusions = pd.read_csv(tmp_path / "run" / "reading_exclusions.csv").set_index("rule")
    assert exclusions.loc["text_edge", "n_excluded"] == 3  # the last word of each text
    table = pd.read_csv(tmp_path / "run" / "alignment.csv").set_index("metric")
    assert table.loc["delta_loglik", "n"] == 3 * 39 - 3
    assert "log_rt_per_bit" in table.index
    notes = json.loads((tmp_path / "run" / "manifest.json").read_text())["notes"]["alignment"]
    assert (notes["spillover"], notes["log_rt"], notes["baseline"]) == (1, True, "interaction")
    assert notes["exclude"] == ["text_edge"]


def test_bad_reading_option_fails_before_the_model_loads(tmp_path, rng, capsys, monkeypatch):
    def no_model(*args, **kwargs):
        raise AssertionError("the model must not load")

    monkeypatch.setattr("probing.models.load_model", no_model)
    path = _reading_paradigm(tmp_path, rng)
    assert main(["run", str(path), "--exclude", "lines", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--exclude: ['lines'] is not allowed; allowed: a list of text_edge" in err
    assert len(err.splitlines()) == 1


def test_compare_reading_two_runs(tmp_path, gpt2, make_lm, rng, capsys):
    path = _reading_paradigm(tmp_path, rng)
    _run(path, gpt2, tmp_path / "a")
    _run(path, make_lm("llama", max_positions=512), tmp_path / "b")
    out = tmp_path / "cmp.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["compare-reading", str(tmp_path / "a"), str(tmp_path / "b"), "--n-boot",
                     "200", "--out", str(out)])
    assert code == 0
    row = pd.read_csv(out).iloc[0]
    a = pd.read_csv(tmp_path / "a" / "reading.csv").dropna(subset=["delta_loglik"])
    b = pd.read_csv(tmp_path / "b" / "reading.csv").dropna(subset=["delta_loglik"])
    assert row["estimate"] == pytest.approx((a["delta_loglik"].to_numpy()
                                          - b["delta_loglik"].to_numpy()).mean())
    assert row["n"] == len(a) and row["n_texts"] == 3
    assert main(["compare-reading", str(tmp_path / "a"), str(tmp_path)]) == 2
    assert "no reading.csv" in capsys.readouterr().err


def test_reading_times_run_per_subject(tmp_path, gpt2, rng):
    # the paradigm's subject role: one row per word and subject, crossed random effects
    rows = [(w, z + 1, item, f"s{s}", 300 + 30 * s + rng.normal(0, 20))
            for item in (1, 2, 3) for z, w in enumerate(rng.choice(WORDS, size=20))
            for s in range(3)]
    data = tmp_path / "rts.tsv"
    pd.DataFrame(rows, columns=["word", "zone", "item", "WorkerId", "RT"]).to_csv(
        data, sep="\t", index=False)
    path = _paradigm(tmp_path, "reading_times", data, "{word: word, word_position: zone, "
                     "item_id: item, time: RT, subject: WorkerId}", fmt="tsv")
    tables = _run(path, gpt2, tmp_path / "run")
    reading = tables["reading"]
    assert reading.columns.tolist() == table_columns("reading", identity=True)
    assert len(reading) == 3 * 20 * 3 and set(reading["subject"]) == {"s0", "s1", "s2"}
    assert reading["delta_loglik"].notna().sum() == 3 * 18 * 3
    row = pd.read_csv(tmp_path / "run" / "alignment.csv").iloc[0]
    assert row["metric"] == "delta_loglik" and row["n"] == 3 * 18 * 3
    exclusions = pd.read_csv(tmp_path / "run" / "reading_exclusions.csv", keep_default_na=False)
    assert exclusions["subject"].tolist() == ["", "s0", "s1", "s2"]
