"""Layerwise representations: the torch side of extraction.

Texts are tokenized once (:func:`~probing.models.encode_texts`), framed like for scoring
(the start token before, ``[SEP]`` after for masked LMs), cut into fixed chunks of
stimuli in table order and, within a chunk, into length-bucketed batches. Only the base
model runs (``model.base_model``: no LM head). Each pooled output is a contiguous token
range of a text, pooled through the attention mask (:mod:`probing.models.pooling`).
Chunks go to a ``sink`` as they finish, so memory does not grow with the stimuli.

Layers: 0 = embeddings, i = output of block i, as in ``output_hidden_states``; note that
for GPT-2 and Llama the last entry of ``hidden_states`` has the final layer norm applied.
"""

from __future__ import annotations

import contextlib
import hashlib

import numpy as np
import torch

from probing._core import layers as parse
from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.models.batching import pad_sequences, plan_batches
from probing.models.causal_lm import accepts_position_ids
from probing.models.hooks import SITES, block_modules, record_sites
from probing.models.intervention_hooks import per_text, prepare_interventions
from probing.models.pooling import check_pooling, pool_ranges, token_ranges
from probing.models.scoring import context_length
from probing.models.sites import model_shape
from probing.models.token_alignment import encode_texts

__all__ = ["compute_activations", "model_identity", "n_layers", "resolve_layers"]


def base_model(lm):
    """The transformer body without the LM head."""
    return lm.model.base_model


def n_layers(lm):
    """Number of transformer blocks."""
    return len(block_modules(base_model(lm))[0])


def resolve_layers(layers, n_blocks, site="resid_post"):
    """Layer numbers from ``"all"``, an int, ``"0,6,-1"`` or a list (negatives count back).

    Examples
    --------
    >>> resolve_layers("0,2,-1", 4), resolve_layers("all", 2, "mlp_out")
    ([0, 2, 4], [1, 2])
    """
    if site not in SITES:
        raise ProbingError(f"unknown site {site!r}; available sites: {', '.join(SITES)}")
    return parse.resolve_layers(layers, n_blocks, lowest=0 if site == "resid_post" else 1,
                                where=f" for site {site!r}")


