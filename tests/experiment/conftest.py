"""A tiny experiment: two tiny random models saved to folders x two small paradigms x
two analyses (behaviour and extraction), written next to each other in a tmp folder."""

import re
from pathlib import Path

import pytest

from tests.models.conftest import make_model, make_tokenizer, tokenizer_json  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]

EXPERIMENT = """\
name: tiny
description: Two tiny random models on two small paradigms.
paradigms:
  - path: paradigms/agreement.yaml
    seeds: [0, 1]
  - path: paradigms/garden.yaml
models:
  - name: gpt2
    path: models/gpt2
  - name: llama
    path: models/llama
analyses:
  - kind: behaviour
    options: {n_boot: 50}
  - kind: extract
    options: {layers: "0,2"}
"""


def shrink_paradigm(source, target, items):
    """A shipped paradigm with fewer items and its lexicon path made absolute."""
    text = source.read_text()
    text = re.sub(r"items_per_cell: \d+", f"items_per_cell: {items}", text)
    text = text.replace("../data/", f"{ROOT / 'data'}/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def tiny_experiment(tmp_path, make_model):  # noqa: F811
    """``tmp_path/experiment.yaml`` with its paradigms and model folders."""
    for arch in ("gpt2", "llama"):
        model, tokenizer = make_model(arch, dtype=__import__("torch").float32)
        model.save_pretrained(tmp_path / "models" / arch)
        tokenizer.save_pretrained(tmp_path / "models" / arch)
    shrink_paradigm(ROOT / "paradigms/agreement_simple.yaml",
                    tmp_path / "paradigms/agreement.yaml", 2)
    shrink_paradigm(ROOT / "paradigms/garden_path_npz.yaml", tmp_path / "paradigms/garden.yaml", 2)
    path = tmp_path / "experiment.yaml"
    path.write_text(EXPERIMENT)
    return path
