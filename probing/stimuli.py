"""The stimuli container: what a paradigm generates and every later stage reads.

A :class:`Stimuli` holds three tidy tables that join on ``stimulus_id``:

``table`` (one row per stimulus)
    ``stimulus_id, item_id, condition, text`` then the design's factor columns; minimal
    pairs add ``phenomenon, pair_id, role`` (``role`` is ``good`` or ``bad``).
``regions`` (one row per region or slot of a stimulus)
    ``stimulus_id, region, region_number, char_start, char_end``; ``text[char_start:char_end]``
    is exactly the region's text, so token-to-word alignment never guesses.
``words`` (label paradigms only; one row per word)
    ``stimulus_id, word_index, word, char_start, char_end`` then the label columns.
``messages`` (dialogue paradigms only; one row per message)
    ``stimulus_id, message_index, chat_role, agent, char_start, char_end``;
    ``text[char_start:char_end]`` is exactly the message's content, so a dialogue can be
    rendered again with a model's chat template (:mod:`probing.models.chat`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pandas as pd

from probing._core.errors import ProbingError
from probing._core.io import atomic_paths, read_table, write_frame
from probing._core.vocabulary import table_columns

STIMULUS_COLUMNS = ("stimulus_id", "item_id", "condition", "text")
PAIR_COLUMNS = ("phenomenon", "pair_id", "role")
REGION_COLUMNS = ("stimulus_id", "region", "region_number", "char_start", "char_end")
WORD_COLUMNS = ("stimulus_id", "word_index", "word", "char_start", "char_end")
MESSAGE_COLUMNS = tuple(table_columns("messages_spans"))
KINDS = ("minimal_pairs", "factorial", "rsa", "localizer", "labels", "ratings", "reading_times",
         "dialogue")
# The roles every chat template knows; a dialogue may add named agents rendered as one of
# them (see probing.paradigms.dialogue).
CHAT_ROLES = ("system", "user", "assistant", "tool")


@dataclasses.dataclass(frozen=True)
class Stimuli:
    """Generated stimuli with exact character spans.

    Parameters
    ----------
    paradigm : str
        Name of the paradigm that produced them.
    kind : str
        One of ``minimal_pairs, factorial, rsa, localizer, labels``.
    table : pandas.DataFrame
        One row per stimulus (columns in the module docstring).
    regions : pandas.DataFrame
        One row per region or slot span.
    words : pandas.DataFrame or None
        Word-level labels (``labels`` paradigms), else None.
    predictions : tuple of str
        Region-measure predictions in the SyntaxGym formula grammar.
    info : dict
        Design facts later stages need (factors, model RDMs, label columns, notes).
    messages : pandas.DataFrame or None
        Dialogue paradigms: one row per message (columns in the module docstring).
    """

    paradigm: str
    kind: str
    table: pd.DataFrame
    regions: pd.DataFrame
    words: pd.DataFrame | None = None
    predictions: tuple = ()
    info: dict = dataclasses.field(default_factory=dict)
    messages: pd.DataFrame | None = None

    def __post_init__(self):
        check_tables(self.table, self.regions, self.words)
        if self.messages is not None:
            _require_columns(self.messages, MESSAGE_COLUMNS, "messages")

    @property
    def factors(self):
        """Factor names of the design, in declaration order."""
        return list(self.info.get("factors", {}))

    def item_ids(self, stimulus_ids):
        """The ``item_id`` of each of ``stimulus_ids`` (e.g. an activation index), in order.

        Examples
        --------
        >>> table = pd.DataFrame({"stimulus_id": ["a", "b"], "item_id": [1, 2],
        ...                       "condition": "all", "text": ["x", "y"]})
        >>> stimuli = Stimuli("p", "rsa", table, pd.DataFrame(columns=REGION_COLUMNS))
        >>> stimuli.item_ids(["b", "a", "b"]).tolist()
        [2, 1, 2]
        """
        items = self.table.set_index(self.table["stimulus_id"].astype(str))["item_id"]
        ids = pd.Index(stimulus_ids).astype(str)
        missing = ids.difference(items.index)
        if len(missing):
            raise ProbingError(f"stimuli: no stimulus_id {list(missing[:3])} in {self.paradigm}")
        return items.loc[ids].to_numpy()

    def summary(self):
        """Counts of stimuli per condition (and per phenomenon for minimal pairs)."""
        keys = ["phenomenon", "condition"] if "phenomenon" in self.table else ["condition"]
        return self.table.groupby(keys, sort=True).size().rename("n_stimuli").reset_index()


def check_tables(table, regions, words=None):
    """Validate the table contract; raise ``ProbingError`` naming the broken rule."""
    _require_columns(table, STIMULUS_COLUMNS, "stimuli")
    _require_columns(regions, REGION_COLUMNS, "regions")
    if table["stimulus_id"].duplicated().any():
        dup = table.loc[table["stimulus_id"].duplicated(), "stimulus_id"].iloc[0]
        raise ProbingError(f"stimuli: stimulus_id must be unique; {dup!r} repeats")
    if words is not None:
        _require_columns(words, WORD_COLUMNS, "words")


def _require_columns(frame, columns, what):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ProbingError(f"{what}: missing column(s) {missing}; required: {list(columns)}")


def _sibling(path, part):
    path = Path(path)
    return path.with_name(f"{path.stem}.{part}{path.suffix}")


def _meta_path(path):
    path = Path(path)
    return path.with_name(f"{path.stem}.meta.json")


def save_stimuli(stimuli, path):
    """Write the stimuli table to ``path`` and its companions beside it, atomically.

    ``path`` gets the stimuli table (CSV, or parquet for a ``.parquet`` name);
    ``<stem>.regions<ext>``, ``<stem>.words<ext>`` (labels only), ``<stem>.messages<ext>``
    (dialogues only) and ``<stem>.meta.json`` are written beside it. All files appear together or not at all.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    path = Path(path)
    parts = {path: stimuli.table, _sibling(path, "regions"): stimuli.regions}
    if stimuli.words is not None:
        parts[_sibling(path, "words")] = stimuli.words
    if stimuli.messages is not None:
        parts[_sibling(path, "messages")] = stimuli.messages
    meta = {
        "paradigm": stimuli.paradigm,
        "kind": stimuli.kind,
        "predictions": list(stimuli.predictions),
        "info": stimuli.info,
    }
    with atomic_paths([*parts, _meta_path(path)]) as temps:
        for dest, frame in parts.items():
            write_frame(frame, temps[dest], dest.suffix)
        temps[_meta_path(path)].write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return list(temps)


