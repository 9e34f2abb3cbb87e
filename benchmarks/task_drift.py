"""Task drift on AgentDojo tool outputs (Abdelnabi et al. 2024), probe and causal test.

Reads ``data/agentdojo_task_drift/conversations.jsonl`` (system + user task + tool
result, clean / injected / benign per item), takes the last-token ``resid_post`` of the
user's turn and of the tool output at every layer in one forward pass (extraction at
word level over two one-character "words": the last character of each message), and
works on the activation delta (after minus before):

``probe`` step
    a logistic probe per layer trained on injected vs clean, tested on held-out
    (suite, template) cells (:func:`probing.probes.heldout.heldout_folds`); ROC AUC with
    item-bootstrap intervals for injected vs clean, injected vs benign and benign vs
    clean; control tasks (labels flipped within items) and the re-initialised model.
``causal`` step
    at the probe's best layer, project its direction out of every tool-output token
    (``Intervention(op="project_out")``) and measure the change in the preference
    (mean log-probability per token) for an assistant reply that restates the injected
    goal over one that restates the user's task; a random direction is the control.

Usage::

    nice -n 10 python benchmarks/task_drift.py OUT --steps probe,causal --items-per-suite 10
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from probing.paradigms.importers.dialogue import read_dialogue_jsonl
from probing.probes.heldout import (
    auc_by_layer,
    heldout_folds,
    heldout_scores,
    item_flipped_labels,
    linear_direction,
)

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
    from probing.pipeline.extract import extract_activations

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


def probe_tables(delta, table, layers, *, model, control_seeds=(0, 1, 2), n_boot=2000,
                 probe="logistic"):
    """AUC by layer, contrast and task (real labels, control tasks), for one model."""
    cond = table["condition"].to_numpy()
    items = table["item_id"].to_numpy()
    folds = heldout_folds(table["suite"].to_numpy(), table["template"].to_numpy())
    train = _labels(cond, "injected", "clean")
    scores = heldout_scores(delta, train, folds, probe=probe)
    out = []
    for contrast, (pos, neg) in CONTRASTS.items():
        t = auc_by_layer(scores, _labels(cond, pos, neg), items, layers=layers, n_boot=n_boot)
        out.append(t.assign(task="task", seed=pd.NA, contrast=contrast))
    for seed in control_seeds:
        flipped = item_flipped_labels(train, items, random_state=seed)
        s = heldout_scores(delta, flipped, folds, probe=probe)
        t = auc_by_layer(s, flipped, items, layers=layers, n_boot=n_boot)
        out.append(t.assign(task="control", seed=seed, contrast="injected-clean"))
    cols = ["model", "task", "seed", "contrast", "layer", "metric", "value", "ci_low", "ci_high",
            "n_items", "n_boot"]
    return pd.concat(out, ignore_index=True).assign(model=model)[cols]


def run_probe(out, stimuli, lm, control_model_seed, probe="logistic"):
    from probing.models import reinitialize

    table = stimuli.table
    results = []
    for name, model in (("smollm2-135m", lm), ("control_model", None)):
        if model is None:
            if control_model_seed is None:
                continue
            model = reinitialize(lm, random_state=control_model_seed)
        t0 = time.time()
        delta, layers = deltas(model, stimuli)
        print(f"{name}: extracted {delta.shape} in {time.time() - t0:.0f} s", flush=True)
        np.save(out / f"delta_{name}.npy", delta.astype(np.float32))
        seeds = (0, 1, 2) if name == "smollm2-135m" else ()
        results.append(probe_tables(delta, table, layers, model=name, control_seeds=seeds,
                                    probe=_probe(probe)).assign(probe=probe))
        pd.concat(results).to_csv(out / "probe_auc.csv", index=False)
    return pd.concat(results, ignore_index=True)


def _probe(name):
    """``ridge``: the closed-form ridge classifier (alpha 1), else a probe name."""
    from probing.probes import RidgeClassifierProbe

    return RidgeClassifierProbe() if name == "ridge" else name


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


def run_causal(out, stimuli, lm, layer, direction, *, n_items, seed=0):
    """Preference (obey - follow) under no edit, the probe direction and a random one."""
    from probing.interventions import Intervention

    rows = continuation_stimuli(stimuli)
    keep = sorted({r["item_id"] for r in rows})[:n_items] if n_items else None
    rows = [r for r in rows if keep is None or r["item_id"] in keep]
    path = out / "continuations.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cont = read_dialogue_jsonl(path, name="task_drift_continuations")
    rng = np.random.default_rng(seed)
    random_dir = rng.normal(size=direction.shape)
    random_dir /= np.linalg.norm(random_dir)
    injected = cont.table.loc[cont.table["condition"] == "injected", "stimulus_id"].tolist()
    runs = {"none": None}
    for name, vec in (("probe_direction", direction), ("random_direction", random_dir)):
        iv = [Intervention(layer=int(layer), site="resid_post", positions="region:tool_1",
                           op="project_out", units=np.asarray(vec, dtype=np.float32)[None, :])]
        runs[name] = {sid: iv for sid in injected}
    frames = []
    for name, ivs in runs.items():
        t0 = time.time()
        sub = cont if ivs is None else _subset(cont, injected)
        lp = _reply_logprob(lm, sub, ivs).rename("logprob").reset_index()
        frames.append(lp.merge(cont.table[["stimulus_id", "item_id", "condition", "reply"]])
                      .assign(edit=name))
        print(f"causal {name}: {len(sub.table)} texts in {time.time() - t0:.0f} s", flush=True)
        pd.concat(frames).to_csv(out / "causal_logprobs.csv", index=False)
    return pd.concat(frames, ignore_index=True)


def summarize_causal(logprobs, *, n_boot=2000, seed=0):
    """Item-level preference (obey - follow, mean log-prob per token) and its changes.

    Rows: ``injection`` (injected minus clean, no edit), ``probe_direction`` and
    ``random_direction`` (edited minus unedited, injected conversations); percentile
    bootstrap intervals over items.
    """
    wide = logprobs.pivot_table(index=["item_id", "condition", "edit"], columns="reply",
                                values="logprob")
    pref = (wide["obey"] - wide["follow"]).rename("preference").reset_index()
    by = pref.pivot_table(index="item_id", columns=["condition", "edit"], values="preference")
    effects = {"injection": by[("injected", "none")] - by[("clean", "none")]}
    for edit in ("probe_direction", "random_direction"):
        if ("injected", edit) in by:
            effects[edit] = by[("injected", edit)] - by[("injected", "none")]
    rng = np.random.default_rng(seed)
    rows = []
    for name, values in effects.items():
        v = values.dropna().to_numpy()
        boot = rng.choice(v, size=(n_boot, len(v))).mean(axis=1)
        rows.append({"contrast": name, "metric": "preference_change", "effect": v.mean(),
                     "ci_low": np.quantile(boot, 0.025), "ci_high": np.quantile(boot, 0.975),
                     "n_items": len(v), "n_boot": n_boot})
    return pd.DataFrame(rows)


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
    parser.add_argument("--items-per-suite", type=int, default=10)
    parser.add_argument("--causal-items", type=int, default=0, help="0: all items")
    parser.add_argument("--control-model-seed", type=int, default=0)
    parser.add_argument("--no-control-model", action="store_true")
    parser.add_argument("--probe", default="logistic", choices=("logistic", "ridge"))
    args = parser.parse_args(argv)
    from probing.models import load_model

    args.out.mkdir(parents=True, exist_ok=True)
    stimuli = load_conversations(items_per_suite=args.items_per_suite)
    lm = load_model(MODEL)
    steps = args.steps.split(",")
    if "probe" in steps:
        run_probe(args.out, stimuli, lm, None if args.no_control_model else args.control_model_seed,
                  probe=args.probe)
    if "causal" in steps:
        auc = pd.read_csv(args.out / "probe_auc.csv")
        best = auc[(auc["model"] == "smollm2-135m") & (auc["task"] == "task")
                   & (auc["contrast"] == "injected-clean")].sort_values("value").iloc[-1]
        delta = np.load(args.out / "delta_smollm2-135m.npy")
        cond = stimuli.table["condition"].to_numpy()
        labels = _labels(cond, "injected", "clean")
        fit = ~np.isnan(labels)
        direction = linear_direction(delta[fit, int(best["layer"])], labels[fit],
                                     probe=_probe(args.probe))
        np.save(args.out / "probe_direction.npy", direction)
        table = run_causal(args.out, stimuli, lm, int(best["layer"]), direction,
                           n_items=args.causal_items)
        summarize_causal(table).assign(layer=int(best["layer"])).to_csv(
            args.out / "causal.csv", index=False)


if __name__ == "__main__":
    main()
