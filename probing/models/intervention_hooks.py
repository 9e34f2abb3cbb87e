"""Apply :class:`~probing.interventions.Intervention` descriptions inside batched forwards.

:func:`prepare_interventions` validates every intervention against the model and every
stimulus (positions, sources) before any forward pass, runs the source texts of
``patch``/``resample`` once to cache their activations, and returns an
:class:`InterventionRun`. Scoring and extraction then wrap their usual batched loop in
``run.hooks()`` and each forward in ``run.on_batch(text_indices, batch)``: the hook of
each site edits, row by row, the columns of the real tokens the batch's own
``columns`` give, so padding side, batch size and order never change the numbers.
"""

from __future__ import annotations

import contextlib
import zlib

import numpy as np
import torch

from probing._core.errors import ProbingError
from probing.interventions import (
    HEAD_SITES,
    Intervention,
    check_against_model,
    resolve_positions,
)
from probing.models.batching import pad_sequences, plan_batches
from probing.models.causal_lm import accepts_position_ids
from probing.models.sites import edit_points, model_shape
from probing.models.token_alignment import encode_texts

__all__ = ["InterventionRun", "keys_to_columns", "per_text", "prepare_interventions",
           "real_tokens", "record_points"]


def per_text(interventions, n_texts, ids=None):
    """One tuple of interventions per text.

    ``interventions`` is one :class:`Intervention`, a sequence of them (applied to every
    text), a sequence with one entry (None or a sequence) per text, or, when ``ids`` is
    given, a mapping ``id -> sequence`` (texts not in it get none).
    """
    if isinstance(interventions, Intervention):
        return [(interventions,)] * n_texts
    if isinstance(interventions, dict):
        if ids is None:
            raise ProbingError("interventions: a mapping needs stimulus ids; pass a list")
        unknown = [k for k in interventions if k not in set(ids)]
        if unknown:
            raise ProbingError(f"interventions: unknown stimulus_id(s) {unknown[:5]}")
        return [_as_tuple(interventions.get(i)) for i in ids]
    items = list(interventions)
    if all(isinstance(x, Intervention) for x in items):
        return [tuple(items)] * n_texts
    if len(items) != n_texts:
        raise ProbingError(f"interventions: one entry per text needs {n_texts} entries; "
                           f"got {len(items)}")
    return [_as_tuple(x) for x in items]


def _as_tuple(entry):
    entry = () if entry is None else (entry,) if isinstance(entry, Intervention) else tuple(entry)
    bad = [type(x).__name__ for x in entry if not isinstance(x, Intervention)]
    if bad:
        raise ProbingError(f"interventions: entries must be Intervention objects; got {bad[0]}")
    return entry


def _source_of(iv, text):
    if iv.op == "patch":
        return iv.source
    if iv.op == "resample":  # drawn from the text, not its order, so order cannot matter
        return iv.sources[zlib.crc32(f"{iv.random_state}\x00{text}".encode()) % len(iv.sources)]
    return None


class _Compiled:
    """One intervention in tensors: selected columns, basis, values."""

    def __init__(self, iv, shape, device, dtype):
        self.iv = iv
        width = shape.width(iv.site)
        select = None
        if iv.site == "pattern":  # rows of heads over key positions: select heads
            select = None if iv.heads is None else list(iv.heads)
        elif iv.site in HEAD_SITES and (iv.heads is not None or (iv.units and not iv.is_subspace)):
            heads = iv.heads if iv.heads is not None else range(shape.heads_of(iv.site))
            units = iv.units if iv.units and not iv.is_subspace else range(shape.head_dim)
            select = [h * shape.head_dim + u for h in heads for u in units]
        elif iv.units is not None and not iv.is_subspace:
            select = list(iv.units)
        self.select = None if select is None else torch.as_tensor(select, device=device)
        self.basis = None
        if iv.is_subspace:  # orthonormal columns spanning the given rows
            q, _ = np.linalg.qr(np.asarray(iv.units, dtype=np.float64).T)
            self.basis = torch.as_tensor(q, device=device, dtype=dtype)
        self.values = None
        if iv.values is not None:
            values = torch.as_tensor(iv.values, device=device, dtype=dtype)
            full = len(iv.values) == width and (select is None or len(select) != width)
            self.values = values[self.select] if full and self.select is not None else values

    def apply(self, x, payload):
        """New values of ``x`` (m, width); ``payload`` (m, width) for patch/resample.

        ``pattern``: ``x`` and ``payload`` are (m, n_heads, n_keys) rows.
        """
        if self.iv.site == "pattern":
            new = torch.zeros_like(x) if payload is None else payload.to(x.dtype)
            if self.select is None:
                return new
            out = x.clone()
            out[:, self.select] = new[:, self.select]
            return out
        sub = x if self.select is None else x[:, self.select]
        if payload is not None and self.select is not None:
            payload = payload[:, self.select]
        op, q = self.iv.op, self.basis
        if op == "add":
            new = sub + self.iv.scale * self.values
        elif q is None:
            new = {"zero": lambda: torch.zeros_like(sub),
                   "mean": lambda: self.values.expand_as(sub)}.get(op, lambda: payload)()
        else:
            proj = (sub @ q) @ q.T
            target = None if op in ("zero", "project_out") else (
                self.values[None] if op == "mean" else payload)
            new = sub - proj + (0 if target is None else (target @ q) @ q.T)
        if self.select is None:
            return new
        out = x.clone()
        out[:, self.select] = new.to(out.dtype)
        return out


