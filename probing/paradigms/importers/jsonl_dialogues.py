"""Read dialogues from a JSON-lines file: one dialogue per line, messages with roles.

Each line is an object with ``messages`` (a list of ``{"role", "content"}``, plus an
optional ``"agent"`` name), and optionally ``stimulus_id``, ``item_id`` (default: the line
number), ``condition`` (default ``all``), ``spans`` (named spans inside a message:
``{"name", "message", "start", "end"}``, the message numbered from 1 and the characters
of its content counted from 0) and any other scalar fields, which become columns (the
design's factors). Roles are the chat roles; an ``agent`` is rendered in its role.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from probing._core.errors import SpecError
from probing.paradigms.dialogue import message_region_names, render_plain
from probing.stimuli import CHAT_ROLES, MESSAGE_COLUMNS, REGION_COLUMNS, Stimuli

__all__ = ["read_dialogue_jsonl"]

_FIELDS = ("stimulus_id", "item_id", "condition", "messages", "spans")


def read_dialogue_jsonl(path, *, name=None):
    """Dialogue stimuli from a JSON-lines file (format in the module docstring).

    Parameters
    ----------
    path : str or path-like
    name : str, optional
        Paradigm name and stimulus id prefix; the file stem by default.

    Returns
    -------
    probing.stimuli.Stimuli
        Kind ``dialogue``, with its ``messages`` table; regions as generated dialogues
        have (``<sender>_<k>`` per message) plus each named span.

    Raises
    ------
    SpecError
        One line naming the file, the line number and the field.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.jsonl"
    >>> _ = path.write_text('{"messages": [{"role": "user", "content": "Hi."}]}\\n')
    >>> read_dialogue_jsonl(path).table["text"].tolist()
    ['User: Hi.']
    """
    path = Path(path)
    name = name or path.stem
    rows, regions, messages = [], [], []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        row, row_regions, row_messages = _dialogue(path, number, line, name)
        rows.append(row)
        regions.extend(row_regions)
        messages.extend(row_messages)
    if not rows:
        raise SpecError("file is empty; expected one JSON object per line", file=str(path))
    table = pd.DataFrame(rows)
    if table["stimulus_id"].duplicated().any():
        dup = table.loc[table["stimulus_id"].duplicated(), "stimulus_id"].iloc[0]
        raise SpecError(f"stimulus_id {dup!r} repeats; ids must be unique", file=str(path))
    region_table = pd.DataFrame(regions, columns=list(REGION_COLUMNS))
    region_table["region_number"] = region_table["region_number"].astype("Int64")
    factors = [c for c in table.columns if c not in ("stimulus_id", "item_id", "condition", "text")]
    info = {"factors": {f: sorted(map(str, table[f].unique())) for f in factors},
            "source": "jsonl", "agents": {}}
    return Stimuli(paradigm=name, kind="dialogue", table=table, regions=region_table, info=info,
                   messages=pd.DataFrame(messages, columns=list(MESSAGE_COLUMNS)))


def _fail(path, number, field, message):
    raise SpecError(f"line {number}: {message}", file=str(path), field=field)


def _dialogue(path, number, line, name):
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as err:
        _fail(path, number, "", f"not JSON ({err.msg})")
    if not isinstance(entry, dict) or not isinstance(entry.get("messages"), list) \
            or not entry["messages"]:
        _fail(path, number, "messages", "each line needs a non-empty list 'messages'")
    sent = [_message(path, number, i, m) for i, m in enumerate(entry["messages"], start=1)]
    text, spans = render_plain(sent)
    item_id = entry.get("item_id", number)
    condition = str(entry.get("condition", "all"))
    sid = str(entry.get("stimulus_id", f"{name}-{item_id}-{condition}"))
    extra = {k: v for k, v in entry.items() if k not in _FIELDS}
    for key, value in extra.items():
        if isinstance(value, (list, dict)):
            _fail(path, number, key, "extra fields must be plain values (they become columns)")
    row = {"stimulus_id": sid, "item_id": item_id, "condition": condition, "text": text, **extra}
    names = message_region_names([agent or role for role, agent, _ in sent])
    named = [*zip(names, spans, strict=True),
             *(_span(path, number, j, span, sent, spans) for j, span in enumerate(entry.get("spans", [])))]
    named.sort(key=lambda kv: (kv[1][0], -kv[1][1]))  # text order: a message, then its spans
    regions = [{"stimulus_id": sid, "region": region, "region_number": i, "char_start": s,
                "char_end": e} for i, (region, (s, e)) in enumerate(named, start=1)]
    messages = [{"stimulus_id": sid, "message_index": i, "chat_role": role, "agent": agent,
                 "char_start": s, "char_end": e}
                for i, ((role, agent, _), (s, e)) in enumerate(zip(sent, spans, strict=True), start=1)]
    return row, regions, messages


def _message(path, number, index, message):
    field = f"messages.{index}"
    if not isinstance(message, dict) or not isinstance(message.get("content"), str) \
            or not message["content"].strip():
        _fail(path, number, field, "each message needs a non-empty string 'content'")
    if message.get("role") not in CHAT_ROLES:
        _fail(path, number, f"{field}.role", f"unknown role {message.get('role')!r}; allowed: "
              f"{', '.join(CHAT_ROLES)} (a named agent goes in 'agent')")
    agent = message.get("agent", "")
    if not isinstance(agent, str):
        _fail(path, number, f"{field}.agent", "must be a string (the agent's name)")
    return message["role"], agent, message["content"].strip()


def _span(path, number, j, span, sent, spans):
    field = f"spans.{j}"
    keys = ("name", "message", "start", "end")
    if not isinstance(span, dict) or any(k not in span for k in keys):
        _fail(path, number, field, f"a span needs {', '.join(keys)}")
    index = span["message"]
    if not isinstance(index, int) or not 1 <= index <= len(sent):
        _fail(path, number, f"{field}.message", f"names no message; allowed: 1..{len(sent)}")
    content = sent[index - 1][2]
    start, end = span["start"], span["end"]
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(content)):
        _fail(path, number, field, f"start and end must satisfy 0 <= start < end <= "
              f"{len(content)} (the message's length)")
    offset = spans[index - 1][0]
    return str(span["name"]), (offset + start, offset + end)
