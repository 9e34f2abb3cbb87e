"""From the adapter's long patching table to arrays and the patching table."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.causal import (
    RUN_COLUMNS,
    build_patching_runs,
    patching_effects,
    summarize_patching,
)


def _long_table(rng, n_pairs=6, layers=(0, 3), positions=(0, 1, 2), heads=(-1,),
                sites=("resid_post",)):
    """A table in the adapter's format with known log-probabilities of both members."""
    rows = []
    for p in range(n_pairs):
        pid = f"pair{p}"
        for run in ("source", "target"):
            for member in ("source", "target"):
                rows.append((pid, run, -1, "", -1, -1, member, rng.normal(-10, 2)))
        for layer in layers:
            for pos in positions:
                for head in heads:
                    for site in sites:
                        for member in ("source", "target"):
                            rows.append((pid, "patched", layer, site, pos, head, member,
                                         rng.normal(-10, 2)))
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def _readout(table, good="source", **where):
    rows = table
    for key, value in where.items():
        rows = rows[rows[key] == value]
    lp = rows.set_index("member")["logprob"]
    bad = "target" if good == "source" else "source"
    return lp[good] - lp[bad]


def test_arrays_hold_the_good_minus_bad_readout_of_each_run(rng):
    table = _long_table(rng)
    runs = build_patching_runs(table.sample(frac=1, random_state=1), good="target")
    assert runs.patched.shape == (6, 2, 3, 1) and runs.heads is None
    assert runs.layers == [0, 3] and runs.positions == [0, 1, 2] and runs.sites == ["resid_post"]
    k = runs.pair_ids.index("pair4")
    assert runs.source[k] == pytest.approx(_readout(table, "target", pair_id="pair4",
                                                    run="source"))
    assert runs.patched[k, 1, 2, 0] == pytest.approx(_readout(
        table, "target", pair_id="pair4", run="patched", layer=3, position=2))


def test_per_head_tables_get_a_head_axis(rng):
    runs = build_patching_runs(_long_table(rng, heads=(0, 1, 2, 3), sites=("head_out",)))
    assert runs.patched.shape == (6, 2, 3, 4, 1) and runs.heads == [0, 1, 2, 3]


@pytest.mark.parametrize("clean", ["source", "target"])
def test_summary_equals_patching_effects_on_the_arrays(rng, clean):
    table = _long_table(rng)
    items = {f"pair{p}": f"item{p // 2}" for p in range(6)}
    out = summarize_patching(table, clean_member=clean, groups=items, n_boot=200)
    runs = build_patching_runs(table)
    clean_reads, corrupted = ((runs.source, runs.target) if clean == "source"
                              else (runs.target, runs.source))
    ref = patching_effects(clean_reads, corrupted, runs.patched,
                           direction="denoising" if clean == "source" else "noising",
                           layers=runs.layers, positions=runs.positions, sites=runs.sites,
                           groups=[items[p] for p in runs.pair_ids], n_boot=200)
    pd.testing.assert_frame_equal(out, ref)


def test_a_missing_position_is_nan(rng):
    table = _long_table(rng)
    table = table[~((table["pair_id"] == "pair0") & (table["position"] == 2))]
    runs = build_patching_runs(table)
    assert np.isnan(runs.patched[0, :, 2]).all() and not np.isnan(runs.patched[1:]).any()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.drop(columns="member"), r"missing column\(s\) \['member'\]"),
    (lambda t: t.assign(run=t["run"].replace("patched", "patch")), "run must be source"),
    (lambda t: pd.concat([t, t.iloc[[0]]]), "more than one row for"),
    (lambda t: t[~((t["pair_id"] == "pair1") & (t["run"] == "target")
                   & (t["member"] == "source"))],
     r"pair\(s\) \['pair1'\] lack a read-out of a plain run"),
], ids=["column", "run", "duplicate", "plain"])
def test_bad_tables_are_named(rng, edit, message):
    with pytest.raises(ProbingError, match=message):
        build_patching_runs(edit(_long_table(rng)))


def test_groups_must_cover_every_pair(rng):
    with pytest.raises(ProbingError, match=r"no item for pair\(s\) \['pair5'\]"):
        summarize_patching(_long_table(rng), groups={f"pair{p}": "i" for p in range(5)})


def test_a_per_unit_sweep_has_a_unit_axis():
    rng = np.random.default_rng(3)
    table = _long_table(rng, heads=(-1,), positions=(0, 1))
    patched = table["run"] == "patched"
    # the same cells as three units each: unit u's read-out shifted by u
    parts = [table[~patched].assign(unit=-1)]
    for unit in (2, 7, 9):
        cells = table[patched]
        shift = np.where(cells["member"] == "source", unit, 0.0)  # good member: + unit
        parts.append(cells.assign(unit=unit, logprob=cells["logprob"] + shift))
    runs = build_patching_runs(pd.concat(parts, ignore_index=True))
    assert runs.units == [2, 7, 9] and runs.heads is None
    assert runs.patched.shape == (6, 2, 2, 3, 1)
    want = build_patching_runs(table).patched[..., 0]
    for k, unit in enumerate((2, 7, 9)):  # read-out = good - bad: shifted by unit
        np.testing.assert_allclose(runs.patched[:, :, :, k, 0], want + unit, rtol=0,
                                   atol=1e-12)
    with pytest.raises(ProbingError, match="per-unit sweep"):
        summarize_patching(pd.concat(parts, ignore_index=True))
    both = pd.concat(parts, ignore_index=True)
    both.loc[both.index[-1], "head"] = 1
    with pytest.raises(ProbingError, match="per head or per unit"):
        build_patching_runs(both)
