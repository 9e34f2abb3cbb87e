"""One JSON record per ``probing experiment`` invocation, kept in ``DIR/history/``.

``manifest.json`` describes the folder as the last run left it; it cannot say which run
computed a step that later runs found cached. Each invocation therefore adds a record
(never rewritten): its command line and working folder, the absolute paths of the
experiment file and the results folder, the versions, the hardware, the models it
loaded (with their provenance: exact weights, hash, dtype, device), its start and end
times and which steps it ran, found cached, recomputed (changed by hand) or failed. The
report reads the records, so a cached rerun no longer hides the run that computed the
numbers.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import probing
from probing._core.io import make_folder, write_text_atomic
from probing.pipeline.manifest import file_sha256, git_commit, hardware, now, package_versions

__all__ = ["HISTORY_FOLDER", "build_record", "load_history", "producers", "write_record"]

HISTORY_FOLDER = "history"


def build_record(spec, out, result, *, started, executor, threads, recomputed=(), argv=None):
    """The history record of one invocation (JSON-able).

    Parameters
    ----------
    spec : ExperimentSpec
    out : path-like
    result : GroupResult
    started : str
        ISO 8601 start time.
    executor : str
    threads : int or None
    recomputed : sequence of str
        Step folders that were done but whose outputs had changed by hand.
    argv : list of str, optional
        The command line (default ``sys.argv``).
    """
    return {
        "command": list(sys.argv if argv is None else argv), "cwd": os.getcwd(),
        "host": socket.gethostname(), "pid": os.getpid(),
        "experiment": {"path": str(Path(spec.path).resolve()),
                       "sha256": file_sha256(spec.path)},
        "out": str(Path(out).resolve()), "started": started, "finished": now(),
        "executor": executor, "threads": threads,
        "steps": {"ran": sorted(result.ran), "cached": sorted(result.cached),
                  "recomputed": sorted(recomputed), "failed": dict(result.failed)},
        "models_loaded": dict(result.models), "devices": dict(result.devices),
        "tasks": result.tasks, "probing_version": probing.__version__,
        "git_commit": git_commit(), "packages": package_versions(), "hardware": hardware(),
    }


def write_record(out, record):
    """Add ``record`` to ``out/history/`` (named by its start time and pid); its path."""
    folder = make_folder(Path(out) / HISTORY_FOLDER)
    stamp = record["started"].replace(":", "").replace("+0000", "Z")
    path = folder / f"{stamp}-{record['pid']}.json"
    write_text_atomic(path, json.dumps(record, indent=2, default=str) + "\n")
    return path


def load_history(out):
    """Every record of ``out/history/``, oldest first (unreadable files are skipped).

    Examples
    --------
    >>> import tempfile
    >>> load_history(tempfile.mkdtemp())
    []
    """
    records = []
    for path in sorted((Path(out) / HISTORY_FOLDER).glob("*.json")):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return sorted(records, key=lambda r: r.get("started", ""))


def producers(history):
    """Step folder -> the latest record that computed it (ran it, or recomputed it)."""
    found = {}
    for record in history:
        for folder in record.get("steps", {}).get("ran", []):
            found[folder] = record
    return found
