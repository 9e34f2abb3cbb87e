"""The judge's statistics: expected rating, ICC, position bias, calibration, pair accuracy."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats as sps
from statsmodels.stats.anova import anova_lm

from probing._core.errors import ProbingError
from probing.alignment import compare_correlations
from probing.alignment.judge_analysis import (
    build_judge_calibration,
    build_judge_ratings,
    compute_expected_rating,
    compute_icc,
    judge_pairs,
    summarize_judge,
)


def test_expected_rating_renormalises_over_the_labels():
    probs = np.array([[0.05, 0.05, 0.1, 0.3], [0.2, 0.1, 0.0001, 0.0001]])
    expected, mass = compute_expected_rating(np.log(probs), [1, 2, 3, 4])
    by_hand = (probs / probs.sum(1, keepdims=True)) @ np.array([1, 2, 3, 4])
    np.testing.assert_allclose(expected, by_hand, rtol=1e-12)
    np.testing.assert_allclose(mass, probs.sum(1), rtol=1e-12)
    # a constant added to every label's log-probability (a shared prefix) changes the mass only
    shifted, mass2 = compute_expected_rating(np.log(probs) - 3.0, [1, 2, 3, 4])
    np.testing.assert_allclose(shifted, expected, rtol=1e-12)
    np.testing.assert_allclose(mass2, mass * np.exp(-3.0), rtol=1e-12)
    # not the sampled answer: label 4 is the mode of row 0 but the expectation is lower
    assert expected[0] < 4 - 0.5


def test_expected_rating_bad_input():
    with pytest.raises(ProbingError, match="3 labels but \\(2,\\) values"):
        compute_expected_rating(np.zeros((1, 3)), [1, 2])
    with pytest.raises(ProbingError, match="must be finite"):
        compute_expected_rating([[0.0, -np.inf]], [1, 2])


def _prompts(rng, n=30, templates=("a", "b", "c"), shift=0.0):
    """Label log-probabilities whose expected rating follows a latent per-item quality."""
    quality = rng.uniform(1, 4, n)
    rows = []
    for i, q in enumerate(quality):
        for t in templates:
            for order in ("ascending", "descending"):
                centre = q + rng.normal(0, 0.3) + (shift if order == "descending" else 0.0)
                logits = -((np.arange(1, 5) - centre) ** 2)
                logp = logits - np.logaddexp.reduce(logits) + np.log(0.6)
                for k, lp in enumerate(logp):
                    rows.append({"stimulus_id": f"s{i}", "prompt_style": "chat", "template": t,
                                 "scale_order": order, "option": str(k + 1),
                                 "scale_value": float(k + 1), "logprob_option": lp})
    return pd.DataFrame(rows), quality


def test_build_judge_ratings_one_row_per_prompt(rng):
    prompts, _ = _prompts(rng, n=4)
    ratings = build_judge_ratings(prompts)
    assert len(ratings) == 4 * 3 * 2
    np.testing.assert_allclose(ratings["label_mass"], 0.6)
    one = prompts[(prompts["stimulus_id"] == "s2") & (prompts["template"] == "b")
                  & (prompts["scale_order"] == "descending")]
    p = np.exp(one["logprob_option"].to_numpy())
    got = ratings.query("stimulus_id == 's2' and template == 'b' and scale_order == 'descending'")
    assert got["expected_rating"].iat[0] == pytest.approx((p / p.sum()) @ np.arange(1, 5))


def test_icc_matches_a_two_way_anova(rng):
    x = rng.normal(size=(25, 1)) + rng.normal(0, 0.5, size=(25, 4)) + np.array([0, 0.3, -0.2, 1])
    long = pd.DataFrame({"y": x.ravel(), "item": np.repeat(np.arange(25), 4).astype(str),
                         "rater": np.tile(np.arange(4), 25).astype(str)})
    table = anova_lm(smf.ols("y ~ C(item) + C(rater)", data=long).fit())
    msr, msc, mse = table["mean_sq"].loc[["C(item)", "C(rater)", "Residual"]]
    consistency, agreement = compute_icc(x)
    assert consistency == pytest.approx((msr - mse) / (msr + 3 * mse), rel=1e-10)
    assert agreement == pytest.approx((msr - mse) / (msr + 3 * mse + 4 / 25 * (msc - mse)),
                                      rel=1e-10)
    assert agreement < consistency  # the rater offsets cost agreement, not consistency


def test_summary_finds_a_planted_position_shift_and_consistency(rng):
    prompts, quality = _prompts(rng, n=60, shift=0.5)
    ratings = build_judge_ratings(prompts)
    human = pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(60)],
                          "rating": quality + rng.normal(0, 0.3, 60)})
    noise = pd.DataFrame({"stimulus_id": human["stimulus_id"], "SLOR": rng.normal(size=60)})
    out = summarize_judge(ratings, human, measures=noise, n_boot=500).set_index(
        ["measure", "metric"])
    shift = out.loc[("scale_order", "position_shift")]
    assert shift["ci_low"] > 0.2 and shift["p_val"] < 1e-6
    assert out.loc[("templates", "icc_consistency"), "estimate"] > 0.8
    assert out.loc[("judge", "pearson"), "ci_low"] > 0.7
    assert out.loc[("SLOR", "pearson"), "n"] == 60
    williams = out.loc[("judge - SLOR", "williams_pearson")]
    judge = ratings.groupby("stimulus_id")["expected_rating"].mean().loc[human["stimulus_id"]]
    want = compare_correlations(judge.to_numpy(), noise["SLOR"], human["rating"]).iloc[0]
    assert williams["stat"] == pytest.approx(want["stat"]) and williams["p_val"] < 1e-6
    by_hand = judge.to_numpy()
    assert out.loc[("judge", "spearman"), "estimate"] == pytest.approx(
        sps.spearmanr(by_hand, human["rating"]).statistic)
    assert out.loc[("label_mass", "mean"), "estimate"] == pytest.approx(0.6)


def test_no_position_shift_without_one(rng):
    prompts, quality = _prompts(rng, n=80, shift=0.0)
    ratings = build_judge_ratings(prompts)
    human = pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(80)], "rating": quality})
    out = summarize_judge(ratings, human, n_boot=500).set_index(["measure", "metric"])
    shift = out.loc[("scale_order", "position_shift")]
    assert shift["ci_low"] < 0 < shift["ci_high"]


def test_calibration_bins_by_the_judge(rng):
    ratings = pd.DataFrame({"stimulus_id": range(40), "prompt_style": "chat", "template": "t",
                            "scale_order": "ascending", "expected_rating": np.arange(40.0),
                            "label_mass": 1.0})
    human = pd.DataFrame({"stimulus_id": range(40), "rating": np.arange(40.0) * 2})
    table = build_judge_calibration(ratings, human, n_bins=4)
    assert table["n"].tolist() == [10] * 4 and table["bin"].tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(table["expected_rating"], [4.5, 14.5, 24.5, 34.5])
    np.testing.assert_allclose(table["rating"], [9, 29, 49, 69])
    y = np.arange(10.0) * 2
    half = sps.t.ppf(0.975, 9) * y.std(ddof=1) / np.sqrt(10)
    assert table["ci_high"].iat[0] == pytest.approx(9 + half)


def test_pairs_accuracy_with_ties_as_half():
    stimuli = pd.DataFrame({"stimulus_id": ["1g", "1b", "2g", "2b", "3g", "3b"],
                            "phenomenon": "agr", "pair_id": ["1", "1", "2", "2", "3", "3"],
                            "role": ["good", "bad"] * 3})
    values = {"1g": 3.0, "1b": 2.0, "2g": 2.0, "2b": 3.0, "3g": 2.5, "3b": 2.5}
    ratings = pd.DataFrame([{"stimulus_id": s, "prompt_style": "chat", "template": "t",
                             "scale_order": o, "expected_rating": v, "label_mass": 0.5}
                            for s, v in values.items() for o in ("ascending", "descending")])
    out = judge_pairs(ratings, stimuli)
    both = out[out["order"] == "both"].set_index("pair_id")
    assert both["correct"].tolist() == [1.0, 0.0, 0.5] and both["tie"].tolist() == [False, False, True]
    assert set(out["order"]) == {"ascending", "descending", "both"} and set(out["task"]) == {"judge"}
    direct = pd.DataFrame({"phenomenon": "agr", "pair_id": ["1", "2", "3"],
                           "logprob_good": [-1.0, -1.0, -1.0], "logprob_bad": [-2.0] * 3})
    with_direct = judge_pairs(ratings, stimuli, direct=direct)
    assert with_direct[with_direct["task"] == "direct"]["correct"].tolist() == [1.0] * 3


def test_summary_without_human_overlap_is_an_error():
    ratings = pd.DataFrame({"stimulus_id": ["a"], "prompt_style": "chat", "template": "t",
                            "scale_order": "ascending", "expected_rating": 2.0, "label_mass": 1.0})
    with pytest.raises(ProbingError, match="no rated sentence has a human rating"):
        summarize_judge(ratings, pd.DataFrame({"stimulus_id": ["b"], "rating": [1.0]}))


def test_calibration_plot_draws_the_bins():
    import matplotlib

    matplotlib.use("Agg")
    from probing.alignment.judge_plotting import plot_judge_calibration

    table = pd.DataFrame({"prompt_style": "chat", "bin": [1, 2, 3],
                          "expected_rating": [2.0, 2.5, 3.0], "rating": [1.5, 2.5, 3.6],
                          "ci_low": [1.0, 2.0, 3.0], "ci_high": [2.0, 3.0, 4.0], "n": 4})
    points = pd.DataFrame({"judge": [2.0, 3.0], "rating": [1.0, 4.0]})
    ax = plot_judge_calibration(table, points=points)
    bins = ax.lines[0]
    np.testing.assert_allclose(np.asarray(bins.get_xdata(), float), table["expected_rating"])
    np.testing.assert_allclose(np.asarray(bins.get_ydata(), float), table["rating"])
    assert ax.get_ylabel() == "mean human rating"
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
