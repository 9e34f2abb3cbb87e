"""The theory-of-mind experiment file: each lesion ablates the units of its own localizer."""

from probing.pipeline.experiment import load_experiment, plan_experiment
from tests.experiment.conftest import ROOT


def test_each_lesion_reads_its_own_localizer_and_runs_after_it():
    spec = load_experiment(ROOT / "paradigms/experiments/theory_of_mind.yaml")
    steps = plan_experiment(spec)
    localizers = {s.analysis: s for s in steps if s.analysis.startswith("localize")}
    assert {s.paradigm for s in localizers.values()} == {"tom_localizer",
                                                         "fedorenko2010_localizer"}
    source = {"lesion_tom_units": "localize_tom", "lesion_language_units": "localize_language"}
    lesions = [s for s in steps if s.analysis in source and s.kind == "model"]
    assert len(lesions) == 2 * 3  # two unit sets x (false belief, true belief, agreement)
    for step in lesions:
        assert step.deps == (localizers[source[step.analysis]].key,)
        assert steps.index(localizers[source[step.analysis]]) < steps.index(step)
    behaviour = {s.paradigm for s in steps if s.analysis == "behaviour"}
    assert {p for p in behaviour if "belief" in p} == {
        f"{kind}_belief_{design}" for kind in ("false", "true")
        for design in ("transfer", "second_order", "contents")}
