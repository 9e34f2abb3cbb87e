"""``probing ablate``: a unit set ablated against matched random sets, declared once.

The units of a table are ablated (set to zero, to their mean over the paradigm's
stimuli, or resampled from another stimulus) at every position, and the paradigm's
behaviour compared with the plain run and with random sets matched per layer and site;
the engine is :mod:`probing.pipeline.ablate_run`.
"""

from __future__ import annotations

import dataclasses

from probing.commands import Command, ModelSettings, RunFolderSettings
from probing.pipeline.causal_options import AblationOptions

__all__ = ["AblateOptions", "COMMAND", "prepare_ablate", "run_ablate", "run_ablate_plan"]


@dataclasses.dataclass(frozen=True)
class AblateOptions(AblationOptions):
    """Options of ``probing ablate``; all are recorded in the manifest."""


def prepare_ablate(paradigm, options):
    """The unit table read and checked, the stimuli limited; no model."""
    from probing.pipeline.ablate_run import prepare_ablation

    return prepare_ablation(paradigm, options)


def run_ablate_plan(plan, lm):
    """The plain run, the given set and every random set."""
    from probing.pipeline.ablate_run import ablate_result

    return ablate_result(plan, lm)


def _check_model(plan, shape):
    from probing.pipeline.ablate_run import check_ablation_units

    check_ablation_units(plan, shape)


def run_ablate(paradigm, lm, out, *, options=None, force=False, argv=None):
    """Ablate ``options.units`` and matched random sets; write the run folder.

    Parameters
    ----------
    paradigm : path-like or probing.commands.Paradigm
        A ``minimal_pairs`` or ``factorial`` paradigm.
    lm : probing.models.LanguageModel or callable
        A loaded model, or a loader called after every input is checked.
    out : path-like
        Run folder to create.
    options : AblateOptions
        ``units`` (a unit table file) is required.
    force : bool
        Replace an existing run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        See :func:`probing.pipeline.ablate_run.ablate_result`.

    Examples
    --------
    >>> AblateOptions(units="units.csv", ablation="resample").n_sets
    100
    """
    from probing.pipeline.commands.execute import run_command

    result = run_command(COMMAND, paradigm, lm, out, options=options or AblateOptions(),
                         force=force, argv=argv)
    return dict(result.tables)


def _report(result, out):
    table = result.tables["ablation"].drop(columns=["model", "paradigm", "correction"])
    return (f"wrote {out}/ (ablation.csv, ablation_behaviour.csv, ablation_null.csv)\n"
            + table.to_string(index=False, float_format=lambda x: f"{x:.3g}"))


COMMAND = Command(
    name="ablate", help="ablate a unit set against matched random sets",
    description="Ablate the units of TABLE (layer, site, unit; only rows with a true "
    "'selected' when that column exists) at every position and compare the paradigm's "
    "behaviour with the plain run and with N random sets matched per layer and site; write "
    "DIR/manifest.json, ablation.csv, ablation_behaviour.csv, ablation_null.csv, units.csv, "
    "random_sets.csv and ablation.png.",
    options=AblateOptions, prepare=prepare_ablate, run=run_ablate_plan,
    kinds=("minimal_pairs", "factorial"), settings=(ModelSettings, RunFolderSettings),
    report=_report, check_model=_check_model,
    example={"paradigm": "agreement_pp_attractor.yaml", "units": "data/examples/units.csv",
             "limit": 2, "n_sets": 2, "n_boot": 10})