def model_identity(lm):
    """What identifies the weights for a cache key: the provenance, plus a weights hash
    when the provenance has no file hash or revision (models built from objects)."""
    record = {k: v for k, v in lm.provenance.items() if k != "device"}
    if not record.get("sha256") and not record.get("revision"):
        digest = hashlib.sha256()
        for name, tensor in sorted(lm.model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
        record["weights_sha256"] = digest.hexdigest()
    return record


def _frame(lm, encoded):
    end = [] if lm.end is None else [lm.end.token_id]
    return [[lm.start_token_id, *e.token_ids, *end] for e in encoded]


def _check_context(lm, sequences):
    """A text longer than the position table would index past it (an IndexError deep in
    torch); say which text and what the limit is instead."""
    limit = context_length(lm)
    long = [i for i, s in enumerate(sequences) if limit and len(s) > limit]
    if long:
        raise ProbingError(f"texts {long[:5]} have up to {max(len(sequences[i]) for i in long)} "
                           f"tokens; the model's context window allows {limit}; shorten them")


def _ranges(encoded, segments, text):
    try:
        return token_ranges(encoded.spans, segments, 1)
    except ProbingError as err:
        raise ProbingError(f"text {text!r}: {err}") from None


def _forward(lm, base, batch, site, layers, use_positions):
    inputs = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
    if use_positions:
        inputs["position_ids"] = batch.position_ids
    if lm.kind == "causal":
        inputs["use_cache"] = False
    if site == "resid_post":
        hidden = base(**inputs, output_hidden_states=True).hidden_states
        return {layer: hidden[layer] for layer in layers}
    with record_sites(base, site, layers) as recorded:
        base(**inputs)
        return dict(recorded)


@renamed(dtype="store_dtype")
def compute_activations(lm, texts, segments, *, layers="all", site="resid_post", pooling="last",
                        store_dtype="float32", batch_size=32, max_tokens_per_batch=None,
                        padding_side="right", chunk_size=512, sink=None, interventions=None,
                        regions=None):
    """Pooled activations of texts, chunk by chunk.

    Parameters
    ----------
    lm : LanguageModel
    texts : sequence of str
        ``n_texts`` texts.
    segments : list of list of ((int, int) or None)
        Per text, the char segments to pool over (one output row each); None is the
        whole text.
    layers : "all", int, str or list of int
    site : {"resid_post", "mlp_out", "attn_out", "mlp_post", "q", "k", "v"}
        :data:`~probing._core.values.SITES`; ``n_units`` is the site's width (``mlp_post``:
        the MLP's neurons; ``k``/``v`` under grouped-query attention: key/value heads x
        head_dim).
    pooling : {"first", "last", "mean"}
        Over each segment's tokens (``region:<name>`` pools by mean; the caller turns
        the region into segments).
    store_dtype : {"float32", "float16", "float64"}
        Storage dtype.
    batch_size, max_tokens_per_batch : int
    padding_side : {"right", "left"}
    chunk_size : int
        Texts per chunk (chunks follow table order, so they do not depend on batching).
    sink : object with ``has(i)`` and ``write(i, values)``, optional
        Receives each chunk; chunks it already has are skipped (resume). Without one,
        the chunks are concatenated and returned.
    interventions : Intervention, sequence, or one sequence per text, optional
        Extract under interventions (:mod:`probing.interventions`), validated before any
        forward pass; a site recorded at the layer it is edited shows the edit.
    regions : list of (mapping str -> (int, int) or None), optional
        Per text, the char span of each named region (``region:<name>`` positions).

    Returns
    -------
    numpy.ndarray or None
        ``(n_outputs, n_layers, n_units)`` when ``sink`` is None, else None.
    """
    method, _ = check_pooling(pooling)
    base = base_model(lm)
    layers = resolve_layers(layers, n_layers(lm), site)
    np_dtype = np.dtype(store_dtype)
    encoded = encode_texts(lm.tokenizer, list(texts))
    empty = [i for i, e in enumerate(encoded) if not e.token_ids]
    if empty:
        raise ProbingError(f"texts {empty[:5]} have no tokens")
    sequences = _frame(lm, encoded)
    _check_context(lm, sequences)
    ranges = [_ranges(e, segs, text) for e, segs, text in zip(encoded, segments, texts, strict=True)]
    use_positions = accepts_position_ids(base)
    side = padding_side if use_positions else "right"
    run = None if interventions is None else prepare_interventions(
        lm, list(texts), per_text(interventions, len(encoded)), encoded=encoded, regions=regions,
        batch_size=batch_size)
    kept = []
    with torch.inference_mode(), run.hooks() if run else contextlib.nullcontext():
        for c, first in enumerate(range(0, len(sequences), chunk_size)):
            if sink is not None and sink.has(c):
                continue
            ids = np.arange(first, min(first + chunk_size, len(sequences)))
            values = _chunk(lm, base, sequences, ranges, ids, site, layers, method, side,
                            use_positions, batch_size, max_tokens_per_batch, np_dtype,
                            run.on_batch if run else None)
            if sink is None:
                kept.append(values)
            else:
                sink.write(c, values)
    return np.concatenate(kept) if sink is None else None


def _chunk(lm, base, sequences, ranges, ids, site, layers, method, side, use_positions,
           batch_size, max_tokens_per_batch, np_dtype, on_batch=None):
    counts = np.asarray([len(ranges[i]) for i in ids])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = None
    batches = plan_batches([len(sequences[i]) for i in ids], batch_size=batch_size,
                           max_tokens_per_batch=max_tokens_per_batch)
    for local in batches:
        if not counts[local].sum():  # texts with nothing to pool (no words)
            continue
        batch = pad_sequences([sequences[ids[j]] for j in local], pad_id=lm.start_token_id,
                              padding_side=side).to(lm.device)
        with on_batch(ids[local], batch) if on_batch else contextlib.nullcontext():
            hidden = _forward(lm, base, batch, site, layers, use_positions)
        rows = [r for r, j in enumerate(local) for _ in ranges[ids[j]]]
        flat = [span for j in local for span in ranges[ids[j]]]
        stacked = torch.stack([hidden[layer] for layer in layers])
        pooled = pool_ranges(stacked, batch.attention_mask, rows, flat, batch.columns, method)
        pooled = pooled.to("cpu", torch.float64).numpy().astype(np_dtype)
        if out is None:
            out = np.empty((int(counts.sum()), len(layers), pooled.shape[-1]), dtype=np_dtype)
        at = 0
        for j in local:
            out[starts[j] : starts[j] + counts[j]] = pooled[at : at + counts[j]]
            at += counts[j]
    if out is None:  # a chunk of texts without words
        out = np.empty((0, len(layers), model_shape(lm).width(site)), dtype=np_dtype)
    return out
