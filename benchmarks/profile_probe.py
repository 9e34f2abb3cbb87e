"""Profile the controlled-probing run (``run_probe``) on UD sentences, with the default model.

The design of issue #27's regression: 200 UD English EWT sentences, 5 layers, the
``xpos`` label (45 classes), logistic and MLP probes, control task (5 seeds), control
model, permutation test and MDL. Activations come through the cache, so a second run
measures the analyses alone. Writes the profile's text report next to ``--out``.

Run from the repository root::

    .venv/bin/python benchmarks/profile_probe.py --out /tmp/probe_run [--n-perm 1000]

The full UD part-of-speech design of issue #27 (1,000 sentences, every layer, 5 control
seeds, logistic and MLP probes, MDL, control model, 1,000 permutations)::

    nice -n 10 .venv/bin/python benchmarks/profile_probe.py --out /tmp/ud_full --limit 1000 \
        --layers all --label upos --n-perm 1000 --timing docs/results/performance/ud_full.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path

PARADIGM = Path(__file__).resolve().parents[1] / "paradigms" / "ud_pos.yaml"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--layers", default="0,7,15,22,30")
    parser.add_argument("--label", default="xpos")
    parser.add_argument("--n-perm", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="pyinstrument report")
    parser.add_argument("--timing", type=Path, help="also write the timing (JSON)")
    args = parser.parse_args(argv)

    from probing.models import load_model
    from probing.pipeline.probe_run import ProbeOptions, run_probe

    lm = load_model("smollm2-135m")
    options = ProbeOptions(label=args.label, layers=args.layers, limit=args.limit,
                           n_perm=args.n_perm)
    shutil.rmtree(args.out, ignore_errors=True)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        profiler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    tables = run_probe(PARADIGM, lm, args.out, options=options)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if profiler is not None:
        profiler.stop()
        Path(args.out + ".profile.txt").write_text(profiler.output_text(show_all=False))
    rows = int(tables["labels"]["n"].sum())
    print(f"run_probe: {wall:.1f} s wall, {cpu:.1f} s CPU (+{children.ru_utime:.1f} s in "
          f"children); load average {os.getloadavg()[0]:.2f}; {rows} rows, "
          f"{len(tables['labels'])} classes")
    if args.timing:
        args.timing.parent.mkdir(parents=True, exist_ok=True)
        args.timing.write_text(json.dumps({
            "limit": args.limit, "layers": args.layers, "label": args.label,
            "n_perm": args.n_perm, "rows": rows, "classes": len(tables["labels"]),
            "wall_s": wall, "cpu_s": cpu, "children_cpu_s": children.ru_utime,
            "load_average_end": f"{os.getloadavg()[0]:.2f}"}, indent=2) + "\n")


if __name__ == "__main__":
    main()
