"""``probing localize``'s engine: a functional localizer for a model's units.

The stimuli of the contrast's two conditions are read from the paradigm, their pooled
activations extracted at every requested layer (through the activation cache, whole
texts: nothing is cut), and every unit tested with nilearn's OLS GLM (or Welch's test).
Units are selected on all stimuli (``units.csv``, the hand-off to lesion studies, which
measure on other paradigms), and again on each half of the stimuli (the localizer's two
runs) for the split-half reliability: Dice between the halves' selections and each
half's selection measured on the other half (``reliability.csv``), so no number is
measured on the data that selected it. The same selection on the other response
transform (absolute instead of raw, or the reverse) is reported in the manifest. The
command itself is declared in :mod:`probing.pipeline.commands.localize`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing._core.values import LOCALIZE_POOLINGS as POOLINGS
from probing._core.values import NUISANCE, RESPONSES
from probing.commands import Paradigm, Result, identify

# the declaration (options, prepare, run) is probing.pipeline.commands.localize; its
# names stay importable from here
from probing.pipeline.commands.localize import RECIPES, LocalizeOptions, run_localize
from probing.pipeline.extraction import extract_activations
from probing.pipeline.localize_inputs import (
    all_stimuli,
    build_profile,
    halve_stimuli,
    match_length,
    subset_stimuli,
    truncate_stimuli,
)
from probing.pipeline.sources import load_paradigm_value

__all__ = ["NUISANCE", "POOLINGS", "RECIPES", "RESPONSES", "LocalizeOptions",
           "check_localize_inputs", "compute_localize", "run_localize"]


def check_localize_inputs(paradigm, options):
    """Everything that can be checked without a model: paradigm, contrast, split.

    Parameters
    ----------
    paradigm : str, path-like or probing.commands.Paradigm
        A path is loaded and generated here (with ``options.seed``); a
        :class:`~probing.commands.Paradigm` is used as it is (never generated again).
    options : LocalizeOptions

    Returns
    -------
    stimuli : probing.stimuli.Stimuli
        The stimuli of the contrast's two conditions only.
    contrast : (str, str)
    halves : numpy.ndarray of str
        The half (``split`` value) of each stimulus, in table order.
    """
    from probing.localize import parse_contrast

    paradigm = _paradigm(paradigm, options)
    paradigm_path, stimuli = paradigm.path, paradigm.stimuli
    try:
        contrast = parse_contrast(options.contrast, stimuli.table["condition"])
    except ProbingError as err:
        raise ProbingError(f"{paradigm_path}: {err}") from None
    keep = stimuli.table["condition"].astype(str).isin(contrast)
    stimuli = subset_stimuli(stimuli, stimuli.table.loc[keep, "stimulus_id"])
    return stimuli, contrast, halve_stimuli(stimuli, options.split, paradigm_path)


def _paradigm(paradigm, options):
    """The one :class:`~probing.commands.Paradigm` value of a run (loaded here from a path)."""
    if isinstance(paradigm, Paradigm):
        return paradigm
    return load_paradigm_value(paradigm, seed=options.seed)


def _activations(lm, stimuli, options):
    from probing.localize import pool_words

    if options.pooling == "words":
        acts = extract_activations(lm, stimuli, layers=options.layers, site=options.site,
                                   pooling="mean", level="word", batch_size=options.batch_size)
        acts = pool_words(acts)
    else:
        acts = extract_activations(lm, stimuli, layers=options.layers, site=options.site,
                                   pooling=options.pooling, batch_size=options.batch_size)
    order = pd.Index(acts.index["stimulus_id"].astype(str))
    if not order.equals(pd.Index(stimuli.table["stimulus_id"].astype(str))):
        raise ProbingError("activations are not in stimulus order")  # a bug, not an input
    return acts


def _nuisance(lm, stimuli, names):
    from probing.models import context_length, encode_texts

    texts = stimuli.table["text"].tolist()
    n_tokens = np.array([len(e.token_ids) for e in encode_texts(lm.tokenizer, texts)])
    limit = context_length(lm)
    if limit is not None and (n_tokens + 2 > limit).any():
        raise ProbingError(f"{int((n_tokens + 2 > limit).sum())} stimuli are longer than the "
                           f"context window ({limit} tokens); localizer inputs are never cut")
    columns = {"n_tokens": n_tokens, "n_words": [len(t.split()) for t in texts],
               "n_chars": [len(t) for t in texts]}
    return pd.DataFrame({n: np.asarray(columns[n], dtype=float) for n in names}), n_tokens


def _rule(options):
    return {"selection": options.selection, "top_percent": options.top_percent,
            "alpha": options.alpha, "per_layer": options.per_layer, "test": options.test,
            "alternative": options.alternative}


def _localize(responses, units, conditions, contrast, nuisance, options, rows=None):
    from probing.localize import localize_units

    rows = slice(None) if rows is None else rows
    return localize_units(
        responses[rows], units, conditions[rows], contrast,
        nuisance=None if nuisance.empty else nuisance[rows].reset_index(drop=True),
        n_perm=options.n_perm, random_state=options.random_state, **_rule(options))


def _overlap_null(responses, units, conditions, contrast, nuisance, options, halves):
    from probing.localize import build_overlap_null

    if not options.n_perm_overlap:
        return None
    return build_overlap_null(responses, units, conditions, halves, contrast,
                              n_perm=options.n_perm_overlap, random_state=options.random_state,
                              nuisance=None if nuisance.empty else nuisance,
                              fwe_n_perm=options.n_perm, **_rule(options))


def compute_localize(paradigm, options, stimuli, contrast, halves, lm):
    """The localizer's tables, figures and manifest notes (the plan of ``prepare_localize``).

    Returns
    -------
    probing.commands.Result
        The tables of :func:`probing.pipeline.commands.localize.run_localize`.
    """
    from probing.localize import build_layer_counts, build_reliability, build_unit_responses

    stimuli, cut = truncate_stimuli(lm, stimuli, options.max_tokens)
    nuisance, n_tokens = _nuisance(lm, stimuli, options.nuisance)
    stimuli, halves, nuisance, n_tokens, length = match_length(stimuli, halves, nuisance,
                                                                n_tokens, contrast, options)
    everything, all_halves = (all_stimuli(paradigm, options) if options.profile
                              else (stimuli, halves))
    if options.profile:
        everything, _ = truncate_stimuli(lm, everything, options.max_tokens)
    rows = everything.table["stimulus_id"].isin(set(stimuli.table["stimulus_id"])).to_numpy()
    acts = _activations(lm, everything, options)
    conditions = stimuli.table["condition"].astype(str).to_numpy()
    all_responses, units = build_unit_responses(acts, absolute=options.responses == "absolute")
    responses = all_responses[rows]
    table = _localize(responses, units, conditions, contrast, nuisance, options)
    by_half = {h: _localize(responses, units, conditions, contrast, nuisance, options,
                            rows=halves == h) for h in sorted(set(halves))}
    null = _overlap_null(responses, units, conditions, contrast, nuisance, options, halves)
    label = {"contrast": f"{contrast[0]}-{contrast[1]}"}
    tables = {
        "units": table.assign(**label),
        "units_by_half": pd.concat([t.assign(half=h, **label) for h, t in by_half.items()],
                                   ignore_index=True),
        "reliability": build_reliability(by_half, null=null).assign(
            **label, selection=options.selection),
        "layer_counts": build_layer_counts(table).assign(**label),
    }
    choice = _other_choice(acts, rows, units, conditions, contrast, nuisance, options,
                           table["selected"])
    tables["response_choice"] = pd.DataFrame([choice])
    if null is not None:
        tables["overlap_null"] = null.assign(**label, selection=options.selection)
    if options.profile:
        tables["profile"] = build_profile(all_responses, everything, all_halves, by_half,
                                          options).assign(**label)
    name = stimuli.paradigm
    notes = {**_summary(tables, contrast, options, acts, stimuli, halves), "length": length,
             "truncated_stimuli": cut, "responses": choice}
    own = {"stimuli": stimuli.table.assign(n_tokens=n_tokens, half=halves)}
    return Result(tables=identify(tables, model=lm.name, paradigm=name),
                  paradigm_tables=identify(own, model=lm.name, paradigm=name),
                  figures=_figures(tables, notes, options), notes=notes)


def _summary(tables, contrast, options, acts, stimuli, halves):
    units = tables["units"]
    counts = tables["layer_counts"]
    return {"contrast": list(contrast), "activations_key": acts.provenance["key"],
            "n_stimuli": {c: int((stimuli.table["condition"] == c).sum()) for c in contrast},
            "n_units": len(units), "n_selected": int(units["selected"].sum()),
            "selected_per_layer": dict(zip(counts["layer"].astype(str),
                                           counts["n_selected"].astype(int).tolist(), strict=True)),
            "halves": sorted(set(halves)),
            "pooling": options.pooling}


def _other_choice(acts, rows, units, conditions, contrast, nuisance, options, selected):
    """The same selection on the other response transform, and how many units it changes."""
    from probing.localize import build_unit_responses, compare_selections

    other = "raw" if options.responses == "absolute" else "absolute"
    responses = build_unit_responses(acts, absolute=other == "absolute")[0][rows]
    table = _localize(responses, units, conditions, contrast, nuisance, options)
    diff = compare_selections(selected, table["selected"])
    return {"chosen": options.responses, "other": other, "n_selected_chosen": diff["n_selected_a"],
            "n_selected_other": diff["n_selected_b"], "n_both": diff["n_both"],
            "n_changed": diff["n_changed"], "dice": diff["dice"]}


def _figures(tables, notes, options):
    from probing.localize import plot_layer_counts, plot_response_profile, plot_unit_stats

    label = "-".join(notes["contrast"])
    figures = {
        "selected_per_layer": plot_layer_counts(
            tables["layer_counts"], title=f"{notes['n_selected']} units selected for {label} "
            f"({options.selection})").figure,
        "unit_stats": plot_unit_stats(tables["units"],
                                      title=f"t of {label} by layer and unit").figure}
    if "profile" in tables:
        figures["profile"] = plot_response_profile(
            tables["profile"], title=f"held-out response of the {label} units").figure
    return figures
