"""Running a command declared in parts: one resumable run folder per part, then the study.

:func:`run_parts` is :func:`probing.pipeline.commands.execute.run_command`'s path for a
command with :class:`probing.commands.Parts` (``probing lesion``: one part per paradigm).
Every part is written atomically into ``OUT/<name>/`` as it finishes; with ``resume`` a
finished part (its ``manifest.json`` exists) is read back instead of recomputed, and
the model loads only when some part is left to run. All parts of a study must come from
one model (name, architecture, weights hash). The study's own tables are written beside
the parts, ``manifest.json`` last.
"""

from __future__ import annotations

import dataclasses
import json

from probing._core.errors import ProbingError
from probing.commands import finished_part, read_part, start_study, write_part, write_run_folder
from probing.pipeline._loading import resolve_model, shape_before_loading
from probing.pipeline.manifest import build_manifest

__all__ = ["run_parts"]

_MODEL_IDENTITY = ("model", "architecture", "sha256")


def _recorded_model(manifest):
    """A part manifest's model provenance (recorded under ``model.model``)."""
    model = manifest.get("model") or {}
    return model["model"] if isinstance(model.get("model"), dict) else model


def _identity(provenance):
    return {key: provenance.get(key) for key in _MODEL_IDENTITY}


def _check_one_model(identities, out):
    distinct = {json.dumps(i, sort_keys=True) for i in identities}
    if len(distinct) > 1:
        raise ProbingError(f"{out}: the paradigm folders were run with different models "
                           f"({' vs '.join(sorted(distinct))}); use another --out or --force")


def _run_part(command, part, model, out, argv, started):
    if command.check_model is not None:
        from probing.models.sites import model_shape

        command.check_model(part.plan, model_shape(model))
    result = command.run(part.plan, model)
    manifest = build_manifest(paradigm_path=part.paradigm.path, seed=part.paradigm.seed,
                              options=dataclasses.asdict(part.options),
                              model_provenance={"model": model.provenance}, started=started,
                              argv=argv)
    manifest.update(result.notes)
    write_part(out, part.name, result, manifest)
    return dict(result.tables)


def run_parts(command, plan, lm, out, *, options, resume, argv, started):
    """Run or reuse every part of ``plan``, then write the study's own tables into ``out``.

    Returns
    -------
    probing.commands.Result
        The study's result; ``notes["reused"]`` names the parts read back.
    """
    parts = command.parts.split(plan)
    if command.check_model is not None:  # the shape from the configuration, if cheap
        shape = shape_before_loading(lm)
        for part in parts if shape is not None else ():
            command.check_model(part.plan, shape)
    start_study(out)
    tables, identities, reused, model, first = {}, [], [], None, None
    for part in parts:
        recorded = finished_part(out, part.name) if resume else None
        if recorded is not None:
            command.parts.check_finished(part, recorded, out / part.name)
            identities.append(_identity(_recorded_model(recorded)))
            _check_one_model(identities, out)
            tables[part.name] = read_part(out, part.name, command.parts.tables)
            reused.append(part.name)
            first = first or _recorded_model(recorded)
            continue
        model = resolve_model(lm) if model is None else model  # only when a part is left
        _check_one_model([*identities, _identity(model.provenance)], out)  # before running
        identities.append(_identity(model.provenance))
        tables[part.name] = _run_part(command, part, model, out, argv, started)
    result = command.parts.combine(plan, tables)
    manifest = build_manifest(paradigm_path=parts[0].paradigm.path, seed=parts[0].paradigm.seed,
                              options=dataclasses.asdict(options),
                              model_provenance=model.provenance if model is not None else first,
                              started=started, argv=argv)
    manifest.update(result.notes)
    write_run_folder(out, result, manifest, beside_parts=True)
    return dataclasses.replace(result, notes={**result.notes, "reused": reused})
