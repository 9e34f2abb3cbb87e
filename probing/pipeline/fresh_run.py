"""``probing fresh-vs-published``: one model on published and freshly generated items.

A shipped mapping (``paradigms/fresh_vs_published.csv``: ``phenomenon, fresh_paradigm,
conditions, match, note``) pairs BLiMP phenomena with generated paradigms of the same
phenomenon. Both sets are scored the same way (summed log-probabilities, BLiMP's rule)
and compared by :func:`probing.alignment.fresh_vs_published.compare_fresh_published`. Every input
(mapping, BLiMP folder, paradigm files, conditions) is read and checked before the model
loads. The command is declared in :mod:`probing.pipeline.commands.fresh`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from probing._core.errors import ProbingError
from probing._core.vocabulary import table_columns
from probing.alignment.fresh_vs_published import compare_fresh_published
from probing.behaviour import build_pairs, build_sentence_scores
from probing.commands import Result, identify
from probing.paradigms import generate, load_paradigm
from probing.paradigms.importers import read_blimp

# the declaration (options, prepare, run) is probing.pipeline.commands.fresh
from probing.pipeline.commands.fresh import FreshOptions, run_fresh

__all__ = ["MAPPING_COLUMNS", "FreshOptions", "FreshPlan", "fresh_result", "load_fresh_mapping",
           "prepare_fresh", "run_fresh", "run_fresh_published"]

MAPPING_COLUMNS = ("phenomenon", "fresh_paradigm", "conditions", "match", "note")
NAME = "fresh_vs_published"


def load_fresh_mapping(path):
    """The mapping table, checked: columns present, one row per BLiMP phenomenon."""
    try:
        mapping = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as err:
        raise ProbingError(f"{path}: cannot read the mapping ({err})") from err
    missing = [c for c in MAPPING_COLUMNS[:2] if c not in mapping]
    if missing:
        raise ProbingError(f"{path}: column(s) {missing} missing; it has {list(mapping.columns)}")
    if mapping.empty:
        raise ProbingError(f"{path}: the mapping has no rows")
    dup = mapping["phenomenon"].duplicated()
    if dup.any():
        line = int(dup.to_numpy().nonzero()[0][0]) + 2
        raise ProbingError(f"{path}:{line}: phenomenon {mapping['phenomenon'][dup].iloc[0]!r} "
                           "repeats")
    return mapping.reindex(columns=list(MAPPING_COLUMNS), fill_value="")


def _fresh_stimuli(mapping, paradigm_dir, seed):
    """Generated stimuli per mapping row, kept to the listed conditions."""
    out = {}
    for line, row in enumerate(mapping.itertuples(index=False), start=2):
        path = Path(paradigm_dir) / f"{row.fresh_paradigm}.yaml"
        if not path.is_file():
            raise ProbingError(f"mapping line {line}: fresh_paradigm {row.fresh_paradigm!r}: "
                               f"no file {path}")
        stimuli = generate(load_paradigm(path), seed=seed)
        if stimuli.kind != "minimal_pairs":
            raise ProbingError(f"mapping line {line}: {row.fresh_paradigm} is {stimuli.kind}, "
                               "not minimal_pairs")
        conditions = row.conditions.split()
        if conditions:
            unknown = sorted(set(conditions) - set(stimuli.table["condition"]))
            if unknown:
                raise ProbingError(f"mapping line {line}: conditions {unknown} are not conditions "
                                   f"of {row.fresh_paradigm} "
                                   f"({sorted(set(stimuli.table['condition']))})")
            pairs = stimuli.table.loc[stimuli.table["condition"].isin(conditions), "pair_id"]
            keep = stimuli.table["pair_id"].isin(set(pairs))
            stimuli = dataclasses.replace(stimuli, table=stimuli.table[keep].reset_index(drop=True))
        out[row.phenomenon] = stimuli
    return out


def _scored_pairs(lm, stimuli, batch_size, ties):
    from probing.models import score_tokens

    tokens = score_tokens(lm, stimuli.table[["stimulus_id", "text"]], batch_size=batch_size)
    return build_pairs(build_sentence_scores(tokens), stimuli.table, ties=ties)


@dataclasses.dataclass(frozen=True)
class FreshPlan:
    """The checked mapping, the published and the fresh stimuli; ``source`` is the mapping."""

    source: Path
    mapping: pd.DataFrame
    published: object
    fresh: dict
    blimp_dir: Path
    options: FreshOptions


def _shipped_folder():
    from probing.paradigms import shipped_paradigms

    return shipped_paradigms()[0].parent


def prepare_fresh(options):
    """Mapping, BLiMP folder, paradigm files and conditions read and checked; no model."""
    paradigm_dir = options.paradigms or _shipped_folder()
    blimp_dir = options.blimp or Path(paradigm_dir).parent / "data" / "blimp"
    source = options.mapping or _shipped_folder() / "fresh_vs_published.csv"
    mapping = load_fresh_mapping(source)
    published = read_blimp(blimp_dir, phenomena=list(mapping["phenomenon"]),
                           limit_per_phenomenon=options.limit, name="blimp")
    fresh = _fresh_stimuli(mapping, paradigm_dir, options.seed)
    return FreshPlan(Path(source), mapping, published, fresh, Path(blimp_dir), options)


def fresh_result(plan, lm):
    """Both sets scored and compared: tables ``fresh_vs_published``, ``pairs_published``,
    ``pairs_fresh``."""
    options = plan.options
    pub_pairs = _scored_pairs(lm, plan.published, options.batch_size, options.ties)
    fresh_pairs = pd.concat([_scored_pairs(lm, s, options.batch_size, options.ties)
                             .assign(phenomenon=uid) for uid, s in plan.fresh.items()],
                            ignore_index=True)
    mapping = plan.mapping
    to_paradigm = dict(zip(mapping["phenomenon"], mapping["fresh_paradigm"], strict=True))
    both = pd.concat([pub_pairs.assign(item_set="published"),
                      fresh_pairs.assign(item_set="fresh")], ignore_index=True)
    table = compare_fresh_published(both.assign(fresh_paradigm=both["phenomenon"].map(to_paradigm)),
                                    correction=options.correction)
    tables = {"fresh_vs_published": table[table_columns("fresh_vs_published")],
              "pairs_published": pub_pairs, "pairs_fresh": fresh_pairs}
    notes = {"notes": {"mapping": mapping.to_dict("records"), "blimp_dir": str(plan.blimp_dir)}}
    return Result(tables=identify(tables, model=lm.name, paradigm=NAME), notes=notes)


def run_fresh_published(lm, out, *, mapping_path, blimp_dir, paradigm_dir, seed=None,
                        limit_per_phenomenon=None, batch_size=32, ties="incorrect",
                        correction="holm", force=False, argv=None):
    """Score published (BLiMP) and fresh pairs of each mapped phenomenon; write the folder.

    The keyword form of :func:`probing.pipeline.commands.fresh.run_fresh`.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``fresh_vs_published`` (see :func:`compare_fresh_published`), ``pairs_published``
        and ``pairs_fresh`` (the pairs tables, with ``phenomenon`` the BLiMP UID).
    """
    options = FreshOptions(mapping=Path(mapping_path), blimp=Path(blimp_dir),
                           paradigms=Path(paradigm_dir), seed=seed, limit=limit_per_phenomenon,
                           batch_size=batch_size, ties=ties, correction=correction)
    return run_fresh(lm, out, options=options, force=force, argv=argv)
