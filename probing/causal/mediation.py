"""Causal mediation analysis (Vig et al. 2020; Finlayson et al. 2021): TE, NIE, NDE.

The runs the model adapter must provide, for each item (a base input ``x`` and its
counterfactual ``x'``, e.g. a singular and a plural subject) and each mediator ``z``
(a unit, head or layer at a site and position); ``y`` is the read-out, by default the
log-probability difference of the two continuations (e.g. ``log p(is) - log p(are)``):

==============  ==============================================  ======================
array           run                                             shape
==============  ==============================================  ======================
``y_x``         input ``x``, no intervention                    ``(n_items,)``
``y_xprime``    input ``x'``, no intervention                   ``(n_items,)``
``y_indirect``  input ``x``, mediator set to its value under    ``(n_items, n_med)``
                ``x'`` (``y(x, z(x'))``)
``y_direct``    input ``x'``, mediator held at its value under  ``(n_items, n_med)``
                ``x`` (``y(x', z(x))``); optional
==============  ==============================================  ======================

Effects per item (``scale="log"``, differences of the read-out):

- total effect ``TE = y(x') - y(x)``
- natural indirect effect ``NIE_z = y(x, z(x')) - y(x)``
- natural direct effect ``NDE_z = y(x', z(x)) - y(x)``

With ``scale="relative"`` each difference ``d`` becomes ``exp(d) - 1``: Vig et al.'s
``y_after / y_before - 1`` when ``y`` is the log of their probability ratio. The
summaries are means over items; ``indirect_fraction`` is ``sum NIE / sum TE`` (the
share of the total effect that the mediator carries). Intervals resample items.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing.causal._checks import (
    as_array,
    check_choice,
    check_options,
    group_codes,
    same_length,
)
from probing.causal._resample import draw_group_counts, group_sums
from probing.stats import FewItemsWarning, check_n_items, item_intervals

__all__ = ["MEDIATION_COLUMNS", "MEDIATION_METRICS", "build_mediation_items",
           "joint_effect", "mediation_effects", "top_mediators"]

#: Values of the ``metric`` column of :func:`mediation_effects`.
MEDIATION_METRICS = ("total_effect", "indirect_effect", "direct_effect", "indirect_fraction")
#: Columns of :func:`mediation_effects` after the mediator's own columns.
MEDIATION_COLUMNS = ("metric", "estimate", "ci_low", "ci_high", "n", "n_items")
SCALES = ("log", "relative")


def _change(after, before, scale):
    diff = after - before
    return diff if scale == "log" else np.expm1(diff)


def _check_runs(func, y_x, y_xprime, y_indirect, y_direct):
    y_x = as_array(y_x, "y_x", func, ndim=1)
    y_xprime = as_array(y_xprime, "y_xprime", func, ndim=1)
    y_indirect = as_array(y_indirect, "y_indirect", func, ndim=2)
    same_length(func, y_x.size, y_xprime=y_xprime, y_indirect=y_indirect)
    if y_direct is not None:
        y_direct = as_array(y_direct, "y_direct", func, ndim=2)
        if y_direct.shape != y_indirect.shape:
            raise ProbingError(f"{func}: y_direct has shape {y_direct.shape}, y_indirect "
                               f"{y_indirect.shape}; they must match (items x mediators)")
    if y_x.size == 0:
        raise ProbingError(f"{func}: no items given")
    return y_x, y_xprime, y_indirect, y_direct


def _mediator_frame(func, mediators, n_med):
    if mediators is None:
        return pd.DataFrame({"mediator": np.arange(n_med)})
    if not isinstance(mediators, pd.DataFrame):
        raise ProbingError(f"{func}: mediators must be a DataFrame (e.g. layer, site, unit), "
                           f"got {type(mediators).__name__}")
    if len(mediators) != n_med:
        raise ProbingError(f"{func}: mediators has {len(mediators)} rows, y_indirect has "
                           f"{n_med} mediator columns")
    clash = set(mediators.columns) & {*MEDIATION_COLUMNS, "row", "item_id"}
    if clash:
        raise ProbingError(f"{func}: mediators may not have column(s) {sorted(clash)}")
    return mediators.reset_index(drop=True)


def _per_item(y_x, y_xprime, y_indirect, y_direct, scale):
    """Per-item effects: metric -> array of shape (n_items, n_mediators)."""
    n_med = y_indirect.shape[1]
    total = np.repeat(_change(y_xprime, y_x, scale)[:, None], n_med, axis=1)
    effects = {"total_effect": total,
               "indirect_effect": _change(y_indirect, y_x[:, None], scale)}
    if y_direct is not None:
        effects["direct_effect"] = _change(y_direct, y_x[:, None], scale)
    return effects


def build_mediation_items(y_x, y_xprime, y_indirect, *, y_direct=None, mediators=None,
                          groups=None, scale="log"):
    """Total, natural indirect and natural direct effects of each mediator on each item.

    Parameters
    ----------
    y_x, y_xprime, y_indirect, y_direct : array_like
        The runs of the module docstring's table.
    mediators : pandas.DataFrame of n_mediators rows, optional
        What each column of ``y_indirect`` is (e.g. ``layer, site, unit`` or ``head``);
        default a ``mediator`` column ``0..n_mediators-1``.
    groups : array_like of shape (n_items,), optional
        ``item_id`` of each item row (default: the row number).
    scale : {"log", "relative"}, default "log"

    Returns
    -------
    pandas.DataFrame
        ``row, item_id``, the mediator columns, ``metric, effect``: one row per item,
        mediator and metric (``total_effect``, ``indirect_effect``, ``direct_effect``
        when ``y_direct`` is given).

    Examples
    --------
    >>> items = build_mediation_items([0.0, 1.0], [2.0, 2.0], [[1.0], [1.5]])
    >>> items[items.metric == "indirect_effect"][["item_id", "estimate"]]
       item_id  estimate
    1        0       1.0
    3        1       0.5
    """
    func = "build_mediation_items"
    check_choice(func, "scale", scale, SCALES)
    y_x, y_xprime, y_indirect, y_direct = _check_runs(func, y_x, y_xprime, y_indirect,
                                                      y_direct)
    meds = _mediator_frame(func, mediators, y_indirect.shape[1])
    group_codes(groups, y_x.size, func)
    item_ids = np.arange(y_x.size) if groups is None else np.asarray(groups)
    frames = []
    for metric, values in _per_item(y_x, y_xprime, y_indirect, y_direct, scale).items():
        n, m = values.shape
        frame = meds.iloc[np.tile(np.arange(m), n)].reset_index(drop=True)
        frame.insert(0, "item_id", np.repeat(item_ids, m))
        frame.insert(0, "row", np.repeat(np.arange(n), m))
        frames.append(frame.assign(metric=metric, estimate=values.ravel()))
    order = ["row", *meds.columns, "_m"]
    out = pd.concat([f.assign(_m=i) for i, f in enumerate(frames)], ignore_index=True)
    return out.sort_values(order, kind="stable", ignore_index=True).drop(columns="_m")


def mediation_effects(y_x, y_xprime, y_indirect, *, y_direct=None, mediators=None,
                      groups=None, scale="log", n_boot=2000, ci=0.95, random_state=0):
    """Mean TE, NIE and NDE of each mediator over items, with item-bootstrap intervals.

    Parameters
    ----------
    y_x : array_like of shape (n_items,)
        Read-out under the base input ``x``.
    y_xprime : array_like of shape (n_items,)
        Read-out under the counterfactual input ``x'``.
    y_indirect : array_like of shape (n_items, n_mediators)
        Read-out under ``x`` with mediator ``j`` set to its value under ``x'``.
    y_direct : array_like of shape (n_items, n_mediators), optional
        Read-out under ``x'`` with mediator ``j`` held at its value under ``x``; without
        it no ``direct_effect`` rows are returned.
    mediators : pandas.DataFrame of n_mediators rows, optional
        Descriptor columns of each mediator (``layer, site, unit`` or ``head``).
    groups : array_like of shape (n_items,), optional
        ``item_id`` of each row; whole items are resampled. Default: each row.
    scale : {"log", "relative"}, default "log"
        Differences of the read-out, or Vig et al.'s relative change ``exp(d) - 1``.
    n_boot : int, default 2000
    ci : float, default 0.95
    random_state : int, numpy.random.Generator or None, default 0

    Returns
    -------
    pandas.DataFrame
        The mediator columns, then ``metric, effect, ci_low, ci_high, n``; ``metric`` is
        ``total_effect`` (the same for every mediator), ``indirect_effect``,
        ``direct_effect`` and ``indirect_fraction`` (``sum NIE / sum TE``); ``n`` is the
        number of rows (pairs), ``n_items`` the number of items (``groups``) the
        intervals rest on; fewer than 20 warn (``FewItemsWarning``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y_x, y_xprime = rng.normal(0, 0.1, 40), rng.normal(2, 0.1, 40)
    >>> y_indirect = np.stack([y_x, y_xprime], axis=1)   # mediator 1 carries it all
    >>> table = mediation_effects(y_x, y_xprime, y_indirect, n_boot=200)
    >>> table[table.metric == "indirect_fraction"][["mediator", "estimate"]].round(2)
       mediator  estimate
    2         0       0.0
    5         1       1.0
    """
    func = "mediation_effects"
    check_choice(func, "scale", scale, SCALES)
    check_options(func, n_boot=n_boot, ci=ci)
    y_x, y_xprime, y_indirect, y_direct = _check_runs(func, y_x, y_xprime, y_indirect,
                                                      y_direct)
    meds = _mediator_frame(func, mediators, y_indirect.shape[1])
    codes = group_codes(groups, y_x.size, func)
    effects = _per_item(y_x, y_xprime, y_indirect, y_direct, scale)
    ratios = {name: (values, np.ones_like(values)) for name, values in effects.items()}
    ratios["indirect_fraction"] = (effects["indirect_effect"], effects["total_effect"])
    return _summarise(ratios, meds, codes, n_boot, ci, random_state, func)


def _summarise(ratios, meds, codes, n_boot, ci, random_state, func):
    n_groups = check_n_items(int(codes.max()) + 1, func)
    counts = draw_group_counts(n_groups, int(n_boot), random_state)
    frames = []
    for order, (metric, (num, den)) in enumerate(ratios.items()):
        with warnings.catch_warnings():  # warned once above, naming the analysis
            warnings.simplefilter("ignore", FewItemsWarning)
            est, low, high = item_intervals(group_sums(num, codes, n_groups),
                                             group_sums(den, codes, n_groups), counts, ci)
        frames.append(meds.assign(metric=metric, estimate=est, ci_low=low, ci_high=high,
                                  n=len(codes), n_items=n_groups, _m=order,
                                  _j=np.arange(len(meds))))
    out = pd.concat(frames, ignore_index=True).sort_values(["_j", "_m"], kind="stable")
    return out.drop(columns=["_j", "_m"]).reset_index(drop=True)


def top_mediators(table, *, k, metric="indirect_effect", by="abs"):
    """The ``k`` mediators with the largest effect, ranked.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`mediation_effects`.
    k : int
        How many to keep (fewer when the table has fewer mediators).
    metric : str, default "indirect_effect"
    by : {"abs", "signed"}, default "abs"
        Rank by the absolute effect or by the signed effect (largest first).

    Returns
    -------
    pandas.DataFrame
        The ``k`` rows of ``metric``, best first, with a ``rank`` column (1 = best).

    Examples
    --------
    >>> table = mediation_effects([0.0, 0.1], [2.0, 2.1], [[0.5, 1.9, -1.0], [0.6, 2.0, -1.2]],
    ...                           n_boot=50)
    >>> top_mediators(table, k=2)[["mediator", "estimate", "rank"]]
       mediator  estimate  rank
    0         1      1.90     1
    1         2     -1.15     2
    """
    check_choice("top_mediators", "by", by, ("abs", "signed"))
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ProbingError(f"top_mediators: k must be a positive integer, got {k!r}")
    rows = table[table["metric"] == metric]
    if rows.empty:
        raise ProbingError(f"top_mediators: no rows with metric {metric!r}")
    key = rows["estimate"].abs() if by == "abs" else rows["estimate"]
    best = rows.loc[key.sort_values(ascending=False, kind="stable").index[:int(k)]]
    return best.assign(rank=np.arange(1, len(best) + 1)).reset_index(drop=True)


def joint_effect(y_x, y_xprime, y_joint, *, y_indirect=None, groups=None, scale="log",
                 n_boot=2000, ci=0.95, random_state=0):
    """Natural indirect effect of a set of mediators set jointly (e.g. the top-k).

    Parameters
    ----------
    y_x, y_xprime : array_like of shape (n_items,)
        Read-outs under ``x`` and ``x'``.
    y_joint : array_like of shape (n_items,)
        Read-out under ``x`` with every mediator of the set set to its value under ``x'``.
    y_indirect : array_like of shape (n_items, k), optional
        The set's members one at a time (as in :func:`mediation_effects`); gives the
        ``summed_indirect_effect`` row, the joint effect if the members added up.
    groups, scale, n_boot, ci, random_state
        As in :func:`mediation_effects`.

    Returns
    -------
    pandas.DataFrame
        ``metric, effect, ci_low, ci_high, n, n_items`` with metrics ``total_effect``,
        ``joint_indirect_effect``, ``joint_fraction`` (``sum joint NIE / sum TE``) and,
        with ``y_indirect``, ``summed_indirect_effect``.

    Examples
    --------
    >>> out = joint_effect([0.0, 0.2], [2.0, 2.2], [1.8, 2.0], n_boot=50)
    >>> out[["metric", "estimate"]]
                      metric  estimate
    0           total_effect       2.0
    1  joint_indirect_effect       1.8
    2         joint_fraction       0.9
    """
    func = "joint_effect"
    check_choice(func, "scale", scale, SCALES)
    check_options(func, n_boot=n_boot, ci=ci)
    y_joint = as_array(y_joint, "y_joint", func, ndim=1)
    y_x, y_xprime, _, _ = _check_runs(func, y_x, y_xprime, y_joint[:, None], None)
    codes = group_codes(groups, y_x.size, func)
    total = _change(y_xprime, y_x, scale)[:, None]
    joint = _change(y_joint, y_x, scale)[:, None]
    ones = np.ones_like(total)
    ratios = {"total_effect": (total, ones), "joint_indirect_effect": (joint, ones),
              "joint_fraction": (joint, total)}
    if y_indirect is not None:
        y_indirect = as_array(y_indirect, "y_indirect", func, ndim=2)
        same_length(func, y_x.size, y_indirect=y_indirect)
        summed = _change(y_indirect, y_x[:, None], scale).sum(axis=1, keepdims=True)
        ratios["summed_indirect_effect"] = (summed, ones)
    out = _summarise(ratios, pd.DataFrame(index=[0]), codes, n_boot, ci, random_state, func)
    return out[list(MEDIATION_COLUMNS)]
