"""Tests for safe YAML reading with a field-path -> line map (probing.paradigms.yamlio)."""

import pytest
import yaml

from probing._core.config import config_context
from probing._core.errors import SpecError
from probing.paradigms.yamlio import Located, dump_yaml, parse_yaml, read_yaml

TEXT = """\
# a comment line
name: x
slots:
  subject: {pos: noun, number: sg}
  verb:
    pos: verb
regions:
  - prefix: "I know"
  - object: {gap: "", nogap: "the {object}"}
predictions: ["(1;%a%) > 0"]
"""

# Written by hand from TEXT: each field path and the line its key (or item) starts on.
EXPECTED_LINES = {
    "name": 2, "slots": 3, "slots.subject": 4, "slots.subject.pos": 4,
    "slots.subject.number": 4, "slots.verb": 5, "slots.verb.pos": 6, "regions": 7,
    "regions.0": 8, "regions.0.prefix": 8, "regions.1": 9, "regions.1.object": 9,
    "regions.1.object.gap": 9, "regions.1.object.nogap": 9, "predictions": 10,
    "predictions.0": 10,
}


def test_line_map_of_every_field():
    data, lines = parse_yaml(TEXT)
    assert dict(lines) == EXPECTED_LINES
    assert data == yaml.safe_load(TEXT)


@pytest.mark.parametrize(("field", "line"), [
    ("slots.verb.pos", 6),          # recorded itself
    ("slots.verb.number", 5),       # absent: its parent's line
    ("slots.verb.number.same_as", 5),
    ("regions.1.object.default", 9),
    ("items_per_cell", None),       # absent at the top level: no line
    ("", None),
], ids=["recorded", "missing-child", "missing-grandchild", "missing-in-list", "missing-top", "empty"])
def test_line_falls_back_to_the_nearest_recorded_ancestor(field, line):
    assert parse_yaml(TEXT)[1].line(field) == line


def test_located_is_a_plain_mapping():
    lines = Located({"a": 1, "a.b": 2})
    assert lines.line("a.b.c") == 2 and lines.line("b") is None


def test_yes_is_read_as_a_boolean():
    # The README tells users to quote "yes"/"no" because of this YAML 1.1 rule.
    assert parse_yaml('a: yes\nb: "yes"\n')[0] == {"a": True, "b": "yes"}


def test_read_yaml_equals_parse_yaml(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(TEXT, encoding="utf-8")
    assert read_yaml(path) == parse_yaml(TEXT)


def test_parse_does_not_execute_python_tags():
    text = "name: !!python/object/apply:os.system ['echo hacked']\n"
    with pytest.raises(SpecError, match="invalid YAML: could not determine a constructor") as err:
        parse_yaml(text, file="p.yaml")
    assert err.value.line == 1 and err.value.file == "p.yaml"


@pytest.mark.parametrize(("text", "line", "message"), [
    ("name: x\nslots: [a, b\nkind: rsa\n", 3, "invalid YAML: expected ',' or ']'"),
    ("name: x\n\tversion: 1\n", 2, "invalid YAML: found character '\\t' that cannot start any token"),
    ("name: x\n  version: 1\n", 2, "invalid YAML: mapping values are not allowed here"),
    ("name: 'x\n", 2, "invalid YAML: found unexpected end of stream"),
    ("- a\n- b\n", 1, "a paradigm file must be a YAML mapping (key: value lines)"),
    ("just text\n", 1, "a paradigm file must be a YAML mapping (key: value lines)"),
    ("", 1, "a paradigm file must be a YAML mapping (key: value lines)"),
    ("name: x\nslots:\n  a: 1\n  a: 2\n", 4, "duplicate key (first on line 3)"),
    ("name: x\nkind: a\nkind: b\n", 3, "duplicate key (first on line 2)"),
], ids=["unclosed-list", "tab", "bad-indent", "unclosed-quote", "list", "scalar", "empty",
        "duplicate-nested-key", "duplicate-top-key"])
def test_malformed_yaml(text, line, message):
    with pytest.raises(SpecError) as err:
        parse_yaml(text, file="p.yaml")
    assert err.value.message.startswith(message)
    assert err.value.line == line
    assert str(err.value).startswith(f"p.yaml:{line}: ")


def test_duplicate_key_names_the_field():
    with pytest.raises(SpecError) as err:
        parse_yaml("name: x\nslots:\n  a: 1\n  a: 2\n", file="p.yaml")
    assert err.value.field == "slots.a"
    assert str(err.value) == "p.yaml:4: slots.a: duplicate key (first on line 3)"


def test_same_key_in_different_mappings_is_not_a_duplicate():
    data, lines = parse_yaml("a: {x: 1}\nb: {x: 2}\n")
    assert data == {"a": {"x": 1}, "b": {"x": 2}} and lines.line("b.x") == 2


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.yaml", None, "no such file"),
    ("folder.yaml", "DIR", "cannot read file (IsADirectoryError)"),
    ("latin1.yaml", b"name: caf\xe9\n", "cannot read file (UnicodeDecodeError)"),
], ids=["missing", "directory", "not-utf8"])
def test_unreadable_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(SpecError) as err:
        read_yaml(path)
    assert err.value.message == message and err.value.file == str(path)
    assert err.value.line is None


def test_dump_keeps_insertion_order_and_unicode():
    data = {"name": "x", "description": "naïve café", "slots": {"b": {"pos": "noun"},
                                                               "a": {"pos": "verb"}}}
    text = dump_yaml(data)
    assert text.index("name") < text.index("description") < text.index("slots")
    assert text.index("b:") < text.index("a:")
    assert "naïve café" in text


@pytest.mark.parametrize("data", [
    {"name": "x", "human": "yes", "n": 0, "levels": ["sg", "pl"]},
    {"template": "The {subject} {verb}.", "nested": {"a": [{"b": ""}, {"c": "x: y"}]}},
    {"predictions": ["(object;%what_nogap%) > (object;%that_nogap%)"], "empty": []},
], ids=["scalars", "nested", "formula"])
def test_dump_then_parse_round_trip(data):
    assert parse_yaml(dump_yaml(data))[0] == data


def test_a_command_parses_its_paradigm_once(monkeypatch, tmp_path):
    # probing run checks the file before the model loads and reads it again to run
    # (#14: three parses per run); an edited file is parsed afresh.
    import probing.paradigms.load as load
    from probing.cli.main import main
    from tests.conftest import PARADIGMS

    calls = []
    real = load.read_yaml
    monkeypatch.setattr(load, "read_yaml", lambda path: calls.append(str(path)) or real(path))
    path = tmp_path / "agreement_simple.yaml"
    text = (PARADIGMS / "agreement_simple.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("../data/", str(PARADIGMS.parent / "data") + "/"), encoding="utf-8")
    argv = ["run", str(path), "--model", str(tmp_path / "no-model"), "--out", str(tmp_path / "r")]
    with config_context(allowed_paths=[str(PARADIGMS.parent / "data")]):
        assert main(argv) == 2  # the model cannot load: everything before it ran
        assert calls == [str(path)]
        path.write_text(path.read_text(encoding="utf-8").replace("seed:", "seed: 7 #"),
                        encoding="utf-8")
        assert main(argv) == 2
    assert calls == [str(path)] * 2
