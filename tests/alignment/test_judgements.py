"""Prompted vs direct judgements: pair scores by hand, summary against statsmodels."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from probing.alignment.judgements import build_judgements, compare_judgements


def _prompts(rng, n_pairs):
    rows = []
    for pair in range(n_pairs):
        for role in ("good", "bad"):
            for option in ("Yes", "No"):
                rows.append(("agr", pair, "yes_no", "plain", "none", role, option, rng.normal()))
        for order in ("good_first", "bad_first"):
            roles = ("good", "bad") if order == "good_first" else ("bad", "good")
            for option, role in zip(("1", "2"), roles, strict=True):
                # a model biased towards option 1 by 2 nats
                rows.append(("agr", pair, "forced_choice", "plain", order, role, option,
                             rng.normal() + (2.0 if option == "1" else 0.0)))
    return pd.DataFrame(rows, columns=["phenomenon", "pair_id", "task", "prompt_style", "order",
                                       "role", "option", "logprob_option"])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    prompts = _prompts(rng, 60)
    pairs = pd.DataFrame({"phenomenon": "agr", "pair_id": range(60),
                          "logprob_good": rng.normal(size=60) + 0.5,
                          "logprob_bad": rng.normal(size=60), "identical": False})
    return prompts, pairs


def test_pair_scores_by_hand(data):
    prompts, pairs = data
    table = build_judgements(prompts, pairs)
    p = prompts[prompts["pair_id"] == 7].set_index(["task", "order", "role", "option"])["logprob_option"]
    row = table[(table["pair_id"] == 7)].set_index(["task", "order"])
    yes_no = row.loc[("yes_no", "none")]
    assert yes_no["score_good"] == pytest.approx(p["yes_no", "none", "good", "Yes"] - p["yes_no", "none", "good", "No"])
    assert yes_no["score_bad"] == pytest.approx(p["yes_no", "none", "bad", "Yes"] - p["yes_no", "none", "bad", "No"])
    both = row.loc[("forced_choice", "both")]
    good = p["forced_choice", "good_first", "good", "1"] + p["forced_choice", "bad_first", "good", "2"]
    bad = p["forced_choice", "good_first", "bad", "2"] + p["forced_choice", "bad_first", "bad", "1"]
    assert (both["score_good"], both["score_bad"]) == pytest.approx((good, bad))
    assert both["correct"] == float(good > bad)
    direct = row.loc[("direct", "none")]
    assert direct["correct"] == float(pairs.loc[7, "logprob_good"] > pairs.loc[7, "logprob_bad"])
    assert len(table) == 60 * 5  # direct, yes_no, forced choice x (2 orders + both)


def test_summary_against_statsmodels(data):
    prompts, pairs = data
    table = build_judgements(prompts, pairs)
    out = compare_judgements(table)
    got = out[(out["phenomenon"] == "agr") & (out["task"] == "yes_no")].set_index("metric")
    yn = table[table["task"] == "yes_no"].sort_values("pair_id")["correct"].to_numpy()
    di = table[table["task"] == "direct"].sort_values("pair_id")["correct"].to_numpy()
    low, high = proportion_confint(yn.sum(), len(yn), method="wilson")
    assert got.loc["accuracy", ["estimate", "ci_low", "ci_high"]].tolist() == pytest.approx([yn.mean(), low, high])
    assert got.loc["agreement", "estimate"] == pytest.approx(np.mean(yn == di))
    b, c = int(np.sum((yn == 1) & (di == 0))), int(np.sum((yn == 0) & (di == 1)))
    ref = mcnemar([[np.sum((yn == 1) & (di == 1)), b], [c, np.sum((yn == 0) & (di == 0))]],
                  exact=b + c < 25, correction=True)
    assert got.loc["mcnemar", "p_val"] == pytest.approx(ref.pvalue)
    assert got.loc["mcnemar", "estimate"] == pytest.approx(yn.mean() - di.mean())
    # the planted bias towards option 1 shows in both orders
    bias = out[(out["metric"] == "prefers_first") & (out["phenomenon"] == "agr")]
    assert set(bias["order"]) == {"good_first", "bad_first"} and (bias["estimate"] > 0.75).all()
    assert set(out["phenomenon"]) == {"agr", "overall"}


def test_identical_pairs_are_left_out(data):
    prompts, pairs = data
    pairs = pairs.assign(identical=pairs["pair_id"] < 10)
    table = build_judgements(prompts, pairs)
    assert table.groupby("task")["pair_id"].min().eq(10).all()
