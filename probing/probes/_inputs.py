"""Checking what every probing function receives: activations, labels, groups, probes.

Private: the public functions in this package validate through these helpers so that a
malformed input gets the same message wherever it enters.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier, is_regressor

from probing._core.errors import ProbingError
from probing.probes.estimators import LogisticProbe, MLPProbe, RidgeClassifierProbe, RidgeProbe
from probing.store import Activations

#: Probe names accepted wherever a ``probe`` is asked for, mapped to default estimators
#: (the MLP seeded, so that the same call gives the same numbers, and stopped early on
#: held-out training rows, so that it does not run to ``max_iter`` memorising a task).
PROBES = {
    "logistic": LogisticProbe,
    "ridge": RidgeProbe,
    "ridge_classifier": RidgeClassifierProbe,
    "mlp": lambda: MLPProbe(early_stopping=True, random_state=0),
}


@dataclasses.dataclass(frozen=True)
class Source:
    """Activations reduced to what the analyses need: values, layer names, row index."""

    values: np.ndarray  # (n_rows, n_layers, n_units), possibly memory-mapped
    layers: tuple
    index: pd.DataFrame  # one row per row of values; ``row`` plus any stimulus columns

    @property
    def n_rows(self):
        return self.values.shape[0]

    def layer(self, layer):
        """Float64 copy of one layer, ``(n_rows, n_units)``."""
        return np.asarray(self.values[:, self.layers.index(layer)], dtype=np.float64)


def check_source(activations, layers, where):
    """Wrap an :class:`Activations` or a 3-D array; select or name ``layers``."""
    if isinstance(activations, Activations):
        index = activations.index.reset_index(drop=True).copy()
        available = activations.layers
        chosen = available if layers is None else tuple(int(k) for k in layers)
        missing = [k for k in chosen if k not in available]
        if missing:
            raise ProbingError(f"{where}: layers {missing} not in the activations; "
                               f"available: {list(available)}")
        positions = [available.index(k) for k in chosen]
        values = activations.values
        if positions != list(range(len(available))):
            values = _LayerView(values, positions)
        index.insert(0, "row", np.arange(len(index)))
        return Source(values, tuple(chosen), index)
    values = np.asarray(activations) if not isinstance(activations, np.ndarray) else activations
    if values.ndim != 3 or values.shape[0] == 0 or values.shape[2] == 0:
        raise ProbingError(f"{where}: activations must be an Activations or an array of shape "
                           f"(n_rows, n_layers, n_units); got shape {values.shape}")
    if not np.issubdtype(values.dtype, np.number):
        raise ProbingError(f"{where}: activations must be numeric; got dtype {values.dtype}")
    names = tuple(range(values.shape[1])) if layers is None else tuple(int(k) for k in layers)
    if len(names) != values.shape[1] or len(set(names)) != len(names):
        raise ProbingError(f"{where}: layers must name each of the {values.shape[1]} slices "
                           f"of an array once; got {list(names)}")
    return Source(values, names, pd.DataFrame({"row": np.arange(values.shape[0])}))


class _LayerView:
    """A subset of layers of a (memory-mapped) array, read one layer at a time."""

    def __init__(self, values, positions):
        self._values, self._positions = values, positions
        self.shape = (values.shape[0], len(positions), values.shape[2])

    def __getitem__(self, key):
        rows, position = key
        return self._values[rows, self._positions[position]]


def check_probe(probe, where):
    """A fresh (unfitted) estimator and its name from a probe name or an estimator."""
    if isinstance(probe, str):
        if probe not in PROBES:
            raise ProbingError(f"{where}: probe must be one of {list(PROBES)} or a scikit-learn "
                               f"estimator; got {probe!r}")
        return PROBES[probe](), probe
    if not (hasattr(probe, "fit") and hasattr(probe, "predict") and hasattr(probe, "get_params")):
        raise ProbingError(f"{where}: probe must be one of {list(PROBES)} or a scikit-learn "
                           f"estimator (fit/predict/get_params); got {type(probe).__name__}")
    if not (is_classifier(probe) or is_regressor(probe)):
        raise ProbingError(f"{where}: probe {type(probe).__name__} is neither a classifier "
                           f"nor a regressor")
    return clone(probe), type(probe).__name__


def check_labels(labels, n_rows, classification, where):
    """Labels as a 1-D array aligned with rows: any hashable for classes, floats for targets."""
    if isinstance(labels, str) or labels is None:
        raise ProbingError(f"{where}: labels must be array-like with one entry per row; "
                           f"got {labels!r}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ProbingError(f"{where}: labels must be 1-D with one entry per row ({n_rows}); "
                           f"got shape {labels.shape}")
    if pd.isna(labels).any():
        raise ProbingError(f"{where}: labels contain missing values; drop those rows first")
    if classification:
        if np.unique(labels).size < 2:
            raise ProbingError(f"{where}: labels must hold at least 2 classes for a classifier")
        return labels
    if not np.issubdtype(labels.dtype, np.number) or labels.dtype == bool:
        raise ProbingError(f"{where}: a regression probe needs numeric labels; "
                           f"got dtype {labels.dtype}")
    return labels.astype(np.float64)


#: The named groupings of ``groups=``; ``"auto"`` resolves to one of them the same way in
#: every function (:func:`resolve_auto_groups`).
GROUPINGS = ("types", "sentences", "items")


def resolve_auto_groups(source):
    """What ``groups="auto"`` means, everywhere: ``types`` for word-level rows, else ``items``.

    Word-level rows of one type share their form, so a probe could memorise the type:
    folds keep each type on one side. Sentence-level rows of one item share their
    lexical material: folds keep each item on one side.
    """
    return "types" if "word" in source.index else "items"


def check_groups(groups, source, n_rows, where, *, stimuli=None, types=None):
    """Row groups for the folds: an array, None, or a name in :data:`GROUPINGS` or ``auto``."""
    if groups is None:
        return None
    if isinstance(groups, str):
        if groups not in ("auto", *GROUPINGS):
            raise ProbingError(f"{where}: groups must be 'auto', {', '.join(map(repr, GROUPINGS))}, "
                               f"None or an array with one entry per row; got {groups!r}")
        named = resolve_auto_groups(source) if groups == "auto" else groups
        groups = _named_groups(named, source, stimuli, where, types=types, auto=groups == "auto")
    groups = as_labels(groups)
    if groups.ndim != 1 or groups.shape[0] != n_rows:
        raise ProbingError(f"{where}: groups must be 1-D with one entry per row ({n_rows}); "
                           f"got shape {groups.shape}")
    if pd.isna(groups).any():
        raise ProbingError(f"{where}: groups contain missing values")
    return groups


def _named_groups(named, source, stimuli, where, *, types=None, auto=False):
    index = source.index
    if named == "types":
        if types is not None:
            return np.asarray(types)
        if "word" not in index:
            raise ProbingError(f"{where}: groups='types' needs word-level activations (an "
                               f"index with a word column)")
        return index["word"].astype(str).str.lower().to_numpy()
    if named == "sentences":
        if "stimulus_id" not in index:
            raise ProbingError(f"{where}: groups='sentences' groups folds by sentence and needs "
                               f"Activations with a stimulus_id index; pass groups= (sentence of "
                               f"each row), or groups='types'")
        return index["stimulus_id"].astype(str).to_numpy()
    return _item_groups(index, stimuli, where, auto)


def _item_groups(index, stimuli, where, auto):
    if stimuli is None and "item_id" in index:  # stores written since 0.2 carry item_id
        return index["item_id"].astype(str).to_numpy()
    if stimuli is not None:
        table = getattr(stimuli, "table", stimuli)
        if not isinstance(table, pd.DataFrame) or not {"stimulus_id", "item_id"} <= set(table):
            raise ProbingError(f"{where}: stimuli must be a Stimuli or a table with columns "
                               f"stimulus_id and item_id")
        if "stimulus_id" not in index:
            raise ProbingError(f"{where}: stimuli can only group an Activations (it has a "
                               f"stimulus_id index); pass groups= for an array")
        items = table.drop_duplicates("stimulus_id").set_index("stimulus_id")["item_id"]
        mapped = index["stimulus_id"].astype(str).map(items.rename(index=str))
        if mapped.isna().any():
            missing = index["stimulus_id"][mapped.isna()].iloc[:3].tolist()
            raise ProbingError(f"{where}: stimuli has no item_id for stimulus_id {missing}")
        return mapped.to_numpy()
    name = "groups='auto'" if auto else "groups='items'"
    raise ProbingError(f"{where}: {name} needs word-level activations (grouped by word "
                       f"type), an item_id in the activations' index, or stimuli= (grouped by "
                       f"item_id); pass groups= explicitly, or groups=None to allow ungrouped "
                       f"folds")


def as_labels(values):
    """A 1-D array of labels that keeps each value's type.

    ``numpy.asarray([1, "1"])`` would turn both into the string ``"1"``; an object
    array keeps them apart, while equal numbers (``1`` and ``1.0``) stay equal.
    """
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy()
    if isinstance(values, np.ndarray):
        return values
    array = np.asarray(values)
    return array if array.dtype != object and array.dtype.kind not in "US" else np.array(
        list(values) if np.ndim(values) == 1 else values, dtype=object)


def group_codes(groups, n_rows):
    """Integer code per row (each row its own group when ``groups`` is None).

    Codes follow value equality: ``1`` and ``1.0`` are one group, ``1`` and ``"1"`` two.
    They are numbered in sorted order where the values sort (the order scikit-learn's
    splitters give raw labels, so folds do not change), else in order of appearance.
    """
    if groups is None:
        return np.arange(n_rows)
    values = np.asarray(groups, dtype=object)
    try:
        return pd.factorize(values, sort=True)[0]
    except TypeError:  # values of kinds that do not compare (1 and "1")
        return pd.factorize(values)[0]
