"""The shipped English lexicon: built reproducibly, consistent, and large enough.

References re-read the TSV with the ``csv`` module; the rebuild uses the build script
with lemminflect and wordfreq (the dev extra).
"""

import csv
import importlib.util
from pathlib import Path

import pytest

from probing.paradigms import generate, parse_paradigm

REPO = Path(__file__).resolve().parents[2]
LEXICON = REPO / "data" / "lexicon" / "english_core.tsv"


def _rows():
    with open(LEXICON, encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


ROWS = _rows()


def _lemmas(**features):
    return {(r["pos"], r["lemma"]) for r in ROWS if all(r[f] == v for f, v in features.items())}


@pytest.mark.parametrize("features", [
    {"pos": "noun", "human": "yes", "gender": "m"},
    {"pos": "noun", "human": "yes", "gender": "f"},
    {"pos": "noun", "human": "yes", "gender": ""},
    {"pos": "noun", "animacy": "animate", "human": "no"},
    {"pos": "noun", "animacy": "inanimate", "countability": "count"},
    {"pos": "noun", "countability": "mass"},
    {"pos": "verb", "transitivity": "intransitive"},
    {"pos": "verb", "transitivity": "transitive"},
    {"pos": "name", "gender": "m"},
    {"pos": "name", "gender": "f"},
    {"pos": "adj"},
], ids=lambda f: "-".join(v or "any" for v in f.values()))
def test_fifty_lemmas_per_common_cell(features):
    assert len(_lemmas(**features)) >= 50


def test_optional_verbs_and_closed_classes_are_present():
    assert len(_lemmas(pos="verb", transitivity="optional")) >= 45
    for pos in ("pronoun", "reflexive", "det", "aux", "comp", "prep", "adverbial", "wh", "conj"):
        assert _lemmas(pos=pos), pos


def test_every_verb_lemma_has_every_form():
    forms = {}
    for r in ROWS:
        if r["pos"] == "verb":
            forms.setdefault(r["lemma"], set()).add((r["vform"], r["number"]))
    full = {("pres", "sg"), ("pres", "pl"), ("past", ""), ("part", ""), ("ing", "")}
    assert all(f == full for f in forms.values()), [k for k, f in forms.items() if f != full]


def test_count_nouns_have_both_numbers_and_mass_nouns_one():
    numbers = {}
    for r in ROWS:
        if r["pos"] == "noun":
            numbers.setdefault((r["lemma"], r["countability"]), set()).add(r["number"])
    assert all(n == ({"sg", "pl"} if c == "count" else {"sg"}) for (_, c), n in numbers.items())


def test_agr_follows_number_for_nouns_and_present_verbs():
    for r in ROWS:
        if r["pos"] == "noun" or (r["pos"] == "verb" and r["vform"] == "pres"):
            assert r["agr"] == {"sg": "3sg", "pl": "non3sg"}[r["number"]], r


def test_zipf_is_a_number_on_every_row():
    assert all(0 <= float(r["zipf"]) <= 8 for r in ROWS)
    zipf = {r["form"]: float(r["zipf"]) for r in ROWS}
    assert zipf["the"] > zipf["man"] > zipf["kingpin" if "kingpin" in zipf else "hedgehog"]


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_lexicon", REPO / "data" / "lexicon" /
                                                  "build_lexicon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rebuilding_gives_the_committed_file(tmp_path):
    pytest.importorskip("lemminflect")
    pytest.importorskip("wordfreq")
    out = tmp_path / "lexicon.tsv"
    _load_builder().build(out)
    assert out.read_text(encoding="utf-8") == LEXICON.read_text(encoding="utf-8")


# --- designs with 50 items per cell on the common factors ---------------------------------

DESIGNS = {
    "gender-number": ("factors: {gender: [m, f], number: [sg, pl]}\n"
                      'template: "The {person} {verb} {adverbial}."\nslots:\n'
                      '  person: {pos: noun, human: "yes", gender: $gender, number: $number}\n'
                      "  verb: {pos: verb, vform: past, transitivity: intransitive}\n"
                      "  adverbial: {pos: adverbial}\n"),
    "animacy-number": ("factors: {animacy: [animate, inanimate], number: [sg, pl]}\n"
                       'template: "I saw the {noun} {adverbial}."\nslots:\n'
                       "  noun: {pos: noun, animacy: $animacy, number: $number}\n"
                       "  adverbial: {pos: adverbial}\n"),
    "transitivity-tense": ("factors: {transitivity: [intransitive, optional], tense: [pres, past]}\n"
                           'template: "The {subject} {verb}."\nslots:\n'
                           "  subject: {pos: noun, human: \"yes\", number: sg}\n"
                           "  verb: {pos: verb, transitivity: $transitivity, vform: $tense, "
                           "number: {same_as: subject}}\n"),
    "person-number": ("factors: {person: [first, third], number: [sg, pl]}\n"
                      'template: "{pronoun} {verb} {adverbial}."\nslots:\n'
                      "  pronoun: {pos: pronoun, case: nom, person: $person, number: $number}\n"
                      "  verb: {pos: verb, vform: pres, transitivity: intransitive, "
                      "agr: {same_as: pronoun}}\n  adverbial: {pos: adverbial}\n"),
    "countability": ("factors: {countability: [count, mass]}\n"
                     'template: "There was {noun} {adverbial}."\nslots:\n'
                     "  noun: {pos: noun, countability: $countability, number: sg}\n"
                     "  adverbial: {pos: adverbial}\n"),
    "name-gender": ("factors: {gender: [m, f]}\n"
                    'template: "{name} {verb} {reflexive}."\nslots:\n'
                    "  name: {pos: name, gender: $gender}\n"
                    "  verb: {pos: verb, vform: past, transitivity: transitive}\n"
                    "  reflexive: {pos: reflexive, gender: {same_as: name}, number: {same_as: name}}\n"),
}


@pytest.mark.parametrize("name", sorted(DESIGNS), ids=sorted(DESIGNS))
def test_fifty_items_per_cell(name, tmp_path):
    text = (f"name: {name}\nversion: 1\nkind: rsa\nlexicon: {LEXICON}\n" + DESIGNS[name]
            + "items_per_cell: 50\n")
    stimuli = generate(parse_paradigm(text, path=tmp_path / "p.yaml"))
    counts = stimuli.table.groupby("condition")["text"].nunique()
    assert (counts == 50).all() and len(counts) >= 2


def test_person_agreement_uses_agr():
    # I/you/we/they take the base form, he/she/it the -s form (agr 3sg vs non3sg)
    agr = {r["form"]: r["agr"] for r in ROWS if r["pos"] == "pronoun" and r["case"] == "nom"}
    assert agr == {"I": "non3sg", "we": "non3sg", "you": "non3sg", "he": "3sg", "she": "3sg",
                   "it": "3sg", "they": "non3sg"}
