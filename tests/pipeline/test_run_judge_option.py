"""``probing run --judge``: checked before the weights load, equal to the Python entry point."""

import json

import pandas as pd
import pytest

from probing.cli.main import main
from probing.models import load_model
from probing.pipeline.judge_run import JudgeOptions, prepare_judge, run_judge
from tests.conftest import PARADIGMS
from tests.pipeline.test_judge_run import (  # noqa: F401
    CHAT,
    chat_lm,
    ratings_paradigm,
    tokenizer_only,
)

IDENTITY = ["model", "paradigm"]


@pytest.fixture
def chat_model_dir(chat_lm, tmp_path):  # noqa: F811
    folder = tmp_path / "chat-gpt2"
    chat_lm.model.save_pretrained(folder)
    chat_lm.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def few_pairs(tmp_path):
    """agreement_simple with 3 items a cell (6 pairs), the lexicon by absolute path."""
    text = (PARADIGMS / "agreement_simple.yaml").read_text(encoding="utf-8")
    lexicon = (PARADIGMS.parent / "data" / "lexicon" / "english_core.tsv").resolve()
    path = tmp_path / "few_pairs.yaml"
    path.write_text(text.replace("items_per_cell: 50", "items_per_cell: 3")
                    .replace("../data/lexicon/english_core.tsv", str(lexicon)), encoding="utf-8")
    return path


def _read(out, name):
    return pd.read_csv(out / f"{name}.csv").drop(columns=IDENTITY)


def _same(written, expected):
    expected = pd.read_csv(pd.io.common.StringIO(expected.to_csv(index=False)))
    pd.testing.assert_frame_equal(written, expected, check_dtype=False, rtol=1e-6)


def test_cli_ratings_judge_equals_the_python_entry_point(ratings_paradigm, chat_model_dir,  # noqa: F811
                                                        tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(ratings_paradigm), "--model", str(chat_model_dir), "--out", str(out),
                 "--judge", "acceptability_1to4", "--judge-templates", "natural,native",
                 "--scale-order", "descending", "--n-bins", "2"]) == 0
    options = JudgeOptions(templates=("natural", "native"), scale_order="descending", n_bins=2)
    plan = prepare_judge(ratings_paradigm, str(chat_model_dir), options)
    measures = pd.read_csv(out / "acceptability.csv")[["stimulus_id", "LP", "MeanLP", "PenLP",
                                                        "NormLP", "SLOR"]]
    tables = run_judge(plan, load_model(str(chat_model_dir)), measures=measures)
    for name in ("judge_prompts", "judge_ratings", "judge_summary", "judge_calibration"):
        _same(_read(out, name), tables[name])
    assert set(_read(out, "judge_prompts")["template"]) == {"natural", "native"}
    manifest = json.loads((out / "manifest.json").read_text())
    judge = manifest["notes"]["judge"]
    assert judge["chat_template"] == CHAT and judge["options"]["n_bins"] == 2
    assert manifest["options"]["judge"] == "acceptability_1to4"


def test_cli_pairs_judge_equals_the_python_entry_point(chat_model_dir, few_pairs, tmp_path):
    out = tmp_path / "pairs"
    shipped = few_pairs
    assert main(["run", str(shipped), "--model", str(chat_model_dir), "--out", str(out),
                 "--judge", "acceptability_1to4", "--judge-style", "both",
                 "--judge-templates", "natural", "--scale-order", "ascending"]) == 0
    options = JudgeOptions(templates=("natural",), judge_style="both", scale_order="ascending")
    plan = prepare_judge(shipped, str(chat_model_dir), options)
    direct = pd.read_csv(out / "pairs.csv").drop(columns=IDENTITY)
    tables = run_judge(plan, load_model(str(chat_model_dir)), direct=direct)
    for name in ("judge_ratings", "judgements", "judgement_summary"):
        _same(_read(out, name), tables[name])
    assert set(_read(out, "judge_prompts")["prompt_style"]) == {"chat", "plain"}
    assert _read(out, "judgements")["pair_id"].nunique() == 6


def _scale(tmp_path, labels):
    path = tmp_path / "scale.yaml"
    path.write_text("scale:\n" + "".join(f"  - {{label: '{x}'}}\n" for x in labels)
                    + "templates:\n  q: \"{sentence}\\n{scale}\"\n", encoding="utf-8")
    return str(path)


def test_bad_input_is_one_line_exit_2_before_the_model_loads(ratings_paradigm, tokenizer_only,  # noqa: F811
                                                             tmp_path, capsys):
    # the model folder has no weights: each error comes from the files and the tokenizer
    base = ["run", str(ratings_paradigm), "--model", str(tokenizer_only)]
    cases = [
        (["--judge", str(tmp_path / "nope.yaml")], "nope.yaml: no such file"),
        (["--judge", _scale(tmp_path, ["1", "xqz"])],
         "scale.yaml: scale.1.label: label 'xqz' is 3 tokens of the tokenizer of "),
        (["--judge", "acceptability_1to4", "--judge-templates", "nope"],
         "templates: ['nope'] not in "),
        (["--judge", "acceptability_1to4", "--n-bins", "0"], "n_bins must be >= 1; got 0"),
    ]
    for extra, message in cases:
        out = tmp_path / "run"
        assert main([*base, *extra, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
        assert not out.exists()
    dialogue = ["run", str(PARADIGMS / "source_monitoring.yaml"), "--model", str(tokenizer_only),
                "--judge", "acceptability_1to4", "--out", str(tmp_path / "d")]
    assert main(dialogue) == 2
    assert "a judge rates a ratings or minimal_pairs paradigm; this one is dialogue" in \
        capsys.readouterr().err
    both = ["run", str(PARADIGMS / "agreement_simple.yaml"), "--model", str(tokenizer_only),
            "--judge", "acceptability_1to4", "--judgement", "both", "--out", str(tmp_path / "b")]
    assert main(both) == 2
    assert "--judge: give it or --judgement both, not both" in capsys.readouterr().err
    assert main([*base, "--judge-style", "fancy"]) == 2  # argparse lists the choices
    assert "judge_style 'fancy': allowed chat, plain, both" in capsys.readouterr().err


def test_an_experiment_files_behaviour_step_takes_the_judge(tmp_path):
    from probing._core.errors import ProbingError
    from probing.pipeline.experiment import ANALYSES

    behaviour = ANALYSES["behaviour"]
    options = behaviour.build_options({"judge": "acceptability_1to4",
                                       "judge_templates": ["natural"], "n_bins": 3})
    assert options.judge_templates == ("natural",) and options.n_bins == 3
    with pytest.raises(ProbingError, match=r"nope\.yaml: no such file"):
        behaviour.build_options({"judge": str(tmp_path / "nope.yaml")})
    with pytest.raises(ProbingError, match="scale_order 'up': allowed ascending, descending, both"):
        behaviour.build_options({"judge": "acceptability_1to4", "scale_order": "up"})
