"""The declared commands: one module per command (options, ``prepare``, ``run``).

Each module defines ``COMMAND`` (a :class:`probing.commands.Command`); the modules
never import each other (an independence contract in ``setup.cfg``). :data:`COMMANDS`
is what the CLI, the docs (``docs/options.md``) and the guard tests walk.
"""

from probing.pipeline.commands import (
    ablate,
    compare_reading,
    extract,
    fresh,
    lens,
    lesion,
    localize,
    mediate,
    patch,
    path_patch,
    probe,
    rsa,
    run,
)

__all__ = ["COMMANDS"]

COMMANDS = (run.COMMAND, extract.COMMAND, probe.COMMAND, rsa.COMMAND, lens.COMMAND,
            patch.COMMAND, path_patch.COMMAND, mediate.COMMAND, ablate.COMMAND,
            localize.COMMAND, lesion.COMMAND, fresh.COMMAND, compare_reading.COMMAND)
