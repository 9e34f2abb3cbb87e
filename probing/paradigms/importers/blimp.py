"""Read BLiMP minimal pairs, and build minimal-pair stimuli from any pair source.

BLiMP (Warstadt et al., 2020, TACL) ships one JSON-lines file per phenomenon, one pair
per line (``sentence_good``, ``sentence_bad``, ``UID``, ``pairID``, ``field``,
``linguistics_term``, ...). :func:`build_pair_stimuli` turns pairs into the minimal-pair
table contract of :mod:`probing.stimuli`; :func:`~probing.paradigms.importers.table.read_table_source`
uses it too, so both sources give the same shape.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from probing._core.errors import SpecError
from probing._core.words import word_spans
from probing.stimuli import PAIR_COLUMNS, REGION_COLUMNS, STIMULUS_COLUMNS, Stimuli

__all__ = ["build_pair_stimuli", "find_critical_spans", "read_blimp", "read_human_agreement"]

ROLES = ("good", "bad")
_REQUIRED = ("sentence_good", "sentence_bad", "UID", "pairID")
_EXTRA = ("field", "linguistics_term")
# The upstream repository keeps the paper's accuracies beside the data; it holds no pairs.
_NOT_PAIRS = frozenset({"models_summary.jsonl"})
#: The published human agreement per phenomenon, shipped beside the pairs (data/blimp/README.md).
HUMAN_AGREEMENT = "human_agreement.csv"


def read_blimp(paths, *, phenomena=None, limit_per_phenomenon=None, name="blimp"):
    """Read BLiMP JSON-lines files into minimal-pair stimuli.

    Parameters
    ----------
    paths : str, path-like or list of them
        A folder (every ``*.jsonl`` in it but ``models_summary.jsonl``), one file, or
        a list of files.
    phenomena : str or list of str, optional
        Keep only these UIDs (``"passive_1"``); all by default.
    limit_per_phenomenon : int, optional
        Keep the first ``n`` pairs (by ``pairID``) of each phenomenon.
    name : str
        Paradigm name of the result.

    Returns
    -------
    probing.stimuli.Stimuli
        Kind ``minimal_pairs``; two rows per pair, columns ``stimulus_id`` (``uid-pairID-role``),
        ``item_id`` (pairID), ``condition`` (= ``role``), ``text``, ``phenomenon``,
        ``pair_id``, ``role``, ``identical``, ``field``, ``linguistics_term``; regions
        ``sentence`` and ``critical`` (see :func:`build_pair_stimuli`).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> pair = {"sentence_good": "The cat sleeps.", "sentence_bad": "The cat sleep.",
    ...         "UID": "agr", "pairID": "0", "field": "morphology",
    ...         "linguistics_term": "agreement"}
    >>> _ = (d / "agr.jsonl").write_text(json.dumps(pair) + "\\n")
    >>> s = read_blimp(d)
    >>> s.table[["stimulus_id", "role", "identical"]].values.tolist()
    [['agr-0-good', 'good', False], ['agr-0-bad', 'bad', False]]
    >>> s.regions.loc[s.regions.region == "critical", ["char_start", "char_end"]].values.tolist()
    [[8, 15], [8, 14]]
    """
    records = _read_records(_pair_files(paths))
    pairs = pd.DataFrame(records, columns=["phenomenon", "item_id", "good", "bad", *_EXTRA])
    keep = _check_phenomena(phenomena, sorted(set(pairs["phenomenon"])), paths)
    pairs = pairs[pairs["phenomenon"].isin(keep)]
    if limit_per_phenomenon is not None:
        if not isinstance(limit_per_phenomenon, int) or limit_per_phenomenon < 1:
            raise SpecError(f"must be a positive integer, got {limit_per_phenomenon!r}",
                            field="limit_per_phenomenon")
        pairs = pairs.sort_values(["phenomenon", "item_id"], kind="stable")
        pairs = pairs.groupby("phenomenon", sort=False).head(limit_per_phenomenon)
    info = {"source": "blimp"}
    folder = Path(paths) if isinstance(paths, str | Path) and Path(paths).is_dir() else None
    if folder is not None and (folder / HUMAN_AGREEMENT).is_file():
        human = read_human_agreement(folder / HUMAN_AGREEMENT)
        info["human_agreement"] = {uid: human[uid] for uid in keep if uid in human}
    return build_pair_stimuli(pairs, paradigm=name, info=info)


def read_human_agreement(path):
    """BLiMP's published human agreement per phenomenon (Warstadt et al., 2020).

    Parameters
    ----------
    path : str or path-like
        ``human_validation_summary.csv`` of the BLiMP repository (shipped as
        ``data/blimp/human_agreement.csv``): ``Condition, accepted, total_mean, count``.

    Returns
    -------
    dict of str -> float
        UID -> ``total_mean``, the share of validation judgements that agreed with the
        phenomenon's labels.
    """
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise SpecError(f"{path}: cannot read the human agreement table ({err})") from err
    missing = [c for c in ("Condition", "total_mean") if c not in table]
    if missing:
        raise SpecError(f"{path}: column(s) {missing} missing; it has {list(table.columns)}")
    return dict(zip(table["Condition"].astype(str), table["total_mean"].astype(float), strict=True))


def build_pair_stimuli(pairs, *, paradigm, info=None):
    """Build minimal-pair stimuli (two rows per pair) with sentence and critical regions.

    Parameters
    ----------
    pairs : pandas.DataFrame
        One row per pair: ``phenomenon, item_id, good, bad``; any other column is
        copied onto both members. ``(phenomenon, item_id)`` must be unique.
    paradigm : str
        Paradigm name of the result.
    info : dict, optional
        Merged into the result's ``info`` (``n_identical`` and ``phenomena`` are added).

    Returns
    -------
    probing.stimuli.Stimuli
        Kind ``minimal_pairs``. Table columns ``stimulus_id`` (``phenomenon-item-role``),
        ``item_id``, ``condition`` (= ``role``), ``text``, ``phenomenon``, ``pair_id``
        (``phenomenon-item``), ``role`` (``good``/``bad``), ``identical`` (the two texts
        are the same string, so the pair cannot discriminate), then the extra columns;
        rows sorted by phenomenon and item, ``good`` first. Regions: ``sentence``
        (number 1, whole text) for every stimulus and ``critical`` (number 2, the span
        of :func:`find_critical_spans`) unless the pair is identical.

    Examples
    --------
    >>> pairs = pd.DataFrame({"phenomenon": ["agr"], "item_id": [0],
    ...                       "good": ["Dogs bark."], "bad": ["Dogs barks."]})
    >>> s = build_pair_stimuli(pairs, paradigm="demo")
    >>> s.table.stimulus_id.tolist(), s.info["n_identical"]
    (['agr-0-good', 'agr-0-bad'], 0)
    """
    pairs = pairs.sort_values(["phenomenon", "item_id"], kind="stable")
    extra = [c for c in pairs.columns if c not in ("phenomenon", "item_id", *ROLES)]
    rows, regions = [], []
    for pair in pairs.to_dict("records"):
        pair_id = f"{pair['phenomenon']}-{pair['item_id']}"
        identical = pair["good"] == pair["bad"]
        critical = find_critical_spans(pair["good"], pair["bad"])
        for role, span in zip(ROLES, critical, strict=True):
            sid, text = f"{pair_id}-{role}", pair[role]
            rows.append([sid, pair["item_id"], role, text, pair["phenomenon"], pair_id, role,
                         identical, *(pair[c] for c in extra)])
            regions.append([sid, "sentence", 1, 0, len(text)])
            if not identical:
                regions.append([sid, "critical", 2, *span])
    table = pd.DataFrame(rows, columns=[*STIMULUS_COLUMNS, *PAIR_COLUMNS, "identical", *extra])
    table["identical"] = table["identical"].astype(bool)
    info = {**(info or {}), "n_identical": int(table["identical"].sum() // 2),
            "phenomena": sorted(set(table["phenomenon"]))}
    return Stimuli(paradigm=paradigm, kind="minimal_pairs", table=table,
                   regions=pd.DataFrame(regions, columns=list(REGION_COLUMNS)), info=info)


def find_critical_spans(good, bad):
    """Character spans of the words where two sentences differ.

    Words are runs of non-space characters; the differing words are what remains after
    removing the longest common word prefix and then the longest common word suffix.
    A member with no differing word (one sentence only adds words) gets an empty span
    where its missing words would be; identical sentences get empty spans at the end.

    Parameters
    ----------
    good, bad : str
        The two members of a pair.

    Returns
    -------
    tuple of two (int, int)
        ``(char_start, char_end)`` into ``good`` and into ``bad``.

    Examples
    --------
    >>> find_critical_spans("I think that he left.", "I think he left.")
    ((8, 12), (8, 8))
    >>> find_critical_spans("The cat sleeps.", "The cats sleeps.")
    ((4, 7), (4, 8))
    """
    spans = [[(a, b) for _, a, b in word_spans(t)] for t in (good, bad)]
    words = [[t[a:b] for a, b in sp] for t, sp in zip((good, bad), spans, strict=True)]
    n = min(len(words[0]), len(words[1]))
    prefix = 0
    while prefix < n and words[0][prefix] == words[1][prefix]:
        prefix += 1
    suffix = 0
    while suffix < n - prefix and words[0][-1 - suffix] == words[1][-1 - suffix]:
        suffix += 1
    return tuple(_cover(t, sp, prefix, len(sp) - suffix) for t, sp in zip((good, bad), spans, strict=True))


def _cover(text, spans, first, stop):
    if first < stop:
        return spans[first][0], spans[stop - 1][1]
    at = spans[first][0] if first < len(spans) else len(text)
    return at, at


def _pair_files(paths):
    if isinstance(paths, (str, Path)) and Path(paths).is_dir():
        files = sorted(p for p in Path(paths).glob("*.jsonl") if p.name not in _NOT_PAIRS)
    elif isinstance(paths, (str, Path)):
        files = [Path(paths)]
    else:
        files = [Path(p) for p in paths]
    if not files:
        raise SpecError("no BLiMP *.jsonl files found", file=paths)
    for path in files:
        if not path.is_file():
            raise SpecError("no such file", file=path)
    return files


def _read_records(files):
    records, seen = [], {}
    for path in files:
        for line, rec in _read_jsonl(path):
            key = (rec["UID"], rec["pairID"])
            if key in seen:
                raise SpecError(f"pair {key[0]}-{key[1]} repeats (first at {seen[key]})",
                                file=path, field="pairID", line=line)
            seen[key] = f"{path}:{line}"
            records.append([rec["UID"], rec["pairID"], rec["sentence_good"],
                            rec["sentence_bad"], *(rec.get(c) for c in _EXTRA)])
    return records


def _read_jsonl(path):
    with open(path, encoding="utf-8") as fh:
        for line, raw in enumerate(fh, start=1):
            if raw.strip():
                yield line, _check_record(raw, path, line)


def _check_record(raw, path, line):
    try:
        rec = json.loads(raw)
    except json.JSONDecodeError as err:
        raise SpecError(f"not a JSON object ({err.msg})", file=path, line=line) from None
    if not isinstance(rec, dict):
        raise SpecError("not a JSON object", file=path, line=line)
    for key in _REQUIRED:
        if key not in rec:
            raise SpecError(f"missing; each line needs {list(_REQUIRED)}", file=path,
                            field=key, line=line)
    for key in ("sentence_good", "sentence_bad"):
        if not isinstance(rec[key], str) or not rec[key].strip():
            raise SpecError("must be a non-empty string", file=path, field=key, line=line)
    try:
        rec["pairID"] = int(rec["pairID"])
    except (TypeError, ValueError):
        raise SpecError(f"must be an integer, got {rec['pairID']!r}", file=path,
                        field="pairID", line=line) from None
    return rec


def _check_phenomena(phenomena, available, where):
    if phenomena is None:
        return available
    wanted = [phenomena] if isinstance(phenomena, str) else list(phenomena)
    unknown = [p for p in wanted if p not in available]
    if unknown:
        raise SpecError(f"unknown phenomena {unknown}; available: {', '.join(available)}",
                        file=where if isinstance(where, (str, Path)) else None,
                        field="phenomena")
    return wanted
