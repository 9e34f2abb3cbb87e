"""The intervention, localizer and human-alignment entries run from an experiment file on a
tiny model: each step runs, is cached on the second run (no model loaded), pools its
seeds and appears in the report; ``ablate`` reads units from a file or from a
``localize`` step of the same experiment."""

import json

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import SpecError
from probing.pipeline.experiment import plan_experiment, run_experiment
from probing.pipeline.experiment.experiment_spec import load_experiment
from tests.experiment.conftest import ROOT, assert_same_tables, save_tiny_model, shrink_paradigm

pytestmark = pytest.mark.filterwarnings("ignore:SANITY CHECK FAILED")

WORDS = "the cat sat on the mat and the dog saw it there today .".split()
TEXT = """\
name: causal_human
paradigms:
  - path: paradigms/agreement.yaml
    seeds: [0, 1]
  - paradigms/localizer.yaml
  - paradigms/ratings.yaml
  - paradigms/reading.yaml
models:
  - name: gpt2
    path: models/gpt2
analyses:
  - kind: ablate
    name: ablate_localized
    options: {units_from: localize, n_sets: 2, n_boot: 20, limit: 2}
  - kind: patch
    options: {layers: "0,2", limit: 2, n_boot: 20, contrast: subject_number, readout: logit_diff}
  - kind: mediate
    options: {layers: "1", top_k: 2, limit: 4, n_boot: 20, readout: logit_diff, contrast: subject_number}
  - kind: localize
    options: {top_percent: 5, n_perm: 10, n_perm_overlap: 5}
  - kind: ablate
    name: ablate_file
    options: {units: units.csv, n_sets: 2, n_boot: 20, limit: 2}
  - kind: alignment
    options: {n_boot: 20}
"""
# the default run: one lexicon seed and no unit file (the full file runs under -m slow)
FAST = TEXT.replace("seeds: [0, 1]", "seeds: [0]").replace(
    "  - kind: ablate\n    name: ablate_file\n"
    "    options: {units: units.csv, n_sets: 2, n_boot: 20, limit: 2}\n", "")
STEPS = {
    "ablate_localized": ["agreement_pp_attractor"], "patch": ["agreement_pp_attractor"],
    "mediate": ["agreement_pp_attractor"], "ablate_file": ["agreement_pp_attractor"],
    "localize": ["language_localizer"], "alignment": ["human_ratings", "human_reading"]}


def write_human_data(folder, rng):
    """A tiny ratings and a tiny reading-times paradigm with their data files."""
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(4, 8))) for _ in range(16)]
    pd.DataFrame({"s": texts, "r": rng.uniform(1, 4, 16)}).to_csv(folder / "ratings.csv",
                                                                 index=False)
    rows = [(w, z + 1, item, 300 + rng.normal(0, 20)) for item in (1, 2, 3)
            for z, w in enumerate(rng.choice(WORDS, size=20))]
    pd.DataFrame(rows, columns=["word", "zone", "item", "rt"]).to_csv(
        folder / "reading.tsv", sep="\t", index=False)
    (folder / "ratings.yaml").write_text(
        "name: human_ratings\nversion: 1\nkind: ratings\nsource:\n  format: csv\n"
        "  path: ratings.csv\n  columns: {text: s, rating: r}\n")
    (folder / "reading.yaml").write_text(
        "name: human_reading\nversion: 1\nkind: reading_times\nsource:\n  format: tsv\n"
        "  path: reading.tsv\n  columns: {word: word, word_position: zone, item_id: item, time: rt}\n")


def write_causal_experiment(folder, text=TEXT, model=True):
    rng = np.random.default_rng(0)
    if model:
        save_tiny_model("gpt2", folder / "models/gpt2")
    shrink_paradigm(ROOT / "paradigms/agreement_pp_attractor.yaml",
                    folder / "paradigms/agreement.yaml", 3)
    shrink_paradigm(ROOT / "paradigms/language_localizer.yaml",
                    folder / "paradigms/localizer.yaml", 4)
    write_human_data(folder / "paradigms", rng)
    pd.DataFrame({"layer": [1, 1, 2], "site": "resid_post", "unit": [0, 3, 5]}).to_csv(
        folder / "units.csv", index=False)
    (folder / "experiment.yaml").write_text(text)
    return folder / "experiment.yaml"


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    folder = tmp_path_factory.mktemp("causal")
    path = write_causal_experiment(folder, FAST)
    result = run_experiment(path, folder / "out", threads=1)
    return folder, result


