"""``probing fresh-vs-published``: one model on published and freshly generated items.

A shipped mapping (``paradigms/fresh_vs_published.csv``: ``phenomenon, fresh_paradigm,
conditions, match, note``) pairs BLiMP phenomena with generated paradigms of the same
phenomenon. Both sets are scored the same way (summed log-probabilities, BLiMP's rule)
and compared by :func:`probing.alignment.fresh.compare_fresh_published`. Every input
(mapping, BLiMP folder, paradigm files, conditions) is read and checked before the model
loads.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from probing._core.errors import ProbingError
from probing._core.vocabulary import add_identity, table_columns
from probing.alignment.fresh import compare_fresh_published
from probing.behaviour import build_pairs, build_sentence_scores
from probing.paradigms import generate, load_paradigm
from probing.paradigms.importers import read_blimp
from probing.pipeline._loading import resolve_model
from probing.pipeline.manifest import build_manifest, now
from probing.pipeline.run import check_run_folder, write_run_folder

__all__ = ["MAPPING_COLUMNS", "load_fresh_mapping", "run_fresh_published"]

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


def run_fresh_published(lm, out, *, mapping_path, blimp_dir, paradigm_dir, seed=None,
                        limit_per_phenomenon=None, batch_size=32, ties="incorrect",
                        correction="holm", force=False, argv=None):
    """Score published (BLiMP) and fresh pairs of each mapped phenomenon; write the folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``fresh_vs_published`` (see :func:`compare_fresh_published`), ``pairs_published``
        and ``pairs_fresh`` (the pairs tables, with ``phenomenon`` the BLiMP UID).
    """
    out = Path(out)
    check_run_folder(out, force=force)
    started = now()
    mapping = load_fresh_mapping(mapping_path)
    published = read_blimp(blimp_dir, phenomena=list(mapping["phenomenon"]),
                           limit_per_phenomenon=limit_per_phenomenon, name="blimp")
    fresh = _fresh_stimuli(mapping, paradigm_dir, seed)
    lm = resolve_model(lm)
    pub_pairs = _scored_pairs(lm, published, batch_size, ties)
    fresh_pairs = pd.concat([_scored_pairs(lm, s, batch_size, ties).assign(phenomenon=uid)
                             for uid, s in fresh.items()], ignore_index=True)
    to_paradigm = dict(zip(mapping["phenomenon"], mapping["fresh_paradigm"], strict=True))
    both = pd.concat([pub_pairs.assign(item_set="published"),
                      fresh_pairs.assign(item_set="fresh")], ignore_index=True)
    table = compare_fresh_published(both.assign(fresh_paradigm=both["phenomenon"].map(to_paradigm)),
                                    correction=correction)
    tables = {"fresh_vs_published": table[table_columns("fresh_vs_published")],
              "pairs_published": pub_pairs, "pairs_fresh": fresh_pairs}
    tables = {k: add_identity(v, model=lm.name, paradigm=NAME) for k, v in tables.items()}
    manifest = build_manifest(paradigm_path=mapping_path, seed=seed,
                              options={"batch_size": batch_size, "ties": ties,
                                       "correction": correction, "reduction": "sum",
                                       "limit_per_phenomenon": limit_per_phenomenon},
                              model_provenance=lm.provenance, started=started, argv=argv)
    manifest["notes"] = {"mapping": mapping.to_dict("records"), "blimp_dir": str(blimp_dir)}
    write_run_folder(out, tables, manifest)
    return tables
