"""Exact token log-probabilities from a causal LM, batched.

For a text with tokens ``t_1..t_n`` the model reads ``[start, t_1, .., t_n]`` and the
log-probability of ``t_i`` is read at input position ``i - 1``: ``logit[t_i] -
logsumexp(logits)``. The same positions give the end-of-word mass
(:mod:`probing.models.boundary`): at input position ``i`` (after ``t_i``) the log of the
total probability of the next tokens that start a new word or end the text. The last
token is an input only for that mass; when the text fills the context window it is
left out and the text's final end-of-word mass is NaN. The log-softmax over the
vocabulary is never materialised: the log-normaliser is computed in place in the
logits tensor and only the needed positions are gathered.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

import numpy as np
import torch
from tqdm.auto import tqdm

from probing._core.deprecation import renamed
from probing.models.batching import flat_indices, pad_sequences, plan_batches, split_by_lengths
from probing.models.logit_lens import check_lens, lens_logits, n_blocks_of, record_residuals

#: The fused end-of-word sums (:func:`gather_scores`) exponentiate ``logit - max`` once;
#: they are exact when the logits span less than this, so that no term underflows
#: (float32 keeps full precision down to e^-87). Wider or non-finite logits, and half
#: precision, take the two-pass path.
_FUSED_RANGE = 80.0
_FUSED_DTYPES = (torch.float32, torch.float64)
#: Columns per block of :func:`_block_sums` (float32 error grows with the block).
_BLOCK = 256

__all__ = [
    "accepts_position_ids",
    "forward_logits",
    "gather_logprobs",
    "gather_scores",
    "logsumexp_",
    "score_causal",
]


@functools.cache
def _forward_parameters(model_class):
    return frozenset(inspect.signature(model_class.forward).parameters)


def accepts_position_ids(model):
    """Whether ``model.forward`` takes ``position_ids`` (ALiBi models such as Bloom do not)."""
    return "position_ids" in _forward_parameters(type(model))


@renamed(positions="pass_position_ids")
def forward_logits(model, batch, *, pass_position_ids=True, **kwargs):
    """Logits of one padded :class:`~probing.models.batching.Batch`.

    Parameters
    ----------
    model : transformers.PreTrainedModel
    batch : Batch
    pass_position_ids : bool, default True
        Pass the batch's ``position_ids`` (required for left padding).
    **kwargs
        Passed to the model (``past_key_values``, ``use_cache``, a wider ``attention_mask``).

    Returns
    -------
    logits : torch.Tensor
        Shape ``(n_rows, width, vocab_size)``.
    outputs : transformers.modeling_outputs.ModelOutput
    """
    inputs = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
    if pass_position_ids:
        inputs["position_ids"] = batch.position_ids
    inputs.update(kwargs)
    outputs = model(**inputs)
    return outputs.logits, outputs


def logsumexp_(logits):
    """``logsumexp`` over the last axis, computed in place (``logits`` is overwritten).

    Scoring owns its logits and reads them once, so exponentiating in place saves the
    full-size temporary that ``torch.logsumexp`` allocates (about half its time on CPU).

    Examples
    --------
    >>> x = torch.tensor([[0.0, 0.0], [1.0, -1.0]], dtype=torch.float64)
    >>> expected = torch.logsumexp(x, -1)
    >>> bool(torch.allclose(logsumexp_(x), expected))
    True
    """
    maxima = logits.amax(dim=-1, keepdim=True)
    maxima = torch.where(torch.isfinite(maxima), maxima, torch.zeros_like(maxima))
    return logits.sub_(maxima).exp_().sum(dim=-1).log_().add_(maxima.squeeze(-1))


def gather_logprobs(logits, rows, columns, targets):
    """``log p(target)`` at chosen (row, column) positions; overwrites ``logits``.

    Parameters
    ----------
    logits : torch.Tensor
        Shape ``(n_rows, width, vocab_size)``; used as scratch space.
    rows, columns, targets : torch.Tensor
        Shape ``(n_positions,)``, integer.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_positions,)``, float64.

    Examples
    --------
    >>> logits = torch.log(torch.tensor([[[0.25, 0.75], [0.5, 0.5]]]))
    >>> idx = torch.tensor([0, 0])
    >>> np.round(np.exp(gather_logprobs(logits, idx, torch.tensor([0, 1]), torch.tensor([1, 0]))), 6)
    array([0.75, 0.5 ])
    """
    chosen = logits[rows, columns, targets]
    values = chosen - logsumexp_(logits)[rows, columns]
    return values.to(dtype=torch.float64, device="cpu").numpy()


def gather_scores(logits, rows, columns, targets, boundary):
    """``log p(target)`` and the end-of-word log-mass at chosen positions; overwrites ``logits``.

    Parameters
    ----------
    logits : torch.Tensor
        Shape ``(n_rows, width, vocab_size)``; used as scratch space.
    rows, columns, targets : torch.Tensor
        Shape ``(n_positions,)``, integer.
    boundary : torch.Tensor
        Ids of the tokens that start a new word or end the text, shape ``(n_boundary,)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_positions, 2)``, float64: ``log p(target)`` and
        ``log sum_{b in boundary} p(b)`` at each position.

    Examples
    --------
    >>> logits = torch.log(torch.tensor([[[0.25, 0.75], [0.5, 0.5]]]))
    >>> idx = torch.tensor([0, 0])
    >>> out = gather_scores(logits, idx, torch.tensor([0, 1]), torch.tensor([1, 0]),
    ...                     torch.tensor([0]))
    >>> np.round(np.exp(out), 6)
    array([[0.75, 0.25],
           [0.5 , 0.5 ]])
    """
    chosen = logits[rows, columns, targets]
    # amax and amin: two reads, but ~3x faster on CPU than the one read of aminmax
    high, low = logits.amax(dim=-1), logits.amin(dim=-1)
    if logits.dtype not in _FUSED_DTYPES or not bool(((high - low) < _FUSED_RANGE).all()):
        return _gather_scores_exact(logits, rows, columns, chosen, boundary)
    # One exponentiation (in place: the logits are scratch space) and one read serve both
    # sums, the whole vocabulary's and the boundary tokens': a product with a (vocab, 2)
    # matrix of ones and boundary indicators, blockwise (see _block_sums).
    logits.sub_(high.unsqueeze(-1)).exp_()
    weights = torch.zeros((logits.shape[-1], 2), dtype=logits.dtype, device=logits.device)
    weights[:, 0] = 1.0
    weights[boundary, 1] = 1.0
    sums = _block_sums(logits, weights)[rows, columns]
    shift = high[rows, columns].double()
    # float64 from here: adding the maximum back in float32 would round it again
    normaliser = sums[:, 0].log().add_(shift)
    values = torch.stack([chosen.double() - normaliser,
                          sums[:, 1].log().add_(shift) - normaliser], dim=1)
    return values.cpu().numpy()


def _block_sums(values, weights):
    """``values @ weights`` over the last axis, in float64, accurate to float32 rounding.

    One matrix product over a 49k-token vocabulary accumulates in float32 with a relative
    error near 1e-4; products over blocks of :data:`_BLOCK` columns, summed in float64,
    keep it near 5e-7 (what ``sum`` gives) and still read ``values`` once (a masked fill
    and two sums took ~1.7x as long on CPU).
    """
    flat = values.reshape(-1, values.shape[-1])
    n_rows, width = flat.shape
    whole = width - width % _BLOCK
    n_blocks = whole // _BLOCK
    out = torch.zeros((n_rows, weights.shape[1]), dtype=torch.float64, device=values.device)
    if n_blocks:
        blocks = flat[:, :whole].view(n_rows, n_blocks, _BLOCK).transpose(0, 1)
        out += torch.bmm(blocks, weights[:whole].view(n_blocks, _BLOCK, -1)).double().sum(0)
    if whole < width:
        out += (flat[:, whole:] @ weights[whole:]).double()
    return out.view(*values.shape[:-1], -1)


def _gather_scores_exact(logits, rows, columns, chosen, boundary):
    """:func:`gather_scores` for logits whose range could underflow the fused sums."""
    # index_select, not broadcast fancy indexing: the latter materialises three int64
    # index tensors of n_positions x n_boundary and was ~50x slower on CPU
    ends = torch.logsumexp(logits.index_select(-1, boundary), dim=-1)[rows, columns]
    normaliser = logsumexp_(logits)[rows, columns]
    values = torch.stack([chosen - normaliser, ends - normaliser], dim=1)
    return values.to(dtype=torch.float64, device="cpu").numpy()


def prediction_inputs(lm, encoded):
    """Inputs (start token + all but the last token) and targets (every token) per text.

    What patching and attribution use: every input position predicts a real token. (The
    scoring path, :func:`causal_inputs`, also feeds the last token, for its end-of-word
    mass, with a dummy target that must not enter a gradient or a summed log-probability.)
    """
    inputs = [[lm.start_token_id, *e.token_ids[:-1]] for e in encoded]
    targets = [np.asarray(e.token_ids, dtype=np.int64) for e in encoded]
    return inputs, targets


def causal_inputs(lm, encoded, limit=None):
    """Inputs and targets per text, of equal length.

    Inputs are the start token and every token (all but the last when the text would
    not fit ``limit`` positions otherwise); targets are the tokens, followed by a dummy
    (the start token) at the last position, which only serves the end-of-word mass.
    """
    inputs, targets = [], []
    for e in encoded:
        ids = list(e.token_ids)
        fits = limit is None or len(ids) + 1 <= limit
        inputs.append([lm.start_token_id, *(ids if fits else ids[:-1])])
        targets.append(np.asarray([*ids, lm.start_token_id][: len(inputs[-1])], dtype=np.int64))
    return inputs, targets


def _batch_scores(lm, logits, indices, boundary, layers, recorded):
    """Scores from the model's logits, or per layer from its logit-lens read-out."""
    if layers is None:
        return gather_scores(logits, *indices, boundary)
    del logits
    return np.stack([gather_scores(lens_logits(lm, recorded[layer]), *indices, boundary)
                     for layer in layers], axis=-1)


