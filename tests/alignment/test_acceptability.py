"""Acceptability measures, correlations, Williams' test and calibration."""

import math

import numpy as np
import pandas as pd
import pytest
import wordfreq
from scipy import stats as sps

from probing._core.errors import ProbingError
from probing.alignment import (
    build_acceptability,
    calibrate_predictions,
    compare_correlations,
    compute_unigram_logprob,
    correlate,
    score_calibration,
    williams_test,
)


def test_measures_against_hand_computation():
    scores = pd.DataFrame({"stimulus_id": ["a", "b"], "logprob_sum": [-30.0, -12.0],
                           "unigram_logprob": [-40.0, -20.0], "n_words": [6, 3],
                           "n_tokens": [8, 4]})
    got = build_acceptability(scores).pivot(index="stimulus_id", columns="measure",
                                            values="estimate")
    # sentence a by hand: |s| = 6
    assert got.loc["a", "LP"] == -30.0
    assert got.loc["a", "MeanLP"] == pytest.approx(-5.0)
    assert got.loc["a", "PenLP"] == pytest.approx(-30.0 / (11 / 6) ** 0.8)
    assert got.loc["a", "NormLP"] == pytest.approx(-0.75)
    assert got.loc["a", "SLOR"] == pytest.approx(10 / 6)
    by_tokens = build_acceptability(scores, length="n_tokens")
    slor_b = by_tokens.query("stimulus_id == 'b' and measure == 'SLOR'")["estimate"].item()
    assert slor_b == pytest.approx(8 / 4)


def test_unigram_logprob_is_wordfreq_sum():
    text = "The cat sat on the mat."
    expected = sum(math.log(wordfreq.word_frequency(w, "en")) for w in
                   ["the", "cat", "sat", "on", "the", "mat"])
    got = compute_unigram_logprob([text])
    assert got["unigram_logprob"].item() == pytest.approx(expected)
    assert got["n_words"].item() == 6


def test_missing_column_and_empty_sentence():
    scores = pd.DataFrame({"stimulus_id": ["a"], "logprob_sum": [-3.0]})
    with pytest.raises(ProbingError, match=r"lack column\(s\) \['unigram_logprob', 'n_words'\]"):
        build_acceptability(scores)
    scores = scores.assign(unigram_logprob=-5.0, n_words=0)
    with pytest.raises(ProbingError, match="sentence 'a' has n_words 0"):
        build_acceptability(scores)


@pytest.fixture
def rated(rng):
    n = 120
    human = pd.DataFrame({"stimulus_id": np.arange(n), "rating": rng.normal(size=n)})
    table = pd.concat([
        pd.DataFrame({"stimulus_id": np.arange(n), "measure": "good",
                      "estimate": human["rating"] + 0.5 * rng.normal(size=n)}),
        pd.DataFrame({"stimulus_id": np.arange(n), "measure": "noise",
                      "estimate": rng.normal(size=n)})], ignore_index=True)
    return table, human


def test_correlations_and_intervals_against_scipy(rated):
    table, human = rated
    out = correlate(table, ratings=human, n_boot=4000, random_state=0)
    for measure, group in table.groupby("measure"):
        x = group["estimate"].to_numpy()
        y = human["rating"].to_numpy()
        for method, func in (("pearson", sps.pearsonr), ("spearman", sps.spearmanr)):
            row = out[(out["measure"] == measure) & (out["metric"] == method)].iloc[0]
            assert row["estimate"] == pytest.approx(func(x, y)[0], abs=1e-12)
            ref = sps.bootstrap((x, y), lambda a, b, func=func: func(a, b)[0], paired=True,
                                vectorized=False, n_resamples=1000, method="percentile",
                                random_state=1).confidence_interval
            assert row["ci_low"] == pytest.approx(ref.low, abs=0.03)
            assert row["ci_high"] == pytest.approx(ref.high, abs=0.03)
    good = out.query("measure == 'good' and metric == 'pearson'").iloc[0]
    noise = out.query("measure == 'noise' and metric == 'pearson'").iloc[0]
    assert good["ci_low"] > 0.6 and noise["ci_low"] < 0 < noise["ci_high"]


def test_williams_test_by_hand():
    r12, r13, r23, n = 0.45, 0.25, 0.5, 80
    # Steiger (1980) eq. 14 written out from the 3x3 correlation matrix's determinant
    matrix = np.array([[1, r12, r13], [r12, 1, r23], [r13, r23, 1]])
    det = np.linalg.det(matrix)
    rbar = (r12 + r13) / 2
    t = (r12 - r13) * math.sqrt((n - 1) * (1 + r23)
                                / (2 * det * (n - 1) / (n - 3) + rbar**2 * (1 - r23) ** 3))
    got_t, got_p = williams_test(r12, r13, r23, n)
    assert got_t == pytest.approx(t, rel=1e-12)
    assert got_p == pytest.approx(2 * sps.t.sf(t, n - 3), rel=1e-12)
    assert williams_test(r13, r12, r23, n)[0] == pytest.approx(-t)


@pytest.mark.slow
def test_williams_test_null_calibration():
    rng = np.random.default_rng(7)
    rejections = 0
    n_sets = 1000
    for _ in range(n_sets):  # both measures equally related to the ratings
        y = rng.normal(size=40)
        shared = rng.normal(size=40)
        a = y + shared + rng.normal(size=40)
        b = y + shared + rng.normal(size=40)
        rejections += compare_correlations(a, b, y)["p_val"].item() < 0.05
    assert abs(rejections / n_sets - 0.05) < 3 * math.sqrt(0.05 * 0.95 / n_sets)


def test_compare_correlations_finds_the_better_measure(rated):
    table, human = rated
    good = table.query("measure == 'good'")["estimate"].to_numpy()
    noise = table.query("measure == 'noise'")["estimate"].to_numpy()
    row = compare_correlations(good, noise, human["rating"].to_numpy()).iloc[0]
    assert row["r_first"] == pytest.approx(sps.pearsonr(good, human["rating"])[0])
    assert row["p_val"] < 1e-6 and row["df"] == len(good) - 3


@pytest.mark.parametrize("method", ["linear", "isotonic"])
def test_calibration_is_out_of_fold(rated, method):
    table, human = rated
    predictions = calibrate_predictions(table, ratings=human, calibration=method, cv=5)
    assert set(predictions["fold"]) == set(range(5))
    summary = score_calibration(predictions, n_boot=500, random_state=0)
    r2 = summary.query("metric == 'calibrated_r2'").set_index("measure")["estimate"]
    assert r2["good"] > 0.6
    assert r2["noise"] < 0.05  # held out, a measure of nothing cannot fit the ratings
    # out-of-fold: a sentence's own rating never enters its prediction
    one = predictions.query("measure == 'good'").reset_index(drop=True)
    changed = human.assign(rating=np.where(human["stimulus_id"] == one["stimulus_id"][0],
                                           100.0, human["rating"]))
    again = calibrate_predictions(table, ratings=changed, calibration=method, cv=5)
    assert again.query("measure == 'good'")["prediction"].iloc[0] == pytest.approx(
        one["prediction"].iloc[0])


def test_correlate_bad_input(rated):
    table, human = rated
    with pytest.raises(ProbingError, match="metrics \\['kendall'\\] unknown"):
        correlate(table, ratings=human, metrics=["kendall"])
    with pytest.raises(ProbingError, match="finite"):
        correlate(table.assign(estimate=np.nan), ratings=human)
