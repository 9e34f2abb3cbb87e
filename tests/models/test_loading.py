"""Loading from folders and objects, provenance, and every bad-input path."""

import copy
import json

import huggingface_hub.constants
import numpy as np
import pandas as pd
import pytest
import torch

from probing._core.config import config_context
from probing._core.errors import ProbingError
from probing.models import LanguageModel, detect_kind, load_model, score_tokens
from probing.models.provenance import hash_file

from ._helpers import SENTENCES

TABLE = pd.DataFrame(
    {"stimulus_id": ["s0", "s1", "s2"], "text": SENTENCES[:3], "pair_id": [0, 0, 1]}
)


def _snapshot(tokenizer):
    """Everything a careless adapter could change on a tokenizer."""
    state = {k: repr(v) for k, v in vars(tokenizer).items() if k != "_tokenizer"}
    backend = tokenizer.backend_tokenizer
    return state, backend.to_str(), backend.padding, backend.truncation, len(tokenizer)


@pytest.fixture
def saved(make_model, tmp_path):
    """``saved(arch)`` -> folder written by ``save_pretrained`` (the hub's layout)."""

    def save(arch):
        model, tokenizer = make_model(arch, dtype=torch.float32)
        folder = tmp_path / arch
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        return folder

    return save


@pytest.mark.parametrize(
    "arch, kind", [("gpt2", "causal"), ("llama", "causal"), ("bert", "masked")]
)
def test_load_folder(saved, arch, kind):
    folder = saved(arch)
    lm = load_model(folder, device="cpu")
    assert lm.kind == kind and lm.dtype == torch.float32 and not lm.model.training
    record = lm.provenance
    assert record["source"] == "folder" and record["path"] == str(folder)
    assert record["sha256"] == {"model.safetensors": hash_file(folder / "model.safetensors")}
    assert json.loads(json.dumps(record)) == record
    assert score_tokens(lm, TABLE)["logprob"].notna().all()


def test_folder_scores_equal_object_scores(saved, make_lm):
    lm = load_model(saved("gpt2"), dtype="float64")
    expected = score_tokens(make_lm("gpt2"), TABLE)["logprob"]
    np.testing.assert_allclose(score_tokens(lm, TABLE)["logprob"], expected, rtol=0, atol=1e-6)


def test_config_context_sets_default_dtype(saved):
    with config_context(dtype="float64", device="cpu"):
        lm = load_model(saved("gpt2"))
    assert lm.dtype == torch.float64 and lm.provenance["dtype"] == "float64"


def test_kind_override(saved):
    with pytest.raises(ProbingError, match="cannot load model"):
        load_model(saved("gpt2"), kind="masked")  # GPT-2 has no masked-LM class


@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert"])
def test_tokenizer_is_never_modified(make_model, arch):
    model, tokenizer = make_model(arch)
    before = copy.deepcopy(_snapshot(tokenizer))
    lm = LanguageModel.from_objects(model, tokenizer)
    score_tokens(lm, TABLE, batch_size=2, padding_side="left")
    if lm.kind == "causal":
        score_tokens(lm, TABLE, share_prefixes=True)
    assert _snapshot(tokenizer) == before
    assert lm.tokenizer is tokenizer


def test_gpt2_without_pad_token_still_batches(make_lm):
    lm = make_lm("gpt2")
    assert lm.tokenizer.pad_token is None
    assert len(score_tokens(lm, TABLE, batch_size=3)) > 0
    assert lm.tokenizer.pad_token is None


def test_from_objects_records_kind_and_start(make_model):
    model, tokenizer = make_model("bert")
    lm = LanguageModel.from_objects(model, tokenizer, name="tiny-bert")
    assert (lm.kind, lm.name, lm.start_token_id) == ("masked", "tiny-bert", tokenizer.cls_token_id)
    assert lm.provenance["end_token"] == "[SEP]" and lm.provenance["source"] == "objects"
    assert "tiny-bert" in repr(lm)


def test_detect_kind_from_config_alone(make_model):
    model, _ = make_model("bert")
    model.config.architectures = None
    assert detect_kind(model.config) == "masked"
    llama, _ = make_model("llama")
    assert detect_kind(llama.config) == "causal"


# --- bad input --------------------------------------------------------------------------


def test_unknown_hub_name_says_how_to_pass_a_folder(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(
        ProbingError, match=r"unknown model 'no-such-org/no-such-model'.*--model /path/to/folder"
    ):
        load_model("no-such-org/no-such-model")


def test_missing_path_says_how_to_pass_a_folder(tmp_path):
    with pytest.raises(ProbingError, match=r"no such file or folder.*--model /path/to/folder"):
        load_model(str(tmp_path / "nowhere" / "model"))


def test_folder_without_config(tmp_path):
    with pytest.raises(ProbingError, match="no config.json"):
        load_model(tmp_path)


def test_garbage_gguf(tmp_path):
    path = tmp_path / "x.gguf"
    path.write_bytes(b"this is not a gguf file at all" * 10)
    with pytest.raises(ProbingError, match="not a readable GGUF file"):
        load_model(path)


def test_truncated_gguf_with_valid_magic(tmp_path):
    path = tmp_path / "x.gguf"
    path.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 40)
    with pytest.raises(ProbingError, match="cannot read GGUF file") as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_missing_gguf(tmp_path):
    with pytest.raises(ProbingError, match="no such GGUF file"):
        load_model(tmp_path / "missing.gguf")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dtype": "float8"}, "dtype must be one of"),
        ({"device": "tpu:0:x"}, "not a valid torch device"),
        ({"kind": "seq2seq"}, "kind must be one of"),
    ],
    ids=["dtype", "device", "kind"],
)
def test_bad_loading_options(make_model, kwargs, message):
    model, tokenizer = make_model("gpt2")
    with pytest.raises(ProbingError, match=message):
        LanguageModel.from_objects(model, tokenizer, **kwargs)


