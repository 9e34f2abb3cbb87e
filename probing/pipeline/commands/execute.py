"""Running a declared command: load the paradigm once, prepare, load the model, run, write.

The one path every declared command takes (the CLI and the API alike)::

    paradigm = load_paradigm_value(path, seed)   # spec, stimuli, path, hash: once
    plan = command.prepare(paradigm, options)    # every check that needs no model
    lm = resolve_model(lm)                       # only now
    result = command.run(plan, lm)               # the only step that sees the model
    write_run_folder(out, result, manifest)      # checked against the vocabulary
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from probing.commands import Paradigm, fill_doc, write_run_folder
from probing.commands.runfolder import check_run_folder
from probing.pipeline._loading import resolve_model
from probing.pipeline.manifest import build_manifest, now
from probing.pipeline.sources import load_paradigm_value

__all__ = ["default_out", "load_paradigm_value", "run_command", "run_tables"]


def default_out(command, paradigm):
    """``runs/<command.folder>`` (``runs/<paradigm>-<command>`` unless declared otherwise)."""
    return Path("runs") / command.folder.format(paradigm=paradigm.name, command=command.name)


@fill_doc
def run_command(command, paradigm, lm, out=None, *, options=None, force=False, argv=None,
                model_name=None):
    """Run a declared command on a paradigm and (for run-folder commands) write ``out``.

    Parameters
    ----------
    command : probing.commands.Command
    paradigm : Paradigm or path-like
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
        chat template, from the tokenizer alone) runs on it before the weights load.

    Returns
    -------
    probing.commands.Result
    """
    started = now()
    options = options if options is not None else command.options()
    if not isinstance(paradigm, Paradigm):
        paradigm = load_paradigm_value(paradigm, seed=getattr(options, "seed", None))
    command.check_kind(paradigm)
    plan = command.prepare(paradigm, options)
    if command.writes_run_folder:
        check_run_folder(out, force=force)
    if command.before_model is not None and model_name is not None:
        command.before_model(plan, model_name)
    lm = resolve_model(lm)  # only now: every input above is checked
    result = command.run(plan, lm)
    if command.writes_run_folder:
        manifest = build_manifest(paradigm_path=paradigm.path, seed=paradigm.seed,
                                  options=dataclasses.asdict(options),
                                  model_provenance={"model": lm.provenance}, started=started,
                                  argv=argv)
        manifest.update(result.notes)
        write_run_folder(out, result, manifest)
    return result


def run_tables(command, paradigm, lm, out, *, options=None, force=False, argv=None):
    """:func:`run_command` for the API's ``run_*`` functions: every table written, by name."""
    result = run_command(command, paradigm, lm, out, options=options, force=force, argv=argv)
    return result.all_tables
