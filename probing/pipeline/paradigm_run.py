"""``probing run``'s names, and the run-folder check every command makes first.

``probing run`` is declared once in :mod:`probing.pipeline.commands.run` (options,
``prepare``, ``run``); :class:`RunOptions` and :func:`run_paradigm` stay importable
from here.
"""

from __future__ import annotations

import json

from probing._core.io import atomic_folder, write_frame
from probing.commands.runfolder import check_run_folder
from probing.pipeline.commands.run import LENS_READOUT, RunOptions, run_paradigm

__all__ = ["LENS_READOUT", "RunOptions", "check_run_folder", "run_paradigm", "write_run_folder"]


def write_run_folder(out, tables, manifest):
    """Write CSVs and ``manifest.json`` to a temporary folder, then move it to ``out``."""
    with atomic_folder(out) as tmp:
        for name, table in tables.items():
            write_frame(table, tmp / f"{name}.csv", ".csv")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
