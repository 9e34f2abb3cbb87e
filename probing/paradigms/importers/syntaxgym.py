"""Read a SyntaxGym test suite (JSON) into factorial stimuli with exact region spans.

A suite (format: ``docs/suite_json.rst`` in cpllab/syntaxgym-core) names its regions in
``region_meta``, states ``predictions`` as formulas over region measures, and lists
``items``, each with every condition's region contents.

The sentence is built as cpllab/syntaxgym-core builds it before handing it to a model
(``Suite.iter_sentences``, formerly ``get_sentences.py``): each region's content with its
*leading* whitespace removed, regions whose content is empty or only whitespace left out,
the rest joined by single spaces. Trailing whitespace is kept, so ``"kingpin "``
followed by ``"."`` reads ``"kingpin  ."`` exactly as syntaxgym-core gives it to a model.
Punctuation gets no special case there, so a region ``"."`` becomes ``" ."``; the later
Hugging Face loader (``cpllab/syntaxgym`` dataset, ``condition_to_string``) also deletes
the space before ``.`` and ``,``. We follow syntaxgym-core, whose pipeline produced the
published results.

Region boundaries follow the same reading (syntaxgym-core's ``iter_region_edges``
measures regions on their left-stripped content): a region's span starts at its first
non-space character and runs to the end of its content *including* its trailing
whitespace; the joining space belongs to no region. A region whose content is empty or
only whitespace gets an empty span where the next content starts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from probing._core.errors import ProbingError, SpecError
from probing.stimuli import REGION_COLUMNS, STIMULUS_COLUMNS, Stimuli

__all__ = ["read_syntaxgym"]

METRICS = ("sum", "mean")


def read_syntaxgym(path, *, name=None):
    """Read one SyntaxGym suite file.

    Parameters
    ----------
    path : str or path-like
        The suite's JSON file.
    name : str, optional
        Paradigm name of the result; the suite's ``meta.name`` by default.

    Returns
    -------
    probing.stimuli.Stimuli
        Kind ``factorial``. Table: one row per item and condition, columns
        ``stimulus_id`` (``suite-item-condition``), ``item_id`` (``item_number``),
        ``condition``, ``text``, ``suite``. Regions: one row per region of each
        stimulus, ``region`` named from ``region_meta``, ``region_number`` as in the
        suite, and ``char_start, char_end`` into ``text`` (an empty region gets an empty
        span where its content would start). ``predictions`` holds the formula
        strings; ``info`` has ``source``, ``reduction`` (the suite's ``meta.metric``),
        ``regions`` and ``conditions``.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> suite = {"meta": {"name": "agr", "metric": "sum"},
    ...          "region_meta": {"1": "subject", "2": "adverb", "3": "verb"},
    ...          "predictions": [{"type": "formula", "formula": "(3;%bad%) > (3;%good%)"}],
    ...          "items": [{"item_number": 1, "conditions": [
    ...              {"condition_name": "good", "regions": [
    ...                  {"region_number": 1, "content": "The dogs"},
    ...                  {"region_number": 2, "content": ""},
    ...                  {"region_number": 3, "content": "bark"}]},
    ...              {"condition_name": "bad", "regions": [
    ...                  {"region_number": 1, "content": "The dogs"},
    ...                  {"region_number": 2, "content": ""},
    ...                  {"region_number": 3, "content": "barks"}]}]}]}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "agr.json"
    >>> _ = path.write_text(json.dumps(suite))
    >>> s = read_syntaxgym(path)
    >>> s.table.text.tolist()
    ['The dogs bark', 'The dogs barks']
    >>> s.regions.head(3)[["region", "char_start", "char_end"]].values.tolist()
    [['subject', 0, 8], ['adverb', 9, 9], ['verb', 9, 13]]
    """
    path = Path(path)
    try:
        return _read_suite(path, name)
    except ProbingError:
        raise
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as err:
        # a value of the wrong JSON type somewhere the checks below do not look
        raise SpecError(f"not a SyntaxGym suite ({type(err).__name__}: {err}); expected "
                        f"{_LAYOUT}", file=path) from None


_LAYOUT = ("{meta: {name, metric}, region_meta: {number: name}, predictions: [{type: formula, "
           "formula}], items: [{item_number, conditions: [{condition_name, regions: "
           "[{region_number, content}]}]}]}")


def _read_suite(path, name):
    suite = _load_suite(path)
    suite_name = str(suite["meta"]["name"])
    region_names = _region_names(suite["region_meta"], path)
    rows, regions, seen = [], [], set()
    for i, item in enumerate(suite["items"]):
        for j, cond in enumerate(_get(item, "conditions", path, f"items[{i}]")):
            where = f"items[{i}].conditions[{j}]"
            key = (_get(item, "item_number", path, f"items[{i}]"),
                   _get(cond, "condition_name", path, where))
            if key in seen:
                raise SpecError(f"item {key[0]} has condition {key[1]!r} twice", file=path,
                                field=f"{where}.condition_name")
            seen.add(key)
            numbers, contents = _check_regions(_get(cond, "regions", path, where), region_names, path, where)
            text, spans = _join_regions(contents)
            sid = f"{suite_name}-{key[0]}-{key[1]}"
            rows.append([sid, int(key[0]), key[1], text, suite_name])
            regions += [[sid, region_names[n], n, *span] for n, span in zip(numbers, spans, strict=True)]
    table = pd.DataFrame(rows, columns=[*STIMULUS_COLUMNS, "suite"])
    info = {
        "source": "syntaxgym",
        "reduction": suite["meta"]["metric"],  # SyntaxGym calls it meta.metric
        "regions": list(region_names.values()),
        "conditions": list(dict.fromkeys(table["condition"])),
    }
    return Stimuli(paradigm=name or suite_name, kind="factorial", table=table,
                   regions=pd.DataFrame(regions, columns=list(REGION_COLUMNS)),
                   predictions=tuple(p["formula"] for p in suite["predictions"]), info=info)


def _join_regions(contents):
    # The rule of syntaxgym-core's Suite.iter_sentences (see the module docstring):
    # contents left-stripped, empty or all-space ones left out, the rest joined by one
    # space (trailing whitespace kept). Our own code, written from that description.
    pieces = [c.lstrip() for c in contents]
    text, starts = "", []
    for piece in pieces:
        if piece and text:
            text += " "
        starts.append(len(text))
        text += piece
    spans = [(s, s + len(p)) for s, p in zip(starts, pieces, strict=True)]
    # An empty region sits where the next content starts (after the joining space),
    # or at the end of the text when no content follows it.
    following = len(text)
    for k in range(len(spans) - 1, -1, -1):
        if pieces[k]:
            following = spans[k][0]
        else:
            spans[k] = (following, following)
    return text, spans


def _load_suite(path):
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError("no such suite file", file=path) from None
    except json.JSONDecodeError as err:
        raise SpecError(f"not valid JSON ({err.msg})", file=path, line=err.lineno) from None
    for key in ("meta", "region_meta", "predictions", "items"):
        if key not in suite:
            raise SpecError("missing; a suite needs meta, region_meta, predictions, items",
                            file=path, field=key)
    if suite["meta"].get("metric") not in METRICS:
        raise SpecError(f"must be one of {', '.join(METRICS)}, got "
                        f"{suite['meta'].get('metric')!r}", file=path, field="meta.metric")
    if "name" not in suite["meta"]:
        raise SpecError("missing", file=path, field="meta.name")
    for k, pred in enumerate(suite["predictions"]):
        if pred.get("type") != "formula" or "formula" not in pred:
            raise SpecError("only formula predictions are supported ({'type': 'formula', "
                            "'formula': ...})", file=path, field=f"predictions[{k}]")
    return suite


def _region_names(region_meta, path):
    try:
        numbered = {int(k): str(v) for k, v in region_meta.items()}
    except ValueError:
        raise SpecError(f"keys must be region numbers, got {list(region_meta)}", file=path,
                        field="region_meta") from None
    return dict(sorted(numbered.items()))


def _check_regions(regions, region_names, path, where):
    numbers, contents = [], []
    for k, region in enumerate(regions):
        number = int(_get(region, "region_number", path, f"{where}.regions[{k}]"))
        content = _get(region, "content", path, f"{where}.regions[{k}]")
        if number not in region_names:
            raise SpecError(f"must be one of the region_meta numbers {list(region_names)}, "
                            f"got {number}", file=path, field=f"{where}.regions[{k}].region_number")
        if not isinstance(content, str):
            raise SpecError(f"must be a string, got {type(content).__name__} {content!r}",
                            file=path, field=f"{where}.regions[{k}].content")
        numbers.append(number)
        contents.append(content)
    return numbers, contents


def _get(record, key, path, where):
    if key not in record:
        raise SpecError("missing", file=path, field=f"{where}.{key}")
    return record[key]
