"""The tables of ``probing mediate`` from its two patching sweeps (NIE and NDE runs)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError

__all__ = ["mediate_tables", "split_items"]

MEDIATOR_COLUMNS = ("layer", "site", "position", "head", "unit")


def _flatten(runs, site):
    """(n_pairs, n_mediators) read-outs and the mediators' descriptor table."""
    heads, units = runs.heads or [-1], runs.units or [-1]
    meds = pd.DataFrame(list(itertools.product(runs.layers, runs.positions, heads, units)),
                        columns=["layer", "position", "head", "unit"])
    meds.insert(1, "site", site)
    values = runs.patched[..., 0].reshape(len(runs.pair_ids), -1)
    return values, meds[list(MEDIATOR_COLUMNS)]


def _arrays(nie, nde, site):
    from probing.causal import build_patching_runs

    indirect = build_patching_runs(nie, good="target")  # x (target of this sweep) is good
    direct = build_patching_runs(nde, good="source")
    same = (indirect.pair_ids == direct.pair_ids and indirect.layers == direct.layers
            and indirect.positions == direct.positions and indirect.heads == direct.heads
            and indirect.units == direct.units)
    if not same:
        raise ProbingError("mediate: the two sweeps have different pairs or positions; use "
                           "--positions tokens")
    y_indirect, meds = _flatten(indirect, site)
    y_direct, _ = _flatten(direct, site)
    # a mediator some pair lacks (a region without an input token) is left out
    keep = ~(np.isnan(y_indirect).any(axis=0) | np.isnan(y_direct).any(axis=0))
    return (indirect.target, indirect.source, y_indirect[:, keep], y_direct[:, keep],
            meds[keep].reset_index(drop=True), indirect.pair_ids)


def _joint_reads(lm, pairs, pair_ids, top, where, site, options):
    """Read-out of each pair with every top mediator set to its value under x'."""
    from probing.models.patch_sets import patch_set

    x_pairs = pairs.set_index("pair_id").loc[pair_ids].reset_index()
    if where is not None:
        # positions in x, the target of the NIE sweep, located in x itself
        token = {(p, lab): pos for p, pos, lab in where[["pair_id", "position", "label"]]
                 .itertuples(index=False)}
    else:
        token = {(p, lab): int(lab) for p in pair_ids for lab in top["position"]}
    cells = {pid: tuple((int(r.layer), token[(pid, r.position)], int(r.head), int(r.unit))
                        for r in top.itertuples(index=False)) for pid in pair_ids}
    reads = {}
    for chosen, group in pd.Series(cells).groupby(lambda pid: cells[pid]):
        sub = x_pairs.set_index("pair_id").loc[list(group.index)].reset_index()
        swapped = sub.rename(columns={"source": "target", "target": "source"})
        table = patch_set(lm, swapped[["pair_id", "source", "target"]], list(chosen),
                          site=site, readout=options.readout, batch_size=options.batch_size)
        patched = table[table["run"] == "patched"].pivot(index="pair_id", columns="member",
                                                         values="logprob")
        reads.update((patched["target"] - patched["source"]).to_dict())
    return np.array([reads[pid] for pid in pair_ids])


def split_items(groups, fraction, random_state):
    """Boolean masks ``(select, test)`` over pairs: whole items on one side each.

    ``fraction`` of the items (at least one, and at least one left) select the top
    mediators; the rest test them. ``fraction=1`` selects and tests on every item (the
    joint effect is then biased upwards: the manifest says so).

    Examples
    --------
    >>> select, test = split_items(np.array([1, 1, 2, 2, 3, 3]), 0.5, 0)
    >>> bool((select != test).all()), int(select.sum()) % 2
    (True, 0)
    """
    groups = np.asarray(groups)
    if fraction >= 1:
        everything = np.ones(len(groups), bool)
        return everything, everything
    items = pd.unique(groups)
    if len(items) < 2:
        raise ProbingError(f"--split {fraction}: needs at least 2 items to select on some "
                           f"and test on others; got {len(items)} (--split 1 selects and "
                           f"tests on the same items, biased)")
    order = np.random.default_rng(random_state).permutation(len(items))
    n_select = min(max(1, round(fraction * len(items))), len(items) - 1)
    chosen = set(items[order[:n_select]].tolist())
    select = np.array([g in chosen for g in groups.tolist()])
    return select, ~select


