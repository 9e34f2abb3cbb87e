"""Source monitoring in a chat: who said the sentence, read from its last token.

``paradigms/source_monitoring_speaker.yaml`` has each item's sentence (``The {thing} is
{quality}.``) said by the user, by the assistant or returned by a tool, rendered with the
model's chat template. The ``resid_post`` state at the sentence's last token (the final
full stop, the last message's last character, extracted at word level with last-token
pooling) is read at every layer, then:

``probe``
    a linear probe per layer and pair of speakers (user vs assistant, user vs tool,
    assistant vs tool), tested on held-out items (5 folds of whole items: a test item's
    sentence is never seen in training), ROC AUC with item-bootstrap intervals
    (:func:`probing.probes.auc_by_layer`, ``n_items`` written); control tasks (speakers
    swapped within items, :func:`probing.probes.heldout.item_flipped_labels`) and the
    re-initialised model.
``rsa``
    per layer, the correlation-distance RDM of the 3 x n_items states against a speaker
    model RDM (same speaker 0, else 1) and a content RDM (same item, i.e. same sentence,
    0, else 1), Spearman, permutation p (Holm over layers and models) and an interval
    resampling items (:func:`probing.rsa.rsa_layers`).

Usage::

    nice -n 10 python benchmarks/source_monitoring.py docs/results/source_monitoring
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from probing.probes.heldout import auc_by_layer, heldout_folds, heldout_scores, item_flipped_labels

PARADIGM = Path(__file__).resolve().parents[1] / "paradigms" / "source_monitoring_speaker.yaml"
MODEL = "smollm2-135m"
SPEAKERS = ("user", "assistant", "tool")
CONTRASTS = {f"{a}-{b}": (a, b) for i, a in enumerate(SPEAKERS) for b in SPEAKERS[i + 1:]}
N_FOLDS = 5


def load_stimuli(n_items=None):
    """The dialogues with one word each: the last character of the last message (the
    sentence's full stop)."""
    from probing.paradigms import generate, load_paradigm

    stimuli = generate(load_paradigm(PARADIGM))
    table = stimuli.table
    if n_items is not None:
        table = table[table["item_id"].astype(int) <= n_items].reset_index(drop=True)
    keep = set(table["stimulus_id"])
    messages = stimuli.messages[stimuli.messages["stimulus_id"].isin(keep)]
    last = messages.sort_values("message_index").groupby("stimulus_id", sort=False).tail(1)
    last = last.set_index("stimulus_id").loc[table["stimulus_id"]]
    words = pd.DataFrame({"stimulus_id": table["stimulus_id"].to_numpy(), "word_index": 0,
                          "word": ".", "char_start": last["char_end"].to_numpy() - 1,
                          "char_end": last["char_end"].to_numpy()})
    regions = stimuli.regions[stimuli.regions["stimulus_id"].isin(keep)].reset_index(drop=True)
    return dataclasses.replace(stimuli, table=table, regions=regions, words=words,
                               messages=messages.reset_index(drop=True))


def sentence_states(lm, stimuli):
    """(n_stimuli, n_layers, width) states at the sentence's last token, table order."""
    from probing.pipeline.extraction import extract_activations

    acts = extract_activations(lm, stimuli, layers="all", pooling="last", level="word",
                               batch_size=8, cache=False)
    order = {s: i for i, s in enumerate(acts.index["stimulus_id"])}
    rows = [order[s] for s in stimuli.table["stimulus_id"]]
    return np.asarray(acts.values, dtype=np.float64)[rows], list(acts.layers)


def _labels(speaker, positive, negative):
    return np.where(speaker == positive, 1.0, np.where(speaker == negative, 0.0, np.nan))


def probe_tables(states, table, layers, *, model, control_seeds=(0, 1, 2), n_boot=2000):
    """AUC by layer and pair of speakers (task and control tasks) for one model."""
    from probing.probes import RidgeClassifierProbe

    speaker = table["speaker"].to_numpy()
    items = table["item_id"].astype(str).to_numpy()
    folds = heldout_folds(table["item_id"].astype(int).to_numpy() % N_FOLDS)
    out = []
    for contrast, (pos, neg) in CONTRASTS.items():
        labels = _labels(speaker, pos, neg)
        scores = heldout_scores(states, labels, folds, probe=RidgeClassifierProbe())
        t = auc_by_layer(scores, labels, items, layers=layers, n_boot=n_boot)
        out.append(t.assign(task="task", seed=pd.NA, contrast=contrast))
        for seed in control_seeds:
            flipped = item_flipped_labels(labels, items, random_state=seed)
            s = heldout_scores(states, flipped, folds, probe=RidgeClassifierProbe())
            t = auc_by_layer(s, flipped, items, layers=layers, n_boot=n_boot)
            out.append(t.assign(task="control", seed=seed, contrast=contrast))
    cols = ["model", "task", "seed", "contrast", "layer", "metric", "estimate", "ci_low",
            "ci_high", "n_items", "n_boot"]
    return pd.concat(out, ignore_index=True).assign(model=model)[cols]


def rsa_table(states, table, layers, *, n_perm=1000, n_boot=1000):
    """Speaker and content model RDMs against each layer's RDM (:func:`rsa_layers`)."""
    from probing.rsa import build_model_rdm, rsa_layers

    design = table.assign(content=table["item_id"].astype(str))
    models = {"speaker": build_model_rdm(design, factor="speaker"),
              "content": build_model_rdm(design, factor="content")}
    return rsa_layers(states, models, stimulus_ids=table["stimulus_id"].to_numpy(),
                      layers=layers, n_perm=n_perm, bootstrap="stimuli",
                      groups=design["content"].to_numpy(), n_boot=n_boot, random_state=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n-items", type=int, default=None, help="default: all 40")
    parser.add_argument("--control-model-seed", type=int, default=0)
    args = parser.parse_args(argv)
    from probing.models import load_model, reinitialize

    args.out.mkdir(parents=True, exist_ok=True)
    started, load = time.time(), os.getloadavg()
    stimuli = load_stimuli(args.n_items)
    lm = load_model(MODEL)
    probes, timings = [], {}
    for name in (MODEL, "control_model"):
        model = lm if name == MODEL else reinitialize(lm, random_state=args.control_model_seed)
        t0 = time.time()
        states, layers = sentence_states(model, stimuli)
        timings[f"extract_{name}_s"] = round(time.time() - t0, 1)
        seeds = (0, 1, 2) if name == MODEL else ()
        probes.append(probe_tables(states, stimuli.table, layers, model=name,
                                   control_seeds=seeds))
        if name == MODEL:
            t0 = time.time()
            rsa_table(states, stimuli.table, layers).to_csv(args.out / "rsa.csv", index=False,
                                                            float_format="%.6g")
            timings["rsa_s"] = round(time.time() - t0, 1)
    pd.concat(probes, ignore_index=True).to_csv(args.out / "probe_auc.csv", index=False,
                                                float_format="%.6g")
    run = {"model": "SmolLM2-135M-Instruct quantised to 4 bits (GGUF Q4_1, de-quantised to "
                    "float32 on load)", "paradigm": PARADIGM.name,
           "n_stimuli": len(stimuli.table), "n_items": int(stimuli.table["item_id"].nunique()),
           "probe": "ridge classifier (alpha 1), 5 folds of whole items",
           "chat_template_rendering": stimuli_rendering(lm, stimuli),
           "wall_s": round(time.time() - started, 1), **timings,
           "load_average_at_start": [round(x, 2) for x in load],
           "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
           "command": "nice -n 10 python benchmarks/source_monitoring.py " + str(args.out)}
    (args.out / "run.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(run, indent=2))


def stimuli_rendering(lm, stimuli):
    """One rendered dialogue of each speaker, as the model saw it."""
    from probing.models.chat import render_for_model

    rendered = render_for_model(stimuli, lm).table
    return {s: rendered.loc[rendered["speaker"] == s, "text"].iat[0] for s in SPEAKERS}


if __name__ == "__main__":
    main()
