"""Bootstrap confidence intervals of RDM similarities, over stimuli or over items.

Both resample *units* (stimuli, i.e. RDM rows, groups of stimuli, or items) with replacement
and rebuild the comparison from the resampled unit indices; the same ``random_state`` gives the same
resamples for every data RDM (layer) and model, so intervals are paired across layers.

Over stimuli (:func:`bootstrap_stimuli`)
    A resample of stimuli keeps every pair of two *different* drawn stimuli and
    drops the pairs of a stimulus with a copy of itself, as rsatoolbox's
    ``bootstrap_sample_pattern`` does. Pair ``(i, j)`` then appears ``c_i * c_j`` times
    (``c`` the draw counts), so the resampled comparison is a weighted one: weighted
    ranks and moments, computed without materialising the resampled RDMs. With
    ``groups`` (for example ``item_id`` of each stimulus) whole groups are drawn, and
    the pairs inside a group are kept once per drawn copy (``c`` times, not ``c ** 2``):
    pairs across two copies of one group are dropped like a stimulus's pair with its
    own copy, so that every pair has the same expected weight (1) in a resample.
Over items (:func:`bootstrap_items`)
    For RDMs built from item-level patterns: items are drawn, each drawn copy adding its
    rows, and the RDM is recomputed from the resampled rows.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from probing._core.defaults import CI, N_BOOT, RANDOM_STATE
from probing._core.deprecation import renamed, renamed_function, warn_renamed
from probing._core.errors import ProbingError
from probing.rsa.compute import stack_rdms
from probing.rsa.rdm import check_rdm, pair_indices
from probing.rsa.rdm_comparison import align_rdms, check_method, compare_rdms, tau_a

__all__ = ["BootstrapResult", "bootstrap_items", "bootstrap_stimuli"]

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
        ``stimuli`` or ``items``.
    n_degenerate : numpy.ndarray of shape (n_data, n_model)
        Resamples on which the comparison is undefined (a constant model or data RDM
        over the drawn pairs, e.g. only one category of a two-category model drawn):
        left out of the interval, which is taken over the other resamples (NaN when
        fewer than two remain).
    """

    value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    std_err: np.ndarray
    ci: float
    n_boot: int
    resample: str
    n_degenerate: np.ndarray = None


def _run(n_units, statistics, shape, *, n_boot, ci, random_state, resample):
    """Percentile intervals per (data, model) cell, all cells on the same resamples.

    Our own loop rather than :func:`probing.stats.bootstrap_ci`: a resample on which
    the comparison is undefined (NaN) must be counted and left out, where scipy's
    percentiles would turn the whole interval into NaN. The resamples are the ones
    scipy draws from the same seed (one ``integers(0, n, (n_boot, n))`` call).
    """
    if int(n_boot) < 2:
        raise ProbingError(f"{resample} bootstrap: n_boot must be at least 2, got {n_boot!r}")
    if not 0 < ci < 1:
        raise ProbingError(f"{resample} bootstrap: ci must lie in (0, 1), got {ci!r}")
    seed = int(np.random.default_rng(random_state).integers(2**32))
    draws = np.random.default_rng(seed).integers(0, n_units, size=(int(n_boot), n_units))
    identity = np.arange(n_units, dtype=float)[None]
    out = np.full((5, *shape), np.nan)
    for cell, statistic in zip(np.ndindex(*shape), statistics, strict=True):
        values = statistic(draws.astype(float))
        valid = values[np.isfinite(values)]
        estimate = statistic(identity)[0]
        low = high = std_err = np.nan
        if valid.size >= 2:
            low, high = np.percentile(valid, [50 * (1 - ci), 50 * (1 + ci)])
            std_err = valid.std(ddof=1)
        out[:, cell[0], cell[1]] = estimate, low, high, std_err, values.size - valid.size
    return BootstrapResult(*out[:4], ci=ci, n_boot=int(n_boot), resample=resample,
                           n_degenerate=out[4].astype(int))


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


def _degenerate(x, weights, comparison):
    """Resamples (rows of ``weights``) on which ``x`` is constant over its drawn entries
    (all zero for ``cosine``): every comparison is undefined there."""
    drawn = weights > 0
    if comparison == "cosine":
        return ~np.any(drawn & (x != 0), axis=1)
    high = np.where(drawn, x, -np.inf).max(axis=1)
    low = np.where(drawn, x, np.inf).min(axis=1)
    return high <= low


def weighted_similarity(x, y, weights, comparison):
    """``compare_rdms(x, y)`` when entry ``k`` appears ``weights[:, k]`` times (each row).

    NaN on resamples where either vector is constant over the drawn entries (see
    :func:`_degenerate`), for every comparison alike.
    """
    bad = _degenerate(x, weights, comparison) | _degenerate(y, weights, comparison)
    out = _weighted_similarity(x, y, weights, comparison)
    return np.where(bad, np.nan, out)


