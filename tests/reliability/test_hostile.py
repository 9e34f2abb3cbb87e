"""Hostile input: arbitrary, unicode, huge and deeply nested files get a one-line
``ProbingError`` or a valid result, never a traceback or a hang.

Property-based (hypothesis) with modest example counts, so the suite stays fast; the
shapes that once crashed or hung have their own explicit tests.
"""

import json
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probing._core.config import config_context
from probing._core.errors import ProbingError
from probing.paradigms import generate, load_paradigm, parse_paradigm
from probing.paradigms.importers import read_blimp, read_conllu, read_syntaxgym, read_table_source
from probing.stimuli import Stimuli, load_stimuli
from tests.conftest import DATA, PARADIGMS

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20))
structures = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20)


@contextmanager
def within(seconds):
    """Fail (instead of hanging the suite) when the block runs past ``seconds``."""
    def alarm(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def answers(function, *args, **kwargs):
    """Call; a result or a one-line ProbingError is fine, anything else fails the test."""
    with within(30):
        try:
            return function(*args, **kwargs)
        except ProbingError as err:
            assert "\n" not in str(err), str(err)
            return err


def _write(name, data):
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return path


# -- paradigm files -----------------------------------------------------------------------

@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_as_paradigm(text):
    answers(parse_paradigm, text)


@SETTINGS
@given(structures)
def test_arbitrary_yaml_structure_as_paradigm(data):
    answers(parse_paradigm, yaml.safe_dump(data, allow_unicode=True))


SHIPPED = sorted(PARADIGMS.glob("*.yaml"))


@SETTINGS
@given(st.sampled_from(SHIPPED), st.data())
def test_shipped_paradigm_with_one_field_replaced(path, data):
    spec = yaml.safe_load(path.read_text())
    field = data.draw(st.sampled_from(sorted(spec)))
    spec[field] = data.draw(structures)
    result = answers(parse_paradigm, yaml.safe_dump(spec, allow_unicode=True), path=path)
    if not isinstance(result, ProbingError):
        answers(generate, result)


HOSTILE_YAML = {
    "deep_list": ("a: " + "[" * 5000 + "]" * 5000, "nested deeper than 50 levels"),
    "deep_map": ("a: " + "{b: " * 3000 + "1" + "}" * 3000, "nested deeper than 50 levels"),
    "billion_laughs": ("a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)),
        r"aliases \(\*name\) are not allowed"),
    "huge": ("name: " + "x" * (2**20 + 1), "larger than 1024 KiB"),
    "python_tag": ("name: !!python/object/apply:os.system ['echo hi']",
                   "could not determine a constructor"),
    "unhashable_key": ("{[1]: 3}", "invalid YAML"),
}


@pytest.mark.parametrize(("text", "message"), HOSTILE_YAML.values(), ids=HOSTILE_YAML)
def test_hostile_yaml_is_a_one_line_error(text, message):
    with within(20), pytest.raises(ProbingError, match=message):
        parse_paradigm(text)


# -- paths in paradigm files ----------------------------------------------------------------

LEXICON = (DATA / "lexicon" / "english_core.tsv").resolve()


def _paradigm(folder, lexicon):
    text = (PARADIGMS / "agreement_simple.yaml").read_text()
    text = text.replace("lexicon: ../data/lexicon/english_core.tsv", f"lexicon: {lexicon}")
    path = folder / "p.yaml"
    path.write_text(text)
    return path


def test_paths_may_not_escape(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "lex.tsv").write_bytes(LEXICON.read_bytes())
    (tmp_path / "study").mkdir()
    for value in ("../outside/lex.tsv", str(outside / "lex.tsv"), "/etc/passwd"):
        with pytest.raises(ProbingError, match=rf"p.yaml:\d+: lexicon: '{value}' is outside "
                           r"the folders a paradigm file may read"):
            load_paradigm(_paradigm(tmp_path / "study", value))
    (tmp_path / "study" / "link.tsv").symlink_to(outside / "lex.tsv")
    with pytest.raises(ProbingError, match="is outside"):
        load_paradigm(_paradigm(tmp_path / "study", "link.tsv"))


def test_allowed_paths(tmp_path, monkeypatch):
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "lex.tsv").write_bytes(LEXICON.read_bytes())
    assert load_paradigm(_paradigm(tmp_path / "study", "lex.tsv")).name  # its own folder
    assert load_paradigm(_paradigm(tmp_path / "study", str(LEXICON))).name  # package data
    outside = tmp_path / "corpora"
    outside.mkdir()
    (outside / "lex.tsv").write_bytes(LEXICON.read_bytes())
    with config_context(allowed_paths=[str(outside)]):
        assert load_paradigm(_paradigm(tmp_path / "study", "../corpora/lex.tsv")).name
    monkeypatch.setenv("PROBING_ALLOWED_PATHS", str(outside))
    assert load_paradigm(_paradigm(tmp_path / "study", "../corpora/lex.tsv")).name


