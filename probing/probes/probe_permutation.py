"""Label-permutation tests per layer, corrected across layers (and probes).

The statistic is the cross-validated score (mean over the design's folds of accuracy,
or R^2 for regressors); its null recomputes it, on the same folds, with permuted labels.
The folds of an int ``cv`` are built without the labels (``KFold``/``GroupKFold``):
stratified folds reused for a shuffled labelling are no longer balanced, the shuffled
scores drop, and the test rejected up to 45% of null data sets (issue #15). Explicit
folds are kept, with permutations restricted to keep each fold's label counts (see
:mod:`probing.probes._schemes`); either way the test is exact.
Ridge probes (:class:`RidgeClassifierProbe`, :class:`RidgeProbe`) take a closed-form
path: one hat map per layer and fold, then every permutation's predictions in one matrix
product (equal to refitting, to rounding). Other probes are refitted per permutation.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from probing._core.defaults import N_PERM, RANDOM_STATE
from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.probes._closed_form import PermutedTargets, permuted_scores
from probing.probes._design import prepare
from probing.probes._metrics import mean_baselines, score
from probing.probes._schemes import PERMUTE, draw_permutations, resolve_scheme
from probing.probes.estimators import RidgeClassifierProbe, RidgeProbe
from probing.stats import CORRECTIONS, correct_pvalues, correction_label, permutation_pvalue

__all__ = ["PERMUTATION_COLUMNS", "correct_table", "permutation_test_layers"]

#: Columns of :func:`permutation_test_layers`.
PERMUTATION_COLUMNS = ("layer", "probe", "metric", "estimate", "null_mean", "null_sd", "majority",
                       "chance", "p_val", "p_corr", "correction", "n_perm", "permute",
                       "below_chance")
#: Level of the one-sided test (corrected like p_corr) that flags a score below its null.
BELOW_CHANCE_ALPHA = 0.05
ENGINES = ("auto", "closed_form", "refit")
METHODS = ENGINES  # its name before 0.2 (one release)


@renamed(method="engine")
def permutation_test_layers(activations, labels, *, groups="auto", cv=5,
                            probe="ridge_classifier", n_perm=N_PERM, within=None, permute="auto",
                            correction="holm", engine="auto", layers=None, stimuli=None,
                            random_state=RANDOM_STATE, n_jobs=None):
    """Permutation p-value of each layer's cross-validated score, corrected across layers.

    Parameters
    ----------
    activations, labels, groups, cv, layers, stimuli
        As in :func:`~probing.probes.probe_layers`; the folds are built once and used
        for the observed score and every permutation. An int ``cv`` gives folds that
        do not depend on the labels (``GroupKFold``/``KFold``, shuffled; unlike
        :func:`~probing.probes.probe_layers`, not stratified), so that every drawn
        relabelling is as valid as the true one. Explicit folds or a splitter are
        kept, and the permutations stay inside each test fold (rows, or groups of one
        size), which keeps every fold's label counts: exact for folds stratified on
        the labels too.
    probe : str or estimator, default "ridge_classifier"
        Ridge probes use the closed-form path (``alpha`` fixed).
    n_perm : int, default ``N_PERM`` = 10,000
        Default from ``probing._core.defaults`` (p down to 1e-4, so a corrected layer sweep can reach 0.05).
        Permutations; the same ones for every layer.
    within : array_like of shape (n_rows,), optional
        Blocks: rows are permuted only within their block (e.g. a condition or a
        sentence), for designs where only those rows are exchangeable.
    permute : {"auto", "rows", "groups", "within_groups"}, default "auto"
        ``rows``: permute row labels (within ``within`` blocks if given). ``groups``:
        whole groups exchange their labels, so the null keeps the design's effective
        sample size: a group with a constant label (a type-level label, e.g. a word's
        lexical class) gives it to any other such group; a group with mixed labels (an
        ambiguous word type) moves its labels, row by row, to another mixed group of
        the same size (a warning counts the groups left without a partner).
        ``within_groups``: rows are permuted only inside their group (a factor that
        varies within items). ``auto``: ``rows`` without groups (or with ``within``);
        ``groups`` when the label is constant within at least half of the multi-row
        groups; else ``within_groups``.
    correction : {"holm", "bonferroni", "fdr_bh"}, default "holm"
        Across the layers of this call (see :func:`correct_table` for several probes).
    engine : {"auto", "closed_form", "refit"}, default "auto"
        ``auto`` takes the closed form for ridge probes and refits otherwise.
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).
        Seeds the folds and the permutations.
    n_jobs : int, optional
        Layers in parallel on the refit path (the closed form uses BLAS threads).

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``layer, probe, metric`` (``accuracy`` or ``r2``), ``estimate``
        (observed), ``null_mean, null_sd``, ``majority, chance`` (fold means),
        ``p_val`` ((b + 1) / (n_perm + 1), never 0), ``p_corr, correction, n_perm,
        permute`` (the scheme used: ``rows, groups, within_groups``, with
        ``_within_folds`` appended when explicit folds restricted it),
        ``below_chance``: the score is reliably *below* its permutation null (the
        one-sided p-value, corrected the same way, under 0.05), which means a broken
        design or anti-learning under cross-validation, not "no information"; a
        warning names those layers.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([0, 1], 40); X = rng.normal(size=(80, 3, 5)); X[:, 2, 0] += 2 * y
    >>> res = permutation_test_layers(X, y, groups=None, n_perm=199)
    >>> res.loc[res.p_corr < 0.05, "layer"].tolist(), float(res.p_val.min())
    ([2], 0.005)
    """
    where = "permutation_test_layers"
    label_free = isinstance(cv, numbers.Integral) and not isinstance(cv, bool)
    design = prepare(activations, labels, groups=groups, cv=cv, probe=probe, layers=layers,
                     stimuli=stimuli, random_state=random_state, where=where, stratify=False)
    _check_options(n_perm, permute, engine, correction, where)
    targets, n_classes = _targets(design)
    scheme = resolve_scheme(permute, design, within, where)
    rng = np.random.default_rng(random_state)
    perms = np.vstack([np.arange(design.source.n_rows),  # the identity gives the observed score
                       _permutations(design, scheme, within, int(n_perm), rng, where,
                                     label_free=label_free)])
    if not label_free and scheme != "within_groups":
        scheme += "_within_folds"
    closed = engine == "closed_form" or (engine == "auto" and _is_ridge(design.probe))
    if closed and not _is_ridge(design.probe):
        raise ProbingError(f"{where}: engine='closed_form' needs a RidgeClassifierProbe or "
                           f"RidgeProbe; got {design.probe_name}")
    if closed:
        coded = PermutedTargets(targets, perms, design.folds,
                                classification=design.classification, n_classes=n_classes)
        scores = np.stack([permuted_scores(design.source.layer(k), coded,
                                           alpha=design.probe.alpha)
                           for k in design.source.layers])
    else:
        jobs = (delayed(_refit_scores)(design.source.layer(k), targets, perms, design)
                for k in design.source.layers)
        scores = np.stack(Parallel(n_jobs=n_jobs)(jobs))  # (n_layers, 1 + n_perm)
    return _table(design, scores, scheme, correction)


def _check_options(n_perm, permute, engine, correction, where):
    if isinstance(n_perm, bool) or not isinstance(n_perm, int | np.integer) or n_perm < 1:
        raise ProbingError(f"{where}: n_perm must be a positive int; got {n_perm!r}")
    if permute not in PERMUTE:
        raise ProbingError(f"{where}: permute must be one of {list(PERMUTE)}; got {permute!r}")
    if engine not in ENGINES:
        raise ProbingError(f"{where}: engine must be one of {list(ENGINES)}; got {engine!r}")
    if correction not in CORRECTIONS:
        raise ProbingError(f"{where}: correction must be one of {list(CORRECTIONS)}; "
                           f"got {correction!r}")


def _is_ridge(probe):
    return isinstance(probe, RidgeClassifierProbe | RidgeProbe)


def _targets(design):
    if not design.classification:
        return design.labels, 0
    classes, codes = np.unique(design.labels, return_inverse=True)
    return codes, len(classes)


def _permutations(design, scheme, within, n_perm, rng, where, *, label_free=True):
    """``(n_perm, n_rows)`` source rows (see :mod:`probing.probes._schemes`)."""
    return draw_permutations(design, scheme, within, n_perm, rng, where, label_free=label_free)


def _refit_scores(X, targets, perms, design):
    metric = "accuracy" if design.classification else "r2"
    out = np.zeros(len(perms))
    for train, test in design.folds:
        for p, perm in enumerate(perms):
            y = targets[perm]
            pred = clone(design.probe).fit(X[train], y[train]).predict(X[test])
            out[p] += score(metric, y[test], pred)
    return out / len(design.folds)


def _table(design, scores, scheme, correction):
    observed, null = scores[:, 0], scores[:, 1:]
    metric = "accuracy" if design.classification else "r2"
    targets = _targets(design)[0]
    majority, chance = mean_baselines(targets, design.folds, design.classification, metric)
    table = pd.DataFrame({
        "layer": list(design.source.layers), "probe": design.probe_name, "metric": metric,
        "estimate": observed, "null_mean": null.mean(axis=1), "null_sd": null.std(axis=1, ddof=1)
        if null.shape[1] > 1 else np.nan, "majority": majority, "chance": chance,
        "p_val": permutation_pvalue(observed, null.T), "n_perm": null.shape[1],
        "permute": scheme,
    })
    table["p_corr"] = correct_pvalues(table["p_val"].to_numpy(), correction=correction)
    table["correction"] = correction_label(correction)
    below = correct_pvalues(permutation_pvalue(observed, null.T, alternative="less"),
                            correction=correction)
    table["below_chance"] = below < BELOW_CHANCE_ALPHA
    if table["below_chance"].any():
        layers = table.loc[table["below_chance"], "layer"].tolist()
        warnings.warn(f"{design.probe_name}: the score of layer(s) {layers} is reliably below "
                      f"its permutation null (corrected one-sided p < {BELOW_CHANCE_ALPHA}): "
                      f"a broken design or anti-learning under cross-validation, not 'no "
                      f"information'", UserWarning, stacklevel=4)
    return table[list(PERMUTATION_COLUMNS)]


@renamed(method="correction")
def correct_table(table, *, correction="holm", by=None):
    """Recompute ``p_corr`` over a family of tests (e.g. layers x probes).

    Parameters
    ----------
    table : pandas.DataFrame
        Has a ``p_val`` column, e.g. several :func:`permutation_test_layers` tables
        concatenated with ``pd.concat``.
    correction : {"holm", "bonferroni", "fdr_bh"}, default "holm"
    by : str or list of str, optional
        Correct separately within each group of these columns (default: one family).

    Returns
    -------
    pandas.DataFrame
        A copy with ``p_corr`` and ``correction`` replaced.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"probe": ["a", "a", "b"], "p_val": [0.01, 0.04, 0.03]})
    >>> correct_table(t, correction="bonferroni")["p_corr"].round(2).tolist()
    [0.03, 0.12, 0.09]
    """
    if "p_val" not in table:
        raise ProbingError("correct_table: table must have a p_val column")
    if correction not in CORRECTIONS:
        raise ProbingError(f"correct_table: correction must be one of {list(CORRECTIONS)}; "
                           f"got {correction!r}")
    out = table.copy()
    keys = [by] if isinstance(by, str) else list(by or [])
    p_val, p_corr = out["p_val"].to_numpy(float), np.full(len(out), np.nan)
    families = [np.arange(len(out))]
    if keys:
        families = out.groupby(keys[0] if len(keys) == 1 else keys, sort=False).indices.values()
    for rows in families:
        p_corr[rows] = correct_pvalues(p_val[rows], correction=correction)
    out["p_corr"] = p_corr
    out["correction"] = correction_label(correction)
    return out
