"""Read the Fedorenko et al. (2010) language-localizer stimuli into localizer stimuli.

The standard fMRI localizer ships as ten CSV files, ``langloc_fmri_run{R}_stim_set{S}.csv``
(two runs x five stimulus sets). Each row is one trial: ``stim1`` (trial number within
its condition), ``stim2`` .. ``stim13`` (the twelve words, upper case) and ``stim14``
(``S``: sentence, ``N``: non-word list). The two runs are independent halves of the
experiment (select on one, measure on the other), so the run and the set of every
stimulus are kept as columns.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from probing._core.errors import SpecError
from probing.stimuli import REGION_COLUMNS, STIMULUS_COLUMNS, Stimuli

__all__ = ["CASES", "read_fedorenko2010"]

CONDITIONS = {"S": "sentences", "N": "nonwords"}
CASES = ("lower", "upper", "sentence")
_FILE = re.compile(r"langloc_fmri_run(\d+)_stim_set(\d+)\.csv$")
_HEADER = ["stim1", *(f"stim{i}" for i in range(2, 14)), "stim14"]


def read_fedorenko2010(folder, *, name="fedorenko2010_localizer", case="lower"):
    """Read the localizer's sentences and non-word lists.

    Parameters
    ----------
    folder : str or path-like
        Folder holding the ``langloc_fmri_run*_stim_set*.csv`` files.
    name : str
        Paradigm name of the result.
    case : {"lower", "upper", "sentence"}, default "lower"
        Letter case of the text. The files are upper case, as they were shown to
        participants; ``lower`` lower-cases every word, ``sentence`` capitalises the
        first letter only, ``upper`` keeps the file's case. Tokenizers split upper-case
        text into many more tokens, so the choice is recorded with the stimuli.

    Returns
    -------
    probing.stimuli.Stimuli
        Kind ``localizer``. Table: one row per trial, sorted by run, set, condition and
        trial; columns ``stimulus_id`` (``run1-set1-sentences-01``), ``item_id``
        (``run1-set1-01``: the trial slot, shared by the sentence and the non-word list
        of that slot), ``condition`` (``sentences`` or ``nonwords``), ``text`` (the
        twelve words joined by single spaces; nothing is cut or added), ``run``,
        ``set``, ``trial``. One ``sentence`` region spans each text.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> head = ",".join(f"stim{i}" for i in range(1, 15))
    >>> rows = ["1," + ",".join(["THE", "DOG", "RAN"] * 4) + ",S",
    ...         "1," + ",".join(["TEB", "GOD", "NAR"] * 4) + ",N"]
    >>> _ = (d / "langloc_fmri_run1_stim_set1.csv").write_text("\\n".join([head, *rows]))
    >>> s = read_fedorenko2010(d, case="sentence")
    >>> s.table[["stimulus_id", "condition", "run"]].values.tolist()
    [['run1-set1-nonwords-01', 'nonwords', 1], ['run1-set1-sentences-01', 'sentences', 1]]
    >>> s.table["text"].iloc[1][:16]
    'The dog ran the '
    """
    folder = Path(folder)
    if case not in CASES:
        raise SpecError(f"must be one of {', '.join(CASES)}, got {case!r}", file=folder,
                        field="source.case")
    files = sorted(p for p in folder.glob("*.csv") if _FILE.search(p.name)) if folder.is_dir() else []
    if not files:
        raise SpecError("no langloc_fmri_run<R>_stim_set<S>.csv files found", file=folder)
    rows = [row for path in files for row in _read_file(path, case)]
    table = pd.DataFrame(rows, columns=[*STIMULUS_COLUMNS, "run", "set", "trial"])
    table = table.sort_values(["run", "set", "condition", "trial"], kind="stable")
    table = table.reset_index(drop=True)
    duplicated = table["stimulus_id"].duplicated()
    if duplicated.any():
        raise SpecError(f"trial {table.loc[duplicated, 'stimulus_id'].iloc[0]} repeats",
                        file=folder, field="stim1")
    regions = pd.DataFrame({"stimulus_id": table["stimulus_id"], "region": "sentence",
                            "region_number": 1, "char_start": 0,
                            "char_end": table["text"].str.len()}, columns=list(REGION_COLUMNS))
    info = {"source": "fedorenko2010", "case": case,
            "factors": {"run": sorted(set(table["run"])), "set": sorted(set(table["set"]))}}
    return Stimuli(paradigm=name, kind="localizer", table=table, regions=regions, info=info)


def _read_file(path, case):
    run, stim_set = (int(x) for x in _FILE.search(path.name).groups())
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        if header != _HEADER:
            raise SpecError(f"header must be {','.join(_HEADER)}", file=path, line=1)
        for row in reader:
            if row:
                yield _record(row, path, reader.line_num, run, stim_set, case)


def _record(row, path, line, run, stim_set, case):
    if len(row) != len(_HEADER):
        raise SpecError(f"expected {len(_HEADER)} fields, got {len(row)}", file=path, line=line)
    if row[-1] not in CONDITIONS:
        raise SpecError(f"must be S or N, got {row[-1]!r}", file=path, field="stim14", line=line)
    if not row[0].isdigit():
        raise SpecError(f"must be a trial number, got {row[0]!r}", file=path, field="stim1",
                        line=line)
    words = [w.strip() for w in row[1:-1]]
    if not all(words) or any(" " in w for w in words):
        raise SpecError("every word column must hold one non-empty word", file=path, line=line)
    trial, condition = int(row[0]), CONDITIONS[row[-1]]
    text = _recase(" ".join(words), case)
    item = f"run{run}-set{stim_set}-{trial:02d}"
    return [f"run{run}-set{stim_set}-{condition}-{trial:02d}", item, condition, text, run,
            stim_set, trial]


def _recase(text, case):
    if case == "upper":
        return text
    lower = text.lower()
    return lower[:1].upper() + lower[1:] if case == "sentence" else lower
