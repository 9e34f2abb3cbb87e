"""SyntaxGym suites with whitespace at region edges, empty regions and a single item.

Expected texts and spans are written out by hand from syntaxgym-core's rule (contents
left-stripped, empty or all-space contents left out, the rest joined by one space,
trailing whitespace kept).
"""

import json
import shutil
from pathlib import Path

import pytest

from probing.paradigms import generate, parse_paradigm, validate_paradigm
from probing.paradigms.importers import read_syntaxgym

FIXTURES = Path(__file__).parent / "data" / "syntaxgym"

EXPECTED_TEXT = {
    ("1", "match"): "The hunter shot to the criminal kingpin  .",
    ("1", "mismatch"): "The hunter shot to the criminal kingpins  .",
    ("2", "match"): "The baker  baked quickly the bread .",
    ("2", "mismatch"): "The baker baked  the breads .",
}
# (item, condition) -> region spans [start, end) in order of region_number
EXPECTED_SPANS = {
    ("1", "match"): [(0, 10), (11, 15), (16, 16), (16, 40), (41, 42)],
    ("1", "mismatch"): [(0, 10), (11, 15), (16, 16), (16, 41), (42, 43)],
    ("2", "match"): [(0, 10), (11, 16), (17, 24), (25, 34), (35, 36)],
    ("2", "mismatch"): [(0, 9), (10, 16), (17, 17), (17, 27), (28, 29)],
}


@pytest.fixture(scope="module")
def suite():
    return read_syntaxgym(FIXTURES / "whitespace.json")


def test_text_follows_syntaxgym_core(suite):
    got = {(str(r.item_id), r.condition): r.text for r in suite.table.itertuples()}
    assert got == EXPECTED_TEXT


def test_region_spans(suite):
    for (item, condition), spans in EXPECTED_SPANS.items():
        sid = f"ws_edges-{item}-{condition}"
        rows = suite.regions[suite.regions["stimulus_id"] == sid].sort_values("region_number")
        assert list(zip(rows["char_start"], rows["char_end"], strict=True)) == spans, sid


def test_spans_hold_the_left_stripped_content(suite):
    raw = json.loads((FIXTURES / "whitespace.json").read_text())
    texts = suite.table.set_index("stimulus_id")["text"]
    n = 0
    for item in raw["items"]:
        for cond in item["conditions"]:
            sid = f"ws_edges-{item['item_number']}-{cond['condition_name']}"
            rows = suite.regions[suite.regions["stimulus_id"] == sid].sort_values("region_number")
            for region, (start, end) in zip(cond["regions"], zip(rows["char_start"], rows["char_end"],
                                                                   strict=True), strict=True):
                expected = region["content"].lstrip()
                assert texts[sid][start:end] == expected
                n += 1
    assert n == 20


def test_paradigm_reading_the_suite_validates(tmp_path):
    path = tmp_path / "p.yaml"
    shutil.copy(FIXTURES / "whitespace.json", tmp_path)  # paradigm files read beside themselves
    path.write_text("name: ws\nversion: 1\nkind: factorial\n"
                    "source: {format: syntaxgym, path: whitespace.json}\n")
    spec, stimuli = validate_paradigm(path)
    assert len(stimuli.table) == 4 and stimuli.predictions == ("(4;%mismatch%) > (4;%match%)",)


def test_single_item_suite_imports(tmp_path):
    stimuli = read_syntaxgym(FIXTURES / "single_item.json")
    assert stimuli.table["text"].tolist() == ["The dogs bark .", "The dogs barks ."]
    assert stimuli.table["item_id"].unique().tolist() == [1]
    shutil.copy(FIXTURES / "single_item.json", tmp_path)  # paradigm files read beside themselves
    spec = parse_paradigm("name: one\nversion: 1\nkind: factorial\n"
                          "source: {format: syntaxgym, path: single_item.json}\n",
                          path=tmp_path / "p.yaml")
    assert len(generate(spec).table) == 2
