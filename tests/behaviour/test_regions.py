"""Tests for SyntaxGym prediction evaluation and the region mixed model."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError, SpecError
from probing.behaviour import evaluate_predictions, fit_region_model, summarize_predictions
from probing.stats import fit_mixed_model

# Two suites; items 1-2 each with conditions "that" and "what"; regions 1 (named "wh")
# and 2 (named "verb"). Surprisals chosen so each prediction's outcome is known.
SURPRISAL = {  # (suite, item, condition) -> (region 1, region 2)
    ("fgd", 1, "that"): (2.0, 5.0), ("fgd", 1, "what"): (3.0, 4.0),
    ("fgd", 2, "that"): (2.0, 3.0), ("fgd", 2, "what"): (1.0, 6.0),
    ("npi", 1, "that"): (1.0, 1.0), ("npi", 1, "what"): (1.0, 2.0),
}


def make_inputs():
    stimuli, scores = [], []
    for (suite, item, cond), values in SURPRISAL.items():
        sid = f"{suite}-{item}-{cond}"
        stimuli.append((sid, item, cond, f"text {sid}", suite))
        for number, (name, value) in enumerate(zip(["wh", "verb"], values, strict=True), 1):
            scores.append((sid, name, number, value, value / np.log(2), 1))
    stimuli = pd.DataFrame(stimuli, columns=["stimulus_id", "item_id", "condition", "text",
                                             "suite"])
    scores = pd.DataFrame(scores, columns=["stimulus_id", "region", "region_number",
                                           "surprisal", "surprisal_bits", "n_tokens"])
    return scores, stimuli


VERB = "(2;%what%) < (verb;%that%)"
WH = "[(wh;%what%) > (1;%that%)] & [(2;%what%) > (2;%that%)]"


def test_predictions_by_hand_with_suites():
    scores, stimuli = make_inputs()
    out = evaluate_predictions(scores, {"fgd": [VERB, WH], "npi": [VERB]}, stimuli,
                               suite_column="suite")
    assert out.columns.tolist() == ["suite", "item_id", "prediction", "correct"]
    assert out[["suite", "item_id", "prediction"]].values.tolist() == [
        ["fgd", 1, VERB], ["fgd", 1, WH], ["fgd", 2, VERB], ["fgd", 2, WH], ["npi", 1, VERB]]
    # fgd1: 4 < 5 yes; 3 > 2 but 4 > 5 no. fgd2: 6 < 3 no; 1 > 2 no. npi1: 2 < 1 no.
    assert out["correct"].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]


def test_shared_predictions_without_suites():
    scores, stimuli = make_inputs()
    fgd = stimuli["suite"] == "fgd"
    out = evaluate_predictions(scores, [VERB], stimuli[fgd])
    assert out.columns.tolist() == ["item_id", "prediction", "correct"]
    assert out["correct"].tolist() == [1.0, 0.0]
    same = evaluate_predictions(scores, VERB, stimuli[fgd])
    pd.testing.assert_frame_equal(out, same)


def test_one_list_applies_to_every_suite():
    scores, stimuli = make_inputs()
    out = evaluate_predictions(scores, [VERB], stimuli, suite_column="suite")
    assert out["suite"].tolist() == ["fgd", "fgd", "npi"]


def test_bits_give_the_same_verdicts():
    scores, stimuli = make_inputs()
    nats = evaluate_predictions(scores, [VERB, WH], stimuli, suite_column="suite")
    bits = evaluate_predictions(scores, [VERB, WH], stimuli, suite_column="suite",
                                measure="surprisal_bits")
    pd.testing.assert_frame_equal(nats, bits)


def test_nan_measure_is_false_as_in_syntaxgym():
    scores, stimuli = make_inputs()
    scores.loc[scores["stimulus_id"] == "fgd-1-what", "surprisal"] = np.nan
    out = evaluate_predictions(scores, [VERB], stimuli, suite_column="suite")
    assert out["correct"].tolist() == [0.0, 0.0, 0.0]


def test_shuffled_rows_same_output_and_inputs_untouched():
    scores, stimuli = make_inputs()
    before = (scores.copy(), stimuli.copy())
    out = evaluate_predictions(scores, [VERB, WH], stimuli, suite_column="suite")
    pd.testing.assert_frame_equal(scores, before[0])
    pd.testing.assert_frame_equal(stimuli, before[1])
    shuffled = evaluate_predictions(scores.sample(frac=1, random_state=0), [VERB, WH],
                                    stimuli.sample(frac=1, random_state=1),
                                    suite_column="suite")
    pd.testing.assert_frame_equal(out, shuffled)


BAD = [
    (lambda sc, st: ((sc[sc["region_number"] != 2], st, [VERB]), {}),
     SpecError, r"item 1: no measure for region 2 of condition 'what'"),
    (lambda sc, st: ((sc, st, ["(2;%what%) <"]), {}), SpecError, "expected"),
    (lambda sc, st: ((sc, st, {"fgd": [VERB]}), {"suite_column": "suite"}),
     ProbingError, r"no predictions for suite\(s\) \['npi'\]"),
    (lambda sc, st: ((sc, st, {"fgd": [VERB]}), {}), ProbingError, "need suite_column"),
    (lambda sc, st: ((pd.concat([sc, sc.iloc[:1]]), st, [VERB]), {}),
     ProbingError, "has region_number 1 more than once"),
    (lambda sc, st: ((sc.drop(columns="region"), st, [VERB]), {}),
     ProbingError, r"region_scores: missing column\(s\) \['region'\]"),
    (lambda sc, st: ((sc, st, [VERB]), {"suite_column": "corpus"}),
     ProbingError, r"stimuli: missing column\(s\) \['corpus'\]"),
]


@pytest.mark.parametrize("mangle, error, message", BAD,
                         ids=["missing-region", "malformed", "suite-without-predictions",
                              "mapping-without-suite", "duplicate", "scores-column",
                              "suite-column"])
def test_evaluate_bad_input(mangle, error, message):
    args, kwargs = mangle(*make_inputs())
    scores, stimuli, predictions = args
    if "suite_column" not in kwargs:
        stimuli = stimuli[stimuli["suite"] == "fgd"]
    with pytest.raises(error, match=message):
        evaluate_predictions(scores, predictions, stimuli, **kwargs)


def test_summarize_predictions_by_hand():
    scores, stimuli = make_inputs()
    ev = evaluate_predictions(scores, [VERB, WH], stimuli, suite_column="suite")
    out = summarize_predictions(ev, suite_column="suite", n_boot=200, random_state=0)
    assert out.columns.tolist() == ["suite", "prediction", "n", "accuracy", "ci_low",
                                    "ci_high"]
    assert out[["suite", "n", "accuracy"]].values.tolist() == [
        ["fgd", 2, 0.5], ["fgd", 2, 0.0], ["npi", 1, 0.0], ["npi", 1, 0.0]]
    # Wilson intervals: 0 of 2 is not [0, 0] and 0 of 1 still has an interval
    from statsmodels.stats.proportion import proportion_confint

    assert out.loc[1, ["ci_low", "ci_high"]].tolist() == pytest.approx(
        proportion_confint(0, 2, method="wilson"))
    assert out.loc[2, ["ci_low", "ci_high"]].tolist() == pytest.approx(
        proportion_confint(0, 1, method="wilson"))
    boot = summarize_predictions(ev, suite_column="suite", n_boot=200, random_state=0,
                                 interval="bootstrap")
    assert boot.loc[1, ["ci_low", "ci_high"]].tolist() == [0.0, 0.0]


def test_summarize_predictions_missing_columns():
    with pytest.raises(ProbingError, match=r"evaluations: missing column\(s\) \['suite'\]"):
        summarize_predictions(pd.DataFrame({"prediction": ["x"], "correct": [1.0]}),
                              suite_column="suite")


def _factorial_regions(rng, n_items=20):
    rows, scores = [], []
    for item in range(n_items):
        shift = rng.normal()
        for wh in ("what", "that"):
            for gap in ("gap", "nogap"):
                sid = f"{item}-{wh}-{gap}"
                rows.append((sid, item, f"{wh}_{gap}", wh, gap))
                effect = 2.0 if (wh, gap) == ("that", "gap") else 0.0
                scores.append((sid, "verb", 3, 5 + shift + effect + rng.normal()))
                scores.append((sid, "np", 2, rng.normal()))
    stimuli = pd.DataFrame(rows, columns=["stimulus_id", "item_id", "condition", "wh", "gap"])
    scores = pd.DataFrame(scores, columns=["stimulus_id", "region", "region_number",
                                           "surprisal"])
    return scores, stimuli


@pytest.mark.parametrize("region", [3, "verb"], ids=["number", "name"])
def test_region_model_equals_fit_mixed_model_on_that_region(rng, region):
    scores, stimuli = _factorial_regions(rng)
    out = fit_region_model(scores, stimuli, region=region, factors=["wh", "gap"])
    table = scores[scores["region"] == "verb"].merge(stimuli, on="stimulus_id")
    ref = fit_mixed_model(table, outcome="surprisal", fixed=["wh", "gap"])
    assert (out["region"] == region).all()
    pd.testing.assert_frame_equal(out.drop(columns="region"), ref)
    interaction = out.set_index("term").loc["C(wh, Sum)[S.that]:C(gap, Sum)[S.gap]"]
    assert interaction["estimate"] == pytest.approx(0.5, abs=0.25)
    assert interaction["p_val"] < 0.01


def test_region_model_test_defaults_to_by_item_and_is_selectable(rng):
    # every item has every cell: auto runs the by-item test; wald and satterthwaite on request
    scores, stimuli = _factorial_regions(rng)
    for test, expected in [(None, "by_item"), ("wald", "wald"), ("satterthwaite", "satterthwaite")]:
        kwargs = {} if test is None else {"test": test}
        out = fit_region_model(scores, stimuli, region="verb", factors=["wh", "gap"], **kwargs)
        assert out["test"].eq(expected).all(), (test, out["test"].unique())
    with pytest.raises(ProbingError, match="test must be one of"):
        fit_region_model(scores, stimuli, region="verb", factors=["wh"], test="lrt")


@pytest.mark.parametrize("kwargs, message", [
    ({"region": 9}, "no rows for region_number 9"),
    ({"region": "subj"}, "no rows for region 'subj'"),
    ({"factors": ["wh", "mood"]}, r"stimuli: missing column\(s\) \['mood'\]"),
], ids=["number", "name", "factor"])
def test_region_model_bad_input(rng, kwargs, message):
    scores, stimuli = _factorial_regions(rng, n_items=4)
    kwargs = {"region": 3, "factors": ["wh"], **kwargs}
    with pytest.raises(ProbingError, match=message):
        fit_region_model(scores, stimuli, **kwargs)
