"""One ``probing experiment`` at a time per results folder.

Two runs on one folder used to delete each other's step folders in progress. A run now
holds ``DIR/.probing/lock`` (an operating-system lock taken with :mod:`filelock`) for as
long as it writes, and records who holds it in ``DIR/.probing/holder.json`` (pid, host,
start time, command line). A second run refuses at once with one line naming the holder,
or, with ``wait=True`` (``--wait``), waits for it and then finds the first run's steps
cached. Snakemake's ``.snakemake/locks`` is the model; unlike Snakemake's lock files the
operating system drops the lock of a killed process with the process, so there is no
``--unlock`` to run: a ``holder.json`` left by a killed run is reported as stale and
replaced.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
from pathlib import Path

from filelock import FileLock, Timeout

from probing._core.errors import ProbingError
from probing._core.io import write_text_atomic
from probing.pipeline.manifest import now

__all__ = ["LOCK_FOLDER", "folder_lock", "lock_holder"]

LOCK_FOLDER = ".probing"
log = logging.getLogger(__name__)


class FolderLocked(ProbingError):
    """Another run holds the results folder."""


def lock_holder(out):
    """The record of the run that holds (or last held) ``out``'s lock, or None."""
    try:
        return json.loads((Path(out) / LOCK_FOLDER / "holder.json").read_text())
    except (OSError, ValueError):
        return None


def _describe(holder):
    if not holder:
        return "another run"
    return (f"pid {holder.get('pid')} on {holder.get('host')} (started {holder.get('started')}: "
            f"{' '.join(holder.get('command', []))[:120]})")


def _is_running(holder):
    """False only when the holder was on this host and its pid is gone."""
    if not holder or holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, KeyError, TypeError):
        return True
    return True


@contextlib.contextmanager
def folder_lock(out, *, wait=False, echo=print):
    """Hold ``out``'s lock for the block (``out`` must exist).

    Parameters
    ----------
    out : path-like
        The results folder.
    wait : bool
        Wait for a run that holds the folder (one line says whom), instead of refusing.
    echo : callable

    Raises
    ------
    FolderLocked
        Another run holds the folder and ``wait`` is False.

    Examples
    --------
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> with folder_lock(out):
    ...     lock_holder(out)["pid"] == os.getpid()
    True
    """
    folder = Path(out) / LOCK_FOLDER
    folder.mkdir(exist_ok=True)
    lock = FileLock(folder / "lock", fallback_to_soft=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = lock_holder(out)
        if not wait:
            raise FolderLocked(f"{out} is in use by {_describe(holder)}; wait for it to finish "
                               f"or pass --wait") from None
        echo(f"waiting for {_describe(holder)} to finish with {out}")
        lock.acquire()
    try:
        stale = lock_holder(out)
        if stale is not None:  # its owner died without releasing (kill -9, power loss)
            state = "still running?" if _is_running(stale) else "not running"
            log.warning("%s: stale lock of %s (%s) taken over", out, _describe(stale), state)
        write_text_atomic(folder / "holder.json", json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "started": now(),
             "command": list(sys.argv)}) + "\n")
        yield
    finally:
        (folder / "holder.json").unlink(missing_ok=True)
        lock.release()
