"""Validation that promises generation (probing.paradigms.feasibility).

Bad input gets its own test asserting the located message; a hypothesis property test
checks the promise itself: every design ``validate_paradigm`` accepts generates, for
several seeds.
"""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from probing._core.errors import ConstraintError, ProbingError, SpecError
from probing.cli.main import main
from probing.paradigms import generate, parse_paradigm, validate_paradigm

REPO = Path(__file__).resolve().parents[2]
LEXICON = REPO / "data" / "lexicon" / "english_core.tsv"


def _write(tmp_path, text, name="p.yaml", lexicon=None):
    if lexicon is not None:
        (tmp_path / "lex.tsv").write_text(lexicon, encoding="utf-8")
    path = tmp_path / name
    path.write_text(text.replace("@LEXICON@", "lex.tsv" if lexicon else str(LEXICON)), encoding="utf-8")
    return path


def _line(path, needle):
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


BASE = """\
name: base
version: 1
kind: rsa
lexicon: @LEXICON@
factors:
  number: [sg, pl]
template: "The {subject} {verb} {adverbial}."
slots:
  subject: {pos: noun, human: "yes", number: $number}
  verb: {pos: verb, vform: pres, transitivity: intransitive, number: {same_as: subject}}
  adverbial: {pos: adverbial}
items_per_cell: 10
"""


def test_base_design_validates_and_generates(tmp_path):
    spec, stimuli = validate_paradigm(_write(tmp_path, BASE))
    assert len(stimuli.table) == 20
    assert stimuli.table.equals(generate(spec).table)  # the check generated with the file's seed


@pytest.mark.parametrize(("old", "new", "needle", "message"), [
    ('human: "yes"', 'human: "yess"', "subject:",
     "slots.subject.human: 'yess' is not a value of 'human' in the lexicon {lex}; allowed: no, yes"),
    ("vform: pres", "vform: [pres, perfect]", "verb:",
     "slots.verb.vform: 'perfect' is not a value of 'vform' in the lexicon {lex}; allowed: ing, part, "
     "past, pres"),
    ("number: [sg, pl]", "number: [sg, dual]", "subject:",
     "slots.subject.number: 'dual' (a level of factor 'number') is not a value of 'number' in the "
     "lexicon {lex}; allowed: pl, sg"),
], ids=["estimate", "value-in-list", "factor-level"])
def test_value_unknown_to_the_lexicon(tmp_path, old, new, needle, message):
    path = _write(tmp_path, BASE.replace(old, new))
    with pytest.raises(ConstraintError) as err:
        validate_paradigm(path)
    assert str(err.value) == f"{path}:{_line(path, needle)}: " + message.format(lex=LEXICON)


AGREE_LEXICON = ("form\tlemma\tpos\tnumber\n"
                 "cat\tcat\tnoun\tsg\ndog\tdog\tnoun\tsg\n"
                 "purr\tpurr\tverb\tpl\nbark\tbark\tverb\tpl\n")
AGREE = """\
name: agree
version: 1
kind: rsa
lexicon: @LEXICON@
factors: {frame: [a, b]}
template: "The {subject} {verb}."
slots:
  subject: {pos: noun}
  verb: {pos: verb, number: {same_as: subject}}
items_per_cell: 1
"""


def test_agreement_nothing_satisfies(tmp_path):
    path = _write(tmp_path, AGREE, lexicon=AGREE_LEXICON)
    with pytest.raises(ConstraintError) as err:
        parse_paradigm(path.read_text(), path=path)  # caught on load, before generation
    assert str(err.value) == (
        f"{path}:{_line(path, 'verb:')}: slots.verb: slot 'verb' in condition 'a': no entry "
        "satisfies the constraints (pos in ['verb']: 2; number same_as subject (any value it "
        "can take): 0 of 4 entries)")


def test_agreement_with_a_controller_that_lacks_the_feature_validates(tmp_path):
    # a subject with no number (empty cell) agrees with any verb
    lexicon = AGREE_LEXICON.replace("cat\tcat\tnoun\tsg", "sheep\tsheep\tnoun\t")
    spec, stimuli = validate_paradigm(_write(tmp_path, AGREE, lexicon=lexicon))
    assert set(stimuli.table["text"]) <= {"The sheep purr.", "The sheep bark.", "The dog purr.",
                                          "The dog bark."}
    assert any(t.startswith("The sheep") for t in stimuli.table["text"])


