"""Resources: memory estimates that refuse early, and one-line errors when a folder
cannot be written or the disk is full (simulated: read-only folders, ENOSPC writes)."""

import errno
import os
import re
import tempfile

import numpy as np
import pandas as pd
import pytest

from probing._core.config import config_context
from probing._core.errors import ProbingError
from probing._core.io import atomic_folder, write_table
from probing._core.resources import ResourceError
from probing.cli.main import main
from probing.pipeline.extraction import estimate_extraction, extract_activations
from probing.pipeline.rsa_run import RSAOptions, estimate_rsa_memory, run_rsa
from probing.store import list_cache, load_activations
from tests.conftest import PARADIGMS

TABLE = "stimulus_id,text\n" + "".join(f"s{i},The dog number {i} barks.\n" for i in range(6))


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "stim.csv"
    path.write_text(TABLE)
    return path


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _one_line(err, pattern):
    # transformers draws a progress bar on stderr while loading; the error is the last line
    last = err.strip().splitlines()[-1]
    assert "Traceback" not in err and re.search(pattern, last), err


def test_disk_full_mid_extraction_is_one_line_and_resumable(model_dir, table, tmp_path,
                                                            monkeypatch, capsys):
    cache = tmp_path / "cache"
    argv = ["extract", str(table), "--model", str(model_dir), "--out", str(tmp_path / "acts"),
            "--cache-dir", str(cache)]
    with monkeypatch.context() as m:
        m.setattr(np, "save", _enospc)  # every chunk write fails as on a full disk
        assert main(argv) == 2
    _one_line(capsys.readouterr().err, r"probing extract: error: cannot write .*/chunks/000000"
              r"\.npy: disk full \(No space left on device\); free space or choose another folder")
    assert [e["complete"] for e in list_cache(cache)] == [False]
    assert not (tmp_path / "acts").exists()
    assert main(argv) == 0  # space is back: the same command finishes the entry
    assert load_activations(tmp_path / "acts").shape[0] == 6


def test_read_only_cache_fails_before_the_model_loads(table, tmp_path, monkeypatch, capsys):
    def no_model(*args, **kwargs):
        raise AssertionError("the model must not load")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("probing.models.load_model", no_model)
    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    assert main(["extract", str(table), "--out", str(tmp_path / "acts"),
                 "--cache-dir", str(tmp_path / "ro")]) == 2
    _one_line(capsys.readouterr().err, r"cannot write .*acts: read-only file system")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores folder permissions")
def test_real_read_only_folder(table, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["extract", str(table), "--out", str(ro / "acts"), "--no-cache"]) == 2
    finally:
        ro.chmod(0o700)
    _one_line(capsys.readouterr().err, r"cannot write .*ro/acts: permission denied")


def test_full_disk_while_writing_a_run_folder_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "run"
    with pytest.raises(ProbingError, match=r"cannot write .*run: disk full"):
        with atomic_folder(out) as tmp:
            (tmp / "a.csv").write_text("x\n")
            _enospc()
    assert list(tmp_path.iterdir()) == []  # no run folder, no .partial folder


def test_failed_replace_keeps_the_old_folder(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.csv").write_text("old\n")
    real_rename = type(out).rename

    def fail_on_run(self, target):
        if type(out)(target) == out:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(type(out), "rename", fail_on_run)
    with pytest.raises(ProbingError, match="disk full"):
        with atomic_folder(out) as tmp:
            (tmp / "new.csv").write_text("new\n")
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert (out / "old.csv").read_text() == "old\n"


def test_atomic_file_write_error_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_csv", _enospc)
    with pytest.raises(ProbingError, match=r"cannot write .*t\.csv: disk full"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    assert list(tmp_path.iterdir()) == []


def test_disk_space_checked_before_writing(make_lm, tmp_path, monkeypatch):
    import shutil

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=100))
    stimuli = pd.read_csv(pd.io.common.StringIO(TABLE))
    with pytest.raises(ProbingError, match=r"disk full \(extraction needs about .* KiB, 100 B free\)"):
        extract_activations(make_lm("gpt2"), stimuli, cache_dir=tmp_path)
    assert list_cache(tmp_path) == []


def test_memory_estimate_refuses_and_the_override_runs(make_lm, tmp_path):
    lm = make_lm("gpt2")
    stimuli = pd.read_csv(pd.io.common.StringIO(TABLE))
    with config_context(max_memory=1000):
        with pytest.raises(ResourceError, match=r"extracting 6 rows x 3 layers needs about "
                           r".* of memory, 1000 B allowed \(--max-memory\); stream to disk"):
            extract_activations(lm, stimuli, cache=False)
        with pytest.raises(ResourceError, match=r"allowed \(--max-memory\); extract fewer layers"):
            extract_activations(lm, stimuli, cache_dir=tmp_path)
    assert list_cache(tmp_path) == []
    with config_context(max_memory=0):
        assert extract_activations(lm, stimuli, cache=False).shape == (6, 3, 32)


def test_memory_estimate_bounds_the_stored_bytes(make_lm):
    lm = make_lm("gpt2")
    texts = ["The dog barks."] * 10
    options = {"batch_size": 4, "chunk_size": 3}
    streamed = estimate_extraction(lm, texts, 10, [0, 1, 2], "float32", options, streaming=True)
    whole = estimate_extraction(lm, texts, 10, [0, 1, 2], "float32", options, streaming=False)
    assert whole["memory"] - streamed["memory"] == 2 * 10 * 3 * 32 * 4
    assert streamed["disk"] == 2 * 10 * 3 * 32 * 4


def test_cli_max_memory(model_dir, table, tmp_path, capsys):
    argv = ["extract", str(table), "--model", str(model_dir), "--out", str(tmp_path / "a"),
            "--no-cache"]
    assert main([*argv, "--max-memory", "0.000001"]) == 2
    _one_line(capsys.readouterr().err, r"needs about .* 1\.0 KiB allowed \(--max-memory\)")
    assert not (tmp_path / "a").exists()
    assert main([*argv, "--max-memory", "-1"]) == 2
    assert main([*argv, "--max-memory", "0"]) == 0


def test_rsa_refuses_before_extraction(make_lm, tmp_path, monkeypatch):
    def no_extraction(*args, **kwargs):
        raise AssertionError("extraction must not start")

    monkeypatch.setattr("probing.pipeline.rsa_run.extract_activations", no_extraction)
    with config_context(max_memory=10_000):
        with pytest.raises(ResourceError, match=r"RSA of \d+ stimuli x 3 layers needs about .*"
                           r"fewer permutations \(--n-perm\)"):
            run_rsa(PARADIGMS / "rsa_number_animacy.yaml", make_lm("gpt2"), tmp_path / "run",
                    options=RSAOptions(n_perm=100, n_boot=0))
    assert not (tmp_path / "run").exists()


def test_rsa_estimate_grows_with_the_square_of_the_stimuli():
    small = estimate_rsa_memory(100, 3, 8, n_models=2, n_perm=0)
    large = estimate_rsa_memory(200, 3, 8, n_models=2, n_perm=0)
    assert 3.9 < (large - 8 * 3 * 200 * 8) / (small - 8 * 3 * 100 * 8) < 4.1
