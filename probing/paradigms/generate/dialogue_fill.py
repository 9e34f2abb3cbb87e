"""Generate dialogue stimuli: messages filled from the lexicon, with exact spans.

The stimulus ``text`` is the plain rendering (one ``Sender: content`` line per message);
the ``messages`` table holds each message's role, agent and content span in it, so a
model's chat template can render the same messages again (``probing.models.chat``)
and every region moves with its message. Regions: each message as ``<sender>_<k>``
(the k-th message of that sender) and each slot filler under its slot's name, numbered
in text order (a message before the slots inside it).
"""

from __future__ import annotations

from probing.paradigms.dialogue import message_region_names, render_plain
from probing.paradigms.generate.draw import draw_items
from probing.paradigms.generate.render import render_template
from probing.paradigms.generate.tables import records_to_stimuli


def generate_dialogue(spec, filler):
    """Every item in every condition: messages rendered plainly, spans kept exactly."""
    agents = dict(spec.agents)

    def render(chosen):
        records = []
        for cell in filler.cells:
            forms = {slot: row["form"] for slot, row in chosen[cell.condition].items()}
            sent = []  # (role, agent, content, slot spans within the content)
            for message in spec.messages:
                template = message.text_for(cell.condition, cell.levels)
                if not template:  # an empty text leaves the message out of this condition
                    continue
                content, spans = render_template(template, forms)
                agent = message.role if message.role in agents else ""
                sent.append((agents.get(message.role, message.role), agent, content, spans))
            records.append(_record(cell, sent, chosen[cell.condition]))
        return records

    items = draw_items(filler, spec.items_per_cell, render, match=spec.match)
    return records_to_stimuli(spec, items, info={"agents": agents,
                                                 "generation_prompt": spec.generation_prompt})


def _record(cell, sent, rows):
    text, spans = render_plain([(role, agent, content) for role, agent, content, _ in sent])
    names = message_region_names([agent or role for role, agent, _, _ in sent])
    slot_spans = {slot: (start + a, start + b)
                  for (start, _), (*_, within) in zip(spans, sent, strict=True)
                  for slot, (a, b) in within.items()}
    # numbered in text order: each message, then the slots inside it
    spans_by_name = sorted([*zip(names, spans, strict=True), *slot_spans.items()],
                           key=lambda kv: (kv[1][0], -kv[1][1]))
    regions = [(name, i, s, e) for i, (name, (s, e)) in enumerate(spans_by_name, start=1)]
    messages = [{"message_index": i, "chat_role": role, "agent": agent, "char_start": s, "char_end": e}
                for i, ((role, agent, _, _), (s, e)) in enumerate(zip(sent, spans, strict=True), start=1)]
    return {"condition": cell.condition, "levels": cell.levels, "text": text, "regions": regions,
            "slot_spans": slot_spans, "messages": messages,
            "slot_rows": {k: v for k, v in rows.items() if k in slot_spans}}
