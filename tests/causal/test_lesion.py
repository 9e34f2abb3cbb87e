"""combine_ablations: one correction family across paradigms, and the normal-null p."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from probing._core.errors import ProbingError
from probing.causal import (
    LESION_COLUMNS,
    ablation_test,
    combine_ablations,
    normal_null_pvalue,
    plot_lesion,
)


def _study(rng, n_sets=19, shift=None):
    """Two paradigms' ablation_test tables and null effects, as probing ablate writes them."""
    frames, nulls = [], []
    shift = shift or {"a": -1.0, "b": 0.0}
    for paradigm, phenomena in (("a", ["x", "y"]), ("b", ["z"])):
        labels = np.repeat(phenomena, 15)
        base = rng.normal(1, 1, labels.size)
        null = base + rng.normal(0, 0.3, (n_sets, labels.size))
        table = ablation_test(base, base + shift[paradigm], null, phenomena=labels,
                              metric="logprob_diff", n_boot=100)
        frames.append(table.assign(paradigm=paradigm))
        for phenomenon in phenomena:
            rows = labels == phenomenon
            effects = (null[:, rows] - base[rows]).mean(axis=1)
            nulls.append(pd.DataFrame({"paradigm": paradigm, "phenomenon": phenomenon,
                                       "metric": "logprob_diff", "set": np.arange(n_sets),
                                       "estimate": effects}))
    return pd.concat(frames, ignore_index=True), pd.concat(nulls, ignore_index=True)


def test_holm_over_every_paradigms_phenomena_equals_statsmodels():
    ablation, null = _study(np.random.default_rng(0))
    out = combine_ablations(ablation, null)
    assert list(out.columns) == [*LESION_COLUMNS, "paradigm"]
    assert len(out) == 3
    given = ablation[ablation["unit_set"] == "given"]
    np.testing.assert_allclose(out["p_val"], given["p_val"])
    np.testing.assert_allclose(out["p_corr"], multipletests(given["p_val"], method="holm")[1])
    np.testing.assert_allclose(out["p_normal_corr"],
                               multipletests(out["p_normal"], method="holm")[1])
    # corrected over 3 phenomena, not within each paradigm: paradigm b's single test
    # is no longer its own family
    assert (out["p_corr"] >= out["p_val"]).all()


def test_normal_p_matches_a_prediction_interval_and_the_null_summary():
    ablation, null = _study(np.random.default_rng(1))
    out = combine_ablations(ablation, null).set_index(["paradigm", "phenomenon"])
    effects = null[(null["paradigm"] == "b") & (null["phenomenon"] == "z")]["estimate"]
    row = out.loc[("b", "z")]
    assert row["null_mean"] == pytest.approx(effects.mean())
    assert row["null_sd"] == pytest.approx(effects.std())
    low, high = sps.t.interval(1 - row["p_normal"], df=len(effects) - 1, loc=effects.mean(),
                               scale=effects.std() * np.sqrt(1 + 1 / len(effects)))
    assert min(abs(row["estimate"] - low), abs(row["estimate"] - high)) < 1e-8
    # a shift of 1 with null sd ~ 0.08 lies far out; no shift does not
    far = out.loc[("a", "x")]
    assert far["p_normal"] < 1e-6 and far["stat"] < -5
    assert row["p_normal"] > 0.01


def test_normal_null_pvalue_is_calibrated_under_a_normal_null():
    rng = np.random.default_rng(2)
    draws = rng.normal(size=(2000, 21))
    p = np.array([normal_null_pvalue(d[0], d[1:])[1] for d in draws])
    rate = (p < 0.05).mean()
    band = 3 * np.sqrt(0.05 * 0.95 / p.size)
    assert abs(rate - 0.05) < band


def test_order_of_rows_does_not_matter():
    ablation, null = _study(np.random.default_rng(3))
    out = combine_ablations(ablation, null)
    shuffled = combine_ablations(ablation.sample(frac=1, random_state=1),
                                 null.sample(frac=1, random_state=2))
    key = ["paradigm", "phenomenon", "metric"]
    pd.testing.assert_frame_equal(out.sort_values(key).reset_index(drop=True),
                                  shuffled.sort_values(key).reset_index(drop=True))


def test_inputs_are_not_mutated_and_constant_null_is_handled():
    ablation, null = _study(np.random.default_rng(4))
    before = (ablation.copy(), null.copy())
    combine_ablations(ablation, null)
    pd.testing.assert_frame_equal(ablation, before[0])
    pd.testing.assert_frame_equal(null, before[1])
    assert normal_null_pvalue(0.0, [0.0, 0.0]) == (0.0, 1.0)
    assert np.isnan(normal_null_pvalue(-1.0, [0.0, 0.0])).all()


@pytest.mark.parametrize("change,message", [
    (lambda a, n: (a.drop(columns="p_val"), n), r"ablation lacks column\(s\) \['p_val'\]"),
    (lambda a, n: (a, n[n["phenomenon"] != "z"]), "no random-set effects for"),
    (lambda a, n: (pd.concat([a, a]), n), "exactly one 'given' row"),
    (lambda a, n: (a, n.to_numpy()), "null must be a DataFrame"),
], ids=["column", "null-key", "duplicate", "type"])
def test_bad_input_is_one_line(change, message):
    ablation, null = change(*_study(np.random.default_rng(5)))
    with pytest.raises(ProbingError, match=message):
        combine_ablations(ablation, null)


def test_bad_correction_and_null():
    ablation, null = _study(np.random.default_rng(6))
    with pytest.raises(ProbingError, match="correction must be one of"):
        combine_ablations(ablation, null, correction="sidak")
    with pytest.raises(ProbingError, match=">= 2 finite effects"):
        normal_null_pvalue(0.0, [1.0])


def test_plot_lesion_draws_one_row_per_phenomenon():
    import matplotlib.pyplot as plt

    ablation, null = _study(np.random.default_rng(7))
    fig = plot_lesion(combine_ablations(ablation, null), null, metric="logprob_diff")
    assert len(fig.axes[0].get_yticklabels()) == 3
    plt.close(fig)


def test_n_items_is_carried_over_and_empty_for_older_tables():
    from probing.stats import FewItemsWarning

    with pytest.warns(FewItemsWarning):
        ablation, null = _study(np.random.default_rng(1))        # 15 items per phenomenon
    with pytest.warns(FewItemsWarning, match="combine_ablations: 15 items"):
        out = combine_ablations(ablation, null)
    assert out["n_items"].tolist() == [15, 15, 15]
    older = combine_ablations(ablation.drop(columns="n_items"), null)
    assert older["n_items"].isna().all() and list(older.columns) == list(out.columns)
