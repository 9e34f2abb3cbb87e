"""The column vocabulary: documented once, and the docs say what the module says."""

from pathlib import Path

import pytest

from probing._core.errors import ProbingError
from probing._core.vocabulary import (
    COLUMNS,
    TABLES,
    add_identity,
    check_columns,
    table_columns,
    vocabulary_markdown,
)

DOC = Path(__file__).resolve().parents[1] / "docs" / "vocabulary.md"


def test_docs_hold_the_generated_tables():
    assert vocabulary_markdown() in DOC.read_text(encoding="utf-8"), (
        "docs/vocabulary.md is out of date: paste probing._core.vocabulary.vocabulary_markdown()")


def test_every_table_column_is_in_the_vocabulary():
    for name, columns in TABLES.items():
        check_columns(columns, name)
        assert len(set(columns)) == len(columns), name


def test_every_column_has_a_dtype_and_a_meaning():
    assert all(c["dtype"] in {"str", "int", "float", "bool"} and c["meaning"] for c in COLUMNS.values())


def test_unknown_names_are_refused():
    with pytest.raises(ProbingError, match=r"\['item'\] are not in the vocabulary"):
        check_columns(["item_id", "item"], "regions.csv")
    with pytest.raises(ProbingError, match="unknown table 'nope'"):
        table_columns("nope")


def test_identity_columns_go_last_and_existing_ones_are_kept():
    import pandas as pd

    frame = pd.DataFrame({"model": ["mine"], "estimate": [1.0]})
    out = add_identity(frame, model="other", paradigm="p")
    assert out.columns.tolist() == ["estimate", "model", "paradigm"]
    assert out["model"].tolist() == ["mine"] and frame.columns.tolist() == ["model", "estimate"]


def test_every_column_list_of_the_package_uses_the_vocabulary():
    # each `*_COLUMNS` tuple of a module names the columns of a table some function returns
    import importlib
    import pkgutil

    import probing
    from probing._core.vocabulary import COLUMNS

    unknown = {}
    for info in pkgutil.walk_packages(probing.__path__, "probing."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.endswith("_COLUMNS") and isinstance(value, tuple):
                missing = [c for c in value if isinstance(c, str) and c not in COLUMNS]
                if missing:
                    unknown[f"{info.name}.{name}"] = missing
    assert not unknown, unknown


# --- every table a declared command writes (discovered, not listed) ------------------------

from tests.models.conftest import make_lm, make_model, make_tokenizer, tokenizer_json  # noqa: E402, F401


def _run_folder_commands():
    from probing.pipeline.commands import COMMANDS

    return [c for c in COMMANDS if c.writes_run_folder]


@pytest.mark.parametrize("command", _run_folder_commands(), ids=lambda c: c.name)
def test_every_written_table_uses_the_vocabulary(command, make_lm, tmp_path):  # noqa: F811
    import pandas as pd

    from probing._core.config import config_context
    from probing.commands import check_table
    from probing.commands.runfolder import check_identity
    from probing.pipeline.commands.execute import run_command

    example = dict(command.example)
    given, root = example.pop("paradigm", None), Path(__file__).resolve().parents[1] / "paradigms"
    if not command.reads_paradigm:  # its inputs are options (fresh-vs-published: a mapping)
        paradigm = None
    elif isinstance(given, tuple):  # a command that reads several paradigms (lesion)
        paradigm = [root / name for name in given]
    else:
        paradigm = root / given
    with config_context(cache_dir=tmp_path / "cache"):
        result = run_command(command, paradigm, make_lm("gpt2"), tmp_path / "run",
                             options=command.options(**example))
    written = sorted((tmp_path / "run").glob("*.csv"))
    assert written
    from probing._core.vocabulary import COLUMNS

    text = {name: str for name, entry in COLUMNS.items() if entry["dtype"] == "str"}
    for path in written:  # as a reader who knows the vocabulary sees them: read from disk
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=text)
        if path.stem in result.paradigm_tables:  # the paradigm's own columns (its factors)
            check_identity(path.stem, frame)
        else:
            check_table(path.stem, frame)


# --- one point estimate column (issue #23) -------------------------------------------------

def _interval_tables():
    """Every table with an interval: the written ones and each module's ``*_COLUMNS``."""
    import importlib
    import pkgutil

    import probing

    tables = dict(TABLES)
    for info in pkgutil.walk_packages(probing.__path__, "probing."):
        if not info.name.endswith("__main__"):
            module = importlib.import_module(info.name)
            tables.update({f"{info.name}.{name}": value for name, value in vars(module).items()
                           if name.endswith("_COLUMNS") and isinstance(value, (tuple, list))})
    return {name: cols for name, cols in tables.items() if "ci_low" in cols}


def test_a_table_with_an_interval_names_its_point_estimate_estimate():
    # ci_low/ci_high bound the row's point estimate, so that column must be `estimate`
    # (it was value, effect or estimate by analysis). Two tables bound a measure of their
    # own: calibration bins the human `rating`; the minimal-pair summary is one measure
    # wide (`accuracy`, no `metric` column), as BLiMP reports it
    own = {"judge_calibration": "rating", "probing.alignment.judge_analysis.JUDGE_CALIBRATION_COLUMNS":
           "rating", "summary": "accuracy", "probing.behaviour.pairs.SUMMARY_COLUMNS": "accuracy",
           "probing.pipeline.measures.SUMMARY_COLUMNS": "accuracy"}
    tables = _interval_tables()
    assert len(tables) > 15
    wrong = {name: cols for name, cols in tables.items() if own.get(name, "estimate") not in cols}
    assert wrong == {}
    assert not {"value", "effect"} & set(COLUMNS)


def test_old_point_estimate_names_are_renamed_on_read_with_one_warning(tmp_path):
    import warnings

    import pandas as pd

    from probing._core import vocabulary
    from probing._core.io import read_run_table

    vocabulary._WARNED.clear()
    old = tmp_path / "patching.csv"
    pd.DataFrame({"metric": ["logprob_diff"], "effect": [1.5], "ci_low": [1.0]}).to_csv(old)
    with pytest.warns(FutureWarning, match=r"patching.csv: .*'effect' -> 'estimate'"):
        frame = read_run_table(old)
    assert frame["estimate"].tolist() == [1.5] and "effect" not in frame
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per process: the second read is silent
        assert "estimate" in read_run_table(old)
        both = vocabulary.rename_old_columns(pd.DataFrame({"value": [1], "estimate": [2]}), "x")
    assert both.columns.tolist() == ["value", "estimate"]  # a new name present wins
