"""RSA at corpus scale: ``stream_rsa`` against scipy and rsatoolbox, time and peak memory.

Synthetic activations (float32, the default model's width 576, a planted categorical
structure), stored layers-first in a memory-mapped ``.npy`` file so that one layer is
one contiguous read; one categorical model RDM; Spearman comparison; correlation
distance. Each method runs in its own process, so that its peak resident memory
(``ru_maxrss``) and its peak traced allocation (``tracemalloc``) are its own:

(a) ``probing.rsa.stream_rsa`` on ``--run-layers`` layers with ``--n-perm``
    permutations (``layers_per_pass`` = ``--run-layers``);
(s) the plain baseline, one layer: ``scipy.spatial.distance.pdist(X, "correlation")``
    and ``scipy.stats.spearmanr`` with the model, then per permutation the model
    relabelled through ``squareform`` (``M[p][:, p]``) and ``spearmanr`` again;
(t) rsatoolbox (if installed), one layer: ``calc_rdm`` and ``compare(method="spearman")``.

Times for all ``--layers`` layers and ``--perm-target`` permutations are extrapolated
linearly from these runs (the cost is linear in layers and in permutations) and printed
as extrapolations. Run from the repository root::

    .venv/bin/python benchmarks/bench_rsa_stream.py [--stimuli 10000] [--run-layers 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from _timing import load_average, peak_rss_mb


def make_activations(path, n_stimuli, n_layers, n_units, seed=0):
    """Layers-first float32 memory map; the factor is ``stimulus index % 4``."""
    rng = np.random.default_rng(seed)
    factor = np.arange(n_stimuli) % 4
    stored = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                       shape=(n_layers, n_stimuli, n_units))
    for k in range(n_layers):
        layer = rng.standard_normal((n_stimuli, n_units), dtype=np.float32)
        layer[np.arange(n_stimuli), factor] += 0.5 * (k % 3)
        stored[k] = layer
    stored.flush()


def _model(factor):
    n = len(factor)
    out = np.empty(n * (n - 1) // 2)
    start = 0
    for i in range(n - 1):  # row by row: no (n, n) index arrays
        out[start:start + n - 1 - i] = factor[i + 1:] != factor[i]
        start += n - 1 - i
    return out


def run_streamed(path, factor, layers, n_perm):
    from probing.rsa import stream_rsa

    X = np.load(path, mmap_mode="r").transpose(1, 0, 2)
    res = stream_rsa(X, _model(factor), layers=list(range(layers)), n_perm=n_perm,
                     layers_per_pass=layers, random_state=0)
    return res.value[:, 0].tolist()


def run_scipy(path, factor, n_perm):
    from scipy.spatial.distance import pdist, squareform
    from scipy.stats import spearmanr

    X = np.asarray(np.load(path, mmap_mode="r")[0], dtype=np.float64)
    data, model = pdist(X, "correlation"), _model(factor)
    values = [spearmanr(data, model)[0]]
    rng = np.random.default_rng(0)
    for _ in range(n_perm):
        p = rng.permutation(len(X))
        values.append(spearmanr(data, squareform(squareform(model)[p][:, p], checks=False))[0])
    return values[:1]


def run_rsatoolbox(path, factor):
    import rsatoolbox

    X = np.asarray(np.load(path, mmap_mode="r")[0], dtype=np.float64)
    rdm = rsatoolbox.rdm.calc_rdm(rsatoolbox.data.Dataset(X), method="correlation")
    model = rsatoolbox.rdm.RDMs(_model(factor)[None])
    return [float(rsatoolbox.rdm.compare(rdm, model, method="spearman")[0, 0])]


def _worker(name, path, layers, n_perm):
    """Run one method in this process and print its measurements as one JSON line."""
    factor = np.arange(np.load(path, mmap_mode="r").shape[1]) % 4
    function = {"stream": lambda: run_streamed(path, factor, layers, n_perm),
                "scipy": lambda: run_scipy(path, factor, n_perm),
                "rsatoolbox": lambda: run_rsatoolbox(path, factor)}[name]
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps([result, wall, cpu, tracemalloc.get_traced_memory()[1] / 2**20,
                      peak_rss_mb()]))


def measure(name, path, layers, n_perm):
    """``(result, wall s, CPU s, tracemalloc peak MB, ru_maxrss MB)`` in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--worker", name, "--path", path,
                          "--run-layers", str(layers), "--n-perm", str(n_perm)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stimuli", type=int, default=10_000)
    parser.add_argument("--layers", type=int, default=31, help="layers of the design")
    parser.add_argument("--units", type=int, default=576)
    parser.add_argument("--run-layers", type=int, default=4, help="layers actually run")
    parser.add_argument("--n-perm", type=int, default=2, help="permutations actually run")
    parser.add_argument("--perm-target", type=int, default=1000, help="for the extrapolation")
    parser.add_argument("--baseline-perms", type=int, default=1)
    parser.add_argument("--skip-rsatoolbox", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the measurements (JSON)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args.worker, args.path, args.run_layers, args.n_perm)

    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "activations.npy")
        make_activations(path, args.stimuli, args.run_layers, args.units)
        # stream_rsa draws at least one permutation: the base run has 1, the other 1 + n_perm
        rows = {"(a) stream_rsa": measure("stream", path, args.run_layers, 1),
                "(a) + permutations": measure("stream", path, args.run_layers, 1 + args.n_perm),
                "(s) scipy pdist+spearmanr": measure("scipy", path, 1, 0),
                "(s) + permutations": measure("scipy", path, 1, args.baseline_perms)}
        if not args.skip_rsatoolbox:
            rows["(t) rsatoolbox"] = measure("rsatoolbox", path, 1, 0)
    n_pairs = args.stimuli * (args.stimuli - 1) // 2
    print(f"{args.stimuli} stimuli ({n_pairs} pairs) x {args.units} units, correlation "
          f"distance, Spearman; load average {load_average()} at the end; "
          f"{os.cpu_count()} cores")
    print(f"\n{'method':<28}{'layers':>7}{'perms':>7}{'wall s':>9}{'CPU s':>9}"
          f"{'traced MB':>11}{'maxrss MB':>11}")
    for name, (_, wall, cpu, traced, rss) in rows.items():
        layers = args.run_layers if name.startswith("(a)") else 1
        perms = {"(a) stream_rsa": 1, "(a) + permutations": 1 + args.n_perm,
                 "(s) + permutations": args.baseline_perms}.get(name, 0)
        print(f"{name:<28}{layers:>7}{perms:>7}{wall:>9.1f}{cpu:>9.1f}{traced:>11.0f}{rss:>11.0f}")
    a, ap = rows["(a) stream_rsa"][2], rows["(a) + permutations"][2]
    s, sp = rows["(s) scipy pdist+spearmanr"][2], rows["(s) + permutations"][2]
    per_perm = (ap - a) / args.run_layers / max(args.n_perm, 1)
    per_layer = a / args.run_layers - per_perm
    base_perm = (sp - s) / max(args.baseline_perms, 1)
    print(f"\nobserved Spearman, layer 0: stream {rows['(a) stream_rsa'][0][0]:.6f}, scipy "
          f"{rows['(s) scipy pdist+spearmanr'][0][0]:.6f}"
          + ("" if args.skip_rsatoolbox else f", rsatoolbox {rows['(t) rsatoolbox'][0][0]:.6f}"))
    stream_total = args.layers * (per_layer + args.perm_target * per_perm)
    scipy_total = args.layers * (s + args.perm_target * base_perm)
    print(f"EXTRAPOLATED (linear in layers and permutations, CPU s): {args.layers} layers x "
          f"{args.perm_target} permutations: stream_rsa {stream_total:.0f} s; scipy baseline "
          f"{scipy_total:.0f} s")
    if args.out:
        keys = ("observed", "wall_s", "cpu_s", "traced_peak_mb", "maxrss_mb")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({
            "stimuli": args.stimuli, "units": args.units, "run_layers": args.run_layers,
            "n_perm_run": args.n_perm, "baseline_perms_run": args.baseline_perms,
            "measured": {name: dict(zip(keys, row, strict=True)) for name, row in rows.items()},
            "extrapolated_cpu_s": {"layers": args.layers, "permutations": args.perm_target,
                                   "stream_rsa": stream_total, "scipy": scipy_total},
            "load_average_end": load_average(), "cores": os.cpu_count()}, indent=2) + "\n")
        print(f"wrote {args.out}")

if __name__ == "__main__":
    main()
