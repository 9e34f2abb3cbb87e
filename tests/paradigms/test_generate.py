"""Tests for stimulus generation from template paradigms (probing.paradigms.generate).

Every shipped template paradigm is checked for determinism, balance, counterbalancing,
distinctness, its constraints, its contrast and exact spans. References are independent:
the lexicon is re-read with the ``csv`` module, expected texts are written out by hand,
and constraints are re-checked from the spec against the lexicon rows.
"""

import csv
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ConstraintError, ProbingError, SpecError
from probing.paradigms import generate, load_paradigm, parse_paradigm, shipped_paradigms
from probing.stimuli import load_stimuli, save_stimuli

REPO = Path(__file__).resolve().parents[2]
LEXICON = REPO / "data" / "lexicon" / "english_core.tsv"
SPECS = {p.stem: load_paradigm(p) for p in shipped_paradigms()}
TEMPLATE = sorted(n for n, s in SPECS.items() if s.source is None)
PAIRS = [n for n in TEMPLATE if SPECS[n].kind == "minimal_pairs"]
FACTORIAL = [n for n in TEMPLATE if SPECS[n].kind == "factorial"]
WITH_WORDS = [n for n in TEMPLATE if SPECS[n].kind != "localizer"]
# read against english_core; the false-belief paradigms (their own lexicon, endings that
# repeat a place by lemma) are checked in test_false_belief.py
CORE_WORDS = [n for n in WITH_WORDS if str(SPECS[n].lexicon).endswith("english_core.tsv")]
LOCALIZERS = [n for n in TEMPLATE if SPECS[n].kind == "localizer"]


def _read_lexicon_rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


LEX_ROWS = _read_lexicon_rows(LEXICON)
LEX_COLUMNS = list(LEX_ROWS[0])
LEX_KEYS = {tuple(r.values()) for r in LEX_ROWS}
LEX_TOKENS = {w.lower() for r in LEX_ROWS for w in r["form"].split()}


def _inflectional(rows):
    """Per pos: features with two different non-empty values among one lemma's forms."""
    values = {}
    for row in rows:
        for feature in LEX_COLUMNS[3:]:
            if row[feature] and feature != "zipf":
                values.setdefault((row["pos"], row["lemma"], feature), set()).add(row[feature])
    out = {}
    for (pos, _, feature), seen in values.items():
        if len(seen) > 1:
            out.setdefault(pos, set()).add(feature)
    return out


INFLECTIONAL = _inflectional(LEX_ROWS)


@pytest.fixture(scope="module")
def stimuli_of():
    """``stimuli_of(name, seed=None)``: generated once per module."""
    cache = {}

    def get(name, seed=None):
        if (name, seed) not in cache:
            cache[name, seed] = generate(SPECS[name], seed=seed)
        return cache[name, seed]

    return get


def _words_by_stimulus(stimuli):
    out = {}
    for row in stimuli.words.to_dict("records"):
        out.setdefault(row["stimulus_id"], {})[row["slot"]] = row
    return out


def _rows(stimuli, spec):
    """(table row, {factor: level}, {slot: word row}) for each stimulus."""
    words = _words_by_stimulus(stimuli) if stimuli.words is not None else {}
    factors = [f for f, _ in spec.factors]
    for row in stimuli.table.to_dict("records"):
        yield row, {f: row[f] for f in factors}, words.get(row["stimulus_id"], {})


def _lexicon_key(word_row, *, capitalized):
    form = word_row["word"]
    if capitalized:
        form = form[0].lower() + form[1:]
    return (form, *(f"{word_row[c]:.2f}" if c == "zipf" else word_row[c] for c in LEX_COLUMNS[1:]))


def _good(table):
    return table[table["role"] == "good"] if "role" in table else table


def _expected_conditions(spec):
    return list(spec.conditions) if spec.kind == "localizer" else list(spec.conditions_of_factors)


def _lemma_factors(spec, slot_name):
    """Factors that may change a slot's lemma: those bound to one of its lexical features."""
    out = set()
    constraints = spec.slot(slot_name).constraints
    pos = next(c.value for c in constraints if c.feature == "pos")
    inflectional = set().union(*(INFLECTIONAL.get(p, set()) for p in
                                 (pos if isinstance(pos, tuple) else (pos,))))
    for c in constraints:
        if c.feature in inflectional:
            continue
        if c.how == "factor":
            out.add(c.value)
        elif c.how in ("same_as", "differs_from"):
            out |= _lemma_factors(spec, c.value)
    return out


def _allowed(constraint, levels, rows):
    """Values a constraint allows (None when it refers to a slot absent from the text)."""
    if constraint.how == "is":
        value = constraint.value
        return set(value) if isinstance(value, tuple) else {value}
    if constraint.how == "factor":
        return {levels[constraint.value]}
    if constraint.value not in rows:
        return None
    other = rows[constraint.value][constraint.feature]
    if other == "":  # the feature does not apply to the controller: anything agrees
        return None
    # an entry the feature does not apply to ("") satisfies agreement and mismatch
    if constraint.how == "same_as":
        return {other, ""}
    return {r[constraint.feature] for r in LEX_ROWS} - {other}


