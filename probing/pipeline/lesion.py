"""``probing lesion``: one unit set ablated in several paradigms, corrected across all.

A lesion study asks of one unit set (a localizer's ``units.csv``) whether ablating it
harms many phenomena more than ablating random sets matched in size and per-layer
distribution. :func:`run_lesion` runs :func:`probing.pipeline.ablate.run_ablate` once per
paradigm, with one loaded model, into ``OUT/<paradigm>/`` (each a complete ``probing
ablate`` run folder), then joins their tables and corrects the p-values across every
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
from probing._core.io import write_frame
from probing._core.vocabulary import add_identity
from probing.paradigms import generate, load_paradigm
from probing.pipeline._loading import resolve_model
from probing.pipeline.causal_inputs import load_unit_table
from probing.pipeline.manifest import build_manifest, now
from probing.pipeline.run import check_run_folder

__all__ = ["run_lesion"]

_KINDS = ("minimal_pairs", "factorial")
_TABLES = ("ablation", "ablation_behaviour", "ablation_null")


def _check_inputs(paradigms, units, limits):
    """Every paradigm file, kind and limit, and the unit table, before any model loads."""
    if not paradigms:
        raise ProbingError("probing lesion: no paradigm given")
    specs = {}
    for path in paradigms:
        spec = load_paradigm(path)
        if spec.kind not in _KINDS:
            raise ProbingError(f"{path}: kind: is {spec.kind!r}; probing lesion needs kind: "
                               f"{' or '.join(_KINDS)}")
        if spec.name in specs:
            raise ProbingError(f"{path}: paradigm {spec.name!r} is given twice")
        specs[spec.name] = (Path(path), spec)
    unknown = sorted(set(limits or {}) - set(specs))
    if unknown:
        raise ProbingError(f"limits: unknown paradigm(s) {unknown}; given {sorted(specs)}")
    for name, value in (limits or {}).items():
        if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
            raise ProbingError(f"limits: {name} must be a whole number >= 1, got {value!r}")
    given = load_unit_table(units)
    _check_disjoint(specs, _selection_items(units))
    return specs, given


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


def _check_disjoint(specs, selection):
    if selection is None:
        return
    for path, spec in specs.values():
        texts = set(generate(spec).table["text"].astype(str))
        shared = texts & selection["texts"]
        if shared:
            raise ProbingError(f"{path}: {len(shared)} stimuli (e.g. {sorted(shared)[0]!r}) "
                               f"selected the units ({selection['stimuli']}); a lesion must be "
                               f"measured on other items")


_MODEL_IDENTITY = ("model", "architecture", "sha256")


def _finished(folder, options, given):
    """The tables of a finished ``probing ablate`` run with these options and units, and
    its model's identity; None when the folder holds no finished run."""
    manifest = Path(folder) / "manifest.json"
    if not manifest.is_file():
        return None
    recorded = json.loads(manifest.read_text())
    wanted = json.loads(json.dumps(dataclasses.asdict(options), default=str))  # as recorded
    if any(recorded["options"].get(k) != v for k, v in wanted.items()):
        raise ProbingError(f"{folder}: holds a run with other options; use another --out "
                           f"or --force")
    if not _same_units(pd.read_csv(Path(folder) / "units.csv"), given):
        raise ProbingError(f"{folder}: units.csv: ablated other units than --units "
                           f"{recorded['options'].get('units')} holds now; use another "
                           f"--out or --force")
    tables = {name: pd.read_csv(Path(folder) / f"{name}.csv") for name in _TABLES}
    return tables, _identity(_recorded_model(recorded))


def _same_units(recorded, given):
    columns = ["layer", "site", "unit"]
    return (recorded[columns].sort_values(columns).reset_index(drop=True)
            .equals(given[columns].sort_values(columns).reset_index(drop=True)))


def _recorded_model(manifest):
    """The model provenance of a paradigm folder's manifest (``probing ablate`` records it
    under ``model.model``)."""
    model = manifest.get("model") or {}
    return model["model"] if isinstance(model.get("model"), dict) else model


def _identity(provenance):
    return {k: provenance.get(k) for k in _MODEL_IDENTITY}


def _check_one_model(identities, out):
    """Every paradigm folder of a study ran the same model (its matched sets too)."""
    distinct = {json.dumps(i, sort_keys=True) for i in identities}
    if len(distinct) > 1:
        raise ProbingError(f"{out}: the paradigm folders were run with different models "
                           f"({' vs '.join(sorted(distinct))}); use another --out or --force")


