"""Process-pool and Ray runs write the same tables as the serial run; cached steps stay."""

import json

import pytest

from probing.pipeline.experiment import run_experiment
from tests.experiment.conftest import assert_same_tables

pytestmark = pytest.mark.filterwarnings("ignore:SANITY CHECK FAILED")


@pytest.mark.slow
def test_process_pool_run_equals_serial_run(reference, copy_of):
    folder = copy_of(reference[0], results=False)
    result = run_experiment(folder / "experiment.yaml", folder / "results",
                            executor="processes", n_jobs=2, threads=1)
    assert not result.failed and sorted(result.loads) == ["gpt2", "llama"]
    assert_same_tables(folder / "results", reference[0] / "results")


@pytest.mark.slow
def test_ray_run_equals_serial_run_and_recomputes_nothing_cached(reference, copy_of):
    import ray  # the `ray` extra, part of `dev`
    folder = copy_of(reference[0], results=False)
    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False)
    try:
        result = run_experiment(folder / "experiment.yaml", folder / "results", executor="ray",
                                threads=1)
        assert not result.failed, result.failed
        assert sorted(result.loads) == ["gpt2", "llama"]
        assert_same_tables(folder / "results", reference[0] / "results")
        again = run_experiment(folder / "experiment.yaml", folder / "results", executor="ray",
                               threads=1)
        assert again.ran == [] and again.loads == []
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_ray_gives_model_steps_a_gpu_and_pool_steps_none(reference, copy_of):
    # Ray is told of a GPU this machine does not have: model tasks must ask for it and
    # get it, pool tasks must not, and the model still computes (on the CPU, without CUDA)
    import ray
    import torch

    folder = copy_of(reference[0], results=False)
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    try:
        result = run_experiment(folder / "experiment.yaml", folder / "results", executor="ray",
                                threads=1)
    finally:
        ray.shutdown()
    assert not result.failed, result.failed
    model = [t for t in result.tasks if t["function"] == "run_model_group"]
    pools = [t for t in result.tasks if t["function"] == "run_pool_step"]
    assert len(model) == 2 and all(t["gpu_ids"] for t in model), result.tasks
    assert pools and all(t["gpu_ids"] == [] for t in pools), result.tasks
    if not torch.cuda.is_available():
        assert result.devices == {"gpt2": "cpu", "llama": "cpu"}
        assert_same_tables(folder / "results", reference[0] / "results")
    manifest = json.loads((folder / "results" / "manifest.json").read_text())
    assert manifest["tasks"] == result.tasks and manifest["devices"] == result.devices
