"""Atomic writes: a reader never sees a half-written file.

Each writer writes to a temporary sibling and renames it into place, so an interrupted
run leaves either the old file or nothing, never a truncated file a later run trusts.
A write that fails because the disk is full, the folder is read-only or not ours
raises :class:`~probing._core.errors.ProbingError` with one line naming the path and
what to do, instead of a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from probing._core.errors import ProbingError

# errno -> what the user reads; other OSErrors are bugs or transient and stay as they are
_WRITE_ERRORS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for this file system",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


class WriteError(ProbingError):
    """A file or folder could not be written (disk full, read-only, no permission)."""


def write_error(path, err):
    """The one-line :class:`WriteError` for an ``OSError`` of writing ``path``, else None.

    Examples
    --------
    >>> import errno
    >>> str(write_error("/c/x.npy", OSError(errno.ENOSPC, "No space left on device")))
    'cannot write /c/x.npy: disk full (No space left on device); free space or choose another folder (--out, --cache-dir)'
    """
    what = _WRITE_ERRORS.get(getattr(err, "errno", None))
    if what is None:
        return None
    return WriteError(f"cannot write {path}: {what} ({err.strerror or err}); free space or "
                      f"choose another folder (--out, --cache-dir)")


@contextlib.contextmanager
def reraise_write_errors(path):
    """Turn a disk-full / read-only ``OSError`` inside the block into a :class:`WriteError`."""
    try:
        yield
    except OSError as err:
        friendly = write_error(path, err)
        if friendly is None:
            raise
        raise friendly from None


def current_umask():
    """The process's umask, read without changing it where the system allows.

    ``tempfile.mkstemp`` and ``mkdtemp`` create private files (0600) and folders (0700)
    whatever the umask; the atomic writers give what they rename into place the mode an
    ordinary ``open``/``mkdir`` would have, so a lab's shared folder stays readable.
    Linux reports the umask in ``/proc/self/status``; elsewhere it is set and restored.

    Examples
    --------
    >>> 0 <= current_umask() <= 0o777
    True
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _public_mode(path, folder=False):
    """Give ``path`` the mode ``open`` (0666) or ``mkdir`` (0777) would under the umask."""
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


def make_folder(path):
    """``mkdir -p`` that fails with a one-line :class:`WriteError`."""
    with reraise_write_errors(path):
        Path(path).mkdir(parents=True, exist_ok=True)
    return Path(path)


@contextlib.contextmanager
def provisional_folder(path):
    """``mkdir -p path`` for the block; the folders it created go again if the block fails.

    A command's default output parent (``runs/``) is created before the command's input
    checks that need the model or the paradigm; on an input error (or any other) it is
    removed again if it is still empty, so a failed command leaves nothing behind.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> try:
    ...     with provisional_folder(root / "runs" / "a"):
    ...         raise ValueError("bad input")
    ... except ValueError:
    ...     pass
    >>> list(root.iterdir())
    []
    """
    path = Path(path)
    missing, probe = [], path.absolute()
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    make_folder(path)
    try:
        yield path
    except BaseException:
        for folder in missing:  # deepest first; stop at one that is no longer empty
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def check_writable(folder):
    """Fail early, before any work, if files cannot be created in ``folder``.

    The nearest existing folder on the way to ``folder`` must accept a new file (a
    temporary one, removed at once); nothing is left behind, and ``folder`` itself is
    not created.
    """
    folder = Path(folder).absolute()
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise WriteError(f"cannot write {folder}: {probe} is not a folder")
    with reraise_write_errors(folder):
        with tempfile.TemporaryFile(dir=probe, prefix=".probing-write-check-"):
            pass


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    Parameters
    ----------
    path : str or path-like
        Final destination. Its parent folder must exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("hi")
    >>> (d / "x.txt").read_text()
    'hi'
    """
    path = Path(path)
    with reraise_write_errors(path):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp)
        _public_mode(tmp)
        try:
            yield tmp
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()


def write_text_atomic(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8, ``\\n`` newlines)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


def write_table(table, path):
    """Write a DataFrame as CSV, or parquet when ``path`` ends in ``.parquet``.

    CSV output is deterministic: fixed column order, no index, ``\\n`` line endings.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        write_frame(table, tmp, path.suffix)


def write_frame(table, path, suffix):
    """Write ``table`` to ``path`` in the format that ``suffix`` names (not atomic)."""
    if suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False, lineterminator="\n")


def read_table(path):
    """Read a table written by :func:`write_table`."""
    import pandas as pd

    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    # empty cells mean "not applicable" in our tables and must come back as "", not NaN
    return pd.read_csv(path, keep_default_na=False)


def read_run_table(path):
    """Read a table a command wrote into a run folder, old column names renamed.

    A run folder written by an older release keeps working where the package reads its
    own tables back (``probing report``, experiment pooling and resume, lesion resume):
    see :func:`probing._core.vocabulary.rename_old_columns`.
    """
    from probing._core.vocabulary import rename_old_columns

    return rename_old_columns(read_table(path), str(path))


@contextlib.contextmanager
def atomic_paths(paths):
    """Yield ``{final_path: temp_path}``; rename all only if the block succeeds.

    Used where several files form one output (a stimuli table and its regions): on
    error none of them appears.
    """
    with contextlib.ExitStack() as stack:
        yield {Path(p): stack.enter_context(atomic_path(p)) for p in paths}


@contextlib.contextmanager
def atomic_folder(out):
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` whole.

    A reader sees the old folder or the complete new one, never a half-written one; on
    error the temporary folder is removed and ``out`` is left as it was.
    """
    out = Path(out)
    with reraise_write_errors(out):
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
        _public_mode(tmp, folder=True)
        try:
            yield tmp
            _swap_in(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)


def _swap_in(tmp, out):
    """Rename ``tmp`` to ``out``; an existing ``out`` is moved aside first and removed
    only after the new one is in place, so a crash never loses both."""
    for _ in range(3):  # another writer may put its own ``out`` in place between the steps
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
        try:
            tmp.rename(out)
        except OSError as err:
            if old is not None and not out.exists():  # put the old folder back
                os.replace(old / out.name, out)
            if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            continue
        finally:
            if old is not None:
                shutil.rmtree(old)
        return
    raise ProbingError(f"{out}: other processes keep replacing this folder; retry")
