"""A quick check that a freshly loaded model scores obvious pairs the right way round.

A model that gets these wrong usually has a wrong start token or a mismatched
tokenizer, not a linguistic deficit; we warn loudly instead of silently reporting
chance-level accuracies.
"""

from __future__ import annotations

import warnings

import pandas as pd

SANITY_PAIRS = (
    ("The cat is sleeping on the sofa.", "The cat are sleeping on the sofa."),
    ("The children are playing outside.", "The children is playing outside."),
    ("She has never seen the sea.", "She have never seen the sea."),
    ("They were happy to see us.", "They was happy to see us."),
    ("I would like a cup of tea.", "I would like a cup of of tea."),
    ("He gave the book to his sister.", "He gave the book to his sister sister."),
)
MIN_CORRECT = 5


def sanity_table():
    """The sanity pairs as a stimuli-like table (``stimulus_id, text``)."""
    rows = [{"stimulus_id": f"sanity-{i}-{role}", "text": text}
            for i, pair in enumerate(SANITY_PAIRS) for role, text in zip(("good", "bad"), pair,
                                                                           strict=True)]
    return pd.DataFrame(rows)


def check_sanity(sentence_scores, *, model_name):
    """Warn when fewer than ``MIN_CORRECT`` sanity pairs prefer the good member.

    Returns
    -------
    int
        The number of pairs scored correctly.
    """
    logprob = sentence_scores.set_index("stimulus_id")["logprob_sum"]
    n_correct = sum(logprob[f"sanity-{i}-good"] > logprob[f"sanity-{i}-bad"]
                    for i in range(len(SANITY_PAIRS)))
    if n_correct < MIN_CORRECT:
        warnings.warn(
            f"SANITY CHECK FAILED: {model_name} prefers the grammatical sentence in only "
            f"{n_correct}/{len(SANITY_PAIRS)} obvious pairs; check the start token "
            "(--start-token) and that the tokenizer matches the model", stacklevel=2)
    return int(n_correct)
