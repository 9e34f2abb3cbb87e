"""Bootstrap confidence intervals of RDM similarities, over conditions or over items.

Both resample *units* (conditions, groups of conditions, or items) with replacement
and hand the resampled unit indices to :func:`probing.stats.bootstrap_ci`, whose
statistic rebuilds the comparison from them; the same ``random_state`` gives the same
resamples for every data RDM (layer) and model, so intervals are paired across layers.

Over conditions (:func:`bootstrap_conditions`)
    A resample of conditions keeps every pair of two *different* drawn conditions and
    drops the pairs of a condition with a copy of itself, as rsatoolbox's
    ``bootstrap_sample_pattern`` does. Pair ``(i, j)`` then appears ``c_i * c_j`` times
    (``c`` the draw counts), so the resampled comparison is a weighted one: weighted
    ranks and moments, computed without materialising the resampled RDMs. With
    ``groups`` (for example ``item_id`` of each stimulus) whole groups are drawn, and
    the pairs inside a group are kept once per drawn copy (``c`` times, not ``c ** 2``):
    pairs across two copies of one group are dropped like a condition's pair with its
    own copy, so that every pair has the same expected weight (1) in a resample.
Over items (:func:`bootstrap_items`)
    For RDMs built from item-level patterns: items are drawn, each drawn copy adding its
    rows, and the RDM is recomputed from the resampled rows.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.rsa.compare import align_rdms, check_method, compare_rdms, tau_a
from probing.rsa.compute import compute_rdm
from probing.rsa.rdm import check_rdm, pair_indices
from probing.stats import bootstrap_ci

__all__ = ["BootstrapResult", "bootstrap_conditions", "bootstrap_items"]

_CHUNK_VALUES = 2**22


@dataclasses.dataclass(frozen=True)
class BootstrapResult:
    """RDM similarities with percentile bootstrap intervals.

    Attributes
    ----------
    value, ci_low, ci_high, std_err : numpy.ndarray of shape (n_data, n_model)
    ci : float
        Confidence level.
    n_boot : int
    resample : str
        ``conditions`` or ``items``.
    """

    value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    std_err: np.ndarray
    ci: float
    n_boot: int
    resample: str


def _run(n_units, statistics, shape, *, n_boot, ci, random_state, resample):
    """One :func:`bootstrap_ci` per (data, model) cell, all with the same resamples."""
    seed = int(np.random.default_rng(random_state).integers(2**32))
    out = np.empty((4, *shape))
    for cell, statistic in zip(np.ndindex(*shape), statistics, strict=True):
        res = bootstrap_ci(np.arange(n_units, dtype=float), statistic=statistic,
                           n_boot=n_boot, ci=ci, random_state=seed)
        out[:, cell[0], cell[1]] = res.estimate, res.ci_low, res.ci_high, res.std_err
    return BootstrapResult(*out, ci=ci, n_boot=int(n_boot), resample=resample)


def _draw_counts(sample, n_units):
    """``(n_resamples, n_units)`` draw counts from resampled unit indices."""
    draws = np.rint(sample).astype(np.int64).reshape(-1, sample.shape[-1])
    offsets = np.arange(len(draws))[:, None] * n_units
    counts = np.bincount((draws + offsets).ravel(), minlength=len(draws) * n_units)
    return counts.reshape(len(draws), n_units).astype(np.float64)


def weighted_ranks(x, weights):
    """Average ranks of ``x`` when entry ``k`` is repeated ``weights[:, k]`` times."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    new_value = np.r_[True, xs[1:] != xs[:-1]]
    if new_value.all():  # no ties (a data RDM): each entry is its own group
        totals = weights[:, order]
        ranks = np.empty_like(weights)
        ranks[:, order] = np.cumsum(totals, axis=1) - (totals - 1.0) / 2.0
        return ranks
    group = np.empty(x.size, dtype=np.intp)
    group[order] = np.cumsum(new_value) - 1
    n_groups = int(group.max()) + 1
    if n_groups <= 256:  # few levels (a model RDM): group totals by one matrix product
        totals = weights @ (group[:, None] == np.arange(n_groups)).astype(weights.dtype)
    else:
        totals = np.add.reduceat(weights[:, order], np.flatnonzero(new_value), axis=1)
    mean_rank = np.cumsum(totals, axis=1) - (totals - 1.0) / 2.0
    return mean_rank[:, group]


def _rowdot(a, b):
    return np.einsum("ij,ij->i", a, b)


