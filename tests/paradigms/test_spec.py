"""Tests for paradigm specs and their YAML round trip (probing.paradigms.spec, load)."""

import dataclasses
from pathlib import Path

import pytest

from probing.paradigms import dump_paradigm, load_paradigm, parse_paradigm, shipped_paradigms
from probing.paradigms.spec import (
    Constraint,
    Contrast,
    Match,
    ParadigmSpec,
    Region,
    Slot,
    Source,
    freeze,
    spec_to_dict,
)
from probing.paradigms.yamlio import parse_yaml, read_yaml

REPO = Path(__file__).resolve().parents[2]
SHIPPED = shipped_paradigms()
SHIPPED_IDS = [p.stem for p in SHIPPED]
LEXICON = REPO / "data" / "lexicon" / "english_core.tsv"

# Every optional field and every constraint form, in one file.
EVERYTHING = f"""\
name: everything
version: 1
kind: minimal_pairs
description: "A: every field, with a colon"
reference: Nobody (2024)
seed: 7
lexicon: {LEXICON}
factors:
  subject_number: [sg, pl]
  attractor_number: [sg, pl]
template: "The {{subject}} near the {{attractor}} {{verb}} {{adverbial}}."
slots:
  subject: {{pos: noun, human: "yes", gender: [m, f], number: $subject_number}}
  attractor: {{pos: noun, animacy: inanimate, number: {{differs_from: subject}}}}
  verb: {{pos: verb, vform: pres, number: {{same_as: subject}}}}
  adverbial: {{pos: adverbial}}
contrast: {{slot: verb, feature: number, keep: [lemma, vform]}}
phenomenon: attraction
items_per_cell: 3
match: {{length: chars, tolerance: 2}}
"""

FACTORIAL = f"""\
name: fact
version: 1
kind: factorial
seed: 3
lexicon: {LEXICON}
factors:
  filler: [what, that]
  gap: [gap, nogap]
slots:
  object: {{pos: noun, number: sg}}
regions:
  - prefix: "I know"
  - filler: {{what: what, that: that}}
  - object: {{what_nogap: "the {{object}}", nogap: "a {{object}}", default: ""}}
predictions: ["(object;%what_nogap%) > (2;%that_nogap%)"]
items_per_cell: 1
"""


@pytest.mark.parametrize("path", SHIPPED, ids=SHIPPED_IDS)
def test_shipped_paradigm_round_trip(path):
    spec = load_paradigm(path)
    text = dump_paradigm(spec)
    again = parse_paradigm(text, path=path)
    assert again == spec
    assert dump_paradigm(again) == text


@pytest.mark.parametrize("path", SHIPPED, ids=SHIPPED_IDS)
def test_dump_writes_what_the_file_says(path):
    # YAML -> spec -> YAML keeps every field and value; only the seed is always written.
    original = read_yaml(path)[0]
    dumped = parse_yaml(dump_paradigm(load_paradigm(path)))[0]
    assert dumped == {**original, "seed": original.get("seed", 0)}


@pytest.mark.parametrize("text", [EVERYTHING, FACTORIAL], ids=["every-field", "factorial-keys"])
def test_round_trip_of_every_form(text, tmp_path):
    spec = parse_paradigm(text, path=tmp_path / "p.yaml")
    dumped = dump_paradigm(spec)
    assert parse_paradigm(dumped, path=tmp_path / "p.yaml") == spec
    assert parse_yaml(dumped)[0] == parse_yaml(text)[0]


def test_every_constraint_form_is_parsed(tmp_path):
    spec = parse_paradigm(EVERYTHING, path=tmp_path / "p.yaml")
    assert spec.slot("subject").constraints == (
        Constraint("pos", "is", "noun"), Constraint("human", "is", "yes"),
        Constraint("gender", "is", ("m", "f")), Constraint("number", "factor", "subject_number"))
    assert spec.slot("attractor").constraints[-1] == Constraint("number", "differs_from", "subject")
    assert spec.slot("verb").constraints[-1] == Constraint("number", "same_as", "subject")
    assert spec.contrast == Contrast("verb", "number", ("lemma", "vform"))
    assert spec.match == Match("chars", 2)
    assert spec.factors == (("subject_number", ("sg", "pl")), ("attractor_number", ("sg", "pl")))
    assert (spec.seed, spec.items_per_cell, spec.phenomenon) == (7, 3, "attraction")


