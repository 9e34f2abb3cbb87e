"""Tiny models saved to a folder, so commands and subprocesses load them like a user's."""

import pytest

from tests.models.conftest import make_lm, make_model, make_tokenizer, tokenizer_json  # noqa: F401


@pytest.fixture
def model_dir(make_model, tmp_path):  # noqa: F811
    """A 2-layer random GPT-2 written by ``save_pretrained`` (safetensors) to a folder."""
    import torch

    model, tokenizer = make_model("gpt2", dtype=torch.float32)
    model.save_pretrained(tmp_path / "tiny-gpt2")
    tokenizer.save_pretrained(tmp_path / "tiny-gpt2")
    return tmp_path / "tiny-gpt2"
