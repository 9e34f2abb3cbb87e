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

from probing._core.errors import ProbingError
from probing._core.io import atomic_folder, write_frame
from probing.paradigms import generate, load_paradigm
from probing.pipeline.extract import extract_activations
from probing.pipeline.manifest import build_manifest, now
from probing.pipeline.run import check_run_folder

__all__ = ["NUISANCE", "POOLINGS", "RESPONSES", "LocalizeOptions", "check_localize_inputs",
           "run_localize"]

POOLINGS = ("last", "mean", "words")
RESPONSES = ("raw", "absolute")
NUISANCE = ("n_tokens", "n_words", "n_chars")
_LAYERS = re.compile(r"^\s*(all|-?\d+(\s*,\s*-?\d+)*)\s*$")


@dataclasses.dataclass(frozen=True)
class LocalizeOptions:
    """Options of a localizer run; all of them are recorded in the manifest.

    ``pooling``: the last token, the mean over the text's tokens, or ``words`` (the mean
    over words of each word's mean token vector). ``responses``: ``raw`` activations or
    their ``absolute`` value. ``split``: the column whose two values halve the stimuli
    (``auto``: ``run`` when the paradigm has it, else alternate items).
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
    n_perm: int = 1000
    random_state: int = 0
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


def check_localize_inputs(paradigm_path, options):
    """Everything that can be checked without a model: paradigm, contrast, split.

    Returns
    -------
    stimuli : probing.stimuli.Stimuli
        The stimuli of the contrast's two conditions only.
    contrast : (str, str)
    halves : numpy.ndarray of str
        The half (``split`` value) of each stimulus, in table order.
    """
    from probing.localize import parse_contrast

    spec = load_paradigm(paradigm_path)
    stimuli = generate(spec, seed=options.seed)
    try:
        contrast = parse_contrast(options.contrast, stimuli.table["condition"])
    except ProbingError as err:
        raise ProbingError(f"{paradigm_path}: {err}") from None
    keep = stimuli.table["condition"].astype(str).isin(contrast)
    stimuli = _subset(stimuli, stimuli.table.loc[keep, "stimulus_id"])
    return stimuli, contrast, _halves(stimuli, options.split, paradigm_path)


def _subset(stimuli, ids):
    def rows(frame):
        if frame is None:
            return None
        return frame[frame["stimulus_id"].isin(set(ids))].reset_index(drop=True)

    return dataclasses.replace(stimuli, table=rows(stimuli.table), regions=rows(stimuli.regions),
                               words=rows(stimuli.words))


def _halves(stimuli, split, where):
    table = stimuli.table
    if split == "auto":
        split = "run" if "run" in table else "items"
    if split == "items":
        # alternate items (in sorted order) so both halves hold every condition of an item
        items = pd.Index(sorted(set(table["item_id"].astype(str))))
        half = items.get_indexer(table["item_id"].astype(str)) % 2
        return np.where(half == 0, "items_a", "items_b")
    if split not in table:
        raise ProbingError(f"{where}: split {split!r}: not a stimuli column; use items or one of "
                           f"{', '.join(c for c in table.columns if c not in ('text',))}")
    values = table[split].astype(str).to_numpy()
    if len(set(values)) != 2:
        raise ProbingError(f"{where}: split {split!r} must have exactly two values; it has "
                           f"{sorted(set(values))[:5]}")
    return np.array([f"{split}{v}" if not v.startswith(split) else v for v in values])


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


def _localize(responses, units, conditions, contrast, nuisance, options, rows=None):
    from probing.localize import localize_units

    rows = slice(None) if rows is None else rows
    return localize_units(
        responses[rows], units, conditions[rows], contrast, selection=options.selection,
        top_percent=options.top_percent, alpha=options.alpha, per_layer=options.per_layer,
        test=options.test, nuisance=None if nuisance.empty else nuisance[rows].reset_index(drop=True),
        alternative=options.alternative, n_perm=options.n_perm, random_state=options.random_state)


def run_localize(paradigm_path, lm, out, *, options=None, force=False, argv=None):
    """Localize the units of ``lm`` that respond to a contrast and write the run folder.

    Parameters
    ----------
    paradigm_path : str or path-like
        Any paradigm whose stimuli include the contrast's two conditions.
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
        contrast, selection``), ``layer_counts``, ``stimuli`` and ``response_choice`` (one
        row: the same selection on the other response transform, ``n_changed`` units).
    """
    from probing.localize import build_layer_counts, build_reliability, build_unit_responses

    options = options or LocalizeOptions()
    check_run_folder(out, force=force)
    started = now()
    stimuli, contrast, halves = check_localize_inputs(paradigm_path, options)
    nuisance, n_tokens = _nuisance(lm, stimuli, options.nuisance)
    acts = _activations(lm, stimuli, options)
    conditions = stimuli.table["condition"].astype(str).to_numpy()
    responses, units = build_unit_responses(acts, absolute=options.responses == "absolute")
    table = _localize(responses, units, conditions, contrast, nuisance, options)
    by_half = {h: _localize(responses, units, conditions, contrast, nuisance, options,
                            rows=halves == h) for h in sorted(set(halves))}
    label = f"{contrast[0]}-{contrast[1]}"
    extra = {"model": lm.name, "paradigm": stimuli.paradigm, "contrast": label}
    tables = {
        "units": table.assign(**extra),
        "units_by_half": pd.concat([t.assign(half=h, **extra) for h, t in by_half.items()],
                                   ignore_index=True),
        "reliability": build_reliability(by_half).assign(model=lm.name, contrast=label,
                                                         selection=options.selection),
        "layer_counts": build_layer_counts(table).assign(model=lm.name, contrast=label),
        "stimuli": stimuli.table.assign(n_tokens=n_tokens, half=halves),
    }
    seed = load_paradigm(paradigm_path).seed if options.seed is None else options.seed
    manifest = build_manifest(paradigm_path=paradigm_path, seed=seed,
                              options=dataclasses.asdict(options), model_provenance=lm.provenance,
                              started=started, argv=argv)
    manifest.update(_summary(tables, contrast, options, acts, stimuli))
    manifest["responses"] = _other_choice(acts, units, conditions, contrast, nuisance, options,
                                          table["selected"])
    tables["response_choice"] = pd.DataFrame([manifest["responses"]])
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
            "truncated_stimuli": [],  # whole texts only; longer than the context is an error
            "halves": sorted(set(tables["stimuli"]["half"])),
            "pooling": options.pooling}


def _other_choice(acts, units, conditions, contrast, nuisance, options, selected):
    """The same selection on the other response transform, and how many units it changes."""
    from probing.localize import build_unit_responses, compare_selections

    other = "raw" if options.responses == "absolute" else "absolute"
    responses, _ = build_unit_responses(acts, absolute=other == "absolute")
    table = _localize(responses, units, conditions, contrast, nuisance, options)
    diff = compare_selections(selected, table["selected"])
    return {"chosen": options.responses, "other": other, "n_selected_chosen": diff["n_selected_a"],
            "n_selected_other": diff["n_selected_b"], "n_both": diff["n_both"],
            "n_changed": diff["n_changed"], "dice": diff["dice"]}


def _write(out, tables, manifest):
    import matplotlib.pyplot as plt

    from probing.localize import plot_layer_counts, plot_unit_stats

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
        plt.close("all")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