def check_report(out, *, pooled):
    from probing.pipeline.report import build_report

    page = build_report(out)
    for heading in ("patching", "top_mediators", "mediation_joint", "ablation",
                    "ablation_behaviour", "reliability", "layer_counts", "alignment"):
        assert f"<h4>{heading}</h4>" in page, heading
    for reference in ("Vig et al. (2020)", "Fedorenko et al. (2010)", "AlKhamissi et al. (2025)",
                      "Lau et al. (2020)", "Futrell et al. (2021)"):
        assert reference in page, reference
    assert "Lesion study" in page and "Functional localizer" in page
    assert ("pooled over seeds" in page) == pooled
    pngs = [p for p in out.rglob("*.png") if "seed-" in p.parent.name]
    assert page.count("<img ") == len(pngs) + 2  # every step figure, and 2 alignment panels
    assert "Alignment with human data: human_ratings" in page


def test_every_step_runs_and_appears_in_the_report(ran):
    folder, result = ran
    out = folder / "out"
    assert not result.failed, result.failed
    for analysis, paradigms in STEPS.items():
        for paradigm in paradigms:
            steps = sorted((out / analysis / "gpt2" / paradigm).glob("seed-*"))
            assert len(steps) == (analysis != "ablate_file"), (analysis, paradigm)
            assert all((s / "step.json").exists() for s in steps)
    alignment = pd.read_csv(out / "alignment/gpt2/human_reading/seed-default/alignment.csv")
    assert alignment.loc[0, "metric"] == "delta_loglik"
    assert set(pd.read_csv(out / "alignment/gpt2/human_ratings/seed-default/alignment.csv")
               ["measure"]) == {"LP", "MeanLP", "PenLP", "NormLP", "SLOR"}
    check_report(out, pooled=False)


def test_ablate_reads_the_localized_units_of_the_same_model(ran):
    folder, _ = ran
    out = folder / "out"
    localized = pd.read_csv(out / "localize/gpt2/language_localizer/seed-default/units.csv")
    chosen = localized[localized["selected"]][["layer", "site", "unit"]]
    ablated = pd.read_csv(out / "ablate_localized/gpt2/agreement_pp_attractor/seed-0/units.csv")
    assert ablated[["layer", "site", "unit"]].values.tolist() == chosen.values.tolist()
    step = json.loads((out / "ablate_localized/gpt2/agreement_pp_attractor/seed-0/step.json")
                      .read_text())
    source = json.loads((out / "localize/gpt2/language_localizer/seed-default/step.json")
                        .read_text())
    assert step["deps"] == [source["key"]] and step["inputs"]["units"] == {"step": source["key"]}


def test_second_run_loads_no_model_and_keeps_every_table(ran, copy_of):
    folder, first = ran
    copy = copy_of(folder)
    loads = []

    def load(path, dtype):
        loads.append(path)
        raise AssertionError("no model may load on a cached run")

    again = run_experiment(copy / "experiment.yaml", copy / "out", threads=1, load=load)
    assert again.ran == [] and loads == [] and sorted(again.cached) == sorted(first.ran)
    assert_same_tables(folder / "out", copy / "out")


def test_keys_follow_the_units_they_read(tmp_path):
    path = write_causal_experiment(tmp_path, model=False)

    def keys():
        return {s.folder: s.key for s in plan_experiment(load_experiment(path))}

    def changed(before, after):
        return {f.split("/")[0] for f in before if before[f] != after[f]}

    before = keys()
    path.write_text(TEXT.replace("top_percent: 5", "top_percent: 10"))
    after = keys()  # a new localizer option: the localizer and the ablation reading it
    assert changed(before, after) == {"localize", "ablate_localized"}
    (tmp_path / "units.csv").write_text("layer,site,unit\n1,resid_post,1\n")
    assert changed(after, keys()) == {"ablate_file"}  # a new unit file: its ablation only
    order = [s.analysis for s in plan_experiment(load_experiment(path)) if s.kind == "model"]
    assert order.index("localize") < order.index("ablate_localized")


