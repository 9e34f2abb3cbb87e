"""Tests for feature lexicons (probing.paradigms.lexicon).

References re-read the TSV with the ``csv`` module, never with the code under test.
"""

import csv
import dataclasses

import pandas as pd
import pytest

from probing._core.errors import SpecError
from probing.paradigms.lexicon import Lexicon, check_lexicon, read_lexicon

HEADER = "form\tlemma\tpos\tnumber\tanimacy\n"
SMALL = HEADER + ("cat\tcat\tnoun\tsg\tanimate\n"
                  "cats\tcat\tnoun\tpl\tanimate\n"
                  "cup\tcup\tnoun\tsg\tinanimate\n"
                  "cups\tcup\tnoun\tpl\tinanimate\n"
                  "sheep\tsheep\tnoun\t\tanimate\n")


def _write(tmp_path, text, name="lex.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _raw_rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def _varying_features(rows):
    """Features with two different non-empty values among the forms of one (pos, lemma)."""
    values = {}
    for row in rows:
        for feature, value in row.items():
            if feature in ("form", "lemma", "pos", "zipf") or not value:
                continue
            values.setdefault((row["pos"], row["lemma"], feature), set()).add(value)
    return {feature for (_, _, feature), seen in values.items() if len(seen) > 1}


def test_shipped_lexicon_matches_an_independent_reading(data_dir):
    path = data_dir / "lexicon" / "english_core.tsv"
    lexicon = read_lexicon(path)
    rows = _raw_rows(path)
    assert lexicon.entries.to_dict("records") == [{**r, "zipf": float(r["zipf"])} for r in rows]
    assert lexicon.features == [c for c in list(rows[0])[1:] if c != "zipf"]
    assert lexicon.inflectional == frozenset(_varying_features(rows))
    assert {"number", "vform"} <= lexicon.inflectional
    by_pos = lexicon.inflectional_by_pos
    assert not {"animacy", "human", "gender", "transitivity"} & (by_pos["noun"] | by_pos["verb"])
    assert "gender" in by_pos["pronoun"] and "animacy" in by_pos["pronoun"]  # he/she/it


def test_zipf_is_a_measure_not_a_feature(tmp_path):
    text = "form\tlemma\tpos\tzipf\tnumber\ncat\tcat\tnoun\t4.5\tsg\ncats\tcat\tnoun\t3.9\tpl\n"
    lexicon = read_lexicon(_write(tmp_path, text))
    assert lexicon.features == ["lemma", "pos", "number"]
    assert lexicon.entries["zipf"].tolist() == [4.5, 3.9] and lexicon.inflectional == {"number"}
    with pytest.raises(SpecError) as err:
        read_lexicon(_write(tmp_path, text.replace("3.9", "often")))
    assert str(err.value) == f"{tmp_path / 'lex.tsv'}:3: zipf: 'often' is not a number"


def test_inflectional_features_are_read_off_the_data(tmp_path):
    lexicon = read_lexicon(_write(tmp_path, SMALL))
    # number varies within cat/cats; animacy never varies within a lemma
    assert lexicon.inflectional == frozenset({"number"})
    text = SMALL + "kitten\tcat\tnoun\tsg\tinanimate\n"  # now animacy varies within "cat"
    assert read_lexicon(_write(tmp_path, text)).inflectional == frozenset({"number", "animacy"})


def test_same_lemma_under_two_parts_of_speech_is_two_lemmas(tmp_path):
    text = HEADER + "walk\twalk\tnoun\tsg\t\nwalk\twalk\tverb\tpl\t\n"
    assert read_lexicon(_write(tmp_path, text)).inflectional == frozenset()


def test_comments_blank_lines_and_whitespace(tmp_path):
    text = "# provenance\n# more\n" + HEADER + "\n cat \tcat\tnoun\tsg \tanimate\n\n"
    entries = read_lexicon(_write(tmp_path, text)).entries
    assert entries.to_dict("records") == [{"form": "cat", "lemma": "cat", "pos": "noun",
                                           "number": "sg", "animacy": "animate"}]


def test_empty_cells_and_na_like_words_stay_strings(tmp_path):
    text = HEADER + "NA\tNA\tnoun\tsg\t\nnull\tnull\tnoun\t\tanimate\n"
    entries = read_lexicon(_write(tmp_path, text)).entries
    assert entries["form"].tolist() == ["NA", "null"]
    assert entries["number"].tolist() == ["sg", ""]
    assert not entries.isna().any().any()


@pytest.mark.parametrize(("features", "forms"), [
    ({"pos": "noun"}, ["cat", "cats", "cup", "cups", "sheep"]),
    ({"number": "pl"}, ["cats", "cups"]),
    ({"number": {"sg", ""}, "animacy": "animate"}, ["cat", "sheep"]),
    ({"animacy": ("inanimate",), "number": ["pl"]}, ["cups"]),
    ({"number": "du"}, []),
], ids=["one-value", "inflection", "set", "tuple-and-list", "none"])
def test_select(tmp_path, features, forms):
    assert read_lexicon(_write(tmp_path, SMALL)).select(**features)["form"].tolist() == forms


def test_lexicon_is_immutable(tmp_path):
    lexicon = read_lexicon(_write(tmp_path, SMALL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        lexicon.path = "other"


def test_check_lexicon_does_not_mutate_its_input():
    frame = pd.DataFrame({"form": [" cat"], "lemma": ["cat"], "pos": ["noun"]})
    lexicon = check_lexicon(frame)
    assert isinstance(lexicon, Lexicon) and lexicon.path == "<memory>"
    assert frame["form"].tolist() == [" cat"] and lexicon.entries["form"].tolist() == ["cat"]


@pytest.mark.parametrize(("text", "message"), [
    ("form\tlemma\tnumber\ncat\tcat\tsg\n",
     "missing column(s) ['pos']; a lexicon needs ['form', 'lemma', 'pos'] plus feature columns "
     "(has ['form', 'lemma', 'number'])"),
    ("form,lemma,pos\ncat,cat,noun\n",
     "missing column(s) ['form', 'lemma', 'pos']; a lexicon needs ['form', 'lemma', 'pos'] plus "
     "feature columns (has ['form,lemma,pos'])"),
    (HEADER + "cat\tcat\tnoun\tsg\tanimate\ncats\t\tnoun\tpl\tanimate\n",
     ":3: form, lemma and pos must not be empty"),
    (HEADER + "cat\tcat\tnoun\tsg\tanimate\n \tcat\tnoun\tpl\tanimate\n",
     ":3: form, lemma and pos must not be empty"),
    (HEADER + "cat\tcat\n", ":2: form, lemma and pos must not be empty"),
    (HEADER + "cat\tcat\tnoun\tsg\tanimate\ncup\tcup\tnoun\tsg\tinanimate\n"
     "cat\tcat\tnoun\tsg\tanimate\n", ":4: repeats an earlier row ('cat')"),
    (HEADER + "cat\tcat\tnoun\tsg\tanimate\ncats\tcat\tnoun\tpl\tanimate\textra\n",
     "cannot parse lexicon as TSV (Error tokenizing data. C error: Expected 5 fields in line 3, saw 6)"),
    ("", "cannot parse lexicon as TSV (No columns to parse from file)"),
], ids=["missing-pos", "comma-separated", "empty-lemma", "blank-form", "short-row",
        "duplicate-row", "extra-field", "empty-file"])
def test_malformed_lexicon(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        read_lexicon(path)
    expected = f"{path}{message}" if message.startswith(":") else f"{path}: {message}"
    assert str(err.value) == expected
    assert err.value.file == str(path)


def test_lexicon_not_utf8(tmp_path):
    path = tmp_path / "lex.tsv"
    path.write_bytes(HEADER.encode() + "caf\xe9\tcaf\xe9\tnoun\tsg\t\n".encode("latin-1"))
    with pytest.raises(SpecError, match=r"cannot parse lexicon as TSV \('utf-8' codec"):
        read_lexicon(path)


@pytest.mark.parametrize("name", ["missing.tsv", "folder"], ids=["missing", "directory"])
def test_no_such_lexicon_file(tmp_path, name):
    (tmp_path / "folder").mkdir()
    with pytest.raises(SpecError) as err:
        read_lexicon(tmp_path / name)
    assert str(err.value) == f"{tmp_path / name}: no such lexicon file"
