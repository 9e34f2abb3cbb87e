"""Control tasks (Hewitt & Liang 2019) and selectivity.

A control task keeps the data and replaces each word type's label by one random label,
the same for every token of that type, drawn from the task's empirical label
distribution. A probe can only do well on it by memorising types, so task accuracy minus
control accuracy (selectivity) measures what the representation makes linearly available
beyond what the probe can memorise.

Folds matter here. Hewitt & Liang split by sentence: word types recur across train and
test, so a probe can learn a type's control label from its training tokens and apply it
to the test tokens, and control accuracy measures how much the probe can memorise.
That is the default here (``groups="sentences"``: the ``stimulus_id`` of word-level
activations), stated explicitly because ``groups="auto"`` means what it means in every
probing function (word types for word-level rows; see :func:`~probing.probes.build_folds`).
With folds grouped by word type every test type is unseen in training, a control label
cannot be learnt, and control accuracy sits at chance by construction: that design
tests lexical generalisation instead and is available with ``groups="types"``.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from scipy import stats

from probing._core.defaults import CI, RANDOM_STATE
from probing._core.errors import ProbingError
from probing.probes._design import fit_predict_layers, prepare
from probing.probes._inputs import as_labels, check_groups, check_source
from probing.probes.probe_sweep import score_table

__all__ = ["SELECTIVITY_COLUMNS", "control_task_layers", "make_control_labels", "selectivity"]

#: Columns of :func:`selectivity`.
SELECTIVITY_COLUMNS = ("layer", "probe", "task", "metric", "estimate", "ci_low", "ci_high", "n")


def make_control_labels(word_types, labels, *, random_state):
    """One random label per word type, drawn from the labels' token frequencies.

    Parameters
    ----------
    word_types : array_like of shape (n_rows,)
        Word type of each row (e.g. the lower-cased word).
    labels : array_like of shape (n_rows,)
        The task's labels; their token frequencies are the sampling distribution.
    random_state : int or numpy.random.Generator
        The same seed gives the same control labels (types are drawn in sorted order).

    Returns
    -------
    numpy.ndarray of shape (n_rows,)
        Control labels, constant within each type, with ``labels``' dtype.

    Examples
    --------
    >>> types = ["the", "dog", "the", "runs", "dog"]
    >>> control = make_control_labels(types, ["DET", "NOUN", "DET", "VERB", "NOUN"],
    ...                               random_state=0)
    >>> bool(control[0] == control[2] and control[1] == control[4])
    True
    """
    word_types, labels = as_labels(word_types), np.asarray(labels)
    if word_types.ndim != 1 or labels.ndim != 1 or len(word_types) != len(labels):
        raise ProbingError(f"make_control_labels: word_types and labels must be 1-D of the "
                           f"same length; got shapes {word_types.shape} and {labels.shape}")
    if len(labels) == 0 or pd.isna(word_types).any() or pd.isna(labels).any():
        raise ProbingError("make_control_labels: word_types and labels must be non-empty, "
                           "without missing values")
    classes, counts = np.unique(labels, return_counts=True)
    type_of_row, types = _sorted_codes(word_types)
    rng = np.random.default_rng(random_state)
    drawn = rng.choice(len(classes), size=len(types), p=counts / counts.sum())
    return classes[drawn][type_of_row]


def _sorted_codes(values):
    """Codes of equal values (``1 == 1.0``, ``1 != "1"``), numbered in a sorted order.

    The order (by text, then by kind) does not depend on the row order, so the same
    seed gives every type the same control label however the rows are shuffled.
    """
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))

    def key(value):
        number = isinstance(value, numbers.Number) and not isinstance(value, bool)
        if number and float(value).is_integer():
            value = int(value)
        return str(value), not number, type(value).__name__

    order = sorted(range(len(uniques)), key=lambda k: key(uniques[k]))
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return rank[codes], [uniques[k] for k in order]


def control_task_layers(activations, labels, *, word_types="auto", groups="sentences", cv=5,
                        probe="logistic", seeds=(0, 1, 2, 3, 4), layers=None, random_state=RANDOM_STATE,
                        n_jobs=None):
    """Layer sweep on the task and on one control task per seed, with the same folds.

    Parameters
    ----------
    activations : Activations or numpy.ndarray of shape (n_rows, n_layers, n_units)
    labels : array_like of shape (n_rows,)
        Task classes.
    word_types : "auto" or array_like of shape (n_rows,), default "auto"
        ``"auto"``: the lower-cased ``word`` of word-level ``Activations``.
    groups : "sentences", "types", "items", "auto", None or array_like, default "sentences"
        What the folds keep on one side. ``"sentences"``: the ``stimulus_id`` of
        word-level ``Activations``, as in Hewitt & Liang, so that types recur across
        train and test; ``"types"``: the word types (control accuracy is then at chance
        by construction; see the module docstring); ``"auto"`` resolves as everywhere
        (word-level rows: ``"types"``); an array: your own groups.
    cv : int, splitter or list of (train, test), default 5
        As in :func:`~probing.probes.build_folds` (with these ``groups``).
    probe : str or classifier, default "logistic"
    seeds : sequence of int, default (0, 1, 2, 3, 4)
        One control task per seed (``make_control_labels(..., random_state=seed)``).
    layers, random_state, n_jobs
        As in :func:`~probing.probes.probe_layers`.

    Returns
    -------
    pandas.DataFrame
        ``SCORE_COLUMNS`` (as :func:`~probing.probes.probe_layers`): rows with
        ``task="task"`` (``seed`` missing) and ``task="control"`` (``seed`` set).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> types = rng.integers(0, 30, size=300); labels = types % 2
    >>> X = rng.normal(size=(300, 2, 3)); X[:, 1, 0] += 2 * labels
    >>> sentences = np.arange(300) // 10
    >>> table = control_task_layers(X, labels, word_types=types, groups=sentences, cv=3,
    ...                             seeds=(0, 1))
    >>> sorted(table.task.unique())
    ['control', 'task']
    """
    where = "control_task_layers"
    types = _word_types(activations, word_types, where)
    groups = _control_groups(activations, groups, types, where)
    design = prepare(activations, labels, groups=groups, cv=cv, probe=probe, layers=layers,
                     stimuli=None, random_state=random_state, where=where)
    if not design.classification:
        raise ProbingError(f"{where}: control tasks need a classifier probe; got "
                           f"{design.probe_name}")
    seeds = _check_seeds(seeds, where)
    tables = [score_table(design, design.labels,
                          fit_predict_layers(design, design.labels, n_jobs=n_jobs))]
    for seed in seeds:
        control = make_control_labels(types, design.labels, random_state=seed)
        preds = fit_predict_layers(design, control, n_jobs=n_jobs)
        tables.append(score_table(design, control, preds, task="control", seed=seed))
    return pd.concat(tables, ignore_index=True)


def _word_types(activations, word_types, where):
    if isinstance(word_types, str):
        if word_types != "auto":
            raise ProbingError(f"{where}: word_types must be 'auto' or an array with one "
                               f"type per row; got {word_types!r}")
        index = getattr(activations, "index", None)
        if index is None or "word" not in index:
            raise ProbingError(f"{where}: word_types='auto' needs word-level Activations "
                               f"(an index with a word column); pass word_types=")
        return index["word"].astype(str).str.lower().to_numpy()
    return np.asarray(word_types)


def _control_groups(activations, groups, types, where):
    if isinstance(groups, str):
        source = check_source(activations, None, where)
        return check_groups(groups, source, source.n_rows, where, types=types)
    return groups


def _check_seeds(seeds, where):
    seeds = list(seeds) if not isinstance(seeds, int | np.integer) else [seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ProbingError(f"{where}: seeds must be one or more distinct ints; got {seeds!r}")
    return [int(s) for s in seeds]


def selectivity(table, *, metric="accuracy", ci=CI):
    """Task, control and selectivity (task - control) per layer, with t-intervals.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`control_task_layers` (``SCORE_COLUMNS``).
    metric : {"accuracy", "balanced_accuracy", "f1_macro"}, default "accuracy"
    ci : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        ``layer, probe, task, metric, value, ci_low, ci_high, n`` with three rows per
        layer and probe: ``task`` (mean over folds; t-interval over the ``n`` folds),
        ``control`` and ``selectivity`` (mean over the ``n`` seeds of the fold-mean
        control score, and of task minus it; t-interval over seeds, since a
        percentile interval over five seeds would be just their range). The task
        score is fixed across seeds, so the selectivity interval reflects the random
        draw of control labels. One seed gives no interval (NaN).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> types = rng.integers(0, 30, size=300); labels = types % 2
    >>> X = rng.normal(size=(300, 2, 3)); X[:, 1, 0] += 2 * labels
    >>> sel = selectivity(control_task_layers(X, labels, word_types=types, groups="types",
    ...                                       cv=3))
    >>> sel[sel.task == "selectivity"].estimate.round(2).tolist()
    [0.03, 0.37]
    """
    missing = {"layer", "probe", "task", "seed", "fold", "metric", "estimate"} - set(table)
    if missing:
        raise ProbingError(f"selectivity: table must come from control_task_layers; missing "
                           f"columns {sorted(missing)}")
    if metric not in set(table["metric"]):
        raise ProbingError(f"selectivity: metric must be one of "
                           f"{sorted(set(table['metric']))}; got {metric!r}")
    table = table[table["metric"] == metric]
    rows = []
    for (layer, probe), frame in table.groupby(["layer", "probe"], sort=True):
        task = frame.loc[frame["task"] == "task", "estimate"].to_numpy()
        control = frame[frame["task"] == "control"].groupby("seed")["estimate"].mean().to_numpy()
        if task.size == 0 or control.size == 0:
            raise ProbingError(f"selectivity: layer {layer} needs task and control rows")
        for name, values in (("task", task), ("control", control),
                             ("selectivity", task.mean() - control)):
            low, high = _t_interval(values, ci)
            rows.append({"layer": layer, "probe": probe, "task": name, "metric": metric,
                         "estimate": float(np.mean(values)), "ci_low": low, "ci_high": high,
                         "n": len(values)})
    return pd.DataFrame(rows, columns=list(SELECTIVITY_COLUMNS))


def _t_interval(values, ci):
    if len(values) < 2:
        return np.nan, np.nan
    half = stats.t.ppf((1 + ci) / 2, len(values) - 1) * stats.sem(values)
    mean = float(np.mean(values))
    return mean - half, mean + half
