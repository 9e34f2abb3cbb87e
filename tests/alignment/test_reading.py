"""Delta log-likelihood of surprisal on reading times, on planted and null data."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from probing._core.errors import ProbingError
from probing.alignment import build_reading_design, compute_delta_loglik, summarize_delta


def _words(rng, n_texts=6, n_words=150, effect=8.0, spill=4.0):
    frames = []
    for item in range(n_texts):
        s = rng.gamma(2.0, 2.0, n_words)
        frames.append(pd.DataFrame({"item_id": item + 1, "word_position": np.arange(1, n_words + 1),
                                    "surprisal": s, "length": rng.integers(1, 10, n_words),
                                    "frequency": rng.normal(-9, 2, n_words)}))
    words = pd.concat(frames, ignore_index=True)
    lag = words.groupby("item_id")["surprisal"].shift(1).fillna(0)
    words["rt"] = (280 + 3 * words["length"] + effect * words["surprisal"] + spill * lag
                   + rng.normal(0, 25, len(words)))
    return words


def test_delta_loglik_positive_when_rts_follow_surprisal(rng):
    row = summarize_delta(compute_delta_loglik(_words(rng)), random_state=0).iloc[0]
    assert row["ci_low"] > 0.05


def test_delta_loglik_near_zero_when_rts_do_not(rng):
    row = summarize_delta(compute_delta_loglik(_words(rng, effect=0.0, spill=0.0)),
                          random_state=0).iloc[0]
    assert abs(row["estimate"]) < 0.01 and row["ci_low"] < 0.005


def test_each_fold_holds_out_whole_texts_and_matches_statsmodels(rng):
    words = _words(rng, n_texts=3)
    scored = compute_delta_loglik(words, spillover=1)
    assert scored.groupby("item_id")["fold"].nunique().eq(1).all()
    assert scored["fold"].nunique() == 3
    # refit the full model of one fold by hand
    held = scored["fold"] == 0
    design = build_reading_design(words, spillover=1)
    cols = ["length", "frequency", "word_position", "length_lag1", "frequency_lag1", "surprisal",
            "surprisal_lag1"]
    train = design.loc[~held.to_numpy()]
    test = design.loc[held.to_numpy()]
    fit = sm.OLS(train["rt"], sm.add_constant(train[cols])).fit()
    sigma = np.sqrt(np.mean(fit.resid**2))
    expected = sps.norm.logpdf(test["rt"], fit.predict(sm.add_constant(test[cols])), sigma)
    np.testing.assert_allclose(scored.loc[held, "loglik_full"], expected, rtol=1e-9)


def test_spillover_drops_the_first_words_of_each_text(rng):
    design = build_reading_design(_words(rng, n_texts=2, n_words=10), spillover=2)
    assert design.groupby("item_id")["word_position"].min().tolist() == [3, 3]
    assert len(design) == 16


def test_mixed_model_with_subjects(rng):
    words = _words(rng, n_texts=4, n_words=40)  # sized for CI: the crossed fit is the cost
    subjects = pd.concat([words.assign(subject=f"p{k}", rt=words["rt"] + rng.normal(0, 30)
                                       + rng.normal(0, 10, len(words))) for k in range(3)],
                         ignore_index=True)
    row = summarize_delta(compute_delta_loglik(subjects, spillover=1), random_state=0).iloc[0]
    assert row["ci_low"] > 0 and row["n"] == 3 * 4 * 39


def test_bad_input(rng):
    words = _words(rng, n_texts=1)
    with pytest.raises(ProbingError, match="at least 2 texts"):
        compute_delta_loglik(words)
    with pytest.raises(ProbingError, match=r"missing column\(s\) \['rt'\]"):
        build_reading_design(words.drop(columns="rt"))


def _scored(rng, n_texts, n_words, text_sd, word_sd=1.0):
    """A scored table whose delta LL has a per-text offset (within-text correlation)."""
    offsets = rng.normal(0.0, text_sd, n_texts)
    return pd.DataFrame({"item_id": np.repeat(np.arange(n_texts), n_words),
                         "delta_loglik": np.repeat(offsets, n_words)
                         + rng.normal(0.0, word_sd, n_texts * n_words)})


def _width(row):
    return row["ci_high"] - row["ci_low"]


def test_text_bootstrap_is_wider_than_word_bootstrap_under_within_text_correlation(rng):
    scored = _scored(rng, n_texts=8, n_words=200, text_sd=0.5)
    texts = summarize_delta(scored, random_state=0).iloc[0]
    words = summarize_delta(scored, resample="words", random_state=0).iloc[0]
    assert texts["estimate"] == words["estimate"]
    # words look like 1,600 independent draws; really there are 8 texts
    assert _width(texts) > 4 * _width(words)


def test_text_and_word_bootstrap_agree_without_within_text_correlation(rng):
    scored = _scored(rng, n_texts=40, n_words=50, text_sd=0.0)
    texts = summarize_delta(scored, n_boot=4000, random_state=0).iloc[0]
    words = summarize_delta(scored, resample="words", n_boot=4000, random_state=0).iloc[0]
    assert 0.8 < _width(texts) / _width(words) < 1.25


def test_text_bootstrap_matches_scipy_on_text_means_for_equal_lengths(rng):
    scored = _scored(rng, n_texts=30, n_words=20, text_sd=0.5)
    row = summarize_delta(scored, n_boot=20_000, random_state=0).iloc[0]
    means = scored.groupby("item_id")["delta_loglik"].mean().to_numpy()
    ref = sps.bootstrap((means,), np.mean, n_resamples=20_000, method="percentile",
                        random_state=1).confidence_interval
    scale = _width(row)
    assert abs(row["ci_low"] - ref.low) < 0.03 * scale
    assert abs(row["ci_high"] - ref.high) < 0.03 * scale


def test_text_bootstrap_weights_texts_by_their_words(rng):
    scored = pd.DataFrame({"item_id": [1] * 3 + [2], "delta_loglik": [1.0, 1.0, 1.0, 5.0]})
    row = summarize_delta(scored, n_boot=500, random_state=0).iloc[0]
    assert row["estimate"] == 2.0 and row["ci_low"] == 1.0 and row["ci_high"] == 5.0


def test_same_seed_same_interval(rng):
    scored = _scored(rng, n_texts=5, n_words=30, text_sd=0.3)
    a = summarize_delta(scored, random_state=3)
    pd.testing.assert_frame_equal(a, summarize_delta(scored, random_state=3))


def test_mixed_model_fold_matches_statsmodels(rng):
    words = _words(rng, n_texts=3, n_words=40)
    subjects = pd.concat([words.assign(subject=f"p{k}", rt=words["rt"] + 20 * k
                                       + rng.normal(0, 10, len(words))) for k in range(4)],
                         ignore_index=True)
    scored = compute_delta_loglik(subjects, spillover=1)
    held = (scored["fold"] == 0).to_numpy()
    cols = ["length", "frequency", "word_position", "length_lag1", "frequency_lag1", "surprisal",
            "surprisal_lag1"]
    train = scored.loc[~held].assign(one=1, word=lambda t: t["item_id"].astype(str) + "_"
                                     + t["word_position"].astype(str))
    test = scored.loc[held]
    # independent reference: the formula interface, crossed subject and word components
    formula = "rt ~ " + " + ".join(cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.MixedLM.from_formula(formula, train, groups="one", re_formula="0",
                                      vc_formula={"subject": "0 + C(subject)",
                                                  "word": "0 + C(word)"}).fit(reml=False)
    effects = fit.random_effects[1]
    offset = test["subject"].map({s: effects[f"subject[C(subject)[{s}]]"]
                                  for s in train["subject"].unique()})
    mean = sm.add_constant(test[cols]) @ fit.fe_params.to_numpy() + offset
    word_var = fit.vcomp[list(fit.model.exog_vc.names).index("word")]
    expected = sps.norm.logpdf(test["rt"], mean, np.sqrt(fit.scale + word_var))
    np.testing.assert_allclose(scored.loc[held, "loglik_full"], expected, rtol=1e-4)


def test_bad_resample(rng):
    with pytest.raises(ProbingError, match="resample 'items': allowed texts, words"):
        summarize_delta(_scored(rng, 2, 5, 0.0), resample="items")


_OLD = {"item_id": "item", "word_position": "position"}


def test_old_column_names_still_work_with_a_warning_at_the_callers_line(rng):
    words = _words(rng, n_texts=3, n_words=40)
    old = words.rename(columns=_OLD)
    with pytest.warns(DeprecationWarning) as rec:
        design_old = build_reading_design(old, spillover=1)
    assert {w.filename for w in rec} == {__file__}
    pd.testing.assert_frame_equal(design_old, build_reading_design(words, spillover=1))
    with pytest.warns(DeprecationWarning) as rec:
        scored_old = compute_delta_loglik(old, spillover=1)
    assert sorted(str(w.message).split(" is deprecated")[0] for w in rec) == [
        "compute_delta_loglik: column: 'item'", "compute_delta_loglik: column: 'position'"]
    assert {w.filename for w in rec} == {__file__}
    scored = compute_delta_loglik(words, spillover=1)
    pd.testing.assert_frame_equal(scored_old, scored)
    with pytest.warns(DeprecationWarning, match=r"summarize_delta: column: 'item'.*'item_id'"):
        summary_old = summarize_delta(scored[["item_id", "delta_loglik"]].rename(columns=_OLD),
                                      random_state=0)
    pd.testing.assert_frame_equal(summary_old, summarize_delta(scored, random_state=0))


def test_new_names_win_over_old_ones_without_a_warning(rng):
    words = _words(rng, n_texts=3, n_words=40)
    both = words.assign(item=0, position=-1)  # unrelated columns that happen to use old names
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        design = build_reading_design(both, spillover=1)
    pd.testing.assert_frame_equal(design.drop(columns=["item", "position"]),
                                  build_reading_design(words, spillover=1))


def test_old_names_do_not_hide_a_missing_column(rng):
    words = _words(rng, n_texts=2, n_words=10).drop(columns="word_position")
    with pytest.raises(ProbingError, match=r"missing column\(s\) \['word_position'\]"):
        build_reading_design(words)
