"""Causal scoring that runs each shared prefix once and reuses its key/value cache.

Minimal pairs and factorial conditions share long beginnings. Within a group of
stimuli (a pair, an item) the inputs ``[start, t_1, .., t_{n-1}]`` share a longest
common prefix of ``P`` tokens; the logits at those ``P`` positions are the same for
every member, so they are computed once.

1. *Prefixes*: groups are sorted by ``P`` and their prefixes run in length-bucketed,
   left-padded batches; each batch's keys and values are kept.
2. *Continuations*: each member's remaining inputs, sorted by length and batched
   across groups, run after a cache assembled from their groups' prefixes (left-padded
   to a common width and masked), with positions starting at ``P``.

Both passes are bucketed independently, so padding stays small; a member whose whole
input is the prefix needs no second pass. Groups are processed in chunks whose cached
prefixes hold at most :data:`CACHE_TOKENS` token slots, which bounds memory. The result
equals :func:`~probing.models.causal_lm.score_causal` to float tolerance.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import DynamicCache

from probing.models.batching import flat_indices, pad_sequences, plan_batches, split_by_lengths
from probing.models.causal_lm import causal_inputs, forward_logits, gather_scores

__all__ = ["CACHE_TOKENS", "common_prefix_length", "plan_chunks", "score_causal_shared"]

CACHE_TOKENS = 8192
_MAX_ROWS_FACTOR = 16


def common_prefix_length(sequences):
    """Length of the longest prefix shared by all sequences.

    Examples
    --------
    >>> common_prefix_length([[0, 5, 6, 7], [0, 5, 6, 9, 9], [0, 5, 6]])
    3
    """
    shortest = min(len(s) for s in sequences)
    for i in range(shortest):
        if any(s[i] != sequences[0][i] for s in sequences[1:]):
            return i
    return shortest


def plan_chunks(prefix_lengths, *, cache_tokens=CACHE_TOKENS):
    """Group indices, longest prefix first, cut so that ``n_groups * widest <= cache_tokens``.

    Examples
    --------
    >>> plan_chunks([2, 9, 4, 4], cache_tokens=12)
    [[1], [2, 3, 0]]
    """
    order = np.argsort(-np.asarray(prefix_lengths), kind="stable")
    chunks, current = [], []
    for g in order:
        widest = prefix_lengths[current[0]] if current else prefix_lengths[g]
        if current and (len(current) + 1) * widest > cache_tokens:
            chunks.append(current)
            current = []
        current.append(int(g))
    return chunks + ([current] if current else [])


class _PrefixCache:
    """Keys/values of a chunk's prefixes, left-padded to one width, one row per group."""

    def __init__(self, parts, masks):
        width = max(mask.shape[1] for mask in masks)
        self.width = width
        self.mask = torch.cat([_pad_left(m, width) for m in masks])
        self.layers = [
            tuple(torch.cat([_pad_left(part[layer][i], width) for part in parts]) for i in (0, 1))
            for layer in range(len(parts[0]))
        ]

    def select(self, rows, width, config):
        """A ``DynamicCache`` with the given groups' rows, cut to the last ``width`` slots."""
        data = [
            (keys[rows, :, self.width - width :], values[rows, :, self.width - width :])
            for keys, values in self.layers
        ]
        return DynamicCache(ddp_cache_data=data, config=config), self.mask[
            rows, self.width - width :
        ]


def _pad_left(tensor, width):
    """Zero-pad the sequence axis (2 for keys/values, 1 for masks) on the left."""
    axis = 2 if tensor.dim() == 4 else 1
    missing = width - tensor.shape[axis]
    if missing == 0:
        return tensor
    shape = list(tensor.shape)
    shape[axis] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=axis)


def _run_prefixes(lm, groups, prefix, inputs, targets, budget, boundary):
    """Prefix pass for one chunk: member scores inside the prefix, and the cache."""
    scores, parts, masks, row_of = {}, [], [], {}
    for batch_groups in plan_batches(prefix, **budget):
        batch = pad_sequences(
            [inputs[groups[g][0]][: prefix[g]] for g in batch_groups],
            pad_id=lm.start_token_id,
            padding_side="left",
        ).to(lm.device)
        logits, outputs = forward_logits(lm.model, batch, use_cache=True)
        members = [(r, m) for r, g in enumerate(batch_groups) for m in groups[g]]
        rows = torch.as_tensor(
            np.concatenate([np.full(len(batch.columns[r]), r) for r, _ in members])
        )
        cols = torch.as_tensor(np.concatenate([batch.columns[r] for r, _ in members]))
        flat = [targets[m][: len(batch.columns[r])] for r, m in members]
        values = gather_scores(
            logits,
            rows.to(lm.device),
            cols.to(lm.device),
            torch.as_tensor(np.concatenate(flat), device=lm.device),
            boundary,
        )
        scores.update(
            zip(
                [m for _, m in members],
                split_by_lengths(values, [len(t) for t in flat]),
                strict=True,
            )
        )
        parts.append([(k, v) for k, v, *_ in outputs.past_key_values])
        masks.append(batch.attention_mask)
        row_of.update({g: len(row_of) + r for r, g in enumerate(batch_groups)})
    return scores, _PrefixCache(parts, masks), row_of


