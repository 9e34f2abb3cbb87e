"""Generators for the template kinds: minimal pairs, factorial designs and RSA designs."""

from __future__ import annotations

from probing.paradigms.generate.draw import draw_items
from probing.paradigms.generate.render import join_regions, render_template
from probing.paradigms.generate.tables import records_to_stimuli


def _forms(chosen_cell):
    return {slot: row["form"] for slot, row in chosen_cell.items()}


def _slot_regions(spans):
    """Slots as regions, numbered from 1 in order of appearance."""
    ordered = sorted(spans.items(), key=lambda kv: kv[1])
    return [(slot, i, start, end) for i, (slot, (start, end)) in enumerate(ordered, start=1)]


def generate_minimal_pairs(spec, filler):
    """One good/bad pair per item and cell; the bad member differs only by the contrast."""
    contrast = spec.contrast

    def render(chosen):
        records = []
        for cell in filler.cells:
            forms = _forms(chosen[cell.condition])
            good_row = chosen[cell.condition][contrast.slot]
            partners = filler.contrast_partners(good_row)
            bad = dict(forms, **{contrast.slot: partners[0]["form"]})
            bad_rows = dict(chosen[cell.condition], **{contrast.slot: partners[0]})
            for role, words, rows in (("good", forms, chosen[cell.condition]),
                                      ("bad", bad, bad_rows)):
                text, spans = render_template(spec.template, words)
                records.append({"condition": cell.condition, "levels": cell.levels, "role": role,
                                "text": text, "regions": _slot_regions(spans), "slot_spans": spans,
                                "slot_rows": rows})
        return records

    items = draw_items(filler, spec.items_per_cell, render, match=spec.match)
    return records_to_stimuli(spec, items, info={"contrast": contrast.to_yaml()})


def generate_rsa(spec, filler):
    """One stimulus per item and condition (cell); model RDMs are read off the factors."""

    def render(chosen):
        records = []
        for cell in filler.cells:
            text, spans = render_template(spec.template, _forms(chosen[cell.condition]))
            records.append({"condition": cell.condition, "levels": cell.levels, "text": text,
                            "regions": _slot_regions(spans), "slot_spans": spans,
                            "slot_rows": chosen[cell.condition]})
        return records

    items = draw_items(filler, spec.items_per_cell, render, match=spec.match)
    return records_to_stimuli(spec, items, info={"model_rdms": dict(spec.model_rdms)})


def generate_factorial(spec, filler):
    """Every item in every condition, built region by region with exact spans."""

    def render(chosen):
        records = []
        for cell in filler.cells:
            forms = _forms(chosen[cell.condition])
            parts = [(r.name, *render_template(r.text_for(cell.condition, cell.levels), forms, capitalize=False))
                     for r in spec.regions]
            text, region_spans, slot_spans = join_regions(parts)
            regions = [(name, i, s, e) for i, (name, s, e) in enumerate(region_spans, start=1)]
            # slot spans go to the words table only: slot and region names may coincide
            records.append({"condition": cell.condition, "levels": cell.levels, "text": text,
                            "regions": regions, "slot_spans": slot_spans,
                            "slot_rows": {k: v for k, v in chosen[cell.condition].items()
                                          if k in slot_spans}})
        return records

    items = draw_items(filler, spec.items_per_cell, render, match=spec.match)
    return records_to_stimuli(spec, items, predictions=spec.predictions,
                              info={"regions": [r.name for r in spec.regions], "reduction": "sum",
                                    **({"mixed_test": spec.mixed_test} if spec.mixed_test else {}),
                                    **({"prediction_names": dict(spec.prediction_names)}
                                       if spec.prediction_names else {})})