def _write(tmp_path, text, name="p.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _custom(tmp_path, text, lexicon=None):
    if lexicon is not None:
        (tmp_path / "lex.tsv").write_text(lexicon, encoding="utf-8")
        text = text.replace("@LEXICON@", "lex.tsv")
    return parse_paradigm(text.replace("@LEXICON@", str(LEXICON)), path=tmp_path / "p.yaml")


# --- determinism -----------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATE, ids=TEMPLATE)
def test_same_seed_gives_byte_identical_files(name, tmp_path, stimuli_of):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    spec = SPECS[name]
    first = save_stimuli(stimuli_of(name), tmp_path / "a" / "s.csv")  # the file's seed
    second = save_stimuli(generate(spec, seed=spec.seed), tmp_path / "b" / "s.csv")
    assert [p.name for p in first] == [p.name for p in second] and len(first) >= 3
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert stimuli_of(name).info["seed"] == spec.seed


@pytest.mark.parametrize("name", TEMPLATE, ids=TEMPLATE)
def test_another_seed_gives_another_sample(name, stimuli_of):
    spec = SPECS[name]
    one, two = stimuli_of(name).table, stimuli_of(name, spec.seed + 1).table
    assert set(one["text"]) != set(two["text"])
    assert len(one) == len(two)


def test_numpy_integer_seed_equals_python_integer_seed():
    spec = SPECS["agreement_simple"]
    pd.testing.assert_frame_equal(generate(spec, seed=np.int64(4)).table, generate(spec, seed=4).table)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, [3]],
                         ids=["negative", "float", "string", "bool", "list"])
def test_bad_seed(seed):
    with pytest.raises(ProbingError) as err:
        generate(SPECS["agreement_simple"], seed=seed)
    assert str(err.value) == f"seed: must be an integer >= 0, got {seed!r}"


def test_output_does_not_depend_on_the_hash_seed(stimuli_of):
    # Set iteration order changes with PYTHONHASHSEED; the bytes must not.
    code = ("import hashlib\nfrom probing.paradigms import generate, load_paradigm\n"
            f"for name in {TEMPLATE!r}:\n"
            "    s = generate(load_paradigm(f'paradigms/{name}.yaml'))\n"
            "    parts = [s.table, s.regions] + ([] if s.words is None else [s.words])\n"
            "    text = ''.join(p.to_csv(index=False) for p in parts)\n"
            "    print(name, hashlib.sha256(text.encode()).hexdigest())\n")
    hash_seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": hash_seed}, check=True)
    here = []
    for name in TEMPLATE:
        s = stimuli_of(name)
        parts = [s.table, s.regions] + ([] if s.words is None else [s.words])
        text = "".join(p.to_csv(index=False) for p in parts)
        here.append(f"{name} {hashlib.sha256(text.encode()).hexdigest()}")
    assert done.stdout.splitlines() == here


# --- design: balance, counterbalancing, distinctness -------------------------------------


@pytest.mark.parametrize("name", TEMPLATE, ids=TEMPLATE)
def test_every_item_appears_once_in_every_cell(name, stimuli_of):
    spec, table = SPECS[name], stimuli_of(name).table
    conditions = _expected_conditions(spec)
    roles = ["good", "bad"] if spec.kind == "minimal_pairs" else [None]
    assert sorted(table["item_id"].unique()) == list(range(1, spec.items_per_cell + 1))
    for _, item in table.groupby("item_id"):
        cells = sorted(zip(item["condition"], item["role"] if "role" in item else [None] * len(item),
                           strict=True), key=str)
        assert cells == sorted(((c, r) for c in conditions for r in roles), key=str)
    assert len(table) == spec.items_per_cell * len(conditions) * len(roles)


@pytest.mark.parametrize("name", TEMPLATE, ids=TEMPLATE)
def test_factor_columns_name_the_condition(name, stimuli_of):
    spec, table = SPECS[name], stimuli_of(name).table
    factors = [f for f, _ in spec.factors]
    assert list(table.columns[:4]) == ["stimulus_id", "item_id", "condition", "text"]
    for row in table.to_dict("records"):
        assert row["condition"] == ("_".join(row[f] for f in factors) if factors else
                                    row["condition"] if spec.kind == "localizer" else "all")
    assert stimuli_of(name).info["factors"] == {f: list(levels) for f, levels in spec.factors}


@pytest.mark.parametrize("name", TEMPLATE, ids=TEMPLATE)
def test_stimulus_ids_are_unique_and_readable(name, stimuli_of):
    table = stimuli_of(name).table
    for row in table.to_dict("records"):
        expected = f"{name}-{row['item_id']:04d}-{row['condition']}"
        if "role" in row:
            assert row["pair_id"] == expected
            expected += f"-{row['role']}"
        assert row["stimulus_id"] == expected
    assert table["stimulus_id"].is_unique


@pytest.mark.parametrize("name", TEMPLATE, ids=TEMPLATE)
def test_no_duplicate_texts_within_a_condition(name, stimuli_of):
    table = stimuli_of(name).table
    keys = ["condition", "role"] if "role" in table else ["condition"]
    assert not table.duplicated(keys + ["text"]).any()


@pytest.mark.parametrize("name", TEMPLATE, ids=TEMPLATE)
def test_texts_are_clean(name, stimuli_of):
    for text in stimuli_of(name).table["text"]:
        assert text == text.strip() and "  " not in text and " ." not in text and " ," not in text
        assert text[0].isupper() and text[-1] in ".!?"


# Which factors may change each slot's lemma, written out for the shipped paradigms.
LEMMA_FACTORS = {
    "agreement_simple": {"subject": set(), "verb": set(), "adverbial": set()},
    "agreement_pp_attractor": {"subject": set(), "prep": set(), "attractor": set(), "verb": set(),
                               "adverbial": set()},
    "agreement_rc_attractor": {"subject": set(), "attractor": set(), "rc_verb": set(), "verb": set(),
                               "adverbial": set()},
    "determiner_noun_agreement": {"det": set(), "noun": set(), "verb": set(), "adverbial": set()},
    "reflexive_agreement": {"antecedent": set(), "verb": set(), "reflexive": set(), "adverbial": set()},
    "npi_licensing": {"licensor": set(), "subject": set(), "verb": set(), "object": set()},
    "filler_gap": {"subject": set(), "verb": set(), "object": set(), "adverbial": set()},
    "garden_path_npz": {"subject": set(), "embedded_verb": {"verb_type"}, "object": set(),
                        "main_verb": set(), "adverbial": set()},
    "rsa_number_animacy": {"noun": {"animacy"}, "adverbial": set()},
}


