"""sweep_correction: the patching-pairs table in, corrected cells out."""

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from probing._core.errors import ProbingError
from probing._core.vocabulary import table_columns
from probing.causal import SWEEP_COLUMNS, sweep_correction
from probing.stats import FewItemsWarning, max_t_test


def _pairs(n_items=20, per_item=2, layers=6, effect_layer=3, seed=0):
    rng = np.random.default_rng(seed)
    grid = pd.MultiIndex.from_product([range(layers), ["subj", "verb"]],
                                      names=["layer", "position"]).to_frame(index=False)
    frames = []
    for item in range(n_items):
        shift = rng.normal()        # an item effect shared by its pairs, in every cell
        for pair in range(per_item):
            frames.append(grid.assign(item_id=f"i{item}", pair_id=f"i{item}p{pair}",
                                      direction="denoising", site="resid_post", head=-1,
                                      estimate=shift + rng.normal(size=len(grid))
                                      + 3.0 * (grid.layer == effect_layer)))
    return pd.concat(frames, ignore_index=True)


def test_columns_come_from_the_vocabulary_and_planted_cells_are_found():
    table = sweep_correction(_pairs(), n_perm=500)
    assert list(table.columns) == table_columns("patching_corrected")
    assert (table.correction == "max_t").all() and (table.n_cells == 12).all()
    assert (table.n_items == 20).all() and (table.n_pairs == 40).all()
    assert set(table.layer[table.p_corr < 0.05]) == {3}
    assert set(SWEEP_COLUMNS) <= set(table.columns)


def test_pairs_of_one_item_are_flipped_together():
    pairs = _pairs(n_items=10, per_item=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewItemsWarning)
        table = sweep_correction(pairs)
    sums = pairs.pivot_table(index="item_id", columns=["layer", "position"], values="estimate",
                             aggfunc="sum", sort=False)
    ref = max_t_test(sums.to_numpy(), np.full(sums.shape, 3.0))
    np.testing.assert_allclose(table.p_corr, ref.p_corr)
    np.testing.assert_allclose(table.ci_low, ref.ci_low)
    assert table.exact.all() and (table.n_items == 10).all()


def test_fdr_uses_statsmodels_on_the_per_cell_t_tests():
    table = sweep_correction(_pairs(), correction="fdr_bh")
    np.testing.assert_allclose(table.p_corr, multipletests(table.p_val, method="fdr_bh")[1])
    assert (table.correction == "fdr_bh").all() and (table.n_perm == 0).all()
    maxt = sweep_correction(_pairs(), n_perm=500)
    np.testing.assert_allclose(table.p_val, maxt.p_val)
    assert ((table.ci_high - table.ci_low) < (maxt.ci_high - maxt.ci_low)).all()


def test_missing_cells_and_few_items():
    pairs = _pairs(n_items=8, per_item=1)
    pairs.loc[(pairs.item_id == "i0") & (pairs.layer == 0), "estimate"] = np.nan
    with pytest.warns(FewItemsWarning, match="sweep_correction: 8 items"):
        table = sweep_correction(pairs)
    assert table.loc[table.layer == 0, "n_items"].tolist() == [7, 7]
    assert table.loc[table.layer == 1, "n_items"].tolist() == [8, 8]


def test_bad_input_is_refused_with_its_reason():
    with pytest.raises(ProbingError, match=r"correction must be one of \['max_t'"):
        sweep_correction(_pairs(), correction="sidak")
    with pytest.raises(ProbingError, match=r"lacks column\(s\) \['item_id'\]"):
        sweep_correction(_pairs().drop(columns="item_id"))
    with pytest.raises(ProbingError, match=r"cells names column\(s\) \['unit'\]"):
        sweep_correction(_pairs(), cells=["layer", "unit"])
    with pytest.raises(ProbingError, match="must be a DataFrame"):
        sweep_correction(np.zeros(3))