def test_a_paradigm_source_may_not_loop(tmp_path):
    path = tmp_path / "self.yaml"
    path.write_text("name: selfy\nversion: 1\nkind: labels\ndescription: x\n"
                    "source:\n  format: paradigm\n  path: self.yaml\nlabels: [pos]\n")
    with within(20), pytest.raises(ProbingError, match="must name a template paradigm|read labels from a template paradigm"):
        generate(load_paradigm(path))


# -- importers ------------------------------------------------------------------------------

blimp_records = st.fixed_dictionaries(
    {"sentence_good": st.text(max_size=30), "sentence_bad": st.text(max_size=30)},
    optional={"UID": st.one_of(st.text(max_size=10), st.integers()),
              "pairID": st.one_of(st.text(max_size=5), st.integers(), st.none())})
jsonl_lines = st.one_of(blimp_records.map(json.dumps), structures.map(json.dumps),
                        st.text(max_size=40))


@SETTINGS
@given(st.lists(jsonl_lines, max_size=6))
def test_blimp_jsonl(lines):
    result = answers(read_blimp, _write("agr.jsonl", "\n".join(lines)))
    assert isinstance(result, Stimuli | ProbingError)


SUITE = json.loads((DATA / "syntaxgym" / "number_src.json").read_text())


@SETTINGS
@given(st.data())
def test_syntaxgym_json(data):
    suite = json.loads(json.dumps(SUITE))
    suite["items"] = suite["items"][:2]
    target = data.draw(st.sampled_from(["meta", "region_meta", "predictions", "items", "item",
                                        "condition", "text"]))
    if target == "text":
        text = data.draw(st.text(max_size=200))
    else:
        value = data.draw(structures)
        if target == "item":
            suite["items"][0] = value
        elif target == "condition":
            suite["items"][0]["conditions"][0] = value
        else:
            suite[target] = value
        text = json.dumps(suite)
    answers(read_syntaxgym, _write("suite.json", text))


CONLLU = "\n".join((DATA / "ud_english_ewt" / "en_ewt-ud-dev.conllu").read_text(
    encoding="utf-8").split("\n\n")[0].splitlines()) + "\n\n"
conllu_field = st.one_of(st.text(alphabet=st.characters(blacklist_characters="\t\n\r"), max_size=8),
                         st.sampled_from(["_", "1", "0", "2-3", "1.1", "-1"]))


@SETTINGS
@given(st.data())
def test_conllu(data):
    lines = CONLLU.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(lines) - 1))
        fields = lines[at].split("\t")
        column = data.draw(st.integers(0, max(len(fields) - 1, 0)))
        fields[column] = data.draw(conllu_field)
        lines[at] = "\t".join(fields)
    answers(read_conllu, _write("t.conllu", "\n".join(lines) + "\n"))


@SETTINGS
@given(st.text(max_size=200))
def test_conllu_arbitrary_text(text):
    answers(read_conllu, _write("t.conllu", text))


csv_text = st.lists(st.lists(st.text(max_size=8), min_size=1, max_size=4), max_size=5).map(
    lambda rows: "\n".join(",".join(r) for r in [["good", "bad", "item"], *rows]))


@SETTINGS
@given(st.one_of(csv_text, st.text(max_size=200)))
def test_table_source(text):
    answers(read_table_source, _write("t.csv", text), kind="minimal_pairs",
            columns={"good": "good", "bad": "bad", "item_id": "item"})


@SETTINGS
@given(st.one_of(csv_text.map(lambda t: t.replace("good,bad,item", "stimulus_id,text,x")),
                 st.binary(max_size=200)))
def test_plain_stimuli_table(data):
    answers(load_stimuli, _write("s.csv", data))
