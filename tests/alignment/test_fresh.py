"""Published vs fresh accuracy: counts, intervals and the difference test."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from probing._core.errors import ProbingError
from probing.alignment.fresh_vs_published import compare_fresh_published
from probing.stats.twoprop import compare_proportions


def _pairs(rng, p_published, p_fresh, n=80, phenomenon="agr"):
    return pd.DataFrame({"phenomenon": phenomenon, "fresh_paradigm": f"{phenomenon}_fresh",
                         "item_set": ["published"] * n + ["fresh"] * n,
                         "correct": np.r_[rng.random(n) < p_published, rng.random(n) < p_fresh]
                         .astype(float), "identical": False})


def test_rows_equal_their_counts_and_a_planted_gap_is_found():
    rng = np.random.default_rng(0)
    pairs = pd.concat([_pairs(rng, 0.95, 0.6), _pairs(rng, 0.8, 0.8, phenomenon="refl")])
    out = compare_fresh_published(pairs)
    agr = out[out["phenomenon"] == "agr"].set_index("item_set")
    pub = pairs[(pairs.phenomenon == "agr") & (pairs.item_set == "published")]["correct"]
    fresh = pairs[(pairs.phenomenon == "agr") & (pairs.item_set == "fresh")]["correct"]
    low, high = proportion_confint(pub.sum(), len(pub), method="wilson")
    assert agr.loc["published", ["estimate", "ci_low", "ci_high"]].tolist() == pytest.approx(
        [pub.mean(), low, high])
    expected = compare_proportions(pub.sum(), len(pub), fresh.sum(), len(fresh))
    assert agr.loc["difference", "estimate"] == pytest.approx(pub.mean() - fresh.mean())
    assert agr.loc["difference", "p_val"] == pytest.approx(expected["p_val"])
    assert agr.loc["difference", "ci_low"] > 0 and agr.loc["difference", "p_corr"] < 0.01
    refl = out[(out["phenomenon"] == "refl") & (out["item_set"] == "difference")].iloc[0]
    assert refl["ci_low"] < 0 < refl["ci_high"]  # no planted gap
    overall = out[out["phenomenon"] == "overall"].set_index("item_set")
    assert overall.loc["published", "n"] == 160 and np.isnan(overall.loc["difference", "p_corr"])


def test_identical_pairs_are_left_out_and_bad_sets_refused():
    rng = np.random.default_rng(1)
    pairs = _pairs(rng, 0.9, 0.9, n=20)
    pairs.loc[0, "identical"] = True
    out = compare_fresh_published(pairs)
    assert out.set_index(["phenomenon", "item_set"]).loc[("agr", "published"), "n"] == 19
    with pytest.raises(ProbingError, match="item_set must be published or fresh"):
        compare_fresh_published(pairs.assign(item_set="blimp"))
    with pytest.raises(ProbingError, match="no fresh pairs"):
        compare_fresh_published(pairs[pairs.item_set == "published"])
