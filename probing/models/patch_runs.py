"""Activation patching sweeps over minimal pairs, fast and exact.

For each pair the *target* member is run with one activation (a site at a layer and a
token position, and optionally one head) replaced by the *source* member's, and the
patched run is read out as the log-probability of each member's tokens. A naive sweep
runs one full forward per (pair, layer, position); this one

1. runs each source once, caching its activations at every swept layer and reading its
   unpatched run in the same forward;
2. runs each target once, reading its unpatched run and caching the input of every
   block and the keyword arguments the model gave each block (attention mask, position
   ids, rotary embeddings) (:mod:`probing.models.pair_runs`);
3. starts every patched copy at the patched layer: only the remaining blocks, the final
   norm and the LM head run, on many patched copies per forward.

The numbers equal the naive loop's (``score_tokens`` with a ``patch`` intervention) to
float rounding; the tests check that on GPT-2 and Llama with grouped-query attention.

Alignment: members are aligned through their whitespace words, each member on its own
(:mod:`probing.models.patch_align`): never by raw token index, since two members with as
many tokens may split their words differently. A pair that cannot be aligned one to one
is refused with its reason.

Read-outs (``readout``): ``sentence`` sums each member's tokens over the whole run (the
other member's tokens are read on a run only where the two token sequences correspond
one to one, rule ``token``; else NaN); ``logit_diff`` reads, at the position that
predicts each member's answer token (the first differing token of the last differing
word), the log-probability of the source's and of the target's answer token, whose
difference is the logit difference; it needs no equal lengths.
"""

from __future__ import annotations

import pandas as pd
import torch

from probing.models.batching import plan_batches
from probing.models.causal_lm import accepts_position_ids
from probing.models.intervention_hooks import keys_to_columns
from probing.models.pair_runs import (
    RunBatch,
    attention_for,
    check_options,
    plain_rows,
    prepare_pairs,
    read_copies,
)
from probing.models.patch_align import READOUTS
from probing.models.patch_cells import (
    chosen_positions,
    copy_position,
    copy_slices,
    entry_indices,
)
from probing.models.sites import edit_points

__all__ = ["PATCH_COLUMNS", "READOUTS", "patch_pairs"]

PATCH_COLUMNS = ("pair_id", "run", "layer", "site", "position", "head", "unit", "alignment",
                 "member", "logprob")


def _start(site, layer, n_blocks):
    """First block (0-based) a patched copy runs, and whether the edit is on its input."""
    if site == "resid_pre":
        return layer - 1, True
    if site == "resid_post":
        return layer, True
    return layer - 1, False


def patch_pairs(lm, pairs, *, layers="all", site="resid_post", per_head=False, units=None,
                positions=None, readout="sentence", batch_size=16, copies_per_forward=64):
    """Patch every (layer, position[, head or unit]) of each target member from its source.

    Parameters
    ----------
    lm : LanguageModel
        A causal LM.
    pairs : pandas.DataFrame
        ``pair_id`` (unique), ``source`` and ``target`` texts. Denoising patches the
        clean member into the corrupted one: pass the clean member as ``source``;
        noising is the same call with the columns swapped.
    layers : "all", int or list of int
        Layers of ``site`` (``resid_post``: 0..n_layers; others 1..n_layers).
    site : str
        One of :data:`probing.interventions.SITES`. ``pattern`` needs members of equal
        length aligned in place (a row is copied key by key).
    per_head : bool, default False
        Head sites only (``head_out``, ``q``, ``k``, ``v``, ``pattern``): one row per head
        (key/value heads for ``k``/``v``), else all heads of the position at once.
    units : sequence of int, optional
        One row per unit (an index into the site's vector, e.g. one ``mlp_out``
        coordinate): only that unit of the position is patched. Not with ``per_head``.
    positions : mapping of pair_id -> sequence of int or of tuples of int, optional
        Sweep only these target positions of each pair (default every aligned position);
        a per-unit sweep costs one copy per unit, so it is usually restricted to a region.
        A tuple is a *span*: its positions are patched together, in one copy (a whole
        region, each token from its aligned source token). A position that is no aligned
        input position of its pair is refused before any forward pass.
    readout : {"sentence", "logit_diff"}, default "sentence"
        What ``logprob`` sums (module docstring): every token of the member, or the
        member's answer token at the position that predicts it.
    batch_size : int, default 16
        Target members per plain forward.
    copies_per_forward : int, default 64
        Patched copies per forward of the remaining blocks.

    Returns
    -------
    pandas.DataFrame
        ``PATCH_COLUMNS``: ``pair_id``; ``run`` (``patched``, or the unpatched
        ``source``/``target`` run); ``layer``, ``site``, ``position`` (target token
        index; for a span, the tuple of them), ``head`` (-1 when not per head), ``unit`` (-1 when not per unit; -1 in
        all four for unpatched runs); ``alignment`` (``token`` or ``word``: see
        :mod:`probing.models.patch_align`); ``member`` (``source`` or ``target``: whose
        tokens are read); ``logprob`` (sum over the member's tokens of the run's
        log-probabilities, or its answer token's with ``logit_diff``; NaN, with the
        sentence read-out, when the run's input is the other member and the two token
        sequences do not correspond one to one).

    Examples
    --------
    >>> pairs = pd.DataFrame({"pair_id": ["a"], "source": ["The keys are here."],
    ...                       "target": ["The key is here."]})
    >>> table = patch_pairs(lm, pairs, layers=[6], readout="logit_diff")  # doctest: +SKIP
    """
    shape, layers = check_options(lm, site, layers, per_head)
    slices = copy_slices(shape, site, per_head, units)
    chosen = []
    with attention_for(lm, site):
        runs = prepare_pairs(lm, pairs, [(site, layer) for layer in layers], batch_size, readout,
                             check=lambda aligned: chosen.extend(
                                 chosen_positions(pairs["pair_id"].tolist(), aligned, positions)))
        plain, patched = [], []
        with torch.inference_mode():
            use_positions = accepts_position_ids(lm.model)
            for indices in plan_batches([len(x) for x in runs.t_inputs], batch_size=batch_size):
                # one forward per target: its plain read-out and the copies' starting points
                batch = RunBatch(lm, [runs.t_inputs[i] for i in indices], use_positions)
                plain += plain_rows(lm, batch, "target", indices, runs)
                sweep = _Sweep(lm, batch, indices, runs, shape, site, slices, chosen)
                for layer in layers:
                    patched += sweep.layer(layer, runs.ids, copies_per_forward,
                                           [runs.reads[i]["target"] for i in indices])
    table = pd.DataFrame(runs.source_rows + plain + patched, columns=list(PATCH_COLUMNS))
    table.attrs["patching"] = {"site": site, "layers": layers, "per_head": per_head,
                               "per_unit": units is not None, "readout": readout,
                               "model": dict(lm.provenance)}
    return table


