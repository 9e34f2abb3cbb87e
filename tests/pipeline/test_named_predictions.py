"""Named predictions: ``{name, formula}`` entries validate, round-trip and name table rows."""

import pytest

from probing._core.errors import SpecError
from probing.paradigms import dump_paradigm, generate, parse_paradigm
from tests.conftest import DATA

DESIGN = f"""\
name: named
version: 1
kind: factorial
lexicon: {DATA / 'lexicon' / 'english_core.tsv'}
factors:
  punctuation: [comma, nocomma]
slots:
  subject: {{pos: noun, animacy: animate, number: sg}}
  verb: {{pos: verb, vform: past, transitivity: intransitive}}
regions:
  - intro: "When the {{subject}} left"
  - comma: {{comma: ",", nocomma: ""}}
  - main_verb: "{{verb}}."
predictions:
  - {{name: comma_helps, formula: "(main_verb;%nocomma%) > (main_verb;%comma%)"}}
  - "(intro;%nocomma%) = (intro;%comma%)"
items_per_cell: 2
"""


def test_named_and_plain_predictions_validate_and_round_trip(tmp_path):
    spec = parse_paradigm(DESIGN, path=tmp_path / "named.yaml")
    assert spec.predictions == ("(main_verb;%nocomma%) > (main_verb;%comma%)",
                                "(intro;%nocomma%) = (intro;%comma%)")
    assert dict(spec.prediction_names) == {spec.predictions[0]: "comma_helps"}
    assert parse_paradigm(dump_paradigm(spec), path=tmp_path / "named.yaml") == spec
    stimuli = generate(spec)
    assert stimuli.info["prediction_names"] == {spec.predictions[0]: "comma_helps"}


def test_the_predictions_table_names_a_named_prediction(tmp_path, make_lm):
    from probing.pipeline.paradigm_run import run_paradigm

    path = tmp_path / "named.yaml"
    path.write_text(DESIGN)
    tables = run_paradigm(path, make_lm("gpt2"), tmp_path / "run")
    assert set(tables["predictions"]["prediction"]) == {
        "comma_helps", "(intro;%nocomma%) = (intro;%comma%)"}


@pytest.mark.parametrize("entry, message", [
    ("{name: x, formule: y}", "a named prediction is {name: NAME, formula: FORMULA}"),
    ("{name: 1bad, formula: \"(intro;%comma%) > 0\"}", "is not a valid name"),
    ("{name: x, formula: \"(nowhere;%comma%) > 0\"}", "region 'nowhere' is not in the design"),
], ids=["keys", "name", "formula"])
def test_bad_named_predictions(entry, message, tmp_path):
    text = DESIGN.replace('  - "(intro;%nocomma%) = (intro;%comma%)"', f"  - {entry}")
    with pytest.raises(SpecError, match=message):
        parse_paradigm(text, path=tmp_path / "named.yaml")


def test_names_must_be_unique(tmp_path):
    text = DESIGN.replace('  - "(intro;%nocomma%) = (intro;%comma%)"',
                          '  - {name: comma_helps, formula: "(intro;%nocomma%) > 0"}')
    with pytest.raises(SpecError, match="two predictions share a name"):
        parse_paradigm(text, path=tmp_path / "named.yaml")
