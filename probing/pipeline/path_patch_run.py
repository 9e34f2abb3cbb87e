"""The engine of ``probing path-patch`` (declared in
:mod:`probing.pipeline.commands.path_patch`): path patching on a minimal-pair paradigm.

The pairs, their word alignment, the regions located in each member, the exclusions and
the read-outs are those of ``probing patch`` (:mod:`probing.pipeline.causal_run`). A cell is
one sender, one receiver and one region: the sender is patched from the source member at
the region's position in each pair (its last token, its first, or all of it:
``region_token``) and reaches the read-out only through the receiver
(:func:`probing.models.path_patch`, every other path frozen), the receiver being patched
at every position. Each cell is one ``path_patch`` call over the pairs that have the
region, so its numbers are the API's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing.commands import Result
from probing.pipeline.causal_run import identified, member_where, screen, swap_members

__all__ = ["path_patch_result"]

_CELL = ["direction", "sender", "receiver", "position"]


def _cell_reads(table, direction):
    """Per pair: ``clean``, ``corrupted`` and ``patched`` read-outs (good minus bad) of one
    ``path_patch`` table; the good member is the pairs' source when denoising."""
    good, bad = ("source", "target") if direction == "denoising" else ("target", "source")
    wide = table.pivot_table(index=["pair_id", "run"], columns="member", values="logprob",
                             dropna=False)
    reads = (wide[good] - wide[bad]).unstack("run")
    clean, corrupted = (reads["source"], reads["target"]) if direction == "denoising" else (
        reads["target"], reads["source"])
    base = reads["target"]  # the run that was patched
    gap = (clean - corrupted).replace(0.0, np.nan)
    return pd.DataFrame({"clean": clean, "corrupted": corrupted, "patched": reads["patched"],
                         "estimate": reads["patched"] - base,
                         "restored": (reads["patched"] - corrupted) / gap}).reset_index()


def _cells(where, senders, receivers):
    """``(sender, receiver, label, {pair_id: target positions})`` of every cell."""
    for label, group in where.groupby("label", sort=False):
        positions = {pid: sorted({p for value in rows["position"]
                                  for p in (value if isinstance(value, tuple) else (value,))})
                     for pid, rows in group.groupby("pair_id", sort=False)}
        for sender in senders:
            for receiver in receivers:
                yield sender, receiver, label, positions


def _direction_rows(lm, pairs, where, direction, options):
    """The per-pair rows of every cell of one direction."""
    from probing.models import path_patch

    rows = []
    for sender, receiver, label, positions in _cells(where, options.sender_components,
                                                     options.receiver_components):
        chosen = pairs[pairs["pair_id"].isin(positions)]
        table = path_patch(lm, chosen[["pair_id", "source", "target"]], sender=sender,
                           receiver=receiver, positions=positions, readout=options.readout,
                           batch_size=options.batch_size)
        rows.append(_cell_reads(table, direction).assign(
            direction=direction, sender=_label(sender), receiver=_label(receiver),
            position=label))
    return rows


def _label(component):
    """``site:layer[:head]``, as :class:`probing.models.path_patching.Component` labels it."""
    site, layer, head = component
    return f"{site}:{layer}" + (f":{head}" if head >= 0 else "")


def _summary(items, options):
    """One row per cell and metric: the mean effect and restored fraction, item intervals."""
    from probing.causal import patching_effects

    frames = []
    for direction, sub in items.groupby("direction", sort=False):
        cells = sub[_CELL].drop_duplicates().reset_index(drop=True)
        wide = sub.pivot_table(index="pair_id", columns=_CELL, values="patched", dropna=False,
                               sort=False)
        wide = wide[pd.MultiIndex.from_frame(cells)]
        first = sub.drop_duplicates("pair_id").set_index("pair_id").loc[wide.index]
        table = patching_effects(first["clean"].to_numpy(float),
                                 first["corrupted"].to_numpy(float),
                                 wide.to_numpy(float)[:, :, None, None], direction=direction,
                                 layers=list(range(len(cells))), groups=first["item_id"].to_numpy(),
                                 n_boot=options.n_boot, random_state=options.random_state)
        frames.append(table.drop(columns=["direction", "site", "position", "head"]).join(
            cells, on="layer"))  # the layer axis is the cells
    out = pd.concat(frames, ignore_index=True)
    return out[[*_CELL, "metric", "estimate", "ci_low", "ci_high", "n_pairs"]]


def _corrected(items, options):
    from probing._core.vocabulary import table_columns
    from probing.causal import sweep_correction

    if items["item_id"].nunique() < 2:  # no test is possible
        return pd.DataFrame(columns=table_columns("path_patching_corrected"))
    return sweep_correction(items, group_column="item_id", cells=_CELL, correction=options.correction,
                            random_state=options.random_state)


def path_patch_result(plan, lm):
    """Path-patch every (sender, receiver, region) cell in each direction.

    Returns
    -------
    probing.commands.Result
        ``patch_pairs`` (the pairs), ``path_patching`` (one row per cell and metric:
        ``direction, sender, receiver, position, metric, estimate, ci_low, ci_high,
        n_pairs, n_items``), ``path_patching_pairs`` (per pair and cell),
        ``path_patching_corrected`` (every cell corrected across the cells) and
        ``excluded_pairs``, each ending with ``model, paradigm``.
    """
    options = plan.options
    prep = screen(plan, lm)
    pairs, groups = prep.pairs, prep.pairs.set_index("pair_id")["item_id"]
    directions = ["denoising", "noising"] if options.direction == "both" else [options.direction]
    rows = []
    for direction in directions:
        run_pairs = pairs if direction == "denoising" else swap_members(pairs)
        where = member_where(prep.where, options, "target" if direction == "denoising" else "source")
        rows += _direction_rows(lm, run_pairs, where, direction, options)
    items = pd.concat(rows, ignore_index=True)
    items.insert(1, "item_id", items["pair_id"].map(groups))
    items = items[["pair_id", "item_id", *_CELL, "clean", "corrupted", "patched", "estimate",
                   "restored"]]
    tables = {"patch_pairs": pairs[["pair_id", "item_id", "phenomenon", "source", "target"]],
              "path_patching": _summary(items, options).assign(n_items=prep.info["n_items"]),
              "path_patching_pairs": items,
              "path_patching_corrected": _corrected(items, options),
              "excluded_pairs": prep.excluded}
    notes = {**prep.info, "senders": [_label(c) for c in options.sender_components],
             "receivers": [_label(c) for c in options.receiver_components]}
    return Result(identified(tables, model=lm.name, paradigm=plan.paradigm.name), {},
                  {"notes": notes})
