"""Stimuli of a localizer run beyond the contrast: length matching, truncation, profile.

Helpers of :mod:`probing.pipeline.localize_run` (the run itself lives there): the
length-matched subset of the contrast's stimuli, texts cut to their first ``max_tokens``
tokens (the AlKhamissi et al. recipe), and every condition of the paradigm for the
held-out response profile.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError

__all__ = ["all_stimuli", "build_profile", "halve_stimuli", "match_length", "subset_stimuli",
           "truncate_stimuli"]


def subset_stimuli(stimuli, ids):
    """The stimuli (and their regions and words) whose ``stimulus_id`` is in ``ids``."""
    def rows(frame):
        if frame is None:
            return None
        return frame[frame["stimulus_id"].isin(set(ids))].reset_index(drop=True)

    return dataclasses.replace(stimuli, table=rows(stimuli.table), regions=rows(stimuli.regions),
                               words=rows(stimuli.words))


def halve_stimuli(stimuli, split, where):
    """The half of each stimulus: a column with two values, or alternate items (``items``)."""
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


def truncate_stimuli(lm, stimuli, max_tokens):
    """Cut every text after its first ``max_tokens`` tokens (possibly inside a word).

    Returns the stimuli (regions dropped: they no longer fit the texts) and the ids of
    the stimuli that were cut; ``max_tokens=0`` cuts nothing.
    """
    from probing.models import encode_texts

    if not max_tokens:
        return stimuli, []
    encoded = encode_texts(lm.tokenizer, stimuli.table["text"].tolist())
    texts, cut = [], []
    for sid, text, enc in zip(stimuli.table["stimulus_id"], stimuli.table["text"], encoded,
                              strict=True):
        if len(enc.token_ids) > max_tokens:
            text = text[:enc.spans[max_tokens - 1][1]]
            cut.append(str(sid))
        texts.append(text)
    regions = stimuli.regions.iloc[:0]
    table = stimuli.table.assign(text=texts)
    return dataclasses.replace(stimuli, table=table, regions=regions, words=None), cut


def match_length(stimuli, halves, nuisance, n_tokens, contrast, options):
    """Token count against condition, and the length-matched subset when asked for."""
    from probing.localize import compute_length_correlation, select_length_matched

    conditions = stimuli.table["condition"].astype(str).to_numpy()
    summary = {"match_length": options.match_length,
               "r_condition_n_tokens": compute_length_correlation(n_tokens, conditions, contrast),
               "mean_n_tokens": {c: float(n_tokens[conditions == c].mean()) for c in contrast}}
    if not options.match_length:
        return stimuli, halves, nuisance, n_tokens, summary
    keep = select_length_matched(n_tokens, conditions, contrast, groups=halves)
    for half in sorted(set(halves)):
        kept = int((keep & (halves == half)).sum()) // 2
        if kept < 2:
            raise ProbingError(f"match_length: half {str(half)!r} keeps {kept} stimuli per "
                               f"condition "
                               f"(need 2): the conditions barely overlap in token count")
    summary.update(n_kept={c: int((keep & (conditions == c)).sum()) for c in contrast},
                   n_dropped=int((~keep).sum()),
                   r_condition_n_tokens_kept=compute_length_correlation(
                       n_tokens[keep], conditions[keep], contrast))
    stimuli = subset_stimuli(stimuli, stimuli.table.loc[keep, "stimulus_id"])
    nuisance = nuisance if nuisance.empty else nuisance[keep].reset_index(drop=True)
    return stimuli, halves[keep], nuisance, n_tokens[keep], summary


def all_stimuli(paradigm, options):
    """Every condition of the paradigm (a :class:`~probing.commands.Paradigm`, generated
    once), halved by the same rule as the contrast's stimuli."""
    return paradigm.stimuli, halve_stimuli(paradigm.stimuli, options.split, paradigm.path)


def build_profile(responses, everything, halves, by_half, options):
    from probing.localize import build_response_profile

    selections = {h: t["selected"].to_numpy(bool) for h, t in by_half.items()}
    return build_response_profile(responses, everything.table["condition"].astype(str), halves,
                                  selections, random_state=options.random_state)
