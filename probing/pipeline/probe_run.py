"""``probing probe``: controlled probing of one label on one model, into a run folder.

Stimuli come from a paradigm file (word-level labels from a ``labels`` paradigm, or a
column of the stimuli table for sentence-level labels). Their activations are extracted
at every requested layer from the model and from its control model (same architecture,
re-initialised weights); then, with one set of folds shared by everything:

- each probe's task accuracy and its control-task accuracy (Hewitt & Liang 2019) per
  layer and fold, and selectivity with intervals over control seeds;
- the same task sweep on the control model;
- a label-permutation test per layer for the closed-form linear probe, corrected
  across layers;
- MDL online codelengths (Voita & Titov 2020) per layer and probe.

Folds are grouped by sentence (``stimulus_id``) for word-level labels, as in Hewitt &
Liang: word types recur across train and test, which is what lets a control task be
learnt at all (with folds grouped by word type every test word is unseen, and a
control task is at chance by construction). Sentence-level labels group by item.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing._core.values import PROBES

# the declaration (options, prepare, run) is probing.pipeline.commands.probe; its names
# stay importable from here
from probing.pipeline.commands.probe import (
    COMMAND,
    ProbeOptions,
    prepare_probe,
    run_probe,
    run_probe_plan,
)
from probing.pipeline.extraction import build_segments, extract_activations
from probing.stimuli import Stimuli

__all__ = ["COMMAND", "PROBES", "ProbeOptions", "build_probe_targets", "labelled_stimuli",
           "limit_stimuli", "plot_probe_run", "prepare_probe", "run_probe", "run_probe_plan"]


def limit_stimuli(stimuli, limit):
    """The first ``limit`` stimuli (in table order) with their regions and words."""
    if limit is None or limit >= len(stimuli.table):
        return stimuli
    keep = stimuli.table["stimulus_id"].iloc[:limit]

    def subset(frame):
        return None if frame is None else frame[frame["stimulus_id"].isin(keep)].reset_index(
            drop=True)

    return dataclasses.replace(stimuli, table=stimuli.table.iloc[:limit].reset_index(drop=True),
                               regions=subset(stimuli.regions), words=subset(stimuli.words))


def build_probe_targets(stimuli, label):
    """Where a label lives: ``("word", words table)`` or ``("sentence", stimuli table)``.

    Parameters
    ----------
    stimuli : Stimuli
    label : str
        A column of the ``words`` table (word-level) or of the stimuli table.

    Returns
    -------
    level : {"word", "sentence"}
    table : pandas.DataFrame
        The rows that carry the label, without missing values.
    """
    if stimuli.words is not None and label in stimuli.words:
        level, table = "word", stimuli.words
    elif label in stimuli.table:
        level, table = "sentence", stimuli.table
    else:
        known = sorted(set(stimuli.table.columns) | set(
            () if stimuli.words is None else stimuli.words.columns))
        raise ProbingError(f"label {label!r}: not a column of {stimuli.paradigm}'s stimuli or "
                           f"words; columns: {known}")
    table = table[table[label].notna() & (table[label].astype(str) != "")]
    if table[label].nunique() < 2:
        raise ProbingError(f"label {label!r}: needs at least two classes; got "
                           f"{table[label].unique().tolist()}")
    return level, table


def _aligned_labels(acts, table, label, level):
    keys = ["stimulus_id", "word_index"] if level == "word" else ["stimulus_id"]
    merged = acts.index[keys].merge(table.assign(stimulus_id=table["stimulus_id"].astype(str))
                                    [[*keys, label]], on=keys, how="left")
    if merged[label].isna().any():
        raise ProbingError(f"label {label!r}: {int(merged[label].isna().sum())} activation rows "
                           f"have no label")
    return merged[label].astype(str).to_numpy()


def _groups(acts, stimuli, level):
    if level == "word":
        return acts.index["stimulus_id"].to_numpy()
    return stimuli.item_ids(acts.index["stimulus_id"])


def _analyse(acts, labels, folds, types, options, model_name):
    """Every table of one model's activations (scores, permutation test, MDL)."""
    from probing.probes import (
        control_task_layers,
        mdl_layers,
        permutation_test_layers,
        probe_layers,
    )

    common = {"cv": folds, "random_state": options.random_state, "n_jobs": options.n_jobs}
    scores = []
    for probe in options.probes:
        if types is None:
            scores.append(probe_layers(acts, labels, groups=None, probe=probe, **common))
        else:
            scores.append(control_task_layers(acts, labels, word_types=types, probe=probe,
                                              seeds=options.control_seeds, **common))
    tables = {"scores": pd.concat(scores, ignore_index=True)}
    tables["permutation"] = permutation_test_layers(
        acts, labels, groups=None, probe="ridge_classifier", n_perm=options.n_perm,
        correction=options.correction, **common)
    if options.mdl:
        tables["mdl"] = pd.concat([mdl_layers(acts, labels, probe=p, random_state=
                                              options.random_state, n_jobs=options.n_jobs)
                                   for p in options.probes], ignore_index=True)
    return {name: t.assign(model=model_name) for name, t in tables.items()}


