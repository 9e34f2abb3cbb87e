"""Running an experiment: caching by content, reruns of what changed, resuming."""

import filecmp

from probing.pipeline.experiment import run_experiment


def _tables(out):
    return sorted(p.relative_to(out) for p in out.rglob("*.csv") if ".cache" not in p.parts)


def test_second_run_does_no_model_work(tiny_experiment, tmp_path):
    out = tmp_path / "results"
    first = run_experiment(tiny_experiment, out)
    assert not first.failed, first.failed
    assert sorted(first.loads) == ["gpt2", "llama"]
    snapshot = tmp_path / "snapshot"
    __import__("shutil").copytree(out, snapshot)
    second = run_experiment(tiny_experiment, out)
    assert second.loads == [] and second.ran == []
    assert sorted(second.cached) == sorted(first.ran)
    tables = _tables(out)
    assert tables and tables == _tables(snapshot)
    for table in tables:
        assert filecmp.cmp(out / table, snapshot / table, shallow=False), table
