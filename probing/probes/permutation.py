"""Label-permutation tests per layer, corrected across layers (and probes).

The statistic is the cross-validated score (mean over the design's folds of accuracy,
or R^2 for regressors); its null recomputes it, on the same folds, with permuted labels.
Ridge probes (:class:`RidgeClassifierProbe`, :class:`RidgeProbe`) take a closed-form
path: one hat map per layer and fold, then every permutation's predictions in one matrix
product (equal to refitting, to rounding). Other probes are refitted per permutation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from probing._core.errors import ProbingError
from probing.probes._closed_form import PermutedTargets, permuted_scores
from probing.probes._design import prepare
from probing.probes._metrics import mean_baselines, score
from probing.probes.estimators import RidgeClassifierProbe, RidgeProbe
from probing.stats import CORRECTIONS, correct_pvalues, permutation_pvalue

__all__ = ["PERMUTATION_COLUMNS", "correct_table", "permutation_test_layers"]

#: Columns of :func:`permutation_test_layers`.
PERMUTATION_COLUMNS = ("layer", "probe", "metric", "value", "null_mean", "null_sd", "majority",
                       "chance", "p_val", "p_corr", "correction", "n_perm", "permute")
PERMUTE = ("auto", "rows", "groups")
METHODS = ("auto", "closed_form", "refit")


def permutation_test_layers(activations, labels, *, groups="auto", cv=5,
                            probe="ridge_classifier", n_perm=1000, within=None, permute="auto",
                            correction="holm", method="auto", layers=None, stimuli=None,
                            random_state=0, n_jobs=None):
    """Permutation p-value of each layer's cross-validated score, corrected across layers.

    Parameters
    ----------
    activations, labels, groups, cv, layers, stimuli
        As in :func:`~probing.probes.probe_layers`; the folds are built once and used
        for the observed score and every permutation.
    probe : str or estimator, default "ridge_classifier"
        Ridge probes use the closed-form path (``alpha`` fixed).
    n_perm : int, default 1000
        Permutations; the same ones for every layer.
    within : array_like of shape (n_rows,), optional
        Blocks: rows are permuted only within their block (e.g. a condition or a
        sentence), for designs where only those rows are exchangeable.
    permute : {"auto", "rows", "groups"}, default "auto"
        ``rows``: permute row labels (within ``within`` blocks if given). ``groups``:
        labels constant within each group (a type-level label, e.g. a word's lexical
        class) are permuted among groups, so the null keeps the design's effective
        sample size. ``auto``: ``groups`` when the labels are constant within every
        group and some group has several rows, else ``rows``.
    correction : {"holm", "bonferroni", "fdr_bh"}, default "holm"
        Across the layers of this call (see :func:`correct_table` for several probes).
    method : {"auto", "closed_form", "refit"}, default "auto"
        ``auto`` takes the closed form for ridge probes and refits otherwise.
    random_state : int, default 0
        Seeds the folds and the permutations.
    n_jobs : int, optional
        Layers in parallel on the refit path (the closed form uses BLAS threads).

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``layer, probe, metric`` (``accuracy`` or ``r2``), ``value``
        (observed), ``null_mean, null_sd``, ``majority, chance`` (fold means),
        ``p_val`` ((b + 1) / (n_perm + 1), never 0), ``p_corr, correction, n_perm,
        permute`` (the scheme used).

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
    design = prepare(activations, labels, groups=groups, cv=cv, probe=probe, layers=layers,
                     stimuli=stimuli, random_state=random_state, where=where)
    _check_options(n_perm, permute, method, correction, where)
    targets, n_classes = _targets(design)
    scheme = _scheme(permute, design, within, where)
    rng = np.random.default_rng(random_state)
    perms = np.vstack([np.arange(design.source.n_rows),  # the identity gives the observed score
                       _permutations(design, scheme, within, int(n_perm), rng, where)])
    closed = method == "closed_form" or (method == "auto" and _is_ridge(design.probe))
    if closed and not _is_ridge(design.probe):
        raise ProbingError(f"{where}: method='closed_form' needs a RidgeClassifierProbe or "
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


def _check_options(n_perm, permute, method, correction, where):
    if isinstance(n_perm, bool) or not isinstance(n_perm, int | np.integer) or n_perm < 1:
        raise ProbingError(f"{where}: n_perm must be a positive int; got {n_perm!r}")
    if permute not in PERMUTE:
        raise ProbingError(f"{where}: permute must be one of {list(PERMUTE)}; got {permute!r}")
    if method not in METHODS:
        raise ProbingError(f"{where}: method must be one of {list(METHODS)}; got {method!r}")
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


def _scheme(permute, design, within, where):
    constant = design.groups is not None and _constant_within(design.labels, design.codes)
    if permute == "groups":
        if design.groups is None:
            raise ProbingError(f"{where}: permute='groups' needs groups")
        if not constant:
            raise ProbingError(f"{where}: permute='groups' needs labels constant within each "
                               f"group; use permute='rows' (optionally with within=)")
    scheme = permute
    if permute == "auto":
        several = design.groups is not None and np.bincount(design.codes).max() > 1
        scheme = "groups" if constant and several and within is None else "rows"
    if within is not None and scheme != "rows":
        raise ProbingError(f"{where}: within= applies to permute='rows' only")
    return scheme


def _constant_within(labels, codes):
    frame = pd.DataFrame({"g": codes, "y": pd.factorize(labels)[0]})
    return bool((frame.groupby("g")["y"].nunique() == 1).all())


def _permutations(design, scheme, within, n_perm, rng, where):
    """``(n_perm, n_rows)`` source rows: permuted row ``i`` takes the label of ``perm[i]``."""
    n_rows = design.source.n_rows
    if scheme == "groups":
        codes = design.codes
        first_row = np.unique(codes, return_index=True)[1]
        shuffled = rng.permuted(np.tile(np.arange(first_row.size), (n_perm, 1)), axis=1)
        return first_row[shuffled[:, codes]]
    if within is None:
        return rng.permuted(np.tile(np.arange(n_rows), (n_perm, 1)), axis=1)
    blocks = np.asarray(within)
    if blocks.ndim != 1 or blocks.shape[0] != n_rows or pd.isna(blocks).any():
        raise ProbingError(f"{where}: within must be 1-D with one block per row ({n_rows}), "
                           f"no missing values; got shape {blocks.shape}")
    perms = np.tile(np.arange(n_rows), (n_perm, 1))
    for rows in pd.Series(np.arange(n_rows)).groupby(pd.factorize(blocks)[0]).indices.values():
        perms[:, rows] = rows[rng.permuted(np.tile(np.arange(rows.size), (n_perm, 1)), axis=1)]
    return perms


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
        "value": observed, "null_mean": null.mean(axis=1), "null_sd": null.std(axis=1, ddof=1)
        if null.shape[1] > 1 else np.nan, "majority": majority, "chance": chance,
        "p_val": permutation_pvalue(observed, null.T), "n_perm": null.shape[1],
        "permute": scheme,
    })
    table["p_corr"] = correct_pvalues(table["p_val"].to_numpy(), method=correction)
    table["correction"] = correction
    return table[list(PERMUTATION_COLUMNS)]


