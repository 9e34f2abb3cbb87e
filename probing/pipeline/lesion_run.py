"""``probing lesion``'s engine: one unit set ablated in several paradigms, corrected across all.

A lesion study asks of one unit set (a localizer's ``units.csv``) whether ablating it
harms many phenomena more than ablating random sets matched in size and per-layer
distribution. The command (:mod:`probing.pipeline.commands.lesion`) runs ``probing
ablate``'s engine once per paradigm, with one loaded model, into ``OUT/<paradigm>/``
(each a complete ``probing ablate`` run folder, written by the one run-folder writer's
resumable mode), then joins their tables and corrects the p-values across every
phenomenon of every paradigm (:func:`probing.causal.combine_ablations`), per metric.

Each paradigm's random sets are drawn with the same ``random_state`` from the same pool,
so set ``s`` is the same units in every paradigm; with ``ablation="mean"`` (or
``"resample"``) each paradigm's reference is its own stimuli (the rule of ``probing
ablate``). A paradigm whose
folder already holds a finished run (``manifest.json``) with the same options is read
back, not recomputed (``resume=True``), so that a long study can be run in parts. A
folder is read back only if it ablated the same units (the content of its
``units.csv``, not only the path) with the same model (name, architecture, weights hash),
since the random sets are drawn from the given set and the model's shape.

Selection and test stay on disjoint items: when the unit table comes from a localizer
run folder (a ``stimuli.csv`` beside ``units.csv``), those are the items that selected
the units; they are recorded in the manifest (``selection_items``), and a paradigm that
shares a text with them is refused before the model loads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pandas as pd

from probing._core.errors import ProbingError
from probing._core.vocabulary import add_identity
from probing.commands import Part, Result
from probing.pipeline.ablate_run import prepare_ablation
from probing.pipeline.causal_inputs import load_unit_table
from probing.pipeline.causal_options import AblationOptions

# the declaration (options, prepare, parts) is probing.pipeline.commands.lesion; its
# names stay importable from here
from probing.pipeline.commands.lesion import LesionOptions, run_lesion

__all__ = ["TABLES", "LesionOptions", "LesionPlan", "check_finished", "combine_lesion",
           "prepare_lesion", "run_lesion", "split_lesion"]

#: The tables of each paradigm's folder that the study joins.
TABLES = ("ablation", "ablation_behaviour", "ablation_null")


@dataclasses.dataclass(frozen=True)
class LesionPlan:
    """The paradigms (loaded once), the options, the unit table and the selection items."""

    paradigms: tuple
    options: object
    units: object
    selection: dict | None


def prepare_lesion(paradigms, options):
    """Every paradigm, limit and the unit table checked before any model loads."""
    names = {}
    for paradigm in paradigms:
        if paradigm.name in names:
            raise ProbingError(f"{paradigm.path}: paradigm {paradigm.name!r} is given twice")
        names[paradigm.name] = paradigm
    limits = options.limits or {}
    unknown = sorted(set(limits) - set(names))
    if unknown:
        raise ProbingError(f"limits: unknown paradigm(s) {unknown}; given {sorted(names)}")
    for name, value in limits.items():
        if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
            raise ProbingError(f"limits: {name} must be a whole number >= 1, got {value!r}")
    given = load_unit_table(options.units)
    selection = _selection_items(options.units)
    _check_disjoint(paradigms, selection)
    return LesionPlan(tuple(paradigms), options, given, selection)


def _selection_items(units):
    """The stimuli that selected the units (a localizer's ``stimuli.csv``), or None."""
    path = Path(units).parent / "stimuli.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    if not {"stimulus_id", "text"} <= set(table.columns):
        return None
    ids = "\n".join(sorted(table["stimulus_id"].astype(str)))
    return {"stimuli": str(path), "n_stimuli": len(table),
            "paradigm": sorted(set(table.get("paradigm", pd.Series(dtype=str)).astype(str))),
            "stimulus_ids_sha256": hashlib.sha256(ids.encode()).hexdigest(),
            "texts": set(table["text"].astype(str))}


def _check_disjoint(paradigms, selection):
    if selection is None:
        return
    for paradigm in paradigms:
        shared = set(paradigm.stimuli.table["text"].astype(str)) & selection["texts"]
        if shared:
            raise ProbingError(f"{paradigm.path}: {len(shared)} stimuli (e.g. "
                               f"{sorted(shared)[0]!r}) selected the units "
                               f"({selection['stimuli']}); a lesion must be measured on other "
                               f"items")


def split_lesion(plan):
    """One ``probing ablate`` run per paradigm (its own item limit), as study parts."""
    fields = [f.name for f in dataclasses.fields(AblationOptions)]
    common = {name: getattr(plan.options, name) for name in fields}
    parts = []
    for paradigm in plan.paradigms:
        limit = (plan.options.limits or {}).get(paradigm.name, plan.options.limit)
        local = AblationOptions(**{**common, "limit": limit})
        parts.append(Part(paradigm.name, paradigm, prepare_ablation(paradigm, local), local))
    return tuple(parts)


def check_finished(part, recorded, folder):
    """Refuse a finished paradigm folder of other options or other units."""
    wanted = json.loads(json.dumps(dataclasses.asdict(part.options), default=str))
    if any(recorded["options"].get(k) != v for k, v in wanted.items()):
        raise ProbingError(f"{folder}: holds a run with other options; use another --out "
                           f"or --force")
    if not _same_units(pd.read_csv(Path(folder) / "units.csv"), part.plan.units):
        raise ProbingError(f"{folder}: units.csv: ablated other units than --units "
                           f"{recorded['options'].get('units')} holds now; use another "
                           f"--out or --force")


def _same_units(recorded, given):
    columns = ["layer", "site", "unit"]
    return (recorded[columns].sort_values(columns).reset_index(drop=True)
            .equals(given[columns].sort_values(columns).reset_index(drop=True)))


def combine_lesion(plan, parts):
    """The paradigms' tables joined and the lesion table corrected across all of them."""
    from probing.causal import combine_ablations, plot_lesion

    joined = {key: pd.concat([tables[key].assign(paradigm=name)
                              for name, tables in parts.items()], ignore_index=True)
              for key in TABLES}
    lesion = combine_ablations(joined["ablation"], joined["ablation_null"], correction="holm")
    joined["lesion"] = add_identity(lesion, paradigm=None,
                                    model=str(joined["ablation"]["model"].iloc[0]))
    figure = plot_lesion(joined["lesion"], joined["ablation_null"])  # closed by the writer
    options = plan.options
    selection = plan.selection and {k: v for k, v in plan.selection.items() if k != "texts"}
    recorded = {**dataclasses.asdict(options), "units": str(options.units),
                "limits": dict(options.limits or {}),
                "paradigms": [str(p.path) for p in plan.paradigms],
                "selection_items": selection}
    return Result(tables=joined, figures={"lesion": figure}, notes={"options": recorded})