def test_cli_validate_runs_the_feasibility_check(tmp_path, capsys):
    # loads, but no item can be length-matched: only generating finds it
    path = _write(tmp_path, BASE.replace("items_per_cell: 10", "items_per_cell: 3\n"
                                         "match: {length: chars, tolerance: 0}\n"
                                         "# smiles/smile always differ by a character")
                  .replace("kind: rsa", "kind: minimal_pairs")
                  .replace("factors:", "contrast: {slot: verb, feature: number, keep: [lemma]}\n"
                           "factors:"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"probing validate: error: {path}:{_line(path, 'items_per_cell')}: "
                   "items_per_cell: could generate only 0 of 3 distinct length-matched items per "
                   "cell after 75 draws; add lexicon entries or lower items_per_cell\n")


def test_labels_paradigm_validates_the_paradigm_it_reads(tmp_path):
    inner = _write(tmp_path, BASE.replace('human: "yes"', 'human: "yess"'), name="inner.yaml")
    outer = _write(tmp_path, "name: lab\nversion: 1\nkind: labels\n"
                   "source: {format: paradigm, path: inner.yaml}\nlabels: [number]\n")
    with pytest.raises(SpecError) as err:
        validate_paradigm(outer)
    assert str(err.value).startswith(f"{inner}:{_line(inner, 'subject:')}: slots.subject.human: 'yess'")


def test_labels_paradigm_may_not_read_a_labels_paradigm(tmp_path):
    _write(tmp_path, "name: a\nversion: 1\nkind: labels\nsource: {format: paradigm, path: a.yaml}\n",
           name="a.yaml")
    outer = _write(tmp_path, "name: b\nversion: 1\nkind: labels\n"
                   "source: {format: paradigm, path: a.yaml}\n")
    with pytest.raises(SpecError, match=r"p\.yaml:4: source\.path: 'a\.yaml' is a labels paradigm"):
        validate_paradigm(outer)


# --- the promise, as a property ---------------------------------------------------------

NOUN_FEATURES = {"number": ["sg", "pl"], "animacy": ["animate", "inanimate"],
                 "human": ["yes", "no"], "gender": ["m", "f"]}
VERB_FEATURES = {"vform": ["pres", "past", "part"],
                 "transitivity": ["intransitive", "transitive", "optional"]}


@st.composite
def designs(draw):
    """Paradigm files over the shipped lexicon: factors bound to noun and verb features,
    fixed values, agreement or mismatch, and an optional reflexive."""
    noun_factors = draw(st.lists(st.sampled_from(sorted(NOUN_FEATURES)), max_size=2, unique=True))
    verb_factor = draw(st.sampled_from([None, "vform", "transitivity"]))
    factors = {f: NOUN_FEATURES[f] for f in noun_factors}
    if verb_factor:
        factors[verb_factor] = draw(st.lists(st.sampled_from(VERB_FEATURES[verb_factor]),
                                             min_size=2, max_size=2, unique=True))
    noun = {"pos": "noun", **{f: f"${f}" for f in noun_factors}}
    for feature in sorted(set(NOUN_FEATURES) - set(noun_factors)):
        if draw(st.booleans()):
            noun[feature] = draw(st.sampled_from(NOUN_FEATURES[feature]))
    verb = {"pos": "verb"}
    for feature, values in VERB_FEATURES.items():
        verb[feature] = f"${feature}" if feature == verb_factor else draw(st.sampled_from(values))
    agreement = draw(st.sampled_from([None, "same_as", "differs_from"]))
    if agreement:
        verb["number"] = {agreement: "subject"}
    slots = {"subject": noun, "verb": verb, "adverbial": {"pos": "adverbial"}}
    template = "The {subject} {verb} {adverbial}."
    if draw(st.booleans()):
        slots["reflexive"] = {"pos": "reflexive", "number": {"same_as": "subject"},
                              "gender": {"same_as": "subject"}}
        template = "The {subject} {verb} {reflexive} {adverbial}."
    if not factors:
        factors = {"frame": ["a", "b"]}
    seed = draw(st.integers(0, 1000))
    items = draw(st.integers(1, 12))
    return _yaml(factors, slots, template, items, seed)


def _yaml(factors, slots, template, items, seed):
    def value(v):
        if isinstance(v, dict):
            (k, x), = v.items()
            return f"{{{k}: {x}}}"
        return f'"{v}"'

    lines = ["name: prop", "version: 1", "kind: rsa", f"seed: {seed}", "lexicon: @LEXICON@",
             "factors:"]
    lines += [f"  {f}: [{', '.join(levels)}]" for f, levels in factors.items()]
    lines += [f'template: "{template}"', "slots:"]
    lines += [f"  {s}: {{{', '.join(f'{k}: {value(v)}' for k, v in c.items())}}}"
              for s, c in slots.items()]
    lines.append(f"items_per_cell: {items}")
    return "\n".join(lines) + "\n"


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(text=designs())
def test_what_validates_generates_for_several_seeds(text, tmp_path):
    path = _write(tmp_path, text)
    try:
        spec, _ = validate_paradigm(path)
    except ProbingError:
        assume(False)
    for seed in (1, 2, 3):
        stimuli = generate(spec, seed=seed)
        n_cells = len(spec.conditions_of_factors)
        assert len(stimuli.table) == n_cells * spec.items_per_cell
