"""Patching at study scale: the attribution screen and the exact sweep of its top cells.

On the 200 pairs of the shipped agreement-across-a-PP-attractor study (the pairs
``probing patch`` built from ``benchmarks/agreement_pp_attractor_200.yaml``, read from
``docs/results/causal_agreement/patch_pairs.csv``: source = one subject number, target
= the other), site ``resid_post``, every layer x every aligned target position, on the
default model, one process:

(a) one plain forward over the same stimuli: ``score_tokens`` of both members of every
    pair (timed before and after the others; the smaller CPU time is the unit);
(b) the screen: ``attribute_pairs`` (attribution patching: the sources run once, one
    forward and one backward pass per batch of targets) over every cell;
(c) the exact sweep (``patch_pairs``) of the ``--top`` cells the screen ranks highest by
    absolute estimate: one call over the layers those cells use, each pair restricted to
    its chosen positions (so the cells computed are a superset of the top cells).

Reported: CPU and wall seconds, the ratio of each to (a), the peak resident memory
during each step (sampled every 20 ms from ``/proc/self/statm``), and the agreement of
screen and exact on the cells computed exactly (Spearman of estimate and exact effect;
how many of the exact top 10 the screen's top 10 hold). The numbers are written to
``--out`` (JSON) with the load average. Run from the repository root::

    nice -n 10 .venv/bin/python benchmarks/bench_patching_study.py [--pairs 200] [--top 200]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

import pandas as pd
from _timing import load_average

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "docs" / "results" / "causal_agreement" / "patch_pairs.csv"
OUT = ROOT / "docs" / "results" / "performance" / "patching_study.json"
MODEL = ("SmolLM2-135M-Instruct quantised to 4 bits (GGUF Q4_1, de-quantised to float32 "
         "on load)")


class PeakRSS:
    """Peak resident memory (MB) of this process while the block runs, sampled."""

    def __init__(self, interval=0.02):
        self.interval, self.peak_mb = interval, 0.0
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._stop = threading.Event()

    def _rss_mb(self):
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page / 2**20

    def _sample(self):
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._rss_mb())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak_mb = self._rss_mb()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb())


def measured(function):
    """``(result, {"cpu_s", "wall_s", "peak_rss_mb"})`` of one call."""
    with PeakRSS() as memory:
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return result, {"cpu_s": cpu, "wall_s": wall, "peak_rss_mb": memory.peak_mb}


def top_cells(estimates, n):
    """The ``n`` cells with the largest absolute estimate: layers and per-pair positions."""
    top = estimates.loc[estimates["estimate"].abs().nlargest(n).index]
    layers = sorted(int(k) for k in top["layer"].unique())
    positions = {pid: sorted(int(p) for p in group["position"].unique())
                 for pid, group in top.groupby("pair_id")}
    return top, layers, positions


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--top", type=int, default=200, help="cells the exact sweep patches")
    parser.add_argument("--batch-size", type=int, default=8, help="targets per backward pass")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    import torch

    from probing.models import attribute_pairs, compare_with_exact, load_model, score_tokens
    from probing.models.patch_runs import patch_pairs

    load_start = load_average()
    lm = load_model("smollm2-135m")
    pairs = pd.read_csv(PAIRS).iloc[: args.pairs][["pair_id", "source", "target"]]
    members = pd.DataFrame({"stimulus_id": range(2 * len(pairs)),
                            "text": [*pairs["source"], *pairs["target"]]})
    score_tokens(lm, members.iloc[:4])  # warm-up: lazy imports, first allocations

    steps = {}
    _, first = measured(lambda: score_tokens(lm, members))
    estimates, steps["screen"] = measured(
        lambda: attribute_pairs(lm, pairs, site="resid_post", batch_size=args.batch_size))
    top, layers, positions = top_cells(estimates, args.top)
    chosen = pairs[pairs["pair_id"].isin(positions)]
    exact, steps["exact_top"] = measured(
        lambda: patch_pairs(lm, chosen, layers=layers, site="resid_post", positions=positions))
    _, second = measured(lambda: score_tokens(lm, members))
    steps["plain_forward"] = min(first, second, key=lambda t: t["cpu_s"])
    unit = steps["plain_forward"]["cpu_s"]
    for step in steps.values():
        step["cpu_vs_plain"] = step["cpu_s"] / unit
        step["wall_vs_plain"] = step["wall_s"] / steps["plain_forward"]["wall_s"]

    agreement = compare_with_exact(estimates, exact, top_k=10)
    result = {
        "model": MODEL, "threads": torch.get_num_threads(), "pairs": len(pairs),
        "site": "resid_post", "layers": int(estimates["layer"].nunique()),
        "cells_screened": len(estimates), "top_cells": len(top),
        "exact_layers": layers, "exact_pairs": len(chosen),
        "cells_computed_exactly": agreement["n"], "steps": steps,
        "agreement_on_computed_cells": agreement,
        "plain_forward_cpu_s_before_after": [first["cpu_s"], second["cpu_s"]],
        "load_average_start_end": [load_start, load_average()],
        "command": "nice -n 10 python benchmarks/bench_patching_study.py "
                   f"--pairs {args.pairs} --top {args.top} --batch-size {args.batch_size}",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"model: {MODEL}; {result['threads']} threads; load average {load_start} -> "
          f"{load_average()}")
    print(f"{len(pairs)} pairs, resid_post, {result['layers']} layers, "
          f"{len(estimates)} cells screened; exact sweep: top {len(top)} cells -> "
          f"{agreement['n']} cells computed ({len(layers)} layers, {len(chosen)} pairs)")
    print(f"\n{'step':<16}{'CPU s':>9}{'wall s':>9}{'CPU vs (a)':>12}{'peak RSS MB':>13}")
    for name, step in steps.items():
        print(f"{name:<16}{step['cpu_s']:>9.1f}{step['wall_s']:>9.1f}"
              f"{step['cpu_vs_plain']:>12.2f}{step['peak_rss_mb']:>13.0f}")
    print(f"\nscreen vs exact on the {agreement['n']} cells computed: Spearman "
          f"{agreement['spearman']:.3f}; {agreement['top_k_found']} of the exact top "
          f"{agreement['top_k']} in the screen's top {agreement['top_k']}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