@pytest.mark.slow
def test_full_experiment_pools_every_seed(tmp_path):
    path = write_causal_experiment(tmp_path)
    result = run_experiment(path, tmp_path / "out", threads=1)
    assert not result.failed, result.failed
    out = tmp_path / "out"
    for analysis, table in (("patch", "patching"), ("mediate", "mediation"),
                            ("mediate", "mediation_joint"), ("ablate_localized", "ablation"),
                            ("ablate_file", "ablation")):
        pooled = pd.read_csv(out / analysis / "gpt2/agreement_pp_attractor/pooled" /
                             f"{table}.csv")
        assert pooled["seeds"].eq("seed-0,seed-1").all(), analysis
        defined = pooled["estimate"].notna()  # n counts the seeds where the value is defined
        assert defined.any() and (pooled.loc[defined, "n"] >= 1).all(), analysis
        assert (pooled["n"] <= 2).all() and (pooled["n"] == 2).any(), analysis
        assert list(pooled.columns[-9:]) == ["metric", "estimate", "sd", "min", "max", "n",
                                             "seeds", "model", "paradigm"]
    check_report(out, pooled=True)


BAD = [
    ("    options: {units_from: localize, n_sets: 2, n_boot: 20, limit: 2}",
     "    options: {units_from: patch}", r":14: analyses.0.options.units_from: 'patch' is no "
     r"analysis of this file that writes units; allowed: mediate, localize"),
    ("    options: {units_from: localize, n_sets: 2, n_boot: 20, limit: 2}",
     "    options: {units_from: mediate}", r":14: analyses.0.options.units_from: mediate runs "
     r"2 steps per model; units_from needs one"),
    ("    options: {units_from: localize, n_sets: 2, n_boot: 20, limit: 2}",
     "    options: {n_sets: 2}", r":14: analyses.0.options: give exactly one of units"),
    ("    options: {units: units.csv, n_sets: 2, n_boot: 20, limit: 2}",
     "    options: {units: nowhere.csv}", r":23: analyses.4.options.units: .*no such file"),
    ("{layers: \"0,2\", limit: 2", "{top_k: 3, layers: \"0,2\", limit: 2",
     r":16: analyses.1.options.top_k: unknown field; allowed: .*layers, site, per_head"),
    ("{layers: \"1\", top_k: 2", "{layers: \"1\", top_k: two",
     r":18: analyses.2.options: top_k: must be an integer; got 'two'"),
    ("  - kind: alignment\n", "  - kind: alignment\n    paradigms: [agreement_pp_attractor]\n",
     r"analyses.5.paradigms.0: agreement_pp_attractor is kind minimal_pairs; alignment runs "
     r"on ratings, reading_times"),
]


@pytest.mark.parametrize("old,new,message", BAD, ids=["not-units", "several-steps", "neither",
                                                      "no-file", "foreign-option", "type",
                                                      "kind"])
def test_bad_entries_name_the_line(tmp_path, old, new, message):
    assert old in TEXT
    path = write_causal_experiment(tmp_path, TEXT.replace(old, new), model=False)
    with pytest.raises(SpecError, match=message):
        load_experiment(path)


def test_units_from_a_layer_mediation_is_refused(tmp_path):
    # mediate writes top_units.csv with heads or units, not with whole layers
    text = TEXT.replace("{units_from: localize, n_sets: 2", "{units_from: mediate, n_sets: 2")
    text = text.replace("{layers: \"1\", top_k: 2", "{layers: \"1\", mediators: layers, top_k: 2")
    path = write_causal_experiment(tmp_path, text, model=False)
    with pytest.raises(SpecError, match=r"mediate writes no unit table with these options "
                                        r"\(mediate writes top_units.csv with mediators: heads "
                                        r"or units\)"):
        load_experiment(path)
