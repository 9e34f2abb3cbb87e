"""Exact token log-probabilities from a causal LM, batched.

For a text with tokens ``t_1..t_n`` the model reads ``[start, t_1, .., t_{n-1}]`` (the
last token is never an input) and the log-probability of ``t_i`` is read at input
position ``i - 1``: ``logit[t_i] - logsumexp(logits)``. The log-softmax over the vocabulary is never
materialised: the log-normaliser is computed in place in the logits tensor and only
the needed positions are gathered.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

import numpy as np
import torch
from tqdm.auto import tqdm

from probing.models.batching import flat_indices, pad_sequences, plan_batches, split_by_lengths

__all__ = [
    "accepts_position_ids",
    "forward_logits",
    "gather_logprobs",
    "logsumexp_",
    "score_causal",
]


@functools.cache
def _forward_parameters(model_class):
    return frozenset(inspect.signature(model_class.forward).parameters)


def accepts_position_ids(model):
    """Whether ``model.forward`` takes ``position_ids`` (ALiBi models such as Bloom do not)."""
    return "position_ids" in _forward_parameters(type(model))


def forward_logits(model, batch, *, positions=True, **kwargs):
    """Logits of one padded :class:`~probing.models.batching.Batch`.

    Parameters
    ----------
    model : transformers.PreTrainedModel
    batch : Batch
    positions : bool, default True
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
    if positions:
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


def causal_inputs(lm, encoded):
    """Inputs (start token + all but the last token) and targets (every token) per text."""
    inputs = [[lm.start_token_id, *e.token_ids[:-1]] for e in encoded]
    targets = [np.asarray(e.token_ids, dtype=np.int64) for e in encoded]
    return inputs, targets


def score_causal(lm, encoded, *, batch_size=32, max_tokens_per_batch=None, padding_side="right",
                 progress=False, on_batch=None):
    """Log-probability of every token of every text under a causal LM.

    Parameters
    ----------
    lm : LanguageModel
        ``kind == "causal"``.
    encoded : list of Encoded
        Tokenized texts (no empty ones).
    batch_size : int, default 32
    max_tokens_per_batch : int, optional
    padding_side : {"right", "left"}, default "right"
    progress : bool or None, default False
        Show a progress bar with ETA over batches (None: only on a terminal).
    on_batch : callable, optional
        ``on_batch(text_indices, batch)`` -> a context manager entered around each
        forward (how interventions learn which row is which text).

    Returns
    -------
    list of numpy.ndarray
        Per text, shape ``(n_tokens,)``, natural-log probabilities (float64).
    """
    inputs, targets = causal_inputs(lm, encoded)
    use_positions = accepts_position_ids(lm.model)
    side = padding_side if use_positions else "right"
    results = [None] * len(encoded)
    batches = plan_batches(
        [len(s) for s in inputs], batch_size=batch_size, max_tokens_per_batch=max_tokens_per_batch
    )
    with torch.inference_mode():
        for indices in tqdm(batches, desc="scoring", unit="batch", disable=progress is False):
            batch = pad_sequences(
                [inputs[i] for i in indices], pad_id=lm.start_token_id, padding_side=side
            ).to(lm.device)
            with on_batch(indices, batch) if on_batch else contextlib.nullcontext():
                logits, _ = forward_logits(lm.model, batch, positions=use_positions,
                                           use_cache=False)
            batch_targets = [targets[i] for i in indices]
            values = gather_logprobs(logits, *flat_indices(batch, batch_targets, lm.device))
            for i, chunk in zip(
                indices, split_by_lengths(values, [len(t) for t in batch_targets]), strict=True
            ):
                results[i] = chunk
    return results