class InterventionRun:
    """Interventions resolved for a list of texts, ready to apply batch by batch."""

    def __init__(self, lm, compiled, plans):
        self.lm = lm
        self.compiled = compiled  # list of _Compiled
        self.plans = plans  # per text: list of (compiled index, positions, payload or None)
        self.pattern_rows = {i for i, c in enumerate(compiled) if c.iv.site == "pattern"}
        self._current = {}

    @contextlib.contextmanager
    def hooks(self):
        """Register one editing hook per site used; removed on every exit path."""
        points = {(c.iv.site, c.iv.layer) for c in self.compiled}
        edits = {point: self._editor(point) for point in points}
        with edit_points(self.lm.model.base_model, edits):
            yield self

    def _editor(self, point):
        def edit(tensor):
            groups = self._current.get(point)
            if not groups:
                return tensor
            out = tensor.clone()
            for c, rows, cols, payload in groups:
                out[rows, cols] = c.apply(out[rows, cols], payload).to(out.dtype)
            return out
        return edit

    @contextlib.contextmanager
    def on_batch(self, text_indices, batch):
        """Edits for one batch: row ``r`` is text ``text_indices[r]``; framed position
        ``p`` (0 = the start token) sits at ``batch.columns[r][p]`` when present."""
        grouped = {}
        for row, text in enumerate(text_indices):
            columns = batch.columns[row]
            for index, positions, payload in self.plans[text]:
                keep = [k for k, p in enumerate(positions) if p < len(columns)]
                if not keep:  # e.g. the last token, which causal scoring never feeds in
                    continue
                entry = grouped.setdefault(index, ([], [], []))
                entry[0].extend([row] * len(keep))
                entry[1].extend(int(columns[positions[k]]) for k in keep)
                if payload is not None and index in self.pattern_rows:
                    payload = keys_to_columns(payload, columns, batch.input_ids.shape[1])
                entry[2].append(None if payload is None else payload[keep])
        current = {}
        device = self.lm.device
        for index, (rows, cols, payloads) in sorted(grouped.items()):
            c = self.compiled[index]
            payload = None if payloads[0] is None else torch.cat(payloads).to(device)
            current.setdefault((c.iv.site, c.iv.layer), []).append(
                (c, torch.as_tensor(rows, device=device), torch.as_tensor(cols, device=device),
                 payload))
        self._current = current
        try:
            yield
        finally:
            self._current = {}


def keys_to_columns(payload, columns, width):
    """Pattern rows ``(m, n_heads, n_framed_keys)`` over a batch's key columns: key ``j``
    goes to column ``columns[j]``; keys past the fed-in sequence (the last token, which
    causal scoring never feeds in) carry no probability from an earlier query."""
    n = min(payload.shape[-1], len(columns))
    out = payload.new_zeros((*payload.shape[:-1], width))
    out[..., torch.as_tensor(np.asarray(columns[:n]))] = payload[..., :n]
    return out


def real_tokens(values, columns, site):
    """One batch row's site values at its real tokens (padding dropped), on the CPU:
    ``(n_tokens, width)``, or ``(n_tokens, n_heads, n_tokens)`` for ``pattern``."""
    cols = torch.as_tensor(np.asarray(columns), device=values.device)
    values = values[cols]
    if site == "pattern":  # (queries, heads, keys): the keys are columns too
        values = values[..., cols]
    return values.detach().cpu()


def _frame(lm, token_ids):
    end = [] if lm.end is None else [lm.end.token_id]
    return [lm.start_token_id, *token_ids, *end]


def record_points(lm, encoded, points, *, batch_size=32):
    """Plain-run activations of texts at sites: ``{(site, layer): [(n_framed, width), ...]}``.

    ``pattern`` gives ``(n_framed, n_heads, n_framed)`` per text (queries, heads, keys).

    Texts are framed as for extraction (start token, tokens, a masked LM's end token)
    and batched by length; padding is dropped.
    """
    out = {point: [None] * len(encoded) for point in points}
    sequences = [_frame(lm, e.token_ids) for e in encoded]
    use_positions = accepts_position_ids(lm.model.base_model)
    current = {}

    def recorder(point):
        def edit(tensor):
            current[point] = tensor
            return tensor
        return edit

    with torch.inference_mode(), edit_points(lm.model.base_model,
                                             {p: recorder(p) for p in points}):
        for indices in plan_batches([len(s) for s in sequences], batch_size=batch_size):
            batch = pad_sequences([sequences[i] for i in indices], pad_id=lm.start_token_id)
            batch.to(lm.device)
            inputs = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
            if use_positions:
                inputs["position_ids"] = batch.position_ids
            lm.model.base_model(**inputs)
            for row, i in enumerate(indices):
                for point in points:
                    out[point][i] = real_tokens(current[point][row], batch.columns[row], point[0])
    return out


