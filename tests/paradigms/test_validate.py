"""Tests for paradigm validation (probing.paradigms.validate), one bad input per rule.

Every case is a small valid file (one per kind, below) with one edit. Each case asserts
the message (which says what is allowed), the field path and the line the error points
at, in the ``file:line: field: message`` form the CLI prints.
"""

import copy
import re
from pathlib import Path

import pytest

from probing._core.errors import SpecError
from probing.paradigms import parse_paradigm
from probing.paradigms.validate import check_paradigm
from probing.paradigms.yamlio import parse_yaml
from probing.stimuli import KINDS as PACKAGE_KINDS

REPO = Path(__file__).resolve().parents[2]
LEXICON = REPO / "data" / "lexicon" / "english_core.tsv"
SUITE = REPO / "data" / "syntaxgym" / "fgd_subject.json"
CONLLU = REPO / "data" / "ud_english_ewt" / "en_ewt-ud-dev.conllu"
BLIMP = REPO / "data" / "blimp"
FEATURES = ("lemma, pos, number, person, agr, animacy, human, gender, countability, vform, "
            "transitivity, case, det_type, npi_licensor, aux_type, tense")
KINDS = ", ".join(PACKAGE_KINDS)  # the message lists the package's kinds, in order

# Line numbers in the comments: the cases below refer to them.
PAIRS = """\
name: mp
version: 1
kind: minimal_pairs
lexicon: @LEXICON@
factors:
  subject_number: [sg, pl]
template: "The {subject} {verb}."
slots:
  subject: {pos: noun, human: "yes", number: $subject_number}
  verb: {pos: verb, vform: pres, transitivity: intransitive, number: {same_as: subject}}
contrast: {slot: verb, feature: number, keep: [lemma, vform]}
items_per_cell: 2
"""  # slots.subject: 9, slots.verb: 10, contrast: 11, items_per_cell: 12

FACTORIAL = """\
name: fg
version: 1
kind: factorial
lexicon: @LEXICON@
factors:
  filler: [what, that]
  gap: [gap, nogap]
slots:
  subject: {pos: noun, human: "yes", number: sg}
  verb: {pos: verb, vform: past, transitivity: transitive}
  object: {pos: noun, animacy: inanimate, number: sg}
regions:
  - prefix: "I know"
  - filler: {what: what, that: that}
  - subject: "the {subject} {verb}"
  - object: {gap: "", nogap: "the {object}"}
  - end: "."
predictions:
  - "(object;%what_nogap%) > (object;%that_nogap%)"
items_per_cell: 2
"""  # regions.0: 13 ... regions.4: 17, predictions.0: 19, items_per_cell: 20

RSA = """\
name: rsa
version: 1
kind: rsa
lexicon: @LEXICON@
factors:
  number: [sg, pl]
  animacy: [animate, inanimate]
template: "I saw the {noun}."
slots:
  noun: {pos: noun, number: $number, animacy: $animacy}
items_per_cell: 2
model_rdms:
  number: {factor: number}
"""  # model_rdms.number: 13

LOCALIZER = """\
name: loc
version: 1
kind: localizer
lexicon: @LEXICON@
templates:
  - "The {subject} {verb}."
  - "A {subject} {verb}."
slots:
  subject: {pos: noun, human: "yes", number: sg}
  verb: {pos: verb, vform: past, transitivity: intransitive}
conditions: [sentences, word_lists, nonwords]
items_per_cell: 2
"""

LABELS = """\
name: ud
version: 1
kind: labels
source:
  format: conllu
  path: @CONLLU@
  limit: 5
labels: [upos, deprel]
"""

SUITE_SOURCE = """\
name: sg
version: 1
kind: factorial
source:
  format: syntaxgym
  path: @SUITE@
predictions:
  - "(3;%what_nogap%) > (3;%that_nogap%)"
"""

BLIMP_SOURCE = """\
name: bl
version: 1
kind: minimal_pairs
source:
  format: blimp
  path: @BLIMP@
  phenomena: [wh_island]
  limit_per_phenomenon: 5
phenomenon: blimp_sample
"""

TABLE_SOURCE = """\
name: tab
version: 1
kind: rsa
source:
  format: csv
  path: items.csv
  columns: {text: sentence, condition: cond}
factors:
  number: [sg, pl]
model_rdms:
  number: {factor: number}
"""

