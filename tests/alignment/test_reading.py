"""Delta log-likelihood of surprisal on reading times, on planted and null data."""

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
        frames.append(pd.DataFrame({"item": item + 1, "position": np.arange(1, n_words + 1),
                                    "surprisal": s, "length": rng.integers(1, 10, n_words),
                                    "frequency": rng.normal(-9, 2, n_words)}))
    words = pd.concat(frames, ignore_index=True)
    lag = words.groupby("item")["surprisal"].shift(1).fillna(0)
    words["rt"] = (280 + 3 * words["length"] + effect * words["surprisal"] + spill * lag
                   + rng.normal(0, 25, len(words)))
    return words


def test_delta_loglik_positive_when_rts_follow_surprisal(rng):
    row = summarize_delta(compute_delta_loglik(_words(rng)), random_state=0).iloc[0]
    assert row["ci_low"] > 0.05


def test_delta_loglik_near_zero_when_rts_do_not(rng):
    row = summarize_delta(compute_delta_loglik(_words(rng, effect=0.0, spill=0.0)),
                          random_state=0).iloc[0]
    assert abs(row["value"]) < 0.01 and row["ci_low"] < 0.005


def test_each_fold_holds_out_whole_texts_and_matches_statsmodels(rng):
    words = _words(rng, n_texts=3)
    scored = compute_delta_loglik(words, spillover=1)
    assert scored.groupby("item")["fold"].nunique().eq(1).all()
    assert scored["fold"].nunique() == 3
    # refit the full model of one fold by hand
    held = scored["fold"] == 0
    design = build_reading_design(words, spillover=1)
    cols = ["length", "frequency", "position", "length_lag1", "frequency_lag1", "surprisal",
            "surprisal_lag1"]
    train = design.loc[~held.to_numpy()]
    test = design.loc[held.to_numpy()]
    fit = sm.OLS(train["rt"], sm.add_constant(train[cols])).fit()
    sigma = np.sqrt(np.mean(fit.resid**2))
    expected = sps.norm.logpdf(test["rt"], fit.predict(sm.add_constant(test[cols])), sigma)
    np.testing.assert_allclose(scored.loc[held, "loglik_full"], expected, rtol=1e-9)


def test_spillover_drops_the_first_words_of_each_text(rng):
    design = build_reading_design(_words(rng, n_texts=2, n_words=10), spillover=2)
    assert design.groupby("item")["position"].min().tolist() == [3, 3]
    assert len(design) == 16


def test_mixed_model_with_subjects(rng):
    words = _words(rng, n_texts=4, n_words=60)
    subjects = pd.concat([words.assign(subject=f"p{k}", rt=words["rt"] + rng.normal(0, 30)
                                       + rng.normal(0, 10, len(words))) for k in range(5)],
                         ignore_index=True)
    row = summarize_delta(compute_delta_loglik(subjects, spillover=1), random_state=0).iloc[0]
    assert row["ci_low"] > 0 and row["n"] == 5 * 4 * 59


def test_bad_input(rng):
    words = _words(rng, n_texts=1)
    with pytest.raises(ProbingError, match="at least 2 texts"):
        compute_delta_loglik(words)
    with pytest.raises(ProbingError, match=r"missing column\(s\) \['rt'\]"):
        build_reading_design(words.drop(columns="rt"))
