"""``probing rsa``: an RSA paradigm on one model, layer by layer, into a run folder.

Stimuli are generated from the paradigm file, their pooled activations extracted at
every requested layer (through the activation cache), the paradigm's model RDMs built
from its factors, and each layer's RDM compared with each model RDM with a
stimulus-label permutation test and an item bootstrap. Tables, figures and the
manifest are written to a temporary folder and renamed into place at the end.
"""

from __future__ import annotations

import dataclasses
import json

from probing._core.defaults import N_BOOT, N_PERM, RANDOM_STATE
from probing._core.deprecation import renamed_fields
from probing._core.errors import ProbingError
from probing._core.io import atomic_folder, write_frame
from probing._core.resources import check_memory
from probing.pipeline._loading import resolve_model
from probing.pipeline.extract import build_segments, extract_activations
from probing.pipeline.manifest import build_manifest, now
from probing.pipeline.run import check_run_folder
from probing.pipeline.sources import load_source

__all__ = ["PERMUTE", "RSAOptions", "run_rsa"]

PERMUTE = ("free", "items")
#: ``--residuals`` of crossnobis: each fold's noise from its training rows, or no whitening.
RESIDUALS = ("folds", "none")


@renamed_fields(metric="distance", method="comparison")
@dataclasses.dataclass(frozen=True)
class RSAOptions:
    """Options of an RSA run; all of them are recorded in the manifest.

    ``pooling`` names what each stimulus contributes (``region:noun``: the mean over the
    noun's tokens). Intervals resample whole items (all stimuli of an item together),
    so they carry item-to-item variability. ``permute="free"`` exchanges all stimulus
    labels (Kriegeskorte et al. 2008); ``"items"`` only exchanges them inside an item,
    so each item's own similarity structure stays in the null.

    ``distance="crossnobis"`` needs repeated measurements of each RDM row, so its RDM
    rows are the design's conditions, each item one fold (cross-validated over items),
    whitened with each fold's own noise estimate (``residuals="folds"``, unbiased) or
    not at all (``"none"``); its interval resamples items and recomputes the RDMs.
    ``mahalanobis`` whitens with the noise of the patterns around their condition means.
    """

    layers: str = "all"
    site: str = "resid_post"
    pooling: str = "mean"
    distance: str = "correlation"
    comparison: str = "spearman"
    n_perm: int = N_PERM
    n_boot: int = N_BOOT
    correction: str = "holm"
    permute: str = "free"
    random_state: int = RANDOM_STATE
    batch_size: int = 32
    seed: int | None = None
    residuals: str = "folds"

    def __post_init__(self):
        from probing.rsa import COMPARISONS, DISTANCES
        from probing.stats import CORRECTIONS

        if self.distance not in DISTANCES:
            raise ProbingError(f"distance {self.distance!r}: allowed {', '.join(DISTANCES)}")
        if self.comparison not in COMPARISONS:
            raise ProbingError(f"comparison {self.comparison!r}: allowed {', '.join(COMPARISONS)}")
        if self.correction not in CORRECTIONS:
            raise ProbingError(f"correction {self.correction!r}: allowed {', '.join(CORRECTIONS)}")
        if self.permute not in PERMUTE:
            raise ProbingError(f"permute {self.permute!r}: allowed {', '.join(PERMUTE)}")
        if self.residuals not in RESIDUALS:
            raise ProbingError(f"residuals {self.residuals!r}: allowed {', '.join(RESIDUALS)}")
        if self.distance == "crossnobis" and self.permute == "items":
            raise ProbingError("permute 'items' needs stimulus RDM rows; crossnobis RDM rows "
                               "are conditions (use permute 'free')")
        if self.n_perm < 1 or self.n_boot < 0:
            raise ProbingError(f"n_perm must be >= 1 and n_boot >= 0; got {self.n_perm}, "
                               f"{self.n_boot}")


def run_rsa(paradigm_path, lm, out, *, options=None, force=False, argv=None):
    """Run an ``rsa`` paradigm on ``lm`` and write the run folder.

    Parameters
    ----------
    paradigm_path : str or path-like
        A paradigm file of kind ``rsa`` (its ``model_rdms`` name the predictors).
    lm : probing.models.LanguageModel or callable
        A loaded model, or a zero-argument loader called after every input is checked.
    out : str or path-like
        Run folder to create.
    options : RSAOptions, optional
    force : bool
        Replace an existing run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``stimuli`` and ``rsa`` (one row per layer and model RDM, the columns of
        :data:`probing.rsa.RSA_COLUMNS`), ``layer_similarity`` (second-order RSA,
        ``layer_a, layer_b, comparison, value``).
    """
    from probing.rsa import build_model_rdms, compare_layers, compute_rdm, rsa_layers

    options = options or RSAOptions()
    check_run_folder(out, force=force)
    started = now()
    stimuli, seed = load_source(paradigm_path, seed=options.seed)  # a file or a table
    if stimuli.kind != "rsa":
        raise ProbingError(f"{paradigm_path}: kind: is {stimuli.kind!r}; probing rsa needs kind: rsa")
    build_segments(stimuli, pooling=options.pooling)  # pooling and its region, before loading
    lm = resolve_model(lm)
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
    tables = {"stimuli": stimuli.table, "rsa": table.assign(model=lm.name, paradigm=stimuli.paradigm),
              "layer_similarity": compare_layers(rdms, comparison=options.comparison)}
    manifest = build_manifest(paradigm_path=paradigm_path, seed=seed, options=dataclasses.asdict(options),
                              model_provenance=lm.provenance, started=started, argv=argv)
    manifest["activations_key"] = acts.provenance["key"]
    _write(out, tables, manifest, rdms, table)
    return tables


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
    from probing.models.extract import n_layers, resolve_layers

    layers = resolve_layers(options.layers, n_layers(lm), options.site)
    n_models = max(1, len(stimuli.info.get("model_rdms") or {}))
    need = estimate_rsa_memory(len(stimuli.table), len(layers), int(lm.model.config.hidden_size),
                               n_models=n_models, n_perm=options.n_perm)
    check_memory(need, what=f"RSA of {len(stimuli.table)} stimuli x {len(layers)} layers",
                 advice="use fewer layers (--layers 0,6,-1), fewer stimuli (items_per_cell) "
                        "or fewer permutations (--n-perm)")


def _write(out, tables, manifest, rdms, table):
    import matplotlib.pyplot as plt

    from probing.rsa import plot_rdm, plot_rsa_layers

    with atomic_folder(out) as tmp:
        for name, frame in tables.items():
            write_frame(frame, tmp / f"{name}.csv", ".csv")
        ax = plot_rsa_layers(table)
        ax.figure.savefig(tmp / "rsa_layers.png", dpi=120, bbox_inches="tight")
        peak = int(table.loc[table["value"].idxmax(), "layer"])
        ax = plot_rdm(rdms, index=list(rdms.descriptors["layer"]).index(peak), labels=False)
        ax.set_title(f"layer {peak} RDM ({rdms.distance}; stimuli sorted by condition)")
        ax.figure.savefig(tmp / f"rdm_layer{peak}.png", dpi=120, bbox_inches="tight")
        plt.close("all")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
