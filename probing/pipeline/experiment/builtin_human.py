"""Registry entries that meet neuroscience and human data: ``localize`` and ``alignment``.

``localize`` runs :func:`probing.pipeline.localize_run.run_localize` (its ``units.csv`` can
feed an ``ablate`` analysis of the same experiment through ``units_from``).
``alignment`` runs ``probing run`` on a human-data paradigm (kinds ``ratings`` and
``reading_times``), which scores the stimuli and writes ``alignment.csv``.
"""

from __future__ import annotations

import dataclasses

from probing._core.defaults import N_BOOT
from probing.pipeline.commands.localize import LocalizeOptions
from probing.pipeline.experiment.registry import Analysis
from probing.pipeline.paradigm_run import RunOptions, run_paradigm

__all__ = ["AlignmentOptions", "HUMAN"]

_ARGV = ["probing", "experiment"]


def _run_localize(paradigm_path, lm, out, *, options):
    """``probing localize``'s declaration: every check runs before ``lm`` is loaded."""
    from probing.pipeline.commands.localize import run_localize

    return run_localize(paradigm_path, lm, out, options=options, force=True, argv=_ARGV)


@dataclasses.dataclass(frozen=True)
class AlignmentOptions:
    """Options of an ``alignment`` step (the scoring options that apply to human data)."""

    n_boot: int = N_BOOT
    batch_size: int = 32
    truncate: bool = False
    stride: int | None = None
    seed: int | None = None

    def __post_init__(self):
        self.run_options()

    def run_options(self):
        return RunOptions(**dataclasses.asdict(self))


def _run_alignment(paradigm_path, lm, out, *, options):
    return run_paradigm(paradigm_path, lm, out, options=options.run_options(), force=True,
                        argv=_ARGV)


def _alignment_figures(tables):
    """Per paradigm: each measure's alignment (with its interval), one bar per model."""
    import matplotlib.pyplot as plt
    import numpy as np

    table = tables.get("alignment")
    if table is None:
        return []
    figures = []
    for paradigm, frame in table.groupby("paradigm", sort=True):
        frame = frame[frame["metric"].isin(["pearson", "delta_loglik"])]
        if frame.empty:
            continue
        mean = frame.groupby(["measure", "metric", "model"], sort=True)[
            ["estimate", "ci_low", "ci_high"]].mean().reset_index()
        labels = list(dict.fromkeys(mean["measure"] + " (" + mean["metric"] + ")"))
        models = sorted(set(mean["model"]))
        _, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(labels) * len(models)), 3.2))
        width = 0.8 / len(models)
        for i, (model, rows) in enumerate(mean.groupby("model", sort=True)):
            x = np.arange(len(rows)) + i * width
            err = np.vstack([rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]])
            ax.bar(x, rows["estimate"], width, yerr=np.abs(err), capsize=3, label=model)
        ax.set_xticks(np.arange(len(labels)) + 0.4 - width / 2, labels, rotation=30,
                      ha="right", fontsize=8)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set(ylabel="alignment", title=paradigm)
        ax.legend(fontsize=8, frameon=False)
        figures.append((f"Alignment with human data: {paradigm}", ax.figure))
    return figures


HUMAN = (
    Analysis(
        kind="localize", run=_run_localize, options=LocalizeOptions, kinds=("localizer",),
        units_table=lambda options: "units.csv",
        pool=(("layer_counts", ("layer", "site"), "n_selected"),
              ("reliability", ("selected_on", "measured_on", "metric"), "estimate")),
        describe="Functional localizer: every unit's response to the contrast's two "
                 "conditions is compared with an ordinary-least-squares GLM (or Welch's "
                 "test), units are selected on all stimuli, and the selection's split-half "
                 "reliability (Dice, and each half's selection measured on the other half) "
                 "is reported.",
        references=("Fedorenko et al. (2010) J. Neurophysiol. (language localizer)",
                    "AlKhamissi et al. (2025) NAACL (the LLM language network)"),
        report=("reliability", "layer_counts")),
    Analysis(
        kind="alignment", run=_run_alignment, options=AlignmentOptions,
        kinds=("ratings", "reading_times"), strict=True,
        pool=(("alignment", ("measure", "metric"), "estimate"),),
        describe="Alignment with human data; intervals by bootstrap.",
        by_kind=(
            (("ratings",), "Acceptability ratings: Pearson and Spearman correlations of "
             "sentence log-probability measures (LP, MeanLP, PenLP, NormLP, SLOR) with the "
             "mean ratings, and their held-out calibration.",
             ("Lau et al. (2020) TACL (acceptability in context)",)),
            (("reading_times",), "Reading times: the held-out gain in log-likelihood (delta "
             "log-likelihood) when end-of-word-corrected surprisal (with two words of "
             "spillover) is added to a regression on length and frequency, leaving one text "
             "out.", ("Futrell et al. (2021) LRE (Natural Stories corpus)",
                      "Wilcox et al. (2020) CogSci (surprisal and reading times)",
                      "Pimentel et al. (2022) / Oh & Schuler (2024) (end-of-word surprisal)"))),
        report=("alignment",), figures=(_alignment_figures,)),
)