def _weighted_similarity(x, y, weights, comparison):
    if comparison == "tau_a":
        return np.array([tau_a(np.repeat(x, w.astype(int)), np.repeat(y, w.astype(int)))
                         for w in weights])
    total = weights.sum(axis=1)
    if comparison in ("spearman", "rho_a"):
        # the weighted mean rank is (N + 1) / 2 whatever the weights
        rx, ry = weighted_ranks(x, weights), weighted_ranks(y, weights)
        centre = total * ((total + 1.0) / 2.0) ** 2
        weighted_rx = weights * rx
        cross = _rowdot(weighted_rx, ry) - centre
        if comparison == "rho_a":
            return 12.0 * cross / (total**3 - total)
        sxx, syy = _rowdot(weighted_rx, rx) - centre, _rowdot(weights * ry, ry) - centre
    else:
        if comparison == "pearson":
            # a fixed shift first keeps the moment formulas free of cancellation
            x, y = x - x.mean(), y - y.mean()
        sx, sy = weights @ x, weights @ y
        cross, sxx, syy = weights @ (x * y), weights @ (x * x), weights @ (y * y)
        if comparison == "pearson":
            cross, sxx, syy = cross - sx * sy / total, sxx - sx**2 / total, syy - sy**2 / total
    with np.errstate(invalid="ignore", divide="ignore"):
        return cross / np.sqrt(sxx * syy)


def _pair_weights(counts, rows, cols, same_unit, n_units):
    """How often each pair appears in a resample with these draw counts.

    Pairs across two units: ``c_a * c_b``, whose expectation under multinomial draws of
    ``n`` units is ``1 - 1/n``. Pairs inside one unit: ``c (1 - 1/n)``, once per drawn
    copy scaled to the same expectation; pairs across two copies of the same unit are
    dropped, as a stimulus paired with its own copy is. Every pair then has the same
    expected weight. Weighting within-unit pairs ``c ** 2`` (twice on average) would
    bias the interval towards the within-item pairs (say, the same lemma in singular
    and plural); weighting them ``c`` (a factor ``n / (n - 1)`` too much) put the
    estimate outside its own interval when patterns within an item are identical.
    """
    within = counts[:, rows] * (1.0 - 1.0 / n_units)
    return np.where(same_unit, within, counts[:, rows] * counts[:, cols])


