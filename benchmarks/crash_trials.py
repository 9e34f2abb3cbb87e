"""kill -9 and concurrency trials: do interrupted runs resume to the same bytes?

Run ``python benchmarks/crash_trials.py [--trials 10] [--kinds extract,run,probe,concurrent]``.

For each kind, one uninterrupted reference run of a ``probing`` command on a tiny random
GPT-2 saved to a folder, then ``--trials`` trials, each in a fresh folder:

1. the same command starts, and is killed with SIGKILL at a random moment, uniform over
   (0.2, 1.1) x the reference's duration (so some kills land after it finished);
2. before anything reruns, every file a later step would trust is checked: a run or
   ``--out`` folder that exists, and every cache entry that loads as complete, must be
   byte-identical to the reference (a violation is "a partial file read as complete");
3. the command runs again to the end; its output (and cache entry) must be
   byte-identical to the reference (``manifest.json`` without its two timestamps).

``concurrent``: two processes start the same extraction into one cache at the same
moment; the entry must be computed once (counted by a wrapper around the model-side
computation, installed before the processes fork) and both outputs identical.

Commands run in forked children of this process (which has imported torch but run no
torch operation, so forking is safe), so a trial costs the command's own work, not an
interpreter start. Prints one line per kind: how many of N trials resumed
byte-identical, how many kills landed mid-run, and how many partial files were trusted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PARADIGMS = REPO / "paradigms"
CORPUS = ["The cat sat on the mat.", "The dogs were barking at the mailman!",
          "A child who likes apples is happy.", "The keys to the cabinet are on the table.",
          "She said that the authors have written many books."] * 4
SUBJECTS = ["The author", "The pilots", "A child", "The senator", "The dogs", "Those boys"]
CLAUSES = ["said that the earth is round.", "noticed that the meeting starts soon.",
           "heard that the cat sat on the mat.", "believed that the keys are lost."]
N_STIMULI = 300  # five chunks of CHUNK_SIZE
CHUNK_SIZE = "60"


def build_tiny_model(folder):
    """A 2-layer random GPT-2 with a byte-level BPE tokenizer, saved to ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=300, show_progress=False, special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                        eos_token="<|endoftext|>")
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=1024, n_embd=32, n_layer=2,
                        n_head=2, bos_token_id=0, eos_token_id=0)
    GPT2LMHeadModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def write_stimuli(path):
    rows = [f"s{i:05d},{SUBJECTS[i % 6]} {CLAUSES[(i // 6) % 4]} ({i})" for i in range(N_STIMULI)]
    path.write_text("stimulus_id,text\n" + "\n".join(rows) + "\n")


def command(kind, shared, work):
    """argv of ``probing`` for one kind, writing under ``work``."""
    model = ["--model", str(shared / "model")]
    if kind in ("extract", "concurrent"):
        return ["extract", str(shared / "stimuli.csv"), *model, "--out", str(work / "out"),
                "--cache-dir", str(work / "cache"), "--layers", "0,-1", "--chunk-size", CHUNK_SIZE,
                "--batch-size", "8"]
    if kind == "run":
        return ["run", str(PARADIGMS / "agreement_simple.yaml"), *model,
                "--out", str(work / "out"), "--force", "--batch-size", "4"]
    return ["probe", str(PARADIGMS / "ud_pos.yaml"), *model, "--label", "upos",
            "--layers", "0,-1", "--probes", "logistic", "--cv", "3", "--control-seeds", "2",
            "--n-perm", "20", "--no-control-model", "--no-mdl", "--limit", "60", "--out", str(work / "out"),
            "--cache-dir", str(work / "cache"), "--force"]


def _child(argv, log):
    with open(log, "ab") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
    import matplotlib

    matplotlib.use("Agg")
    from probing.cli.main import main

    sys.argv = ["probing", *argv]  # what the manifest records as the command
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def start(argv, log):
    proc = multiprocessing.get_context("fork").Process(target=_child, args=(argv, str(log)))
    proc.start()
    return proc