def test_contrast_keep_defaults_to_lemma(tmp_path):
    text = EVERYTHING.replace(", keep: [lemma, vform]", "")
    spec = parse_paradigm(text, path=tmp_path / "p.yaml")
    assert spec.contrast.keep == ("lemma",)
    assert "keep:\n  - lemma\n" in dump_paradigm(spec)


def test_match_tolerance_defaults_to_zero(tmp_path):
    spec = parse_paradigm(EVERYTHING.replace(", tolerance: 2", ""), path=tmp_path / "p.yaml")
    assert spec.match == Match("chars", 0)


def test_specs_are_immutable_and_hashable():
    spec = load_paradigm(REPO / "paradigms" / "agreement_pp_attractor.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 3
    assert hash(spec) == hash(load_paradigm(REPO / "paradigms" / "agreement_pp_attractor.yaml"))
    assert len({load_paradigm(p) for p in SHIPPED}) == len(SHIPPED)


def test_path_does_not_take_part_in_equality(tmp_path):
    a = parse_paradigm(EVERYTHING, path=tmp_path / "a.yaml")
    b = parse_paradigm(EVERYTHING, path=tmp_path / "b.yaml")
    assert a == b and a.path != b.path


def test_spec_to_dict_omits_empty_fields_and_orders_them():
    spec = ParadigmSpec("x", "rsa", factors=(("n", ("sg", "pl")),), template="{a}",
                        slots=(Slot("a", (Constraint("pos", "is", "noun"),)),), items_per_cell=1)
    assert spec_to_dict(spec) == {"name": "x", "version": 1, "kind": "rsa", "seed": 0,
                                  "factors": {"n": ["sg", "pl"]}, "template": "{a}",
                                  "slots": {"a": {"pos": "noun"}}, "items_per_cell": 1}


@pytest.mark.parametrize(("constraint", "expected"), [
    (Constraint("pos", "is", "noun"), "noun"),
    (Constraint("gender", "is", ("m", "f")), ["m", "f"]),
    (Constraint("number", "factor", "n"), "$n"),
    (Constraint("number", "same_as", "subject"), {"same_as": "subject"}),
    (Constraint("number", "differs_from", "subject"), {"differs_from": "subject"}),
], ids=["estimate", "values", "factor", "same-as", "differs-from"])
def test_constraint_to_yaml(constraint, expected):
    assert constraint.to_yaml() == expected


def test_source_options_round_trip():
    options = {"columns": {"text": "sentence", "extra": ["a", "b"]}, "limit": 3}
    source = Source("csv", "items.csv", freeze(options))
    hash(source)
    assert source.to_yaml() == {"format": "csv", "path": "items.csv", **options}


@pytest.mark.parametrize(("condition", "levels", "expected"), [
    ("what_nogap", (("filler", "what"), ("gap", "nogap")), "the X"),   # condition key wins
    ("that_nogap", (("filler", "that"), ("gap", "nogap")), "a X"),     # then a level key
    ("that_gap", (("filler", "that"), ("gap", "gap")), ""),            # then default
], ids=["condition", "level", "default"])
def test_region_text_for(condition, levels, expected):
    region = Region("object", (("what_nogap", "the X"), ("nogap", "a X"), ("default", "")))
    assert region.text_for(condition, levels) == expected


def test_region_text_for_ambiguous_or_missing():
    region = Region("r", (("what", "a"), ("gap", "b")))
    assert region.text_for("what_gap", (("filler", "what"), ("gap", "gap"))) is None
    assert region.text_for("that_nogap", (("filler", "that"), ("gap", "nogap"))) is None


@pytest.mark.parametrize(("factors", "expected"), [
    ((), ("all",)),
    ((("n", ("sg", "pl")),), ("sg", "pl")),
    ((("a", ("x", "y")), ("b", ("p", "q", "r"))), ("x_p", "x_q", "x_r", "y_p", "y_q", "y_r")),
], ids=["none", "one", "two"])
def test_conditions_of_factors(factors, expected):
    assert ParadigmSpec("x", "rsa", factors=factors).conditions_of_factors == expected


def test_shipped_paradigms_lists_the_folder(tmp_path):
    assert SHIPPED == sorted((REPO / "paradigms").glob("*.yaml")) and SHIPPED
    (tmp_path / "b.yaml").write_text("x")
    (tmp_path / "a.yaml").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    assert shipped_paradigms(tmp_path) == [tmp_path / "a.yaml", tmp_path / "b.yaml"]
