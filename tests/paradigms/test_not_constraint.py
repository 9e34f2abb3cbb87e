"""``{not: ...}`` keeps values out of a slot; tense agrees like number; the shipped
agreement designs never put a present-tense verb with a past-time adverbial."""

import re

import pytest

from probing._core.errors import SpecError
from probing.paradigms import dump_paradigm, generate, load_paradigm, parse_paradigm
from probing.paradigms.lexicon import read_lexicon
from tests.conftest import DATA

DESIGN = """name: pron
version: 1
kind: rsa
seed: 0
lexicon: probing:english_core
factors: {number: [sg, pl]}
template: "{pronoun} {verb} {adverbial}."
slots:
  pronoun: {pos: pronoun, case: nom, person: third, number: $number, gender: NOT}
  verb: {pos: verb, vform: past, transitivity: intransitive}
  adverbial: {pos: adverbial}
items_per_cell: 12
"""


@pytest.mark.parametrize("written", ["{not: n}", "{not: [n]}", "{not: [n, f]}"])
def test_not_keeps_the_values_out(written, tmp_path):
    # *it* is the pronoun of gender n (its lemma is he's: a form, not a lemma, to keep out)
    spec = parse_paradigm(DESIGN.replace("NOT", written), path=tmp_path / "p.yaml")
    pronouns = {text.split()[0] for text in generate(spec).table["text"]}
    excluded = {"It", "She"} if "f" in written else {"It"}
    assert pronouns and not pronouns & excluded
    assert pronouns <= {"He", "She", "They"}
    # the spec writes back the constraint it read
    again = parse_paradigm(dump_paradigm(spec), path=tmp_path / "p.yaml")
    assert again.slots == spec.slots


def test_without_not_it_is_drawn(tmp_path):
    text = DESIGN.replace(", gender: NOT", "")
    spec = parse_paradigm(text, path=tmp_path / "p.yaml")
    assert "It" in {t.split()[0] for t in generate(spec).table["text"]}


@pytest.mark.parametrize("written,field,message", [
    ("{not: []}", "slots.pronoun.gender.not", "must be a value or a non-empty list of values; got []"),
    ("{not: [n, 3]}", "slots.pronoun.gender.not",
     "must be a value or a non-empty list of values; got ['n', 3]"),
    ("{not: x}", "slots.pronoun.gender.not", "'x' is not a value of 'gender' in the lexicon"),
    ("{nto: n}", "slots.pronoun.gender", "a mapping constraint must be {same_as: SLOT}, "
     "{differs_from: SLOT} or {not: VALUE or [VALUES]}"),
], ids=["empty", "not-a-string", "unknown-value", "misspelled"])
def test_bad_not_is_one_located_line(written, field, message, tmp_path):
    with pytest.raises(SpecError) as err:
        parse_paradigm(DESIGN.replace("NOT", written), path=tmp_path / "p.yaml")
    assert err.value.field == field and err.value.line == 9
    assert err.value.message.startswith(message), err.value.message


def test_excluding_every_value_fails_at_validation(tmp_path):
    text = DESIGN.replace("number: $number, gender: NOT", "number: sg, case: {not: [nom, acc]}")
    with pytest.raises(SpecError, match=re.escape("case not in ['acc', 'nom']: 0")):
        parse_paradigm(text.replace("case: nom, ", ""),
                       path=tmp_path / "p.yaml")


PAST = {"yesterday", "last night", "last week"}


def test_the_lexicon_marks_past_time_adverbials():
    lexicon = read_lexicon(DATA / "lexicon" / "english_core.tsv")
    adverbials = lexicon.entries[lexicon.entries["pos"] == "adverbial"]
    assert set(adverbials.loc[adverbials["tense"] == "past", "form"]) == PAST
    verbs = lexicon.entries[lexicon.entries["pos"] == "verb"]
    assert (verbs["tense"] == verbs["vform"].where(verbs["vform"].isin(["pres", "past"]), "")).all()


@pytest.mark.parametrize("name", ["agreement_simple", "agreement_pp_attractor",
                                  "agreement_rc_attractor"])
def test_shipped_present_tense_designs_have_no_past_time_adverbial(name):
    texts = generate(load_paradigm(name)).table["text"].str.lower()
    assert not texts.str.contains("|".join(PAST)).any()
    assert texts.str.contains("yesterday").sum() == 0


def test_tense_agrees_like_number(tmp_path):
    text = DESIGN.replace(", gender: NOT", "").replace("vform: past", "vform: $tense").replace(
        "{number: [sg, pl]}", "{number: [sg, pl], tense: [pres, past]}")
    text = text.replace("transitivity: intransitive}", "transitivity: intransitive, "
                        "agr: {same_as: pronoun}}")
    text = text.replace("adverbial: {pos: adverbial}", "adverbial: {pos: adverbial, tense: {same_as: verb}}")
    text = text.replace("items_per_cell: 12", "items_per_cell: 60")
    table = generate(parse_paradigm(text, path=tmp_path / "p.yaml")).table
    pres = table.loc[table["tense"] == "pres", "text"].str.lower()
    past = table.loc[table["tense"] == "past", "text"].str.lower()
    assert not pres.str.contains("|".join(PAST)).any()
    assert past.str.contains("|".join(PAST)).any()  # a past verb may still take them


def test_days_are_capitalised():
    lexicon = read_lexicon(DATA / "lexicon" / "english_core.tsv")
    forms = set(lexicon.entries["form"])
    assert {"on Monday", "on Sunday"} <= forms and not {"on monday", "on sunday"} & forms
