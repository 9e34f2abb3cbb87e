"""Crash safety and concurrent writers.

Fast tests place the crash deterministically (between two writes of one entry); the
``slow`` tests run ``benchmarks/crash_trials.py``: kill -9 at random moments of real
``probing extract``, ``run`` and ``probe`` processes, and two processes extracting one
cache key at once.
"""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.pipeline.extraction import extract_activations
from probing.store import ChunkWriter, entry_lock, list_cache, load_activations
from tests.conftest import REPO

STIMULI = pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(7)],
                        "text": [f"The dog number {i} barks." for i in range(7)]})


def _bytes(folder):
    return {name: (folder / name).read_bytes() for name in ("values.npy", "index.csv", "meta.json")}


def test_crash_before_meta_is_never_trusted_and_resumes(make_lm, tmp_path, monkeypatch):
    lm = make_lm("gpt2")
    clean = extract_activations(lm, STIMULI, chunk_size=3, cache_dir=tmp_path / "clean")
    import probing.store.cache as cache

    real = cache.write_text_atomic

    def killed(path, text):  # the process dies after values.npy, before meta.json
        if path.name == "meta.json":
            raise KeyboardInterrupt
        real(path, text)

    with monkeypatch.context() as m:
        m.setattr(cache, "write_text_atomic", killed)
        with pytest.raises(KeyboardInterrupt):
            extract_activations(lm, STIMULI, chunk_size=3, cache_dir=tmp_path / "c")
    entry = tmp_path / "c" / "activations" / clean.provenance["key"]
    assert (entry / "values.npy").exists()
    with pytest.raises(ProbingError, match="not a complete activations folder"):
        load_activations(entry)
    again = extract_activations(lm, STIMULI, chunk_size=3, cache_dir=tmp_path / "c")
    assert _bytes(entry) == _bytes(tmp_path / "clean" / "activations" / clean.provenance["key"])
    np.testing.assert_array_equal(again.values, clean.values)


def test_temporaries_of_a_killed_writer_are_swept(tmp_path):
    writer = ChunkWriter(tmp_path / "e", {"chunk_size": 2})
    writer.write(0, np.ones((2, 1, 1), np.float32))
    stale = [tmp_path / "e" / "chunks" / ".000001.npy.x1.tmp", tmp_path / "e" / ".values.npy.x2.tmp"]
    for path in stale:
        path.write_bytes(b"half")
    again = ChunkWriter(tmp_path / "e", {"chunk_size": 2})
    assert again.has(0) and not any(p.exists() for p in stale)


def test_lock_excludes_another_process(tmp_path):
    folder = tmp_path / "cache" / "key"
    probe = ("import sys; from filelock import FileLock, Timeout\n"
             "try:\n    FileLock(sys.argv[1]).acquire(timeout=0.2); print('acquired')\n"
             "except Timeout:\n    print('blocked')")
    lock = str(folder.parent / ".key.lock")
    with entry_lock(folder):
        held = subprocess.run([sys.executable, "-c", probe, lock], capture_output=True, text=True)
    free = subprocess.run([sys.executable, "-c", probe, lock], capture_output=True, text=True)
    assert (held.stdout.strip(), free.stdout.strip()) == ("blocked", "acquired")
    assert list_cache(tmp_path / "cache") == []  # the lock file is not an entry


def _trials(kinds, n):
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "crash_trials.py"),
                           "--trials", str(n), "--kinds", kinds], capture_output=True, text=True,
                          cwd=REPO, env={**__import__("os").environ, "PYTHONPATH": str(REPO)},
                          timeout=3600)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["extract", "run", "probe"])
def test_kill_9_trials_resume_byte_identical(kind):
    out = _trials(kind, 10)
    assert re.search(rf"{kind}: 10/10 trials resumed byte-identical; \d+/10 killed mid-run "
                     r".*; 0 partial files read as complete", out), out
    killed = int(re.search(r"(\d+)/10 killed mid-run", out).group(1))
    assert killed >= 5, out  # most kills must land while the command is working


@pytest.mark.slow
def test_two_processes_one_cache_key():
    out = _trials("concurrent", 5)
    assert re.search(r"concurrent: 5/5 trials identical to the reference with the entry "
                     r"computed once", out), out


def test_manifest_digest_ignores_only_times_and_command(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import crash_trials
    finally:
        sys.path.pop(0)
    record = {"started": 1, "finished": 2, "command": ["x"], "seed": 3}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(record))
    (tmp_path / "b" / "manifest.json").write_text(json.dumps({**record, "started": 9, "command": []}))
    assert crash_trials.snapshot(tmp_path / "a") == crash_trials.snapshot(tmp_path / "b")
    (tmp_path / "b" / "manifest.json").write_text(json.dumps({**record, "seed": 4}))
    assert crash_trials.snapshot(tmp_path / "a") != crash_trials.snapshot(tmp_path / "b")


@pytest.mark.parametrize("damage", ["meta.json", "values.npy", "index.csv"])
def test_a_damaged_entry_is_not_trusted_and_is_recomputed(make_lm, tmp_path, damage):
    lm = make_lm("gpt2")
    clean = extract_activations(lm, STIMULI, cache_dir=tmp_path)
    values = np.array(clean.values)  # a copy: the memory map would see the damage
    entry = tmp_path / "activations" / clean.provenance["key"]
    expected = _bytes(entry)
    data = (entry / damage).read_bytes()
    (entry / damage).write_bytes(data[: len(data) // 2])  # e.g. a disk error after the write
    with pytest.raises(ProbingError):
        load_activations(entry)
    again = extract_activations(lm, STIMULI, cache_dir=tmp_path)
    assert _bytes(entry) == expected
    np.testing.assert_array_equal(again.values, values)
