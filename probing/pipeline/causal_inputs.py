"""Inputs of ``probing patch | mediate | ablate | lesion``: pairs and unit tables, checked
before any model loads (the options are declared in :mod:`probing.pipeline.causal_options`).

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

from pathlib import Path

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing._core.values import INTERVENTION_SITES

__all__ = ["build_pairs", "check_units_on_model", "identified", "load_unit_table",
           "region_positions"]

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
    table = check_unit_table(table, sites=INTERVENTION_SITES, name=f"--units {path}")
    negative = table[(table["unit"] < 0) | (table["layer"] < 0)]
    if len(negative):
        raise ProbingError(f"--units {path}: layer and unit must be >= 0; got layer "
                           f"{int(negative['layer'].iloc[0])}, unit {int(negative['unit'].iloc[0])}")
    return table[["layer", "site", "unit"]]


def check_units_on_model(units, shape, path):
    """Layer and unit ranges of a unit table against the model's shape."""
    from probing.causal import check_unit_table

    for site, group in units.groupby("site"):
        width = shape.width(site)
        check_unit_table(group, n_units=width, layers=list(shape.layer_range(site)),
                         name=f"--units {path} (site {site})")


#: Columns the vocabulary types as text that a paradigm may hold as numbers.
_TEXT_COLUMNS = ("item_id", "pair_id", "position", "phenomenon")


def identified(tables, *, model, paradigm):
    """Every table ending with ``model, paradigm``, its id columns as text (the vocabulary
    types ``item_id`` as ``str``; a paradigm's item numbers are read as integers)."""
    from probing._core.vocabulary import add_identity

    out = {}
    for name, frame in tables.items():
        text = {c: frame[c].astype(str) for c in _TEXT_COLUMNS
                if c in frame and frame[c].notna().all()}
        out[name] = add_identity(frame.assign(**text), model=model, paradigm=paradigm)
    return out
