"""The registry entries of the analyses that exist today: behaviour, extract, probe, rsa."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd

from probing._core.defaults import N_BOOT, RANDOM_STATE
from probing._core.deprecation import renamed_fields
from probing._core.io import write_frame
from probing._core.vocabulary import add_identity
from probing.paradigms import generate, load_paradigm
from probing.pipeline._loading import resolve_model
from probing.pipeline.experiment.registry import Analysis
from probing.pipeline.extraction import LEVELS, build_segments, extract_activations
from probing.pipeline.paradigm_run import RunOptions, run_paradigm
from probing.pipeline.probe_run import ProbeOptions, run_probe
from probing.pipeline.rsa_run import RSAOptions, run_rsa

__all__ = ["BUILTIN", "ExtractOptions"]

_ARGV = ["probing", "experiment"]  # the manifest's command; the step records the rest


def _run_behaviour(paradigm_path, lm, out, *, options):
    return run_paradigm(paradigm_path, lm, out, options=options, force=True, argv=_ARGV)


def _run_probe(paradigm_path, lm, out, *, options):
    return run_probe(paradigm_path, lm, out, options=options, force=True, argv=_ARGV)


def _run_rsa(paradigm_path, lm, out, *, options):
    return run_rsa(paradigm_path, lm, out, options=options, force=True, argv=_ARGV)


@renamed_fields(dtype="store_dtype")
@dataclasses.dataclass(frozen=True)
class ExtractOptions:
    """Options of an extraction step (see :func:`probing.pipeline.extract_activations`)."""

    layers: str = "all"
    site: str = "resid_post"
    pooling: str = "last"
    level: str = "sentence"
    store_dtype: str = "float32"
    batch_size: int = 32
    seed: int | None = None

    def __post_init__(self):
        from probing._core.errors import ProbingError

        if self.level not in LEVELS:
            raise ProbingError(f"level {self.level!r}: allowed {', '.join(LEVELS)}")


def _run_extract(paradigm_path, lm, out, *, options):
    """Activations into ``out/activations`` and a ``norms`` table (mean L2 norm per layer)."""
    spec = load_paradigm(paradigm_path)
    stimuli = generate(spec, seed=options.seed)
    build_segments(stimuli, pooling=options.pooling, level=options.level)
    lm = resolve_model(lm)
    acts = extract_activations(lm, stimuli, layers=options.layers, site=options.site,
                               pooling=options.pooling, level=options.level,
                               store_dtype=options.store_dtype, batch_size=options.batch_size,
                               cache=False, out=out / "activations")
    values = np.asarray(acts.values, dtype=np.float64)
    norms = pd.DataFrame({"layer": list(acts.layers), "site": options.site, "metric": "l2_norm",
                          "estimate": np.linalg.norm(values, axis=2).mean(axis=0),
                          "n": values.shape[0]})
    tables = {"norms": add_identity(norms, model=lm.name, paradigm=spec.name)}
    write_frame(tables["norms"], out / "norms.csv", ".csv")
    (out / "manifest.json").write_text(json.dumps(
        {"options": dataclasses.asdict(options), "activations_key": acts.provenance["key"],
         "model": lm.provenance}, indent=2, default=str) + "\n")
    return tables


def _summarize_predictions(frame):
    """Accuracy of each prediction per model, paradigm and seed, bootstrap CI over items."""
    from probing.behaviour import summarize_predictions

    keys = [c for c in ("model", "paradigm", "seed") if c in frame]
    parts = [summarize_predictions(group, n_boot=N_BOOT, random_state=RANDOM_STATE).assign(
        **dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True)))
        for key, group in frame.groupby(keys, sort=True)]
    return pd.concat(parts, ignore_index=True)


def _region_figures(tables):
    """Surprisal by region and condition per model and factorial paradigm (all seeds)."""
    from probing.behaviour.plotting import plot_region_surprisal

    regions = tables.get("regions")
    if regions is None:
        return []
    figures = []
    for (model, paradigm), frame in regions.groupby(["model", "paradigm"], sort=True):
        ax = plot_region_surprisal(frame.assign(item_id=frame["item_id"].astype(str)
                                                + "/" + frame["seed"].astype(str)))
        ax.set_title(f"{paradigm}: {model}")
        figures.append((f"Surprisal by region and condition: {paradigm}, {model}", ax.figure))
    return figures


def _norm_figures(tables):
    """Mean activation norm by layer, one line per model, one panel per paradigm."""
    import matplotlib.pyplot as plt

    norms = tables.get("norms")
    if norms is None:
        return []
    figures = []
    for paradigm, frame in norms.groupby("paradigm", sort=True):
        _, ax = plt.subplots(figsize=(4.5, 3.2))
        for model, curve in frame.groupby("model", sort=True):
            mean = curve.groupby("layer")["estimate"].mean()
            ax.plot(mean.index, mean.to_numpy(), marker="o", label=model)
        ax.set(xlabel="layer", ylabel="mean L2 norm", title=paradigm)
        ax.legend(fontsize=8, frameon=False)
        figures.append((f"Activation norm by layer: {paradigm}", ax.figure))
    return figures


BUILTIN = (
    Analysis(
        kind="behaviour", run=_run_behaviour, options=RunOptions,
        pool=(("summary", ("phenomenon",), "accuracy"), ("predictions", ("prediction",), "correct")),
        describe="Surprisal (negative natural-log probability, in nats) of every token given its "
                 "left context, summed over words and regions.",
        by_kind=(
            (("minimal_pairs",), "Minimal pairs scored by sentence log-probability, with "
             "bootstrap intervals over pairs and a binomial sign test corrected across "
             "phenomena.", ("Marvin & Linzen (2018) EMNLP",
                            "Warstadt et al. (2020) TACL (BLiMP)")),
            (("factorial",), "Factorial designs: region surprisal by condition, and each "
             "prediction formula evaluated per item.",
             ("Gauthier et al. (2020) ACL demos (SyntaxGym)",)),
            (("ratings",), "Ratings paradigms: sentence log-probability measures (LP, "
             "MeanLP, PenLP, NormLP, SLOR) correlated with the mean human ratings.",
             ("Lau et al. (2020) TACL (acceptability in context)",)),
            (("reading_times",), "Reading-times paradigms: the held-out gain in "
             "log-likelihood when surprisal is added to a regression on length and "
             "frequency.", ("Wilcox et al. (2020) CogSci (surprisal and reading times)",))),
        report=("summary", "predictions", "model"),
        summaries=(("predictions", _summarize_predictions),),
        figures=(_region_figures,)),
    Analysis(
        kind="extract", run=_run_extract, options=ExtractOptions,
        pool=(("norms", ("layer", "site"), "estimate"),),
        describe="Layerwise activations pooled per stimulus, stored memory-mapped, with their "
                 "mean L2 norm per layer.",
        references=("Elhage et al. (2021), TransformerLens site names",),
        report=("norms",), figures=(_norm_figures,)),
    Analysis(
        kind="probe", run=_run_probe, options=ProbeOptions, kinds=("labels",),
        pool=(("selectivity", ("layer", "probe", "task"), "estimate"),),
        describe="Probes trained per layer with folds grouped by sentence, control tasks and a "
                 "re-initialised control model, label-permutation tests corrected across "
                 "layers and MDL codelengths.",
        references=("Hewitt & Liang (2019) EMNLP", "Voita & Titov (2020) EMNLP",
                    "Zhang & Bowman (2018) BlackboxNLP"),
        report=("selectivity", "permutation")),
    Analysis(
        kind="rsa", run=_run_rsa, options=RSAOptions, kinds=("rsa",), strict=True,
        pool=(("rsa", ("layer", "model_rdm"), "estimate"),),
        describe="Representational similarity analysis per layer against the design's model "
                 "RDMs, with permutation tests corrected across layers and item-bootstrap "
                 "intervals.",
        references=("Kriegeskorte et al. (2008) Front. Syst. Neurosci.",
                    "Nili et al. (2014) PLoS Comput. Biol. (rsatoolbox)"),
        report=("rsa",)),
)
