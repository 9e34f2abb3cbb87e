"""Per-subject reading times: the importer's ``subject`` role, per-subject exclusion counts,
and crossed random effects by subject and by word on the imported rows (issue #22)."""

import warnings

import pandas as pd
import pytest
import statsmodels.api as sm

from probing._core.errors import SpecError
from probing.alignment import compute_delta_loglik, summarize_delta
from probing.alignment.reading_design import apply_exclusions
from probing.paradigms.importers.human import read_human_source

ROLES = {"word": "w", "word_position": "zone", "item_id": "story", "time": "RT",
         "subject": "WorkerId"}


def _per_subject_file(tmp_path, rng, n_texts=4, n_words=50, n_subjects=6, effect=8.0):
    """Natural Stories' per-subject layout (word, zone, item, WorkerId, RT) with RTs that
    follow a planted surprisal, a subject intercept and a word intercept."""
    rows, surprisal = [], {}
    for story in range(1, n_texts + 1):
        words = [f"w{story}x{z}" for z in range(1, n_words + 1)]
        for z in range(1, n_words + 1):
            surprisal[(story, z)] = rng.gamma(2.0, 2.0)
        word_effect = rng.normal(0, 15, n_words)
        for subject in range(n_subjects):
            shift = 40 * rng.normal()
            for z in range(1, n_words + 1):
                rt = (300 + shift + word_effect[z - 1] + effect * surprisal[(story, z)]
                      + rng.normal(0, 20))
                rows.append((words[z - 1], z, story, f"A{subject}", rt))
    path = tmp_path / "processed_RTs.tsv"
    pd.DataFrame(rows, columns=["w", "zone", "story", "WorkerId", "RT"]).to_csv(
        path, sep="\t", index=False)
    return path, surprisal


def _design(stimuli, surprisal, rng):
    words = stimuli.words.copy()
    words["surprisal"] = [surprisal[(int(i), int(z))]
                          for i, z in zip(words["item_id"], words["word_position"], strict=True)]
    lengths = {w: len(w) for w in words["word"].unique()}
    words["length"] = words["word"].map(lengths)
    words["frequency"] = words["word"].map({w: rng.normal(-9, 2) for w in lengths})
    return words


def test_subject_role_gives_one_text_and_a_row_per_subject_and_word(tmp_path, rng):
    path, _ = _per_subject_file(tmp_path, rng, n_texts=2, n_words=5, n_subjects=3)
    stimuli = read_human_source(path, kind="reading_times", columns=ROLES)
    assert len(stimuli.table) == 2
    assert stimuli.table["text"].iloc[0] == "w1x1 w1x2 w1x3 w1x4 w1x5"
    assert len(stimuli.words) == 2 * 5 * 3 and set(stimuli.words["subject"]) == {"A0", "A1", "A2"}
    assert stimuli.words.groupby(["stimulus_id", "word_index"]).size().eq(3).all()
    without = {k: v for k, v in ROLES.items() if k != "subject"}
    with pytest.raises(SpecError, match=r"\(item_id, word_position\)"):
        read_human_source(path, kind="reading_times", columns=without)


@pytest.mark.parametrize("edit, message", [
    (lambda t: pd.concat([t, t.iloc[[0]]]), r"\(item_id, word_position, subject\)"),
    (lambda t: t.assign(w=t["w"].where(t.index != 5, "other")), "subjects disagree on the word"),
    (lambda t: t.assign(WorkerId=t["WorkerId"].where(t.index != 2, " ")), "empty subject"),
])
def test_bad_per_subject_rows_name_the_line_and_field(tmp_path, rng, edit, message):
    path, _ = _per_subject_file(tmp_path, rng, n_texts=1, n_words=4, n_subjects=2)
    table = pd.read_csv(path, sep="\t")
    edit(table).to_csv(path, sep="\t", index=False)
    with pytest.raises(SpecError, match=message):
        read_human_source(path, kind="reading_times", columns=ROLES)


def test_exclusions_are_counted_per_subject():
    words = pd.DataFrame({"item_id": 1, "word_position": [1, 2, 3] * 2,
                          "word": ["A", "dog", "ran."] * 2, "subject": ["s1"] * 3 + ["s2"] * 3,
                          "rt": [200.0, 900, 300, 250, 260, 1200]})
    kept, counts = apply_exclusions(words, words, exclude=["text_edge"], rt_max=800)
    assert counts.columns.tolist() == ["rule", "subject", "n_excluded", "n"]
    by = counts.set_index(["subject", "rule"])["n_excluded"]
    assert by[("", "text_edge")] == 4 and by[("", "rt_max")] == 2 and by[("", "any")] == 5
    assert by[("s1", "any")] == 3 and by[("s2", "any")] == 2 and by[("s2", "rt_max")] == 1
    assert kept["subject"].tolist() == ["s2"]


def test_planted_effect_on_imported_rows_and_statsmodels_agrees(tmp_path, rng):
    path, surprisal = _per_subject_file(tmp_path, rng)
    stimuli = read_human_source(path, kind="reading_times", columns=ROLES)
    words = _design(stimuli, surprisal, rng)
    scored = compute_delta_loglik(words, spillover=0)
    row = summarize_delta(scored, random_state=0).iloc[0]
    assert row["ci_low"] > 0 and row["n"] == 4 * 50 * 6
    # statsmodels MixedLM on the same rows, crossed subject and word intercepts, recovers
    # the planted slope of 8 ms per nat
    data = words.assign(one=1, item=words["item_id"].astype(str) + "_"
                        + words["word_position"].astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.MixedLM.from_formula("rt ~ surprisal + length + frequency", data, groups="one",
                                      re_formula="0", vc_formula={"subject": "0 + C(subject)",
                                                                  "item": "0 + C(item)"}).fit(
                                                                      reml=False)
    assert abs(fit.fe_params["surprisal"] - 8.0) < 3 * fit.bse["surprisal"]
