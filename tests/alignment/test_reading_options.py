"""Reading-time options: exclusions, log-RT, baselines, the effect per bit, paired tests."""

import warnings

import numpy as np
import pandas as pd
import patsy
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from probing._core.errors import ProbingError
from probing.alignment import compute_delta_loglik, summarize_delta
from probing.alignment.reading import prepare_reading_design
from probing.alignment.reading_design import apply_exclusions
from probing.alignment.reading_effects import compare_delta_loglik, compute_surprisal_effect
from probing.paradigms.alignment_options import AlignmentOptions

TEXT = "The dog ran. It was fast, very fast! Then it slept".split()


def _words(rng, n_texts=10, n_words=80, effect=8.0, quad=0.0):
    frames = []
    for item in range(n_texts):
        frequency = rng.normal(-9, 2, n_words)
        surprisal = rng.gamma(2.0, 2.0, n_words) + quad * (frequency + 9) ** 2
        frames.append(pd.DataFrame({
            "item_id": item + 1, "word_position": np.arange(1, n_words + 1),
            "word": [TEXT[i % len(TEXT)] for i in range(n_words)], "surprisal": surprisal,
            "length": rng.integers(1, 10, n_words), "frequency": frequency}))
    words = pd.concat(frames, ignore_index=True)
    words["rt"] = (280 + 3 * words["length"] + effect * words["surprisal"]
                   + 6 * quad * (words["frequency"] + 9) ** 2 + rng.normal(0, 25, len(words)))
    return words


def test_exclusion_rules_and_their_counts():
    words = pd.DataFrame({"item_id": 1, "word_position": np.arange(1, len(TEXT) + 1),
                          "word": TEXT, "rt": 300.0})
    words.loc[4, "rt"] = 2000.0
    _, counts = apply_exclusions(words, words, exclude=["text_edge"])
    assert counts.set_index("rule")["n_excluded"].to_dict() == {"text_edge": 2, "any": 2}
    kept, counts = apply_exclusions(words, words, exclude=["sentence_edge"])
    # sentences: The..ran. | It..fast! | Then..slept -> edges The, ran., It, fast!, Then, slept
    assert kept["word"].tolist() == ["dog", "was", "fast,", "very", "it"]
    kept, counts = apply_exclusions(words, words, exclude=["punctuation"], rt_max=1000)
    assert kept["word"].tolist() == ["The", "dog", "It", "very", "Then", "it", "slept"]
    assert counts.set_index("rule")["n_excluded"].to_dict() == {"punctuation": 3, "rt_max": 1,
                                                                 "any": 4}
    assert (counts["n"] == len(TEXT)).all()


def test_excluded_words_still_enter_their_followers_spillover(rng):
    words = _words(rng, n_texts=2, n_words=20)
    prepared = prepare_reading_design(words, spillover=1, exclude=["punctuation"])
    design = prepared["design"]
    by_key = words.set_index(["item_id", "word_position"])["surprisal"]
    marked = words.loc[words["word"].str.contains(r"[.,!]"), ["item_id", "word_position"]]
    assert not design.set_index(["item_id", "word_position"]).index.isin(
        pd.MultiIndex.from_frame(marked)).any()
    after = design[design["word"].shift(0).isin(["It", "very", "Then"])]
    previous = [by_key[(i, p - 1)] for i, p in zip(after["item_id"], after["word_position"],
                                                   strict=True)]
    np.testing.assert_allclose(after["surprisal_lag1"], previous)


def _fold_reference(train, test, columns, y="rt"):
    fit = sm.OLS(train[y], sm.add_constant(train[columns], has_constant="add")).fit()
    sigma = np.sqrt(np.mean(fit.resid**2))
    return sps.norm.logpdf(test[y], fit.predict(sm.add_constant(test[columns],
                                                                has_constant="add")), sigma)


