"""The :class:`RDMs` container and the square <-> condensed helpers.

An RDM (representational dissimilarity matrix) over ``n`` stimuli is stored in
condensed form: the ``n * (n - 1) / 2`` entries above the diagonal, row by row, the
order of :func:`scipy.spatial.distance.squareform` (and of rsatoolbox's
``get_vectors``). A stack of RDMs (one per layer, model or subject) is a 2-D array
``(n_rdms, n_pairs)`` that shares one tuple of row labels (``stimulus_ids``).

The rows of an RDM are called *stimuli* (``n_stimuli``, ``stimulus_ids``) even when a
row is a mean over several patterns: ``condition`` means a paradigm's design cell.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from probing._core.deprecation import renamed, renamed_fields, renamed_function, renamed_property
from probing._core.errors import ProbingError

__all__ = ["RDMs", "check_rdm", "n_stimuli_from_pairs", "pair_indices", "to_condensed",
           "to_square"]


def n_stimuli_from_pairs(n_pairs):
    """Number of stimuli (RDM rows) ``n`` with ``n * (n - 1) / 2 == n_pairs``.

    Examples
    --------
    >>> n_stimuli_from_pairs(6)
    4
    """
    n = int(round((1 + math.sqrt(1 + 8 * n_pairs)) / 2))
    if n * (n - 1) // 2 != n_pairs or n < 2:
        raise ProbingError(f"condensed RDM length must be n*(n-1)/2 for some n >= 2 "
                           f"(1, 3, 6, 10, ...); got {n_pairs}")
    return n


n_conditions_from_pairs = renamed_function(n_stimuli_from_pairs, "n_conditions_from_pairs")


def pair_indices(n):
    """Row and column stimulus indices of each condensed entry (``i < j``).

    Examples
    --------
    >>> pair_indices(3)
    (array([0, 0, 1]), array([1, 2, 2]))
    """
    rows, cols = np.triu_indices(n, k=1)
    return rows, cols


def to_square(values):
    """Square form of condensed RDMs (zeros on the diagonal).

    Parameters
    ----------
    values : array_like of shape (n_pairs,) or (n_rdms, n_pairs)

    Returns
    -------
    numpy.ndarray of shape (n, n) or (n_rdms, n, n)

    Examples
    --------
    >>> to_square([1.0, 2.0, 3.0])
    array([[0., 1., 2.],
           [1., 0., 3.],
           [2., 3., 0.]])
    """
    values = np.asarray(values)
    flat = values.reshape(-1, values.shape[-1])
    n = n_stimuli_from_pairs(flat.shape[1])
    rows, cols = pair_indices(n)
    out = np.zeros((flat.shape[0], n, n), dtype=np.result_type(flat.dtype, np.float32))
    out[:, rows, cols] = flat
    out[:, cols, rows] = flat
    return out[0] if values.ndim == 1 else out


def to_condensed(square, *, atol=1e-8):
    """Condensed form of square RDMs, after checking symmetry and a zero diagonal.

    Parameters
    ----------
    square : array_like of shape (n, n) or (n_rdms, n, n)
    atol : float, default 1e-8
        Absolute tolerance of the symmetry and zero-diagonal checks.

    Returns
    -------
    numpy.ndarray of shape (n_pairs,) or (n_rdms, n_pairs)

    Examples
    --------
    >>> to_condensed([[0, 1, 2], [1, 0, 3], [2, 3, 0]])
    array([1., 2., 3.])
    """
    square = np.asarray(square, dtype=float)
    stack = square[None] if square.ndim == 2 else square
    if stack.ndim != 3 or stack.shape[1] != stack.shape[2] or stack.shape[1] < 2:
        raise ProbingError(f"square RDM must be (n, n) or (n_rdms, n, n) with n >= 2; "
                           f"got shape {square.shape}")
    diag = np.diagonal(stack, axis1=1, axis2=2)
    if np.any(np.abs(diag) > atol):
        raise ProbingError("square RDM must have a zero diagonal (a stimulus is not "
                           "dissimilar from itself)")
    if not np.allclose(stack, np.swapaxes(stack, 1, 2), atol=atol, rtol=0, equal_nan=True):
        raise ProbingError("square RDM must be symmetric")
    rows, cols = pair_indices(stack.shape[1])
    out = stack[:, rows, cols]
    return out[0] if square.ndim == 2 else out


@renamed_fields(metric="distance", conditions="stimulus_ids")
@dataclasses.dataclass(frozen=True, repr=False)
class RDMs:
    """A stack of RDMs over the same stimulus_ids (immutable).

    Parameters
    ----------
    values : array_like of shape (n_rdms, n_pairs) or (n_pairs,)
        Condensed dissimilarities (upper triangle, row by row); stored read-only float64.
    stimulus_ids : sequence, optional
        One label per RDM row (stimulus); default ``0 .. n - 1``. Labels must be unique.
    distance : str, default "custom"
        How the dissimilarities were computed (``correlation``, ``crossnobis``, a model
        RDM's ``categorical`` ...).
    descriptors : pandas.DataFrame or mapping, optional
        One row per RDM (for example a ``layer`` column).

    Examples
    --------
    >>> rdms = RDMs([[1.0, 2.0, 3.0]], stimulus_ids=["a", "b", "c"], descriptors={"layer": [4]})
    >>> rdms.n_rdms, rdms.n_stimuli, rdms.descriptors["layer"].tolist()
    (1, 3, [4])
    >>> rdms.to_square()[0, 0, 2]
    np.float64(2.0)
    """

    values: np.ndarray
    stimulus_ids: tuple = None
    distance: str = "custom"
    descriptors: pd.DataFrame = None

    def __post_init__(self):
        values = np.array(self.values, dtype=np.float64, ndmin=2)
        if values.ndim != 2:
            raise ProbingError(f"RDMs: values must be (n_rdms, n_pairs) or (n_pairs,); "
                               f"got shape {np.shape(self.values)}")
        n = n_stimuli_from_pairs(values.shape[1])
        stimulus_ids = tuple(range(n)) if self.stimulus_ids is None else tuple(self.stimulus_ids)
        if len(stimulus_ids) != n:
            raise ProbingError(f"RDMs: stimulus_ids has {len(stimulus_ids)} labels for {n} "
                               f"RDM rows ({values.shape[1]} pairs)")
        if len(set(stimulus_ids)) != n:
            raise ProbingError("RDMs: stimulus_ids must be unique")
        descriptors = pd.DataFrame(self.descriptors if self.descriptors is not None else {},
                                   index=None if self.descriptors is not None
                                   else range(values.shape[0]))
        if len(descriptors) != values.shape[0]:
            raise ProbingError(f"RDMs: descriptors has {len(descriptors)} rows for "
                               f"{values.shape[0]} RDMs")
        values.flags.writeable = False
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "stimulus_ids", stimulus_ids)
        object.__setattr__(self, "distance", str(self.distance))
        object.__setattr__(self, "descriptors", descriptors.reset_index(drop=True))

    @property
    def n_rdms(self):
        return self.values.shape[0]

    @property
    def n_stimuli(self):
        """Number of stimuli (RDM rows)."""
        return len(self.stimulus_ids)

    n_conditions = renamed_property("n_conditions", "n_stimuli", where="RDMs")

    @property
    def n_pairs(self):
        return self.values.shape[1]

    def to_square(self):
        """``(n_rdms, n, n)`` square matrices."""
        return to_square(self.values)

    def subset(self, index):
        """The RDMs at positions ``index`` (an int, a list, a slice or a boolean mask)."""
        index = [index] if np.ndim(index) == 0 and not isinstance(index, slice) else index
        positions = np.arange(self.n_rdms)[index]
        return dataclasses.replace(self, values=self.values[positions],
                                   descriptors=self.descriptors.iloc[positions])

    @renamed(conditions="stimulus_ids")
    def reorder(self, stimulus_ids):
        """The same RDMs over the stimulus_ids in the order ``stimulus_ids`` (a subset is allowed).

        Examples
        --------
        >>> RDMs([1.0, 2.0, 3.0], stimulus_ids="abc").reorder(["c", "a"]).values
        array([[2.]])
        """
        lookup = {c: i for i, c in enumerate(self.stimulus_ids)}
        missing = [c for c in stimulus_ids if c not in lookup]
        if missing:
            raise ProbingError(f"RDMs.reorder: stimulus id(s) {missing[:5]} are not among the "
                               f"RDMs' stimulus_ids")
        order = np.array([lookup[c] for c in stimulus_ids])
        rows, cols = pair_indices(len(order))
        square = self.to_square()
        return dataclasses.replace(self, values=square[:, order[rows], order[cols]],
                                   stimulus_ids=tuple(stimulus_ids))

    def to_frame(self):
        """Long table: one row per RDM and pair (``stimulus_id_a, stimulus_id_b, value`` and
        the descriptors)."""
        rows, cols = pair_indices(self.n_stimuli)
        labels = np.array(self.stimulus_ids, dtype=object)
        frame = pd.DataFrame({"rdm": np.repeat(np.arange(self.n_rdms), self.n_pairs),
                              "stimulus_id_a": np.tile(labels[rows], self.n_rdms),
                              "stimulus_id_b": np.tile(labels[cols], self.n_rdms),
                              "estimate": self.values.ravel(), "distance": self.distance})
        return frame.join(self.descriptors, on="rdm")

    def __len__(self):
        return self.n_rdms

    def __repr__(self):
        names = list(self.descriptors.columns)
        return (f"RDMs(n_rdms={self.n_rdms}, n_stimuli={self.n_stimuli}, "
                f"distance={self.distance!r}, descriptors={names})")


@renamed(metric="distance", conditions="stimulus_ids")
def check_rdm(rdm, *, stimulus_ids=None, distance="custom", descriptors=None):
    """Validate a user RDM (or stack) and return it as :class:`RDMs`.

    Parameters
    ----------
    rdm : RDMs or array_like
        Condensed ``(n_pairs,)`` / ``(n_rdms, n_pairs)``, or square ``(n, n)`` /
        ``(n_rdms, n, n)`` symmetric with a zero diagonal. NaN and inf are refused.
    stimulus_ids : sequence, optional
        One label per RDM row (ignored for an :class:`RDMs`, which carries its own).
    distance : str, default "custom"
    descriptors : pandas.DataFrame or mapping, optional

    Returns
    -------
    RDMs

    Examples
    --------
    >>> check_rdm([[0, 1], [1, 0]], stimulus_ids=["x", "y"]).values
    array([[1.]])
    """
    if isinstance(rdm, RDMs):
        return rdm
    array = np.asarray(rdm, dtype=float)
    if not np.all(np.isfinite(array)):
        raise ProbingError("rdm: values must be finite (no NaN or inf)")
    square = array.ndim == 3 or (array.ndim == 2 and array.shape[0] == array.shape[1]
                                 and array.shape[0] > 1 and _looks_square(array))
    values = to_condensed(array) if square else array
    return RDMs(values, stimulus_ids=stimulus_ids, distance=distance, descriptors=descriptors)


def _looks_square(array):
    # A 2-D array that is (n, n) could also be n condensed RDMs of length n (n = 1, 3, 6...);
    # a zero diagonal decides, and a non-symmetric "square" is reported by to_condensed.
    return bool(np.all(np.diagonal(array) == 0))
