"""Behavioural measures from token-level scores: pure pandas/numpy, no model.

The model adapter writes a tokens table (``stimulus_id, token_index, token_id, token,
char_start, char_end, logprob, surprisal, surprisal_bits``); everything here turns it
into the tables psycholinguists read:

:func:`build_sentence_scores`
    Summed and mean log-probability per stimulus.
:func:`build_word_surprisal`, :func:`build_region_surprisal`
    Surprisal per whitespace word and per region (SyntaxGym's ``sum``/``mean``).
:func:`build_pairs`, :func:`summarize_pairs`
    Minimal-pair preferences and accuracy per phenomenon (bootstrap CI, exact test,
    correction across phenomena).
:func:`evaluate_predictions`, :func:`summarize_predictions`
    SyntaxGym prediction formulas per item, and their accuracy.
:func:`fit_region_model`
    A region's surprisal under a mixed model of the design's factors.
"""

from probing.behaviour.pairs import build_pairs, summarize_pairs
from probing.behaviour.regions import (
    evaluate_predictions,
    fit_region_model,
    summarize_predictions,
)
from probing.behaviour.surprisal import (
    build_region_surprisal,
    build_sentence_scores,
    build_word_surprisal,
)

__all__ = [
    "build_pairs",
    "build_region_surprisal",
    "build_sentence_scores",
    "build_word_surprisal",
    "evaluate_predictions",
    "fit_region_model",
    "summarize_pairs",
    "summarize_predictions",
]
