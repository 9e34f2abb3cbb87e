"""Running a declared command: load the paradigm once, prepare, load the model, run, write.

The one path every declared command takes (the CLI and the API alike)::

    paradigm = load_paradigm_value(path, seed)   # spec, stimuli, path, hash: once
    plan = command.prepare(paradigm, options)    # every check that needs no model
    lm = resolve_model(lm)                       # only now
    result = command.run(plan, lm)               # the only step that sees the model
    write_run_folder(out, result, manifest)      # checked against the vocabulary

A command declared with ``parts`` (:class:`probing.commands.Parts`) runs each part into
its own run folder (``OUT/<name>/``), reusing finished parts with ``resume`` and loading
the model only when a part is left to run (:mod:`probing.pipeline.commands.parts`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from probing._core.errors import ProbingError
from probing.commands import Paradigm, fill_doc, write_run_folder
from probing.commands.runfolder import check_run_folder
from probing.pipeline._loading import resolve_model, shape_before_loading
from probing.pipeline.manifest import build_manifest, now
from probing.pipeline.sources import load_paradigm_value

__all__ = ["default_out", "load_paradigm_value", "run_command", "run_tables"]


def _paradigms(command, given, seed):
    """``given`` loaded once: one Paradigm, or a tuple of them for ``command.many``."""
    if not command.reads_paradigm:
        return None

    def load(one):
        return one if isinstance(one, Paradigm) else load_paradigm_value(one, seed=seed)

    if not command.many:
        return load(given)
    if isinstance(given, Paradigm | str | Path):
        raise ProbingError(f"probing {command.name} reads several paradigms: give a list")
    loaded = tuple(load(one) for one in given)
    if not loaded:
        raise ProbingError(f"probing {command.name}: no paradigm given")
    return loaded


def default_out(command, paradigm):
    """``runs/<command.folder>`` (``runs/<paradigm>-<command>`` unless declared otherwise)."""
    name = getattr(paradigm, "name", None)
    return Path("runs") / command.folder.format(paradigm=name, command=command.name)


@fill_doc
def run_command(command, paradigm, lm, out=None, *, options=None, force=False, argv=None,
                model_name=None, resume=False):
    """Run a declared command on a paradigm and (for run-folder commands) write ``out``.

    Parameters
    ----------
    command : probing.commands.Command
    paradigm : Paradigm or path-like (a sequence of them for ``command.many``)
        A path (or a shipped paradigm's name) is loaded and generated once, with
        ``options.seed``.
    %(lm)s
    out : path-like, optional
        The run folder (required when the command writes one).
    options : the command's options class, optional
    force : bool
        Replace an existing run folder.
    model_name : str, optional
        The model a loader ``lm`` will load: the command's ``before_model`` check (a
        chat template, from the tokenizer alone) runs on it before the weights load
        (default: the loader's ``model_name``, when it has one).
    resume : bool
        A command run in parts reuses the finished part folders in ``out``.

    Returns
    -------
    probing.commands.Result
    """
    started = now()
    options = options if options is not None else command.options()
    paradigm = _paradigms(command, paradigm, getattr(options, "seed", None))
    if paradigm is not None:
        command.check_kind(paradigm)
    plan = command.prepare(paradigm, options)
    if command.writes_run_folder:
        check_run_folder(out, force=force, resume=resume and command.parts is not None)
    model_name = model_name if model_name is not None else _loader_name(lm)
    if command.parts is not None:
        from probing.pipeline.commands.parts import run_parts

        return run_parts(command, plan, lm, out, options=options, resume=resume and not force,
                         argv=argv, started=started)
    if command.before_model is not None and model_name is not None:
        command.before_model(plan, model_name)
    if command.check_model is not None:  # the shape from the configuration, if cheap
        shape = shape_before_loading(lm)
        if shape is not None:
            command.check_model(plan, shape)
    lm = resolve_model(lm)  # only now: every input above is checked
    if command.check_model is not None:  # again on the loaded model, before any forward
        from probing.models.sites import model_shape

        command.check_model(plan, model_shape(lm))
    result = command.run(plan, lm)
    if command.writes_run_folder:
        first = paradigm[0] if command.many else paradigm
        path, seed = ((plan.source, getattr(options, "seed", None)) if first is None
                      else (first.path, first.seed))
        manifest = build_manifest(paradigm_path=path, seed=seed,
                                  options=dataclasses.asdict(options),
                                  model_provenance={"model": lm.provenance}, started=started,
                                  argv=argv)
        manifest.update(result.notes)
        write_run_folder(out, result, manifest)
    return result


def _loader_name(lm):
    """The model a loader will load (None for a loaded model or an anonymous loader)."""
    return None if hasattr(lm, "provenance") else getattr(lm, "model_name", None)


def run_tables(command, paradigm, lm, out, *, options=None, force=False, argv=None):
    """:func:`run_command` for the API's ``run_*`` functions: every table written, by name."""
    result = run_command(command, paradigm, lm, out, options=options, force=force, argv=argv)
    return result.all_tables
