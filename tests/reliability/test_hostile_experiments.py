"""Hostile experiment files: arbitrary YAML, unicode, huge and deeply nested files, a wrong
type in every field. The answer is a one-line ProbingError (exit 2 through the CLI) or
a valid plan, never a traceback or a hang. No model is ever loaded."""

import copy
import datetime
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probing._core.errors import ProbingError
from probing.cli.main import main
from probing.pipeline.experiment import ANALYSES, plan_experiment
from probing.pipeline.experiment.experiment_spec import load_experiment
from tests.conftest import PARADIGMS
from tests.reliability.test_hostile import structures, within

# the default run: a few examples each (a plan of the base file takes about a second)
FAST = settings(max_examples=10, deadline=datetime.timedelta(seconds=20), derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=400, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# a valid experiment over shipped paradigms (absolute paths) and every registered kind
BASE = {
    "name": "hostile",
    "description": "every kind",
    "paradigms": [{"path": str(PARADIGMS / "agreement_pp_attractor.yaml"), "seeds": [0, 1]},
                  str(PARADIGMS / "language_localizer.yaml"),
                  str(PARADIGMS / "agreement_labels.yaml"),
                  str(PARADIGMS / "rsa_number_animacy.yaml"),
                  str(PARADIGMS / "lau2020_ratings.yaml")],
    "models": [{"name": "m", "path": "not-a-local-model", "dtype": "float32"},
               {"name": "c", "reinitialize": "m", "seed": 1}],
    "analyses": [
        {"kind": "behaviour", "options": {"n_boot": 10}},
        {"kind": "extract", "paradigms": ["agreement_pp_attractor"], "options": {"layers": "0"}},
        {"kind": "probe", "options": {"label": "number", "cv": 2}},
        {"kind": "rsa", "options": {"n_perm": 10}, "seeds": [0, 1]},
        {"kind": "patch", "options": {"layers": "0", "limit": 2}},
        {"kind": "mediate", "options": {"top_k": 2}},
        {"kind": "localize", "options": {"top_percent": 5.0}},
        {"kind": "ablate", "options": {"units_from": "localize", "n_sets": 2}},
        {"kind": "alignment", "options": {"n_boot": 10}},
    ],
}


def _fields(data, prefix=()):
    """Every path (tuple of keys and indices) into ``data``."""
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _fields(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _fields(value, (*prefix, index))


FIELDS = [f for f in _fields(BASE) if f]


def _replace(data, path, value):
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def _write(text):
    folder = Path(tempfile.mkdtemp(prefix="hostile-exp-"))
    path = folder / "exp.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return path


def answers(path):
    """A plan, or a one-line ProbingError naming the file; never anything else."""
    with within(30):
        try:
            return plan_experiment(load_experiment(path))
        except ProbingError as err:
            assert "\n" not in str(err) and str(err), str(err)
            return err


def test_the_base_file_is_valid():
    steps = answers(_write(yaml.safe_dump(BASE)))
    assert not isinstance(steps, ProbingError), steps
    assert {s.analysis for s in steps} == {a["kind"] for a in BASE["analyses"]}


@FAST
@given(st.text(max_size=400))
def test_arbitrary_text(text):
    answers(_write(text))


@FAST
@given(structures)
def test_arbitrary_yaml_structure(data):
    answers(_write(yaml.safe_dump(data, allow_unicode=True)))


@FAST
@given(st.sampled_from(FIELDS), structures)
def test_any_field_replaced_by_anything(field, value):
    answers(_write(yaml.safe_dump(_replace(BASE, field, value), allow_unicode=True)))


OPTION_TYPES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                         st.text(max_size=30), st.lists(st.integers(), max_size=3),
                         st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@FAST
@given(st.sampled_from(sorted(ANALYSES)), st.data())
def test_every_option_of_every_kind_with_a_wrong_type(kind, data):
    option = data.draw(st.sampled_from(ANALYSES[kind].option_names()))
    value = data.draw(OPTION_TYPES)
    entry = next(a for a in BASE["analyses"] if a["kind"] == kind)
    index = BASE["analyses"].index(entry)
    changed = _replace(BASE, ("analyses", index, "options", option), value)
    answers(_write(yaml.safe_dump(changed, allow_unicode=True)))


@pytest.mark.parametrize("text", [
    "name: x\n" + "a: " * 0 + "paradigms: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "name: x\ndescription: " + "é" * (2**20 + 1) + "\n",
    "name: x\nanalyses: &a [*a]\n",
    "name: \udcff\n",
    "\ufeffname: \u202e\u0000\n",
], ids=["deep", "huge", "alias", "surrogate", "bidi-nul"])
def test_deep_huge_aliased_and_odd_files(text):
    assert isinstance(answers(_write(text)), ProbingError)


def test_too_many_steps_is_refused_in_one_line():
    many = _replace(BASE, ("paradigms", 0, "seeds"), list(range(3000)))
    err = answers(_write(yaml.safe_dump(many)))
    assert isinstance(err, ProbingError) and "model steps (more than" in str(err)


def test_paths_that_name_devices_or_the_root_do_not_hang():
    for field, value in ((("paradigms", 1), "/dev/zero"), (("models", 0, "path"), "/"),
                         (("paradigms", 1), "/")):
        answers(_write(yaml.safe_dump(_replace(BASE, field, value))))


@settings(FAST, max_examples=5)
@given(st.sampled_from(FIELDS), structures)
def test_the_cli_answers_in_one_line_with_exit_2(field, value):
    path = _write(yaml.safe_dump(_replace(BASE, field, value), allow_unicode=True))
    with within(30):
        code, err = _cli(["experiment", str(path), "--out", str(path.parent / "out"),
                          "--dry-run"])
    assert code in (0, 2), err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("probing experiment: error:"), err


def _cli(argv):
    import contextlib
    import io

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    return code, err.getvalue()


@pytest.mark.slow
@SLOW
@given(st.sampled_from(FIELDS), structures)
def test_any_field_replaced_by_anything_many(field, value):
    answers(_write(yaml.safe_dump(_replace(BASE, field, value), allow_unicode=True)))


@pytest.mark.slow
@SLOW
@given(st.text(max_size=2000))
def test_arbitrary_text_many(text):
    answers(_write(text))
