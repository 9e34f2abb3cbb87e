"""The forwards every patching of minimal pairs shares: one run per member.

``patch_pairs``, ``patch_set`` and ``path_patch`` patch target members from their source
members. Each member is fed once (its prediction inputs: the start token and every token
but the last, so every input position predicts a real token):

- a source's forward records its activations at the patched sites *and* gives its
  unpatched read-out (:func:`prepare_pairs`);
- a target's forward gives its unpatched read-out and caches what the patched copies
  restart from: each block's input and the keyword arguments the model gave it
  (:class:`RunBatch`).

This is the internal API of those modules (public names, no leading underscore, so that
no module imports another's private helpers); users call the functions built on it.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import torch

from probing._core.errors import ProbingError
from probing.interventions import HEAD_SITES, SITES, Intervention, check_against_model
from probing.models.batching import pad_sequences, plan_batches
from probing.models.causal_lm import accepts_position_ids, logsumexp_, prediction_inputs
from probing.models.intervention_hooks import real_tokens
from probing.models.patch_align import align_all
from probing.models.sites import eager_attention, edit_points, find_family, model_shape

__all__ = ["PairRuns", "RunBatch", "attention_for", "check_options", "plain_rows", "prepare_pairs",
           "read_copies"]


@dataclasses.dataclass(frozen=True)
class PairRuns:
    """What every patching run of a set of pairs shares.

    ``aligned``: per pair, ``(source_positions, target_positions, rule)``; ``recorded``:
    the sources' activations at each ``(site, layer)``, per pair ``(n_inputs, ...)``;
    ``t_inputs``: the targets' prediction inputs; ``reads``: per pair, how a ``source``
    and a ``target`` run is read; ``source_rows``: the sources' unpatched read-outs
    (:func:`plain_rows`), from the same forward that recorded them.
    """

    ids: list
    sources: list
    targets: list
    aligned: list
    recorded: dict
    t_inputs: list
    reads: list
    source_rows: list


def check_options(lm, site, layers, per_head):
    """Check a patching call's model, site, layers and ``per_head``; return
    ``(ModelShape, layers as a list of int)``."""
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


def attention_for(lm, site):
    """The attention a run of ``site`` uses: eager for ``pattern`` (whose hooks read the
    probabilities), the model's own otherwise. It wraps the plain runs too, whose cached
    masks the patched copies reuse."""
    return eager_attention(lm.model.base_model) if site == "pattern" else contextlib.nullcontext()


def _check_pattern_pairs(ids, sources, targets, aligned):
    """A pattern row is copied key by key: members of equal length, aligned in place."""
    for pid, s, t, (s_pos, t_pos, _) in zip(ids, sources, targets, aligned, strict=True):
        if len(s.token_ids) != len(t.token_ids) or list(s_pos) != list(t_pos):
            raise ProbingError(f"pair {pid!r}: site 'pattern' copies attention rows key by key; "
                               f"the members need as many tokens, aligned position by position")


def prepare_pairs(lm, pairs, points, batch_size, readout="sentence", check=None):
    """Check and encode the pairs, align their members, and run each source once.

    ``points``: the ``(site, layer)`` pairs to record on the sources. ``check(aligned)``
    runs after the alignment and before any forward pass.
    """
    sources, targets, aligned, reads = align_all(lm, pairs, readout)
    ids = pairs["pair_id"].tolist()
    if any(site == "pattern" for site, _ in points):
        _check_pattern_pairs(ids, sources, targets, aligned)
    if check is not None:
        check(aligned)
    s_inputs, _ = prediction_inputs(lm, sources)
    t_inputs, _ = prediction_inputs(lm, targets)
    runs = PairRuns(ids, sources, targets, aligned, {p: [None] * len(ids) for p in points},
                    t_inputs, reads, [])
    use_positions = accepts_position_ids(lm.model)
    with torch.inference_mode():
        for indices in plan_batches([len(x) for x in s_inputs], batch_size=batch_size):
            current = {}
            recorders = {p: _recorder(current, p) for p in points}
            with edit_points(lm.model.base_model, recorders, prepend=False):
                batch = RunBatch(lm, [s_inputs[i] for i in indices], use_positions, keep=False)
            for row, i in enumerate(indices):
                for point in points:
                    runs.recorded[point][i] = real_tokens(current[point][row],
                                                          batch.batch.columns[row], point[0])
            runs.source_rows.extend(plain_rows(lm, batch, "source", indices, runs))
    return runs


def _recorder(current, point):
    def edit(tensor):
        current[point] = tensor
        return tensor
    return edit


def _select_rows(value, rows, n):
    """Index the batch axis of every tensor (of 2+ dims) whose first dim is ``n``."""
    if isinstance(value, torch.Tensor):
        return value[rows] if value.dim() >= 2 and value.shape[0] == n else value
    if isinstance(value, tuple | list):
        return type(value)(_select_rows(v, rows, n) for v in value)
    if isinstance(value, dict):
        return {k: _select_rows(v, rows, n) for k, v in value.items()}
    return value


class RunBatch:
    """One batch of members run once: logits and, with ``keep``, each block's input and
    keyword arguments (attention mask, position ids, rotary embeddings)."""

    def __init__(self, lm, inputs, use_positions, keep=True):
        self.batch = pad_sequences(inputs, pad_id=lm.start_token_id).to(lm.device)
        blocks, self.norm, _ = find_family(lm.model.base_model)
        self.blocks = blocks
        self.calls, handles = [], []
        if keep:
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


def read_copies(logits, columns, plans, rows, device):
    """Per copy ``c`` (batch row ``rows[c]``, read by ``plans[rows[c]]``): the summed
    log-prob of the source's and of the target's tokens (NaN where not readable).

    ``logits`` is overwritten (an in-place logsumexp); pass a copy to keep it.
    """
    picked = [np.asarray(columns[r])[plans[r][0]] for r in rows]
    flat_rows = torch.cat([torch.full((len(p),), c) for c, p in enumerate(picked)]).to(device)
    flat_cols = torch.as_tensor(np.concatenate(picked), device=device)
    chosen = []
    for which in (1, 2):
        ids = [plans[r][which] if plans[r][which] is not None else np.zeros(len(p), int)
               for r, p in zip(rows, picked, strict=True)]
        flat_ids = torch.as_tensor(np.concatenate(ids), dtype=torch.long, device=device)
        chosen.append(logits[flat_rows, flat_cols, flat_ids].to(torch.float64))
    lse = logsumexp_(logits)[flat_rows, flat_cols].to(torch.float64)
    out = []
    for which, values in zip((1, 2), chosen, strict=True):
        sums = torch.zeros(len(rows), dtype=torch.float64, device=device).index_add_(
            0, flat_rows, values - lse).cpu().numpy()
        sums[[plans[r][which] is None for r in rows]] = np.nan
        out.append(sums)
    return out


def plain_rows(lm, batch, run, indices, runs):
    """Table rows of the unpatched ``run`` (``source`` or ``target``) of a batch of pairs,
    read from a copy of its logits (a target batch's patched copies reuse them)."""
    reads = read_copies(batch.logits.clone(), batch.batch.columns,
                        [runs.reads[i][run] for i in indices], list(range(len(indices))),
                        lm.device)
    rows = []
    for k, read_s, read_t in zip(indices, *reads, strict=True):
        rows += [(runs.ids[k], run, -1, "", -1, -1, -1, runs.aligned[k][2], member, value)
                 for member, value in (("source", read_s), ("target", read_t))]
    return rows
