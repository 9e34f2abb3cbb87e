"""Turn rendered item records into the tidy tables of a :class:`Stimuli`."""

from __future__ import annotations

import dataclasses

import pandas as pd

from probing._core.words import count_words
from probing.paradigms.generate.balance import build_balance
from probing.stimuli import MESSAGE_COLUMNS, Stimuli


def records_to_stimuli(spec, items, *, info=None, predictions=()):
    """Build a :class:`Stimuli` from ``draw_items`` output.

    Each record holds ``condition``, ``text``, ``levels`` (factor, level pairs),
    optionally ``role``, ``regions``: a list of ``(region, region_number, start,
    end)``, and (dialogues) ``messages``: rows of the messages table without the id. Items are numbered from 1 in draw order.
    """
    rows, regions, words, messages = [], [], [], []
    for item_id, records in enumerate(items, start=1):
        for record in records:
            row = _stimulus_row(spec, item_id, record)
            rows.append(row)
            regions.extend({"stimulus_id": row["stimulus_id"], "region": name,
                            "region_number": number, "char_start": start, "char_end": end}
                           for name, number, start, end in record["regions"])
            words.extend(_slot_words(row, record))
            messages.extend({"stimulus_id": row["stimulus_id"], **message}
                            for message in record.get("messages", ()))
    table = pd.DataFrame(rows)
    region_table = pd.DataFrame(regions, columns=["stimulus_id", "region", "region_number",
                                                  "char_start", "char_end"])
    region_table["region_number"] = region_table["region_number"].astype("Int64")
    meta = {"factors": {name: list(levels) for name, levels in spec.factors},
            "seed": spec.seed, **(info or {})}
    word_table = pd.DataFrame(words) if words else None
    message_table = (pd.DataFrame(messages, columns=list(MESSAGE_COLUMNS))
                     if spec.kind == "dialogue" else None)
    stimuli = Stimuli(paradigm=spec.name, kind=spec.kind, table=table, regions=region_table,
                      words=word_table, predictions=tuple(predictions), info=meta,
                      messages=message_table)
    if word_table is None:
        return stimuli
    # the generation summary: frequency and length balance across conditions
    balance = build_balance(stimuli)
    return dataclasses.replace(stimuli, info={**meta, "balance": balance.to_dict("records")})


def _slot_words(row, record):
    """Slot fillers as word rows carrying their lexicon features (labels for probing)."""
    spans = record.get("slot_spans", {})
    out = []
    for slot, entry in record.get("slot_rows", {}).items():
        start, end = spans[slot]
        out.append({"stimulus_id": row["stimulus_id"],
                    "word_index": count_words(row["text"][:start]),
                    "word": row["text"][start:end], "char_start": start, "char_end": end,
                    "slot": slot, **{k: v for k, v in entry.items() if k != "form"}})
    return sorted(out, key=lambda w: w["char_start"])


def _stimulus_row(spec, item_id, record):
    base = f"{spec.name}-{item_id:04d}-{record['condition']}"
    role = record.get("role")
    row = {"stimulus_id": f"{base}-{role}" if role else base, "item_id": item_id,
           "condition": record["condition"], "text": record["text"], **dict(record["levels"])}
    if role:
        row.update(phenomenon=spec.phenomenon or spec.name, pair_id=base, role=role,
                   identical=False)
    row.update(record.get("extra", {}))
    return row