BASES = {"pairs": PAIRS, "factorial": FACTORIAL, "rsa": RSA, "localizer": LOCALIZER,
         "labels": LABELS, "suite": SUITE_SOURCE, "blimp": BLIMP_SOURCE, "table": TABLE_SOURCE}
ALLOWED_PAIRS = ("name, version, kind, description, reference, seed, lexicon, factors, template, "
                 "slots, contrast, phenomenon, items_per_cell, match")


def _edit(base, *edits):
    """``base`` with each ``(old, new)`` replacement; ``old`` must occur exactly once."""
    text = BASES[base]
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {base}"
        text = text.replace(old, new)
    return text


def _resolve(text):
    return (text.replace("@LEXICON@", str(LEXICON)).replace("@SUITE@", str(SUITE))
            .replace("@CONLLU@", str(CONLLU)).replace("@BLIMP@", str(BLIMP)))


@pytest.fixture
def paradigm_file(tmp_path):
    (tmp_path / "items.csv").write_text("sentence,cond\nI saw it.,a\n", encoding="utf-8")
    return tmp_path / "p.yaml"


# (id, text, field, line, message). The message is matched whole (re.fullmatch) so that
# it keeps saying what is allowed; ``.*`` stands in for absolute paths only.
CASES = [
    # --- the YAML itself ------------------------------------------------------------------
    ("yaml-invalid", _edit("pairs", ("keep: [lemma, vform]}", "keep: [lemma, vform}")),
     None, 11, re.escape("invalid YAML: expected ',' or ']', but got '}'")),
    ("yaml-not-a-mapping", "- name: mp\n", None, 1,
     re.escape("a paradigm file must be a YAML mapping (key: value lines)")),
    ("yaml-duplicate-key", _edit("pairs", ("items_per_cell: 2\n", "items_per_cell: 2\nseed: 1\nseed: 2\n")),
     "seed", 14, re.escape("duplicate key (first on line 13)")),
    # --- header ---------------------------------------------------------------------------
    ("name-missing", _edit("pairs", ("name: mp\n", "")), "name", None, "missing required field"),
    ("version-missing", _edit("pairs", ("version: 1\n", "")), "version", None,
     "missing required field"),
    ("kind-missing", _edit("pairs", ("kind: minimal_pairs\n", "")), "kind", None,
     "missing required field"),
    ("name-not-a-string", _edit("pairs", ("name: mp", "name: 12")), "name", 1,
     re.escape("must be a string, got int 12")),
    ("name-invalid", _edit("pairs", ("name: mp", "name: my paradigm")), "name", 1,
     re.escape("'my paradigm' is not a valid name (letters, digits, '_' or '-', starting with a letter)")),
    ("version-unsupported", _edit("pairs", ("version: 1", "version: 2")), "version", 2,
     re.escape("unsupported version 2; allowed: 1")),
    ("version-string", _edit("pairs", ("version: 1", 'version: "1"')), "version", 2,
     re.escape("unsupported version '1'; allowed: 1")),
    ("kind-unknown", _edit("pairs", ("kind: minimal_pairs", "kind: pairs")), "kind", 3,
     re.escape(f"unknown kind 'pairs'; allowed: {KINDS}")),
    # --- fields of a kind -----------------------------------------------------------------
    ("field-unknown", _edit("pairs", ("items_per_cell: 2\n", "items_per_cell: 2\nregions: []\n")),
     "regions", 13, re.escape(f"unknown field for kind 'minimal_pairs'; allowed: {ALLOWED_PAIRS}")),
    ("field-unknown-with-source", _edit("suite", ("kind: factorial\n", "kind: factorial\nlexicon: x\n")),
     "lexicon", 4, re.escape("unknown field for kind 'factorial' with a source; allowed: name, "
                             "version, kind, description, reference, seed, source, predictions, "
                             "mixed_test")),
    ("field-unknown-labels", "name: x\nversion: 1\nkind: labels\nlexicon: lex.tsv\n", "lexicon", 4,
     re.escape("unknown field for kind 'labels'; allowed: name, version, kind, description, "
               "reference, seed")),
    ("field-required", _edit("pairs", ("contrast: {slot: verb, feature: number, keep: [lemma, vform]}\n", "")),
     "contrast", None, re.escape("missing required field for kind 'minimal_pairs'")),
    ("field-required-labels", "name: x\nversion: 1\nkind: labels\n", "source", None,
     re.escape("missing required field for kind 'labels'")),
    ("description-not-a-string", _edit("pairs", ("kind: minimal_pairs\n", "kind: minimal_pairs\ndescription: [a]\n")),
     "description", 4, re.escape("must be a string, got list ['a']")),
    ("reference-not-a-string", _edit("pairs", ("kind: minimal_pairs\n", "kind: minimal_pairs\nreference: 2018\n")),
     "reference", 4, re.escape("must be a string, got int 2018")),
    ("seed-negative", _edit("pairs", ("kind: minimal_pairs\n", "kind: minimal_pairs\nseed: -1\n")),
     "seed", 4, re.escape("must be >= 0, got -1")),
    ("seed-float", _edit("pairs", ("kind: minimal_pairs\n", "kind: minimal_pairs\nseed: 1.5\n")),
     "seed", 4, re.escape("must be an integer, got float 1.5")),
    ("seed-bool", _edit("pairs", ("kind: minimal_pairs\n", "kind: minimal_pairs\nseed: yes\n")),
     "seed", 4, re.escape("must be an integer, got bool True")),
    # --- source ---------------------------------------------------------------------------
    ("source-not-a-mapping", "name: x\nversion: 1\nkind: labels\nsource: ud.conllu\n", "source", 4,
     re.escape("must be a mapping with format and path, got str 'ud.conllu'")),
    ("source-format-for-kind", _edit("table", ("format: csv", "format: blimp")), "source.format", 5,
     re.escape("'blimp' is not a source for kind 'rsa'; allowed: csv, tsv")),
    ("source-format-missing", _edit("labels", ("  format: conllu\n", "")), "source.format", 4,
     re.escape("None is not a source for kind 'labels'; allowed: conllu, paradigm")),
    ("source-path-missing", _edit("labels", ("  path: @CONLLU@\n", "")), "source.path", 4,
     "missing required field"),
    ("source-path-not-a-string", _edit("table", ("path: items.csv", "path: 3")), "source.path", 6,
     re.escape("must be a path (relative to the paradigm file), got int 3")),
    ("source-path-does-not-exist", _edit("table", ("path: items.csv", "path: nope.csv")),
     "source.path", 6, r"'nope\.csv' does not exist \(looked in .*nope\.csv\)"),
    ("source-path-is-a-folder", _edit("suite", ("path: @SUITE@", "path: @BLIMP@")), "source.path", 6,
     r"'.*blimp' is not a file; format 'syntaxgym' reads one file"),
    ("source-option-unknown", _edit("labels", ("  limit: 5\n", "  limit: 5\n  upos: true\n")),
     "source.upos", 8, re.escape("unknown option for format 'conllu'; allowed: limit, fields")),
    ("source-option-none-allowed", _edit("suite", ("  path: @SUITE@\n", "  path: @SUITE@\n  limit: 3\n")),
     "source.limit", 7, re.escape("unknown option for format 'syntaxgym'; allowed: none")),
    ("source-limit-not-an-integer", _edit("labels", ("limit: 5", "limit: all")), "source.limit", 7,
     re.escape("must be an integer, got str 'all'")),
    ("source-limit-zero", _edit("blimp", ("limit_per_phenomenon: 5", "limit_per_phenomenon: 0")),
     "source.limit_per_phenomenon", 8, re.escape("must be >= 1, got 0")),
    ("source-phenomenon-invalid", _edit("blimp", ("phenomenon: blimp_sample", "phenomenon: 1st")),
     "phenomenon", 9, re.escape("'1st' is not a valid name (letters, digits, '_' or '-', starting with a letter)")),
    ("source-prediction-malformed", _edit("suite", ("%that_nogap%)", "%that_nogap%")),
     "predictions.0", 8,
     re.escape("expected ')' at position 34 in '(3;%what_nogap%) > (3;%that_nogap%' (found end of formula)")),
    ("source-labels-not-a-list", _edit("labels", ("labels: [upos, deprel]", "labels: upos")),
     "labels", 8, re.escape("must be a list, got str 'upos'")),
    ("source-labels-empty", _edit("labels", ("labels: [upos, deprel]", "labels: []")),
     "labels", 8, "must not be empty"),
    ("source-labels-not-strings", _edit("labels", ("labels: [upos, deprel]", "labels:\n  - upos\n  - 3")),
     "labels.1", 10, re.escape("must be a string, got int 3")),
    ("source-model-rdm-factor", _edit("table", ("{factor: number}", "{factor: animacy}")),
     "model_rdms.number", 11, re.escape("must be {factor: F} with F one of: number")),
    # --- lexicon and factors --------------------------------------------------------------
    ("lexicon-does-not-exist", _edit("rsa", ("lexicon: @LEXICON@", "lexicon: lex.tsv")), "lexicon", 4,
     r"'lex\.tsv' does not exist \(looked in .*lex\.tsv\)"),
    ("lexicon-not-a-string", _edit("rsa", ("lexicon: @LEXICON@", "lexicon: [a]")), "lexicon", 4,
     re.escape("must be a path (relative to the paradigm file), got list ['a']")),
    ("factors-not-a-mapping", _edit("rsa", ("factors:\n  number: [sg, pl]\n  animacy: [animate, inanimate]",
                                            "factors: [number, animacy]")),
     "factors", 5, re.escape("must be a mapping factor: [levels], got list ['number', 'animacy']")),
    ("factor-name-invalid", _edit("rsa", ("  number: [sg, pl]", "  2nd: [sg, pl]")), "factors.2nd", 6,
     re.escape("'2nd' is not a valid name (letters, digits, '_' or '-', starting with a letter)")),
    ("factor-levels-not-a-list", _edit("rsa", ("  number: [sg, pl]", "  number: sg")), "factors.number", 6,
     re.escape("must be a list of levels, got str 'sg'")),
    ("factor-one-level", _edit("rsa", ("  number: [sg, pl]", "  number: [sg]")), "factors.number", 6,
     re.escape("needs at least 2 distinct levels, got ['sg']")),
    ("factor-repeated-level", _edit("rsa", ("  number: [sg, pl]", "  number: [sg, sg]")),
     "factors.number", 6, re.escape("needs at least 2 distinct levels, got ['sg', 'sg']")),
    ("factor-level-invalid", _edit("rsa", ("  number: [sg, pl]", '  number: [sg, "p l"]')),
     "factors.number", 6, re.escape("'p l' is not a valid name (letters, digits, '_' or '-', starting with a letter)")),
    ("factor-level-not-a-string", _edit("rsa", ("  number: [sg, pl]", "  number: [[sg], [pl]]")),
     "factors.number", 6, re.escape("must be a string, got list ['sg']")),
    # --- slots ----------------------------------------------------------------------------
    ("slots-not-a-mapping", _edit("rsa", ("slots:\n  noun: {pos: noun, number: $number, animacy: $animacy}",
                                          "slots: [noun]")),
     "slots", 9, re.escape("must be a mapping slot: {feature: value}, got list ['noun']")),
    ("slot-name-invalid", _edit("rsa", ("  noun: {pos", "  the-noun!: {pos"), ("{noun}", "{the-noun!}")),
     "slots.the-noun!", 10, re.escape("'the-noun!' is not a valid name (letters, digits, '_' or '-', starting with a letter)")),
    ("slot-not-a-mapping", _edit("rsa", ("  noun: {pos: noun, number: $number, animacy: $animacy}", "  noun: noun")),
     "slots.noun", 10, re.escape("must be a mapping feature: value, got str 'noun'")),
    ("slot-without-pos", _edit("rsa", ("{pos: noun, number", "{number")), "slots.noun", 10,
     re.escape("every slot needs a 'pos' constraint")),
    ("constraint-unknown-feature", _edit("rsa", ("animacy: $animacy}", "animacy: $animacy, colour: red}")),
     "slots.noun.colour", 10, rf"'colour' is not a column of the lexicon .*english_core\.tsv; allowed: {FEATURES}"),
    ("constraint-unknown-factor", _edit("rsa", ("number: $number,", "number: $numbr,")),
     "slots.noun.number", 10, re.escape("'$numbr' names no factor; allowed: $number, $animacy")),
    ("constraint-factor-none-declared", _edit("localizer", ("number: sg}", "number: $n}")),
     "slots.subject.number", 9, re.escape("'$n' names no factor; allowed: none declared")),
    ("constraint-mapping-key", _edit("pairs", ("{same_as: subject}", "{agrees: subject}")),
     "slots.verb.number", 10, re.escape("a mapping constraint must be {same_as: SLOT}, {differs_from: SLOT} or {not: VALUE or [VALUES]}")),
    ("constraint-mapping-two-keys", _edit("pairs", ("{same_as: subject}", "{same_as: subject, differs_from: subject}")),
     "slots.verb.number", 10, re.escape("a mapping constraint must be {same_as: SLOT}, {differs_from: SLOT} or {not: VALUE or [VALUES]}")),
    ("constraint-same-as-unknown", _edit("pairs", ("{same_as: subject}", "{same_as: subj}")),
     "slots.verb.number.same_as", 10, re.escape("'subj' is not another slot; allowed: subject")),
    ("constraint-same-as-itself", _edit("pairs", ("{same_as: subject}", "{differs_from: verb}")),
     "slots.verb.number.differs_from", 10, re.escape("'verb' is not another slot; allowed: subject")),
    ("constraint-unquoted-yes", _edit("pairs", ('human: "yes"', "human: yes")), "slots.subject.human", 9,
     re.escape("must be a value, a list of values, $factor, {same_as: SLOT}, {differs_from: SLOT} or {not: VALUES}; got True")),
    ("constraint-empty-list", _edit("pairs", ('human: "yes"', "human: []")), "slots.subject.human", 9,
     re.escape("must be a value, a list of values, $factor, {same_as: SLOT}, {differs_from: SLOT} or {not: VALUES}; got []")),
    ("constraint-number", _edit("pairs", ("vform: pres", "vform: 1")), "slots.verb.vform", 10,
     re.escape("must be a value, a list of values, $factor, {same_as: SLOT}, {differs_from: SLOT} or {not: VALUES}; got 1")),
    ("constraint-cycle", _edit("pairs", ("number: $subject_number}", "number: {same_as: verb}}")),
     "slots", 8, re.escape("agreement constraints form a cycle among slots ['subject', 'verb']")),
    # --- templates ------------------------------------------------------------------------
    ("template-not-a-string", _edit("rsa", ('template: "I saw the {noun}."', "template: [a]")),
     "template", 8, re.escape("must be a string, got list ['a']")),
    ("template-unknown-slot", _edit("rsa", ("{noun}", "{nuon}")), "template", 8,
     re.escape("placeholder {nuon} names no slot; allowed: noun")),
    ("template-unused-slot", _edit("pairs", ("The {subject} {verb}.", "The {subject} smiled.")),
     "template", 7, re.escape("slot(s) ['verb'] are declared but not used in the template")),
    ("template-malformed", _edit("rsa", ("{noun}.", "{noun.")), "template", 8,
     re.escape("malformed template (expected '}' before end of string); write slots as {slot}")),
    ("template-stray-brace", _edit("rsa", ("{noun}.", "{noun}}.")), "template", 8,
     re.escape("malformed template (Single '}' encountered in format string); write slots as {slot}")),
    ("templates-not-a-list", _edit("localizer", ('templates:\n  - "The {subject} {verb}."\n  - "A {subject} {verb}."',
                                                 'templates: "The {subject} {verb}."')),
     "templates", 5, re.escape("must be a list, got str 'The {subject} {verb}.'")),
    ("templates-empty", _edit("localizer", ('templates:\n  - "The {subject} {verb}."\n  - "A {subject} {verb}."',
                                            "templates: []")), "templates", 5, "must not be empty"),
    ("templates-item-not-a-string", _edit("localizer", ('  - "A {subject} {verb}."', "  - 7")),
     "templates.1", 7, re.escape("must be a string, got int 7")),
    ("templates-unknown-slot", _edit("localizer", ("A {subject} {verb}.", "A {subject} {verbb}.")),
     "templates.1", 7, re.escape("placeholder {verbb} names no slot; allowed: subject, verb")),
    # --- items_per_cell -------------------------------------------------------------------
    ("items-not-an-integer", _edit("rsa", ("items_per_cell: 2", "items_per_cell: many")),
     "items_per_cell", 11, re.escape("must be an integer, got str 'many'")),
    ("items-zero", _edit("rsa", ("items_per_cell: 2", "items_per_cell: 0")), "items_per_cell", 11,
     re.escape("must be >= 1, got 0")),
    # --- contrast ---------------------------------------------------------------------------
    ("contrast-not-a-mapping", _edit("pairs", ("contrast: {slot: verb, feature: number, keep: [lemma, vform]}",
                                               "contrast: verb")),
     "contrast", 11, re.escape("must be a mapping with slot, feature, keep, got str 'verb'")),
    ("contrast-unknown-key", _edit("pairs", ("keep: [lemma, vform]}", "keep: [lemma, vform], swap: x}")),
     "contrast.swap", 11, re.escape("unknown field; allowed: slot, feature, keep")),
    ("contrast-slot-unknown", _edit("pairs", ("{slot: verb,", "{slot: object,")), "contrast.slot", 11,
     re.escape("'object' is not a slot; allowed: subject, verb")),
    ("contrast-slot-missing", _edit("pairs", ("{slot: verb, ", "{")), "contrast.slot", 11,
     re.escape("None is not a slot; allowed: subject, verb")),
    ("contrast-feature-unknown", _edit("pairs", ("feature: number,", "feature: numbr,")),
     "contrast.feature", 11, re.escape(f"'numbr' is not a lexicon column; allowed: {FEATURES}")),
    ("contrast-keep-unknown", _edit("pairs", ("keep: [lemma, vform]", "keep: [lemma, aspect]")),
     "contrast.keep", 11, re.escape(f"'aspect' is not a lexicon column; allowed: {FEATURES}")),
    ("contrast-keep-not-a-list", _edit("pairs", ("keep: [lemma, vform]", "keep: lemma")),
     "contrast.keep", 11, re.escape("must be a list of lexicon columns, got str 'lemma'")),
    # --- phenomenon and match -------------------------------------------------------------
    ("phenomenon-invalid", _edit("pairs", ("items_per_cell: 2\n", "items_per_cell: 2\nphenomenon: subject verb\n")),
     "phenomenon", 13, re.escape("'subject verb' is not a valid name (letters, digits, '_' or '-', starting with a letter)")),
    ("match-not-a-mapping", _edit("rsa", ("items_per_cell: 2\n", "items_per_cell: 2\nmatch: words\n")),
     "match", 12, re.escape("must be a mapping {length: words|chars, tolerance: N}, got str 'words'")),
    ("match-length-unknown", _edit("rsa", ("items_per_cell: 2\n", "items_per_cell: 2\nmatch:\n  length: tokens\n")),
     "match.length", 13, re.escape("'tokens' is not allowed; allowed: words, chars")),
    ("match-tolerance-negative", _edit("rsa", ("items_per_cell: 2\n", "items_per_cell: 2\nmatch: {length: chars, tolerance: -2}\n")),
     "match.tolerance", 12, re.escape("must be >= 0, got -2")),
    # --- regions (factorial) --------------------------------------------------------------
    ("regions-not-a-list", _edit("factorial", ('regions:\n  - prefix: "I know"', 'regions: "I know"'),
                                 ("  - filler: {what: what, that: that}\n  - subject: \"the {subject} {verb}\"\n"
                                  "  - object: {gap: \"\", nogap: \"the {object}\"}\n  - end: \".\"\n", ""),
                                 ("(object;%what_nogap%) > (object;%that_nogap%)", "(1;%what_nogap%) > (1;%that_nogap%)")),
     "regions", 12, re.escape("must be a list of {name: text} entries, got str 'I know'")),
    ("region-two-names", _edit("factorial", ('  - prefix: "I know"', '  - {prefix: "I", know: "know"}')),
     "regions.0", 13, re.escape("each region is one 'name: text' or 'name: {level: text, ...}' entry")),
    ("region-not-a-mapping", _edit("factorial", ('  - prefix: "I know"', '  - "I know"')),
     "regions.0", 13, re.escape("each region is one 'name: text' or 'name: {level: text, ...}' entry")),
    ("region-name-invalid", _edit("factorial", ('  - prefix: "I know"', '  - my prefix: "I know"')),
     "regions.0", 13, re.escape("'my prefix' is not a valid name (letters, digits, '_' or '-', starting with a letter)")),
    ("region-twice", _edit("factorial", ('  - end: "."', '  - prefix: "."')), "regions.4", 17,
     re.escape("region 'prefix' is declared twice")),
    ("region-text-not-a-string", _edit("factorial", ('  - end: "."', "  - end: 3")), "regions.4.end", 17,
     re.escape("must be a string or a mapping level: text, got int 3")),
    ("region-key-unknown", _edit("factorial", ('{gap: "", nogap:', '{gapped: "", nogap:')),
     "regions.3.object.gapped", 16,
     re.escape("is neither a level of one factor, a condition nor 'default'; allowed: gap, nogap, that, "
               "that_gap, that_nogap, what, what_gap, what_nogap, default")),
    ("region-level-of-two-factors", _edit("factorial", ("  gap: [gap, nogap]", "  gap: [gap, what]"),
                                          ('{gap: "", nogap: "the {object}"}', '{gap: "", default: "the {object}"}'),
                                          ("(object;%what_nogap%) > (object;%that_nogap%)",
                                           "(object;%what_what%) > (object;%that_what%)")),
     "regions.1.filler.what", 14,
     re.escape("is neither a level of one factor, a condition nor 'default'; allowed: gap, that, "
               "that_gap, that_what, what_gap, what_what, default")),
    ("region-entry-text-not-a-string", _edit("factorial", ('nogap: "the {object}"', "nogap: [the]")),
     "regions.3.object.nogap", 16, re.escape("must be a string, got list ['the']")),
    ("region-unknown-slot", _edit("factorial", ('"the {subject} {verb}"', '"the {subj} {verb}"')),
     "regions.2.subject.default", 15, re.escape("placeholder {subj} names no slot; allowed: subject, verb, object")),
    ("region-malformed", _edit("factorial", ('"the {subject} {verb}"', '"the {subject {verb}"')),
     "regions.2.subject.default", 15,
     re.escape("malformed template (unexpected '{' in field name); write slots as {slot}")),
    ("region-condition-uncovered", _edit("factorial", ("{what: what, that: that}", "{what: what}")),
     "regions.1.filler", 14,
     re.escape("no single text for condition 'that_gap': give it a key (condition, one level, or 'default')")),
    ("region-two-levels-apply", _edit("factorial", ("{what: what, that: that}", "{what: what, that: that, gap: x}")),
     "regions.1.filler", 14,
     re.escape("no single text for condition 'what_gap': give it a key (condition, one level, or 'default')")),
    # --- predictions ----------------------------------------------------------------------
    ("predictions-not-a-list", _edit("factorial", ('predictions:\n  - "(object;%what_nogap%) > (object;%that_nogap%)"',
                                                   'predictions: "(object;%what_nogap%) > 0"')),
     "predictions", 18, re.escape("must be a list, got str '(object;%what_nogap%) > 0'")),
    ("predictions-empty", _edit("factorial", ('predictions:\n  - "(object;%what_nogap%) > (object;%that_nogap%)"',
                                              "predictions: []")), "predictions", 18, "must not be empty"),
    ("prediction-malformed", _edit("factorial", ("> (object;%that_nogap%)", ">> (object;%that_nogap%)")),
     "predictions.0", 19,
     re.escape("expected a region reference, number or bracket at position 23 in "
               "'(object;%what_nogap%) >> (object;%that_nogap%)' (found '>')")),
    ("prediction-unknown-condition", _edit("factorial", ("%that_nogap%", "%that_no_gap%")),
     "predictions.0", 19, re.escape("condition 'that_no_gap' is not in the design; allowed: that_gap, "
                                    "that_nogap, what_gap, what_nogap")),
    ("prediction-unknown-region", _edit("factorial", ("(object;%that_nogap%)", "(obj;%that_nogap%)")),
     "predictions.0", 19, re.escape("region 'obj' is not in the design; allowed: prefix, filler, "
                                    "subject, object, end or 1..5")),
    ("prediction-region-number", _edit("factorial", ("(object;%that_nogap%)", "(6;%that_nogap%)")),
     "predictions.0", 19, re.escape("region 6 is not in the design; allowed: prefix, filler, "
                                    "subject, object, end or 1..5")),
    # --- model RDMs -----------------------------------------------------------------------
    ("model-rdms-not-a-mapping", _edit("rsa", ("model_rdms:\n  number: {factor: number}", "model_rdms: [number]")),
     "model_rdms", 12, re.escape("must be a mapping name: {factor: F}, got list ['number']")),
    ("model-rdm-unknown-factor", _edit("rsa", ("{factor: number}", "{factor: gender}")),
     "model_rdms.number", 13, re.escape("must be {factor: F} with F one of: number, animacy")),
    ("model-rdm-not-a-factor-mapping", _edit("rsa", ("{factor: number}", "number")),
     "model_rdms.number", 13, re.escape("must be {factor: F} with F one of: number, animacy")),
    ("model-rdm-extra-key", _edit("rsa", ("{factor: number}", "{factor: number, metric: x}")),
     "model_rdms.number", 13, re.escape("must be {factor: F} with F one of: number, animacy")),
    # --- localizer conditions -------------------------------------------------------------
    ("conditions-not-a-list", _edit("localizer", ("conditions: [sentences, word_lists, nonwords]",
                                                  "conditions: sentences")),
     "conditions", 11, re.escape("must be a list, got str 'sentences'")),
    ("conditions-unknown", _edit("localizer", ("word_lists, nonwords]", "word_lists, pseudowords]")),
     "conditions.2", 11, re.escape("'pseudowords' is not a localizer condition; allowed: sentences, "
                                   "word_lists, nonwords, jabberwocky")),
    ("conditions-without-sentences", _edit("localizer", ("[sentences, word_lists, nonwords]", "[word_lists, nonwords]")),
     "conditions", 11, re.escape("needs 'sentences' and at least one control condition")),
    ("conditions-no-control", _edit("localizer", ("[sentences, word_lists, nonwords]", "[sentences, sentences]")),
     "conditions", 11, re.escape("needs 'sentences' and at least one control condition")),
    ("mixed-test-unknown", _edit("factorial", ("items_per_cell: 2\n", "items_per_cell: 2\nmixed_test: lrt\n")),
     "mixed_test", 21, re.escape("must be one of auto, by_item, satterthwaite, wald, got 'lrt'")),
]


