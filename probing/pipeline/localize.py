"""``probing localize``: a functional localizer for a model's units, into a run folder.

The stimuli of the contrast's two conditions are read from the paradigm, their pooled
activations extracted at every requested layer (through the activation cache, whole
texts: nothing is cut), and every unit tested with nilearn's OLS GLM (or Welch's test).
Units are selected on all stimuli (``units.csv``, the hand-off to lesion studies, which
measure on other paradigms), and again on each half of the stimuli (the localizer's two
runs) for the split-half reliability: Dice between the halves' selections and each
half's selection measured on the other half (``reliability.csv``), so no number is
measured on the data that selected it. The same selection on the other response
transform (absolute instead of raw, or the reverse) is reported in the manifest.
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pandas as pd

from probing._core.defaults import N_PERM, RANDOM_STATE
from probing._core.errors import ProbingError
from probing._core.io import atomic_folder, write_frame
from probing.commands import Paradigm
from probing.pipeline.extract import extract_activations
from probing.pipeline.localize_inputs import (
    all_stimuli,
    build_profile,
    halve_stimuli,
    match_length,
    subset_stimuli,
    truncate_stimuli,
)
from probing.pipeline.manifest import build_manifest, now
from probing.pipeline.run import check_run_folder
from probing.pipeline.sources import load_paradigm_value

__all__ = ["NUISANCE", "POOLINGS", "RECIPES", "RESPONSES", "LocalizeOptions",
           "check_localize_inputs", "run_localize"]

POOLINGS = ("last", "mean", "words")
RESPONSES = ("raw", "absolute")
NUISANCE = ("n_tokens", "n_words", "n_chars")
#: Option presets: ``alkhamissi`` is the LLM language-localizer recipe of AlKhamissi et
#: al. (2025): absolute responses, Welch's t, the top 1%, texts cut to 12 tokens.
RECIPES = {"alkhamissi": {"responses": "absolute", "test": "welch", "selection": "top",
                          "top_percent": 1.0, "max_tokens": 12, "nuisance": ()}}
_LAYERS = re.compile(r"^\s*(all|-?\d+(\s*,\s*-?\d+)*)\s*$")


@dataclasses.dataclass(frozen=True)
class LocalizeOptions:
    """Options of a localizer run; all of them are recorded in the manifest.

    ``pooling``: the last token, the mean over the text's tokens, or ``words`` (the mean
    over words of each word's mean token vector). ``responses``: ``raw`` activations or
    their ``absolute`` value. ``split``: the column whose two values halve the stimuli
    (``auto``: ``run`` when the paradigm has it, else alternate items).
    ``n_perm_overlap``: label shuffles of the split-half overlap's permutation test
    (each reruns the whole selection in both halves; 0 skips the test). ``profile``:
    also extract every other condition of the paradigm and measure each half's
    selection on all conditions of the other half (``profile.csv``). ``match_length``:
    keep only stimuli whose token count has a partner of the other condition in the same
    half (:func:`probing.localize.select_length_matched`). ``max_tokens``: cut each
    text after its first ``max_tokens`` tokens (0: whole texts, the default; see
    :data:`RECIPES`), recorded in the manifest's ``truncated_stimuli``.
    """

    contrast: str = "sentences-nonwords"
    layers: str = "all"
    site: str = "resid_post"
    pooling: str = "last"
    responses: str = "raw"
    test: str = "glm"
    nuisance: tuple = ()
    selection: str = "top"
    top_percent: float = 1.0
    alpha: float = 0.05
    per_layer: bool = False
    alternative: str = "greater"
    split: str = "auto"
    n_perm: int = N_PERM
    n_perm_overlap: int = 200
    profile: bool = False
    match_length: bool = False
    max_tokens: int = 0
    random_state: int = RANDOM_STATE
    batch_size: int = 32
    seed: int | None = None

    def __post_init__(self):
        from probing.localize import ALTERNATIVES, SELECTIONS, TESTS

        allowed = {"pooling": POOLINGS, "responses": RESPONSES, "test": TESTS,
                   "selection": SELECTIONS, "alternative": ALTERNATIVES,
                   "site": ("resid_post", "mlp_out", "attn_out")}
        for name, values in allowed.items():
            if getattr(self, name) not in values:
                raise ProbingError(f"{name} {getattr(self, name)!r}: allowed {', '.join(values)}")
        unknown = [n for n in self.nuisance if n not in NUISANCE]
        if unknown:
            raise ProbingError(f"nuisance {unknown}: allowed {', '.join(NUISANCE)}")
        if self.nuisance and self.test == "welch":
            raise ProbingError("nuisance regressors need test 'glm' (Welch's test takes none)")
        if self.selection == "fwe" and self.test != "glm":
            raise ProbingError("selection 'fwe' permutes the GLM; use test 'glm'")
        if not _LAYERS.match(str(self.layers)):
            raise ProbingError(f"layers must be 'all' or integers like 0,6,-1; got {self.layers!r}")
        if not 0 < self.top_percent <= 100 or not 0 < self.alpha < 1:
            raise ProbingError(f"need 0 < top_percent <= 100 and 0 < alpha < 1; got "
                               f"{self.top_percent}, {self.alpha}")
        if self.n_perm < 1 or self.batch_size < 1:
            raise ProbingError(f"n_perm and batch_size must be >= 1; got {self.n_perm}, "
                               f"{self.batch_size}")
        if self.max_tokens < 0 or (self.max_tokens and self.pooling == "words"):
            raise ProbingError(f"max_tokens must be >= 0 (0: whole texts) and cannot be "
                               f"combined with pooling 'words'; got {self.max_tokens}, "
                               f"{self.pooling!r}")
        if self.n_perm_overlap < 0:
            raise ProbingError(f"n_perm_overlap must be >= 0 (0: no overlap test); got "
                               f"{self.n_perm_overlap}")


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


def run_localize(paradigm, lm, out, *, options=None, force=False, argv=None):
    """Localize the units of ``lm`` that respond to a contrast and write the run folder.

    Parameters
    ----------
    paradigm : str, path-like or probing.commands.Paradigm
        Any paradigm whose stimuli include the contrast's two conditions; loaded and
        generated once (a Paradigm value is used as it is).
    lm : probing.models.LanguageModel
    out : str or path-like
        Run folder to create.
    options : LocalizeOptions, optional
    force : bool
        Replace an existing run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``units`` (:data:`probing.localize.UNITS_COLUMNS` plus ``model, paradigm,
        contrast``), ``units_by_half`` (the same per half, column ``half``),
        ``reliability`` (:data:`probing.localize.RELIABILITY_COLUMNS` plus ``model,
        contrast, selection``), ``layer_counts``, ``stimuli``, ``response_choice`` (one
        row: the same selection on the other response transform, ``n_changed`` units),
        ``overlap_null`` (unless ``n_perm_overlap`` is 0) and ``profile``
        (:data:`probing.localize.PROFILE_COLUMNS` plus ``model, contrast``; with
        ``options.profile``).
    """
    from probing.localize import build_layer_counts, build_reliability, build_unit_responses

    options = options or LocalizeOptions()
    check_run_folder(out, force=force)
    started = now()
    paradigm = _paradigm(paradigm, options)
    stimuli, contrast, halves = check_localize_inputs(paradigm, options)
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
    label = f"{contrast[0]}-{contrast[1]}"
    extra = {"model": lm.name, "paradigm": stimuli.paradigm, "contrast": label}
    tables = {
        "units": table.assign(**extra),
        "units_by_half": pd.concat([t.assign(half=h, **extra) for h, t in by_half.items()],
                                   ignore_index=True),
        "reliability": build_reliability(by_half, null=null).assign(
            model=lm.name, contrast=label, selection=options.selection),
        "layer_counts": build_layer_counts(table).assign(model=lm.name, contrast=label),
        "stimuli": stimuli.table.assign(n_tokens=n_tokens, half=halves),
    }
    manifest = build_manifest(paradigm_path=paradigm.path, seed=paradigm.seed,
                              options=dataclasses.asdict(options), model_provenance=lm.provenance,
                              started=started, argv=argv)
    manifest.update(_summary(tables, contrast, options, acts, stimuli))
    manifest["length"] = length
    manifest["truncated_stimuli"] = cut
    manifest["responses"] = _other_choice(acts, rows, units, conditions, contrast, nuisance,
                                          options, table["selected"])
    if options.profile:
        tables["profile"] = build_profile(all_responses, everything, all_halves, by_half,
                                     options).assign(model=lm.name, contrast=label)
    tables["response_choice"] = pd.DataFrame([manifest["responses"]])
    if null is not None:
        tables["overlap_null"] = null.assign(model=lm.name, contrast=label,
                                             selection=options.selection)
    _write(out, tables, manifest)
    return tables


def _summary(tables, contrast, options, acts, stimuli):
    units = tables["units"]
    counts = tables["layer_counts"]
    return {"contrast": list(contrast), "activations_key": acts.provenance["key"],
            "n_stimuli": {c: int((stimuli.table["condition"] == c).sum()) for c in contrast},
            "n_units": len(units), "n_selected": int(units["selected"].sum()),
            "selected_per_layer": dict(zip(counts["layer"].astype(str),
                                           counts["n_selected"].astype(int).tolist(), strict=True)),
            "halves": sorted(set(tables["stimuli"]["half"])),
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


def _write(out, tables, manifest):
    import matplotlib.pyplot as plt

    from probing.localize import plot_layer_counts, plot_response_profile, plot_unit_stats

    with atomic_folder(out) as tmp:
        for name, frame in tables.items():
            write_frame(frame, tmp / f"{name}.csv", ".csv")
        label = "-".join(manifest["contrast"])
        ax = plot_layer_counts(tables["layer_counts"],
                               title=f"{manifest['n_selected']} units selected for {label} "
                               f"({manifest['options']['selection']})")
        ax.figure.savefig(tmp / "selected_per_layer.png", dpi=120, bbox_inches="tight")
        ax = plot_unit_stats(tables["units"], title=f"t of {label} by layer and unit")
        ax.figure.savefig(tmp / "unit_stats.png", dpi=120, bbox_inches="tight")
        if "profile" in tables:
            ax = plot_response_profile(tables["profile"],
                                       title=f"held-out response of the {label} units")
            ax.figure.savefig(tmp / "profile.png", dpi=120, bbox_inches="tight")
        plt.close("all")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
