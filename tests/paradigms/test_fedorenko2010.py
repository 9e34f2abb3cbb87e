"""The Fedorenko et al. (2010) localizer importer and its paradigm file.

References are independent re-readings of the raw CSV files with the ``csv`` module.
"""

import csv

import pytest

from probing._core.errors import SpecError
from probing.paradigms import dump_paradigm, generate, load_paradigm, parse_paradigm
from probing.paradigms.importers import read_fedorenko2010
from tests.conftest import DATA, PARADIGMS

FOLDER = DATA / "fedorenko2010_localizer"
HEADER = ",".join(f"stim{i}" for i in range(1, 15))


def _raw_rows():
    rows = []
    for path in sorted(FOLDER.glob("langloc_fmri_run*_stim_set*.csv")):
        run, stim_set = path.stem.split("_")[2][3:], path.stem.split("_")[4][3:]
        with open(path, newline="") as fh:
            for row in list(csv.reader(fh))[1:]:
                rows.append((int(run), int(stim_set), row[-1], " ".join(row[1:13])))
    return rows


def test_every_trial_read_with_its_run_and_set():
    stimuli = read_fedorenko2010(FOLDER, case="upper")
    raw = _raw_rows()
    assert len(raw) == 480 and len(stimuli.table) == 480
    got = sorted(zip(stimuli.table["run"], stimuli.table["set"],
                     stimuli.table["condition"].map({"sentences": "S", "nonwords": "N"}),
                     stimuli.table["text"], strict=True))
    assert got == sorted(raw)
    counts = stimuli.table.groupby(["run", "condition"]).size()
    assert counts.tolist() == [120, 120, 120, 120]
    assert (stimuli.table["text"].str.split().str.len() == 12).all()
    regions = stimuli.regions.merge(stimuli.table, on="stimulus_id")
    assert (regions["char_end"] == regions["text"].str.len()).all()


@pytest.mark.parametrize("case, expected", [("lower", "just the barest"),
                                            ("sentence", "Just the barest"),
                                            ("upper", "JUST THE BAREST")],
                         ids=["lower", "sentence", "upper"])
def test_case(case, expected):
    table = read_fedorenko2010(FOLDER, case=case).table
    first = table.loc[table["stimulus_id"] == "run1-set1-sentences-01", "text"].item()
    assert first.startswith(expected) and first.split()[-1].lower() == "pumps"


def test_paradigm_file_round_trip_and_generate():
    spec = load_paradigm(PARADIGMS / "fedorenko2010_localizer.yaml")
    again = parse_paradigm(dump_paradigm(spec), path=PARADIGMS / "fedorenko2010_localizer.yaml")
    assert again == spec
    stimuli = generate(spec)
    assert stimuli.kind == "localizer" and stimuli.info["case"] == "lower"
    assert set(stimuli.table["condition"]) == {"sentences", "nonwords"}
    assert {"run", "set", "trial"} <= set(stimuli.table.columns)
    assert generate(spec).table.equals(stimuli.table)


def _write(folder, rows, name="langloc_fmri_run1_stim_set1.csv", header=HEADER):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("\n".join([header, *rows]) + "\n")
    return folder


GOOD = "1," + ",".join(["A"] * 12) + ",S"


@pytest.mark.parametrize("rows, header, message", [
    (["1," + ",".join(["A"] * 12) + ",X"], HEADER, "stim14: must be S or N, got 'X'"),
    (["x," + ",".join(["A"] * 12) + ",S"], HEADER, "stim1: must be a trial number"),
    (["1," + ",".join(["A"] * 11) + ",,S"], HEADER, "one non-empty word"),
    (["1,A,S"], HEADER, "expected 14 fields, got 3"),
    ([GOOD, GOOD], HEADER, "run1-set1-sentences-01 repeats"),
    ([GOOD], "a,b", "header must be stim1"),
], ids=["condition", "trial", "empty-word", "fields", "repeat", "header"])
def test_bad_files(tmp_path, rows, header, message):
    folder = _write(tmp_path / "loc", rows, header=header)
    with pytest.raises(SpecError, match=message):
        read_fedorenko2010(folder)


def test_bad_folder_and_case(tmp_path):
    with pytest.raises(SpecError, match="no langloc_fmri_run<R>_stim_set<S>.csv files"):
        read_fedorenko2010(tmp_path)
    with pytest.raises(SpecError, match="source.case: must be one of lower, upper, sentence"):
        read_fedorenko2010(FOLDER, case="title")
    text = (PARADIGMS / "fedorenko2010_localizer.yaml").read_text().replace("case: lower",
                                                                            "case: title")
    with pytest.raises(SpecError, match="source.case: must be one of lower, upper, sentence"):
        parse_paradigm(text, path=PARADIGMS / "fedorenko2010_localizer.yaml")