@pytest.mark.parametrize("name", sorted(LEMMA_FACTORS), ids=sorted(LEMMA_FACTORS))
def test_lemma_factors_reference(name):
    spec = SPECS[name]
    assert {s.name: _lemma_factors(spec, s.name) for s in spec.slots} == LEMMA_FACTORS[name]


@pytest.mark.parametrize("name", WITH_WORDS, ids=WITH_WORDS)
def test_cells_differing_only_in_inflection_share_the_lemma(name, stimuli_of):
    spec, stimuli = SPECS[name], stimuli_of(name)
    good = set(_good(stimuli.table)["stimulus_id"])
    words = stimuli.words[stimuli.words["stimulus_id"].isin(good)]
    words = words.merge(stimuli.table[["stimulus_id", "item_id"] + [f for f, _ in spec.factors]],
                        on="stimulus_id", suffixes=("", "_level"))
    n_changing = 0
    for slot in spec.slots:
        factors = sorted(_lemma_factors(spec, slot.name))
        columns = [f"{f}_level" if f in LEX_COLUMNS else f for f in factors]
        for _, item in words[words["slot"] == slot.name].groupby("item_id"):
            lemmas = item.groupby(columns)["lemma"].unique() if columns else [item["lemma"].unique()]
            assert all(len(group) == 1 for group in lemmas), (slot.name, item)
            # cells that differ in a lexical factor get different lemmas
            assert len({group[0] for group in lemmas}) == len(lemmas)
            n_changing += len(lemmas) > 1
    assert n_changing > 0 or not any(_lemma_factors(spec, s.name) for s in spec.slots)


@pytest.mark.parametrize("name", WITH_WORDS, ids=WITH_WORDS)
def test_slots_of_one_stimulus_never_share_a_lemma(name, stimuli_of):
    # except a slot that repeats an earlier one on purpose (`lemma: {same_as: ...}`)
    repeats = {s.name for s in SPECS[name].slots
               if any(c.feature == "lemma" and c.how == "same_as" for c in s.constraints)}
    words = stimuli_of(name).words
    words = words[~words["slot"].isin(repeats)]
    assert not words.duplicated(["stimulus_id", "pos", "lemma"]).any()


def test_lemmas_are_drawn_without_replacement(stimuli_of):
    words = stimuli_of("agreement_simple").words
    words = words[words["stimulus_id"].str.endswith("-sg-good")]  # one row per item and slot
    humans = {r["lemma"] for r in LEX_ROWS if r["pos"] == "noun" and r["human"] == "yes"}
    assert len(humans) >= 50  # enough for 50 items, so no subject may repeat
    assert words.loc[words["slot"] == "subject", "lemma"].is_unique
    for slot in ("verb", "adverbial"):  # fewer lemmas than items: each used equally often
        counts = words.loc[words["slot"] == slot, "lemma"].value_counts()
        assert counts.max() - counts.min() <= 1, (slot, counts)


def test_free_inflection_is_held_fixed_within_an_item(tmp_path):
    spec = _custom(tmp_path, """\
name: free
version: 1
kind: rsa
lexicon: @LEXICON@
factors:
  n: [sg, pl]
template: "The {subject} {verb}."
slots:
  subject: {pos: noun, human: "yes", number: $n}
  verb: {pos: verb, transitivity: intransitive}
items_per_cell: 14
""")
    words = generate(spec).words
    verbs = words[words["slot"] == "verb"].assign(item=lambda w: w["stimulus_id"].str[:9])
    assert (verbs.groupby("item")["word"].nunique() == 1).all()
    # the fixed form is drawn at random: present and past forms both occur across items
    assert verbs["vform"].nunique() > 1


# --- words, constraints and contrasts ----------------------------------------------------


@pytest.mark.parametrize("name", CORE_WORDS, ids=CORE_WORDS)
def test_every_word_is_a_lexicon_entry(name, stimuli_of):
    stimuli = stimuli_of(name)
    words = stimuli.words
    assert list(words.columns) == ["stimulus_id", "word_index", "word", "char_start", "char_end",
                                   "slot", *LEX_COLUMNS[1:]]
    for row in words.to_dict("records"):
        assert _lexicon_key(row, capitalized=row["char_start"] == 0) in LEX_KEYS, row


@pytest.mark.parametrize("name", CORE_WORDS, ids=CORE_WORDS)
def test_every_constraint_holds_in_every_stimulus(name, stimuli_of):
    spec = SPECS[name]
    contrast = spec.contrast
    broken = set()  # constraints a bad member must break: those on the contrast feature
    if contrast is not None:
        broken = {(s.name, c) for s in spec.slots for c in s.constraints
                  if c.feature == contrast.feature
                  and (s.name == contrast.slot or c.value == contrast.slot)}
        assert broken
    n_checked = 0
    for row, levels, rows in _rows(stimuli_of(name), spec):
        for slot in spec.slots:
            if slot.name not in rows:
                assert spec.kind in ("factorial", "dialogue")  # slot only in some conditions' texts
                continue
            for c in slot.constraints:
                allowed = _allowed(c, levels, rows)
                if allowed is None:
                    continue
                holds = rows[slot.name][c.feature] in allowed
                assert holds != (row.get("role") == "bad" and (slot.name, c) in broken), \
                    (row["text"], slot.name, c)
                n_checked += 1
    assert n_checked >= len(stimuli_of(name).table) * len(spec.slots)


# (paradigm, slot, controller, feature, equal in the bad member too)
AGREEMENT = [
    ("agreement_simple", "verb", "subject", "number", False),
    ("agreement_pp_attractor", "verb", "subject", "number", False),
    ("agreement_rc_attractor", "verb", "subject", "number", False),
    ("determiner_noun_agreement", "noun", "det", "number", False),
    ("reflexive_agreement", "reflexive", "antecedent", "number", False),
    ("reflexive_agreement", "reflexive", "antecedent", "gender", True),
]


