"""Task drift on AgentDojo tool outputs (Abdelnabi et al. 2024), probe and causal test.

Reads ``data/agentdojo_task_drift/conversations.jsonl`` (system + user task + tool
result, clean / injected / benign per item), takes the last-token ``resid_post`` of the
user's turn and of the tool output at every layer in one forward pass (extraction at
word level over two one-character "words": the last character of each message), and
works on the activation delta (after minus before):

``probe`` step
    per probe (``logistic``, scikit-learn's L2 ``LogisticRegression``, C=1, on
    standardized units, the default; ``ridge``, the closed-form ridge classifier) and per
    layer, trained on injected vs clean and tested on held-out (suite, template) cells
    (:func:`probing.probes.heldout.heldout_folds`). Each fold chooses its layer by inner
    cross-validation over its own training suites and templates
    (:func:`probing.probes.nested.nested_heldout_scores`); ``probe_auc_chosen.csv`` has
    the AUC at the chosen layers, ``probe_auc.csv`` the per-layer curve, and
    ``layer_choices.csv`` each fold's choice. ROC AUC with item-bootstrap intervals for
    injected vs clean, injected vs benign and benign vs clean; control tasks (labels
    flipped within items, the nested procedure rerun) and the re-initialised model.
``causal`` step
    at the layer the folds chose most often, project the logistic probe's direction out
    of every tool-output token (``Intervention(op="project_out")``) and measure the
    change in the preference (mean log-probability per token) for an assistant reply that
    restates the injected goal over one that restates the user's task; ``n`` random unit
    directions of the same layer are the control (item-bootstrap intervals, and the probe
    direction's rank among them).

Usage (every item, both models, both probes; the causal step on one item per suite x
template cell with 10 random directions)::

    nice -n 10 python benchmarks/task_drift.py OUT --steps probe,causal \
        --causal-items-per-suite 5 --random-directions 10
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from probing.paradigms.importers.jsonl_dialogues import read_dialogue_jsonl
from probing.probes.heldout import auc_by_layer, item_flipped_labels, linear_direction
from probing.probes.nested import nested_heldout_scores

DATA = Path(__file__).resolve().parents[1] / "data" / "agentdojo_task_drift" / "conversations.jsonl"
CONTRASTS = {"injected-clean": ("injected", "clean"), "injected-benign": ("injected", "benign"),
             "benign-clean": ("benign", "clean")}
MODEL = "smollm2-135m"


def load_conversations(path=DATA, items_per_suite=None):
    """The dialogue stimuli (first ``items_per_suite`` items of each suite) with two words:
    the last character of the user's turn and of the tool output."""
    stimuli = read_dialogue_jsonl(path, name="task_drift")
    table = stimuli.table
    if items_per_suite is not None:
        number = table["item_id"].str.rsplit("-", n=1).str[1].astype(int)
        table = table[number < items_per_suite].reset_index(drop=True)
    keep = set(table["stimulus_id"])
    regions = stimuli.regions[stimuli.regions["stimulus_id"].isin(keep)].reset_index(drop=True)
    ends = regions[regions["region"].isin(["user_end", "tool_end"])]
    words = pd.DataFrame({"stimulus_id": ends["stimulus_id"].to_numpy(),
                          "word_index": (ends["region"] == "tool_end").astype(int).to_numpy(),
                          "word": ends["region"].to_numpy(),
                          "char_start": ends["char_start"].to_numpy(),
                          "char_end": ends["char_end"].to_numpy()})
    words = words.sort_values(["stimulus_id", "word_index"]).reset_index(drop=True)
    messages = stimuli.messages[stimuli.messages["stimulus_id"].isin(keep)].reset_index(drop=True)
    return dataclasses.replace(stimuli, table=table, regions=regions, words=words, messages=messages)


