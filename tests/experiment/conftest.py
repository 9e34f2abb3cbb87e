"""A tiny experiment: two tiny random models saved to folders x two small paradigms x
two analyses (behaviour and extraction), run once per module and copied by each test."""

import re
import shutil
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from tests.models import conftest as tiny

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


def save_tiny_model(arch, folder):
    """A 2-layer random model and its trained tokenizer, saved as a model folder."""
    json = {"gpt2": tiny._gpt2_json, "llama": tiny._llama_json}[arch]()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json),
                                        **tiny._SPECIALS[arch])
    torch.manual_seed(0)
    model = tiny._CLASSES[arch](tiny._config(arch, len(tokenizer), 512)).eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def write_experiment(folder, text=EXPERIMENT):
    """The experiment file, its two paradigms and two model folders under ``folder``."""
    for arch in ("gpt2", "llama"):
        save_tiny_model(arch, folder / "models" / arch)
    shrink_paradigm(ROOT / "paradigms/agreement_simple.yaml", folder / "paradigms/agreement.yaml", 2)
    shrink_paradigm(ROOT / "paradigms/garden_path_npz.yaml", folder / "paradigms/garden.yaml", 2)
    (folder / "experiment.yaml").write_text(text)
    return folder / "experiment.yaml"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """``(folder, result)``: the tiny experiment run once, serially, into folder/results,
    with one torch thread (as a Ray worker computes, so that the tables can agree)."""
    from probing.pipeline.experiment import run_experiment

    folder = tmp_path_factory.mktemp("tiny")
    path = write_experiment(folder)
    result = run_experiment(path, folder / "results", threads=1)
    assert not result.failed, result.failed
    return folder, result


@pytest.fixture
def copy_of(tmp_path):
    """``copy_of(folder, results=True)``: a private copy of an experiment folder."""

    def copy(folder, results=True):
        target = tmp_path / "copy"
        shutil.copytree(folder, target, ignore=None if results else
                        shutil.ignore_patterns("results"))
        return target

    return copy


def tables(out):
    """Every CSV of a results folder (relative paths), the activations cache left out."""
    return sorted(p.relative_to(out) for p in Path(out).rglob("*.csv") if ".cache" not in p.parts)


def assert_same_tables(out, other):
    found = tables(out)
    assert found and found == tables(other)
    for table in found:
        assert (out / table).read_bytes() == (other / table).read_bytes(), table
