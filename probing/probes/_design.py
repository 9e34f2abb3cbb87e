"""One checked design (rows, labels, groups, folds, probe) shared by every analysis."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning

from probing.probes._inputs import (
    Source,
    check_groups,
    check_labels,
    check_probe,
    check_source,
    group_codes,
)
from probing.probes.folds import split_rows


@dataclasses.dataclass(frozen=True)
class Design:
    source: Source
    labels: np.ndarray
    groups: np.ndarray | None
    folds: list
    probe: object  # an unfitted estimator
    probe_name: str
    classification: bool

    @property
    def codes(self):
        """Integer group per row (each row alone when ungrouped)."""
        return group_codes(self.groups, self.source.n_rows)

    def fold_of_row(self):
        """Fold number testing each row (-1 for rows no fold tests)."""
        fold = np.full(self.source.n_rows, -1)
        for i, (_, test) in enumerate(self.folds):
            fold[test] = i
        return fold


def prepare(activations, labels, *, groups, cv, probe, layers, stimuli, random_state, where,
            stratify=True):
    """Check every input of an analysis and build its folds once.

    ``stratify=False`` builds an int ``cv``'s folds without looking at the labels (the
    permutation test needs folds that a relabelling leaves valid).
    """
    source = check_source(activations, layers, where)
    estimator, name = check_probe(probe, where)
    classification = is_classifier(estimator)
    labels = check_labels(labels, source.n_rows, classification, where)
    groups = check_groups(groups, source, source.n_rows, where, stimuli=stimuli)
    folds = split_rows(labels, groups, cv, classification=classification and stratify,
                       random_state=random_state, where=where)
    return Design(source, labels, groups, folds, estimator, name, classification)


def fit_predict_layers(design, labels, *, n_jobs=None):
    """Out-of-fold predictions, ``(n_layers, n_rows)`` (rows no fold tests stay empty).

    Fits that stop at their iteration cap are counted and reported in one warning per
    call instead of one per fit (joblib workers would each print theirs); so are fits
    that early stopping ended (an MLP whose held-out score stalled).
    """
    jobs = (delayed(_fit_predict_layer)(design.source.layer(k), labels, design.folds,
                                        design.probe) for k in design.source.layers)
    results = Parallel(n_jobs=n_jobs)(jobs)
    n_fits = len(results) * len(design.folds)
    capped = sum(r[1] for r in results)
    if capped:
        warnings.warn(f"{design.probe_name}: {capped} of {n_fits} fits stopped at their "
                      f"iteration cap (max_iter) before converging",
                      ConvergenceWarning, stacklevel=3)
    epochs = [n for r in results for n in r[2]]
    if epochs:
        warnings.warn(f"{design.probe_name}: {len(epochs)} of {n_fits} fits stopped early "
                      f"(held-out score stalled) after a median of {int(np.median(epochs))} "
                      f"epochs", UserWarning, stacklevel=3)
    return np.stack([r[0] for r in results])


def _fit_predict_layer(X, labels, folds, probe):
    pred = np.empty(len(labels), dtype=labels.dtype)
    pred[:] = labels[0] if labels.dtype == object else 0
    capped, stopped = 0, []
    for train, test in folds:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            fitted = clone(probe).fit(X[train], labels[train])
            pred[test] = fitted.predict(X[test])
        capped += any(issubclass(w.category, ConvergenceWarning) for w in caught)
        if getattr(fitted, "stopped_early_", False):
            stopped.append(fitted.n_iter_)
        for w in caught:  # anything else goes on as it came
            if not issubclass(w.category, ConvergenceWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return pred, capped, stopped