def _digest(path):
    data = path.read_bytes()
    if path.name == "manifest.json":  # times, and the command naming each trial's folder
        record = json.loads(data)
        for field in ("started", "finished", "command"):
            record.pop(field, None)
        data = json.dumps(record, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def snapshot(folder):
    """``{relative path: sha256}`` of every file under ``folder`` (None if absent)."""
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): _digest(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def complete_entries(work):
    """Snapshots of the cache entries that load as complete (what a later run trusts)."""
    from probing._core.errors import ProbingError
    from probing.store import load_activations

    root = work / "cache" / "activations"
    found = {}
    for entry in sorted(root.iterdir()) if root.exists() else []:
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        try:
            load_activations(entry)
        except ProbingError:
            continue
        found[entry.name] = snapshot(entry)
    return found


def state(work):
    """What a kill left: chunk files, partial folders, or a finished output."""
    chunks = list((work / "cache").rglob("chunks/0*.npy")) if (work / "cache").exists() else []
    partial = [p for p in work.iterdir() if ".partial-" in p.name]
    return {"chunks": len(chunks), "partial_folders": len(partial), "out": (work / "out").exists()}


def reference(kind, shared, root):
    work = root / f"{kind}-reference-{time.monotonic_ns()}"
    work.mkdir()
    began = time.perf_counter()
    proc = start(command(kind, shared, work), work / "log.txt")
    proc.join()
    if proc.exitcode != 0:
        raise SystemExit(f"{kind}: reference run failed; see {work / 'log.txt'}")
    return {"seconds": time.perf_counter() - began, "out": snapshot(work / "out"),
            "cache": complete_entries(work)}


def trial(kind, shared, root, i, ref, rng):
    work = root / f"{kind}-{i}"
    work.mkdir()
    argv = command(kind, shared, work)
    proc = start(argv, work / "log.txt")
    time.sleep(rng.uniform(0.2, 1.1) * ref["seconds"])
    killed = proc.is_alive()
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    left = state(work)
    trusted = complete_entries(work)
    bad = sum(snap != ref["cache"].get(key) for key, snap in trusted.items())
    out = snapshot(work / "out")
    bad += out is not None and out != ref["out"]
    rerun = start(argv, work / "log.txt")
    rerun.join()
    same = (rerun.exitcode == 0 and snapshot(work / "out") == ref["out"]
            and complete_entries(work) == ref["cache"])
    return {"killed": killed, "resumed_identical": same, "partial_trusted": int(bad), **left}


def concurrent_trial(shared, root, i, ref):
    work = root / f"concurrent-{i}"
    work.mkdir()
    os.environ["CRASH_TRIALS_COUNT"] = str(work / "computed.txt")
    argv = command("concurrent", shared, work)
    at = argv.index("--out") + 1
    procs = [start([*argv[:at], str(work / f"out{k}"), *argv[at + 1:]], work / f"log{k}.txt")
             for k in range(2)]
    for proc in procs:
        proc.join()
    del os.environ["CRASH_TRIALS_COUNT"]
    outs = [snapshot(work / f"out{k}") for k in range(2)]
    computed = len((work / "computed.txt").read_text().split()) if (work / "computed.txt").exists() else 0
    waited = any("another process is writing" in (work / f"log{k}.txt").read_text()
                 for k in range(2))
    same = (all(p.exitcode == 0 for p in procs) and outs[0] == outs[1] == ref["out"]
            and complete_entries(work) == ref["cache"])
    return {"resumed_identical": same and computed == 1, "computed": computed, "waited": waited}


def count_computations():
    """Wrap the model-side computation so each call appends the process id to a file."""
    from probing.models import site_activations

    original = site_activations.compute_activations

    def counted(*args, **kwargs):
        path = os.environ.get("CRASH_TRIALS_COUNT")
        if path:
            with open(path, "a") as fh:
                fh.write(f"{os.getpid()}\n")
        return original(*args, **kwargs)

    site_activations.compute_activations = counted


def summarize(kind, results):
    n = len(results)
    same = sum(r["resumed_identical"] for r in results)
    if kind == "concurrent":
        waited = sum(r["waited"] for r in results)
        once = sum(r["computed"] == 1 for r in results)
        return (f"{kind}: {same}/{n} trials identical to the reference with the entry computed "
                f"once ({once}/{n} computed once; in {waited}/{n} one process waited on the lock)")
    killed = sum(r["killed"] for r in results)
    chunks = sum(r["chunks"] > 0 for r in results)
    trusted = sum(r["partial_trusted"] for r in results)
    return (f"{kind}: {same}/{n} trials resumed byte-identical; {killed}/{n} killed mid-run "
            f"({chunks} left completed chunks to resume from); {trusted} partial files read as "
            f"complete")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--kinds", default="extract,run,probe,concurrent")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    import probing.cli.main  # imported once, before any fork
    import probing.models  # noqa: F401

    root = Path(tempfile.mkdtemp(prefix="crash-trials-")) if args.keep is None else args.keep
    root.mkdir(parents=True, exist_ok=True)
    shared = root / "shared"
    shared.mkdir(exist_ok=True)
    builder = multiprocessing.get_context("fork").Process(target=build_tiny_model,
                                                           args=(shared / "model",))
    builder.start()  # torch runs in a child, so this process stays safe to fork
    builder.join()
    write_stimuli(shared / "stimuli.csv")
    count_computations()
    rng = random.Random(args.seed)
    lines = []
    try:
        for kind in args.kinds.split(","):
            ref = reference("extract" if kind == "concurrent" else kind, shared, root)
            if kind == "concurrent":
                results = [concurrent_trial(shared, root, i, ref) for i in range(args.trials)]
            else:
                results = [trial(kind, shared, root, i, ref, rng) for i in range(args.trials)]
            lines.append(summarize(kind, results))
            print(lines[-1], f"(reference run {ref['seconds']:.1f} s)", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0 if all(" 0 partial" in line or "concurrent" in line for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