def deltas(lm, stimuli):
    """(n_stimuli, n_layers, width) tool-end minus user-end states, in table order."""
    from probing.pipeline.extraction import extract_activations

    acts = extract_activations(lm, stimuli, layers="all", pooling="last", level="word",
                               batch_size=8, cache=True)
    index = acts.index.reset_index(drop=True)
    values = np.asarray(acts.values, dtype=np.float64)
    rows = {(s, int(w)): i for i, (s, w) in enumerate(zip(index["stimulus_id"], index["word_index"], strict=True))}
    sids = stimuli.table["stimulus_id"]
    after = values[[rows[(s, 1)] for s in sids]]
    before = values[[rows[(s, 0)] for s in sids]]
    return after - before, list(acts.layers)


def _labels(conditions, positive, negative):
    return np.where(conditions == positive, 1.0, np.where(conditions == negative, 0.0, np.nan))


CURVE = ["model", "probe", "task", "seed", "contrast", "layer", "metric", "estimate", "ci_low",
         "ci_high", "n_items", "n_boot"]
CHOSEN = [c for c in CURVE if c != "layer"]


def _nested(delta, labels, table, layers, probe):
    return nested_heldout_scores(delta, labels, [table["suite"].to_numpy(), table["template"].to_numpy()],
                                 probe=_probe(probe), layers=layers, names=["suite", "template"])


def probe_tables(delta, table, layers, *, model, probe="logistic", control_seeds=(0, 1, 2),
                 n_boot=2000):
    """Held-out AUC per layer (the curve), at the inner-chosen layer, and the choices.

    Returns a dict of three tables: ``curve`` (``CURVE``), ``chosen`` (``CHOSEN``: each
    outer fold's rows scored at the layer its inner cross-validation chose) and
    ``choices`` (one row per outer fold and label set).
    """
    cond, items = table["condition"].to_numpy(), table["item_id"].to_numpy()
    train = _labels(cond, "injected", "clean")
    ident = {"model": model, "probe": probe}
    nested = _nested(delta, train, table, layers, probe)
    curve, chosen = [], []
    for contrast, (pos, neg) in CONTRASTS.items():
        y = _labels(cond, pos, neg)
        keys = {**ident, "task": "task", "seed": pd.NA, "contrast": contrast}
        curve.append(auc_by_layer(nested.by_layer, y, items, layers=layers, n_boot=n_boot).assign(**keys))
        chosen.append(auc_by_layer(nested.scores, y, items, n_boot=n_boot).assign(**keys))
    choices = [nested.choices.assign(**ident, task="task", seed=pd.NA)]
    for seed in control_seeds:
        flipped = item_flipped_labels(train, items, random_state=seed)
        ctl = _nested(delta, flipped, table, layers, probe)
        keys = {**ident, "task": "control", "seed": seed, "contrast": "injected-clean"}
        curve.append(auc_by_layer(ctl.by_layer, flipped, items, layers=layers, n_boot=n_boot).assign(**keys))
        chosen.append(auc_by_layer(ctl.scores, flipped, items, n_boot=n_boot).assign(**keys))
        choices.append(ctl.choices.assign(**ident, task="control", seed=seed))
    choice_cols = ["model", "probe", "task", "seed", "fold", "suite", "template", "layer", "metric",
                   "estimate"]
    return {"curve": pd.concat(curve, ignore_index=True)[CURVE],
            "chosen": pd.concat(chosen, ignore_index=True)[CHOSEN],
            "choices": pd.concat(choices, ignore_index=True)[choice_cols]}


def _extract(out, name, model, stimuli, reuse):
    path = out / f"delta_{name}.npy"
    if reuse and path.exists():
        delta = np.load(path).astype(np.float64)
        if delta.shape[0] == len(stimuli.table):
            print(f"{name}: deltas {delta.shape} read from {path}", flush=True)
            return delta, list(range(delta.shape[1]))
    t0 = time.time()
    delta, layers = deltas(model(), stimuli)
    print(f"{name}: extracted {delta.shape} in {time.time() - t0:.0f} s", flush=True)
    np.save(path, delta.astype(np.float32))
    return delta, layers


