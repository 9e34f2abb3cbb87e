"""One recorded run per member in ``patch_pairs``: forwards and time, before vs after.

Before, each member of every pair was tokenized and run through the full model twice
per call: the sources to record their activations and again for their plain read-out,
the targets for their plain read-out and again to cache the sweep's block inputs. Now a
source's forward records and reads, and a target's forward reads and caches
(:mod:`probing.models.pair_runs`).

The code before is ``probing/models/patch_runs.py`` at commit ``BEFORE`` (read with
``git show``, loaded as a module of its own; it exists only inside this script). Both
run on the tiny random GPT-2 of the tests (float64) with BLiMP
agreement-across-a-relational-noun pairs (grammatical member = source), sweeping
``resid_post`` at every layer and position and ``head_out`` per head. The script
reports the full forwards per pair (a hook on the base model counts them; with
``batch_size=1`` each forward is one member; the patched copies, which start inside
the model, are not full forwards), the largest difference between the two tables
(every row and column, NaN where NaN) and the CPU and wall time, interleaved.

Run from the repository root::

    .venv/bin/python benchmarks/bench_patch_once.py [--pairs 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _timing import interleaved, load_average, median_ratio, median_time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tiny models of the tests

from probing.models import LanguageModel  # noqa: E402
from probing.models.patch_runs import patch_pairs  # noqa: E402
from tests.models import conftest as tiny  # noqa: E402

BEFORE = "f0a0c2e"  # the last commit with two runs per member
BLIMP = ROOT / "data" / "blimp" / "distractor_agreement_relational_noun.jsonl"
KEYS = ["pair_id", "run", "layer", "site", "position", "head", "unit", "member"]


def load_before():
    """``patching.py`` as it was at ``BEFORE``, as the module ``patching_before``."""
    source = subprocess.run(["git", "show", f"{BEFORE}:probing/models/patch_runs.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("patching_before", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    exec(compile(source, f"{BEFORE}:probing/models/patch_runs.py", "exec"), module.__dict__)
    return module


def tiny_gpt2():
    tokenizer = tiny.PreTrainedTokenizerFast(
        tokenizer_object=tiny.Tokenizer.from_str(tiny._gpt2_json()), **tiny._SPECIALS["gpt2"])
    torch.manual_seed(0)
    model = tiny.GPT2LMHeadModel(tiny._config("gpt2", len(tokenizer), 512))
    return LanguageModel.from_objects(model.to(torch.float64).eval(), tokenizer)


def read_pairs(n):
    rows = [json.loads(line) for line in BLIMP.read_text().splitlines()[:n]]
    return pd.DataFrame({"pair_id": [f"p{i}" for i in range(len(rows))],
                         "source": [r["sentence_good"] for r in rows],
                         "target": [r["sentence_bad"] for r in rows]})


def count_forwards(lm, function):
    """Full forwards of the base model during ``function()``, and its result."""
    calls = []
    handle = lm.model.base_model.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        result = function()
    finally:
        handle.remove()
    return len(calls), result


def largest_difference(before, after):
    merged = before.merge(after, on=KEYS, how="outer", suffixes=("_before", "_after"),
                          indicator=True)
    if len(merged) != len(before) or (merged["_merge"] != "both").any():
        return float("inf")
    a, b = merged["logprob_before"].to_numpy(), merged["logprob_after"].to_numpy()
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return float("inf")
    return float(np.nanmax(np.abs(a - b)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    old, lm, pairs = load_before(), tiny_gpt2(), read_pairs(args.pairs)
    print(f"tiny GPT-2 (2 layers, 2 heads, float64), {len(pairs)} BLiMP pairs, "
          f"{torch.get_num_threads()} threads, load average {load_average()}")
    print(f"\n{'sweep':<22}{'forwards/pair before':>22}{'after':>7}{'max |diff|':>12}"
          f"{'CPU s before':>14}{'after':>8}{'ratio':>7}")
    for site, per_head in (("resid_post", False), ("head_out", True)):
        calls = {name: functools.partial(f, lm, pairs, site=site, per_head=per_head, batch_size=1)
                 for name, f in (("before", old.patch_pairs), ("after", patch_pairs))}
        n_before, table_before = count_forwards(lm, calls["before"])
        n_after, table_after = count_forwards(lm, calls["after"])
        diff = largest_difference(table_before, table_after)
        times = interleaved({name: lambda c=c: c() for name, c in calls.items()}, args.repeats)
        label = f"{site}{' per head' if per_head else ''}"
        print(f"{label:<22}{n_before / len(pairs):>22.1f}{n_after / len(pairs):>7.1f}"
              f"{diff:>12.1e}{median_time(times, 'before'):>14.2f}"
              f"{median_time(times, 'after'):>8.2f}{median_ratio(times, 'after', 'before'):>7.2f}")
        if diff > 1e-10:
            raise SystemExit(f"{label}: the tables differ by {diff:.3g} (> 1e-10)")


if __name__ == "__main__":
    main()
