"""Controlled probing of layerwise representations (arrays in, tidy tables out).

Estimators (scikit-learn contract; standardize inside ``fit``)
    :class:`LogisticProbe`, :class:`RidgeClassifierProbe`, :class:`RidgeProbe`,
    :class:`MLPProbe`.
Folds, computed once per design and shared by every analysis
    :func:`build_folds`.
Layer sweeps
    :func:`predict_layers` (per-row out-of-fold predictions), :func:`probe_layers`
    (per-fold scores with majority and chance baselines), :func:`summarize_layers`
    (pooled scores with bootstrap CIs over groups).
Significance
    :func:`permutation_test_layers` (closed form for ridge probes, refits otherwise),
    :func:`correct_table` (Holm, Bonferroni or Benjamini-Hochberg over a family).
Comparisons
    :func:`group_bootstrap`, :func:`paired_test`.
"""

from probing.probes.compare import PAIRED_COLUMNS, group_bootstrap, paired_test
from probing.probes.estimators import LogisticProbe, MLPProbe, RidgeClassifierProbe, RidgeProbe
from probing.probes.folds import build_folds
from probing.probes.permutation import (
    PERMUTATION_COLUMNS,
    correct_table,
    permutation_test_layers,
)
from probing.probes.sweep import (
    SCORE_COLUMNS,
    SUMMARY_COLUMNS,
    predict_layers,
    probe_layers,
    summarize_layers,
)

__all__ = [
    "PAIRED_COLUMNS",
    "PERMUTATION_COLUMNS",
    "SCORE_COLUMNS",
    "SUMMARY_COLUMNS",
    "LogisticProbe",
    "MLPProbe",
    "RidgeClassifierProbe",
    "RidgeProbe",
    "build_folds",
    "correct_table",
    "group_bootstrap",
    "paired_test",
    "permutation_test_layers",
    "predict_layers",
    "probe_layers",
    "summarize_layers",
]
