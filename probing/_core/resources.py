"""Memory and disk estimates checked before a long step starts.

A step that would run out of memory an hour in, or fill the disk, should refuse in its
first second with a message saying how to make it fit. Estimates are arithmetic on the
shapes the step will allocate (documented at each caller), not measurements; the
override is the ``max_memory`` config option (``--max-memory`` on the command line).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from probing._core.config import get_config
from probing._core.errors import ProbingError
from probing._core.io import WriteError

__all__ = ["ResourceError", "available_memory", "check_disk", "check_memory", "format_bytes"]


class ResourceError(ProbingError):
    """A step would need more memory than allowed."""


def format_bytes(n):
    """Bytes in the largest unit that keeps the number >= 1.

    Examples
    --------
    >>> format_bytes(3 * 2**30), format_bytes(512)
    ('3.0 GiB', '512 B')
    """
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def available_memory():
    """Bytes of memory available to a new allocation now (None if unknown).

    ``psutil`` reads what the kernel reports as available (free plus reclaimable cache),
    on every platform; a hand-written /proc parser would cover Linux only.
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    return int(psutil.virtual_memory().available)


def check_memory(need, *, what, advice):
    """Refuse a step whose planned allocation ``need`` (bytes) exceeds the limit.

    The limit is the ``max_memory`` config option, else the memory available now;
    ``max_memory=0`` turns the check off.

    Raises
    ------
    ResourceError
        ``"<what> needs about X of memory, Y allowed; <advice>, or set --max-memory"``.

    Examples
    --------
    >>> from probing._core.config import config_context
    >>> with config_context(max_memory=2**20):
    ...     check_memory(2**30, what="RSA", advice="use fewer layers")
    Traceback (most recent call last):
    ...
    probing._core.resources.ResourceError: RSA needs about 1.0 GiB of memory, 1.0 MiB allowed (--max-memory); use fewer layers, or raise --max-memory (0: no check)
    """
    limit = get_config()["max_memory"]
    if limit == 0:
        return
    source = "allowed (--max-memory)"
    if limit is None:
        limit, source = available_memory(), "available"
    if limit is not None and need > limit:
        raise ResourceError(f"{what} needs about {format_bytes(need)} of memory, "
                            f"{format_bytes(limit)} {source}; {advice}, or raise "
                            f"--max-memory (0: no check)")


def check_disk(folder, need, *, what):
    """Refuse to start writing ``need`` bytes under ``folder`` when the disk has less free."""
    probe = Path(folder).absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if need > free:
        raise WriteError(f"cannot write {folder}: disk full ({what} needs about "
                         f"{format_bytes(need)}, {format_bytes(free)} free); free space or "
                         f"choose another folder (--out, --cache-dir)")