def _control_model_scores(control_acts, labels, folds, options, model_name):
    from probing.probes import probe_layers

    return pd.concat([probe_layers(control_acts, labels, groups=None, cv=folds, probe=p,
                                   random_state=options.random_state, n_jobs=options.n_jobs)
                      for p in options.probes], ignore_index=True).assign(model=model_name)


def labelled_stimuli(stimuli, table, level):
    """The stimuli restricted to the words (or stimuli) that carry the label."""
    if level == "word":
        return dataclasses.replace(stimuli, words=table.reset_index(drop=True))
    keep = stimuli.table["stimulus_id"].isin(table["stimulus_id"])
    return Stimuli(stimuli.paradigm, stimuli.kind, stimuli.table[keep].reset_index(drop=True),
                   stimuli.regions[stimuli.regions["stimulus_id"].isin(table["stimulus_id"])],
                   None, stimuli.predictions, stimuli.info)


def plot_probe_run(tables, *, model, ax=None):
    """One panel per probe: task, control task and selectivity by layer (``model``, the
    trained model's name), the control model's task accuracy, and stars where the
    permutation test is significant after correction (linear probe)."""
    import matplotlib.pyplot as plt

    from probing.probes import plot_probe_layers

    scores = tables["scores"]
    probes = list(dict.fromkeys(scores["probe"]))
    if ax is None:
        _, ax = plt.subplots(1, len(probes), figsize=(6 * len(probes), 3.8), sharey=True,
                             squeeze=False)
        ax = ax[0]
    for axis, probe in zip(np.atleast_1d(ax), probes, strict=True):
        mine = scores[(scores["probe"] == probe) & (scores["model"] == model)]
        linear = tables["permutation"] if probe == "logistic" else None
        plot_probe_layers(mine, pvalues=linear, ax=axis)
        other = scores[(scores["probe"] == probe) & (scores["model"] != model)
                       & (scores["metric"] == "accuracy")]
        if len(other):
            curve = other.groupby("layer")["estimate"].mean()
            axis.plot(curve.index, curve.to_numpy(), "-.", color="C4",
                      label="re-initialised model (task)")
        axis.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.15),
                    ncol=3)
        axis.set_title(f"{probe} probe")
    return ax




def select_labelled(stimuli, options):
    """The stimuli (first ``options.limit``) restricted to those carrying the label.

    Checks the label and the pooling with no model.

    Returns
    -------
    stimuli : Stimuli
    table : pandas.DataFrame
        The rows that carry the label.
    level : {"word", "sentence"}
    """
    stimuli = limit_stimuli(stimuli, options.limit)
    level, table = build_probe_targets(stimuli, options.label)
    labelled = labelled_stimuli(stimuli, table, level)
    build_segments(labelled, pooling=options.pooling, level=level)
    return labelled, table, level


def fit_probes(stimuli, table, level, options, lm):
    """Extract, fit and test every probe; return ``(tables, figure, notes)``."""
    from probing.probes import build_folds, selectivity

    extract = {"layers": options.layers, "site": options.site, "level": level,
               "pooling": options.pooling, "batch_size": options.batch_size}
    acts = extract_activations(lm, stimuli, **extract)
    labels = _aligned_labels(acts, table, options.label, level)
    folds = build_folds(acts, labels, groups=_groups(acts, stimuli, level), cv=options.cv,
                        random_state=options.random_state)
    types = acts.index["word"].astype(str).str.lower().to_numpy() if level == "word" else None
    tables = _analyse(acts, labels, folds, types, options, lm.name)
    models = {"model": lm.provenance}
    if options.control_model_seed is not None:
        from probing.models import reinitialize

        control = reinitialize(lm, random_state=options.control_model_seed)
        control_acts = extract_activations(control, stimuli, **extract)
        tables["scores"] = pd.concat([tables["scores"], _control_model_scores(
            control_acts, labels, folds, options, control.name)], ignore_index=True)
        models["control_model"] = control.provenance
    if types is not None:
        trained = tables["scores"][tables["scores"]["model"] == lm.name]
        tables["selectivity"] = selectivity(trained).assign(model=lm.name)
    counts = pd.Series(labels).value_counts()
    tables["labels"] = pd.DataFrame({"label": counts.index, "n": counts.to_numpy()})
    figure = np.atleast_1d(plot_probe_run(tables, model=lm.name))[0].figure
    notes = {"model": models, "label": options.label, "level": level, "n_rows": len(labels),
             "n_folds": len(folds), "activations_key": acts.provenance["key"]}
    return tables, figure, notes
