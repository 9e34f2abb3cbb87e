"""``probing fresh-vs-published`` on a tiny model: the folder, its numbers, early errors."""

import re

import pandas as pd
import pytest

from probing._core.vocabulary import check_columns
from probing.cli.main import main
from probing.pipeline.fresh_run import load_fresh_mapping, run_fresh_published
from tests.conftest import DATA, PARADIGMS


def test_shipped_mapping_names_real_phenomena_and_paradigms():
    mapping = load_fresh_mapping(PARADIGMS / "fresh_vs_published.csv")
    for uid, paradigm in zip(mapping["phenomenon"], mapping["fresh_paradigm"], strict=True):
        assert (DATA / "blimp" / f"{uid}.jsonl").is_file(), uid
        assert (PARADIGMS / f"{paradigm}.yaml").is_file(), paradigm


@pytest.mark.slow
def test_run_scores_both_sets(make_lm, tmp_path):
    mapping = tmp_path / "m.csv"
    mapping.write_text("phenomenon,fresh_paradigm,conditions\n"
                       "anaphor_number_agreement,reflexive_agreement,sg\n")
    out = tmp_path / "run"
    tables = run_fresh_published(make_lm("gpt2"), out, mapping_path=mapping,
                                 blimp_dir=DATA / "blimp", paradigm_dir=PARADIGMS,
                                 limit_per_phenomenon=10)
    table = pd.read_csv(out / "fresh_vs_published.csv")
    check_columns(table.columns, "fresh_vs_published")
    rows = table[table["phenomenon"] == "anaphor_number_agreement"].set_index("item_set")
    assert rows.loc["published", "n"] == 10
    fresh = tables["pairs_fresh"]
    assert rows.loc["fresh", "n"] == len(fresh) == 50  # the sg cell only
    assert rows.loc["fresh", "estimate"] == pytest.approx(fresh["correct"].mean())
    assert rows.loc["difference", "estimate"] == pytest.approx(
        tables["pairs_published"]["correct"].mean() - fresh["correct"].mean())


@pytest.mark.parametrize("row, match", [
    ("anaphor_number_agreement,no_such_paradigm,", "fresh_paradigm 'no_such_paradigm': no file"),
    ("anaphor_number_agreement,reflexive_agreement,du", "conditions \\['du'\\] are not conditions"),
    ("no_such_uid,reflexive_agreement,", "no_such_uid"),
], ids=["paradigm", "condition", "phenomenon"])
def test_bad_mapping_is_one_line_before_the_model_loads(row, match, tmp_path, capsys):
    mapping = tmp_path / "m.csv"
    mapping.write_text(f"phenomenon,fresh_paradigm,conditions\n{row}\n")
    code = main(["fresh-vs-published", "--mapping", str(mapping), "--model",
                 str(tmp_path / "no-such-model"), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert re.search(match, err), err