def _run_continuations(lm, todo, cache, inputs, targets, budget, boundary):
    """Continuation pass: ``todo`` is a list of (member, cache row, prefix length)."""
    scores = {}
    for indices in plan_batches([len(inputs[m]) - p for m, _, p in todo], **budget):
        chosen = [todo[i] for i in indices]
        width = max(p for _, _, p in chosen)
        past, prefix_mask = cache.select(
            torch.as_tensor([r for _, r, _ in chosen], device=lm.device), width, lm.model.config
        )
        batch = pad_sequences(
            [inputs[m][p:] for m, _, p in chosen],
            pad_id=lm.start_token_id,
            position_offsets=[p for _, _, p in chosen],
        ).to(lm.device)
        mask = torch.cat([prefix_mask, batch.attention_mask], dim=1)
        logits, _ = forward_logits(
            lm.model, batch, past_key_values=past, attention_mask=mask, use_cache=True
        )
        rest = [targets[m][p:] for m, _, p in chosen]
        values = gather_scores(logits, *flat_indices(batch, rest, lm.device), boundary)
        scores.update(
            zip(
                [m for m, _, _ in chosen],
                split_by_lengths(values, [len(t) for t in rest]),
                strict=True,
            )
        )
    return scores


def _pass_budget(lengths, batch_size, max_tokens_per_batch):
    """Pack each pass by tokens: as many as a plain batch of ``batch_size`` stimuli.

    Prefixes and continuations are short, so batches of ``batch_size`` rows would run
    many small, inefficient forward passes.
    """
    tokens = batch_size * max(1, int(np.ceil(np.mean(lengths))))
    if max_tokens_per_batch is not None:
        tokens = min(tokens, max_tokens_per_batch)
    return {"batch_size": _MAX_ROWS_FACTOR * batch_size, "max_tokens_per_batch": tokens}


def score_causal_shared(lm, encoded, groups, *, boundary, limit=None, batch_size=32,
                        max_tokens_per_batch=None):
    """Like :func:`~probing.models.causal_lm.score_causal`, running shared prefixes once.

    Parameters
    ----------
    lm : LanguageModel
        ``kind == "causal"``; the model must accept ``position_ids`` and a cache.
    encoded : list of Encoded
    groups : list of list of int
        Indices into ``encoded``; each index in exactly one group.
    boundary : numpy.ndarray
        End-of-word token ids, as in :func:`~probing.models.causal_lm.score_causal`.
    limit : int, optional
        The model's context length.
    batch_size : int, default 32
        Each pass packs about as many tokens as ``batch_size`` average stimuli (and
        at most ``16 * batch_size`` rows), so short prefixes and continuations fill
        forward passes as plain batches would.
    max_tokens_per_batch : int, optional

    Returns
    -------
    list of numpy.ndarray
        Per text, shape ``(n_inputs, 2)``, as :func:`~probing.models.causal_lm.score_causal`.
    """
    inputs, targets = causal_inputs(lm, encoded, limit)
    boundary = torch.as_tensor(boundary, dtype=torch.long, device=lm.device)
    prefix = [common_prefix_length([inputs[m] for m in group]) for group in groups]
    budget = _pass_budget([len(s) for s in inputs], batch_size, max_tokens_per_batch)
    results = [None] * len(encoded)
    with torch.inference_mode():
        for chunk in plan_chunks(prefix):
            chunk_groups = [groups[g] for g in chunk]
            chunk_prefix = [prefix[g] for g in chunk]
            scores, cache, row_of = _run_prefixes(
                lm, chunk_groups, chunk_prefix, inputs, targets, budget, boundary
            )
            todo = [
                (m, row_of[g], chunk_prefix[g])
                for g, group in enumerate(chunk_groups)
                for m in group
                if len(inputs[m]) > chunk_prefix[g]
            ]
            rest = (_run_continuations(lm, todo, cache, inputs, targets, budget, boundary)
                    if todo else {})
            for m, values in scores.items():
                results[m] = np.concatenate([values, rest[m]]) if m in rest else values
    return results
