"""Ratings and reading-times paradigm files: import, alignment and one-line errors."""

import warnings

import numpy as np
import pytest

from probing._core.errors import ProbingError
from probing.paradigms import generate, load_paradigm
from probing.paradigms.importers.human import read_human_source

RT_COLUMNS = {"word": "word", "word_position": "zone", "item_id": "item", "time": "rt"}


def _write(path, header, rows, sep="\t"):
    path.write_text(sep.join(header) + "\n" + "".join(sep.join(map(str, r)) + "\n" for r in rows))
    return path


def test_reading_times_join_words_in_position_order(tmp_path):
    rows = [("bark.", 2, 1, 320), ("Dogs", 1, 1, 300), ("Cats", 1, 2, 310), ("'meow,'", 2, 2, 330),
            ("too.", 3, 2, 305)]
    path = _write(tmp_path / "rt.tsv", ["word", "zone", "item", "rt"], rows)
    stimuli = read_human_source(path, kind="reading_times", columns=RT_COLUMNS)
    assert stimuli.table["text"].tolist() == ["Dogs bark.", "Cats 'meow,' too."]
    words = stimuli.words
    for _, w in words.iterrows():  # each data word is exactly its span of the text
        text = stimuli.table.set_index("stimulus_id").loc[w["stimulus_id"], "text"]
        assert text[w["char_start"]:w["char_end"]] == w["word"]
    assert words.query("item_id == 2")["word_position"].tolist() == [1, 2, 3]
    assert words.query("word == \"'meow,'\"")["rt"].item() == 330.0


def test_ratings(tmp_path):
    path = _write(tmp_path / "r.csv", ["ID", "sentence", "mean"],
                  [(7, "the cat sat .", 3.5), (9, "cat the sat", 1.25)], sep=",")
    stimuli = read_human_source(path, kind="ratings",
                                columns={"text": "sentence", "rating": "mean", "item_id": "ID"})
    assert stimuli.table["stimulus_id"].tolist() == ["r-7", "r-9"]
    np.testing.assert_array_equal(stimuli.table["rating"], [3.5, 1.25])


@pytest.mark.parametrize("rows, columns, message", [
    ([("Dogs", 1, 1, 300)], {**RT_COLUMNS, "time": "ms"},
     r"rt.tsv: columns.time: column 'ms' is not in the file"),
    ([("Dogs", 1, 1, 300), ("bark", 2, 1, "slow")], RT_COLUMNS,
     r"rt.tsv:3: rt: 'slow' is not a finite number"),
    ([("Dogs", 1, 1, 300), ("two words", 2, 1, 310)], RT_COLUMNS,
     r"rt.tsv:3: word: word 'two words' cannot be aligned to a text"),
    ([("Dogs", 1, 1, 300), ("bark", 1, 1, 310)], RT_COLUMNS,
     r"rt.tsv:3: zone: \(item_id, word_position\) \(1, 1\) repeats \(first on line 2\)"),
    ([("Dogs", "1.5", 1, 300)], RT_COLUMNS, r"rt.tsv:2: zone: '1.5' is not an integer"),
    ([("Dogs", 1, 1, 300)], {"word": "word", "item_id": "item", "time": "rt"},
     r"must map the roles .* missing \['word_position'\]"),
], ids=["missing-column", "bad-time", "unalignable-word", "repeated-position", "bad-position",
        "missing-role"])
def test_reading_times_bad_input(tmp_path, rows, columns, message):
    path = _write(tmp_path / "rt.tsv", ["word", "zone", "item", "rt"], rows)
    with pytest.raises(ProbingError, match=message) as info:
        read_human_source(path, kind="reading_times", columns=columns)
    assert "\n" not in str(info.value)


