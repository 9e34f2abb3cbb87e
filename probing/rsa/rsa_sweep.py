"""Layer sweeps and second-order RSA.

:func:`rsa_layers`
    One tidy row per layer and model RDM: the similarity, its bootstrap interval, its
    stimulus-permutation p-value and that p-value corrected across the whole family
    (all layers x all model RDMs).
:func:`compare_layers`, :func:`compare_models`
    Second-order RSA: the similarity of every layer's RDM with every other layer's
    (within a model, or across models).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from probing._core.defaults import CI, N_BOOT, N_PERM, RANDOM_STATE
from probing._core.deprecation import renamed, renamed_values
from probing._core.errors import ProbingError
from probing._core.vocabulary import table_columns
from probing.rsa.bootstrap import bootstrap_item_stack, bootstrap_stimuli
from probing.rsa.compute import stack_rdms
from probing.rsa.inference import permutation_test
from probing.rsa.rdm import RDMs, check_rdm
from probing.rsa.rdm_comparison import align_rdms, check_method, compare_rdms
from probing.stats import check_n_items, correct_pvalues, correction_label
from probing.store import Activations

__all__ = ["RSA_COLUMNS", "compare_layers", "compare_models", "rsa_layers"]

#: Columns of :func:`rsa_layers`, in order.
RSA_COLUMNS = tuple(table_columns("rsa"))
BOOTSTRAPS = ("stimuli", "items", None)


def _patterns(activations, stimulus_ids, layers):
    """``(n_layers, n_rows, n_units)`` view, row labels, layer numbers and site."""
    if isinstance(activations, Activations):
        if stimulus_ids is None:
            if activations.level != "sentence":
                raise ProbingError("rsa_layers: word-level activations need stimulus_ids "
                                   "(one label per row)")
            stimulus_ids = activations.index["stimulus_id"].to_numpy()
        numbers, site, values = activations.layers, activations.site, activations.values
    else:
        values = np.asarray(activations)
        if values.ndim != 3:
            raise ProbingError(f"rsa_layers: activations must be an Activations or an array "
                               f"(n_rows, n_layers, n_units); got shape {values.shape}")
        numbers, site = tuple(range(values.shape[1])), None
    positions = slice(None)  # a view: no copy of a memory-mapped store
    if layers is not None:
        missing = [k for k in layers if k not in numbers]
        if missing:
            raise ProbingError(f"rsa_layers: layers {missing} not available; available: "
                               f"{list(numbers)}")
        positions = [numbers.index(k) for k in layers]
    stack = np.swapaxes(values, 0, 1)[positions]
    return stack, stimulus_ids, list(np.asarray(numbers)[positions]), site


def _given_rdms(rdms, bootstrap, layers):
    """Data RDMs given instead of patterns: one per layer (``layer``, ``site`` descriptors)."""
    if bootstrap == "items":
        raise ProbingError("rsa_layers: bootstrap='items' recomputes the RDMs from patterns; "
                           "pass the activations, not RDMs")
    numbers = _layer_labels(rdms)
    if layers is not None:
        missing = [k for k in layers if k not in numbers]
        if missing:
            raise ProbingError(f"rsa_layers: layers {missing} not available; available: "
                               f"{numbers}")
        rdms = rdms.subset([numbers.index(k) for k in layers])
        numbers = list(layers)
    site = rdms.descriptors["site"].iloc[0] if "site" in rdms.descriptors else None
    return None, None, numbers, site, rdms


def _models(model_rdms, stimulus_ids):
    if isinstance(model_rdms, RDMs):
        names = (model_rdms.descriptors["model_rdm"].tolist() if "model_rdm"
                 in model_rdms.descriptors else list(range(model_rdms.n_rdms)))
        model_rdms = {n: model_rdms.subset(k) for k, n in enumerate(names)}
    if not isinstance(model_rdms, Mapping) or not model_rdms:
        raise ProbingError("rsa_layers: model_rdms must be a non-empty mapping name -> RDMs "
                           "(or condensed array), or an RDMs")
    out = {}
    for name, rdm in model_rdms.items():
        rdm = check_rdm(rdm, stimulus_ids=stimulus_ids)
        if rdm.n_rdms != 1:
            raise ProbingError(f"rsa_layers: model_rdms[{name!r}] holds {rdm.n_rdms} RDMs; "
                               f"give one per name")
        out[name] = rdm
    return out


def _stimulus_groups(groups, row_stimuli, data, *, name="groups",
                     hint="for bootstrap='stimuli' (use bootstrap='items' for item-level "
                          "rows)"):
    """Group of each stimulus id from one group label per row (one group per stimulus id)."""
    frame = pd.DataFrame({"stimulus": row_stimuli, "group": np.asarray(groups, object)})
    per = frame.groupby("stimulus", sort=False)["group"].nunique()
    if (per > 1).any():
        raise ProbingError(f"rsa_layers: {name} must be constant within a stimulus id {hint}")
    first = frame.drop_duplicates("stimulus").set_index("stimulus")["group"]
    return first.loc[list(data.stimulus_ids)].to_numpy()


def _intervals(bootstrap, stack, data, model, rows, options):
    if bootstrap is None:
        return np.full((2, data.n_rdms), np.nan)
    groups = options["groups"]
    if bootstrap == "items":
        if groups is None:
            raise ProbingError("rsa_layers: bootstrap='items' needs groups (the item of each "
                               "row)")
        res = bootstrap_item_stack(stack, model, stimulus_ids=rows, items=groups,
                                   distance=options["distance"],
                                   comparison=options["comparison"], noise=options["noise"],
                                   n_boot=options["n_boot"], ci=options["ci"],
                                   random_state=options["seed"], dtype=options["dtype"],
                                   residuals=options["residuals"])
    else:
        per_stimulus = None if groups is None else _stimulus_groups(groups, rows, data)
        res = bootstrap_stimuli(data, model, comparison=options["comparison"], groups=per_stimulus,
                                n_boot=options["n_boot"], ci=options["ci"],
                                random_state=options["seed"])
    if res.n_degenerate.any():
        warnings.warn(f"rsa_layers: up to {int(res.n_degenerate.max())} of {res.n_boot} "
                      f"bootstrap resamples were degenerate (a constant RDM over the drawn "
                      f"pairs) and were left out of the intervals", UserWarning, stacklevel=4)
    return np.stack([res.ci_low[:, 0], res.ci_high[:, 0]])


def _n_units(bootstrap, rows, data, groups):
    """The units the interval resamples: items, groups of stimuli, or stimuli."""
    if bootstrap == "items":
        return check_n_items(len(pd.unique(np.asarray(groups, dtype=object))), "rsa_layers")
    if bootstrap == "stimuli" and groups is not None:
        per_stimulus = _stimulus_groups(groups, rows, data)
        return check_n_items(len(pd.unique(np.asarray(per_stimulus, dtype=object))),
                             "rsa_layers")
    if bootstrap == "stimuli":
        return check_n_items(data.n_stimuli, "rsa_layers")
    return data.n_stimuli


@renamed_values(bootstrap={"conditions": "stimuli"})
@renamed(metric="distance", method="comparison", conditions="stimulus_ids")
def rsa_layers(activations, model_rdms, *, stimulus_ids=None, layers=None, distance="correlation",
               comparison="spearman", n_perm=N_PERM, alternative="greater", correction="holm",
               bootstrap="stimuli", groups=None, n_boot=N_BOOT, ci=CI, folds=None,
               noise=None, dtype="float32", within=None, random_state=RANDOM_STATE,
               residuals=None):
    """RSA of every layer against every model RDM, with permutation tests and intervals.

    Parameters
    ----------
    activations : probing.store.Activations, array_like of shape (n_rows, n_layers, n_units) or RDMs
        Patterns. For :class:`Activations` the stimulus_ids default to its ``stimulus_id``.
        Or the data RDMs themselves, one per layer (``layer`` and ``site`` descriptors,
        e.g. from :func:`~probing.rsa.compute_rdm`), when the caller needs them too:
        computed once; ``bootstrap="items"`` then is not available.
    model_rdms : mapping or RDMs
        ``{name: RDMs or condensed/square array}`` over the stimulus_ids (for example from
        :func:`~probing.rsa.build_model_rdms`); RDMs are reordered to the data's
        stimulus_ids by label.
    stimulus_ids : array_like of shape (n_rows,), optional
        Stimulus id of each row (rows sharing one are averaged into one RDM row);
        default one per row.
    layers : sequence of int, optional
        Layer numbers to analyse (default all).
    distance : str, default "correlation"
        :func:`~probing.rsa.compute_rdm` distance of the data RDMs.
    comparison : str, default "spearman"
        :func:`~probing.rsa.compare_rdms` comparison.
    n_perm : int, default ``N_PERM`` = 10,000
        Default from ``probing._core.defaults`` (p down to 1e-4, so a corrected layer sweep can reach 0.05).
        Stimulus permutations (all of them when ``n_stimuli! <= 10,000``).
    alternative : {"greater", "less", "two-sided"}, default "greater"
    correction : {"holm", "bonferroni", "fdr_bh"} or None, default "holm"
        Correction across all layers and model RDMs (None: ``p_corr = p_val``).
    bootstrap : {"stimuli", "items"} or None, default "stimuli"
        Interval by resampling stimuli (RDM rows; whole ``groups`` when given) or items
        (``groups`` = the item of each row; RDMs recomputed), or no interval (NaN).
        ``"conditions"`` is the deprecated name of ``"stimuli"``.
    groups : array_like of shape (n_rows,), optional
        Item (or other group) of each row, for the bootstraps.
    n_boot : int, default ``N_BOOT`` = 2,000
        Default from ``probing._core.defaults`` (stable 95% percentile end points).
    ci : float, default 0.95
    folds, noise, residuals : optional
        Passed to :func:`~probing.rsa.compute_rdm` (``crossnobis``, ``mahalanobis``).
        ``residuals="folds"`` gives crossnobis its unbiased noise estimate (each fold's
        from its training rows); ``bootstrap="items"`` recomputes it on every resample.
    dtype : {"float32", "float64"}, default "float32"
        Precision of the RDM Gram products.
    within : array_like of shape (n_rows,), optional
        Block of each row (constant within a stimulus id), for a restricted permutation
        test that exchanges stimulus_ids only inside blocks, e.g. the ``item_id`` of each
        stimulus (see :func:`~probing.rsa.permutation_test`). Default: free permutation.
    random_state : int, numpy.random.Generator or None, default ``RANDOM_STATE`` = 0
        Default from ``probing._core.defaults`` (a rerun gives the same table).

    Returns
    -------
    pandas.DataFrame
        One row per model RDM and layer, columns ``RSA_COLUMNS``: ``layer, site,
        model_rdm, distance, metric (the comparison), value, ci_low, ci_high, p_val, p_corr, correction,
        alternative, n_perm, exact, n_boot, n_stimuli, n_items``; ``n_items`` counts the
        units the interval resamples (stimuli, or their ``groups``; items with
        ``bootstrap="items"``), and fewer than 20 warn (``FewItemsWarning``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1], 6)
    >>> acts = rng.normal(size=(12, 3, 20))
    >>> acts[:, 2, :5] += 3 * labels[:, None]          # layer 2 encodes the label
    >>> model = {"label": (labels[:, None] != labels[None]).astype(float)}
    >>> table = rsa_layers(acts, model, n_perm=200, n_boot=100, random_state=0)
    >>> table[["layer", "model_rdm"]].values.tolist()
    [[0, 'label'], [1, 'label'], [2, 'label']]
    >>> (table["p_corr"] < 0.05).tolist()
    [False, False, True]
    """
    check_method(comparison, "rsa_layers")
    if bootstrap not in BOOTSTRAPS:
        raise ProbingError(f"rsa_layers: bootstrap must be one of {list(BOOTSTRAPS)}, got "
                           f"{bootstrap!r}")
    if isinstance(activations, RDMs):  # the layers' data RDMs, computed once by the caller
        stack, rows, numbers, site, data = _given_rdms(activations, bootstrap, layers)
    else:
        stack, rows, numbers, site = _patterns(activations, stimulus_ids, layers)
        data = stack_rdms(stack, distance=distance, stimulus_ids=rows, folds=folds, noise=noise,
                          residuals=residuals, dtype=dtype, descriptors={"layer": numbers})
    rows = np.asarray(data.stimulus_ids, dtype=object) if rows is None else rows
    seed = int(np.random.default_rng(random_state).integers(2**32))
    options = {"groups": groups, "distance": distance, "comparison": comparison, "noise": noise,
               "n_boot": n_boot, "ci": ci, "seed": seed, "dtype": dtype, "residuals": residuals}
    blocks = None if within is None else _stimulus_groups(
        within, rows, data, name="within", hint="(a block holds whole stimulus_ids)")
    frames = []
    for name, model in _models(model_rdms, data.stimulus_ids).items():
        data_m, model = align_rdms(data, model)
        test = permutation_test(data_m, model, comparison=comparison, n_perm=n_perm,
                                alternative=alternative, within=blocks, random_state=seed)
        low, high = _intervals(bootstrap, stack, data_m, model, rows, options)
        n_items = _n_units(bootstrap, rows, data_m, groups)
        frames.append(pd.DataFrame({
            "layer": numbers, "site": site, "model_rdm": name, "distance": distance,
            "metric": comparison, "estimate": test.value[:, 0], "ci_low": low, "ci_high": high,
            "p_val": test.p_val[:, 0], "alternative": alternative, "n_perm": test.n_perm,
            "exact": test.exact, "n_boot": n_boot if bootstrap else 0,
            "n_stimuli": data.n_stimuli, "n_items": n_items}))
    table = pd.concat(frames, ignore_index=True)
    table["correction"] = correction_label(correction)
    table["p_corr"] = (table["p_val"].to_numpy() if correction is None
                       else correct_pvalues(table["p_val"].to_numpy(), correction=correction))
    return table[list(RSA_COLUMNS)]


def _layer_labels(rdms):
    return (rdms.descriptors["layer"].tolist() if "layer" in rdms.descriptors
            else list(range(rdms.n_rdms)))


@renamed(method="comparison")
def compare_layers(rdms, *, comparison="spearman"):
    """Second-order RSA within one model: every layer's RDM against every other's.

    Parameters
    ----------
    rdms : RDMs
        One RDM per layer (the ``layer`` descriptor names them; else positions).
    comparison : str, default "spearman"

    Returns
    -------
    pandas.DataFrame
        ``layer_a, layer_b, metric, value`` (``metric``: the comparison): ``n_layers ** 2`` rows.

    Examples
    --------
    >>> from probing.rsa import compute_rdm
    >>> rng = np.random.default_rng(0)
    >>> rdms = compute_rdm(rng.normal(size=(6, 3, 10)))   # 6 stimuli, 3 layers
    >>> table = compare_layers(rdms)
    >>> table.shape, round(float(table.loc[0, "estimate"]), 6)
    ((9, 4), 1.0)
    """
    rdms = check_rdm(rdms)
    labels = _layer_labels(rdms)
    sim = compare_rdms(rdms, rdms, comparison=comparison)
    return pd.DataFrame({"layer_a": np.repeat(labels, len(labels)),
                         "layer_b": np.tile(labels, len(labels)),
                         "metric": comparison, "estimate": sim.ravel()})


@renamed(method="comparison")
def compare_models(rdms, *, comparison="spearman"):
    """Second-order RSA across models: every (model, layer) RDM against every other.

    Parameters
    ----------
    rdms : mapping
        ``{model name: RDMs}`` (one RDM per layer each) over the same stimuli.
    comparison : str, default "spearman"

    Returns
    -------
    pandas.DataFrame
        ``model_a, layer_a, model_b, layer_b, metric, value``.

    Examples
    --------
    >>> from probing.rsa import compute_rdm
    >>> rng = np.random.default_rng(0)
    >>> a, b = compute_rdm(rng.normal(size=(6, 2, 10))), compute_rdm(rng.normal(size=(6, 3, 10)))
    >>> compare_models({"a": a, "b": b}).shape
    (25, 6)
    """
    if not isinstance(rdms, Mapping) or not rdms:
        raise ProbingError("compare_models: rdms must be a non-empty mapping model -> RDMs")
    checked = {name: check_rdm(r) for name, r in rdms.items()}
    first = next(iter(checked.values()))
    frames = []
    for name_a, a in checked.items():
        a = align_rdms(first, a)[1]
        for name_b, b in checked.items():
            sim = compare_rdms(a, b, comparison=comparison)
            la, lb = _layer_labels(a), _layer_labels(b)
            frames.append(pd.DataFrame({"model_a": name_a, "layer_a": np.repeat(la, len(lb)),
                                        "model_b": name_b, "layer_b": np.tile(lb, len(la)),
                                        "metric": comparison, "estimate": sim.ravel()}))
    return pd.concat(frames, ignore_index=True)
