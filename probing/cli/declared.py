"""Every subcommand, generated from its declaration: the commands of
:mod:`probing.pipeline.commands` and the utilities of :mod:`probing.pipeline.utilities`.

One handler serves the commands: options first (their checks), then the paradigm
(loaded and generated once), the run folder, and the model last. A utility's handler
builds its options (their checks) and calls its one function.
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
from probing.pipeline.utilities import UTILITIES

__all__ = ["DECLARATIONS", "REGISTRY", "handle", "handle_utility"]


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
    model = _setting(settings, ModelSettings)  # None: the command loads no model
    seed = getattr(options, "seed", None)
    if not command.reads_paradigm:
        paradigm = None
    elif command.many:
        paradigm = tuple(load_paradigm_value(path, seed=seed) for path in args.files)
    else:
        paradigm = load_paradigm_value(args.file, seed=seed)
    folder = _setting(settings, RunFolderSettings)
    if folder is None:  # the command writes its own output (an activations folder)
        out, force, made = getattr(options, "out", None), False, contextlib.nullcontext()
        resume = False
    else:  # runs/ is made around the run, and removed again if the run fails
        out, force = folder.out or default_out(command, paradigm), folder.force
        resume = getattr(folder, "resume", False)
        made = provisional_folder(out.parent)
    max_memory = None if cache.max_memory is None else int(cache.max_memory * 2**30)
    with made, config_context(cache_dir=cache.cache_dir, max_memory=max_memory):
        result = run_command(command, paradigm, model and _loader(model), out, options=options,
                             force=force, argv=["probing", *sys.argv[1:]],
                             model_name=model and model.model, resume=resume)
    if command.report is not None:
        print(command.report(result, out))


def handle_utility(utility, args):
    """Run ``utility`` from parsed arguments; its exit status."""
    options = options_from_args(utility.options, args)
    settings = [options_from_args(cls, args) for cls in utility.settings]
    return utility.run(options, *settings)


def _register(declaration, handler):
    return lambda sub: add_subcommand(sub, declaration, handler)


#: Every declaration the CLI is built from, in ``probing --help`` order.
DECLARATIONS = (*UTILITIES, *COMMANDS)
REGISTRY = tuple(_register(u, handle_utility) for u in UTILITIES) + tuple(
    _register(c, handle) for c in COMMANDS)
