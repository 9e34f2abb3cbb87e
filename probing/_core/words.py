"""What a word is, once for the whole package: a maximal run of non-whitespace characters.

Punctuation stays with its word ("mat." is one word), as in SyntaxGym, the word tables
of ``probing run`` and reading-time data. Every module that splits a text into words
(word surprisal, word-level extraction, generated word tables, BLiMP's critical spans,
length matching) uses these functions, so a word index means the same thing everywhere.
"""

from __future__ import annotations

import re

__all__ = ["WORD", "count_words", "word_spans", "words_table"]

#: The pattern of one word.
WORD = re.compile(r"\S+")


def word_spans(text):
    """``[(word, char_start, char_end), ...]`` of ``text``, in order.

    Examples
    --------
    >>> word_spans("The cat  sat.")
    [('The', 0, 3), ('cat', 4, 7), ('sat.', 9, 13)]
    """
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


def count_words(text):
    """Number of words of ``text`` (the ``word_index`` the next word would get).

    Examples
    --------
    >>> count_words("The cat sat."), count_words("  ")
    (3, 0)
    """
    return sum(1 for _ in WORD.finditer(text))


def words_table(stimulus_ids, texts):
    """The words of each text: ``stimulus_id, word_index, word, char_start, char_end``.

    Examples
    --------
    >>> words_table(["s1"], ["Dogs bark."]).values.tolist()
    [['s1', 0, 'Dogs', 0, 4], ['s1', 1, 'bark.', 5, 10]]
    """
    import numpy as np
    import pandas as pd

    rows = [(sid, i, word, start, end)
            for sid, text in zip(stimulus_ids, texts, strict=True)
            for i, (word, start, end) in enumerate(word_spans(text))]
    words = pd.DataFrame(rows, columns=["stimulus_id", "word_index", "word", "char_start",
                                        "char_end"])
    return words.astype({"word_index": np.int64, "char_start": np.int64, "char_end": np.int64})
