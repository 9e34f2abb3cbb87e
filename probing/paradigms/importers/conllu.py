"""Read CoNLL-U treebanks into word-labelled stimuli with exact character spans.

CoNLL-U (https://universaldependencies.org/format.html): one token per line with ten
tab-separated columns ``ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC``; lines
starting with ``#`` are comments (``# sent_id = ...``, ``# text = ...``); a blank line
ends a sentence. IDs are integers (syntactic words), ranges ``3-4`` (a multiword token
such as *don't* whose words are *do* and *n't*) or decimals ``8.1`` (empty nodes of the
enhanced graph, which have no surface form and are skipped here).

We parse the format ourselves rather than depend on the ``conllu`` package: the format
is a few lines of code to read, and the one thing we need that a generic parser does
not give, exact character spans of each word in ``# text``, needs the raw token lines
(multiword ranges and their ``SpaceAfter``) anyway.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from probing._core.errors import SpecError
from probing.stimuli import REGION_COLUMNS, STIMULUS_COLUMNS, WORD_COLUMNS, Stimuli

__all__ = ["read_conllu"]

COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
LABEL_FIELDS = COLUMNS[2:]
_WORD_ID = re.compile(r"[1-9][0-9]*")
_RANGE_ID = re.compile(r"([1-9][0-9]*)-([1-9][0-9]*)")
_EMPTY_ID = re.compile(r"[0-9]+\.[1-9][0-9]*")


def read_conllu(path, *, limit=None, fields=("upos", "xpos", "deprel", "feats", "lemma", "head"),
                name=None):
    """Read sentences and word labels from a CoNLL-U file.

    Parameters
    ----------
    path : str or path-like
        The ``.conllu`` file.
    limit : int, optional
        Read only the first ``limit`` sentences.
    fields : sequence of str
        Label columns to keep, from ``lemma, upos, xpos, feats, head, deprel, deps, misc``.
    name : str, optional
        Paradigm name (and prefix of generated sentence ids); the file stem by default.

    Returns
    -------
    probing.stimuli.Stimuli
        Kind ``labels``. Table: ``stimulus_id`` (``sent_id``, else ``name-i``),
        ``item_id`` (0-based sentence index), ``condition`` (``"sentence"``), ``text``
        (the ``# text`` comment, else rebuilt from the forms and ``SpaceAfter=No``).
        Words: ``stimulus_id, word_index`` (0-based over syntactic words),
        ``word, char_start, char_end`` then ``fields``; ``head`` stays the CoNLL-U ID
        (``word_index + 1``, 0 for the root). Words of a multiword token split its
        surface span when their forms concatenate to it, else each gets the whole span.
        Regions: one ``sentence`` region per stimulus.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> rows = ["# sent_id = s1", "# text = I don't know.",
    ...         "1\\tI\\tI\\tPRON\\tPRP\\t_\\t4\\tnsubj\\t_\\t_",
    ...         "2-3\\tdon't\\t_\\t_\\t_\\t_\\t_\\t_\\t_\\t_",
    ...         "2\\tdo\\tdo\\tAUX\\tVBP\\t_\\t4\\taux\\t_\\t_",
    ...         "3\\tn't\\tnot\\tPART\\tRB\\t_\\t4\\tadvmod\\t_\\t_",
    ...         "4\\tknow\\tknow\\tVERB\\tVB\\t_\\t0\\troot\\t_\\tSpaceAfter=No",
    ...         "5\\t.\\t.\\tPUNCT\\t.\\t_\\t4\\tpunct\\t_\\t_", ""]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.conllu"
    >>> _ = path.write_text("\\n".join(rows) + "\\n")
    >>> s = read_conllu(path, fields=("upos",))
    >>> s.words[["word", "char_start", "char_end", "upos"]].values.tolist()
    [['I', 0, 1, 'PRON'], ['do', 2, 4, 'AUX'], ["n't", 4, 7, 'PART'], ['know', 8, 12, 'VERB'], ['.', 12, 13, 'PUNCT']]
    """
    path = Path(path)
    name = name or path.stem
    fields = _check_fields(fields, path)
    table, regions, words, seen = [], [], [], {}
    for i, (line, comments, tokens) in enumerate(_read_sentences(path, limit)):
        sid = comments.get("sent_id") or f"{name}-{i}"
        if sid in seen:
            raise SpecError(f"sent_id {sid!r} repeats (first at line {seen[sid]})", file=path,
                            field="sent_id", line=line)
        seen[sid] = line
        text = comments.get("text")
        text, sentence_words = _align(tokens, text, path)
        table.append([sid, i, "sentence", text])
        regions.append([sid, "sentence", 1, 0, len(text)])
        words += [[sid, *w[:4], *(w[4][f] for f in fields)] for w in sentence_words]
    words = pd.DataFrame(words, columns=[*WORD_COLUMNS, *fields])
    if "head" in fields:
        words["head"] = words["head"].astype("Int64")
    return Stimuli(paradigm=name, kind="labels",
                   table=pd.DataFrame(table, columns=list(STIMULUS_COLUMNS)),
                   regions=pd.DataFrame(regions, columns=list(REGION_COLUMNS)), words=words,
                   info={"source": "conllu", "label_columns": list(fields)})


def _check_fields(fields, path):
    fields = [fields] if isinstance(fields, str) else list(fields)
    unknown = [f for f in fields if f not in LABEL_FIELDS]
    if unknown:
        raise SpecError(f"unknown label fields {unknown}; allowed: {', '.join(LABEL_FIELDS)}",
                        file=path, field="fields")
    return fields


def _read_sentences(path, limit):
    """Yield ``(first line number, comments, token lines)`` per sentence."""
    comments, tokens, first, count = {}, [], None, 0
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            if limit is not None and count >= limit:
                return
            raw = raw.rstrip("\r\n")
            first = first or number
            if raw.startswith("#"):
                key, sep, value = raw[1:].partition("=")
                if sep:
                    comments.setdefault(key.strip(), value.strip())
            elif raw.strip():
                tokens.append((number, _split_token_line(raw, path, number)))
            elif tokens:
                yield first, comments, tokens
                comments, tokens, first, count = {}, [], None, count + 1
            else:
                comments, first = {}, None
    if tokens and (limit is None or count < limit):
        yield first, comments, tokens


def _split_token_line(raw, path, number):
    cols = raw.split("\t")
    if len(cols) != len(COLUMNS):
        raise SpecError(f"expected {len(COLUMNS)} tab-separated columns "
                        f"({' '.join(c.upper() for c in COLUMNS)}), got {len(cols)}",
                        file=path, line=number)
    if not (_WORD_ID.fullmatch(cols[0]) or _RANGE_ID.fullmatch(cols[0])
            or _EMPTY_ID.fullmatch(cols[0])):
        raise SpecError(f"must be a word number (7), a range (7-8) or an empty node (7.1), "
                        f"got {cols[0]!r}", file=path, field="ID", line=number)
    return dict(zip(COLUMNS, cols, strict=True))


def _surface_units(tokens, path):
    """Group token lines into surface units: ``(line, form, misc, [word columns])``."""
    units, range_end, n_words = [], 0, 0
    for number, cols in tokens:
        if _EMPTY_ID.fullmatch(cols["id"]):
            continue
        span = _RANGE_ID.fullmatch(cols["id"])
        if span:
            range_end = int(span.group(2))
            units.append((number, cols["form"], cols["misc"], []))
            continue
        n_words += 1
        if int(cols["id"]) != n_words:
            raise SpecError(f"word IDs must run 1, 2, 3, ...; expected {n_words}, got "
                            f"{cols['id']}", file=path, field="ID", line=number)
        cols = {**cols, "head": _parse_head(cols["head"], path, number)}
        if n_words <= range_end:
            units[-1][3].append(cols)
        else:
            units.append((number, cols["form"], cols["misc"], [cols]))
    return units


def _parse_head(head, path, number):
    if head == "_":
        return None
    if not head.isdigit():
        raise SpecError(f"must be a word number or _, got {head!r}", file=path, field="HEAD",
                        line=number)
    return int(head)


def _align(tokens, text, path):
    """Locate every word in ``text``; return the text and word rows."""
    units = _surface_units(tokens, path)
    if text is None:
        text = "".join(form + ("" if "SpaceAfter=No" in misc.split("|") else " ")
                       for _, form, misc, _ in units).rstrip()
    rows, cursor = [], 0
    for number, form, _, words in units:
        start = _find_form(text, form, cursor, path, number)
        cursor = start + len(form)
        forms = [w["form"] for w in words]
        split = len(words) > 1 and "".join(forms) == form
        for w in words:
            end = start + len(w["form"]) if split else cursor
            rows.append([len(rows), w["form"], start, end, w])
            start = end if split else start
    return text, rows


def _find_form(text, form, cursor, path, number):
    # Forms follow each other in the text separated by whitespace only; anything else
    # means the token lines and ``# text`` disagree, and guessing would shift spans.
    at = cursor
    while at < len(text) and text[at].isspace():
        at += 1
    if not text.startswith(form, at):
        raise SpecError(f"form {form!r} does not match the sentence text at character "
                        f"{at}: {text!r}", file=path, field="FORM", line=number)
    return at
