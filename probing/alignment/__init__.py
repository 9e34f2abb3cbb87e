"""Alignment with human behaviour: arrays and tables in, tidy tables out; no model.

:func:`build_acceptability`, :func:`compute_unigram_logprob`
    LP, MeanLP, PenLP, NormLP and SLOR per sentence (Lau et al., 2020); unigram
    log-probabilities from ``wordfreq``.
:func:`correlate`, :func:`compare_correlations`, :func:`williams_test`
    Pearson and Spearman correlations with human ratings (bootstrap intervals over
    sentences) and Williams' test of two dependent correlations.
:func:`calibrate_predictions`, :func:`score_calibration`
    A cross-validated map from a measure to the rating scale, and its held-out fit.
:func:`build_judgements`, :func:`compare_judgements`
    Prompted vs direct judgements of minimal pairs (Hu & Levy, 2023): accuracy,
    agreement, McNemar's test, order bias.
:func:`compare_fresh_published`
    Accuracy on published vs freshly generated items of a phenomenon, and the difference.
:func:`build_reading_design`, :func:`compute_delta_loglik`, :func:`summarize_delta`
    Reading times on surprisal with spillover and baselines: the held-out delta
    log-likelihood (cross-validation over texts).
"""

from probing.alignment.acceptability import (
    MEASURES,
    build_acceptability,
    compute_unigram_logprob,
    count_unigrams,
    unigram_source,
)
from probing.alignment.calibration import CALIBRATIONS, calibrate_predictions, score_calibration
from probing.alignment.correlation import (
    CORRELATION_COLUMNS,
    compare_correlations,
    correlate,
    williams_test,
)
from probing.alignment.fresh_vs_published import compare_fresh_published
from probing.alignment.judgements import build_judgements, compare_judgements
from probing.alignment.reading import build_reading_design, compute_delta_loglik, summarize_delta

__all__ = [
    "CALIBRATIONS",
    "CORRELATION_COLUMNS",
    "MEASURES",
    "build_acceptability",
    "build_judgements",
    "build_reading_design",
    "calibrate_predictions",
    "compare_correlations",
    "compare_fresh_published",
    "compare_judgements",
    "compute_delta_loglik",
    "compute_unigram_logprob",
    "count_unigrams",
    "correlate",
    "score_calibration",
    "summarize_delta",
    "unigram_source",
    "williams_test",
]
