"""``probing run --judgement both``: prompted judgements beside pairs.csv; BLiMP human agreement."""

import json
import warnings

import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing._core.vocabulary import check_columns
from probing.cli.main import main
from probing.paradigms.importers import read_blimp
from probing.pipeline.paradigm_run import RunOptions, run_paradigm
from tests.conftest import DATA, PARADIGMS
from tests.pipeline.test_run import MINIMAL


@pytest.fixture
def paradigm(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL)
    return path


def _run(paradigm, lm, out, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a random model fails the sanity check by design
        return run_paradigm(paradigm, lm, out, options=RunOptions(n_boot=100, **options))


def test_prompted_tables_beside_pairs(paradigm, make_lm, tmp_path):
    out = tmp_path / "run"
    tables = _run(paradigm, make_lm("gpt2"), out, judgement="both", prompt_style="plain")
    for name in ("prompts", "judgements", "judgement_summary"):
        table = pd.read_csv(out / f"{name}.csv")
        check_columns(table.columns, name)
        assert list(table.columns[-2:]) == ["model", "paradigm"]
    judgements, pairs = tables["judgements"], tables["pairs"]
    direct = judgements[judgements["task"] == "direct"].set_index("pair_id")["correct"]
    assert direct.loc[pairs["pair_id"]].tolist() == pairs["correct"].tolist()
    n_pairs = len(pairs)
    assert len(tables["prompts"]) == n_pairs * (2 * 2 + 2 * 2)  # 2 prompts x 2 options per task
    summary = tables["judgement_summary"]
    overall = summary[summary["phenomenon"] == "overall"]
    assert {"accuracy", "agreement", "mcnemar", "prefers_first"} <= set(overall["metric"])
    assert set(overall["prompt_style"]) == {"plain", "none"}
    notes = json.loads((out / "manifest.json").read_text())["notes"]["judgements"]
    assert "Respond with either Yes or No" in notes["templates"]["tasks"]["yes_no"]["question"]


def test_chat_style_without_template_fails_before_scoring(paradigm, make_lm, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ProbingError, match="has no chat template; use --prompt-style plain"):
        _run(paradigm, make_lm("gpt2"), out, judgement="both", prompt_style="chat")
    assert not out.exists()


@pytest.mark.parametrize("bad, match", [({"judgement": "prompted"}, "judgement 'prompted': allowed direct, both"),
                                        ({"prompt_style": "fancy"}, "prompt_style 'fancy': allowed plain, chat, both"),
                                        ({"prompt_task": "rate"}, "prompt_task 'rate': allowed yes_no, forced_choice")],
                         ids=["judgement", "style", "task"])
def test_bad_judgement_options(bad, match):
    with pytest.raises(ProbingError, match=match):
        RunOptions(**bad)


def test_cli_prompted_on_a_factorial_paradigm_fails_before_loading(tmp_path, capsys):
    code = main(["run", str(PARADIGMS / "filler_gap.yaml"), "--judgement", "both",
                 "--model", str(tmp_path / "no-such-model"), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "prompted judgements need a minimal_pairs paradigm; this one is factorial" in err


def test_blimp_summary_carries_the_published_human_agreement(make_lm, tmp_path):
    human = pd.read_csv(DATA / "blimp" / "human_agreement.csv").set_index("Condition")["total_mean"]
    stimuli = read_blimp(DATA / "blimp", phenomena=["passive_1", "anaphor_number_agreement"],
                         limit_per_phenomenon=2)
    assert stimuli.info["human_agreement"] == {"anaphor_number_agreement": 0.99, "passive_1": 0.95}
    spec = tmp_path / "b.yaml"
    spec.write_text(f"name: b\nversion: 1\nkind: minimal_pairs\nsource:\n  format: blimp\n"
                    f"  path: {DATA / 'blimp'}\n  phenomena: [passive_1, wh_island]\n"
                    f"  limit_per_phenomenon: 2\n")
    summary = _run(spec, make_lm("gpt2"), tmp_path / "run")["summary"]
    check_columns(summary.columns, "summary")
    assert summary.set_index("phenomenon")["human_agreement"].to_dict() == human[
        ["passive_1", "wh_island"]].to_dict()
