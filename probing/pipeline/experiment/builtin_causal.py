"""Registry entries of the interventions: ``patch``, ``mediate`` and ``ablate``.

Each step takes the options of its command's declaration
(:mod:`probing.pipeline.commands`): the same fields, defaults and checks, so a step
refuses exactly what ``probing patch | mediate | ablate`` refuses (a ``top_k`` under
``patch`` is an unknown field at its line).

``ablate`` takes its units from a file (``units: path``, relative to the experiment
file) or from another analysis of the same experiment (``units_from: NAME``: a
``localize`` step's ``units.csv`` or a ``mediate`` step's ``top_units.csv``, computed on
the same model). The second makes the ablation step depend on that step: its key covers
the source step's key, and it runs after it (see :mod:`probing.pipeline.experiment.plan`).
"""

from __future__ import annotations

import dataclasses

from probing._core.errors import ProbingError
from probing.commands import option
from probing.pipeline.commands.ablate import AblateOptions
from probing.pipeline.commands.mediate import MediateOptions
from probing.pipeline.commands.patch import PatchOptions
from probing.pipeline.experiment.registry import Analysis

__all__ = ["AblateStepOptions", "CAUSAL"]

_ARGV = ["probing", "experiment"]


@dataclasses.dataclass(frozen=True)
class AblateStepOptions(AblateOptions):
    """Options of an ``ablate`` step: ``probing ablate``'s, with exactly one of ``units``
    (a unit table file, relative to the experiment file) and ``units_from`` (an analysis
    of this file)."""

    units_from: str | None = option(None, "an analysis of this experiment whose unit table "
                                    "is ablated", cli=False)

    def __post_init__(self):
        if (self.units is None) == (self.units_from is None):
            raise ProbingError("give exactly one of units (a unit table file) or units_from "
                               "(a localize or mediate analysis of this file)")
        for name in ("units", "units_from"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ProbingError(f"{name}: must be a non-empty string; got {value!r}")
        super().__post_init__()


def _run_patch(paradigm_path, lm, out, *, options):
    from probing.pipeline.commands.patch import run_patch

    return run_patch(paradigm_path, lm, out, options=options, force=True, argv=_ARGV)


def _run_mediate(paradigm_path, lm, out, *, options):
    from probing.pipeline.commands.mediate import run_mediate

    return run_mediate(paradigm_path, lm, out, options=options, force=True, argv=_ARGV)


def _run_ablate(paradigm_path, lm, out, *, options):
    """``options.units`` is the resolved unit table path (the executor fills it in)."""
    from probing.pipeline.commands.ablate import run_ablate

    fields = {f.name for f in dataclasses.fields(AblateOptions)}
    command = AblateOptions(**{k: v for k, v in dataclasses.asdict(options).items()
                               if k in fields})
    return run_ablate(paradigm_path, lm, out, options=command, force=True, argv=_ARGV)


def _mediate_units(options):
    return "top_units.csv" if options.mediators in ("heads", "units") else None


CAUSAL = (
    Analysis(
        kind="patch", run=_run_patch, options=PatchOptions, kinds=("minimal_pairs",),
        strict=True,
        pool=(("patching", ("direction", "site", "layer", "position", "head", "metric"),
               "estimate"),),
        describe="Activation patching: each layer's (or head's) activation at each position "
                 "of one member of a minimal pair is replaced by its value on the other "
                 "member, and the change in the log-probability preference for the "
                 "grammatical member is reported as an effect and a restored fraction, with "
                 "bootstrap intervals over items.",
        references=("Vig et al. (2020) NeurIPS (causal mediation analysis)",
                    "Meng et al. (2022) NeurIPS (causal tracing)",
                    "Heimersheim & Nanda (2024) arXiv (activation patching)"),
        report=("patching",)),
    Analysis(
        kind="mediate", run=_run_mediate, options=MediateOptions, kinds=("minimal_pairs",),
        strict=True, units_table=_mediate_units,
        pool=(("mediation", ("layer", "site", "position", "head", "unit", "metric"), "estimate"),
              ("mediation_joint", ("k", "metric"), "estimate")),
        describe="Causal mediation analysis: total, natural indirect and natural direct "
                 "effects of each attention head (or layer, or unit) between the members of "
                 "each pair, the top-k mediators by indirect effect and their joint effect, with "
                 "bootstrap intervals over items.",
        references=("Vig et al. (2020) NeurIPS (causal mediation analysis)",
                    "Pearl (2001) UAI (direct and indirect effects)"),
        report=("top_mediators", "mediation_joint")),
    Analysis(
        kind="ablate", run=_run_ablate, options=AblateStepOptions,
        kinds=("minimal_pairs", "factorial"), strict=True, needs_units=True,
        pool=(("ablation", ("phenomenon", "unit_set", "metric"), "estimate"),),
        describe="Lesion study: the given units are ablated at every position and the "
                 "paradigm's behaviour compared with the intact model and with random unit "
                 "sets matched in size per layer and site (the null), with bootstrap "
                 "intervals over items and p-values corrected across phenomena.",
        references=("AlKhamissi et al. (2025) NAACL (ablating language-selective units)",
                    "Morcos et al. (2018) ICLR (single-direction ablation)"),
        report=("ablation", "ablation_behaviour")),
)
