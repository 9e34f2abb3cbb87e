"""Tests for build_pairs and summarize_pairs."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from probing._core.errors import ProbingError
from probing.behaviour import build_pairs, summarize_pairs
from probing.stats import bootstrap_ci

# (phenomenon, pair_id, good, bad, logprob_sum good, bad, logprob_mean good, bad)
PAIRS = [
    ("agr", 0, "Cats run.", "Cats runs.", -5.0, -9.0, -2.5, -3.0),
    ("agr", 1, "A cat runs.", "A cat run.", -8.0, -7.0, -2.0, -1.75),
    ("agr", 2, "Dogs bark.", "Dogs barks.", -6.0, -6.0, -3.0, -2.0),
    ("npi", 0, "Nobody ever ran.", "Somebody ever ran.", -4.0, -6.0, -1.0, -1.5),
    ("npi", 1, "No one ever ran.", "No one ever ran.", -7.0, -7.0, -1.75, -1.75),
]


def make_inputs():
    stimuli, scores = [], []
    for phen, pid, good, bad, sg, sb, mg, mb in PAIRS:
        for role, text, s, m in (("good", good, sg, mg), ("bad", bad, sb, mb)):
            sid = f"{phen}-{pid}-{role}"
            stimuli.append((sid, pid, role, text, phen, pid, role))
            scores.append((sid, s, m))
    stimuli = pd.DataFrame(stimuli, columns=["stimulus_id", "item_id", "condition", "text",
                                             "phenomenon", "pair_id", "role"])
    scores = pd.DataFrame(scores, columns=["stimulus_id", "logprob_sum", "logprob_mean"])
    return scores, stimuli


TIES = [("incorrect", 0.0), ("half", 0.5), ("correct", 1.0)]


@pytest.mark.parametrize("ties, tie_score", TIES, ids=[t for t, _ in TIES])
def test_pairs_by_hand(ties, tie_score):
    out = build_pairs(*make_inputs(), ties=ties)
    assert out.columns.tolist() == ["phenomenon", "pair_id", "good", "bad", "logprob_good",
                                    "logprob_bad", "correct", "tie", "identical"]
    assert out["good"].tolist() == [p[2] for p in PAIRS]
    assert out["logprob_bad"].tolist() == [p[5] for p in PAIRS]
    assert out["correct"].tolist() == [1.0, 0.0, tie_score, 1.0, tie_score]
    assert out["identical"].tolist() == [False, False, False, False, True]
    assert out["tie"].tolist() == [False, False, True, False, True]
    assert out["correct"].dtype == float


def test_mean_reduction_uses_logprob_mean():
    out = build_pairs(*make_inputs(), reduction="mean")
    assert out["logprob_good"].tolist() == [p[6] for p in PAIRS]
    assert out["correct"].tolist() == [1.0, 0.0, 0.0, 1.0, 0.5]  # a tie scores a half


def test_identical_column_flags_pairs():
    scores, stimuli = make_inputs()
    stimuli["identical"] = stimuli["stimulus_id"].eq("agr-0-bad")
    out = build_pairs(scores, stimuli)
    assert out["identical"].tolist() == [True, False, False, False, True]


def test_shuffled_rows_same_pairs_and_inputs_untouched():
    scores, stimuli = make_inputs()
    before = (scores.copy(), stimuli.copy())
    out = build_pairs(scores, stimuli)
    pd.testing.assert_frame_equal(scores, before[0])
    pd.testing.assert_frame_equal(stimuli, before[1])
    shuffled = build_pairs(scores.sample(frac=1, random_state=0),
                           stimuli.sample(frac=1, random_state=1))
    pd.testing.assert_frame_equal(out, shuffled)


def _drop_row(frame, sid):
    return frame[frame["stimulus_id"] != sid]


BAD_PAIRS = [
    (lambda sc, st: (_drop_row(sc, "agr-1-bad"), st), r"logprob_sum missing or NaN for .*agr-1-bad"),
    (lambda sc, st: (sc.assign(logprob_sum=np.nan), st), "logprob_sum missing or NaN"),
    (lambda sc, st: (sc, _drop_row(st, "npi-0-good")), r"pair \('npi', 0\) lacks its good"),
    (lambda sc, st: (sc, st.assign(role=st["role"].replace("bad", "worse"))),
     r"role must be 'good' or 'bad', got \['worse'\]"),
    (lambda sc, st: (sc, st.assign(role="good")), "has more than one 'good' member"),
    (lambda sc, st: (sc.drop(columns="logprob_sum"), st),
     r"sentence_scores: missing column\(s\) \['logprob_sum'\]"),
    (lambda sc, st: (sc, st.drop(columns=["pair_id", "role"])),
     r"stimuli: missing column\(s\) \['pair_id', 'role'\]"),
]


@pytest.mark.parametrize("mangle, message", BAD_PAIRS,
                         ids=["unscored", "nan-score", "lonely", "role", "duplicate",
                              "score-column", "stimuli-columns"])
def test_build_pairs_bad_input(mangle, message):
    with pytest.raises(ProbingError, match=message):
        build_pairs(*mangle(*make_inputs()))


@pytest.mark.parametrize("kwargs, message", [({"ties": "drop"}, "ties must be one of"),
                                             ({"reduction": "max"}, "reduction must be")],
                         ids=["ties", "reduction"])
def test_build_pairs_bad_options(kwargs, message):
    with pytest.raises(ProbingError, match=message):
        build_pairs(*make_inputs(), **kwargs)


def coin_pairs(rng, accuracies, n=100):
    """Pairs whose ``correct`` is Bernoulli(accuracy) per phenomenon."""
    return pd.DataFrame({
        "phenomenon": np.repeat([f"p{i:03d}" for i in range(len(accuracies))], n),
        "correct": (rng.uniform(size=(len(accuracies), n)) < np.c_[accuracies]).ravel() * 1.0,
        "identical": False,
    })


def test_summary_matches_scipy_and_statsmodels(rng):
    pairs = coin_pairs(rng, [0.5, 0.6, 0.7, 0.9], n=60)
    out = summarize_pairs(pairs, n_boot=500, random_state=0)
    counts = pairs.groupby("phenomenon")["correct"].sum().astype(int).to_numpy()
    p_ref = [stats.binomtest(k, 60).pvalue for k in counts]
    np.testing.assert_allclose(out["p_val"], p_ref, rtol=1e-12)
    np.testing.assert_allclose(out["p_corr"], multipletests(p_ref, method="holm")[1],
                               rtol=1e-12)
    np.testing.assert_allclose(out["accuracy"], counts / 60)
    assert (out["correction"] == "holm").all() and out["n"].tolist() == [60] * 4


def test_summary_ci_is_the_bootstrap_over_pairs_on_request(rng):
    pairs = coin_pairs(rng, [0.7], n=80)
    out = summarize_pairs(pairs, n_boot=2000, ci=0.9, random_state=5, interval="bootstrap")
    ref = bootstrap_ci(np.sort(pairs["correct"].to_numpy()), n_boot=2000, ci=0.9,
                       random_state=np.random.default_rng(5))
    assert (out.loc[0, "ci_low"], out.loc[0, "ci_high"]) == (ref.ci_low, ref.ci_high)


def test_planted_effect_is_significant_and_null_is_not(rng):
    out = summarize_pairs(coin_pairs(rng, [0.8, 0.5], n=200), n_boot=1000, random_state=0)
    planted, null = out.iloc[0], out.iloc[1]
    assert planted["p_corr"] < 1e-6 and planted["ci_low"] > 0.5
    assert null["p_corr"] > 0.05 and null["ci_low"] < 0.5 < null["ci_high"]


def test_identical_pairs_excluded_and_counted():
    pairs = build_pairs(*make_inputs())
    out = summarize_pairs(pairs, n_boot=200, random_state=0).set_index("phenomenon")
    assert out.loc["agr", ["n", "n_excluded"]].tolist() == [3, 0]
    assert out.loc["npi", ["n", "n_excluded", "accuracy"]].tolist() == [1, 1, 1.0]
    assert out.loc["agr", "accuracy"] == pytest.approx(1.5 / 3)  # the tie scores a half


def test_all_identical_phenomenon_is_nan_and_leaves_the_family(rng):
    pairs = pd.concat([coin_pairs(rng, [0.7, 0.6], n=50),
                       pd.DataFrame({"phenomenon": "zzz", "correct": 0.0, "identical": [True] * 3})])
    out = summarize_pairs(pairs, n_boot=200, random_state=0)
    assert out.iloc[-1][["n", "n_excluded"]].tolist() == [0, 3]
    assert out.iloc[-1][["accuracy", "ci_low", "p_val", "p_corr"]].isna().all()
    np.testing.assert_allclose(out["p_corr"].iloc[:2],
                               multipletests(out["p_val"].iloc[:2], method="holm")[1])


def test_half_ties_score_a_half_and_leave_the_test():
    # 6 wins, 3 half ties, 1 loss: accuracy 7.5 / 10; the test sees the 7 untied pairs.
    pairs = pd.DataFrame({"phenomenon": "a", "identical": False,
                          "correct": [1.0] * 6 + [0.5] * 3 + [0.0]})
    out = summarize_pairs(pairs, n_boot=200, random_state=0)
    assert out.loc[0, "accuracy"] == 0.75
    assert out.loc[0, "n_ties"] == 3
    assert out.loc[0, "p_val"] == pytest.approx(stats.binomtest(6, 7).pvalue)


@pytest.mark.parametrize("correction, name", [("bh", "fdr_bh"), ("bonferroni", "bonferroni")],
                         ids=["bh", "bonferroni"])
def test_other_corrections(rng, correction, name):
    out = summarize_pairs(coin_pairs(rng, [0.6, 0.65, 0.5]), n_boot=200, correction=correction,
                          random_state=0)
    np.testing.assert_allclose(out["p_corr"], multipletests(out["p_val"], method=name)[1])
    assert (out["correction"] == name).all()


def test_pooled_row_recipe(rng):
    pairs = coin_pairs(rng, [0.6, 0.8], n=50)
    pooled = summarize_pairs(pairs.assign(phenomenon="overall"), n_boot=200, random_state=0)
    assert pooled.loc[0, "n"] == 100
    assert pooled.loc[0, "p_corr"] == pooled.loc[0, "p_val"]


def test_summary_seeded_shuffle_invariant_and_input_untouched(rng):
    pairs = coin_pairs(rng, [0.55, 0.7, 0.6], n=40)
    before = pairs.copy()
    out = summarize_pairs(pairs, n_boot=300, random_state=11)
    pd.testing.assert_frame_equal(pairs, before)
    pd.testing.assert_frame_equal(
        out, summarize_pairs(pairs.sample(frac=1, random_state=2), n_boot=300, random_state=11))
    assert out.columns.tolist() == ["phenomenon", "n", "n_excluded", "n_ties", "n_items",
                                    "accuracy", "ci_low", "ci_high", "p_val", "p_corr",
                                    "correction"]


@pytest.mark.parametrize("kwargs, message", [({"correction": "fdr_by"}, "correction must be"),
                                             ({"alternative": "up"}, "alternative must be"),
                                             ({"interval": "bca"}, "interval must be one of")],
                         ids=["correction", "alternative", "interval"])
def test_summary_bad_options(rng, kwargs, message):
    with pytest.raises(ProbingError, match=message):
        summarize_pairs(coin_pairs(rng, [0.5]), n_boot=10, **kwargs)


def test_summary_missing_columns(rng):
    with pytest.raises(ProbingError, match=r"pairs: missing column\(s\) \['identical'\]"):
        summarize_pairs(coin_pairs(rng, [0.5]).drop(columns="identical"))


@pytest.mark.slow
def test_null_rejection_rate_is_calibrated():
    # Coin-flip pairs: over 4000 null phenomena the rejection rate at alpha = 0.05 stays
    # within 3 binomial SEs of the exact test's true size (which is <= alpha), and no
    # p-value is 0. The exact size is computed from the binomial distribution itself.
    n, alpha, n_sim = 50, 0.05, 4000
    p_vals = np.concatenate([
        summarize_pairs(coin_pairs(np.random.default_rng(seed), [0.5] * 400, n=n), n_boot=2,
                        random_state=seed)["p_val"].to_numpy()
        for seed in range(n_sim // 400)])
    k = np.arange(n + 1)
    size = stats.binom.pmf(k, n, 0.5)[[stats.binomtest(i, n).pvalue <= alpha for i in k]].sum()
    rate = np.mean(p_vals <= alpha)
    assert size <= alpha
    assert abs(rate - size) <= 3 * np.sqrt(size * (1 - size) / n_sim)
    assert p_vals.min() > 0


@pytest.mark.slow
def test_holm_across_null_phenomena_controls_familywise_error():
    hits = [(summarize_pairs(coin_pairs(np.random.default_rng(s), [0.5] * 10, n=30), n_boot=2,
                             random_state=s)["p_corr"] <= 0.05).any() for s in range(300)]
    assert np.mean(hits) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300)


def test_summary_interval_is_wilson_by_default(rng):
    from statsmodels.stats.proportion import proportion_confint

    pairs = coin_pairs(rng, [0.7, 1.0], n=8)
    out = summarize_pairs(pairs, random_state=0)
    for row in out.itertuples():
        k = pairs.loc[pairs.phenomenon == row.phenomenon, "correct"].sum()
        assert (row.ci_low, row.ci_high) == pytest.approx(proportion_confint(k, 8,
                                                                             method="wilson"))
    assert out.loc[1, "ci_low"] < 1.0  # 8 of 8 is not [1, 1]
    cp = summarize_pairs(pairs, interval="clopper_pearson")
    assert (cp["ci_high"] - cp["ci_low"] >= out["ci_high"] - out["ci_low"] - 1e-12).all()


def _exact_coverage(n, p, interval, ci=0.95):
    """P(interval covers p) over Binomial(n, p) data (every outcome k, weighted)."""
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    covered = []
    for k in range(n + 1):
        pairs = pd.DataFrame({"phenomenon": "a", "identical": False,
                              "correct": np.r_[np.ones(k), np.zeros(n - k)]})
        row = summarize_pairs(pairs, n_boot=2000, ci=ci, random_state=0,
                              interval=interval).iloc[0]
        covered.append(row.ci_low <= p <= row.ci_high)
    return float(pmf @ np.array(covered))


@pytest.mark.parametrize("n, p", [(20, 0.9), (50, 0.95)], ids=["n20-p0.90", "n50-p0.95"])
def test_interval_coverage_is_near_nominal(n, p):
    # The audit's cases (bootstrap coverage 0.853 and 0.905); computed exactly, not simulated.
    assert _exact_coverage(n, p, "wilson") >= 0.94
    assert _exact_coverage(n, p, "clopper_pearson") >= 0.95
    assert _exact_coverage(n, p, "bootstrap") < 0.93  # why it is no longer the default


def test_ties_are_counted_apart_and_not_tested_as_errors():
    # 30 tied pairs under ties="incorrect" used to read p = 1.9e-9 ("reliably prefers the
    # wrong member") for a model with no preference at all.
    n = 30
    stimuli = pd.DataFrame({"stimulus_id": [f"{k}{r}" for k in range(n) for r in "gb"],
                            "text": [f"s{k}{r}" for k in range(n) for r in "gb"],
                            "phenomenon": "p", "pair_id": np.repeat(np.arange(n), 2),
                            "role": np.tile(["good", "bad"], n)})
    # equal sums reached in another summation order differ in the last bits
    tokens = np.random.default_rng(0).uniform(-9, -1, size=(n, 12))
    good = tokens.sum(axis=1)
    bad = tokens[:, ::-1].cumsum(axis=1)[:, -1] * (1 + 1e-9)
    scores = pd.DataFrame({"stimulus_id": stimuli["stimulus_id"],
                           "logprob_sum": np.c_[good, bad].ravel()})
    pairs = build_pairs(scores, stimuli, ties="incorrect")
    assert pairs["tie"].all() and (pairs["correct"] == 0.0).all()
    out = summarize_pairs(pairs).iloc[0]
    assert out["n_ties"] == n and out["accuracy"] == 0.0
    assert np.isnan(out["p_val"])  # nothing left to test
    # a real preference of 1e-3 nats is not a tie
    scores.loc[1::2, "logprob_sum"] = good - 1e-3
    assert not build_pairs(scores, stimuli)["tie"].any()


def test_thirty_ties_are_not_reliably_wrong():
    # Scored as errors, 30 ties read 0.000 [0.000, 0.114]; a tie now scores a half.
    scores = pd.DataFrame({"stimulus_id": np.arange(60), "logprob_sum": -5.0})
    stimuli = pd.DataFrame({"stimulus_id": np.arange(60), "text": [f"s{i}" for i in range(60)],
                            "phenomenon": "p", "pair_id": np.repeat(np.arange(30), 2),
                            "role": np.tile(["good", "bad"], 30)})
    out = summarize_pairs(build_pairs(scores, stimuli), n_boot=100)
    assert out.loc[0, "accuracy"] == 0.5 and out.loc[0, "n_ties"] == 30
    assert out.loc[0, "ci_low"] < 0.5 < out.loc[0, "ci_high"] and np.isnan(out.loc[0, "p_val"])


def _shared_items(rng, n_items, per_item=4, spread=0.35):
    """Pairs sharing items: each item has its own preference p_i, symmetric about 0.5."""
    p_item = np.clip(0.5 + rng.uniform(-spread, spread, n_items), 0, 1)
    items = np.repeat(np.arange(n_items), per_item)
    correct = (rng.random(items.size) < p_item[items]).astype(float)
    return pd.DataFrame({"phenomenon": "p", "item_id": items, "correct": correct,
                         "identical": False, "tie": False})


def test_shared_items_use_items_as_units():
    # Reference: the sign test over items (scipy binomtest), and the interval widens.
    rng = np.random.default_rng(2)
    pairs = _shared_items(rng, 15)
    with pytest.warns(UserWarning, match="15 items"):
        out = summarize_pairs(pairs, n_boot=100)
    flat = summarize_pairs(pairs, n_boot=100, cluster=None)
    means = pairs.groupby("item_id")["correct"].mean()
    wins, losses = int((means > 0.5).sum()), int((means < 0.5).sum())
    assert out.loc[0, "p_val"] == pytest.approx(stats.binomtest(wins, wins + losses).pvalue)
    assert out.loc[0, "n_items"] == 15 and flat.loc[0, "n_items"] == 60
    assert out.loc[0, "ci_high"] - out.loc[0, "ci_low"] > flat.loc[0, "ci_high"] - flat.loc[
        0, "ci_low"]


def test_shared_items_null_calibration_fast():
    # 400 null studies of 30 items x 4 pairs with item-level preferences: the pairs
    # tested as independent rejected 0.085-0.198; items as units stay within tolerance.
    rng = np.random.default_rng(3)
    p_vals, covered = [], []
    for _ in range(400):
        row = summarize_pairs(_shared_items(rng, 30), n_boot=10).iloc[0]
        p_vals.append(row["p_val"])
        covered.append(row["ci_low"] <= 0.5 <= row["ci_high"])
    tol = 3 * np.sqrt(0.05 * 0.95 / 400)
    assert np.mean(np.array(p_vals) <= 0.05) < 0.05 + tol
    assert np.mean(covered) > 0.95 - tol


def test_cluster_column_must_exist(rng):
    with pytest.raises(ProbingError, match="item"):
        summarize_pairs(coin_pairs(rng, [0.5]), cluster="item")