def _resolve(lm, iv, encoded, text, regions, label):
    """Positions as indices into the framed sequence (start token = 0)."""
    if iv.positions == "sequence":
        return list(range(len(_frame(lm, encoded.token_ids))))
    found = resolve_positions(iv.positions, encoded.spans, text=text, regions=regions,
                              label=label)
    return [p + 1 for p in found]


def prepare_interventions(lm, texts, interventions, *, encoded=None, regions=None, labels=None,
                          batch_size=32):
    """Validate interventions for texts and cache what their sources give.

    Parameters
    ----------
    lm : LanguageModel
    texts : list of str
        ``n_texts`` texts.
    interventions : list of tuple of Intervention
        Per text (see :func:`per_text`).
    encoded : list of Encoded, optional
        The texts' tokens, when the caller already has them.
    regions : list of (mapping str -> (int, int) or None), optional
        Per text, the char span of each named region (for ``region:<name>`` positions).
        A ``patch`` source that is one of ``texts`` uses that text's regions.
    labels : list of str, optional
        Names of the texts in errors (stimulus ids).
    batch_size : int
        For the source run.

    Returns
    -------
    InterventionRun
    """
    shape = model_shape(lm)
    encoded = encoded if encoded is not None else encode_texts(lm.tokenizer, list(texts))
    labels = labels or [f"text {i}" for i in range(len(texts))]
    regions = regions or [None] * len(texts)
    by_text = {t: r for t, r in zip(texts, regions, strict=True) if r}
    compiled, index_of, needs = [], {}, []
    for ivs in interventions:
        for iv in ivs:
            if id(iv) not in index_of:
                check_against_model(iv, shape)
                index_of[id(iv)] = len(compiled)
                compiled.append(_Compiled(iv, shape, lm.device, lm.dtype))
    resolved = []
    for text, enc, ivs, region, label in zip(texts, encoded, interventions, regions, labels,
                                             strict=True):
        row = []
        for iv in ivs:
            positions = _resolve(lm, iv, enc, text, region, label)
            source = _source_of(iv, text)
            if source is not None:
                needs.append((source, (iv.site, iv.layer)))
            row.append((index_of[id(iv)], positions, source))
        resolved.append(row)
    sources = sorted({s for s, _ in needs})
    source_encoded = dict(zip(sources, encode_texts(lm.tokenizer, sources) if sources else [],
                              strict=True))
    for source, enc in source_encoded.items():
        if not enc.token_ids:
            raise ProbingError(f"intervention.source {source!r} has no tokens")
    lengths = {label: len(_frame(lm, enc.token_ids)) for label, enc in zip(labels, encoded,
                                                                            strict=True)}
    acts = _source_activations(lm, source_encoded, needs, batch_size, resolved, compiled,
                               by_text, labels, lengths)
    plans = [[(i, np.asarray(p), acts(i, source, p, label)) for i, p, source in row]
             for row, label in zip(resolved, labels, strict=True)]
    return InterventionRun(lm, compiled, plans)


def _source_activations(lm, source_encoded, needs, batch_size, resolved, compiled, by_text,
                        labels, lengths):
    """A function ``(compiled index, source, target positions, label) -> payload``.

    ``lengths``: the framed length of each labelled text (a pattern's keys must match).
    """
    cached_positions = {}
    # validate every source's positions before the source forward pass
    for row, label in zip(resolved, labels, strict=True):
        for i, positions, source in row:
            if source is None:
                continue
            iv = compiled[i].iv
            found = _resolve(lm, iv, source_encoded[source], source, by_text.get(source),
                             f"{label}: source {source!r}")
            if len(found) != len(positions):
                raise ProbingError(
                    f"{label}: intervention.positions {iv.positions!r} picks {len(positions)} "
                    f"token(s) here but {len(found)} in source {source!r}; cannot align")
            if iv.site == "pattern" and (found != list(positions) or lengths[label] != len(
                    _frame(lm, source_encoded[source].token_ids))):
                raise ProbingError(
                    f"{label}: site 'pattern' copies attention rows key by key; source "
                    f"{source!r} must have as many tokens and the same positions")
            cached_positions[i, source] = found
    if not needs:
        return lambda i, source, positions, label: None
    texts = sorted(source_encoded)
    points = sorted({point for _, point in needs})
    recorded = record_points(lm, [source_encoded[t] for t in texts], points,
                             batch_size=batch_size)
    row_of = {t: k for k, t in enumerate(texts)}

    def payload(i, source, positions, label):
        if source is None:
            return None
        iv = compiled[i].iv
        values = recorded[(iv.site, iv.layer)][row_of[source]]
        return values[cached_positions[i, source]]

    return payload