def weighted_similarity(x, y, weights, method):
    """``compare_rdms(x, y)`` when entry ``k`` appears ``weights[:, k]`` times (each row)."""
    if method == "tau_a":
        return np.array([tau_a(np.repeat(x, w.astype(int)), np.repeat(y, w.astype(int)))
                         for w in weights])
    total = weights.sum(axis=1)
    if method in ("spearman", "rho_a"):
        # the weighted mean rank is (N + 1) / 2 whatever the weights
        rx, ry = weighted_ranks(x, weights), weighted_ranks(y, weights)
        centre = total * ((total + 1.0) / 2.0) ** 2
        weighted_rx = weights * rx
        cross = _rowdot(weighted_rx, ry) - centre
        if method == "rho_a":
            return 12.0 * cross / (total**3 - total)
        sxx, syy = _rowdot(weighted_rx, rx) - centre, _rowdot(weights * ry, ry) - centre
    else:
        if method == "pearson":
            # a fixed shift first keeps the moment formulas free of cancellation
            x, y = x - x.mean(), y - y.mean()
        sx, sy = weights @ x, weights @ y
        cross, sxx, syy = weights @ (x * y), weights @ (x * x), weights @ (y * y)
        if method == "pearson":
            cross, sxx, syy = cross - sx * sy / total, sxx - sx**2 / total, syy - sy**2 / total
    with np.errstate(invalid="ignore", divide="ignore"):
        return cross / np.sqrt(sxx * syy)


def _pair_weights(counts, rows, cols, same_unit):
    """How often each pair appears in a resample with these draw counts.

    Pairs across two units: ``c_a * c_b``. Pairs inside one unit: ``c``, once per drawn
    copy; pairs across two copies of the same unit are dropped, as a condition paired
    with its own copy is. Every pair then appears once on average over resamples;
    weighting within-unit pairs ``c ** 2`` (twice on average) would bias the interval
    towards the within-item pairs (say, the same lemma in singular and plural).
    """
    return np.where(same_unit, counts[:, rows], counts[:, rows] * counts[:, cols])


