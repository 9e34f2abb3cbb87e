"""Model weights load as safetensors or weights-only: a pickle that runs code is refused
before it is unpickled, and a plain legacy checkpoint still loads."""

import os

import pytest
import torch

from probing._core.errors import ProbingError
from probing.models import load_model


class _Payload:
    """Unpickling this would run ``touch <marker>``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def legacy_dir(make_model, tmp_path):
    model, tokenizer = make_model("gpt2", dtype=torch.float32)
    model.save_pretrained(tmp_path / "legacy")
    tokenizer.save_pretrained(tmp_path / "legacy")
    # a legacy pickled checkpoint (transformers 5 only writes safetensors)
    (tmp_path / "legacy" / "model.safetensors").unlink()
    torch.save(model.state_dict(), tmp_path / "legacy" / "pytorch_model.bin")
    return tmp_path / "legacy", model


def test_weights_only_checkpoint_loads(legacy_dir):
    folder, model = legacy_dir
    lm = load_model(folder, device="cpu")
    for name, tensor in model.state_dict().items():
        assert torch.equal(lm.model.state_dict()[name], tensor), name


@pytest.mark.parametrize("suffix", [".bin", ".pt"])
def test_code_in_a_pickle_is_never_run(legacy_dir, tmp_path, suffix):
    folder, _ = legacy_dir
    marker = tmp_path / "PWNED"
    (folder / "pytorch_model.bin").unlink()
    torch.save({"weight": _Payload(marker)}, folder / f"pytorch_model{suffix}")
    with pytest.raises(ProbingError, match=rf"pytorch_model\{suffix}: not loadable as weights "
                       r"only .*convert the checkpoint to safetensors"):
        load_model(folder, device="cpu")
    assert not marker.exists()


def test_no_unsafe_loader_in_the_package():
    """Data files are read by loaders that cannot run code: no pickle, no full YAML
    loader, ``np.load`` without ``allow_pickle``, ``torch.load`` only weights-only."""
    import re

    from tests.conftest import REPO

    unsafe = re.compile(r"pickle\.loads?\(|allow_pickle\s*=\s*True|yaml\.load\(|"
                        r"yaml\.unsafe_load|yaml\.full_load|torch\.load\((?!.*weights_only=True)")
    hits = [f"{path.relative_to(REPO)}:{n}" for path in sorted((REPO / "probing").rglob("*.py"))
            for n, line in enumerate(path.read_text().splitlines(), 1) if unsafe.search(line)]
    assert hits == []
