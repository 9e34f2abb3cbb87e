"""Pool token vectors over token ranges, through the attention mask.

Every pooled output is a contiguous range of a text's tokens (the whole text, a region
or a word). :func:`pool_ranges` builds, per output, a weight row that is the range
indicator multiplied by the batch's attention mask, so padding (left or right) never
enters a pooled vector.
"""

from __future__ import annotations

import numpy as np
import torch

from probing._core.errors import ProbingError
from probing._core.values import POOLINGS, check_pooling

__all__ = ["POOLINGS", "check_pooling", "pool_ranges", "token_ranges"]


def token_ranges(spans, segments, offset):
    """Token ranges ``(start, stop)`` (columns of the framed sequence) of char segments.

    A token belongs to a segment when its first character falls inside it (the rule
    region surprisal uses). A segment in which no token starts but which lies inside a
    token (a word the tokenizer merged with the word before it, as in UD's
    ``tradeoff ) .`` read from ``tradeoff).``) takes that one token: its vector is the
    first to have seen the segment's characters. ``None`` means all of the text's tokens.

    Parameters
    ----------
    spans : list of (int, int)
        Char span of each text token.
    segments : list of (int, int) or None
    offset : int
        Tokens framed before the text (the start token).

    Examples
    --------
    >>> spans = [(0, 3), (4, 7), (7, 9)]        # "The cat)." with ")." one token
    >>> token_ranges(spans, [(4, 7), (7, 8), (8, 9)], offset=1)
    [(2, 3), (3, 4), (3, 4)]
    """
    starts = np.asarray([s for s, _ in spans], dtype=np.int64)
    ends = np.asarray([e for _, e in spans], dtype=np.int64)
    ranges = []
    for segment in segments:
        if segment is None:
            ranges.append((offset, offset + len(spans)))
            continue
        inside = np.flatnonzero((starts >= segment[0]) & (starts < segment[1]))
        if inside.size == 0:
            inside = np.flatnonzero((starts < segment[0]) & (ends > segment[0]))
        if inside.size == 0:
            raise ProbingError(f"no token starts or lies in characters {segment[0]}:{segment[1]}")
        ranges.append((offset + int(inside[0]), offset + int(inside[-1]) + 1))
    return ranges


def pool_ranges(hidden, attention_mask, rows, ranges, columns, method):
    """Pool ``hidden`` over token ranges.

    Parameters
    ----------
    hidden : torch.Tensor
        ``(n_rows, width, n_units)``, or ``(n_layers, n_rows, width, n_units)`` to pool
        every layer at once.
    attention_mask : torch.Tensor
        ``(n_rows, width)``, 1 on real tokens.
    rows : sequence of int
        Batch row of each of ``n_out`` outputs.
    ranges : sequence of (int, int)
        Token range of each output, in token positions of the unpadded sequence.
    columns : list of numpy.ndarray
        Per batch row, the padded column of each real token (``Batch.columns``).
    method : {"first", "last", "mean"}

    Returns
    -------
    torch.Tensor
        ``(n_out, n_units)``, or ``(n_out, n_layers, n_units)``.
    """
    if hidden.dim() == 3:
        return pool_ranges(hidden[None], attention_mask, rows, ranges, columns, method)[:, 0]
    rows = list(rows)
    device = hidden.device
    select = torch.zeros((len(rows), hidden.shape[2]), dtype=torch.bool, device=device)
    for out, (row, (start, stop)) in enumerate(zip(rows, ranges, strict=True)):
        cols = columns[row][start:stop]
        pick = {"first": cols[:1], "last": cols[-1:], "mean": cols}[method]
        select[out, torch.as_tensor(pick, device=device)] = True
    select &= attention_mask[rows].bool()
    row_index = torch.as_tensor(rows, device=device)
    if method != "mean":  # exact copy of one token's vector
        return hidden[:, row_index, select.int().argmax(dim=1)].transpose(0, 1)
    picked = hidden[:, row_index]
    # where(), not a 0/1 product: a NaN on a padded slot must not leak into the mean
    zero = torch.zeros((), dtype=hidden.dtype, device=device)
    total = torch.where(select[None, ..., None], picked, zero).sum(dim=2).transpose(0, 1)
    return total / select.sum(dim=1)[:, None, None].to(hidden.dtype)