class _Sweep:
    """The patched copies of one batch of targets, layer by layer."""

    def __init__(self, lm, batch, indices, runs, shape, site, slices, chosen):
        self.lm, self.batch, self.indices = lm, batch, indices
        self.recorded, self.aligned, self.shape = runs.recorded, runs.aligned, shape
        self.site, self.slices, self.chosen = site, slices, chosen

    def _copies(self):
        return [(r, k, h, u) for r, i in enumerate(self.indices) for k in self.chosen[i]
                for h, u in self.slices]

    def layer(self, layer, ids, per_forward, plans):
        start, on_input = _start(self.site, layer, self.shape.n_layers)
        copies, out = self._copies(), []
        for first in range(0, len(copies), per_forward):
            chunk = copies[first: first + per_forward]
            logits = self._run(layer, start, on_input, chunk)
            reads = read_copies(logits, self.batch.batch.columns, plans, [c[0] for c in chunk],
                          self.lm.device)
            for (r, k, h, u), read_s, read_t in zip(chunk, *reads, strict=True):
                i = self.indices[r]
                position = copy_position(k, self.aligned[i][1])
                base = (ids[i], "patched", layer, self.site, position, h, u, self.aligned[i][2])
                out += [(*base, "source", read_s), (*base, "target", read_t)]
        return out

    def _masks(self, chunk, payload):
        """Which units of each copy take the source's value (None: all of them)."""
        if chunk[0][2] < 0 and chunk[0][3] < 0:
            return None
        head_dim = self.shape.head_dim
        masks = torch.zeros_like(payload, dtype=torch.bool)
        for c, (_, _, h, u) in enumerate(chunk):
            if self.site == "pattern":  # one head's row over the keys
                masks[c, h] = True
            elif h >= 0:  # one head: its slice of the concatenated head outputs
                masks[c, h * head_dim: (h + 1) * head_dim] = True
            else:
                masks[c, u] = True
        return masks

    def _run(self, layer, start, on_input, chunk):
        device = self.lm.device
        rows = torch.as_tensor([c[0] for c in chunk], device=device)
        columns = self.batch.batch.columns
        # one entry per patched position: a span's copy has several
        flat = [(c, r, self.aligned[self.indices[r]], j) for c, (r, k, _, _) in enumerate(chunk)
                for j in entry_indices(k)]
        cols = torch.as_tensor([int(columns[r][a[1][j] + 1]) for _, r, a, j in flat],
                               device=device)
        values = self.recorded[(self.site, layer)]
        payload = [values[self.indices[r]][a[0][j] + 1] for _, r, a, j in flat]
        if self.site == "pattern":  # source keys onto this batch's key columns
            width = self.batch.batch.input_ids.shape[1]
            payload = [keys_to_columns(p, columns[r], width) for p, (_, r, _, _) in
                       zip(payload, flat, strict=True)]
        payload = torch.stack(payload).to(device)
        hidden = self.batch.hidden(start)[rows].clone()
        copy = torch.as_tensor([c for c, *_ in flat], device=device)
        masks = self._masks([chunk[c] for c, *_ in flat], payload)

        def patched(current):
            new = payload.to(current.dtype)
            return new if masks is None else torch.where(masks, new, current)

        first = int(cols.min())  # every column before it is the plain run's
        if on_input:
            hidden[copy, cols] = patched(hidden[copy, cols])
            return self.batch.run_from(self.lm, start, hidden, rows, first)

        def edit(tensor):
            out = tensor.clone()
            out[copy, cols] = patched(out[copy, cols])
            return out

        with edit_points(self.lm.model.base_model, {(self.site, layer): edit}):
            return self.batch.run_from(self.lm, start, hidden, rows, first)