@pytest.mark.parametrize(("name", "slot", "controller", "feature", "bad_equal"), AGREEMENT,
                         ids=[f"{a[0]}-{a[3]}" for a in AGREEMENT])
def test_agreement(name, slot, controller, feature, bad_equal, stimuli_of):
    n_good = 0
    for row, _, rows in _rows(stimuli_of(name), SPECS[name]):
        equal = rows[slot][feature] == rows[controller][feature]
        assert equal if row["role"] == "good" else equal == bad_equal, row["text"]
        n_good += row["role"] == "good"
    assert n_good == len(stimuli_of(name).table) // 2


def test_verb_agrees_with_the_subject_not_the_attractor(stimuli_of):
    table = stimuli_of("agreement_pp_attractor").table
    good = table[(table["role"] == "good") & (table["condition"] == "sg_pl")]
    words = _words_by_stimulus(stimuli_of("agreement_pp_attractor"))
    for sid in good["stimulus_id"]:
        assert words[sid]["verb"]["number"] == "sg" and words[sid]["attractor"]["number"] == "pl"


@pytest.mark.parametrize("name", PAIRS, ids=PAIRS)
def test_pair_members_differ_only_in_the_contrast_word(name, stimuli_of):
    spec, stimuli = SPECS[name], stimuli_of(name)
    contrast, words = spec.contrast, _words_by_stimulus(stimuli)
    table = stimuli.table.set_index(["pair_id", "role"])
    for pair_id in stimuli.table["pair_id"].unique():
        good, bad = table.loc[(pair_id, "good")], table.loc[(pair_id, "bad")]
        g, b = words[good["stimulus_id"]], words[bad["stimulus_id"]]
        gs, ge = g[contrast.slot]["char_start"], g[contrast.slot]["char_end"]
        bs, be = b[contrast.slot]["char_start"], b[contrast.slot]["char_end"]
        assert good["text"][:gs] == bad["text"][:bs] and good["text"][ge:] == bad["text"][be:]
        assert good["text"][gs:ge] != bad["text"][bs:be]
        drop = ("char_start", "char_end", "stimulus_id")
        for slot in g:
            if slot != contrast.slot:
                assert {k: v for k, v in g[slot].items() if k not in drop} == \
                       {k: v for k, v in b[slot].items() if k not in drop}
        gr, br = g[contrast.slot], b[contrast.slot]
        assert gr[contrast.feature] != br[contrast.feature] and "" not in (gr[contrast.feature],
                                                                          br[contrast.feature])
        for feature in ("pos", *contrast.keep):
            assert gr[feature] == br[feature], (pair_id, feature)
        assert good["condition"] == bad["condition"] and good["item_id"] == bad["item_id"]
    assert stimuli.info["contrast"] == contrast.to_yaml()
    assert (stimuli.table["phenomenon"] == (spec.phenomenon or name)).all()
    assert not stimuli.table["identical"].any()


def test_constraints_of_every_form_hold(tmp_path):
    # differs_from, a list of values and agreement on two features, on a custom design
    spec = _custom(tmp_path, """\
name: forms
version: 1
kind: minimal_pairs
lexicon: @LEXICON@
factors:
  subject_number: [sg, pl]
template: "The {subject} near the {attractor} {verb} {reflexive}."
slots:
  subject: {pos: noun, human: "yes", gender: [m, f], number: $subject_number}
  attractor: {pos: noun, animacy: inanimate, number: {differs_from: subject}}
  verb: {pos: verb, vform: pres, transitivity: transitive, number: {same_as: subject}}
  reflexive: {pos: reflexive, number: {same_as: subject}, gender: {same_as: subject}}
contrast: {slot: verb, feature: number, keep: [lemma, vform]}
items_per_cell: 6
""")
    stimuli = generate(spec)
    for row, levels, rows in _rows(stimuli, spec):
        assert rows["subject"]["number"] == levels["subject_number"]
        assert rows["subject"]["gender"] in ("m", "f")
        assert rows["attractor"]["number"] not in ("", rows["subject"]["number"])
        assert rows["reflexive"]["number"] == rows["subject"]["number"]
        assert rows["reflexive"]["gender"] == rows["subject"]["gender"]
        assert (rows["verb"]["number"] == rows["subject"]["number"]) == (row["role"] == "good")


# --- spans ---------------------------------------------------------------------------------


def _region_text(region, condition, levels):
    """The documented lookup: a condition key, then a level key, then ``default``."""
    texts = dict(region.texts)
    if condition in texts:
        return texts[condition]
    hits = [texts[level] for level in levels.values() if level in texts]
    return hits[0] if hits else texts["default"]


@pytest.mark.parametrize("name", TEMPLATE, ids=TEMPLATE)
def test_region_spans_are_exact(name, stimuli_of):
    spec, stimuli = SPECS[name], stimuli_of(name)
    regions = {}
    for r in stimuli.regions.to_dict("records"):
        regions.setdefault(r["stimulus_id"], []).append(r)
    assert set(regions) == set(stimuli.table["stimulus_id"])
    for row, levels, rows in _rows(stimuli, spec):
        text, group = row["text"], regions[row["stimulus_id"]]
        assert [r["region_number"] for r in group] == list(range(1, len(group) + 1))
        spans = [(r["region"], r["char_start"], r["char_end"]) for r in group]
        assert [s for _, s, _ in spans] == sorted(s for _, s, _ in spans)
        for region, start, end in spans:
            if spec.kind == "localizer":
                expected = text
            elif spec.kind == "factorial":
                words = {slot: r["word"] for slot, r in rows.items()}
                expected = _region_text(next(r for r in spec.regions if r.name == region),
                                        row["condition"], levels).format(**words)
            elif spec.kind == "dialogue" and region not in rows:
                expected = _message_texts(spec, row["condition"], levels, rows)[region]
            else:
                expected = rows[region]["word"]
            assert text[start:end] == expected, (row["stimulus_id"], region)


