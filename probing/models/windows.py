"""Sliding windows: score texts longer than the model's context.

A text of ``n`` tokens that does not fit is cut into windows of ``width = limit - 1``
tokens (the start token and the end-of-word read-out after the last token take the
other position), each starting ``stride`` tokens after the previous one. The first
window keeps every score; each later window keeps only the tokens past the previous
window's end, so every token after the first window is scored with at least
``width - stride`` tokens of context. Every window is read after the start token.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from probing._core.errors import ProbingError
from probing.models.token_alignment import Encoded

__all__ = ["Window", "split_windows", "stitch_windows"]


@dataclasses.dataclass(frozen=True)
class Window:
    """One window of a text: tokens ``[start, stop)``, scores kept from ``keep`` on."""

    text: int
    start: int
    stop: int
    keep: int


def split_windows(encoded, limit, stride):
    """Windows of every text: one per text that fits, several for the others.

    Parameters
    ----------
    encoded : list of Encoded
    limit : int
        Context length of the model.
    stride : int
        Tokens between window starts (``1 <= stride <= limit - 1``).

    Returns
    -------
    pieces : list of Encoded
    windows : list of Window

    Examples
    --------
    >>> text = Encoded(list(range(10)), [(i, i + 1) for i in range(10)], list(range(10)))
    >>> [(w.start, w.stop, w.keep) for w in split_windows([text], 5, 2)[1]]
    [(0, 4, 0), (2, 6, 2), (4, 8, 2), (6, 10, 2)]
    """
    width = limit - 1
    if not 1 <= stride <= width:
        raise ProbingError(f"stride must lie in [1, {width}] for a context of {limit} tokens; "
                           f"got {stride}")
    pieces, windows = [], []
    for t, e in enumerate(encoded):
        n = len(e.token_ids)
        start, covered = 0, 0
        while True:
            stop = min(start + width, n)
            windows.append(Window(t, start, stop, covered - start))
            pieces.append(Encoded(e.token_ids[start:stop], e.spans[start:stop],
                                  e.word_ids[start:stop]))
            covered = stop
            if stop >= n:
                break
            start += stride
    return pieces, windows


def stitch_windows(scores, windows, n_texts):
    """Per-text score arrays (``(n + 1, 2)`` or, per layer, ``(n + 1, 2, n_layers)``, as the
    causal scorers return) from windows."""
    parts = [[] for _ in range(n_texts)]
    for values, w in zip(scores, windows, strict=True):
        parts[w.text].append((w, values))
    out = []
    for text_parts in parts:
        n = text_parts[-1][0].stop
        full = np.full((n + 1, *text_parts[0][1].shape[1:]), np.nan)
        full[0, 1] = text_parts[0][1][0, 1]
        for w, values in text_parts:
            size = w.stop - w.start
            full[w.start + w.keep:w.stop, 0] = values[w.keep:size, 0]
            tail = values[w.keep + 1:size + 1, 1]
            full[w.start + w.keep + 1:w.start + w.keep + 1 + len(tail), 1] = tail
        out.append(full)
    return out