def score_causal(lm, encoded, *, boundary, limit=None, batch_size=32, max_tokens_per_batch=None,
                 padding_side="right", progress=False, on_batch=None, layers=None):
    """Log-probability of every token of every text under a causal LM.

    Parameters
    ----------
    lm : LanguageModel
        ``kind == "causal"``.
    encoded : list of Encoded
        Tokenized texts (no empty ones).
    boundary : numpy.ndarray
        Ids of the tokens that start a new word or end a text
        (:func:`~probing.models.boundary.boundary_token_ids`).
    limit : int, optional
        The model's context length (:func:`~probing.models.scoring.context_length`).
    batch_size : int, default 32
    max_tokens_per_batch : int, optional
    padding_side : {"right", "left"}, default "right"
    progress : bool or None, default False
        Show a progress bar with ETA over batches (None: only on a terminal).
    on_batch : callable, optional
        ``on_batch(text_indices, batch)`` -> a context manager entered around each
        forward (how interventions learn which row is which text).
    layers : list of int, optional
        Score the logit-lens read-out of these layers (:mod:`probing.models.logit_lens`)
        instead of the model's logits; checked on the first batch to reproduce the
        model's logits at the last block.

    Returns
    -------
    list of numpy.ndarray
        Per text, shape ``(n_inputs, 2)`` (float64, natural log): column 0 is ``log
        p(t_i)`` at rows ``0..n-1`` (row ``n``, if present, is a dummy), column 1 the
        end-of-word log-mass after the start token (row 0) and after each token. With
        ``layers``, shape ``(n_inputs, 2, n_layers)``.
    """
    inputs, targets = causal_inputs(lm, encoded, limit)
    boundary = torch.as_tensor(boundary, dtype=torch.long, device=lm.device)
    use_positions = accepts_position_ids(lm.model)
    side = padding_side if use_positions else "right"
    results = [None] * len(encoded)
    batches = plan_batches([len(s) for s in inputs], batch_size=batch_size,
                           max_tokens_per_batch=max_tokens_per_batch, avoid_padding=True)
    last = n_blocks_of(lm) if layers is not None else None
    record = [] if layers is None else sorted({*layers, last})
    checked = layers is None
    with torch.inference_mode(), record_residuals(lm, record) as recorded:
        for indices in tqdm(batches, desc="scoring", unit="batch", disable=progress is False):
            batch = pad_sequences(
                [inputs[i] for i in indices], pad_id=lm.start_token_id, padding_side=side
            ).to(lm.device)
            with on_batch(indices, batch) if on_batch else contextlib.nullcontext():
                logits, _ = forward_logits(lm.model, batch, pass_position_ids=use_positions,
                                           use_cache=False)
            if not checked:
                check_lens(lm, recorded[last], logits)
                checked = True
            batch_targets = [targets[i] for i in indices]
            values = _batch_scores(lm, logits, flat_indices(batch, batch_targets, lm.device),
                                   boundary, layers, recorded)
            recorded.clear()
            for i, chunk in zip(
                indices, split_by_lengths(values, [len(t) for t in batch_targets]), strict=True
            ):
                results[i] = chunk
    return results