def load_stimuli(path):
    """Read a stimuli table: one written by :func:`save_stimuli`, or a plain table.

    A file with a ``<stem>.meta.json`` beside it is read with its regions and words;
    any other ``.csv``, ``.tsv`` or ``.parquet`` file is a plain table (see
    :func:`read_plain_table`). Either way every row is checked before anything else runs.

    Raises
    ------
    ProbingError
        One line naming the file, the row or column and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise ProbingError(f"{path}: no such stimuli file")
    if not _meta_path(path).exists():
        return read_plain_table(path)
    try:
        meta = json.loads(_meta_path(path).read_text(encoding="utf-8"))
        words_path = _sibling(path, "words")
        messages_path = _sibling(path, "messages")
        stimuli = Stimuli(
            paradigm=meta["paradigm"],
            kind=meta["kind"],
            table=read_table(path),
            regions=read_table(_sibling(path, "regions")),
            words=read_table(words_path) if words_path.exists() else None,
            predictions=tuple(meta["predictions"]),
            info=meta["info"],
            messages=read_table(messages_path) if messages_path.exists() else None,
        )
    except (OSError, ValueError, KeyError, TypeError) as err:
        if isinstance(err, ProbingError):
            raise ProbingError(f"{path}: {err}") from None
        raise ProbingError(f"{path}: cannot read the stimuli written by 'probing generate' "
                           f"({type(err).__name__}: {_one_line(err)}); regenerate them or "
                           f"remove {_meta_path(path).name} to read {path.name} as a plain table"
                           ) from None
    check_rows(stimuli.table, path)
    return stimuli


TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")
_ALLOWED = ("required columns: stimulus_id, text; optional: item_id, condition and any "
            "others")


def _one_line(err):
    return " ".join(str(err).split())[:200]


def read_plain_table(path):
    """A :class:`Stimuli` from a plain table with ``stimulus_id`` and ``text`` columns.

    Parameters
    ----------
    path : str or path-like
        ``.csv``, ``.tsv`` or ``.parquet``. Required columns ``stimulus_id, text``;
        optional ``item_id`` (default: the stimulus id, so each stimulus is its own
        item) and ``condition`` (default ``all``); other columns are kept. Cells are
        read as text (``007`` stays ``007``).

    Returns
    -------
    Stimuli
        Kind ``minimal_pairs`` when the table has ``pair_id`` and ``role`` columns with
        roles ``good``/``bad`` (as ``probing generate`` prints them; ``phenomenon``
        defaults to the file's stem, ``identical`` is read as booleans), else ``rsa``
        (a set of stimuli with no pairs and no predictions); one ``sentence`` region
        over each whole text; ``paradigm`` is the file's stem.

    Raises
    ------
    ProbingError
        Empty file, no rows, missing columns, repeated or empty ``stimulus_id``, empty
        ``text``: one line naming the file, the row (1 = first row after the header)
        or column, and what is allowed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "my.csv"
    >>> _ = path.write_text("stimulus_id,text\\n007,The dog barks.\\n")
    >>> s = read_plain_table(path)
    >>> s.table.to_dict("records")
    [{'stimulus_id': '007', 'item_id': '007', 'condition': 'all', 'text': 'The dog barks.'}]
    """
    path = Path(path)
    header = _read_header(path)
    if header is not None:  # a bad header fails before the rows are parsed
        _check_columns(path, header)
    table = _read_cells(path)
    _check_columns(path, table.columns)
    if table.empty:
        raise ProbingError(f"{path}: header only, no rows; add one row per stimulus")
    kind = _plain_kind(table, path)
    if "item_id" not in table:
        table.insert(1, "item_id", table["stimulus_id"])
    if "condition" not in table:
        table.insert(2, "condition", "all")
    front = list(STIMULUS_COLUMNS)
    table = table[front + [c for c in table.columns if c not in front]]
    check_rows(table, path)
    regions = pd.DataFrame({"stimulus_id": table["stimulus_id"], "region": "sentence",
                            "region_number": 1, "char_start": 0,
                            "char_end": table["text"].str.len()}, columns=list(REGION_COLUMNS))
    return Stimuli(paradigm=path.stem, kind=kind, table=table.reset_index(drop=True),
                   regions=regions, info={"source": "table", "file": path.name})


def _check_columns(path, columns):
    missing = [c for c in ("stimulus_id", "text") if c not in columns]
    if missing:
        raise ProbingError(f"{path}: missing column(s) {', '.join(missing)} (header has "
                           f"{', '.join(map(str, columns)) or 'nothing'}); {_ALLOWED}")


def _has_content(path):
    """Whether the file holds anything but whitespace (read in blocks: a large table is
    never loaded whole to answer)."""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            if block.strip():
                return True
    return False


def _read_header(path):
    """The column names of a CSV/TSV file, from its first line only (None: not such a file)."""
    if path.suffix.lower() not in (".csv", ".tsv") or not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            first = next((line for line in fh if line.strip()), "")  # as pandas skips them
    except (OSError, UnicodeDecodeError):
        return None  # _read_cells gives the one-line error
    if not first:
        return None
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    return next(csv.reader([first], delimiter=sep))


def _plain_kind(table, path):
    """``minimal_pairs`` for a table of pairs (``pair_id``, ``role`` good/bad: what
    ``probing generate`` writes to stdout), else ``rsa``; an ``identical`` column of
    pairs is read back as booleans."""
    if not {"pair_id", "role"} <= set(table.columns) or not set(table["role"]) <= {"good", "bad"}:
        return "rsa"
    if "phenomenon" not in table:
        table["phenomenon"] = path.stem
    if "identical" in table:
        flags = table["identical"].str.strip().str.lower()
        bad = ~flags.isin(_BOOLEANS)
        if bad.any():
            row = int(bad.to_numpy().argmax()) + 1
            raise ProbingError(f"{path}: row {row}, column identical: "
                               f"{table['identical'].iloc[row - 1]!r}; allowed True or False")
        table["identical"] = flags.map(_BOOLEANS).astype(bool)
    return "minimal_pairs"


_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "": False}


def _read_cells(path):
    """Every cell as a string; one-line errors for unreadable, empty or unknown files."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise ProbingError(f"{path}: a stimuli table must end in {', '.join(TABLE_SUFFIXES)}")
    try:
        if path.suffix.lower() == ".parquet":
            table = pd.read_parquet(path)
            return table.astype({c: str for c in table.columns if table[c].dtype != object})
        if not _has_content(path):
            raise ProbingError(f"{path}: file is empty; expected a header row "
                               f"(stimulus_id,text) and one row per stimulus")
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                           encoding="utf-8", engine="python")
    except ProbingError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise ProbingError(f"{path}: cannot read the table ({type(err).__name__}: "
                           f"{_one_line(err)}); {_ALLOWED}") from None
    except Exception as err:  # pyarrow raises its own types for a broken parquet file
        raise ProbingError(f"{path}: cannot read the table ({type(err).__name__}: "
                           f"{_one_line(err)})") from None


