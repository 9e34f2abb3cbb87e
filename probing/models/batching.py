"""Length-bucketed batches and padded tensors with correct positions.

Sequences are sorted by length (longest first, so memory trouble shows at once) and cut
into batches holding at most ``batch_size`` sequences and at most
``max_tokens_per_batch`` padded tokens; callers scatter results back by index, so the
output order never depends on the batching. Padding goes left or right; position ids
count only real tokens, so a left-padded sequence starts at position 0 like an
unpadded one (the classic left-padding bug is to let positions count the pads).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["Batch", "flat_indices", "pad_sequences", "plan_batches", "split_by_lengths"]


def plan_batches(lengths, *, batch_size, max_tokens_per_batch=None, avoid_padding=False):
    """Group sequence indices into length-sorted batches.

    Parameters
    ----------
    lengths : sequence of int
        Length of each of ``n_sequences`` sequences.
    batch_size : int
        Most sequences per batch.
    max_tokens_per_batch : int or None
        Most padded tokens (``n_rows * longest``) per batch; a single sequence longer
        than this still gets a batch of its own.
    avoid_padding : bool, default False
        Close a batch that holds at least half of ``batch_size`` sequences rather than
        add a shorter one (which pads every row of it): a batch of equal lengths needs no
        attention mask and spends no compute on pads, at the price of a few more,
        smaller batches.

    Returns
    -------
    list of numpy.ndarray
        Indices into ``lengths``; together they cover each index once.

    Examples
    --------
    >>> [b.tolist() for b in plan_batches([3, 9, 5, 4], batch_size=2)]
    [[1, 2], [3, 0]]
    >>> [b.tolist() for b in plan_batches([3, 9, 5, 4], batch_size=4, max_tokens_per_batch=10)]
    [[1], [2, 3], [0]]
    >>> [b.tolist() for b in plan_batches([5, 5, 4, 4, 4], batch_size=4, avoid_padding=True)]
    [[0, 1], [2, 3, 4]]
    """
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    budget = max_tokens_per_batch or np.inf
    batches, current, longest = [], [], 0
    for index in order:
        width = max(longest, int(lengths[index]))
        padded = avoid_padding and int(lengths[index]) < longest and 2 * len(current) >= batch_size
        if current and (padded or len(current) >= batch_size or (len(current) + 1) * width > budget):
            batches.append(np.asarray(current))
            current, width = [], int(lengths[index])
        current.append(int(index))
        longest = width
    if current:
        batches.append(np.asarray(current))
    return batches


class Batch:
    """Padded ``input_ids``, ``attention_mask`` and ``position_ids`` of one batch.

    Parameters
    ----------
    input_ids, attention_mask, position_ids : torch.Tensor
        Shape ``(n_rows, width)``; ``attention_mask`` is 1 on real tokens.
    columns : list of numpy.ndarray
        Per row, the column of each real token, in order.
    """

    def __init__(self, input_ids, attention_mask, position_ids, columns):
        self.input_ids = input_ids
        self.attention_mask = attention_mask
        self.position_ids = position_ids
        self.columns = columns

    def to(self, device):
        """Move the tensors to ``device`` (returns self)."""
        self.input_ids = self.input_ids.to(device)
        self.attention_mask = self.attention_mask.to(device)
        self.position_ids = self.position_ids.to(device)
        return self


def pad_sequences(sequences, *, pad_id, padding_side="right", position_offsets=None):
    """Pad integer sequences into a :class:`Batch`.

    Parameters
    ----------
    sequences : list of sequence of int
        ``n_rows`` sequences (no empty ones).
    pad_id : int
        Id written on padded slots (masked out, so any valid id works).
    padding_side : {"right", "left"}, default "right"
    position_offsets : sequence of int, optional
        Position of each row's first real token (a continuation after a cached
        prefix starts at the prefix's length); default 0.

    Returns
    -------
    Batch

    Examples
    --------
    >>> b = pad_sequences([[5, 6, 7], [8]], pad_id=0, padding_side="left")
    >>> b.input_ids.tolist(), b.position_ids.tolist()
    ([[5, 6, 7], [0, 0, 8]], [[0, 1, 2], [0, 0, 0]])
    """
    width = max(len(seq) for seq in sequences)
    n_rows = len(sequences)
    input_ids = torch.full((n_rows, width), pad_id, dtype=torch.long)
    mask = torch.zeros((n_rows, width), dtype=torch.long)
    positions = torch.zeros((n_rows, width), dtype=torch.long)
    offsets = position_offsets if position_offsets is not None else [0] * n_rows
    columns = []
    for row, seq in enumerate(sequences):
        n = len(seq)
        first = width - n if padding_side == "left" else 0
        input_ids[row, first : first + n] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, first : first + n] = 1
        positions[row, first : first + n] = torch.arange(offsets[row], offsets[row] + n)
        columns.append(np.arange(first, first + n))
    return Batch(input_ids, mask, positions, columns)


def flat_indices(batch, targets, device):
    """Flattened ``(rows, columns, targets)`` index tensors over a batch's real tokens.

    Parameters
    ----------
    batch : Batch
    targets : list of numpy.ndarray
        Per row, one target id per real token.
    device : torch.device

    Returns
    -------
    tuple of torch.Tensor
        Three tensors of shape ``(n_real_tokens,)``.
    """
    rows = np.concatenate([np.full(len(t), r) for r, t in enumerate(targets)])
    columns = np.concatenate(batch.columns)
    flat = np.concatenate(targets)
    return (
        torch.as_tensor(rows, device=device),
        torch.as_tensor(columns, device=device),
        torch.as_tensor(flat, dtype=torch.long, device=device),
    )


def split_by_lengths(values, lengths):
    """Split a flat array into consecutive pieces of the given lengths.

    Examples
    --------
    >>> [p.tolist() for p in split_by_lengths(np.arange(5), [2, 3])]
    [[0, 1], [2, 3, 4]]
    """
    return np.split(values, np.cumsum(lengths)[:-1])
