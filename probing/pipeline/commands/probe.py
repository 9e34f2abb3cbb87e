"""``probing probe``: controlled probing of one label on one model, declared once.

The options, the checks (``prepare_probe``: stimuli, label, pooling; no model) and the
run (``run_probe_plan``: extraction, probes, controls, statistics) of the command; the
analysis itself is :mod:`probing.pipeline.probe_run`. Engine modules are imported inside
``prepare``/``run`` so that ``probing --help`` imports no pandas, statsmodels or torch.
"""

from __future__ import annotations

import dataclasses

from probing._core.errors import ProbingError
from probing._core.values import PROBES, check_pooling
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

__all__ = ["COMMAND", "ProbeOptions", "prepare_probe", "run_probe", "run_probe_plan"]


def _n_seeds(text):
    """``--control-seeds N``: the seeds 0..N-1."""
    return tuple(range(int(text)))


def _check_seeds(seeds):
    if not seeds:
        raise ProbingError("need at least one control seed; got control_seeds=[]")


@dataclasses.dataclass(frozen=True)
class ProbeOptions(ActivationOptions, StatsOptions):
    """Options of a probing run; all of them are recorded in the manifest."""

    label: str = option("upos", "a words column (upos) or a stimuli column", required=True)
    pooling: str = option("last", "last (a word's last token), first, mean, or region:NAME "
                          "(sentence-level labels: the mean over a named region's tokens)",
                          check=check_pooling, values="first, last, mean, region:NAME")
    probes: tuple = option(PROBES, "probes, comma-separated", choices=PROBES)
    cv: int = option(5, "folds", minimum=2)
    control_seeds: tuple = option((0, 1, 2, 3, 4), "control tasks (seeds 0..N-1)", type=_n_seeds,
                                  metavar="N", default_text="5", check=_check_seeds)
    control_model_seed: int | None = option(
        0, "seed of the re-initialised control model", type=int,
        none_flag="--no-control-model", none_help="skip the control model")
    mdl: bool = option(True, "skip MDL codelengths")
    limit: int | None = option(None, "use the first N stimuli only", type=int, minimum=2)
    n_jobs: int | None = option(None, "layers fitted in parallel", type=int)


@dataclasses.dataclass(frozen=True)
class ProbePlan:
    """A checked probing run: the labelled stimuli, where the label lives, the options."""

    paradigm: object
    stimuli: object
    table: object
    level: str
    options: ProbeOptions


def prepare_probe(paradigm, options):
    """Every check of a probing run that needs no model: stimuli, label, pooling.

    Returns
    -------
    ProbePlan
    """
    from probing.pipeline.probe_run import select_labelled

    stimuli, table, level = select_labelled(paradigm.stimuli, options)
    return ProbePlan(paradigm, stimuli, table, level, options)


def run_probe_plan(plan, lm):
    """Extract, fit and test the probes of a prepared run (the only step with a model).

    Returns
    -------
    probing.commands.Result
        ``scores``, ``selectivity`` (word-level labels), ``permutation``, ``mdl`` and
        ``labels`` tables, each ending with ``model, paradigm``; the ``probe_layers``
        figure.
    """
    from probing.pipeline.probe_run import fit_probes

    tables, figure, notes = fit_probes(plan.stimuli, plan.table, plan.level, plan.options, lm)
    return Result(identify(tables, model=lm.name, paradigm=plan.paradigm.name),
                  {"probe_layers": figure}, notes)


@fill_doc
def run_probe(paradigm_path, lm, out, *, options=None, force=False, argv=None):
    """Probe one label layer by layer with controls and statistics; write the run folder.

    Parameters
    ----------
    paradigm_path : str, path-like or probing.commands.Paradigm
        A paradigm whose stimuli or words carry ``options.label``.
    %(lm)s
    out : str or path-like
        Run folder to create.
    options : ProbeOptions, optional
    force : bool
        Replace an existing run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``scores`` (per layer, fold, probe, task/control seed and model, with majority
        and chance baselines), ``selectivity`` (task, control and selectivity per layer
        and probe with intervals), ``permutation`` (per layer, closed-form linear probe),
        ``mdl`` (codelengths per layer and probe) and ``labels`` (``label, n``: class
        counts); each ends with ``model, paradigm``.

    Examples
    --------
    >>> ProbeOptions(label="number", probes=("logistic",)).probes
    ('logistic',)
    """
    from probing.pipeline.commands.execute import run_tables

    return run_tables(COMMAND, paradigm_path, lm, out, options=options, force=force, argv=argv)


def _report(result, out):
    """What ``probing probe`` prints: the files and accuracy by layer."""
    tables = result.tables
    lines = [f"wrote {out}/ ({', '.join(sorted(tables))}, probe_layers.png)"]
    if "selectivity" in tables:
        sel = tables["selectivity"].pivot_table(index="layer", columns=["probe", "task"],
                                                values="estimate")
        sel = sel.reindex(columns=["task", "control", "selectivity"], level=1)
        sel.columns = [f"{probe} {task}" for probe, task in sel.columns]
        lines += ["accuracy by layer (control: control task; selectivity: task - control):",
                  sel.to_string(float_format=lambda x: f"{x:.3f}")]
    return "\n".join(lines)


COMMAND = Command(
    name="probe", help="controlled probing of a label, layer by layer",
    description="Extract the activations of a paradigm's labelled words (or stimuli) from a "
    "model and from its re-initialised control model, then fit probes per layer with control "
    "tasks, a permutation test, MDL codelengths and corrections; write DIR/manifest.json, "
    "scores.csv, selectivity.csv, permutation.csv, mdl.csv, labels.csv and probe_layers.png.",
    options=ProbeOptions, prepare=prepare_probe, run=run_probe_plan,
    settings=CACHED_RUN_FOLDER, report=_report,
    example={"paradigm": "agreement_labels.yaml", "label": "number", "layers": "0,-1",
             "probes": ("logistic",), "cv": 3, "control_seeds": (0,), "n_perm": 20,
             "limit": 20})
