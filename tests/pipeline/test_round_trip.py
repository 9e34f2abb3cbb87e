"""What `probing generate` writes, every command reads back: run, extract, probe, rsa,
patch, on a tiny model saved to a folder (as a user's model is)."""

import contextlib
import io

import pandas as pd
import pytest

from probing.cli.main import main
from tests.models.conftest import make_model, make_tokenizer, tokenizer_json  # noqa: F401


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tokenizer_json):
    import torch
    from tokenizers import Tokenizer
    from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

    from tests.models.conftest import _SPECIALS, _config

    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(tokenizer_json["gpt2"]),
                                        **_SPECIALS["gpt2"])
    torch.manual_seed(0)
    model = GPT2LMHeadModel(_config("gpt2", len(tokenizer), 512)).eval()
    folder = tmp_path_factory.mktemp("model") / "tiny-gpt2"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tokenizer_json():  # noqa: F811  (module scope: the model folder is built once)
    from tests.models.conftest import _bert_json, _gpt2_json, _llama_json

    return {"gpt2": _gpt2_json(), "llama": _llama_json(), "bert": _bert_json()}


def _generate(name, out):
    assert main(["generate", name, "--out", str(out)]) == 0
    return out


def _model(model_dir):
    return ["--model", str(model_dir), "--device", "cpu"]


def test_run_reads_the_generated_table_and_the_printed_one(model_dir, tmp_path):
    stim = _generate("agreement_simple", tmp_path / "stim.csv")
    printed = tmp_path / "printed.csv"  # `probing generate NAME > printed.csv`: no metadata
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["generate", "agreement_simple"]) == 0
    printed.write_text(out.getvalue())
    runs = {}
    for source in ("agreement_simple", str(stim), str(printed)):
        folder = tmp_path / f"run-{len(runs)}"
        assert main(["run", source, *_model(model_dir), "--out", str(folder)]) == 0
        runs[source] = pd.read_csv(folder / "pairs.csv")
    keep = ["pair_id", "good", "bad", "correct", "identical"]
    pd.testing.assert_frame_equal(runs[str(stim)][keep], runs["agreement_simple"][keep])
    pd.testing.assert_frame_equal(runs[str(printed)][keep], runs["agreement_simple"][keep])


def test_extract_reads_the_generated_table(model_dir, tmp_path):
    stim = _generate("agreement_simple", tmp_path / "stim.csv")
    out = tmp_path / "acts"
    assert main(["extract", str(stim), *_model(model_dir), "--layers", "1", "--no-cache",
                 "--out", str(out)]) == 0
    assert len(pd.read_csv(out / "index.csv")) == 200


def test_probe_reads_the_generated_table(model_dir, tmp_path):
    stim = _generate("agreement_labels", tmp_path / "labels.csv")
    out = tmp_path / "probe"
    assert main(["probe", str(stim), *_model(model_dir), "--label", "number", "--layers", "1",
                 "--probes", "logistic", "--cv", "2", "--control-seeds", "1", "--n-perm", "10",
                 "--no-mdl", "--no-control-model", "--limit", "40", "--out", str(out)]) == 0
    assert set(pd.read_csv(out / "labels.csv")["label"]) == {"sg", "pl"}


def test_rsa_reads_the_generated_table(model_dir, tmp_path):
    stim = _generate("rsa_number_animacy", tmp_path / "rsa.csv")
    out = tmp_path / "rsa"
    assert main(["rsa", str(stim), *_model(model_dir), "--layers", "1", "--n-perm", "10",
                 "--n-boot", "0", "--out", str(out)]) == 0
    assert set(pd.read_csv(out / "rsa.csv")["model_rdm"]) == {"number", "animacy"}


def test_patch_reads_the_generated_table(model_dir, tmp_path):
    stim = _generate("agreement_simple", tmp_path / "stim.csv")
    out = tmp_path / "patch"
    assert main(["patch", str(stim), *_model(model_dir), "--contrast", "subject_number",
                 "--limit", "2", "--layers", "1", "--n-boot", "10", "--out", str(out)]) == 0
    assert pd.read_csv(out / "patching.csv")["paradigm"].eq("agreement_simple").all()


def test_a_table_of_another_kind_is_one_line(model_dir, tmp_path, capsys):
    stim = _generate("agreement_simple", tmp_path / "stim.csv")
    assert main(["rsa", str(stim), *_model(model_dir), "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == (f"probing rsa: error: {stim}: kind: is 'minimal_pairs'; "
                                       f"probing rsa needs kind: rsa\n")


def test_run_paradigm_takes_a_shipped_name_from_python(make_lm, tmp_path, monkeypatch):
    import warnings

    from probing.pipeline.paradigm_run import RunOptions, run_paradigm
    from tests.conftest import PARADIGMS

    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a random model fails the sanity check by design
        tables = run_paradigm("agreement_simple", make_lm("gpt2"), tmp_path / "run",
                              options=RunOptions(n_boot=10))
    assert len(tables["pairs"]) == 100
    manifest = (tmp_path / "run" / "manifest.json").read_text()
    assert str(PARADIGMS / "agreement_simple.yaml") in manifest


def test_a_table_with_a_bad_header_is_refused_from_its_first_line(tmp_path, monkeypatch):
    import probing.stimuli as stimuli

    path = tmp_path / "big.csv"
    path.write_text("id,sentence\n" + "x,The dog barks.\n" * 1000)

    def no_full_read(*args, **kwargs):
        raise AssertionError("the whole table was parsed")

    monkeypatch.setattr(stimuli.pd, "read_csv", no_full_read)
    with pytest.raises(stimuli.ProbingError, match=r"big\.csv: missing column\(s\) "
                       r"stimulus_id, text \(header has id, sentence\)"):
        stimuli.load_stimuli(path)