def _message_texts(spec, condition, levels, rows):
    """Region name -> text of each message a dialogue has in this condition."""
    from probing.paradigms.dialogue import message_region_names

    words = {slot: r["word"] for slot, r in rows.items()}
    present = [(m.role, _region_text(m, condition, levels)) for m in spec.messages]
    present = [(role, t) for role, t in present if t]
    texts = [t.format(**words) for _, t in present]
    texts = [t[0].upper() + t[1:] if raw.startswith("{") else t
             for t, (_, raw) in zip(texts, present, strict=True)]
    return dict(zip(message_region_names([r for r, _ in present]), texts, strict=True))


@pytest.mark.parametrize("name", WITH_WORDS, ids=WITH_WORDS)
def test_word_spans_and_indices_are_exact(name, stimuli_of):
    stimuli = stimuli_of(name)
    words = stimuli.words.merge(stimuli.table[["stimulus_id", "text"]], on="stimulus_id")
    assert len(words) == len(stimuli.words)
    for row in words.to_dict("records"):
        text, word = row["text"], row["word"]
        assert text[row["char_start"]:row["char_end"]] == word
        tokens = text.split()[row["word_index"]:row["word_index"] + len(word.split())]
        assert " ".join(tokens).startswith(word), (text, word, row["word_index"])


# --- factorial designs ---------------------------------------------------------------------


def _filler_gap_text(row, w):
    middle = f" the {w['object']['word']}" if row["gap"] == "nogap" else ""
    return (f"I know {row['filler']} the {w['subject']['word']} {w['verb']['word']}{middle} "
            f"{w['adverbial']['word']}.")


def _garden_path_text(row, w):
    comma = "," if row["punctuation"] == "comma" else ""
    return (f"When the {w['subject']['word']} {w['embedded_verb']['word']}{comma} the "
            f"{w['object']['word']} {w['main_verb']['word']} {w['adverbial']['word']}.")


@pytest.mark.parametrize(("name", "expected_text"), [("filler_gap", _filler_gap_text),
                                                     ("garden_path_npz", _garden_path_text)],
                         ids=["filler_gap", "garden_path_npz"])
def test_factorial_texts_written_out(name, expected_text, stimuli_of):
    for row, _, words in _rows(stimuli_of(name), SPECS[name]):
        assert row["text"] == expected_text(row, words)


def test_filler_gap_regions_per_condition(stimuli_of):
    stimuli = stimuli_of("filler_gap")
    regions = stimuli.regions.merge(stimuli.table, on="stimulus_id")
    regions["span"] = [t[a:b] for t, a, b in zip(regions["text"], regions["char_start"],
                                                    regions["char_end"], strict=True)]
    obj = regions[regions["region"] == "object"]
    assert (obj.loc[obj["gap"] == "gap", "span"] == "").all()
    assert obj.loc[obj["gap"] == "nogap", "span"].str.fullmatch(r"the [a-z]+").all()
    filler = regions[regions["region"] == "filler"]
    assert (filler["span"] == filler["filler"]).all()
    assert (regions.loc[regions["region"] == "end", "span"] == ".").all()
    assert stimuli.info["regions"] == ["prefix", "filler", "subject", "verb", "object",
                                       "continuation", "end"]


@pytest.mark.parametrize("name", FACTORIAL, ids=FACTORIAL)
def test_factorial_carries_predictions_and_regions(name, stimuli_of):
    spec, stimuli = SPECS[name], stimuli_of(name)
    assert stimuli.predictions == spec.predictions and stimuli.predictions
    assert stimuli.info["regions"] == [r.name for r in spec.regions]
    assert stimuli.info["reduction"] == "sum"
    per_stimulus = stimuli.regions.groupby("stimulus_id")["region"].agg(list)
    assert all(names == stimuli.info["regions"] for names in per_stimulus)


# --- RSA -----------------------------------------------------------------------------------


def test_rsa_factor_columns_and_model_rdms(stimuli_of):
    spec, stimuli = SPECS["rsa_number_animacy"], stimuli_of("rsa_number_animacy")
    assert stimuli.info["model_rdms"] == {"number": "number", "animacy": "animacy"}
    assert stimuli.factors == ["number", "animacy"]
    table = stimuli.table
    assert sorted(table.groupby(["number", "animacy"]).size().tolist()) == [spec.items_per_cell] * 4
    nouns = stimuli.words[stimuli.words["slot"] == "noun"].merge(
        table[["stimulus_id", "number", "animacy"]], on="stimulus_id", suffixes=("", "_level"))
    assert (nouns["number"] == nouns["number_level"]).all()
    assert (nouns["animacy"] == nouns["animacy_level"]).all()


# --- localizer -----------------------------------------------------------------------------


def _localizer_items(stimuli):
    table = stimuli.table.pivot(index="item_id", columns="condition", values="text")
    return table.to_dict("records")


def _split(text):
    return text[:-1].split(), text[-1]


@pytest.mark.parametrize("name", LOCALIZERS, ids=LOCALIZERS)
def test_localizer_conditions_match_in_length(name, stimuli_of):
    items = _localizer_items(stimuli_of(name))
    for item in items:
        counts = {c: len(_split(t)[0]) for c, t in item.items()}
        assert len(set(counts.values())) == 1, item
        ends = {_split(t)[1] for t in item.values()}
        assert len(ends) == 1 and ends <= set(".!?")
        assert all(t[0].isupper() for t in item.values())
        sentence, nonwords = _split(item["sentences"])[0], _split(item["nonwords"])[0]
        assert [len(w) for w in nonwords] == [len(w) for w in sentence]