def test_ratings_bad_rating_names_row_and_column(tmp_path):
    path = _write(tmp_path / "r.csv", ["sentence", "mean"], [("ok .", 3), ("bad .", "n/a")],
                  sep=",")
    with pytest.raises(ProbingError, match=r"r.csv:3: mean: 'n/a' is not a finite number"):
        read_human_source(path, kind="ratings", columns={"text": "sentence", "rating": "mean"})


def test_paradigm_file_of_kind_ratings(tmp_path):
    _write(tmp_path / "r.csv", ["sentence", "mean"], [("the cat sat .", 3)], sep=",")
    (tmp_path / "p.yaml").write_text(
        "name: tiny\nversion: 1\nkind: ratings\nsource:\n  format: csv\n  path: r.csv\n"
        "  columns: {text: sentence, rating: mean}\n")
    stimuli = generate(load_paradigm(tmp_path / "p.yaml"))
    assert stimuli.kind == "ratings" and stimuli.table["rating"].tolist() == [3.0]


@pytest.mark.parametrize("name", ["lau2020_ratings", "naturalstories"])
def test_shipped_human_paradigms(name):
    from probing.paradigms import shipped_paradigms

    path = next(p for p in shipped_paradigms() if p.stem == name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # a shipped file uses no deprecated key
        stimuli = generate(load_paradigm(path))
    if name == "lau2020_ratings":
        assert len(stimuli.table) == 250
        assert stimuli.table["rating"].between(1, 4).all()
    else:
        assert sorted(stimuli.table["item_id"]) == list(range(1, 8))
        assert len(stimuli.words) == 7299


OLD_RT_COLUMNS = {"word": "word", "position": "zone", "item": "item", "time": "rt"}


def test_old_role_keys_still_work_with_a_warning_naming_file_and_field(tmp_path):
    rows = [("bark.", 2, 1, 320), ("Dogs", 1, 1, 300), ("Cats", 1, 2, 310)]
    path = _write(tmp_path / "rt.tsv", ["word", "zone", "item", "rt"], rows)
    with pytest.warns(FutureWarning) as rec:
        old = read_human_source(path, kind="reading_times", columns=OLD_RT_COLUMNS)
    messages = sorted(str(w.message) for w in rec)
    assert messages == [
        f"{path}: columns.item: the role 'item' is deprecated and will be removed in the "
        "next release; use 'item_id'",
        f"{path}: columns.position: the role 'position' is deprecated and will be removed "
        "in the next release; use 'word_position'"]
    assert {w.filename for w in rec} == {__file__}  # the warning points at the caller
    new = read_human_source(path, kind="reading_times", columns=RT_COLUMNS)
    assert old.table.equals(new.table) and old.words.equals(new.words)
    assert "word_position" in new.words and "position" not in new.words


def test_old_and_new_role_keys_together_are_refused(tmp_path):
    path = _write(tmp_path / "rt.tsv", ["word", "zone", "item", "rt"], [("Dogs", 1, 1, 300)])
    with pytest.raises(ProbingError, match=r"rt.tsv: columns.position: map "
                                           r"'word_position' only"):
        read_human_source(path, kind="reading_times", columns={**RT_COLUMNS, "position": "zone"})


def test_old_role_keys_in_a_paradigm_file_warn_and_load(tmp_path):
    _write(tmp_path / "rt.tsv", ["word", "zone", "item", "rt"],
           [("Dogs", 1, 1, 300), ("bark.", 2, 1, 320), ("Cats", 1, 2, 310)])
    spec = tmp_path / "rt.yaml"
    spec.write_text("name: rt\nversion: 1\nkind: reading_times\nsource:\n  format: tsv\n"
                    "  path: rt.tsv\n  columns: {word: word, position: zone, item: item, "
                    "time: rt}\n")
    with pytest.warns(FutureWarning) as rec:
        stimuli = generate(load_paradigm(spec))
    assert sorted(str(w.message).split(" the role")[0] for w in rec) == [
        f"{spec}: source.columns.item:", f"{spec}: source.columns.position:"]
    assert stimuli.words["word_position"].tolist() == [1, 2, 1]
