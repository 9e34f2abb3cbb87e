"""Files and folders the atomic writers create get the user's umask, not 0600/0700.

``tempfile.mkstemp``/``mkdtemp`` make private files; a lab's shared results folder
must be readable by colleagues (umask 022) or writable by the group (umask 002).
"""

import os
import stat

import pandas as pd
import pytest

from probing._core.io import (
    atomic_folder,
    current_umask,
    write_table,
    write_text_atomic,
)


@pytest.fixture(params=[0o022, 0o002, 0o077], ids=["umask022", "umask002", "umask077"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_current_umask_reads_without_changing_it(umask):
    assert current_umask() == umask
    assert current_umask() == umask


def test_atomic_files_get_the_umask_mode(umask, tmp_path):
    write_text_atomic(tmp_path / "manifest.json", "{}\n")
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    assert _mode(tmp_path / "manifest.json") == 0o666 & ~umask
    assert _mode(tmp_path / "t.csv") == 0o666 & ~umask


def test_atomic_folders_get_the_umask_mode(umask, tmp_path):
    with atomic_folder(tmp_path / "step") as tmp:
        (tmp / "summary.csv").write_text("a\n1\n")
    assert _mode(tmp_path / "step") == 0o777 & ~umask
    assert _mode(tmp_path / "step/summary.csv") == 0o666 & ~umask
    # a replaced folder too
    with atomic_folder(tmp_path / "step") as tmp:
        (tmp / "summary.csv").write_text("a\n2\n")
    assert _mode(tmp_path / "step") == 0o777 & ~umask
