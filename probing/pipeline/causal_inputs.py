"""Inputs of ``probing patch | mediate | ablate``: options, pairs and unit tables, checked
before any model loads.

Pairs. A minimal-pair paradigm's own pairs differ only in the critical word (``The
author near the cars smiles`` / ``smile``): every position before it is the same in both
members, so patching there can have no effect. To ask where a feature of an earlier word
is carried, ``contrast=FACTOR`` pairs instead the grammatical members of the two levels
of a two-level factor within an item (the other factors held): source = first level
(``sg``), target = second level (``pl``). Without a contrast the source is the good
member and the target the bad one.

Positions. ``positions="regions"`` (the default when the paradigm has regions) reports
one position per region: the region's last token (``region_token="first"``: its first),
found in each member on its own and aligned through the words
(:mod:`probing.pipeline.causal_pairs`), labelled ``<region_number>:<region>``, and the
answer position ``<n>:answer`` (the input that predicts the first differing token of the
last differing word, region ``n``); ``"tokens"`` keeps token indices.

Read-outs. ``readout="sentence"`` sums each member's log-probability over the sentence
(members must split every word alike); ``"logit_diff"`` reads the good minus the bad
answer token's logit at the answer position, so members of unequal length are usable.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from probing._core.defaults import N_BOOT, RANDOM_STATE
from probing._core.errors import ProbingError
from probing._core.values import READOUTS
from probing.pipeline.sources import load_source

__all__ = ["CausalOptions", "build_pairs", "check_layers", "load_unit_table", "region_positions"]

SITES = ("resid_pre", "resid_post", "attn_out", "mlp_out", "head_out")
DIRECTIONS = ("denoising", "noising", "both")
MEDIATORS = ("heads", "layers", "units")
POSITIONS = ("regions", "tokens")
OPS = ("zero", "mean")
REGION_TOKENS = ("last", "first")


@dataclasses.dataclass(frozen=True)
class CausalOptions:
    """Options of ``probing patch | mediate | ablate``; all are recorded in the manifest.

    ``limit`` keeps the first N pairs (patch, mediate) or items (ablate) in stimulus
    order. ``split`` (mediate) is the fraction of items the top mediators are selected
    on; their joint effect is measured on the other items (1: the same items, biased). ``n_sets`` random unit sets matched per (layer, site) form the ablation null.
    ``region`` (with ``positions="regions"``) sweeps only that region's position: a
    per-unit mediation sweep costs one patched copy per unit, layer and position.
    """

    layers: str = "all"
    site: str = "resid_post"
    per_head: bool = False
    direction: str = "denoising"
    contrast: str | None = None
    positions: str = "regions"
    region: str | None = None
    mediators: str = "heads"
    top_k: int = 5
    op: str = "zero"
    n_sets: int = 100
    limit: int | None = None
    n_boot: int = N_BOOT
    random_state: int = RANDOM_STATE
    batch_size: int = 16
    seed: int | None = None
    readout: str = "sentence"
    region_token: str = "last"
    split: float = 0.5

    def __post_init__(self):
        for name, allowed in (("site", SITES), ("direction", DIRECTIONS),
                              ("positions", POSITIONS), ("mediators", MEDIATORS), ("op", OPS),
                              ("readout", READOUTS), ("region_token", REGION_TOKENS)):
            if getattr(self, name) not in allowed:
                raise ProbingError(f"--{name.replace('_', '-')} {getattr(self, name)!r}: allowed "
                                   f"{', '.join(allowed)}")
        if self.region is not None and self.positions != "regions":
            raise ProbingError(f"--region {self.region}: needs --positions regions")
        if self.per_head and self.site != "head_out":
            raise ProbingError(f"--per-head needs --site head_out; got --site {self.site}")
        for name in ("top_k", "n_sets", "batch_size"):
            if getattr(self, name) < 1:
                raise ProbingError(f"--{name.replace('_', '-')} must be >= 1, got "
                                   f"{getattr(self, name)}")
        if self.limit is not None and self.limit < 1:
            raise ProbingError(f"--limit must be >= 1, got {self.limit}")
        if not 0 < self.split <= 1:
            raise ProbingError(f"--split must be in (0, 1] (the fraction of items that "
                               f"select the top mediators), got {self.split}")
        if self.n_boot < 1:
            raise ProbingError(f"--n-boot must be >= 1, got {self.n_boot}")
        check_layers(self.layers)


def check_layers(layers):
    """``all`` or comma-separated integers (their range is checked on the model's shape)."""
    text = str(layers).strip()
    parts = [p.strip() for p in text.split(",")]
    if text != "all" and not all(p.lstrip("-").isdigit() for p in parts):
        raise ProbingError(f"--layers {layers!r}: allowed 'all' or integers like 0,6,-1")


def resolve_layers(layers, allowed):
    """Layer numbers from ``--layers`` within ``allowed`` (a range from the model's shape)."""
    allowed = list(allowed)
    if str(layers).strip() == "all":
        return allowed
    out = []
    for part in str(layers).split(","):
        value = int(part)
        value = allowed[-1] + 1 + value if value < 0 else value
        if value not in allowed:
            raise ProbingError(f"--layers {layers!r}: layer {part.strip()} is out of range; "
                               f"allowed {allowed[0]}..{allowed[-1]} for this model and site")
        out.append(value)
    return sorted(set(out))


@dataclasses.dataclass(frozen=True)
class SourceInfo:
    """What a causal run records of its stimuli's source: the paradigm name and seed."""

    name: str
    seed: int | None


def load_stimuli(paradigm_path, options, *, kinds=("minimal_pairs",), command="patch"):
    """The source's name and seed, and its stimuli (a paradigm file or a stimuli table);
    the kind must be one ``command`` reads."""
    stimuli, seed = load_source(paradigm_path, seed=options.seed)
    if stimuli.kind not in kinds:
        raise ProbingError(f"{paradigm_path}: kind: is {stimuli.kind!r}; probing {command} "
                           f"needs kind: {' or '.join(kinds)}")
    return SourceInfo(stimuli.paradigm, seed), stimuli


def build_pairs(stimuli, *, contrast=None, limit=None, name="paradigm"):
    """The source/target pairs (see the module docstring), in stimulus order.

    Returns
    -------
    pandas.DataFrame
        ``pair_id, item_id, phenomenon, source_id, target_id, source, target``.
    """
    table = stimuli.table
    if contrast is None:
        pairs = _member_pairs(table)
    else:
        pairs = _contrast_pairs(table, stimuli, contrast, name)
    if pairs.empty:
        raise ProbingError(f"{name}: no pairs to patch (every pair is identical?)")
    return pairs.head(limit).reset_index(drop=True) if limit else pairs


def _member_pairs(table):
    keep = table[~table.get("identical", pd.Series(False, index=table.index)).astype(bool)]
    good = keep[keep["role"] == "good"].set_index("pair_id")
    bad = keep[keep["role"] == "bad"].set_index("pair_id")
    ids = [p for p in good.index if p in bad.index]
    return pd.DataFrame({"pair_id": ids, "item_id": good.loc[ids, "item_id"].to_numpy(),
                         "phenomenon": good.loc[ids, "phenomenon"].to_numpy(),
                         "source_id": good.loc[ids, "stimulus_id"].to_numpy(),
                         "target_id": bad.loc[ids, "stimulus_id"].to_numpy(),
                         "source": good.loc[ids, "text"].to_numpy(),
                         "target": bad.loc[ids, "text"].to_numpy()})


def _contrast_pairs(table, stimuli, contrast, name):
    factors = [f for f in (stimuli.factors or []) if f in table.columns]
    if contrast not in factors:
        raise ProbingError(f"--contrast {contrast!r}: {name} has factor(s) "
                           f"{sorted(factors) or 'none'}")
    levels = list(pd.unique(table[contrast]))  # in design order (sg before pl)
    if len(levels) != 2:
        raise ProbingError(f"--contrast {contrast!r}: needs a factor with 2 levels, it has "
                           f"{levels}")
    good = table[table["role"] == "good"] if "role" in table else table
    held = ["item_id", *[f for f in factors if f != contrast]]
    rows = []
    for key, group in good.groupby(held, sort=False):
        by_level = group.set_index(contrast)
        if not set(levels) <= set(by_level.index):
            continue
        a, b = by_level.loc[levels[0]], by_level.loc[levels[1]]
        key = key if isinstance(key, tuple) else (key,)
        rows.append({"pair_id": "-".join(str(k) for k in key) + f"-{levels[0]}>{levels[1]}",
                     "item_id": a["item_id"], "phenomenon": a.get("phenomenon", name),
                     "source_id": a["stimulus_id"], "target_id": b["stimulus_id"],
                     "source": a["text"], "target": b["text"]})
    return pd.DataFrame(rows)


def region_positions(pairs, regions, spans):
    """``pair_id, position, label``: each region's last token in the target member.

    ``spans``: per pair, the target's token spans ``[(start, end), ...]``; a token belongs
    to the region holding its first character (region surprisal's rule).
    """
    rows = []
    by_stimulus = {sid: g for sid, g in regions.groupby("stimulus_id", sort=False)}
    for pid, sid, token_spans in zip(pairs["pair_id"], pairs["target_id"], spans, strict=True):
        starts = np.array([s for s, _ in token_spans])
        for region in by_stimulus[sid].itertuples(index=False):
            inside = np.flatnonzero((starts >= region.char_start) & (starts < region.char_end))
            if inside.size:
                rows.append((pid, int(inside[-1]),
                             f"{int(region.region_number)}:{region.region}"))
    return pd.DataFrame(rows, columns=["pair_id", "position", "label"])


def load_unit_table(path):
    """A unit table file (``layer, site, unit``; only ``selected`` rows when it has one).

    The ranges that depend on the model (a unit below the site's width, a layer that
    exists) are checked as soon as the model's shape is known, before any forward pass.
    """
    from probing.causal import check_unit_table

    path = Path(path)
    if not path.is_file():
        raise ProbingError(f"--units {path}: no such file")
    try:
        table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise ProbingError(f"--units {path}: cannot read it as a table ({err})") from None
    if "selected" in table.columns:
        chosen = table["selected"].astype(str).str.lower().isin(["true", "1", "1.0", "yes"])
        table = table[chosen.to_numpy()]
    table = check_unit_table(table, sites=SITES, name=f"--units {path}")
    negative = table[(table["unit"] < 0) | (table["layer"] < 0)]
    if len(negative):
        raise ProbingError(f"--units {path}: layer and unit must be >= 0; got layer "
                           f"{int(negative['layer'].iloc[0])}, unit {int(negative['unit'].iloc[0])}")
    return table[["layer", "site", "unit"]]


def shape_before_loading(lm):
    """The model's shape from its configuration when ``lm`` is a loader that names it.

    A loader with a ``model_name`` attribute (the CLI's) names an alias, ``.gguf`` file
    or folder whose configuration is read without the weights
    (:func:`probing.models.config_shape.config_shape`); anything else gives None and the
    options are checked on the loaded model, before any forward pass.
    """
    name = getattr(lm, "model_name", None)
    if name is None or hasattr(lm, "provenance"):
        return None
    from probing.models.config_shape import config_shape

    return config_shape(name)


def check_units_on_model(units, shape, path):
    """Layer and unit ranges of a unit table against the model's shape."""
    from probing.causal import check_unit_table

    for site, group in units.groupby("site"):
        width = shape.width(site)
        check_unit_table(group, n_units=width, layers=list(shape.layer_range(site)),
                         name=f"--units {path} (site {site})")