def _stimulus_statistic(x, y, unit_of_stimulus, n_units, comparison):
    rows, cols = pair_indices(unit_of_stimulus.size)
    same_unit = unit_of_stimulus[rows] == unit_of_stimulus[cols]

    def statistic(sample, axis=-1):
        counts = _draw_counts(sample, n_units)[:, unit_of_stimulus]
        out = np.empty(len(counts))
        chunk = max(1, _CHUNK_VALUES // rows.size)
        for start in range(0, len(counts), chunk):
            weights = _pair_weights(counts[start:start + chunk], rows, cols, same_unit, n_units)
            if comparison == "tau_a" and same_unit.any():
                # tau_a repeats entries: whole counts in the same proportions
                weights = np.rint(weights * n_units)
            out[start:start + chunk] = weighted_similarity(x, y, weights, comparison)
        return out.reshape(sample.shape[:-1])

    return statistic


@renamed(method="comparison")
def bootstrap_stimuli(data, model, *, comparison="spearman", groups=None, n_boot=N_BOOT, ci=CI,
                      random_state=RANDOM_STATE):
    """Bootstrap intervals of RDM similarities, resampling stimuli (or groups of them).

    The resampled units are the RDMs' rows (``stimulus_ids``); ``bootstrap_conditions``
    is this function's deprecated name.

    Parameters
    ----------
    data, model : RDMs or array_like
        Data RDMs (for example one per layer) and model RDMs over the same stimuli.
    comparison : str, default "spearman"
        ``spearman, pearson, tau_a, rho_a`` or ``cosine`` (the whitened methods are not
        defined on resamples with repeated stimuli).
    groups : array_like of shape (n_stimuli,), optional
        Group of each stimulus (RDM row), for example its ``item_id``: groups are drawn
        as wholes. Default: each stimulus alone.
    n_boot : int, default ``N_BOOT`` = 2,000
        Default from ``probing._core.defaults`` (stable 95% percentile end points).
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).

    Returns
    -------
    BootstrapResult
        Arrays of shape ``(n_data, n_model)``; ``value`` is the comparison on the data.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> model = rng.normal(size=45)
    >>> res = bootstrap_stimuli(model + rng.normal(size=45), model, n_boot=200,
    ...                         random_state=0)
    >>> bool(res.ci_low[0, 0] < res.value[0, 0] < res.ci_high[0, 0])
    True
    """
    check_method(comparison, "bootstrap_stimuli")
    if comparison.startswith("whitened"):
        raise ProbingError(f"bootstrap_stimuli: comparison {comparison!r} is not defined on "
                           f"resamples with repeated stimuli; use one of spearman, "
                           f"pearson, tau_a, rho_a, cosine, or bootstrap_items")
    data, model = align_rdms(data, model)
    if groups is None:
        unit_of_stimulus = np.arange(data.n_stimuli)
    else:
        groups = np.asarray(groups, dtype=object)
        if groups.shape != (data.n_stimuli,):
            raise ProbingError(f"bootstrap_stimuli: groups must have one label per "
                               f"stimulus ({data.n_stimuli}); got shape {groups.shape}")
        unit_of_stimulus = pd.factorize(groups)[0]
    n_units = int(unit_of_stimulus.max()) + 1
    if n_units < 3:
        raise ProbingError(f"bootstrap_stimuli: need at least 3 stimuli (or groups) "
                           f"to resample; got {n_units}")
    statistics = [_stimulus_statistic(x, y, unit_of_stimulus, n_units, comparison)
                  for x in data.values for y in model.values]
    return _run(n_units, statistics, (data.n_rdms, model.n_rdms), n_boot=n_boot, ci=ci,
                random_state=random_state, resample="stimuli")


bootstrap_conditions = renamed_function(bootstrap_stimuli, "bootstrap_conditions")


def _item_statistic(X, model, codes, labels, items_rows, comparison, options):
    def one(draw):
        rows = np.concatenate([items_rows[d] for d in draw])
        # Copies of one item share its fold: as separate folds, a copy in the training
        # average and its twin in the test one made crossnobis' noise terms correlate
        # (+2.36 on resamples of data whose distances are 0). The shared fold counts once
        # per copy in the average over folds (counted once, coverage was 0.890 at 10 items).
        folds = np.repeat(draw, [items_rows[d].size for d in draw])
        copies = pd.Series(draw).value_counts(sort=False)
        weights = copies.loc[pd.unique(folds)].to_numpy(dtype=float)
        extra = {"fold_weights": weights} if options["distance"] == "crossnobis" else {}
        try:
            rdm = stack_rdms(X[rows], stimulus_ids=labels[codes[rows]], folds=folds, **options,
                             **extra)
        except ProbingError:
            return np.nan  # e.g. crossnobis on a resample of one distinct item: degenerate
        return compare_rdms(rdm, model.reorder(rdm.stimulus_ids), comparison=comparison)[0, 0]

    def statistic(sample, axis=-1):
        draws = np.rint(sample).astype(np.int64).reshape(-1, sample.shape[-1])
        return np.array([one(d) for d in draws]).reshape(sample.shape[:-1])

    return statistic


@renamed(metric="distance", method="comparison", conditions="stimulus_ids")
def bootstrap_items(X, model, *, stimulus_ids, items, distance="correlation", comparison="spearman",
                    noise=None, n_boot=N_BOOT, ci=CI, random_state=RANDOM_STATE, dtype="float32",
                    layers_first=False):
    """Bootstrap intervals of RDM similarities, resampling items and recomputing the RDMs.

    Parameters
    ----------
    X : array_like of shape (n_rows, n_units) or (n_rows, n_layers, n_units)
        Item-level patterns: one row per (item, stimulus id) measurement, in the axis
        order of ``Activations``, the probes, ``compute_rdm`` and ``rsa_layers``.
    model : RDMs or array_like
        Model RDM(s) over the stimulus_ids (labels as in ``stimulus_ids``).
    stimulus_ids, items : array_like of shape (n_rows,)
        Stimulus id (RDM row) and item of each row. For ``crossnobis`` each item is one
        fold, and the drawn copies of an item share it. When every stimulus id lies
        inside one item no stimulus's pattern depends on the draw, and the
        pair-weighted resampling of :func:`bootstrap_stimuli` over items is used (the
        RDM computed once).
    distance : str, default "correlation"
        A :func:`~probing.rsa.compute_rdm` distance.
    comparison : str, default "spearman"
        A :func:`~probing.rsa.compare_rdms` comparison.
    noise : array_like, optional
        Noise covariance for ``mahalanobis`` / ``crossnobis`` (shared across layers).
    n_boot : int, default ``N_BOOT`` = 2,000
        Default from ``probing._core.defaults`` (stable 95% percentile end points).
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).
    dtype : {"float32", "float64"}, default "float32"
    layers_first : bool, default False
        Deprecated: ``True`` reads a 3-D ``X`` as ``(n_layers, n_rows, n_units)``, the
        order this function took before 0.2 (so does a 3-D ``X`` whose second axis, and
        not its first, has one entry per label), with a ``DeprecationWarning``.

    Returns
    -------
    BootstrapResult
        Arrays of shape ``(n_layers, n_model)`` (``n_layers`` is 1 for 2-D ``X``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(5, 20))
    >>> X = np.repeat(centres, 6, axis=0) + rng.normal(scale=0.3, size=(30, 20))
    >>> ids, item = np.repeat(list("abcde"), 6), np.tile(np.arange(6), 5)
    >>> from probing.rsa import compute_rdm
    >>> model = compute_rdm(centres, stimulus_ids=list("abcde"))
    >>> res = bootstrap_items(X, model, stimulus_ids=ids, items=item, n_boot=100, random_state=0)
    >>> bool(res.ci_low[0, 0] > 0.5)
    True
    """
    X = np.asarray(X)
    if X.ndim == 3:
        n_labels = np.size(stimulus_ids)
        if not layers_first and X.shape[1] == n_labels and X.shape[0] != n_labels:
            layers_first = True
            warn_renamed("bootstrap_items", "X of shape (n_layers, n_rows, n_units)",
                         "X of shape (n_rows, n_layers, n_units)", stacklevel=4)
        elif layers_first:
            warn_renamed("bootstrap_items", "layers_first=True",
                         "X of shape (n_rows, n_layers, n_units)", stacklevel=4)
        if not layers_first:
            X = np.swapaxes(X, 0, 1)  # the sweep below runs layer by layer
    return bootstrap_item_stack(X, model, stimulus_ids=stimulus_ids, items=items,
                                distance=distance, comparison=comparison, noise=noise,
                                n_boot=n_boot, ci=ci, random_state=random_state, dtype=dtype)


def bootstrap_item_stack(X, model, *, stimulus_ids, items, distance, comparison, noise, n_boot,
                         ci, random_state, dtype, residuals=None):
    """:func:`bootstrap_items` on a layers-first ``(n_layers, n_rows, n_units)`` stack
    (internal: the layer sweep holds its patterns that way, a view without a copy;
    ``residuals`` may be None or ``"folds"``, recomputed on every resample)."""
    if residuals is not None and not isinstance(residuals, str):
        raise ProbingError("bootstrap_items: residuals must be None or 'folds' (an array of "
                           "residuals is not resampled with the items)")
    check_method(comparison, "bootstrap_items")
    X = np.asarray(X)
    stack = X[None] if X.ndim == 2 else X
    if stack.ndim != 3:
        raise ProbingError(f"bootstrap_items: X must be (n_rows, n_units) or (n_rows, "
                           f"n_layers, n_units); got shape {X.shape}")
    n_rows = stack.shape[1]
    codes, labels = pd.factorize(np.asarray(stimulus_ids, dtype=object))
    item_codes, item_labels = pd.factorize(np.asarray(items, dtype=object))
    if codes.size != n_rows or item_codes.size != n_rows:
        raise ProbingError(f"bootstrap_items: stimulus_ids and items need one label per row "
                           f"({n_rows}); got {codes.size} and {item_codes.size}")
    if len(item_labels) < 2:
        raise ProbingError("bootstrap_items: need at least 2 items to resample")
    model = check_rdm(model, stimulus_ids=tuple(labels))
    item_of_stimulus = _nested_items(codes, item_codes, len(labels))
    if item_of_stimulus is not None and distance != "crossnobis":
        # Every stimulus id lies inside one item: resampling items changes no
        # stimulus's pattern, only which pairs are drawn. Recomputing
        # the RDM from the distinct drawn items would weight pairs unlike the estimate
        # does and moved the interval off it; the pair-weighted bootstrap over items is
        # the same resampling, done right.
        data = stack_rdms(stack, distance=distance, stimulus_ids=np.asarray(labels)[codes],
                           noise=noise, dtype=dtype)
        res = bootstrap_stimuli(data, model, comparison=comparison, groups=item_of_stimulus,
                                n_boot=n_boot, ci=ci, random_state=random_state)
        return dataclasses.replace(res, resample="items")
    items_rows = [np.flatnonzero(item_codes == k) for k in range(len(item_labels))]
    options = {"distance": distance, "noise": noise, "dtype": dtype, "residuals": residuals}
    statistics = [_item_statistic(layer, model.subset(j), codes, np.asarray(labels), items_rows,
                                  comparison, options)
                  for layer in stack for j in range(model.n_rdms)]
    return _run(len(item_labels), statistics, (len(stack), model.n_rdms), n_boot=n_boot, ci=ci,
                random_state=random_state, resample="items")


def _nested_items(codes, item_codes, n_stimuli):
    """Item of each stimulus id when every one lies inside one item, else None."""
    frame = pd.DataFrame({"stimulus": codes, "item": item_codes})
    per = frame.groupby("stimulus")["item"].agg(["nunique", "first"])
    if (per["nunique"] > 1).any() or len(per) != n_stimuli:
        return None
    return per["first"].to_numpy()