def run_lesion(paradigms, lm, out, *, units, options=None, limits=None, resume=False,
               force=False, argv=None):
    """Ablate ``units`` and matched random sets in each paradigm; correct across all.

    Parameters
    ----------
    paradigms : sequence of path-like
        Minimal-pair or factorial paradigm files (BLiMP, agreement, SyntaxGym suites).
    lm : probing.models.LanguageModel or callable
        The model, or a loader called once, after every input is checked.
    out : path-like
        Study folder: ``OUT/<paradigm>/`` per paradigm and the joined tables.
    units : path-like
        A unit table (``layer, site, unit``; only ``selected`` rows when it has them).
    options : probing.pipeline.commands.ablate.AblateOptions, optional
        ``ablation``, ``n_sets``, ``n_boot``, ``random_state`` ... as in ``probing
        ablate`` (its ``units`` are set to ``units``); ``options.limit`` is the default
        item limit of every paradigm.
    limits : dict of str -> int, optional
        Item limit per paradigm name (overrides ``options.limit``).
    resume : bool, default False
        Read back a paradigm's finished run folder (same options) instead of
        recomputing it.
    force : bool, default False
        Replace an existing study folder (every paradigm is recomputed). Without
        ``resume`` or ``force`` an existing non-empty ``out`` is an error.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``lesion`` (:func:`probing.causal.combine_ablations`: per paradigm, phenomenon and
        metric, the given set's effect against the random sets, corrected across all
        phenomena), and the joined per-paradigm ``ablation``, ``ablation_behaviour`` and
        ``ablation_null`` tables.
    """
    from probing.causal import combine_ablations
    from probing.pipeline.commands.ablate import AblateOptions, run_ablate

    options = dataclasses.replace(options or AblateOptions(), units=units)
    specs, given = _check_inputs(paradigms, units, limits)
    selection = _selection_items(units)
    out = Path(out)
    check_run_folder(out, force=force or resume)
    started = now()
    parts, model, identities = {name: [] for name in _TABLES}, None, []
    for name, (path, _) in specs.items():
        local = dataclasses.replace(options, limit=(limits or {}).get(name, options.limit))
        finished = _finished(out / name, local, given) if resume and not force else None
        if finished is None:
            model = resolve_model(lm) if model is None else model
            _check_one_model([*identities, _identity(model.provenance)], out)  # before running
            identities.append(_identity(model.provenance))
            out.mkdir(parents=True, exist_ok=True)
            tables = run_ablate(path, model, out / name, options=local, force=force,
                                argv=argv)
        else:
            tables, identity = finished
            identities.append(identity)
            _check_one_model(identities, out)
        for key in _TABLES:
            parts[key].append(tables[key].assign(paradigm=name))
    joined = {key: pd.concat(frames, ignore_index=True) for key, frames in parts.items()}
    joined["lesion"] = combine_ablations(joined["ablation"], joined["ablation_null"],
                                         correction="holm")
    joined["lesion"] = add_identity(joined["lesion"], paradigm=None,
                                    model=str(joined["ablation"]["model"].iloc[0]))
    manifest = build_manifest(paradigm_path=next(iter(specs.values()))[0],
                              seed=options.seed,
                              options={**dataclasses.asdict(options), "units": str(units),
                                       "limits": dict(limits or {}),
                                       "paradigms": [str(p) for p, _ in specs.values()],
                                       "selection_items": selection and {
                                           k: v for k, v in selection.items() if k != "texts"}},
                              model_provenance=_provenance(model, out, specs),
                              started=started, argv=argv)
    _write_study(out, joined, manifest)
    return joined


def _provenance(model, out, specs):
    """The model's provenance; when every paradigm was read back, the first folder's."""
    if model is not None:
        return model.provenance
    first = out / next(iter(specs)) / "manifest.json"
    return _recorded_model(json.loads(first.read_text()))


def _write_study(out, tables, manifest):
    """The joined tables beside the paradigm folders (which stay)."""
    import matplotlib.pyplot as plt

    from probing.causal import plot_lesion

    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        write_frame(frame, out / f"{name}.csv", ".csv")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    figure = plot_lesion(tables["lesion"], tables["ablation_null"])
    figure.savefig(out / "lesion.png", dpi=120, bbox_inches="tight")
    plt.close(figure)

