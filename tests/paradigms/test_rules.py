"""The generation rules, on designs written the way a new user writes them.

Each design below failed before these rules (issue #16); each must now validate *and*
generate, and the stimuli must show the rule at work. References re-read the lexicon
with the ``csv`` module, never with the code under test.
"""

import csv
from pathlib import Path

import pytest

from probing._core.errors import SpecError
from probing.paradigms import generate, parse_paradigm
from probing.paradigms.generate.fill import slot_inflectional
from probing.paradigms.lexicon import read_lexicon
from probing.paradigms.spec import Constraint, Slot

REPO = Path(__file__).resolve().parents[2]
LEXICON = REPO / "data" / "lexicon" / "english_core.tsv"


def _rows(path=LEXICON):
    with open(path, encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


ROWS = _rows()
FORMS = {}
for _row in ROWS:
    FORMS.setdefault(_row["form"], []).append(_row)


def _parse(tmp_path, text, name="p.yaml"):
    path = tmp_path / name
    text = text.replace("@LEXICON@", str(LEXICON))
    path.write_text(text, encoding="utf-8")
    return parse_paradigm(text, path=path)


def _words(stimuli):
    return stimuli.words.merge(stimuli.table.drop(columns=["text"]), on="stimulus_id",
                               suffixes=("", "_level"))


# --- 1. gender x number of human nouns: gender is lexical for nouns -----------------------

GENDER_NUMBER = """\
name: gender_number
version: 1
kind: minimal_pairs
lexicon: @LEXICON@
factors:
  gender: [m, f]
  number: [sg, pl]
template: "The {person} {verb} {reflexive} {adverbial}."
slots:
  person: {pos: noun, human: "yes", gender: $gender, number: $number}
  verb: {pos: verb, vform: past, transitivity: transitive}
  reflexive: {pos: reflexive, gender: {same_as: person}, number: {same_as: person}}
  adverbial: {pos: adverbial}
contrast: {slot: reflexive, feature: number, keep: [lemma, gender]}
items_per_cell: 10
"""


def test_gender_by_number_of_human_nouns_generates(tmp_path):
    words = _words(generate(_parse(tmp_path, GENDER_NUMBER)))
    person = words[(words["slot"] == "person") & (words["role"] == "good")]
    assert (person["gender"] == person["gender_level"]).all()
    assert (person["number"] == person["number_level"]).all()
    for _, item in person.groupby("item_id"):
        lemmas = item.groupby("gender_level")["lemma"].unique()
        # number is inflectional (one lemma per gender), gender lexical (two lemmas)
        assert all(len(v) == 1 for v in lemmas) and lemmas["m"][0] != lemmas["f"][0]
    reflexive = words[(words["slot"] == "reflexive") & (words["role"] == "good")]
    expected = {("m", "sg"): "himself", ("f", "sg"): "herself", ("m", "pl"): "themselves",
                ("f", "pl"): "themselves"}
    assert all(expected[g, n] == w for g, n, w in
               zip(reflexive["gender_level"], reflexive["number_level"], reflexive["word"], strict=True))


def test_inflectional_is_decided_per_slot():
    lexicon = read_lexicon(LEXICON)
    noun = Slot("person", (Constraint("pos", "is", "noun"),))
    reflexive = Slot("refl", (Constraint("pos", "is", "reflexive"),))
    past = Slot("verb", (Constraint("pos", "is", "verb"), Constraint("vform", "is", "past")))
    assert "gender" not in slot_inflectional(noun, lexicon)
    assert "gender" in slot_inflectional(reflexive, lexicon)
    assert slot_inflectional(noun, lexicon) == {"number", "agr"}
    assert "number" not in slot_inflectional(past, lexicon)  # past forms have no number
    # reference: lemmas whose forms differ in gender exist among reflexives and pronouns
    # (he/she/it), never among nouns
    by_lemma = {}
    for row in ROWS:
        if row["gender"]:
            by_lemma.setdefault((row["pos"], row["lemma"]), set()).add(row["gender"])
    assert {pos for (pos, _), genders in by_lemma.items() if len(genders) > 1} == {"reflexive",
                                                                                  "pronoun"}


# --- 2. tense x number with agreement: past verbs agree with any subject ------------------

TENSE_NUMBER = """\
name: tense_number
version: 1
kind: factorial
lexicon: @LEXICON@
factors:
  tense: [pres, past]
  number: [sg, pl]
slots:
  subject: {pos: noun, animacy: animate, number: $number}
  verb: {pos: verb, vform: $tense, transitivity: intransitive, number: {same_as: subject}}
  adverbial: {pos: adverbial}
regions:
  - subject: "The {subject}"
  - verb: "{verb}"
  - end: "{adverbial}."
items_per_cell: 12
"""


def test_tense_by_number_with_agreement_generates(tmp_path):
    words = _words(generate(_parse(tmp_path, TENSE_NUMBER)))
    verb = words[words["slot"] == "verb"]
    assert (verb["vform"] == verb["tense"]).all()
    past, pres = verb[verb["tense"] == "past"], verb[verb["tense"] == "pres"]
    assert (past["number"] == "").all() and (pres["number"] == pres["number_level"]).all()
    # the verb's lemma is the same in all four cells of an item
    assert (verb.groupby("item_id")["lemma"].nunique() == 1).all()
    for form in past["word"]:
        assert any(r["vform"] == "past" and r["number"] == "" for r in FORMS[form])


def test_explicit_value_still_binds(tmp_path):
    text = TENSE_NUMBER.replace("number: {same_as: subject}", "number: sg")
    with pytest.raises(SpecError, match=r"slots\.verb: .*condition 'past_sg'.*number in \['sg'\]: 0"):
        generate(_parse(tmp_path, text))


def test_differs_from_is_satisfied_by_a_feature_that_does_not_apply(tmp_path):
    text = TENSE_NUMBER.replace("same_as", "differs_from")
    words = _words(generate(_parse(tmp_path, text)))
    verb = words[words["slot"] == "verb"]
    pres = verb[verb["tense"] == "pres"]
    assert (pres["number"] != pres["number_level"]).all()
    assert (verb.loc[verb["tense"] == "past", "number"] == "").all()


def test_controller_without_the_feature_leaves_the_dependent_free(tmp_path):
    # "the" has no number: a noun agreeing with it may be singular or plural
    text = """\
name: det_free
version: 1
kind: rsa
lexicon: @LEXICON@
factors:
  frame: [a, b]
template: "{det} {noun} {verb}."
slots:
  det: {pos: det, det_type: definite}
  noun: {pos: noun, human: "yes", number: {same_as: det}}
  verb: {pos: verb, vform: past, transitivity: intransitive}
items_per_cell: 30
"""
    words = _words(generate(_parse(tmp_path, text)))
    assert set(words.loc[words["slot"] == "noun", "number"]) == {"sg", "pl"}


# --- 3. participles carry transitivity ----------------------------------------------------

PARTICIPLE = """\
name: ever_participle
version: 1
kind: minimal_pairs
lexicon: @LEXICON@
template: "{licensor} {subject} has ever {verb} {adverbial}."
slots:
  licensor: {pos: det, npi_licensor: "yes"}
  subject: {pos: noun, human: "yes", number: sg}
  verb: {pos: verb, vform: part, transitivity: intransitive}
  adverbial: {pos: adverbial}
contrast: {slot: licensor, feature: npi_licensor, keep: []}
items_per_cell: 10
"""


def test_intransitive_participle_design_generates(tmp_path):
    words = _words(generate(_parse(tmp_path, PARTICIPLE)))
    verb = words[words["slot"] == "verb"]
    assert (verb["vform"] == "part").all() and (verb["transitivity"] == "intransitive").all()
    assert all(any(r["vform"] == "part" for r in FORMS[w]) for w in verb["word"])


# --- 4. word labels read from another paradigm -------------------------------------------


def test_labels_read_from_a_user_paradigm(tmp_path):
    _parse(tmp_path, GENDER_NUMBER, name="inner.yaml")
    labels = _parse(tmp_path, """\
name: gender_labels
version: 1
kind: labels
source: {format: paradigm, path: inner.yaml}
labels: [gender, number]
""")
    words = generate(labels).words
    persons = words[words["slot"] == "person"]
    assert set(persons["gender"]) == {"m", "f"} and set(persons["number"]) == {"sg", "pl"}
    assert len(persons) == 40  # 4 cells x 10 items, good members only


# --- lexicon consistency -----------------------------------------------------------------


def test_shipped_lexicon_lexical_features_agree_across_forms():
    # reference: per pos, features with two non-empty values within a lemma are
    # inflectional; every other feature has one value over all forms of a lemma
    features = [c for c in ROWS[0] if c not in ("form", "lemma", "pos", "zipf")]
    values = {}
    for row in ROWS:
        for f in features:
            values.setdefault((row["pos"], row["lemma"], f), []).append(row[f])
    inflectional = {(pos, f) for (pos, _, f), vals in values.items() if len(set(vals) - {""}) > 1}
    broken = [(pos, lemma, f) for (pos, lemma, f), vals in values.items()
              if (pos, f) not in inflectional and len(set(vals)) > 1]
    assert broken == []
    assert ("verb", "transitivity") not in inflectional and ("noun", "gender") not in inflectional


BROKEN = ("# a comment\n"
          "form\tlemma\tpos\tvform\ttransitivity\n"
          "admires\tadmire\tverb\tpres\ttransitive\n"
          "\n"
          "admired\tadmire\tverb\tpart\t\n")


def test_lexical_feature_missing_on_one_form_is_an_error(tmp_path):
    path = tmp_path / "lex.tsv"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(SpecError) as err:
        read_lexicon(path)
    assert str(err.value) == (
        f"{path}:5: transitivity: '' on 'admired', but 'transitive' on 'admires' (line 3); "
        "'transitivity' is lexical for pos 'verb' (no verb lemma has forms differing in it), "
        "so every form of lemma 'admire' needs the same value")


def test_user_lexicon_is_checked_when_the_paradigm_validates(tmp_path):
    (tmp_path / "lex.tsv").write_text(BROKEN, encoding="utf-8")
    with pytest.raises(SpecError, match=r"lex\.tsv:5: transitivity: '' on 'admired'"):
        _parse(tmp_path, PARTICIPLE.replace(str(LEXICON), "lex.tsv").replace("@LEXICON@", "lex.tsv"))


def test_two_values_of_a_feature_within_a_lemma_make_it_inflectional(tmp_path):
    path = tmp_path / "lex.tsv"
    path.write_text(BROKEN.replace("part\t\n", "part\tintransitive\n"), encoding="utf-8")
    assert read_lexicon(path).inflectional_by_pos["verb"] == {"vform", "transitivity"}