@pytest.mark.parametrize("base", sorted(BASES), ids=sorted(BASES))
def test_base_files_are_valid(base, paradigm_file):
    # Every case below is one edit away from one of these, so the edit causes the error.
    spec = parse_paradigm(_resolve(BASES[base]), path=paradigm_file)
    assert spec.path == str(paradigm_file)


@pytest.mark.parametrize(("text", "field", "line", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input(text, field, line, message, paradigm_file):
    with pytest.raises(SpecError) as err:
        parse_paradigm(_resolve(text), path=paradigm_file)
    assert re.fullmatch(message, err.value.message), err.value.message
    assert (err.value.field, err.value.line) == (field, line)
    where = f"{paradigm_file}:{line}: " if line else f"{paradigm_file}: "
    assert str(err.value) == where + (f"{field}: " if field else "") + err.value.message


def test_case_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


def test_without_a_path_relative_paths_resolve_against_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "lex.tsv").write_bytes(LEXICON.read_bytes())
    text = _resolve(RSA).replace(str(LEXICON), "lex.tsv")
    monkeypatch.chdir(tmp_path)
    assert parse_paradigm(text).lexicon == "lex.tsv"
    monkeypatch.chdir(REPO)
    with pytest.raises(SpecError, match="'lex.tsv' does not exist") as err:
        parse_paradigm(text)
    assert err.value.file is None and str(err.value).startswith("lexicon: ")


def test_relative_paths_resolve_against_the_paradigm_file(tmp_path, monkeypatch):
    (tmp_path / "lexica").mkdir()
    (tmp_path / "lexica" / "lex.tsv").write_bytes(LEXICON.read_bytes())
    (tmp_path / "designs").mkdir()
    text = _resolve(RSA).replace(str(LEXICON), "../lexica/lex.tsv")
    monkeypatch.chdir(REPO)  # not the file's folder
    monkeypatch.setenv("PROBING_ALLOWED_PATHS", str(tmp_path / "lexica"))  # a sibling folder
    spec = parse_paradigm(text, path=tmp_path / "designs" / "p.yaml")
    assert spec.lexicon == "../lexica/lex.tsv"


def test_a_malformed_lexicon_is_reported_with_its_own_file(tmp_path):
    (tmp_path / "lex.tsv").write_text("form\tlemma\nx\tx\n", encoding="utf-8")
    text = _resolve(RSA).replace(str(LEXICON), "lex.tsv")
    with pytest.raises(SpecError, match=r"missing column\(s\) \['pos'\]") as err:
        parse_paradigm(text, path=tmp_path / "p.yaml")
    assert err.value.file == str(tmp_path / "lex.tsv")


def test_check_paradigm_does_not_mutate_its_input(paradigm_file):
    data, lines = parse_yaml(_resolve(FACTORIAL))
    before = (copy.deepcopy(data), dict(lines))
    check_paradigm(data, lines, str(paradigm_file))
    assert (data, dict(lines)) == before


@pytest.mark.parametrize(("text", "expected"), [
    (_edit("pairs", ("version: 1\n", "")), "version: missing required field"),
    (_edit("pairs", ("name: mp", "name: 12"), ("version: 1", "version: 2")),
     "1: name: must be a string, got int 12"),
], ids=["header-before-anything", "first-broken-rule-wins"])
def test_the_first_error_in_file_order_of_rules(text, expected, paradigm_file):
    with pytest.raises(SpecError) as err:
        parse_paradigm(_resolve(text), path=paradigm_file)
    assert str(err.value).endswith(expected)


def test_mixed_test_field_is_kept(paradigm_file):
    text = _edit("factorial", ("items_per_cell: 2\n", "items_per_cell: 2\nmixed_test: wald\n"))
    assert parse_paradigm(_resolve(text), path=paradigm_file).mixed_test == "wald"
