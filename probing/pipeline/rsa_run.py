"""``probing rsa``'s engine: an RSA paradigm on one model, layer by layer.

Stimuli are generated from the paradigm file, their pooled activations extracted at
every requested layer (through the activation cache), the paradigm's model RDMs built
from its factors, and each layer's RDM compared with each model RDM with a
stimulus-label permutation test and an item bootstrap. The command itself is declared in
:mod:`probing.pipeline.commands.rsa`.
"""

from __future__ import annotations

from probing._core.resources import check_memory
from probing._core.values import PERMUTE

# the declaration (options, prepare, run) is probing.pipeline.commands.rsa; its names
# stay importable from here
from probing.pipeline.commands.rsa import COMMAND, RSAOptions, run_rsa
from probing.pipeline.extraction import extract_activations

__all__ = ["COMMAND", "PERMUTE", "RSAOptions", "compute_rsa", "estimate_rsa_memory",
           "plot_rsa_run", "run_rsa"]


def compute_rsa(lm, stimuli, options):
    """Every layer's RDM compared with the model RDMs (after a memory check).

    Returns
    -------
    rdms : probing.rsa.RDMs
        The layers' RDMs as the figure shows them (sorted by condition).
    table : pandas.DataFrame
        One row per layer and model RDM.
    second : pandas.DataFrame
        Second-order RSA between layers.
    key : str
        The activations' cache key.
    """
    from probing.rsa import build_model_rdms, compare_layers, compute_rdm, rsa_layers

    _check_rsa_memory(lm, stimuli, options)
    acts = extract_activations(lm, stimuli, layers=options.layers, site=options.site,
                               pooling=options.pooling, batch_size=options.batch_size)
    items = stimuli.item_ids(acts.index["stimulus_id"])
    if options.distance == "crossnobis":
        rdms, table = _crossnobis_rsa(acts, stimuli, items, options)
    else:
        # each layer's RDM, once: for the tests, the second-order table and the figure
        rdms = compute_rdm(acts.values, distance=options.distance,
                           stimulus_ids=acts.index["stimulus_id"].tolist(),
                           residuals=_condition_residuals(acts, stimuli, options.distance),
                           descriptors={"layer": list(acts.layers), "site": acts.site})
        table = rsa_layers(rdms, build_model_rdms(stimuli), distance=options.distance,
                           comparison=options.comparison, n_perm=options.n_perm,
                           n_boot=options.n_boot, bootstrap="stimuli" if options.n_boot else None,
                           groups=items, correction=options.correction,
                           within=items if options.permute == "items" else None,
                           random_state=options.random_state)
        # Stimuli grouped by condition, so that the figure shows the design's blocks.
        rdms = rdms.reorder(stimuli.table.sort_values(["condition", "item_id"], kind="stable")
                            ["stimulus_id"].tolist())
    return (rdms, table, compare_layers(rdms, comparison=options.comparison),
            acts.provenance["key"])


def _conditions(acts, stimuli):
    table = stimuli.table.set_index(stimuli.table["stimulus_id"].astype(str))
    return table.loc[acts.index["stimulus_id"].astype(str), "condition"].to_numpy()


def _condition_residuals(acts, stimuli, distance):
    """For mahalanobis: each pattern minus its condition's mean (the noise), else None."""
    import numpy as np
    import pandas as pd

    if distance != "mahalanobis":
        return None
    codes = pd.factorize(_conditions(acts, stimuli))[0]
    values = np.asarray(acts.values, dtype=np.float64)
    means = np.stack([values[codes == k].mean(axis=0) for k in range(codes.max() + 1)])
    return values - means[codes]


def _crossnobis_rsa(acts, stimuli, items, options):
    """Crossnobis over conditions, items as folds (see :class:`RSAOptions`)."""
    from probing.rsa import build_model_rdms, compute_rdm, rsa_layers

    conditions = _conditions(acts, stimuli)
    residuals = "folds" if options.residuals == "folds" else None
    models = build_model_rdms(stimuli.table.drop_duplicates("condition"), id_column="condition",
                              model_rdms=stimuli.info.get("model_rdms"))
    rdms = compute_rdm(acts.values, distance="crossnobis", stimulus_ids=conditions, folds=items,
                       residuals=residuals,
                       descriptors={"layer": list(acts.layers), "site": acts.site})
    table = rsa_layers(acts, models, stimulus_ids=conditions, distance="crossnobis",
                       folds=items, residuals=residuals, comparison=options.comparison,
                       n_perm=options.n_perm, n_boot=options.n_boot,
                       bootstrap="items" if options.n_boot else None, groups=items,
                       correction=options.correction, random_state=options.random_state)
    return rdms.reorder(sorted(rdms.stimulus_ids, key=str)), table


def estimate_rsa_memory(n_rows, n_layers, n_units, *, n_models, n_perm):
    """Bytes an RSA run plans to hold at once (an estimate from the shapes).

    The layers' patterns as float64 (``n_layers x n_rows x n_units``), three sets of
    ``n_layers`` RDMs of ``n_rows x n_rows`` float64 (the tested, the aligned and the
    displayed ones), the permutations (``n_perm x n_rows`` int32) and the null
    distribution (``n_perm x n_layers x n_models`` float64).

    Examples
    --------
    >>> estimate_rsa_memory(100, 2, 10, n_models=1, n_perm=10) == 8 * (2000 + 60000 + 20) + 4000
    True
    """
    return (8 * n_layers * n_rows * n_units + 3 * 8 * n_layers * n_rows**2
            + 4 * n_perm * n_rows + 8 * n_perm * n_layers * n_models)


def _check_rsa_memory(lm, stimuli, options):
    """Refuse before extraction when the RSA would not fit in memory."""
    from probing.models.site_activations import n_layers, resolve_layers

    layers = resolve_layers(options.layers, n_layers(lm), options.site)
    n_models = max(1, len(stimuli.info.get("model_rdms") or {}))
    need = estimate_rsa_memory(len(stimuli.table), len(layers), int(lm.model.config.hidden_size),
                               n_models=n_models, n_perm=options.n_perm)
    check_memory(need, what=f"RSA of {len(stimuli.table)} stimuli x {len(layers)} layers",
                 advice="use fewer layers (--layers 0,6,-1), fewer stimuli (items_per_cell) "
                        "or fewer permutations (--n-perm)")


def plot_rsa_run(rdms, table):
    """The run's figures: ``rsa_layers`` and the peak layer's RDM (``rdm_layer<L>``)."""
    from probing.rsa import plot_rdm, plot_rsa_layers

    figures = {"rsa_layers": plot_rsa_layers(table).figure}
    peak = int(table.loc[table["estimate"].idxmax(), "layer"])
    ax = plot_rdm(rdms, index=list(rdms.descriptors["layer"]).index(peak), tick_labels=False)
    ax.set_title(f"layer {peak} RDM ({rdms.distance}; stimuli sorted by condition)")
    figures[f"rdm_layer{peak}"] = ax.figure
    return figures