def run_probe(out, stimuli, lm, control_model_seed, probes=("logistic", "ridge"), reuse=False):
    """Both models' deltas, every probe; writes probe_auc.csv, probe_auc_chosen.csv,
    layer_choices.csv. ``lm``: the model, or a function returning it (called only when
    deltas are extracted)."""
    from threadpoolctl import threadpool_limits

    from probing.models import reinitialize

    get = lm if callable(lm) else (lambda: lm)
    models = [("smollm2-135m", get)]
    if control_model_seed is not None:
        models.append(("control_model", lambda: reinitialize(get(), random_state=control_model_seed)))
    tables = {"curve": [], "chosen": [], "choices": []}
    for name, model in models:
        delta, layers = _extract(out, name, model, stimuli, reuse)
        seeds = (0, 1, 2) if name == "smollm2-135m" else ()
        for probe in probes:
            t0 = time.time()
            with threadpool_limits(1):  # many small fits: threads only contend on a shared machine
                result = probe_tables(delta, stimuli.table, layers, model=name, probe=probe,
                                      control_seeds=seeds)
            print(f"{name} {probe}: probes in {time.time() - t0:.0f} s", flush=True)
            for key, frame in result.items():
                tables[key].append(frame)
            _write_probe_tables(out, tables)
    return {k: pd.concat(v, ignore_index=True) for k, v in tables.items()}


def _write_probe_tables(out, tables):
    for key, name in (("curve", "probe_auc"), ("chosen", "probe_auc_chosen"),
                      ("choices", "layer_choices")):
        pd.concat(tables[key], ignore_index=True).to_csv(out / f"{name}.csv", index=False)


def _probe(name):
    """``ridge``: the closed-form ridge classifier (alpha 1), else a probe name."""
    return "ridge_classifier" if name == "ridge" else name


def causal_layer(choices, probe="logistic"):
    """The layer the trained model's nested selection chose most often (ties: the lower)."""
    rows = choices[(choices["model"] == "smollm2-135m") & (choices["task"] == "task")
                   & (choices["probe"] == probe)]
    counts = rows["layer"].value_counts()
    return int(min(counts.index[counts == counts.max()]))


def continuation_stimuli(stimuli, conditions=("injected", "clean")):
    """Each conversation of ``conditions`` twice, with an assistant reply restating the
    user's task (``follow``) or the injected goal (``obey``)."""
    rows = []
    for _, row in stimuli.table[stimuli.table["condition"].isin(conditions)].iterrows():
        msgs = stimuli.messages[stimuli.messages["stimulus_id"] == row["stimulus_id"]]
        contents = [row["text"][m.char_start:m.char_end] for m in msgs.itertuples()]
        roles = msgs["chat_role"].tolist()
        for reply, text in (("follow", contents[1]), ("obey", row["goal"])):
            messages = [{"role": r, "content": c} for r, c in zip(roles, contents, strict=True)]
            messages.append({"role": "assistant", "content": f"I will do this now: {text}"})
            rows.append({"stimulus_id": f"{row['stimulus_id']}-{reply}", "item_id": row["item_id"],
                         "condition": row["condition"], "reply": reply, "messages": messages})
    return rows


def _reply_logprob(lm, stimuli, interventions=None):
    """Mean log-probability per token of the assistant's reply, per stimulus."""
    from probing.models import score_tokens
    from probing.models.chat import render_for_model

    chat = render_for_model(stimuli, lm)
    tokens = score_tokens(lm, chat.table, batch_size=8, interventions=interventions,
                          regions=chat.regions)
    reply = chat.regions[chat.regions["region"] == "assistant_1"].set_index("stimulus_id")
    start = tokens["stimulus_id"].map(reply["char_start"])
    end = tokens["stimulus_id"].map(reply["char_end"])
    inside = (tokens["char_start"] >= start) & (tokens["char_start"] < end)
    return tokens[inside].groupby("stimulus_id", sort=False)["logprob"].mean()