@pytest.mark.parametrize("name", LOCALIZERS, ids=LOCALIZERS)
def test_localizer_sentences_fill_the_templates(name, stimuli_of):
    spec = SPECS[name]

    def slot_pattern(match):  # any lexicon form of the slot's part of speech
        pos = next(c.value for c in spec.slot(match.group(1)).constraints if c.feature == "pos")
        forms = sorted({r["form"] for r in LEX_ROWS if r["pos"] == pos}, key=len, reverse=True)
        return "(?:" + "|".join(re.escape(f) for f in forms) + ")"

    patterns = [re.compile(re.sub(r"\\\{(\w+)\\\}", slot_pattern, re.escape(t))) for t in spec.templates]
    sentences = stimuli_of(name).table.query("condition == 'sentences'")["text"]
    used = [next(i for i, p in enumerate(patterns) if p.fullmatch(s)) for s in sentences]
    assert set(used) == set(range(len(patterns)))  # every template is used


@pytest.mark.parametrize("name", LOCALIZERS, ids=LOCALIZERS)
@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_localizer_nonwords_are_not_words(name, seed, stimuli_of):
    table = stimuli_of(name, seed).table
    sentence_words = {w.lower() for t in table.query("condition == 'sentences'")["text"]
                      for w in _split(t)[0]}
    for text in table.query("condition == 'nonwords'")["text"]:
        for word in _split(text)[0]:
            assert word.isalpha() and word[1:] == word[1:].lower()
            assert word.lower() not in LEX_TOKENS | sentence_words, word


@pytest.mark.parametrize("name", LOCALIZERS, ids=LOCALIZERS)
def test_localizer_word_lists_come_from_the_other_sentences(name, stimuli_of):
    items = _localizer_items(stimuli_of(name))
    for i, item in enumerate(items):
        others = {w.lower().strip(",;:") for j, other in enumerate(items) if j != i
                  for w in _split(other["sentences"])[0]}
        words = [w.lower() for w in _split(item["word_lists"])[0]]
        assert set(words) <= others
        assert len(words) == len(set(words))  # no word twice in a list
        assert item["word_lists"] != item["sentences"]


def test_localizer_makes_only_the_conditions_asked_for(tmp_path):
    spec = _custom(tmp_path, """\
name: loc
version: 1
kind: localizer
lexicon: @LEXICON@
templates: ["The {subject} {verb}."]
slots:
  subject: {pos: noun, human: "yes", number: sg}
  verb: {pos: verb, vform: past, transitivity: intransitive}
conditions: [sentences, nonwords]
items_per_cell: 4
""")
    stimuli = generate(spec)
    assert sorted(stimuli.table["condition"].unique()) == ["nonwords", "sentences"]
    assert stimuli.info["conditions"] == ["sentences", "nonwords"]
    assert (stimuli.regions["region"] == "sentence").all()


# --- length matching -----------------------------------------------------------------------

MATCH_LEXICON = ("form\tlemma\tpos\tanimacy\n"
                 "cat\tcat\tnoun\tanimate\ndog\tdog\tnoun\tanimate\nox\tox\tnoun\tanimate\n"
                 "sea lion\tsea lion\tnoun\tanimate\nguinea pig\tguinea pig\tnoun\tanimate\n"
                 "polar bear\tpolar bear\tnoun\tanimate\n"
                 "cup\tcup\tnoun\tinanimate\nbox\tbox\tnoun\tinanimate\npen\tpen\tnoun\tinanimate\n"
                 "table lamp\ttable lamp\tnoun\tinanimate\ncoffee mug\tcoffee mug\tnoun\tinanimate\n"
                 "tea kettle\ttea kettle\tnoun\tinanimate\n")
MATCH_PARADIGM = """\
name: match
version: 1
kind: rsa
lexicon: @LEXICON@
factors:
  animacy: [animate, inanimate]
template: "I saw the {noun}."
slots:
  noun: {pos: noun, animacy: $animacy}
items_per_cell: 3
"""


def _spread(stimuli, measure):
    lengths = stimuli.table.assign(n=stimuli.table["text"].map(measure))
    return lengths.groupby("item_id")["n"].agg(lambda n: n.max() - n.min())


@pytest.mark.parametrize(("length", "tolerance", "measure"), [
    ("words", 0, lambda t: len(t.split())),
    ("chars", 1, len),
    ("chars", 0, len),
], ids=["words-0", "chars-1", "chars-0"])
def test_length_matching(length, tolerance, measure, tmp_path):
    matched = _custom(tmp_path, MATCH_PARADIGM + f"match: {{length: {length}, tolerance: {tolerance}}}\n",
                      lexicon=MATCH_LEXICON)
    free = _custom(tmp_path, MATCH_PARADIGM, lexicon=MATCH_LEXICON)
    for seed in range(5):
        assert (_spread(generate(matched, seed=seed), measure) <= tolerance).all()
    # planted: without matching the same seeds give items that differ in length
    assert any((_spread(generate(free, seed=seed), measure) > tolerance).any() for seed in range(5))


def test_length_matching_that_cannot_be_met(tmp_path):
    # a verb and its contrast partner always differ by one character (smiles/smile)
    spec = _custom(tmp_path, """\
name: strict
version: 1
kind: minimal_pairs
lexicon: @LEXICON@
template: "The {subject} {verb}."
slots:
  subject: {pos: noun, human: "yes", number: sg}
  verb: {pos: verb, vform: pres, transitivity: intransitive, number: {same_as: subject}}
contrast: {slot: verb, feature: number, keep: [lemma, vform]}
items_per_cell: 2
match: {length: chars, tolerance: 0}
""")
    with pytest.raises(ConstraintError) as err:
        generate(spec)
    assert err.value.message == ("could generate only 0 of 2 distinct length-matched items per cell "
                                 "after 50 draws; add lexicon entries or lower items_per_cell")
    assert err.value.field == "items_per_cell" and err.value.file == spec.path


