"""The theory-of-mind localizer paradigm reads the shipped Dodell-Feder et al. stories."""

import csv
from pathlib import Path

from probing.paradigms import generate, load_paradigm

REPO = Path(__file__).resolve().parents[2]


def test_every_story_is_one_stimulus_in_its_condition():
    stimuli = generate(load_paradigm(REPO / "paradigms" / "tom_localizer.yaml"))
    with open(REPO / "data" / "tom_localizer_dodell_feder" / "stories.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert stimuli.kind == "localizer"
    assert stimuli.table["text"].tolist() == [r["story"] for r in rows]
    assert stimuli.table["condition"].tolist() == [r["condition"] for r in rows]
    assert stimuli.table["condition"].value_counts().to_dict() == {"false_belief": 10,
                                                                 "false_photograph": 10}
    assert stimuli.table["item_id"].nunique() == 20


def test_the_data_ships_with_its_licence():
    folder = REPO / "data" / "tom_localizer_dodell_feder"
    assert "MIT License" in (folder / "LICENSE").read_text()
    assert "Dodell-Feder" in (folder / "README.md").read_text()
