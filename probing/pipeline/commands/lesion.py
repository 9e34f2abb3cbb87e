"""``probing lesion``: one unit set ablated in several paradigms, declared once.

Each paradigm is one part of a resumable study folder (``OUT/<paradigm>/``, a complete
``probing ablate`` run folder written by the one run-folder writer); the study's own
tables join them and correct across every phenomenon of every paradigm. The engine is
:mod:`probing.pipeline.lesion_run` (and :mod:`probing.pipeline.ablate_run` for each part).
"""

from __future__ import annotations

import dataclasses

from probing.commands import Command, ModelSettings, Parts, StudyFolderSettings, option
from probing.pipeline.causal_options import AblationOptions

__all__ = ["COMMAND", "LesionOptions", "run_lesion"]

_KINDS = ("minimal_pairs", "factorial")


@dataclasses.dataclass(frozen=True)
class LesionOptions(AblationOptions):
    """Options of ``probing lesion``: ``probing ablate``'s, and an item limit per paradigm."""

    limits: dict | None = option(None, "item limit per paradigm name (overrides limit)",
                                 cli=False)


def _prepare(paradigms, options):
    from probing.pipeline.lesion_run import prepare_lesion

    return prepare_lesion(paradigms, options)


def _run_part(plan, lm):
    from probing.pipeline.ablate_run import ablate_result

    return ablate_result(plan, lm)


def _check_model(plan, shape):
    from probing.pipeline.ablate_run import check_ablation_units

    check_ablation_units(plan, shape)


def _split(plan):
    from probing.pipeline.lesion_run import split_lesion

    return split_lesion(plan)


def _check_finished(part, recorded, folder):
    from probing.pipeline.lesion_run import check_finished

    check_finished(part, recorded, folder)


def _combine(plan, parts):
    from probing.pipeline.lesion_run import combine_lesion

    return combine_lesion(plan, parts)


def run_lesion(paradigms, lm, out, *, units, options=None, limits=None, resume=False,
               force=False, argv=None):
    """Ablate ``units`` and matched random sets in each paradigm; correct across all.

    Parameters
    ----------
    paradigms : sequence of path-like or probing.commands.Paradigm
        Minimal-pair or factorial paradigms (BLiMP, agreement, SyntaxGym suites).
    lm : probing.models.LanguageModel or callable
        The model, or a loader called once, after every input is checked, and only when
        some paradigm is left to run.
    out : path-like
        Study folder: ``OUT/<paradigm>/`` per paradigm and the joined tables.
    units : path-like
        A unit table (``layer, site, unit``; only ``selected`` rows when it has them).
    options : probing.pipeline.causal_options.AblationOptions, optional
        ``ablation``, ``n_sets``, ``n_boot``, ``random_state`` ... as in ``probing
        ablate`` (an ``AblateOptions``; its ``units`` are set to ``units``);
        ``options.limit`` is the default item limit of every paradigm.
    limits : dict of str -> int, optional
        Item limit per paradigm name (overrides ``options.limit``).
    resume : bool, default False
        Read back a paradigm's finished run folder (same options, units and model)
        instead of recomputing it.
    force : bool, default False
        Replace an existing study folder (every paradigm is recomputed). Without
        ``resume`` or ``force`` an existing non-empty ``out`` is an error.

    Returns
    -------
    dict of str -> pandas.DataFrame
        The joined per-paradigm ``ablation``, ``ablation_behaviour`` and
        ``ablation_null`` tables, and ``lesion`` (:func:`probing.causal.combine_ablations`:
        per paradigm, phenomenon and metric, the given set's effect against the random
        sets, corrected across all phenomena).

    Examples
    --------
    >>> LesionOptions(units="units.csv", limits={"blimp": 3}).batch_size
    16
    """
    from probing.pipeline.commands.execute import run_command

    given = dataclasses.asdict(options) if options is not None else {}
    fields = {f.name for f in dataclasses.fields(AblationOptions)}
    given = {k: v for k, v in given.items() if k in fields}
    lesion = LesionOptions(**{**given, "units": units, "limits": dict(limits or {})})
    result = run_command(COMMAND, list(paradigms), lm, out, options=lesion, force=force,
                         argv=argv, resume=resume)
    return dict(result.tables)


def _report(result, out):
    columns = ["paradigm", "phenomenon", "metric", "estimate", "ci_low", "ci_high", "stat",
               "p_val", "p_corr", "p_normal", "p_normal_corr"]
    reused = result.notes.get("reused", [])
    lines = [f"reused the finished {name} (in {out}/{name}/)" for name in reused]
    lines.append(f"wrote {out}/ (lesion.csv, ablation.csv, ablation_null.csv, lesion.png)")
    lines.append(result.tables["lesion"][columns]
                 .assign(phenomenon=lambda t: t["phenomenon"].astype(str).str.slice(0, 40))
                 .to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    return "\n".join(lines)


COMMAND = Command(
    name="lesion", help="ablate a unit set in several paradigms vs random sets",
    description="Run `probing ablate` with the units of TABLE in each PARADIGM (one model "
    "load; DIR/<paradigm>/ each a full ablate run folder, written when it finishes; "
    "--resume reuses the finished ones) and correct the p-values across every phenomenon "
    "of every paradigm; write DIR/lesion.csv (rank p and normal-null p against the random "
    "sets, both Holm-corrected), the joined ablation tables, lesion.png and manifest.json.",
    options=LesionOptions, prepare=_prepare, run=_run_part, kinds=_KINDS, many=True,
    settings=(ModelSettings, StudyFolderSettings), report=_report, check_model=_check_model,
    parts=Parts(split=_split, tables=("ablation", "ablation_behaviour", "ablation_null"),
                check_finished=_check_finished, combine=_combine),
    example={"paradigm": ("agreement_pp_attractor.yaml", "syntaxgym_number_src.yaml"),
             "units": "data/examples/units.csv", "limit": 2, "n_sets": 2, "n_boot": 10})
