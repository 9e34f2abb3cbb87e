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
Controls (Hewitt & Liang 2019)
    :func:`make_control_labels`, :func:`control_task_layers`, :func:`selectivity`;
    majority-class and chance baselines are columns of every score table.
MDL probing (Voita & Titov 2020, online code)
    :func:`compute_online_codelength`, :func:`mdl_layers`.
Significance
    :func:`permutation_test_layers` (closed form for ridge probes, refits otherwise),
    :func:`correct_table` (Holm, Bonferroni or Benjamini-Hochberg over a family).
Comparisons
    :func:`group_bootstrap`, :func:`paired_test`.
Held-out groups (:mod:`probing.probes.heldout`)
    :func:`heldout_folds` (leave one suite x template cell out), :func:`heldout_scores`,
    :func:`auc_by_layer` (ROC AUC with item-bootstrap intervals),
    :func:`item_flipped_labels` (control task for paired designs), :func:`linear_direction`;
    :func:`nested_heldout_scores` (:mod:`probing.probes.nested`: each fold's layer chosen
    by inner cross-validation on its training groups only).
Plots
    :func:`plot_probe_layers`.

A control *model* (re-initialised weights) is another ``Activations`` from the model
adapter; it goes through the same functions with the same folds (``cv=folds``).
"""

from probing.probes.controls import (
    SELECTIVITY_COLUMNS,
    control_task_layers,
    make_control_labels,
    selectivity,
)
from probing.probes.estimators import LogisticProbe, MLPProbe, RidgeClassifierProbe, RidgeProbe
from probing.probes.folds import build_folds
from probing.probes.heldout import (
    AUC_COLUMNS,
    auc_by_layer,
    heldout_folds,
    heldout_scores,
    item_flipped_labels,
    linear_direction,
)
from probing.probes.mdl import FRACTIONS, MDL_COLUMNS, compute_online_codelength, mdl_layers
from probing.probes.nested import NestedScores, nested_heldout_scores
from probing.probes.paired import PAIRED_COLUMNS, group_bootstrap, paired_test
from probing.probes.plotting import plot_probe_layers
from probing.probes.probe_permutation import (
    PERMUTATION_COLUMNS,
    correct_table,
    permutation_test_layers,
)
from probing.probes.probe_sweep import (
    SCORE_COLUMNS,
    SUMMARY_COLUMNS,
    predict_layers,
    probe_layers,
    summarize_layers,
)

__all__ = [
    "AUC_COLUMNS",
    "FRACTIONS",
    "MDL_COLUMNS",
    "PAIRED_COLUMNS",
    "PERMUTATION_COLUMNS",
    "SCORE_COLUMNS",
    "SELECTIVITY_COLUMNS",
    "SUMMARY_COLUMNS",
    "LogisticProbe",
    "MLPProbe",
    "NestedScores",
    "RidgeClassifierProbe",
    "RidgeProbe",
    "auc_by_layer",
    "build_folds",
    "compute_online_codelength",
    "control_task_layers",
    "correct_table",
    "group_bootstrap",
    "heldout_folds",
    "heldout_scores",
    "item_flipped_labels",
    "linear_direction",
    "make_control_labels",
    "mdl_layers",
    "nested_heldout_scores",
    "paired_test",
    "permutation_test_layers",
    "plot_probe_layers",
    "predict_layers",
    "probe_layers",
    "selectivity",
    "summarize_layers",
]
