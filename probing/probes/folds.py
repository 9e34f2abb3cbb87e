"""Cross-validation folds, computed once and shared by every analysis of a design.

A layer sweep, its control task, its permutations and a paired test between two layers
are only comparable when they use the same folds, so the folds are materialised as a
list of ``(train, test)`` index arrays and that list is what is passed around.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

from probing._core.defaults import RANDOM_STATE
from probing._core.errors import ProbingError
from probing.probes._inputs import (
    check_groups,
    check_labels,
    check_probe,
    check_source,
    group_codes,
)

__all__ = ["build_folds"]


def build_folds(activations, labels, *, groups="auto", cv=5, probe="logistic", stimuli=None,
                random_state=RANDOM_STATE):
    """Materialise cross-validation folds for one design.

    Parameters
    ----------
    activations : Activations or numpy.ndarray of shape (n_rows, n_layers, n_units)
        Only its rows (and, for ``groups="auto"``, its index) are used.
    labels : array_like of shape (n_rows,)
        Classes (for a classifier probe, used to stratify) or continuous targets.
    groups : "auto", "types", "sentences", "items", None or array_like, default "auto"
        Rows sharing a group are never split between train and test. ``"types"``: the
        lower-cased word (word-level activations); ``"sentences"``: the ``stimulus_id``;
        ``"items"``: the ``item_id`` (from the activations' index, or ``stimuli``).
        ``"auto"`` means the same in every probing function: ``"types"`` for word-level
        activations, else ``"items"``. ``None`` explicitly allows ungrouped folds (each
        row its own group).
    cv : int, splitter or iterable of (train, test), default 5
        An int ``k`` gives ``StratifiedGroupKFold(k, shuffle=True)`` for classifiers
        (classes balanced across folds as far as the groups allow) and
        ``GroupKFold(k, shuffle=True)`` for regressors, both seeded with
        ``random_state``; with ``groups=None`` their ungrouped counterparts
        (``StratifiedKFold``, ``KFold``). A splitter is called with
        ``split(rows, labels, groups)``; explicit folds are checked and kept.
    probe : str or estimator, default "logistic"
        Decides classification (stratified) or regression.
    stimuli : Stimuli or pandas.DataFrame, optional
        ``stimulus_id, item_id`` table for ``groups="auto"`` on sentence-level data.
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).
        Seeds the shuffling of an int ``cv``.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        ``(train, test)`` row indices per fold; test sets are disjoint, and no group
        has rows on both sides of any fold.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((12, 2, 3)); y = np.tile([0, 1], 6); items = np.repeat(np.arange(6), 2)
    >>> folds = build_folds(X, y, groups=items, cv=3)
    >>> [len(test) for _, test in folds]
    [4, 4, 4]
    """
    where = "build_folds"
    source = check_source(activations, None, where)
    estimator, _ = check_probe(probe, where)
    classification = is_classifier(estimator)
    labels = check_labels(labels, source.n_rows, classification, where)
    groups = check_groups(groups, source, source.n_rows, where, stimuli=stimuli)
    return split_rows(labels, groups, cv, classification=classification,
                      random_state=random_state, where=where)


def split_rows(labels, groups, cv, *, classification, random_state, where):
    """Folds from checked labels and groups (see :func:`build_folds`)."""
    n_rows = len(labels)
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        splitter = _default_splitter(int(cv), groups, classification, random_state, where)
    elif isinstance(cv, str | bytes | numbers.Number) or not hasattr(cv, "__iter__") and (
            not hasattr(cv, "split")):
        raise ProbingError(f"{where}: cv must be an int >= 2, a scikit-learn splitter or a "
                           f"list of (train, test) index arrays; got {cv!r}")
    elif hasattr(cv, "split"):
        splitter = cv
    else:
        return check_folds(list(cv), n_rows, groups, where)
    codes = None if groups is None else group_codes(groups, n_rows)  # 1 and 1.0 are one group
    try:
        folds = list(splitter.split(np.zeros((n_rows, 1)), labels, codes))
    except ValueError as err:
        raise ProbingError(f"{where}: cv could not split the rows: {err}") from err
    return check_folds(folds, n_rows, groups, where)


def _default_splitter(n_splits, groups, classification, random_state, where):
    if n_splits < 2:
        raise ProbingError(f"{where}: cv must be an int >= 2, a scikit-learn splitter or a "
                           f"list of (train, test) index arrays; got {n_splits}")
    if groups is None:
        kind = StratifiedKFold if classification else KFold
    else:
        kind = StratifiedGroupKFold if classification else GroupKFold
    return kind(n_splits, shuffle=True, random_state=random_state)


def check_folds(folds, n_rows, groups, where):
    """Validate explicit folds: index arrays in range, disjoint tests, no straddling group."""
    if not folds:
        raise ProbingError(f"{where}: cv gave no folds")
    checked, tested = [], np.zeros(n_rows, dtype=int)
    codes = None if groups is None else group_codes(groups, n_rows)
    for i, fold in enumerate(folds):
        train, test = _fold_arrays(fold, n_rows, i, where)
        tested[test] += 1
        if codes is not None and np.intersect1d(codes[train], codes[test]).size:
            raise ProbingError(f"{where}: fold {i} puts rows of the same group in train and "
                               f"test; use a grouped splitter (GroupKFold) or groups=None")
        checked.append((train, test))
    if tested.max() > 1:
        raise ProbingError(f"{where}: cv test sets overlap (row {int(np.argmax(tested > 1))} "
                           f"is tested twice); each row may be tested at most once")
    return checked


def _fold_arrays(fold, n_rows, i, where):
    try:
        train, test = fold
        train, test = np.asarray(train), np.asarray(test)
    except (TypeError, ValueError) as err:
        raise ProbingError(f"{where}: fold {i} must be a (train, test) pair of index "
                           f"arrays") from err
    for name, rows in (("train", train), ("test", test)):
        if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.integer):
            raise ProbingError(f"{where}: fold {i} {name} must be a non-empty 1-D array of "
                               f"row indices")
        if rows.min() < 0 or rows.max() >= n_rows:
            raise ProbingError(f"{where}: fold {i} {name} indexes outside 0..{n_rows - 1}")
    if np.intersect1d(train, test).size:
        raise ProbingError(f"{where}: fold {i} has rows in both train and test")
    return train.astype(np.intp), test.astype(np.intp)