def _item_number(item_ids):
    return pd.Series(item_ids).str.rsplit("-", n=1).str[1].astype(int).to_numpy()


def random_directions(width, n, *, seed=0):
    """``n`` unit vectors drawn uniformly on the sphere, ``(n, width)``."""
    vectors = np.random.default_rng(seed).normal(size=(n, width))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def run_causal(out, stimuli, lm, layer, direction, *, items_per_suite=0, n_random=1, seed=0):
    """Preference (obey - follow) under no edit, the probe direction and ``n_random`` random
    directions (``edit`` ``random_direction``, ``seed`` 0, 1, ...), each projected out of
    the tool output at ``layer``; ``items_per_suite`` 0 keeps every item."""
    from probing.interventions import Intervention

    rows = continuation_stimuli(stimuli)
    if items_per_suite:
        rows = [r for r in rows if _item_number([r["item_id"]])[0] < items_per_suite]
    path = out / "continuations.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cont = read_dialogue_jsonl(path, name="task_drift_continuations")
    injected = cont.table.loc[cont.table["condition"] == "injected", "stimulus_id"].tolist()
    runs = [("none", pd.NA, None), ("probe_direction", pd.NA, direction)]
    runs += [("random_direction", k, v) for k, v in
             enumerate(random_directions(len(direction), n_random, seed=seed))]
    frames = []
    for name, k, vec in runs:
        t0 = time.time()
        sub, ivs = cont, None
        if vec is not None:
            iv = [Intervention(layer=int(layer), site="resid_post", positions="region:tool_1",
                               op="project_out", units=np.asarray(vec, dtype=np.float32)[None, :])]
            sub, ivs = _subset(cont, injected), {sid: iv for sid in injected}
        lp = _reply_logprob(lm, sub, ivs).rename("logprob").reset_index()
        frames.append(lp.merge(cont.table[["stimulus_id", "item_id", "condition", "reply"]])
                      .assign(edit=name, seed=k))
        print(f"causal {name} {'' if pd.isna(k) else k}: {len(sub.table)} texts in "
              f"{time.time() - t0:.0f} s", flush=True)
        pd.concat(frames).to_csv(out / "causal_logprobs.csv", index=False)
    return pd.concat(frames, ignore_index=True)


def _preference_changes(logprobs):
    """Per item (rows) the change each edit makes, columns (edit, seed)."""
    lp = logprobs.assign(seed=logprobs["seed"].fillna(-1).astype(int))
    wide = lp.pivot_table(index=["item_id", "condition", "edit", "seed"], columns="reply",
                          values="logprob")
    pref = (wide["obey"] - wide["follow"]).rename("preference").reset_index()
    by = pref.pivot_table(index="item_id", columns=["condition", "edit", "seed"], values="preference")
    base = by[("injected", "none", -1)]
    changes = {("injection", -1): base - by[("clean", "none", -1)]}
    for _, edit, k in [c for c in by.columns if c[0] == "injected" and c[1] != "none"]:
        changes[(edit, k)] = by[("injected", edit, k)] - base
    return pd.DataFrame(changes)


