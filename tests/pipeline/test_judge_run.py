"""A judge run: every check before weights load; the tables of ratings and minimal pairs."""

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.models import LanguageModel
from probing.pipeline.judge_run import JudgeOptions, prepare_judge, run_judge, write_judge

PARADIGMS = Path(__file__).resolve().parents[2] / "paradigms"
CHAT = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture
def chat_lm(make_lm):
    lm = make_lm("gpt2")
    tok = copy.deepcopy(lm.tokenizer)
    tok.chat_template = CHAT
    return LanguageModel.from_objects(lm.model, tok)


@pytest.fixture
def tokenizer_only(chat_lm, tmp_path):
    """A model folder with a config and a tokenizer but no weights: nothing can load them."""
    folder = tmp_path / "no-weights"
    chat_lm.model.config.save_pretrained(folder)
    chat_lm.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def ratings_paradigm(tmp_path):
    rows = pd.DataFrame({"ID": range(8), "sentence": [
        "The cat sat on the mat.", "Dogs the barking.", "A child who likes apples is happy.",
        "Who should Derek hug?", "Keys the cabinet on.", "She said that the authors wrote.",
        "Many people believe.", "The horse raced past the barn fell."],
        "rating": [3.9, 1.2, 3.5, 3.0, 1.1, 2.8, 3.2, 2.0]})
    rows.to_csv(tmp_path / "r.csv", index=False)
    path = tmp_path / "r.yaml"
    path.write_text("name: tiny_ratings\nversion: 1\nkind: ratings\ndescription: t\n"
                    "reference: t\nseed: 0\nsource:\n  format: csv\n  path: r.csv\n"
                    "  columns: {text: sentence, rating: rating, item_id: ID}\n")
    return path


def test_ratings_run_writes_the_tables_and_the_manifest(ratings_paradigm, tokenizer_only,
                                                        chat_lm, tmp_path):
    plan = prepare_judge(ratings_paradigm, str(tokenizer_only), JudgeOptions(n_boot=200, n_bins=2))
    measures = pd.DataFrame({"stimulus_id": plan.table["stimulus_id"],
                             "SLOR": range(len(plan.table))})
    tables = run_judge(plan, chat_lm, measures=measures)
    assert len(tables["judge_prompts"]) == 8 * 3 * 2 * 4  # sentences x templates x orders x labels
    summary = tables["judge_summary"].set_index(["measure", "metric"])
    assert summary.loc[("judge", "pearson"), "n"] == 8
    assert ("judge - SLOR", "williams_pearson") in summary.index
    assert ("templates", "icc_consistency") in summary.index
    assert tables["judge_calibration"]["n"].sum() == 8
    out = write_judge(tables, tmp_path / "run", plan=plan, lm=chat_lm)
    notes = json.loads((out / "judge_manifest.json").read_text())
    assert notes["chat_template"] == CHAT and notes["scale"]["labels"] == ["1", "2", "3", "4"]
    assert "{sentence}" in notes["scale"]["templates"]["natural"]
    assert (out / "judge_calibration.csv").is_file()


def test_pairs_run_judges_both_members(tokenizer_only, chat_lm):
    plan = prepare_judge(PARADIGMS / "agreement_simple.yaml", str(tokenizer_only),
                         JudgeOptions(limit=3, templates=("natural",), n_boot=200))
    assert plan.table["pair_id"].nunique() == 3
    tables = run_judge(plan, chat_lm)
    summary = tables["judgement_summary"]
    overall = summary[(summary["phenomenon"] == "overall") & (summary["order"] == "both")]
    assert overall["metric"].tolist() == ["accuracy"] and overall["n"].iat[0] == 3


def _scale(tmp_path, body):
    path = tmp_path / f"bad_scale{len(list(tmp_path.glob('bad_scale*')))}.yaml"
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_bad_input_fails_before_weights_load(ratings_paradigm, tokenizer_only, tmp_path):
    # the folder has no weights: each error comes from the files and the tokenizer alone
    templates = "templates:\n  q: \"{sentence}\\n{scale}\"\n"
    cases = [
        (_scale(tmp_path, "scale:\n  - {label: '1'}\n  - {label: xqz}\n" + templates),
         r"bad_scale0.yaml: scale.1.label: label 'xqz' is 3 tokens of the tokenizer of "),
        (_scale(tmp_path, "scale: []\n" + templates), r"bad_scale1.yaml:1: scale: the scale is empty"),
        (_scale(tmp_path, "scale:\n  - {label: '1'}\n  - {label: '2'}\ntemplates:\n  q: '{scale}'\n"),
         r"bad_scale2.yaml: templates.q: the template has no \{sentence\} slot"),
    ]
    for scale, message in cases:
        with pytest.raises(ProbingError, match=message):
            prepare_judge(ratings_paradigm, str(tokenizer_only), JudgeOptions(scale=scale))
    with pytest.raises(ProbingError, match=r"templates: \['nope'\] not in .*; it has"):
        prepare_judge(ratings_paradigm, str(tokenizer_only), JudgeOptions(templates=("nope",)))
    with pytest.raises(ProbingError, match="a judge rates a ratings or minimal_pairs paradigm; "
                                           "this one is reading_times"):
        prepare_judge(PARADIGMS / "naturalstories.yaml", str(tokenizer_only))
    with pytest.raises(ProbingError, match="judge-style 'fancy': allowed chat, plain, both"):
        JudgeOptions(judge_style="fancy")
    with pytest.raises(ProbingError, match="scale-order 'up': allowed ascending, descending, both"):
        JudgeOptions(scale_order="up")
