"""Read human data: sentence ratings and word-by-word reading times.

``ratings``: one sentence per row; roles ``text`` and ``rating`` (``item_id`` and
``context`` optional). With ``context`` (the text read before the sentence when it was
rated) the stimulus ``text`` is the context, its words joined by single spaces (Lau et al.
separate the sentences of a context with tabs), a space, then the sentence; the regions
table has a ``context`` region and a ``sentence`` region, so the sentence is scored given
its context and only its own tokens are summed. A row with an empty context is the
sentence alone.
``reading_times``: one word per row; roles ``item_id`` (the text), ``word_position``
(the word's place in it, e.g. Natural Stories ``zone``), ``word`` and ``time``. Each text
becomes one stimulus, its words joined by single spaces in ``word_position`` order, so
each data word is exactly one whitespace-delimited word of the scored text (punctuation
stays with its word, as the data has it); the ``words`` table keeps the data's own
``item_id`` and ``word_position`` and the reading time ``rt``. With the optional role
``subject`` (per-subject times, as in Natural Stories' ``processed_RTs.tsv``: ``WorkerId``)
each row is one subject's time on one word: the ``words`` table holds one row per word
and subject (with ``subject``), every subject must read a position as the same word, and
the analyses fit crossed random intercepts by subject and by word. The roles were called
``item`` and ``position`` before; those keys still work for one release, with a
:class:`FutureWarning` naming the file and the field (a warning meant for the author of
a paradigm file, which Python shows by default, unlike a ``DeprecationWarning``); the
paradigm loader names the paradigm file and ``source.columns.<role>``.

Every problem names the file, the line and the mapped column.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from probing._core.errors import SpecError
from probing.paradigms.importers.roles import renamed_roles
from probing.paradigms.importers.table import _check_unique, _infer_sep, _items, _read_rows
from probing.stimuli import REGION_COLUMNS, STIMULUS_COLUMNS, WORD_COLUMNS, Stimuli

__all__ = ["HUMAN_ROLES", "read_human_source"]

HUMAN_ROLES = {"ratings": (("text", "rating"), ("item_id", "context")),
               "reading_times": (("item_id", "word_position", "word", "time"), ("subject",))}
# old role -> new role, per kind; the old keys work (with a warning) until the next release


def _check_roles(path, kind, columns):
    required, optional = HUMAN_ROLES[kind]
    missing = [role for role in required if role not in columns]
    if missing:
        raise SpecError(f"must map the roles {list(required)} for kind {kind!r}; missing "
                        f"{missing}", file=path, field="source.columns")
    unknown = [role for role in columns if role not in required + optional]
    if unknown:
        raise SpecError(f"unknown role(s) {unknown} for kind {kind!r}; allowed "
                        f"{list(required + optional)}", file=path, field="source.columns")


def _numbers(values, lines, path, column, *, integer=False):
    out = []
    for line, value in zip(lines, values, strict=True):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or (integer and number != int(number)):
            what = "an integer" if integer else "a finite number"
            raise SpecError(f"{value!r} is not {what}", file=path, field=column, line=line)
        out.append(int(number) if integer else number)
    return out


def read_human_source(path, *, kind, columns, sep=None, name=None):
    """Read a ratings or reading-times table into :class:`~probing.stimuli.Stimuli`.

    Parameters
    ----------
    path : str or path-like
        CSV or TSV with a header row.
    kind : {"ratings", "reading_times"}
    columns : dict of str to str
        Role -> the file's column name.
    sep : str, optional
        Inferred from the suffix by default.
    name : str, optional
        Paradigm name (stimulus-id prefix); the file stem by default.

    Returns
    -------
    Stimuli
        Ratings: ``table`` with ``rating``; reading times: one stimulus per text and a
        ``words`` table (``item_id, word_position, rt``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rt.tsv"
    >>> _ = path.write_text("w\\tz\\ti\\tms\\nDogs\\t1\\t1\\t300\\nbark.\\t2\\t1\\t320\\n")
    >>> s = read_human_source(path, kind="reading_times",
    ...     columns={"word": "w", "word_position": "z", "item_id": "i", "time": "ms"})
    >>> s.table["text"].tolist(), s.words["rt"].tolist()
    (['Dogs bark.'], [300.0, 320.0])
    """
    path = Path(path)
    name = name or path.stem
    columns = renamed_roles(path, kind, columns, stacklevel=2)
    _check_roles(path, kind, columns)
    lines, frame = _read_rows(path, sep or _infer_sep(path), columns)
    if not lines:
        raise SpecError("no data rows", file=path)
    if kind == "ratings":
        return _ratings(frame, lines, path, name, columns)
    return _reading_times(frame, lines, path, name, columns)


def _ratings(frame, lines, path, name, columns):
    for line, text in zip(lines, frame["text"], strict=True):
        if not text.strip():
            raise SpecError("empty sentence", file=path, field=columns["text"], line=line)
    ratings = _numbers(frame["rating"], lines, path, columns["rating"])
    items = _items(frame["item_id"] if "item_id" in frame else pd.Series(range(len(frame))))
    ids = [f"{name}-{i}" for i in items]
    _check_unique(ids, lines, path, "item_id", columns.get("item_id", "item_id"))
    sentences = frame["text"].str.strip()
    contexts = (frame["context"].map(lambda c: " ".join(c.split())) if "context" in frame
                else pd.Series("", index=frame.index))
    starts = contexts.str.len() + (contexts != "")  # the sentence starts after "context "
    texts = (contexts + (contexts != "").map({True: " ", False: ""}) + sentences).to_numpy()
    table = pd.DataFrame(dict(zip(STIMULUS_COLUMNS, (ids, items.to_numpy(), "rated", texts),
                                  strict=True)))
    table["rating"] = ratings
    if "context" in frame:
        table["context"] = contexts.to_numpy()
    regions = _rating_regions(ids, contexts.str.len().to_numpy(), starts.to_numpy(),
                              table["text"].str.len().to_numpy())
    return Stimuli(paradigm=name, kind="ratings", table=table, regions=regions,
                   info={"source": "table", "file": path.name})


def _rating_regions(ids, context_ends, starts, ends):
    """A ``context`` region where there is one, and the ``sentence`` region of every row."""
    rows = []
    for sid, c_end, start, end in zip(ids, context_ends, starts, ends, strict=True):
        if c_end > 0:
            rows.append((sid, "context", 1, 0, int(c_end)))
        rows.append((sid, "sentence", 1 + int(c_end > 0), int(start), int(end)))
    return pd.DataFrame(rows, columns=list(REGION_COLUMNS))


def _check_words(frame, lines, path, columns):
    for line, word in zip(lines, frame["word"], strict=True):
        if not word.strip() or any(ch.isspace() for ch in word.strip()):
            raise SpecError(f"word {word!r} cannot be aligned to a text: a word must be "
                            "non-empty and hold no whitespace", file=path,
                            field=columns["word"], line=line)


def _subjects(frame, lines, path, columns):
    """Per-subject rows: one word per position across subjects, one time per subject."""
    subject = frame["subject"].str.strip()
    for line, value in zip(lines, subject, strict=True):
        if not value:
            raise SpecError("empty subject", file=path, field=columns["subject"], line=line)
    frame = frame.assign(subject=subject)
    _check_unique(list(zip(frame["item_id"], frame["word_position"], frame["subject"],
                           strict=True)), lines, path, "(item_id, word_position, subject)",
                  columns["subject"])
    differs = frame.groupby(["item_id", "word_position"])["word"].transform("nunique") > 1
    if differs.any():
        line = frame.loc[differs, "_line"].iloc[0]
        raise SpecError("subjects disagree on the word at this (item_id, word_position)",
                        file=path, field=columns["word"], line=line)
    return frame


def _reading_times(frame, lines, path, name, columns):
    _check_words(frame, lines, path, columns)
    keys = ["item_id", "word_position"]
    frame = frame.assign(word_position=_numbers(frame["word_position"], lines, path,
                                                columns["word_position"], integer=True),
                         rt=_numbers(frame["time"], lines, path, columns["time"]),
                         item_id=_items(frame["item_id"]), word=frame["word"].str.strip(),
                         _line=lines)
    per_subject = "subject" in frame
    if per_subject:
        frame = _subjects(frame, lines, path, columns)
    else:
        _check_unique(list(zip(frame["item_id"], frame["word_position"], strict=True)), lines,
                      path, "(item_id, word_position)", columns["word_position"])
    times = frame[[*keys, "rt", "subject"] if per_subject else [*keys, "rt"]]
    frame = frame.drop_duplicates(keys)
    stimuli, words = [], []
    for item, group in frame.sort_values(keys, kind="stable").groupby("item_id", sort=True):
        sid = f"{name}-{item}"
        starts = [0]
        for word in group["word"].iloc[:-1]:
            starts.append(starts[-1] + len(word) + 1)
        stimuli.append((sid, item, "text", " ".join(group["word"])))
        words.append(pd.DataFrame({
            "stimulus_id": sid, "word_index": range(len(group)), "word": group["word"].to_numpy(),
            "char_start": starts, "char_end": [s + len(w) for s, w in zip(
                starts, group["word"], strict=True)],
            "item_id": item, "word_position": group["word_position"].to_numpy()}))
    table = pd.DataFrame(stimuli, columns=list(STIMULUS_COLUMNS))
    regions = pd.DataFrame({"stimulus_id": table["stimulus_id"], "region": "text",
                            "region_number": 1, "char_start": 0,
                            "char_end": table["text"].str.len()}, columns=list(REGION_COLUMNS))
    word_table = pd.concat(words, ignore_index=True).merge(times, on=keys, how="left")
    word_table = word_table.sort_values(["stimulus_id", "word_index"], kind="stable",
                                        ignore_index=True)
    extra = ["subject"] if per_subject else []
    return Stimuli(paradigm=name, kind="reading_times", table=table, regions=regions,
                   words=word_table[[*WORD_COLUMNS, *keys, "rt", *extra]],
                   info={"source": "table", "file": path.name})
