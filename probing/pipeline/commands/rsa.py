"""``probing rsa``: representational similarity analysis, layer by layer, declared once.

Pooled activations of an ``rsa`` paradigm's stimuli at every requested layer (through
the activation cache), each layer's RDM compared with the paradigm's model RDMs with a
stimulus-label permutation test and an item bootstrap (:mod:`probing.pipeline.rsa_run`).
Engine modules are imported inside ``prepare`` and ``run`` so that ``probing --help``
imports no pandas or torch.
"""

from __future__ import annotations

import dataclasses

from probing._core.defaults import N_BOOT
from probing._core.deprecation import renamed_fields
from probing._core.errors import ProbingError
from probing._core.values import COMPARISONS, DISTANCES, PERMUTE, RESIDUALS, check_pooling
from probing.commands import (
    CACHED_RUN_FOLDER,
    ActivationOptions,
    Command,
    Result,
    StatsOptions,
    fill_doc,
    identify,
    option,
)

__all__ = ["COMMAND", "RSAOptions", "prepare_rsa", "run_rsa", "run_rsa_plan"]


@renamed_fields(metric="distance", method="comparison")
@dataclasses.dataclass(frozen=True)
class RSAOptions(ActivationOptions, StatsOptions):
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

    pooling: str = option("mean", "mean (an RSA pattern stands for the whole stimulus, not for "
                          "its last token, which is often the full stop), last, first, or "
                          "region:NAME such as region:noun", check=check_pooling,
                          values="first, last, mean, region:NAME")
    distance: str = option("correlation", "RDM distance (mahalanobis and crossnobis estimate "
                           "the noise from the patterns)", choices=DISTANCES,
                           deprecated=("--metric",))
    comparison: str = option("spearman", "RDM comparison", choices=COMPARISONS,
                             deprecated=("--method",))
    n_boot: int = option(N_BOOT, "item bootstrap resamples (0: none)", minimum=0)
    permute: str = option("free", "exchange all stimulus labels or only within items",
                          choices=PERMUTE)
    residuals: str = option("folds", "crossnobis: each fold's noise from its training rows, "
                            "or no whitening", choices=RESIDUALS, cli=False)

    def __post_init__(self):
        super().__post_init__()
        if self.distance == "crossnobis" and self.permute == "items":
            raise ProbingError("permute 'items' needs stimulus RDM rows; crossnobis RDM rows "
                               "are conditions (use permute 'free')")


def prepare_rsa(paradigm, options):
    """Check the pooling (and its region) against the stimuli; the plan is both."""
    from probing.pipeline.extraction import build_segments

    build_segments(paradigm.stimuli, pooling=options.pooling)
    return paradigm, options


def run_rsa_plan(plan, lm):
    """Extract, compare every layer's RDM with the model RDMs, draw the figures.

    Returns
    -------
    probing.commands.Result
        ``rsa`` (one row per layer and model RDM), ``layer_similarity`` (second-order
        RSA) and the ``stimuli`` paradigm table, each ending with ``model, paradigm``;
        the ``rsa_layers`` and peak layer's RDM figures.
    """
    from probing.pipeline.rsa_run import compute_rsa, plot_rsa_run

    paradigm, options = plan
    rdms, table, second, key = compute_rsa(lm, paradigm.stimuli, options)
    tables = identify({"rsa": table, "layer_similarity": second}, model=lm.name,
                      paradigm=paradigm.name)
    return Result(tables=tables, figures=plot_rsa_run(rdms, table),
                  notes={"activations_key": key},
                  paradigm_tables=identify({"stimuli": paradigm.stimuli.table}, model=lm.name,
                                           paradigm=paradigm.name))


@fill_doc
def run_rsa(paradigm_path, lm, out, *, options=None, force=False, argv=None):
    """Run an ``rsa`` paradigm on ``lm`` and write the run folder.

    Parameters
    ----------
    paradigm_path : str, path-like or probing.commands.Paradigm
        A paradigm file of kind ``rsa`` (its ``model_rdms`` name the predictors).
    %(lm)s
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
        ``layer_a, layer_b, comparison, value``); each ends with ``model, paradigm``.

    Examples
    --------
    >>> RSAOptions(distance="cosine", n_perm=100).n_perm
    100
    """
    from probing.pipeline.commands.execute import run_tables

    return run_tables(COMMAND, paradigm_path, lm, out, options=options, force=force, argv=argv)


def _report(result, out):
    rsa = result.tables["rsa"]
    best = rsa.loc[rsa.groupby("model_rdm")["estimate"].idxmax()]
    return "\n".join([f"wrote {out}/ (rsa.csv, layer_similarity.csv, rsa_layers.png)",
                      "peak layer per model RDM:",
                      best[["model_rdm", "layer", "estimate", "ci_low", "ci_high", "p_corr"]]
                      .to_string(index=False, float_format=lambda x: f"{x:.3g}")])


COMMAND = Command(
    name="rsa", help="representational similarity analysis, layer by layer",
    description="Extract an rsa paradigm's activations, compare every layer's RDM with the "
    "paradigm's model RDMs (stimulus-label permutation test, item bootstrap, correction "
    "across layers) and write DIR/manifest.json, stimuli.csv, rsa.csv, "
    "layer_similarity.csv, rsa_layers.png and the peak layer's RDM.",
    options=RSAOptions, prepare=prepare_rsa, run=run_rsa_plan, settings=CACHED_RUN_FOLDER,
    kinds=("rsa",), report=_report,
    example={"paradigm": "rsa_number_animacy.yaml", "layers": "0,-1", "n_perm": 20,
             "n_boot": 0})