# --- constraints that cannot be met ----------------------------------------------------------


def _count(**features):
    rows = LEX_ROWS
    counts = []
    for feature, value in features.items():
        rows = [r for r in rows if r[feature] == value]
        counts.append(len(rows))
    return counts


UNSATISFIABLE = """\
name: none
version: 1
kind: rsa
lexicon: @LEXICON@
factors:
  frame: [a, b]
template: "I saw the {noun}."
slots:
  noun: {pos: noun, animacy: inanimate, human: "yes"}
items_per_cell: 2
"""


def test_unsatisfiable_constraint_names_slot_constraint_and_counts(tmp_path):
    with pytest.raises(ConstraintError) as err:  # caught when the file validates
        _custom(tmp_path, UNSATISFIABLE)
    n_noun, n_inanimate, n_human = _count(pos="noun", animacy="inanimate", human="yes")
    assert n_noun > n_inanimate > 0 and n_human == 0
    assert str(err.value) == (
        f"{tmp_path / 'p.yaml'}:9: slots.noun: slot 'noun' in condition 'a': no entry satisfies "
        f"the constraints (pos in ['noun']: {n_noun}; animacy in ['inanimate']: {n_inanimate}; "
        f"human in ['yes']: 0 of {len(LEX_ROWS)} entries)")
    assert isinstance(err.value, SpecError)


def test_generator_explains_what_validation_would_have_caught(tmp_path):
    # a spec built around validation still fails with the generator's own account
    valid = _custom(tmp_path, UNSATISFIABLE.replace(', human: "yes"', ""))
    bad = SPECS["rsa_number_animacy"].slots[0].constraints[0]  # pos: noun
    from probing.paradigms.spec import Constraint, Slot
    spec = valid.__class__(**{**valid.__dict__, "slots": (Slot("noun", (
        bad, Constraint("animacy", "is", "inanimate"), Constraint("human", "is", "yes"))),)})
    with pytest.raises(ConstraintError) as err:
        generate(spec)
    n_noun, n_inanimate, _ = _count(pos="noun", animacy="inanimate", human="yes")
    assert err.value.message == (
        "slot 'noun' in condition 'a': no lemma satisfies the constraints in every cell "
        f"(pos in ['noun']: {n_noun}; animacy in ['inanimate']: {n_inanimate}; "
        f"human in ['yes']: 0 of {len(LEX_ROWS)} entries)")
    assert (err.value.field, err.value.file) == ("slots.noun", spec.path)


def test_factor_level_no_entry_has(tmp_path):
    with pytest.raises(ConstraintError) as err:
        _custom(tmp_path, """\
name: dual
version: 1
kind: rsa
lexicon: @LEXICON@
factors:
  n: [sg, du]
template: "I saw the {noun}."
slots:
  noun: {pos: noun, number: $n}
items_per_cell: 2
""")
    assert str(err.value) == (
        f"{tmp_path / 'p.yaml'}:9: slots.noun.number: 'du' (a level of factor 'n') is not a value "
        f"of 'number' in the lexicon {LEXICON}; allowed: pl, sg")


def test_contrast_without_a_partner(tmp_path):
    spec = _custom(tmp_path, """\
name: nopartner
version: 1
kind: minimal_pairs
lexicon: @LEXICON@
template: "The {subject} smiled {adverbial}."
slots:
  subject: {pos: noun, human: "yes", number: sg}
  adverbial: {pos: adverbial}
contrast: {slot: adverbial, feature: number}
items_per_cell: 2
""")
    with pytest.raises(ConstraintError) as err:
        generate(spec)
    (n_adverbial,) = _count(pos="adverbial")
    assert err.value.message == (
        "slot 'adverbial' in condition 'all': no lemma satisfies the constraints in every cell "
        f"(pos in ['adverbial']: {n_adverbial}; with a contrast partner differing in 'number': 0 "
        f"of {len(LEX_ROWS)} entries)")


SMALL_LEXICON = "form\tlemma\tpos\nbox\tbox\tnoun\ncup\tcup\tnoun\n"


def test_lexicon_too_small_for_items_per_cell(tmp_path):
    text = ('name: few\nversion: 1\nkind: rsa\nlexicon: @LEXICON@\nfactors: {frame: [a, b]}\n'
            'template: "I saw the {noun}."\nslots:\n  noun: {pos: noun}\nitems_per_cell: 5\n')
    with pytest.raises(ConstraintError) as err:
        _custom(tmp_path, text, lexicon=SMALL_LEXICON)
    assert str(err.value) == (f"{tmp_path / 'p.yaml'}:9: items_per_cell: condition 'a' has at most "
                              "2 distinct texts (noun: 2 form(s)) but items_per_cell is 5; add "
                              "lexicon entries or lower items_per_cell")
    spec = _custom(tmp_path, text.replace("items_per_cell: 5", "items_per_cell: 2"), lexicon=SMALL_LEXICON)
    assert sorted(generate(spec).table["text"]) == ["I saw the box."] * 2 + ["I saw the cup."] * 2
    # the generator's own limit, on a spec that skipped validation
    import dataclasses
    with pytest.raises(ConstraintError) as err:
        generate(dataclasses.replace(spec, items_per_cell=5))
    assert str(err.value) == (f"{tmp_path / 'p.yaml'}: items_per_cell: could generate only 2 of 5 "
                              "distinct items per cell after 125 draws; add lexicon entries or "
                              "lower items_per_cell")