def test_from_objects_rejects_non_models(make_tokenizer):
    with pytest.raises(ProbingError, match="transformers model"):
        LanguageModel.from_objects("gpt2", make_tokenizer("gpt2"))


@pytest.mark.parametrize("text", ["", "   ", None], ids=["empty", "blank", "missing"])
def test_empty_text(make_lm, text):
    table = pd.DataFrame({"stimulus_id": ["ok", "bad"], "text": ["Dogs bark.", text]})
    with pytest.raises(ProbingError, match="stimuli: row 2, column text: empty"):
        score_tokens(make_lm("gpt2"), table)


def test_too_long_stimulus_names_it(make_lm):
    lm = make_lm("gpt2", max_positions=16)
    table = pd.DataFrame(
        {
            "stimulus_id": ["short", "long"],
            "text": ["Dogs bark.", " ".join(["the cat sat on the mat"] * 5)],
        }
    )
    with pytest.raises(ProbingError, match="stimulus 'long' has .* tokens.*truncate=True"):
        score_tokens(lm, table)
    with pytest.warns(UserWarning, match="truncated 1 stimuli"):
        tokens = score_tokens(lm, table, truncate=True)
    assert (tokens["stimulus_id"] == "long").sum() == 16
    assert tokens.attrs["scoring"]["truncated"] == ["long"]


@pytest.mark.parametrize(
    "table, message",
    [
        (pd.DataFrame({"stimulus_id": ["a"]}), "missing column"),
        (pd.DataFrame({"stimulus_id": ["a", "a"], "text": ["x", "y"]}), "'a' repeats"),
        ([("a", "x")], "expected a pandas DataFrame"),
    ],
    ids=["missing-text", "duplicate-id", "not-a-frame"],
)
def test_bad_tables(make_lm, table, message):
    with pytest.raises(ProbingError, match=message):
        score_tokens(make_lm("gpt2"), table)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"max_tokens_per_batch": -1}, "max_tokens_per_batch"),
        ({"padding_side": "middle"}, "padding_side"),
        ({"pll": "l2r"}, "pll must be one of"),
    ],
    ids=["batch-size", "budget", "padding-side", "pll"],
)
def test_bad_scoring_options(make_lm, kwargs, message):
    with pytest.raises(ProbingError, match=message):
        score_tokens(make_lm("gpt2"), TABLE, **kwargs)


def test_backend_truncation_and_padding_survive_scoring(make_lm):
    lm = make_lm("gpt2")
    backend = lm.tokenizer.backend_tokenizer
    backend.enable_truncation(max_length=3)
    backend.enable_padding(pad_id=0, pad_token="<|endoftext|>", length=40)
    before = (backend.truncation, backend.padding)
    tokens = score_tokens(lm, TABLE)
    assert (tokens["stimulus_id"] == "s0").sum() > 3  # the text was not cut to 3 tokens
    assert (backend.truncation, backend.padding) == before


def test_masked_context_counts_cls_and_sep_and_tokenizer_limit(make_model, make_tokenizer):
    model, _ = make_model("bert")  # config allows 512 positions
    lm = LanguageModel.from_objects(model, make_tokenizer("bert", model_max_length=12))
    table = pd.DataFrame(
        {
            "stimulus_id": ["fits", "long"],
            "text": ["the cat sat on the mat", "the cat sat on the mat the cat sat on the"],
        }
    )
    with pytest.raises(ProbingError, match=r"stimulus 'long' has 11 tokens.*allows \(10\)"):
        score_tokens(lm, table)
    assert (score_tokens(lm, table.iloc[:1])["stimulus_id"] == "fits").sum() == 6


def test_misspelled_alias_fails_fast_and_suggests_the_alias(monkeypatch):
    """An unreachable hub is not retried: the error comes from the reachability check and
    names the nearest alias (no download is attempted)."""
    from probing.models import hub

    monkeypatch.setattr(hub, "_hub_reachable", lambda: False)

    def no_download(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr("transformers.AutoConfig.from_pretrained", no_download)
    with pytest.raises(ProbingError, match=r"hub cannot be reached; did you mean 'smollm2-135m'\?"):
        load_model("smollm2-135")


def test_unknown_name_far_from_any_alias_gets_no_suggestion(monkeypatch):
    from probing.models import hub

    monkeypatch.setattr(hub, "_hub_reachable", lambda: False)
    with pytest.raises(ProbingError, match="hub cannot be reached") as info:
        load_model("completely-different-name")
    assert "did you mean" not in str(info.value)


def test_cached_hub_id_loads_offline_when_the_hub_is_unreachable(monkeypatch):
    from probing.models import hub

    monkeypatch.setattr(hub, "_hub_reachable", lambda: False)
    monkeypatch.setattr(hub, "_is_cached", lambda repo_id: True)
    assert hub.check_hub_id("org/model", {"smollm2-135m": None}, "how") is True
    monkeypatch.setattr(hub, "_hub_reachable", lambda: True)
    assert hub.check_hub_id("org/model", {"smollm2-135m": None}, "how") is False


def test_offline_flag_counts_as_unreachable(monkeypatch):
    from probing.models import hub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    assert hub._hub_reachable() is False