def _condition_statistic(x, y, unit_of_condition, n_units, method):
    rows, cols = pair_indices(unit_of_condition.size)
    same_unit = unit_of_condition[rows] == unit_of_condition[cols]

    def statistic(sample, axis=-1):
        counts = _draw_counts(sample, n_units)[:, unit_of_condition]
        out = np.empty(len(counts))
        chunk = max(1, _CHUNK_VALUES // rows.size)
        for start in range(0, len(counts), chunk):
            weights = _pair_weights(counts[start:start + chunk], rows, cols, same_unit)
            out[start:start + chunk] = weighted_similarity(x, y, weights, method)
        return out.reshape(sample.shape[:-1])

    return statistic


def bootstrap_conditions(data, model, *, method="spearman", groups=None, n_boot=1000, ci=0.95,
                         random_state=None):
    """Bootstrap intervals of RDM similarities, resampling conditions (or groups of them).

    Parameters
    ----------
    data, model : RDMs or array_like
        Data RDMs (for example one per layer) and model RDMs over the same conditions.
    method : str, default "spearman"
        ``spearman, pearson, tau_a, rho_a`` or ``cosine`` (the whitened methods are not
        defined on resamples with repeated conditions).
    groups : array_like of shape (n_conditions,), optional
        Group of each condition (for example ``item_id`` when each condition is one
        stimulus): groups are drawn as wholes. Default: each condition alone.
    n_boot : int, default 1000
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    BootstrapResult
        Arrays of shape ``(n_data, n_model)``; ``value`` is the comparison on the data.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> model = rng.normal(size=45)
    >>> res = bootstrap_conditions(model + rng.normal(size=45), model, n_boot=200,
    ...                            random_state=0)
    >>> bool(res.ci_low[0, 0] < res.value[0, 0] < res.ci_high[0, 0])
    True
    """
    check_method(method, "bootstrap_conditions")
    if method.startswith("whitened"):
        raise ProbingError(f"bootstrap_conditions: method {method!r} is not defined on "
                           f"resamples with repeated conditions; use one of spearman, "
                           f"pearson, tau_a, rho_a, cosine, or bootstrap_items")
    data, model = align_rdms(data, model)
    if groups is None:
        unit_of_condition = np.arange(data.n_conditions)
    else:
        groups = np.asarray(groups, dtype=object)
        if groups.shape != (data.n_conditions,):
            raise ProbingError(f"bootstrap_conditions: groups must have one label per "
                               f"condition ({data.n_conditions}); got shape {groups.shape}")
        unit_of_condition = pd.factorize(groups)[0]
    n_units = int(unit_of_condition.max()) + 1
    if n_units < 3:
        raise ProbingError(f"bootstrap_conditions: need at least 3 conditions (or groups) "
                           f"to resample; got {n_units}")
    statistics = [_condition_statistic(x, y, unit_of_condition, n_units, method)
                  for x in data.values for y in model.values]
    return _run(n_units, statistics, (data.n_rdms, model.n_rdms), n_boot=n_boot, ci=ci,
                random_state=random_state, resample="conditions")


def _item_statistic(X, model, codes, labels, items_rows, method, options):
    def one(draw):
        rows = np.concatenate([items_rows[d] for d in draw])
        # each drawn copy of an item is its own fold (crossnobis needs independent splits)
        folds = np.repeat(np.arange(draw.size), [items_rows[d].size for d in draw])
        rdm = compute_rdm(X[rows], conditions=labels[codes[rows]], folds=folds, **options)
        return compare_rdms(rdm, model.reorder(rdm.conditions), method=method)[0, 0]

    def statistic(sample, axis=-1):
        draws = np.rint(sample).astype(np.int64).reshape(-1, sample.shape[-1])
        return np.array([one(d) for d in draws]).reshape(sample.shape[:-1])

    return statistic


def bootstrap_items(X, model, *, conditions, items, metric="correlation", method="spearman",
                    noise=None, n_boot=1000, ci=0.95, random_state=None, dtype="float32"):
    """Bootstrap intervals of RDM similarities, resampling items and recomputing the RDMs.

    Parameters
    ----------
    X : array_like of shape (n_rows, n_units) or (n_layers, n_rows, n_units)
        Item-level patterns: one row per (item, condition) measurement.
    model : RDMs or array_like
        Model RDM(s) over the conditions (labels as in ``conditions``).
    conditions, items : array_like of shape (n_rows,)
        Condition and item of each row. Each drawn copy of an item is one fold for
        ``crossnobis``.
    metric : str, default "correlation"
        A :func:`~probing.rsa.compute_rdm` metric.
    method : str, default "spearman"
        A :func:`~probing.rsa.compare_rdms` method.
    noise : array_like, optional
        Noise covariance for ``mahalanobis`` / ``crossnobis`` (shared across layers).
    n_boot : int, default 1000
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None
    dtype : {"float32", "float64"}, default "float32"

    Returns
    -------
    BootstrapResult
        Arrays of shape ``(n_layers, n_model)`` (``n_layers`` is 1 for 2-D ``X``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(5, 20))
    >>> X = np.repeat(centres, 6, axis=0) + rng.normal(scale=0.3, size=(30, 20))
    >>> cond, item = np.repeat(list("abcde"), 6), np.tile(np.arange(6), 5)
    >>> model = compute_rdm(centres, conditions=list("abcde"))
    >>> res = bootstrap_items(X, model, conditions=cond, items=item, n_boot=100, random_state=0)
    >>> bool(res.ci_low[0, 0] > 0.5)
    True
    """
    check_method(method, "bootstrap_items")
    X = np.asarray(X)
    stack = X[None] if X.ndim == 2 else X
    if stack.ndim != 3:
        raise ProbingError(f"bootstrap_items: X must be (n_rows, n_units) or (n_layers, "
                           f"n_rows, n_units); got shape {X.shape}")
    n_rows = stack.shape[1]
    codes, labels = pd.factorize(np.asarray(conditions, dtype=object))
    item_codes, item_labels = pd.factorize(np.asarray(items, dtype=object))
    if codes.size != n_rows or item_codes.size != n_rows:
        raise ProbingError(f"bootstrap_items: conditions and items need one label per row "
                           f"({n_rows}); got {codes.size} and {item_codes.size}")
    if len(item_labels) < 2:
        raise ProbingError("bootstrap_items: need at least 2 items to resample")
    model = check_rdm(model, conditions=tuple(labels))
    items_rows = [np.flatnonzero(item_codes == k) for k in range(len(item_labels))]
    options = {"metric": metric, "noise": noise, "dtype": dtype}
    statistics = [_item_statistic(layer, model.subset(j), codes, np.asarray(labels), items_rows,
                                  method, options)
                  for layer in stack for j in range(model.n_rdms)]
    return _run(len(item_labels), statistics, (len(stack), model.n_rdms), n_boot=n_boot, ci=ci,
                random_state=random_state, resample="items")