def summarize_causal(logprobs, *, n_boot=2000, seed=0):
    """Item-level preference (obey - follow, mean log-prob per token) and its changes.

    Rows: ``injection`` (injected minus clean, no edit), ``probe_direction``, each
    ``random_direction`` (``seed``; edited minus unedited, injected conversations) and
    ``random_directions`` (their mean per item); percentile bootstrap intervals over
    items. ``probe_direction``'s ``p_val`` is its rank among the random directions'
    mean changes (one-sided, lower: removing the drift should lower the preference).
    """
    changes = _preference_changes(logprobs)
    randoms = [c for c in changes.columns if c[0] == "random_direction"]
    if randoms:
        changes[("random_directions", -1)] = changes[randoms].mean(axis=1)
    rng = np.random.default_rng(seed)
    rows = []
    for (name, k), values in changes.items():
        v = values.dropna().to_numpy()
        boot = rng.choice(v, size=(n_boot, len(v))).mean(axis=1)
        rows.append({"contrast": name, "seed": pd.NA if k < 0 else k, "metric": "preference_change",
                     "estimate": v.mean(), "ci_low": np.quantile(boot, 0.025),
                     "ci_high": np.quantile(boot, 0.975), "p_val": np.nan, "n_items": len(v),
                     "n_boot": n_boot})
    table = pd.DataFrame(rows)
    if randoms and ("probe_direction", -1) in changes:
        means = changes[randoms].mean().to_numpy()
        probe = changes[("probe_direction", -1)].mean()
        table.loc[table["contrast"] == "probe_direction", "p_val"] = (
            (1 + np.sum(means <= probe)) / (len(means) + 1))
    return table


def _subset(stimuli, ids):
    keep = set(ids)
    return dataclasses.replace(
        stimuli, table=stimuli.table[stimuli.table["stimulus_id"].isin(keep)].reset_index(drop=True),
        regions=stimuli.regions[stimuli.regions["stimulus_id"].isin(keep)].reset_index(drop=True),
        messages=stimuli.messages[stimuli.messages["stimulus_id"].isin(keep)].reset_index(drop=True))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", default="probe,causal")
    parser.add_argument("--items-per-suite", type=int, default=0, help="0: every item (20 a suite)")
    parser.add_argument("--causal-items-per-suite", type=int, default=0, help="0: every item")
    parser.add_argument("--random-directions", type=int, default=10)
    parser.add_argument("--control-model-seed", type=int, default=0)
    parser.add_argument("--no-control-model", action="store_true")
    parser.add_argument("--probes", default="logistic,ridge",
                        help="comma-separated, from logistic (the default, first) and ridge")
    parser.add_argument("--reuse-deltas", action="store_true",
                        help="read OUT/delta_<model>.npy where present instead of extracting")
    args = parser.parse_args(argv)
    probes = args.probes.split(",")
    if not set(probes) <= {"logistic", "ridge"}:
        parser.error(f"--probes: {args.probes!r}; allowed: logistic, ridge")
    from probing.models import load_model

    args.out.mkdir(parents=True, exist_ok=True)
    stimuli = load_conversations(items_per_suite=args.items_per_suite or None)
    lm = functools.cache(lambda: load_model(MODEL))  # loaded when first needed
    steps = args.steps.split(",")
    t0 = time.time()
    if "probe" in steps:
        run_probe(args.out, stimuli, lm, None if args.no_control_model else args.control_model_seed,
                  probes=probes, reuse=args.reuse_deltas)
    if "causal" in steps:
        layer = causal_layer(pd.read_csv(args.out / "layer_choices.csv"), probes[0])
        delta = np.load(args.out / "delta_smollm2-135m.npy")
        labels = _labels(stimuli.table["condition"].to_numpy(), "injected", "clean")
        fit = ~np.isnan(labels)
        direction = linear_direction(delta[fit, layer], labels[fit], probe=_probe(probes[0]))
        np.save(args.out / "probe_direction.npy", direction)
        table = run_causal(args.out, stimuli, lm(), layer, direction,
                           items_per_suite=args.causal_items_per_suite, n_random=args.random_directions)
        summarize_causal(table).assign(layer=layer, probe=probes[0]).to_csv(
            args.out / "causal.csv", index=False)
    print(f"{len(stimuli.table)} conversations, steps {args.steps}: {time.time() - t0:.0f} s wall",
          flush=True)


if __name__ == "__main__":
    main()
