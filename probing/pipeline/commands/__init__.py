"""The declared commands: one module per command (options, ``prepare``, ``run``).

Each module defines ``COMMAND`` (a :class:`probing.commands.Command`); the modules
never import each other (the independence contract ``probing.pipeline.commands.*`` in
``setup.cfg``, scaffolding beside them excepted). :data:`COMMANDS` is discovered, not
listed: every module of this package that defines ``COMMAND``, in the order of the
commands' names. It is what the CLI, the docs (``docs/options.md``) and the guard tests
walk, so adding a command is adding its module.
"""

import importlib
import pkgutil

__all__ = ["COMMANDS"]


def _discover():
    found = []
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_"):
            continue
        command = getattr(importlib.import_module(f"{__name__}.{module.name}"), "COMMAND", None)
        if command is not None:
            found.append(command)
    return tuple(sorted(found, key=lambda command: command.name))


COMMANDS = _discover()
