"""Every command checks its inputs before it loads a model.

Each case pairs one bad option with a model folder whose ``config.json`` is garbage: if
the command loaded the model first, the error would be about the model. The message
must be about the option instead.
"""

from pathlib import Path

import pytest

from probing.cli.main import main
from probing.commands import option_fields

REPO = Path(__file__).resolve().parents[2]
RSA = str(REPO / "paradigms" / "rsa_number_animacy.yaml")
SIMPLE = str(REPO / "paradigms" / "agreement_simple.yaml")
LABELS = str(REPO / "paradigms" / "agreement_labels.yaml")
LOCALIZER = str(REPO / "paradigms" / "fedorenko2010_localizer.yaml")


@pytest.fixture
def broken_model(tmp_path):
    folder = tmp_path / "broken-model"
    folder.mkdir()
    (folder / "config.json").write_text("{ this is not json")
    return str(folder)


CASES = [
    (["rsa", SIMPLE], "probing rsa needs kind: rsa"),
    (["rsa", RSA, "--pooling", "region:nowhere"], "nowhere"),
    (["rsa", RSA, "--layers", "0,x"], "got '0,x'"),
    (["probe", LABELS, "--label", "no_such_label"], "label 'no_such_label'"),
    (["probe", LABELS, "--label", "number", "--probes", "svm"], "probes ['svm']"),
    (["probe", LABELS, "--label", "number", "--pooling", "middle"], "pooling must be one of"),
    (["extract", RSA, "--pooling", "region:nowhere"], "nowhere"),
    (["extract", RSA, "--layers", "three"], "got 'three'"),
    (["extract", RSA, "--level", "word", "--pooling", "region:noun"], "pools over words"),
    (["localize", LOCALIZER, "--contrast", "sentences-nothing"], "nothing"),
    (["localize", LOCALIZER, "--contrast", "sentences-nonwords", "--layers", "a"],
     "layers must be 'all' or integers"),
]


@pytest.mark.parametrize(("argv", "message"), CASES,
                         ids=[" ".join(a[:1] + a[2:]) for a, _ in CASES])
def test_bad_option_is_reported_before_the_model_loads(argv, message, broken_model, tmp_path,
                                                        capsys):
    out = ["--out", str(tmp_path / "out")]
    status = main([*argv, "--model", broken_model, *out])
    err = capsys.readouterr().err
    assert status == 2, err
    assert message in err, err
    assert "config.json" not in err and "broken-model" not in err
    assert not (tmp_path / "out").exists()


def test_broken_model_is_reported_when_the_options_are_good(broken_model, tmp_path, capsys):
    """The control: with good options the same model path does fail, on the model."""
    status = main(["extract", RSA, "--model", broken_model, "--out", str(tmp_path / "out")])
    assert status == 2
    assert "broken-model" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "new"), [
    (["extract", RSA, "--dtype", "float16"], "--store-dtype"),
    (["ablate", str(REPO / "paradigms" / "agreement_pp_attractor.yaml"), "--units",
      str(REPO / "data" / "examples" / "units.csv"), "--op", "mean"], "--ablation"),
])
def test_deprecated_flags_warn_and_name_the_new_one(argv, new, broken_model, tmp_path, capsys):
    main([*argv, "--model", broken_model, "--out", str(tmp_path / "out")])
    assert f"is deprecated and will be removed in the next release; use {new}" in (
        capsys.readouterr().err)


def test_cli_lists_of_rsa_values_are_the_package_constants():
    from probing._core import values
    from probing.pipeline.commands.rsa import RSAOptions
    from probing.rsa import COMPARISONS, DISTANCES

    choices = {f.name: d.choices for f, d in option_fields(RSAOptions)}
    assert (choices["distance"], choices["comparison"]) == (DISTANCES, COMPARISONS)
    assert (DISTANCES, COMPARISONS) == (values.DISTANCES, values.COMPARISONS)


def test_cli_extraction_sites_equal_the_adapter_sites():
    from probing._core.values import SITES
    from probing.models.hooks import SITES as ADAPTER_SITES

    assert SITES == tuple(ADAPTER_SITES)
