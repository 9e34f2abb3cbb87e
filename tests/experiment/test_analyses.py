"""The probe and RSA registry entries run from an experiment file on tiny models."""

import pandas as pd
import pytest

from probing.pipeline.experiment import plan_experiment, run_experiment
from probing.pipeline.experiment.experiment_spec import load_experiment
from tests.experiment.conftest import ROOT, save_tiny_model, shrink_paradigm

pytestmark = pytest.mark.filterwarnings("ignore:SANITY CHECK FAILED")

TEXT = """\
name: representations
paradigms:
  - paradigms/labels.yaml
  - path: paradigms/rsa.yaml
models:
  - name: gpt2
    path: models/gpt2
  - name: gpt2-control
    reinitialize: gpt2
analyses:
  - kind: probe
    options: {label: number, cv: 2, n_perm: 10, mdl: false, control_seeds: [0],
              probes: [logistic], control_model_seed: null}
  - kind: rsa
    models: [gpt2]
    options: {n_perm: 20, n_boot: 0}
    seeds: [0, 1]
"""


@pytest.fixture
def experiment(tmp_path):
    save_tiny_model("gpt2", tmp_path / "models/gpt2")
    shrink_paradigm(ROOT / "paradigms/agreement_pp_attractor.yaml",
                    tmp_path / "paradigms/agreement_pp_attractor.yaml", 2)  # what labels reads
    shrink_paradigm(ROOT / "paradigms/rsa_number_animacy.yaml", tmp_path / "paradigms/rsa.yaml", 2)
    (tmp_path / "paradigms/labels.yaml").write_text(
        (ROOT / "paradigms/agreement_labels.yaml").read_text())
    (tmp_path / "experiment.yaml").write_text(TEXT)
    return tmp_path / "experiment.yaml"


def test_probe_and_rsa_steps_write_their_tables(experiment, tmp_path):
    result = run_experiment(experiment, tmp_path / "out", threads=1)
    assert not result.failed, result.failed
    assert result.loads == ["gpt2"]  # the control model is derived, not loaded
    out = tmp_path / "out"
    for model in ("gpt2", "gpt2-control"):
        step = out / f"probe/{model}/agreement_labels/seed-default"
        selectivity = pd.read_csv(step / "selectivity.csv")
        assert set(selectivity["model"]) == {model} and selectivity["estimate"].notna().all()
    pooled = pd.read_csv(out / "rsa/gpt2/rsa_number_animacy/pooled/rsa.csv")
    assert (pooled["n"] == 2).all()
    assert pooled["seeds"].eq("seed-default_rs-0,seed-default_rs-1").all()
    assert (out / "probe/gpt2/agreement_labels/seed-default/probe_layers.png").exists()
    # the report embeds every figure the steps drew, and shows the corrected p-values
    from probing.pipeline.report import build_report

    page = build_report(out)
    pngs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert len(pngs) == 2 + 2 * 2  # probe curves per model; RSA curve and RDM per seed
    assert page.count("<img ") == len(pngs)
    assert all(f"<figcaption>{png}</figcaption>" in page for png in pngs)
    assert "<h4>permutation</h4>" in page and "p_corr" in page


def test_the_labels_paradigm_key_covers_the_paradigm_it_reads(experiment):
    before = {s.folder: s.key for s in plan_experiment(load_experiment(experiment))}
    source = experiment.parent / "paradigms/agreement_pp_attractor.yaml"
    source.write_text(source.read_text() + "# touched\n")
    after = {s.folder: s.key for s in plan_experiment(load_experiment(experiment))}
    assert {f for f in before if before[f] != after[f]} == {
        f for f in before if f.startswith("probe/")}