def correct_table(table, *, method="holm", by=None):
    """Recompute ``p_corr`` over a family of tests (e.g. layers x probes).

    Parameters
    ----------
    table : pandas.DataFrame
        Has a ``p_val`` column, e.g. several :func:`permutation_test_layers` tables
        concatenated with ``pd.concat``.
    method : {"holm", "bonferroni", "fdr_bh"}, default "holm"
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
    >>> correct_table(t, method="bonferroni")["p_corr"].round(2).tolist()
    [0.03, 0.12, 0.09]
    """
    if "p_val" not in table:
        raise ProbingError("correct_table: table must have a p_val column")
    if method not in CORRECTIONS:
        raise ProbingError(f"correct_table: method must be one of {list(CORRECTIONS)}; "
                           f"got {method!r}")
    out = table.copy()
    keys = [by] if isinstance(by, str) else list(by or [])
    p_val, p_corr = out["p_val"].to_numpy(float), np.full(len(out), np.nan)
    families = [np.arange(len(out))]
    if keys:
        families = out.groupby(keys[0] if len(keys) == 1 else keys, sort=False).indices.values()
    for rows in families:
        p_corr[rows] = correct_pvalues(p_val[rows], method=method)
    out["p_corr"] = p_corr
    out["correction"] = method
    return out