def mediate_tables(lm, pairs, nie, nde, *, where, site, options):
    """``mediation`` (selection items), ``mediation_test``, ``mediation_items`` and
    ``mediation_joint`` (test items), ``top_mediators``, ``mediation_split`` (and ``top_units``), figure."""
    from probing.causal import (
        build_mediation_items,
        joint_effect,
        mediation_effects,
        top_mediators,
    )
    from probing.models.sites import model_shape

    y_x, y_xprime, y_indirect, y_direct, meds, pair_ids = _arrays(nie, nde, site)
    groups = pairs.set_index("pair_id")["item_id"].reindex(pair_ids).to_numpy()
    select, test = split_items(groups, options.split, options.random_state)
    boot = {"n_boot": options.n_boot, "random_state": options.random_state}
    # ranked on the selection items only; every effect of the top set on the test items
    table = mediation_effects(y_x[select], y_xprime[select], y_indirect[select],
                              y_direct=y_direct[select], mediators=meds,
                              groups=groups[select], **boot)
    top = top_mediators(table, k=min(options.top_k, len(meds)))
    where_med = {tuple(row): j for j, row in
                 enumerate(meds[list(MEDIATOR_COLUMNS)].itertuples(index=False))}
    columns = [where_med[tuple(row)]
               for row in top[list(MEDIATOR_COLUMNS)].itertuples(index=False)]
    test_ids = [pair_ids[i] for i in np.flatnonzero(test)]
    y_joint = _joint_reads(lm, pairs, test_ids, top, where, site, options)
    joint = joint_effect(y_x[test], y_xprime[test], y_joint,
                         y_indirect=y_indirect[test][:, columns], groups=groups[test], **boot)
    held_out = {"y_direct": y_direct[test][:, columns], "groups": groups[test],
                "mediators": meds.iloc[columns].reset_index(drop=True)}
    items = build_mediation_items(y_x[test], y_xprime[test], y_indirect[test][:, columns],
                                  **held_out)
    # each top mediator's effects again, on the items that did not rank it
    tested = mediation_effects(y_x[test], y_xprime[test], y_indirect[test][:, columns],
                               **held_out, **boot)
    items.insert(0, "pair_id", np.asarray(test_ids, dtype=object)[items.pop("row")])
    split = pd.DataFrame({"pair_id": pair_ids, "item_id": groups,
                          "split": np.where(select & test, "both",
                                            np.where(select, "selection", "test"))})
    tables = {"mediation": table, "mediation_test": tested, "mediation_items": items,
              "mediation_joint": joint.assign(k=len(columns))[["k", *joint.columns]],
              "top_mediators": top[[*MEDIATOR_COLUMNS, "rank", "estimate"]],
              "mediation_split": split}
    if options.mediators == "heads":
        tables["top_units"] = _head_units(top, model_shape(lm).head_dim)
    elif options.mediators == "units":
        tables["top_units"] = _units(top)
    return tables, _figure(table, top, options.mediators)


def _head_units(top, head_dim):
    rows = [(int(r.rank), int(r.layer), "head_out", int(r.head) * head_dim + u)
            for r in top.itertuples(index=False) for u in range(head_dim)]
    # the same head may rank at several positions; ablation takes it once (its best rank)
    table = pd.DataFrame(rows, columns=["rank", "layer", "site", "unit"])
    return table.drop_duplicates(["layer", "site", "unit"], ignore_index=True)


def _units(top):
    """The top units (once each: a unit may rank at several positions)."""
    table = top[["rank", "layer", "site", "unit"]].astype({"unit": int, "layer": int})
    return table.drop_duplicates(["layer", "site", "unit"], ignore_index=True)


def _figure(table, top, mediators):
    from probing.causal import plot_patching, plot_unit_effects

    rows = table[table["metric"] == "indirect_effect"]
    if mediators == "units":
        best = top["position"].iloc[0]
        ax = plot_unit_effects(rows[rows["position"] == best], metric="indirect_effect")
        ax.set_title(f"natural indirect effect of each unit at position {best}")
    elif mediators == "heads":
        best = top["position"].iloc[0]
        ax = plot_patching(rows[rows["position"] == best], metric="indirect_effect",
                           columns="head")
        ax.set_title(f"natural indirect effect of each head at position {best}")
    else:
        ax = plot_patching(rows, metric="indirect_effect")
        ax.set_title("natural indirect effect of each layer and position")
    return ax.figure
