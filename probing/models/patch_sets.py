"""Patch a whole set of (layer, position[, head]) cells at once, read as ``patch_pairs`` reads.

``patch_pairs`` patches one cell per copy; the joint effect of a mediator set (the top-k
heads or layers of a mediation sweep) needs every cell of the set patched in the same
forward pass. The read-out is the same as ``patch_pairs``' (the summed log-probability of
each member's tokens on the patched target run), so the joint effect and the single
effects are comparable; a set of one cell equals ``patch_pairs``' row (tested).
"""

from __future__ import annotations

import pandas as pd
import torch

from probing._core.errors import ProbingError
from probing.interventions import HEAD_SITES
from probing.models import pair_runs
from probing.models.batching import plan_batches
from probing.models.causal_lm import accepts_position_ids
from probing.models.intervention_hooks import keys_to_columns
from probing.models.patch_runs import PATCH_COLUMNS
from probing.models.sites import edit_points

__all__ = ["patch_set"]


def _check_cells(cells, per_head, shape, site):
    cells = [tuple(int(v) for v in cell) + (-1,) * (4 - len(cell)) for cell in cells]
    if not cells:
        raise ProbingError("patch_set: cells is empty; give (layer, position, head[, unit])")
    width = shape.width(site)
    for _layer, position, head, unit in cells:
        if position < 0:
            raise ProbingError(f"patch_set: position {position} must be >= 0")
        if per_head and not 0 <= head < shape.heads_of(site):
            raise ProbingError(f"patch_set: head {head} out of range [0, {shape.heads_of(site)}) "
                               f"at site {site!r}")
        if unit != -1 and (head >= 0 or site == "pattern" or not 0 <= unit < width):
            raise ProbingError(f"patch_set: unit {unit} must be in [0, {width}) of site "
                               f"{site!r}, in a cell with head -1")
    return cells


def _check_positions(cells, ids, aligned):
    """Every cell's position must be an aligned input position of at least one pair."""
    have = set().union(*(set(t_pos) for _, t_pos, _ in aligned))
    missing = sorted({c[1] for c in cells} - have)
    if missing:
        raise ProbingError(f"patch_set: position {missing[0]} is no aligned input position of "
                           f"any pair (pairs {', '.join(map(str, ids[:3]))}...); positions "
                           f"are target token indices")


def patch_set(lm, pairs, cells, *, site="resid_post", readout="sentence", batch_size=16):
    """Run each target member with every cell of ``cells`` patched from its source member.

    Parameters
    ----------
    lm : LanguageModel
        A causal LM.
    pairs : pandas.DataFrame
        ``pair_id``, ``source``, ``target`` as for :func:`~probing.models.patch_pairs`.
    cells : sequence of (layer, position, head) or (layer, position, head, unit)
        Target token positions (as ``patch_pairs``' ``position``) at layers of ``site``;
        ``head`` -1 patches the whole site, ``>= 0`` one head of ``head_out``; ``unit``
        (default -1: all) patches one unit of the site's vector. A position a pair lacks
        after alignment is skipped for that pair; a position no pair has is refused
        before any forward pass.
    site : str, default "resid_post"
    readout : {"sentence", "logit_diff"}, default "sentence"
        As for :func:`~probing.models.patch_pairs`.
    batch_size : int, default 16

    Returns
    -------
    pandas.DataFrame
        ``PATCH_COLUMNS``: the plain ``source``/``target`` runs and one ``patched`` run
        per pair (``layer``, ``position``, ``head``, ``unit`` = -1: the whole set).
    """
    per_head = any(int(c[2]) >= 0 for c in cells) if len(cells) else False
    shape, layers = pair_runs.check_options(
        lm, site, sorted({int(c[0]) for c in cells}) or [1], per_head and site in HEAD_SITES)
    if per_head and site not in HEAD_SITES:
        raise ProbingError(f"patch_set: a head needs one of the sites {', '.join(HEAD_SITES)}; "
                           f"got site {site!r}")
    cells = _check_cells(cells, per_head, shape, site)
    with pair_runs.attention_for(lm, site):
        runs = pair_runs.prepare_pairs(
            lm, pairs, [(site, layer) for layer in layers], batch_size, readout,
            check=lambda aligned: _check_positions(cells, pairs["pair_id"].tolist(), aligned))
        plain, patched = [], []
        with torch.inference_mode():
            for indices in plan_batches([len(x) for x in runs.t_inputs], batch_size=batch_size):
                plain_run, rows = _patched_batch(lm, runs, indices, cells, layers, site, shape)
                plain += plain_run
                patched += rows
    return pd.DataFrame(runs.source_rows + plain + patched, columns=list(PATCH_COLUMNS))


def _patched_batch(lm, runs, indices, cells, layers, site, shape):
    """One batch of targets: the plain run's rows, then the run with every cell patched."""
    use_positions = accepts_position_ids(lm.model)
    inputs = [runs.t_inputs[i] for i in indices]
    plain = pair_runs.RunBatch(lm, inputs, use_positions, keep=False)
    columns = plain.batch.columns  # the patched run pads the same way
    edits = {(site, layer): _editor([c for c in cells if c[0] == layer], indices, columns,
                                    runs.aligned, runs.recorded[(site, layer)], shape.head_dim,
                                    site == "pattern")
             for layer in layers}
    with edit_points(lm.model.base_model, edits):
        batch = pair_runs.RunBatch(lm, inputs, use_positions, keep=False)
    reads = pair_runs.read_copies(batch.logits, batch.batch.columns,
                                  [runs.reads[i]["target"] for i in indices],
                                  list(range(len(indices))), lm.device)
    rows = []
    for r, i in enumerate(indices):
        base = (runs.ids[i], "patched", -1, site, -1, -1, -1, runs.aligned[i][2])
        rows += [(*base, "source", reads[0][r]), (*base, "target", reads[1][r])]
    return pair_runs.plain_rows(lm, plain, "target", indices, runs), rows


def _editor(cells, indices, columns, aligned, values, head_dim, pattern=False):
    """Edit of one layer in one batch: each pair's cells take the source's values
    (``pattern``: a head's row over the keys, the source's keys on this batch's columns)."""
    def edit(tensor):
        out = tensor.clone()
        for r, i in enumerate(indices):
            s_pos, t_pos, _ = aligned[i]
            lookup = dict(zip(t_pos, s_pos, strict=True))
            for _, position, head, unit in cells:
                if position not in lookup:  # the pair has no such aligned position
                    continue
                col = int(columns[r][position + 1])  # +1: the start token
                source = values[i][lookup[position] + 1].to(out.device, out.dtype)
                if pattern:
                    source = keys_to_columns(source, columns[r], out.shape[-1])
                    units = slice(None) if head < 0 else slice(head, head + 1)
                elif unit >= 0:
                    units = slice(unit, unit + 1)
                elif head >= 0:
                    units = slice(head * head_dim, (head + 1) * head_dim)
                else:
                    units = slice(None)
                out[r, col, units] = source[units]
        return out
    return edit
