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
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from probing._core.errors import ProbingError
from probing._core.io import atomic_paths, read_table, write_frame

STIMULUS_COLUMNS = ("stimulus_id", "item_id", "condition", "text")
PAIR_COLUMNS = ("phenomenon", "pair_id", "role")
REGION_COLUMNS = ("stimulus_id", "region", "region_number", "char_start", "char_end")
WORD_COLUMNS = ("stimulus_id", "word_index", "word", "char_start", "char_end")
KINDS = ("minimal_pairs", "factorial", "rsa", "localizer", "labels", "ratings", "reading_times")


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
    """

    paradigm: str
    kind: str
    table: pd.DataFrame
    regions: pd.DataFrame
    words: pd.DataFrame | None = None
    predictions: tuple = ()
    info: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        check_tables(self.table, self.regions, self.words)

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
    ``<stem>.regions<ext>``, ``<stem>.words<ext>`` (labels only) and ``<stem>.meta.json``
    are written beside it. All files appear together or not at all.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    path = Path(path)
    parts = {path: stimuli.table, _sibling(path, "regions"): stimuli.regions}
    if stimuli.words is not None:
        parts[_sibling(path, "words")] = stimuli.words
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
    """Read stimuli written by :func:`save_stimuli`."""
    path = Path(path)
    if not path.exists():
        raise ProbingError(f"{path}: no such stimuli file")
    meta = json.loads(_meta_path(path).read_text())
    words_path = _sibling(path, "words")
    return Stimuli(
        paradigm=meta["paradigm"],
        kind=meta["kind"],
        table=read_table(path),
        regions=read_table(_sibling(path, "regions")),
        words=read_table(words_path) if words_path.exists() else None,
        predictions=tuple(meta["predictions"]),
        info=meta["info"],
    )
