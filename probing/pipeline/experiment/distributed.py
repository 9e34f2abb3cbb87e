"""Sweeps beyond one process: a process pool on one machine, or Ray on a cluster.

Both run the same functions as the serial executor (:func:`run_model_group` per trained
model, :func:`run_pool_step` per pool step) and write into the same results folder, so
the layout and the tables do not depend on the executor. Workers get the experiment
file's path and re-read it.

Ray: model groups ask for one GPU when the cluster has any (else one CPU), pool steps
for one CPU; a task whose worker dies is retried by Ray (``max_retries``) and a step
that raises is retried inside the task. ``ray.init()`` is called only when Ray is not
already initialised: with no address it starts a local instance; ``RAY_ADDRESS`` (or an
earlier ``ray.init(address=...)``) points it at a cluster, whose workers must see the
results folder (a shared file system) and have ``probing`` installed.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing

from probing._core.errors import ProbingError
from probing.pipeline.experiment.step_runner import (
    GroupResult,
    group_steps,
    pool_ready,
    run_model_group,
    run_pool_step,
)

__all__ = ["run_processes", "run_ray"]


def run_processes(spec, out, steps, *, n_jobs=2, retries=1, threads=None):
    """Model groups in parallel worker processes (spawned: no forked torch state)."""
    result = GroupResult()
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=n_jobs, mp_context=context) as pool:
        futures = [pool.submit(run_model_group, str(spec.path), str(out), group, retries=retries,
                               threads=threads)
                   for group in group_steps(spec, steps).values()]
        for future in futures:
            result.merge(future.result())
        by_key = {s.key: s for s in steps}
        pooled = []
        for step in (s for s in steps if s.kind == "pool"):
            deps = pool_ready(step, by_key, result)
            if deps is not None:
                pooled.append(pool.submit(run_pool_step, str(spec.path), str(out), step, deps,
                                          retries=retries))
        for future in pooled:
            result.merge(future.result())
    return result


def _ray():
    try:
        import ray
    except ImportError:
        raise ProbingError("--executor ray needs Ray: pip install 'probing[ray]'") from None
    if not ray.is_initialized():
        ray.init(log_to_driver=False)  # RAY_ADDRESS, when set, names the cluster
    return ray


def _in_ray_task(run, *args, **kwargs):
    """``run(*args, **kwargs)`` in a Ray task, its result recording the GPUs Ray gave it.

    A model then runs on CUDA when the task sees a usable device, else on the CPU
    (:func:`probing.models.language_model.resolve_device`), so a cluster that
    advertises GPUs without drivers still computes.
    """
    import ray

    result = run(*args, **kwargs)
    result.tasks.append({"function": run.__name__, "gpu_ids": [str(g) for g in
                                                                ray.get_gpu_ids()],
                         "steps": sorted(result.ran + result.cached + list(result.failed))})
    return result


def run_ray(spec, out, steps, *, retries=1, threads=None):
    """Model groups as Ray tasks (GPU when the cluster has one), then pool steps on CPUs.

    A model task reserves ``threads`` CPUs (1 when None) and computes with that many.
    """
    ray = _ray()
    gpus = ray.cluster_resources().get("GPU", 0) > 0
    threads = threads or 1
    task = ray.remote(_in_ray_task)
    model_task = task.options(num_cpus=threads, num_gpus=1 if gpus else 0, max_retries=retries)
    pool_task = task.options(num_cpus=1, num_gpus=0, max_retries=retries)
    result = GroupResult()
    refs = [model_task.remote(run_model_group, str(spec.path), str(out), group,
                              retries=retries, threads=threads)
            for group in group_steps(spec, steps).values()]
    for group_result in ray.get(refs):
        result.merge(group_result)
    by_key = {s.key: s for s in steps}
    refs = []
    for step in (s for s in steps if s.kind == "pool"):
        deps = pool_ready(step, by_key, result)
        if deps is not None:
            refs.append(pool_task.remote(run_pool_step, str(spec.path), str(out), step, deps,
                                         retries=retries))
    for group_result in ray.get(refs):
        result.merge(group_result)
    return result
