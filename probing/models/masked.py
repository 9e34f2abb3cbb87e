"""Pseudo-log-likelihood (PLL) scores from a masked LM.

Each text is framed ``[CLS] t_1 .. t_n [SEP]``; token ``t_i`` is scored in a copy where it
is replaced by ``[MASK]``, as ``log p(t_i | copy)`` at its position.

``pll="original"``
    Mask ``t_i`` alone (Salazar et al., 2020, "Masked Language Model Scoring").
``pll="word_l2r"``
    Also mask the tokens to the right of ``t_i`` within the same word (Kauf & Ivanova,
    2023, "A Better Way to Do Masked Language Model Scoring"), so a multi-token word is
    not scored from its own later pieces. Words are the tokenizer's pre-tokenizer words.

A text of ``n`` tokens needs ``n`` copies of length ``n + 2``. The copies of all texts
are pooled and cut into batches of at most ``batch_size`` copies and
``max_tokens_per_batch`` padded tokens (default :data:`DEFAULT_MASKED_TOKENS`); memory
per batch is about ``max_tokens_per_batch * vocab_size`` logits. Padding is on the
right and positions are left to the model, so schemes with offset positions (RoBERTa)
stay correct.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from probing._core.errors import ProbingError
from probing.models.batching import pad_sequences, plan_batches
from probing.models.causal_lm import forward_logits, gather_logprobs

__all__ = ["DEFAULT_MASKED_TOKENS", "PLL_VARIANTS", "masked_positions", "score_masked"]

PLL_VARIANTS = ("original", "word_l2r")
DEFAULT_MASKED_TOKENS = 4096


def masked_positions(word_ids, index, *, pll="original"):
    """Token indices to mask when scoring token ``index``.

    Parameters
    ----------
    word_ids : sequence of int
        Word index of each token.
    index : int
    pll : {"original", "word_l2r"}

    Returns
    -------
    list of int

    Examples
    --------
    >>> masked_positions([0, 1, 1, 1, 2], 1, pll="word_l2r")
    [1, 2, 3]
    >>> masked_positions([0, 1, 1, 1, 2], 1)
    [1]
    """
    if pll == "original":
        return [index]
    word = word_ids[index]
    return [index] + [j for j in range(index + 1, len(word_ids)) if word_ids[j] == word]


def _jobs(encoded, pll):
    """One (text, token) job per scored token, with the columns to mask."""
    jobs = []
    for text_index, e in enumerate(encoded):
        for i in range(len(e.token_ids)):
            columns = [1 + j for j in masked_positions(e.word_ids, i, pll=pll)]
            jobs.append((text_index, i, columns))
    return jobs


def _run_batch(lm, framed, encoded, jobs, mask_id, on_batch=None):
    batch = pad_sequences([framed[text] for text, _, _ in jobs], pad_id=lm.end.token_id)
    for row, (_, _, columns) in enumerate(jobs):
        batch.input_ids[row, columns] = mask_id
    batch.to(lm.device)
    with on_batch([t for t, _, _ in jobs], batch) if on_batch else contextlib.nullcontext():
        logits, _ = forward_logits(lm.model, batch, pass_position_ids=False)
    rows = torch.arange(len(jobs), device=lm.device)
    columns = torch.as_tensor([1 + i for _, i, _ in jobs], device=lm.device)
    targets = torch.as_tensor([encoded[t].token_ids[i] for t, i, _ in jobs], device=lm.device)
    selected = logits[rows, columns][:, None]  # one scored position per copy
    return gather_logprobs(selected, rows, torch.zeros_like(rows), targets)


def score_masked(lm, encoded, *, pll="original", batch_size=32, max_tokens_per_batch=None,
                 on_batch=None):
    """Pseudo-log-likelihood of every token of every text under a masked LM.

    Parameters
    ----------
    lm : LanguageModel
        ``kind == "masked"``, with a ``mask_token``.
    encoded : list of Encoded
    pll : {"original", "word_l2r"}, default "original"
    batch_size : int, default 32
        Most masked copies per forward pass.
    max_tokens_per_batch : int, optional
        Most padded tokens per forward pass (default :data:`DEFAULT_MASKED_TOKENS`).
    on_batch : callable, optional
        As in :func:`~probing.models.causal_lm.score_causal`; rows are masked copies.

    Returns
    -------
    list of numpy.ndarray
        Per text, shape ``(n_tokens,)``, ``log p(t_i | masked copy)`` (float64).
    """
    mask_id = lm.tokenizer.mask_token_id
    if mask_id is None:
        raise ProbingError(
            f"{type(lm.tokenizer).__name__} has no mask_token; PLL scoring needs one"
        )
    framed = [[lm.start_token_id, *e.token_ids, lm.end.token_id] for e in encoded]
    jobs = _jobs(encoded, pll)
    results = [np.empty(len(e.token_ids)) for e in encoded]
    batches = plan_batches(
        [len(framed[t]) for t, _, _ in jobs],
        batch_size=batch_size,
        max_tokens_per_batch=max_tokens_per_batch or DEFAULT_MASKED_TOKENS,
    )
    with torch.inference_mode():
        for indices in batches:
            chosen = [jobs[j] for j in indices]
            values = _run_batch(lm, framed, encoded, chosen, mask_id, on_batch)
            for (text, i, _), value in zip(chosen, values, strict=True):
                results[text][i] = value
    return results
