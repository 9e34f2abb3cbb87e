"""The subcommands generated from declarations (:mod:`probing.pipeline.commands`).

One handler serves them all: options first (their checks), then the paradigm (loaded
and generated once), the run folder, and the model last.
"""

from __future__ import annotations

import contextlib
import sys

from probing._core.config import config_context
from probing._core.io import provisional_folder
from probing.commands import (
    CacheSettings,
    ModelSettings,
    RunFolderSettings,
    add_subcommand,
    options_from_args,
)
from probing.pipeline.commands import COMMANDS

__all__ = ["REGISTRY", "handle"]


def _loader(settings):
    def load():
        from probing.models import load_model  # torch, only once every check has passed

        return load_model(settings.model, device=settings.device, dtype=settings.model_dtype,
                          start_token=settings.start_token)
    load.model_name = settings.model  # its configuration is read before the weights load
    return load


def _setting(settings, cls):
    """The settings object of class ``cls`` (or a subclass of it), or None."""
    return next((s for s in settings if isinstance(s, cls)), None)


def handle(command, args):
    """Run ``command`` from parsed arguments; print its report."""
    from probing.pipeline.commands.execute import default_out, load_paradigm_value, run_command

    options = options_from_args(command.options, args)
    settings = [options_from_args(cls, args) for cls in command.settings]
    cache = _setting(settings, CacheSettings) or CacheSettings()
    model = _setting(settings, ModelSettings)
    seed = getattr(options, "seed", None)
    if command.many:
        paradigm = tuple(load_paradigm_value(path, seed=seed) for path in args.files)
    else:
        paradigm = load_paradigm_value(args.file, seed=seed)
    folder = _setting(settings, RunFolderSettings)
    if folder is None:  # the command writes its own output (an activations folder)
        out, force, made = getattr(options, "out", None), False, contextlib.nullcontext()
    else:  # runs/ is made around the run, and removed again if the run fails
        out, force = folder.out or default_out(command, paradigm), folder.force
        made = provisional_folder(out.parent)
    max_memory = None if cache.max_memory is None else int(cache.max_memory * 2**30)
    with made, config_context(cache_dir=cache.cache_dir, max_memory=max_memory):
        result = run_command(command, paradigm, _loader(model), out, options=options,
                             force=force, argv=["probing", *sys.argv[1:]], model_name=model.model)
    if command.report is not None:
        print(command.report(result, out))


def _register(command):
    return lambda sub: add_subcommand(sub, command, handle)


REGISTRY = tuple(_register(command) for command in COMMANDS)