def check_text_table(table, where="stimuli"):
    """The one check of a table of texts to score or extract: ``stimulus_id, text``.

    A pandas DataFrame with both columns, every id present and unique, every text
    non-blank. :func:`read_plain_table`, the scorer and the extractor all use it, so a
    table fails the same way wherever it enters.

    Parameters
    ----------
    table : pandas.DataFrame
    where : str
        What the table is (a file path or ``"stimuli"``), for the error message.

    Raises
    ------
    ProbingError
        One line naming ``where``, the row (from 1) and the column.

    Examples
    --------
    >>> check_text_table(pd.DataFrame({"stimulus_id": ["a"], "text": ["Dogs bark."]}))
    >>> check_text_table(pd.DataFrame({"stimulus_id": ["a", "b"], "text": ["Hi.", " "]}))
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: stimuli: row 2, column text: empty; every stimulus needs a text
    """
    if not isinstance(table, pd.DataFrame):
        raise ProbingError(f"{where}: expected a pandas DataFrame; got {type(table).__name__}")
    missing = [c for c in ("stimulus_id", "text") if c not in table.columns]
    if missing:
        raise ProbingError(f"{where}: missing column(s) {missing}; required: "
                           "['stimulus_id', 'text']")
    check_rows(table, where)


def check_rows(table, path):
    """Row-level rules of a stimuli table; the error names the file, row and column.

    Rows are numbered from 1 (the first row after the header).
    """
    where = f"{path}: " if path is not None else ""
    for column in ("stimulus_id", "text"):
        values = table[column]
        blank = values.isna() | (values.astype(str).str.strip() == "")
        if blank.any():
            row = int(blank.to_numpy().argmax()) + 1
            raise ProbingError(f"{where}row {row}, column {column}: empty; every stimulus "
                               f"needs a {'unique id' if column == 'stimulus_id' else 'text'}")
    ids = table["stimulus_id"].astype(str)
    repeated = ids.duplicated()
    if repeated.any():
        row = int(repeated.to_numpy().argmax()) + 1
        first = int((ids == ids.iloc[row - 1]).to_numpy().argmax()) + 1
        raise ProbingError(f"{where}row {row}, column stimulus_id: {ids.iloc[row - 1]!r} "
                           f"repeats (first in row {first}); ids must be unique")