def test_duplicates_are_redrawn_until_every_distinct_item_is_used(tmp_path):
    # 3 nouns in two slots make exactly 6 distinct texts; asking for 6 needs every one once
    spec = _custom(tmp_path, 'name: six\nversion: 1\nkind: rsa\nlexicon: @LEXICON@\n'
                   'factors: {frame: [a, b]}\ntemplate: "The {x} and the {y}."\n'
                   "slots:\n  x: {pos: noun}\n  y: {pos: noun}\nitems_per_cell: 6\n",
                   lexicon=SMALL_LEXICON + "pen\tpen\tnoun\n")
    expected = sorted(f"The {x} and the {y}." for x in ("box", "cup", "pen")
                      for y in ("box", "cup", "pen") if x != y)
    for seed in range(3):
        table = generate(spec, seed=seed).table
        assert sorted(table.loc[table["condition"] == "a", "text"]) == expected


def test_two_slots_cannot_share_the_only_lemma(tmp_path):
    spec = _custom(tmp_path, 'name: one\nversion: 1\nkind: rsa\nlexicon: @LEXICON@\nfactors: {frame: [a, b]}\n'
                   'template: "{a} and {b}."\nslots:\n  a: {pos: noun}\n  b: {pos: noun}\n'
                   "items_per_cell: 1\n", lexicon="form\tlemma\tpos\ncat\tcat\tnoun\n")
    with pytest.raises(ConstraintError) as err:
        generate(spec)
    assert err.value.message == ("slot 'b': all 1 eligible lemma(s) are already used by other "
                                 "slots of the same stimulus; add lexicon entries")
    assert err.value.field == "slots.b"


# --- labels read off a template paradigm, and saving ----------------------------------------


def test_labels_from_a_paradigm_keep_good_members_and_label_columns():
    spec = SPECS["agreement_labels"]
    inner = generate(load_paradigm(REPO / "paradigms" / spec.source.path), seed=spec.seed)
    labels = generate(spec)
    good = inner.table[inner.table["role"] == "good"].reset_index(drop=True)
    pd.testing.assert_frame_equal(labels.table, good)
    base = ["stimulus_id", "word_index", "word", "char_start", "char_end", "slot"]
    assert list(labels.words.columns) == base + list(spec.labels)
    expected = inner.words[inner.words["stimulus_id"].isin(good["stimulus_id"])]
    pd.testing.assert_frame_equal(labels.words, expected[base + list(spec.labels)].reset_index(drop=True))
    assert labels.info["label_columns"] == list(spec.labels) and labels.kind == "labels"


def test_labels_naming_an_unknown_column(tmp_path):
    text = (f"name: lab\nversion: 1\nkind: labels\nsource:\n  format: paradigm\n"
            f"  path: {REPO / 'paradigms' / 'agreement_simple.yaml'}\nlabels: [pos, numbr]\n")
    spec = parse_paradigm(text, path=tmp_path / "p.yaml")
    with pytest.raises(SpecError) as err:
        generate(spec)
    assert err.value.field == "labels" and err.value.file == str(tmp_path / "p.yaml")
    assert err.value.message == ("unknown label column(s) ['numbr']; allowed: lemma, pos, zipf, "
                                 "number, person, agr, animacy, human, gender, countability, vform, "
                                 "transitivity, case, det_type, npi_licensor, aux_type, tense")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"], ids=["csv", "parquet"])
def test_save_load_round_trip_of_table_and_regions(suffix, tmp_path, stimuli_of):
    stimuli = stimuli_of("filler_gap")
    written = save_stimuli(stimuli, tmp_path / f"s{suffix}")
    assert sorted(p.name for p in written) == sorted(
        [f"s{suffix}", f"s.regions{suffix}", f"s.words{suffix}", "s.meta.json"])
    loaded = load_stimuli(tmp_path / f"s{suffix}")
    pd.testing.assert_frame_equal(loaded.table, stimuli.table, check_dtype=False)
    pd.testing.assert_frame_equal(loaded.regions, stimuli.regions, check_dtype=False)
    assert (loaded.paradigm, loaded.kind, loaded.predictions, loaded.info) == \
           (stimuli.paradigm, stimuli.kind, stimuli.predictions, stimuli.info)


@pytest.mark.parametrize("suffix", [
    ".csv",
    ".parquet",
], ids=["csv", "parquet"])
def test_save_load_round_trip_of_words(suffix, tmp_path, stimuli_of):
    stimuli = stimuli_of("filler_gap")
    save_stimuli(stimuli, tmp_path / f"s{suffix}")
    loaded = load_stimuli(tmp_path / f"s{suffix}")
    pd.testing.assert_frame_equal(loaded.words, stimuli.words, check_dtype=False)


@pytest.mark.parametrize("name", LOCALIZERS, ids=LOCALIZERS)
def test_localizer_jabberwocky_keeps_function_words_and_replaces_content_words(name, stimuli_of):
    from probing.paradigms.generate.localizer_stimuli import FUNCTION_WORDS

    items = [i for i in _localizer_items(stimuli_of(name)) if "jabberwocky" in i]
    for item in items:
        sentence, jabber = _split(item["sentences"])[0], _split(item["jabberwocky"])[0]
        assert [len(w) for w in jabber] == [len(w) for w in sentence]
        for real, fake in zip(sentence, jabber, strict=True):
            if real.lower().strip(",;:") in FUNCTION_WORDS:
                assert fake.lower() == real.lower()
            else:
                assert fake.lower().strip(",;:") not in LEX_TOKENS, fake
                if real.endswith("ed") and len(real) > 4:
                    assert fake.endswith("ed")


def test_adding_jabberwocky_leaves_the_other_conditions_unchanged():
    import dataclasses

    spec = SPECS["language_localizer"]
    without = dataclasses.replace(spec, conditions=tuple(c for c in spec.conditions
                                                         if c != "jabberwocky"))
    full, short = generate(spec).table, generate(without).table
    assert "jabberwocky" in set(full["condition"]) and "jabberwocky" not in set(short["condition"])
    merged = short.merge(full, on="stimulus_id", suffixes=("_short", "_full"))
    assert len(merged) == len(short) and (merged["text_short"] == merged["text_full"]).all()