@pytest.mark.parametrize("baseline", ["linear", "interaction"])
def test_log_rt_and_interaction_match_statsmodels(rng, baseline):
    words = _words(rng, n_texts=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scored = compute_delta_loglik(words, spillover=1, log_rt=True, baseline=baseline)
    design = words.sort_values(["item_id", "word_position"]).assign(
        rt=lambda t: np.log(t["rt"]),
        length_lag1=lambda t: t.groupby("item_id")["length"].shift(1),
        frequency_lag1=lambda t: t.groupby("item_id")["frequency"].shift(1),
        surprisal_lag1=lambda t: t.groupby("item_id")["surprisal"].shift(1)).dropna()
    columns = ["length", "frequency", "length_lag1", "frequency_lag1"]
    if baseline == "interaction":
        design["x0"] = design["length"] * design["frequency"]
        design["x1"] = design["length_lag1"] * design["frequency_lag1"]
        columns += ["x0", "x1"]
    columns += ["word_position"]
    held = (scored["fold"] == 0).to_numpy()
    train, test = design.loc[~held], design.loc[held]
    np.testing.assert_allclose(scored.loc[held, "loglik_baseline"],
                               _fold_reference(train, test, columns), rtol=1e-9)
    full = [*columns, "surprisal", "surprisal_lag1"]
    np.testing.assert_allclose(scored.loc[held, "loglik_full"],
                               _fold_reference(train, test, full), rtol=1e-9)


def test_spline_baseline_uses_patsy_cr_and_absorbs_a_nonlinear_frequency_effect(rng):
    words = _words(rng, effect=0.0, quad=1.0)  # rt follows frequency^2; surprisal too, not rt
    prepared = prepare_reading_design(words, spillover=0, baseline="spline")
    basis = patsy.dmatrix("cr(frequency, df=4, constraints='center') - 1",
                          prepared["design"][["frequency"]])
    np.testing.assert_allclose(prepared["design"][[f"frequency_cr{k}" for k in range(4)]],
                               np.asarray(basis), atol=1e-12)
    linear = summarize_delta(compute_delta_loglik(words, spillover=0), random_state=0)
    spline = summarize_delta(compute_delta_loglik(words, spillover=0, baseline="spline"),
                             random_state=0)
    assert linear["ci_low"].item() > 0.05  # surprisal stands in for the missed curvature
    assert abs(spline["estimate"].item()) < 0.02


def test_effect_per_bit_recovers_a_planted_slope_and_equals_statsmodels(rng):
    words = _words(rng)
    words["rt"] = (280 + 3 * words["length"] + 10.0 * words["surprisal"] / np.log(2)
                   + rng.normal(0, 25, len(words)))
    prepared = prepare_reading_design(words)
    table = compute_surprisal_effect(prepared).set_index("metric")
    row = table.loc["ms_per_bit"]
    assert row["ci_low"] < 10.0 < row["ci_high"] and row["n"] == len(prepared["design"])
    design = prepared["design"].assign(bits=lambda t: t["surprisal"] / np.log(2))
    columns = [c if c != "surprisal" else "bits" for c in prepared["full"]]
    fit = sm.OLS(design["rt"], sm.add_constant(design[columns])).fit(
        cov_type="cluster", cov_kwds={"groups": design["item_id"]})
    assert row["estimate"] == pytest.approx(fit.params["bits"], rel=1e-9)
    assert row["ci_low"] == pytest.approx(fit.conf_int().loc["bits", 0], rel=1e-9)
    total = fit.params["bits"] + (fit.params["surprisal_lag1"] + fit.params["surprisal_lag2"]) \
        * np.log(2)
    assert table.loc["ms_per_bit_total", "estimate"] == pytest.approx(total, rel=1e-9)
    logged = compute_surprisal_effect(prepare_reading_design(words, log_rt=True), log_rt=True)
    assert logged["metric"].tolist() == ["log_rt_per_bit", "log_rt_per_bit_total"]


def test_few_texts_warn_that_the_interval_is_degenerate(rng):
    scored = compute_delta_loglik(_words(rng, n_texts=3))
    with pytest.warns(UserWarning, match="has 3 texts, hence 10 distinct resamples"):
        row = summarize_delta(scored, random_state=0).iloc[0]
    means = scored.groupby("item_id")["delta_loglik"].mean()
    assert means.min() <= row["ci_low"] and row["ci_high"] <= means.max()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summarize_delta(compute_delta_loglik(_words(rng, n_texts=10)), random_state=0)


def test_paired_comparison_equals_scipy_on_text_means(rng):
    words = _words(rng)
    good = compute_delta_loglik(words)
    noisy = compute_delta_loglik(words.assign(surprisal=words["surprisal"]
                                              + rng.normal(0, 4, len(words))))
    row = compare_delta_loglik(good, noisy, names=("true", "noisy"), random_state=0).iloc[0]
    difference = good["delta_loglik"].to_numpy() - noisy["delta_loglik"].to_numpy()
    assert row["estimate"] == pytest.approx(difference.mean())
    per_text = pd.Series(difference).groupby(good["item_id"].to_numpy()).mean()
    expected = sps.ttest_1samp(per_text, 0.0)
    assert row["stat"] == pytest.approx(expected.statistic) and row["p_val"] == pytest.approx(
        expected.pvalue)
    assert row["ci_low"] > 0 and row["measure"] == "true - noisy" and row["n_texts"] == 10
    same = compare_delta_loglik(good, good, random_state=0).iloc[0]
    assert same["estimate"] == 0 and same["ci_low"] == 0 == same["ci_high"]


def test_paired_comparison_refuses_different_words(rng):
    words = _words(rng)
    a = compute_delta_loglik(words)
    b = compute_delta_loglik(words, exclude=["text_edge"])
    with pytest.raises(ProbingError, match=r"\d+ word\(s\) are scored in only one"):
        compare_delta_loglik(a, b)


@pytest.mark.parametrize("options, message", [
    ({"spillover": -1}, "spillover: must be an integer >= 0, got -1"),
    ({"baseline": "gam"}, "baseline: 'gam' is not allowed; allowed: linear, interaction, spline"),
    ({"exclude": ["lines"]}, "exclude: .* is not allowed; allowed: a list of text_edge"),
    ({"log_rt": "yes"}, "log_rt: must be true or false"),
    ({"rt_min": 500, "rt_max": 100}, "rt_min: must be below rt_max"),
], ids=["spillover", "baseline", "exclude", "log_rt", "rt-range"])
def test_bad_options(options, message):
    with pytest.raises(ProbingError, match=message):
        AlignmentOptions(**options)


def test_log_rt_refuses_non_positive_times(rng):
    words = _words(rng, n_texts=2)
    words.loc[5, "rt"] = 0.0
    with pytest.raises(ProbingError, match=r"log_rt: 1 reading time\(s\) are <= 0"):
        prepare_reading_design(words, log_rt=True)
    prepare_reading_design(words, log_rt=True, rt_min=1)  # excluded first, then logged
