"""Activation patching sweeps over minimal pairs, fast and exact.

For each pair the *target* member is run with one activation (a site at a layer and a
token position, and optionally one head) replaced by the *source* member's, and the
patched run is read out as the log-probability of each member's tokens. A naive sweep
runs one full forward per (pair, layer, position); this one

1. runs the sources once and caches their activations at every swept layer;
2. runs the targets once, caching the input of every block and the keyword arguments
   the model gave each block (attention mask, position ids, rotary embeddings);
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

import contextlib
import dataclasses

import numpy as np
import pandas as pd
import torch

from probing._core.errors import ProbingError
from probing.interventions import HEAD_SITES, SITES, Intervention, check_against_model
from probing.models.batching import pad_sequences, plan_batches
from probing.models.causal import accepts_position_ids, logsumexp_, prediction_inputs
from probing.models.interventions import keys_to_columns, record_points
from probing.models.patch_align import READOUTS, align_all
from probing.models.patch_cells import chosen_positions, copy_slices
from probing.models.sites import eager_attention, edit_points, find_family, model_shape

__all__ = ["PATCH_COLUMNS", "READOUTS", "attention_for", "patch_pairs"]

PATCH_COLUMNS = ("pair_id", "run", "layer", "site", "position", "head", "unit", "alignment",
                 "member", "logprob")


@dataclasses.dataclass(frozen=True)
class PairRuns:
    """What every patching run of a set of pairs shares (``patch_pairs``, ``patch_set``).

    ``aligned``: per pair, ``(source_positions, target_positions, rule)``; ``recorded``:
    the sources' activations at each ``(site, layer)``; ``t_inputs``: the targets'
    prediction inputs; ``reads``: per pair, how a ``source`` and a ``target`` run is read
    (:func:`read_plans`).
    """

    ids: list
    sources: list
    targets: list
    aligned: list
    recorded: dict
    t_inputs: list
    reads: list


def prepare_pairs(lm, pairs, site, layers, batch_size, readout="sentence", check=None):
    """Check and encode the pairs, align their members and record the sources' sites.

    ``check(aligned)`` runs after the alignment and before any forward pass.
    """
    sources, targets, aligned, reads = align_all(lm, pairs, readout)
    if site == "pattern":
        _check_pattern_pairs(pairs["pair_id"].tolist(), sources, targets, aligned)
    if check is not None:
        check(aligned)
    recorded = record_points(lm, sources, [(site, layer) for layer in layers],
                             batch_size=batch_size)
    t_inputs, _ = prediction_inputs(lm, targets)
    return PairRuns(pairs["pair_id"].tolist(), sources, targets, aligned, recorded, t_inputs,
                    reads)


def attention_for(lm, site):
    """The attention a sweep of ``site`` runs in: eager for ``pattern`` (whose hooks read
    the probabilities), the model's own otherwise. Wraps the plain runs too, whose cached
    masks the patched copies reuse."""
    return eager_attention(lm.model.base_model) if site == "pattern" else contextlib.nullcontext()


def _check_pattern_pairs(ids, sources, targets, aligned):
    """A pattern row is copied key by key: members of equal length, aligned in place."""
    for pid, s, t, (s_pos, t_pos, _) in zip(ids, sources, targets, aligned, strict=True):
        if len(s.token_ids) != len(t.token_ids) or list(s_pos) != list(t_pos):
            raise ProbingError(f"pair {pid!r}: site 'pattern' copies attention rows key by key; "
                               f"the members need as many tokens, aligned position by position")


def _select_rows(value, rows, n):
    """Index the batch axis of every tensor (of 2+ dims) whose first dim is ``n``."""
    if isinstance(value, torch.Tensor):
        return value[rows] if value.dim() >= 2 and value.shape[0] == n else value
    if isinstance(value, tuple | list):
        return type(value)(_select_rows(v, rows, n) for v in value)
    if isinstance(value, dict):
        return {k: _select_rows(v, rows, n) for k, v in value.items()}
    return value


def _start(site, layer, n_blocks):
    """First block (0-based) a patched copy runs, and whether the edit is on its input."""
    if site == "resid_pre":
        return layer - 1, True
    if site == "resid_post":
        return layer, True
    return layer - 1, False


class _Targets:
    """One batch of target members: inputs, cached block inputs and keyword arguments."""

    def __init__(self, lm, inputs, use_positions):
        self.batch = pad_sequences(inputs, pad_id=lm.start_token_id).to(lm.device)
        blocks, self.norm, _ = find_family(lm.model.base_model)
        self.blocks = blocks
        self.calls, handles = [], []
        for block in blocks:
            handles.append(block.register_forward_pre_hook(self._capture, with_kwargs=True))
        handles.append(blocks[-1].register_forward_hook(self._capture_out))
        try:
            feed = {"input_ids": self.batch.input_ids, "attention_mask": self.batch.attention_mask,
                    "use_cache": False}
            if use_positions:
                feed["position_ids"] = self.batch.position_ids
            self.logits = lm.model(**feed).logits
        finally:
            for handle in handles:
                handle.remove()

    def _capture(self, module, args, kwargs):
        self.calls.append((args, kwargs))

    def _capture_out(self, module, args, output):
        self.last = output[0] if isinstance(output, tuple) else output

    def hidden(self, start):
        """Input of block ``start`` (the last block's output when past the end)."""
        if start == len(self.blocks):
            return self.last
        args, kwargs = self.calls[start]
        return args[0] if args else kwargs["hidden_states"]

    def run_from(self, lm, start, hidden, rows, first_column=0):
        """Logits of copies ``rows`` from block ``start`` on, given its input ``hidden``.

        Columns before ``first_column`` (no copy is patched there) are taken from the
        plain run: in a causal LM a patch changes nothing before its position, and the LM
        head over a 49k vocabulary costs as much as eight blocks of a small model.
        """
        n = self.batch.input_ids.shape[0]
        for index in range(start, len(self.blocks)):
            args, kwargs = self.calls[index]
            args = (hidden, *_select_rows(args[1:], rows, n)) if args else ()
            kwargs = _select_rows({k: v for k, v in kwargs.items() if k != "hidden_states"},
                                  rows, n)
            if not args:
                kwargs["hidden_states"] = hidden
            out = self.blocks[index](*args, **kwargs)
            hidden = out[0] if isinstance(out, tuple) else out
        hidden = hidden[:, first_column:]
        if self.norm is not None:
            hidden = self.norm(hidden)
        tail = lm.model.get_output_embeddings()(hidden)
        if first_column == 0:
            return tail
        return torch.cat([self.logits[rows, :first_column].to(tail.dtype), tail], dim=1)


def _read(logits, columns, plans, rows, device):
    """Per copy ``c`` (batch row ``rows[c]``, read by ``plans[rows[c]]``): the summed
    log-prob of the source's and of the target's tokens (NaN where not readable)."""
    picked = [np.asarray(columns[r])[plans[r][0]] for r in rows]
    flat_rows = torch.cat([torch.full((len(p),), c) for c, p in enumerate(picked)]).to(device)
    flat_cols = torch.as_tensor(np.concatenate(picked), device=device)
    chosen = []
    for which in (1, 2):
        ids = [plans[r][which] if plans[r][which] is not None else np.zeros(len(p), int)
               for r, p in zip(rows, picked, strict=True)]
        flat_ids = torch.as_tensor(np.concatenate(ids), dtype=torch.long, device=device)
        chosen.append(logits[flat_rows, flat_cols, flat_ids].to(torch.float64))
    lse = logsumexp_(logits)[flat_rows, flat_cols].to(torch.float64)  # overwrites logits
    out = []
    for which, values in zip((1, 2), chosen, strict=True):
        sums = torch.zeros(len(rows), dtype=torch.float64, device=device).index_add_(
            0, flat_rows, values - lse).cpu().numpy()
        sums[[plans[r][which] is None for r in rows]] = np.nan
        out.append(sums)
    return out


def _check_options(lm, site, layers, per_head):
    if lm.kind != "causal":
        raise ProbingError("patch_pairs reads log-probabilities of a causal LM; got a masked LM")
    if site not in SITES:
        raise ProbingError(f"site must be one of {', '.join(SITES)}; got {site!r}")
    if per_head and site not in HEAD_SITES:
        raise ProbingError(f"per_head needs one of the sites {', '.join(HEAD_SITES)}; got site "
                           f"{site!r}")
    shape = model_shape(lm)
    allowed = shape.layer_range(site)
    layers = list(allowed) if isinstance(layers, str) and layers == "all" else (
        [layers] if isinstance(layers, int) else list(layers))
    for layer in layers:
        check_against_model(Intervention(layer=int(layer), site=site), shape)
    return shape, [int(x) for x in layers]


def _plain_rows(pid, run, alignment, reads):
    return [(pid, run, -1, "", -1, -1, -1, alignment, member, value)
            for member, value in zip(("source", "target"), reads, strict=True)]


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
    positions : mapping of pair_id -> sequence of int, optional
        Sweep only these target positions of each pair (default every aligned position);
        a per-unit sweep costs one copy per unit, so it is usually restricted to a region.
        A position that is no aligned input position of its pair is refused before any
        forward pass.
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
        index), ``head`` (-1 when not per head), ``unit`` (-1 when not per unit; -1 in
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
    shape, layers = _check_options(lm, site, layers, per_head)
    slices = copy_slices(shape, site, per_head, units)
    chosen = []
    runs = prepare_pairs(lm, pairs, site, layers, batch_size, readout,
                         check=lambda aligned: chosen.extend(
                             chosen_positions(pairs["pair_id"].tolist(), aligned, positions)))
    rows = []
    with torch.inference_mode(), attention_for(lm, site):
        rows += _plain(lm, runs, batch_size)
        use_positions = accepts_position_ids(lm.model)
        for indices in plan_batches([len(x) for x in runs.t_inputs], batch_size=batch_size):
            batch = _Targets(lm, [runs.t_inputs[i] for i in indices], use_positions)
            sweep = _Sweep(lm, batch, indices, runs, shape, site, slices, chosen)
            for layer in layers:
                rows += sweep.layer(layer, runs.ids, copies_per_forward,
                                    [runs.reads[i]["target"] for i in indices])
    table = pd.DataFrame(rows, columns=list(PATCH_COLUMNS))
    table.attrs["patching"] = {"site": site, "layers": layers, "per_head": per_head,
                               "per_unit": units is not None, "readout": readout,
                               "model": dict(lm.provenance)}
    return table


def _plain(lm, runs, batch_size):
    """Each unpatched run read as ``runs.reads`` says (both members where readable)."""
    rows = []
    use_positions = accepts_position_ids(lm.model)
    for run, encoded in (("source", runs.sources), ("target", runs.targets)):
        inputs, _ = prediction_inputs(lm, encoded)
        for indices in plan_batches([len(x) for x in inputs], batch_size=batch_size):
            batch = _Targets(lm, [inputs[i] for i in indices], use_positions)
            reads = _read(batch.logits, batch.batch.columns,
                          [runs.reads[i][run] for i in indices],
                          list(range(len(indices))), lm.device)
            for k, read_s, read_t in zip(indices, *reads, strict=True):
                rows += _plain_rows(runs.ids[k], run, runs.aligned[k][2], (read_s, read_t))
    return rows


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
            reads = _read(logits, self.batch.batch.columns, plans, [c[0] for c in chunk],
                          self.lm.device)
            for (r, k, h, u), read_s, read_t in zip(chunk, *reads, strict=True):
                i = self.indices[r]
                base = (ids[i], "patched", layer, self.site, self.aligned[i][1][k], h, u,
                        self.aligned[i][2])
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
        cols = torch.as_tensor([int(columns[r][self.aligned[self.indices[r]][1][k] + 1])
                                for r, k, _, _ in chunk], device=device)
        values = self.recorded[(self.site, layer)]
        payload = [values[self.indices[r]][self.aligned[self.indices[r]][0][k] + 1]
                   for r, k, _, _ in chunk]
        if self.site == "pattern":  # source keys onto this batch's key columns
            width = self.batch.batch.input_ids.shape[1]
            payload = [keys_to_columns(p, columns[r], width) for p, (r, *_) in
                       zip(payload, chunk, strict=True)]
        payload = torch.stack(payload).to(device)
        hidden = self.batch.hidden(start)[rows].clone()
        copy = torch.arange(len(chunk), device=device)
        masks = self._masks(chunk, payload)

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
