"""Tests for the data-set importers (probing.paradigms.importers) on the bundled samples.

They read only ``data/`` and ``tmp_path``. References are independent re-readings of
the raw files (``json``, ``csv``, plain string operations), never the importers.
"""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from probing._core.errors import SpecError
from probing.paradigms.formula import parse_formula
from probing.paradigms.importers import read_blimp, read_conllu, read_syntaxgym, read_table_source
from probing.paradigms.importers.blimp import build_pair_stimuli, find_critical_spans
from probing.stimuli import REGION_COLUMNS, WORD_COLUMNS

PAIR_TABLE = {"stimulus_id", "item_id", "condition", "text", "phenomenon", "pair_id", "role",
              "identical"}
SUITES = {"fgd_subject": (24, 8), "npi_orc_any": (38, 9), "number_src": (19, 8)}
DEV, TEST = "en_ewt-ud-dev.conllu", "en_ewt-ud-test.conllu"
TOKEN = "{}\t{}\t_\tX\t_\t_\t0\troot\t_\t_"


def _with_text(stimuli, frame):
    return frame.merge(stimuli.table[["stimulus_id", "text"]], on="stimulus_id", validate="m:1")


def _spanned(frame):
    return [t[a:b] for t, a, b in zip(frame.text, frame.char_start, frame.char_end, strict=True)]


def _raw_blimp(folder):
    pairs = []
    for path in sorted(folder.glob("*.jsonl")):
        if path.name != "models_summary.jsonl":
            pairs += [json.loads(line) for line in path.read_text().splitlines()]
    return pairs


@pytest.fixture(scope="module")
def blimp():
    # Module-scoped (read once), so it cannot use the function-scoped data_dir fixture.
    return read_blimp(Path(__file__).resolve().parents[2] / "data" / "blimp")


# --- BLiMP -----------------------------------------------------------------------------


def test_blimp_sample_counts_columns_and_order(blimp, data_dir):
    raw = _raw_blimp(data_dir / "blimp")
    assert len(raw) == 6700 and len(blimp.table) == 2 * len(raw)
    assert blimp.kind == "minimal_pairs"
    assert set(blimp.table.columns) == PAIR_TABLE | {"field", "linguistics_term"}
    assert list(blimp.regions.columns) == list(REGION_COLUMNS)
    assert blimp.info["phenomena"] == sorted({r["UID"] for r in raw})
    assert len(blimp.info["phenomena"]) == 67 and blimp.info["source"] == "blimp"
    expected = sorted(raw, key=lambda r: (r["UID"], int(r["pairID"])))
    ids = [f"{r['UID']}-{r['pairID']}-{role}" for r in expected for role in ("good", "bad")]
    assert blimp.table["stimulus_id"].tolist() == ids
    texts = [r[f"sentence_{role}"] for r in expected for role in ("good", "bad")]
    assert blimp.table["text"].tolist() == texts
    assert (blimp.table["condition"] == blimp.table["role"]).all()
    assert blimp.table.groupby("phenomenon").size().eq(200).all()


def test_blimp_sample_has_no_identical_pairs(blimp):
    # Upstream's identical pairs (passive_1 324, 810; principle_A_case_2 105, 287, ...)
    # all lie past the first 100 lines, so the sample holds none.
    assert blimp.info["n_identical"] == 0
    assert not blimp.table["identical"].any()
    assert blimp.regions.groupby("region").size().to_dict() == {"critical": 13400,
                                                                "sentence": 13400}


def test_blimp_every_region_span_is_exact(blimp):
    regions = _with_text(blimp, blimp.regions)
    sentence = regions[regions.region == "sentence"]
    assert _spanned(sentence) == sentence.text.tolist()
    critical = regions[regions.region == "critical"].merge(blimp.table[["stimulus_id", "pair_id",
                                                                        "role"]])
    good, bad = (critical[critical.role == r].set_index("pair_id") for r in ("good", "bad"))
    assert len(good) == 6700 and good.index.equals(bad.index)
    for (g, gs, ge), (b, bs, be) in zip(
        good[["text", "char_start", "char_end"]].itertuples(index=False),
        bad[["text", "char_start", "char_end"]].itertuples(index=False),
        strict=True,
    ):
        # Outside the critical spans the two members are the same string, inside they
        # differ, and every span starts and ends on a word boundary.
        assert (g[:gs], g[ge:]) == (b[:bs], b[be:]) and g[gs:ge] != b[bs:be]
        for text, start, end in ((g, gs, ge), (b, bs, be)):
            assert start == 0 or text[start - 1] == " "
            assert end == len(text) or text[end] == " "


def test_blimp_critical_region_of_a_known_pair(blimp):
    # passive_1 pair 0: "... are confused by Amy." / "... are communicated by Amy."
    regions = _with_text(blimp, blimp.regions.query("region == 'critical'"))
    got = regions[regions.stimulus_id.str.startswith("passive_1-0-")]
    assert _spanned(got) == ["confused", "communicated"]
    assert got.region_number.tolist() == [2, 2]


@pytest.mark.parametrize(
    ("good", "bad", "expected"),
    [
        ("I think that he left.", "I think he left.", ("that", "")),
        ("The cat sleeps.", "The cat sleep.", ("sleeps.", "sleep.")),
        ("Who did Ann see Bo with?", "Who did Ann see with Bo?", ("Bo with?", "with Bo?")),
        ("A dog ran.", "A dog ran.", ("", "")),
    ],
    ids=["deletion", "final-word", "reordering", "identical"],
)
def test_find_critical_spans(good, bad, expected):
    (gs, ge), (bs, be) = find_critical_spans(good, bad)
    assert (good[gs:ge], bad[bs:be]) == expected


def test_blimp_flags_identical_pairs(tmp_path):
    # Upstream passive_1 pairID 324, whose two members are the same string.
    same = "Douglas's senator was left by Susan."
    rows = [{"sentence_good": same, "sentence_bad": same, "UID": "passive_1", "pairID": "324"},
            {"sentence_good": "Tina is fired.", "sentence_bad": "Tina is smiled.",
             "UID": "passive_1", "pairID": "3"}]
    (tmp_path / "passive_1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    s = read_blimp(tmp_path)
    flags = s.table.set_index("stimulus_id")["identical"]
    assert flags.to_dict() == {"passive_1-3-good": False, "passive_1-3-bad": False,
                               "passive_1-324-good": True, "passive_1-324-bad": True}
    assert s.info["n_identical"] == 1
    critical = s.regions[s.regions.region == "critical"]
    assert set(critical.stimulus_id) == {"passive_1-3-good", "passive_1-3-bad"}
    assert (s.regions.region == "sentence").sum() == 4


def test_blimp_phenomenon_filter_and_file_list(blimp, data_dir):
    keep = ["principle_A_case_2", "passive_1"]
    s = read_blimp(data_dir / "blimp", phenomena=keep)
    assert s.info["phenomena"] == sorted(keep) and len(s.table) == 400
    pd.testing.assert_frame_equal(s.table, blimp.table[blimp.table.phenomenon.isin(keep)]
                                  .reset_index(drop=True))
    files = [data_dir / "blimp" / f"{p}.jsonl" for p in keep]
    pd.testing.assert_frame_equal(read_blimp(files).table, s.table)
    assert read_blimp(data_dir / "blimp", phenomena="passive_1").info["phenomena"] == ["passive_1"]


def test_blimp_limit_per_phenomenon(data_dir):
    s = read_blimp(data_dir / "blimp", limit_per_phenomenon=3)
    assert len(s.table) == 67 * 3 * 2
    assert s.table.groupby("phenomenon")["item_id"].apply(set).eq({0, 1, 2}).all()


def test_blimp_does_not_mutate_the_pairs_frame():
    pairs = pd.DataFrame({"phenomenon": ["b", "a"], "item_id": [1, 0],
                          "good": ["Dogs bark.", "A cat."], "bad": ["Dogs barks.", "A cats."]})
    before = pairs.copy()
    s = build_pair_stimuli(pairs, paradigm="demo")
    pd.testing.assert_frame_equal(pairs, before)
    assert s.table.stimulus_id.tolist() == ["a-0-good", "a-0-bad", "b-1-good", "b-1-bad"]


def test_blimp_unknown_phenomenon(data_dir):
    folder = data_dir / "blimp"
    with pytest.raises(SpecError, match=re.escape(f"{folder}: phenomena: unknown phenomena "
                                                  "['passive_9']; available: adjunct_island, ")
                       + r".*, wh_vs_that_with_gap_long_distance$"):
        read_blimp(folder, phenomena=["passive_1", "passive_9"])


def test_blimp_malformed_jsonl_line(tmp_path):
    good = {"sentence_good": "A b.", "sentence_bad": "A c.", "UID": "x", "pairID": "0"}
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(good) + "\n" + '{"sentence_good": "A b.",\n')
    with pytest.raises(SpecError, match=re.escape(f"{path}:2: not a JSON object")):
        read_blimp(path)


def test_blimp_line_missing_a_field(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"sentence_good": "A b.", "sentence_bad": "A c.", "UID": "x"}))
    with pytest.raises(SpecError, match=re.escape(f"{path}:1: pairID: missing;")):
        read_blimp(path)


# --- SyntaxGym -------------------------------------------------------------------------


@pytest.mark.parametrize("suite", sorted(SUITES), ids=sorted(SUITES))
def test_syntaxgym_suite_counts_text_and_regions(suite, data_dir):
    path = data_dir / "syntaxgym" / f"{suite}.json"
    raw = json.loads(path.read_text())
    s = read_syntaxgym(path)
    n_items, n_regions = SUITES[suite]
    assert s.kind == "factorial" and s.paradigm == suite
    assert set(s.table.columns) == {"stimulus_id", "item_id", "condition", "text", "suite"}
    assert len(s.table) == n_items * 4 and len(s.regions) == n_items * 4 * n_regions
    contents, texts = {}, {}
    for item in raw["items"]:
        for cond in item["conditions"]:
            sid = f"{suite}-{item['item_number']}-{cond['condition_name']}"
            parts = [r["content"] for r in cond["regions"]]
            texts[sid] = " ".join(p for p in parts if p)  # get_sentences.py's rule
            for r in cond["regions"]:
                contents[sid, r["region_number"]] = r["content"]
    assert dict(zip(s.table.stimulus_id, s.table.text, strict=True)) == texts
    regions = _with_text(s, s.regions)
    assert _spanned(regions) == [contents[k] for k in zip(regions.stimulus_id,
                                                          regions.region_number, strict=True)]
    names = [raw["region_meta"][str(n)] for n in regions.region_number]
    assert regions.region.tolist() == names


def test_syntaxgym_empty_region_sits_before_the_next_one(data_dir):
    s = read_syntaxgym(data_dir / "syntaxgym" / "fgd_subject.json")
    regions = _with_text(s, s.regions).set_index(["stimulus_id", "region"])
    gap = regions.loc["fgd_subject-1-what_gap"]
    assert gap.loc["np1", ["char_start", "char_end"]].tolist() == [11, 11]
    assert gap.loc["verb", ["char_start", "char_end"]].tolist() == [11, 18]
    assert gap.text.iloc[0] == "I know who grabbed the food in front of the guests at the holiday party"
    empty = regions[regions.char_start == regions.char_end]
    assert len(empty) == 48 and set(empty.index.get_level_values("region")) == {"np1"}


def test_syntaxgym_predictions_and_info(data_dir):
    s = read_syntaxgym(data_dir / "syntaxgym" / "number_src.json", name="agreement")
    assert s.paradigm == "agreement" and set(s.table.suite) == {"number_src"}
    assert s.predictions == ("[(7;%match_sing%) < (7;%mismatch_sing%)] & "
                             "[(7;%match_plural%) < (7;%mismatch_plural%)]",)
    assert s.info == {
        "source": "syntaxgym", "reduction": "sum",
        "regions": ["intro", "np_sing", "that", "embed_vp", "the", "embed_np", "matrix_v",
                    "continuation"],
        "conditions": ["match_sing", "mismatch_sing", "match_plural", "mismatch_plural"],
    }
    for prediction in s.predictions:
        for region, condition in parse_formula(prediction).references:
            assert condition in s.info["conditions"] and 1 <= region <= 8


def test_syntaxgym_region_content_with_boundary_space(data_dir, tmp_path):
    # imported as syntaxgym-core reads it: leading space dropped, trailing space kept
    raw = json.loads((data_dir / "syntaxgym" / "number_src.json").read_text())
    regions = raw["items"][0]["conditions"][1]["regions"]
    contents = [r["content"] for r in regions]
    regions[6]["content"] = " " + contents[6] + " "
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(raw))
    stimuli = read_syntaxgym(path)
    contents[6] += " "
    expected = " ".join(c for c in contents if c)
    assert stimuli.table["text"].iloc[1] == expected


# --- CoNLL-U ---------------------------------------------------------------------------


@pytest.mark.parametrize(("file", "n_sentences", "n_words"), [(DEV, 1000, 14063),
                                                               (TEST, 500, 7275)], ids=["dev", "test"])
def test_conllu_sample_counts_and_spans(file, n_sentences, n_words, data_dir):
    path = data_dir / "ud_english_ewt" / file
    s = read_conllu(path)
    lines = path.read_text().splitlines()
    sent_ids = [line.split(" = ", 1)[1] for line in lines if line.startswith("# sent_id = ")]
    texts = [line.split(" = ", 1)[1] for line in lines if line.startswith("# text = ")]
    assert s.kind == "labels" and len(s.table) == n_sentences == len(sent_ids)
    assert s.table.stimulus_id.tolist() == sent_ids and s.table.text.tolist() == texts
    assert s.table.item_id.tolist() == list(range(n_sentences))
    assert list(s.words.columns) == [*WORD_COLUMNS, "upos", "xpos", "deprel", "feats",
                                     "lemma", "head"]
    assert len(s.words) == n_words == sum(bool(re.match(r"\d+\t", line)) for line in lines)
    words = _with_text(s, s.words)
    assert _spanned(words) == words.word.tolist()
    assert (words.groupby("stimulus_id", sort=False).cumcount() == words.word_index).all()
    # Words never overlap: every sample multiword token splits into its words.
    nxt = words.groupby("stimulus_id", sort=False).char_start.shift(-1)
    assert (words.char_end[nxt.notna()] <= nxt.dropna()).all()
    assert s.info == {"source": "conllu",
                      "label_columns": ["upos", "xpos", "deprel", "feats", "lemma", "head"]}
    assert s.regions.region.eq("sentence").all() and len(s.regions) == n_sentences


def test_conllu_multiword_tokens_split_on_the_sample(data_dir):
    s = read_conllu(data_dir / "ud_english_ewt" / DEV, fields=("upos", "lemma"))
    sid = "weblog-blogspot.com_tacitusproject_20040712123425_ENG_20040712_123425-0018"
    words = _with_text(s, s.words[s.words.stimulus_id == sid])
    assert words.text.iloc[0].startswith("So he's got a")
    first = words.head(3)[["word", "char_start", "char_end", "upos", "lemma"]]
    assert first.values.tolist() == [["So", 0, 2, "ADV", "so"], ["he", 3, 5, "PRON", "he"],
                                     ["'s", 5, 7, "AUX", "have"]]


def test_conllu_multiword_token_whose_words_do_not_concatenate(tmp_path):
    # Spanish "al" = "a" + "el": the forms do not spell the surface, so both share it.
    rows = ["# text = Voy al cine", TOKEN.format(1, "Voy"), "2-3\tal" + "\t_" * 8,
            TOKEN.format(2, "a"), TOKEN.format(3, "el"), TOKEN.format(4, "cine"), ""]
    path = tmp_path / "es.conllu"
    path.write_text("\n".join(rows) + "\n")
    words = read_conllu(path, fields=()).words
    assert words[["word", "char_start", "char_end"]].values.tolist() == [
        ["Voy", 0, 3], ["a", 4, 6], ["el", 4, 6], ["cine", 7, 11]]
    assert words.stimulus_id.eq("es-0").all()


def test_conllu_empty_nodes_are_skipped(data_dir):
    s = read_conllu(data_dir / "ud_english_ewt" / DEV, fields=("head",))
    sid = "weblog-blogspot.com_aggressivevoicedaily_20060814163400_ENG_20060814_163400-0007"
    words = s.words[s.words.stimulus_id == sid]
    assert len(words) == 33 and words.word.tolist().count("write") == 1
    assert words.word_index.tolist() == list(range(33))
    assert str(words["head"].dtype) == "Int64" and words["head"].between(0, 33).all()


def test_conllu_text_rebuilt_from_space_after(data_dir, tmp_path):
    # Without "# text" lines the text comes from the forms and SpaceAfter=No; on the
    # sample it must reproduce every sentence's own "# text" and every span.
    source = data_dir / "ud_english_ewt" / DEV
    stripped = tmp_path / DEV
    stripped.write_text("".join(line for line in source.open() if not line.startswith("# text")))
    original, rebuilt = read_conllu(source), read_conllu(stripped)
    pd.testing.assert_frame_equal(rebuilt.table, original.table)
    pd.testing.assert_frame_equal(rebuilt.words, original.words)


def test_conllu_limit_and_generated_ids(data_dir, tmp_path):
    s = read_conllu(data_dir / "ud_english_ewt" / TEST, limit=10, fields=["deprel"])
    assert len(s.table) == 10 and set(s.words.stimulus_id) == set(s.table.stimulus_id)
    assert list(s.words.columns) == [*WORD_COLUMNS, "deprel"]
    path = tmp_path / "tiny.conllu"
    path.write_text("\n".join([TOKEN.format(1, "Hi"), "", TOKEN.format(1, "Yo"), ""]) + "\n")
    assert read_conllu(path).table.stimulus_id.tolist() == ["tiny-0", "tiny-1"]


@pytest.mark.parametrize(
    ("line", "message"),
    [("2\tworld\t_\tX\t_\t_\t0\troot\t_", "expected 10 tab-separated columns"),
     (TOKEN.format("two", "world"), "ID: must be a word number (7), a range (7-8)")],
    ids=["column-count", "non-integer-id"],
)
def test_conllu_malformed_line(line, message, tmp_path):
    path = tmp_path / "bad.conllu"
    path.write_text("\n".join(["# text = hello world", TOKEN.format(1, "hello"), line, ""]))
    with pytest.raises(SpecError, match=re.escape(f"{path}:3: ") + ".*" + re.escape(message)):
        read_conllu(path)


def test_conllu_unknown_label_field(data_dir):
    with pytest.raises(SpecError, match=r"fields: unknown label fields \['pos'\]; allowed: lemma"):
        read_conllu(data_dir / "ud_english_ewt" / TEST, fields=("upos", "pos"))


# --- Plain tables ----------------------------------------------------------------------


def test_table_minimal_pairs_match_read_blimp(blimp, data_dir, tmp_path):
    raw = _raw_blimp(data_dir / "blimp")
    frame = pd.DataFrame({"uid": [r["UID"] for r in raw], "n": [r["pairID"] for r in raw],
                          "ok": [r["sentence_good"] for r in raw],
                          "not_ok": [r["sentence_bad"] for r in raw]})
    path = tmp_path / "pairs.tsv"
    frame.to_csv(path, sep="\t", index=False)
    s = read_table_source(path, kind="minimal_pairs",
                          columns={"good": "ok", "bad": "not_ok", "phenomenon": "uid", "item_id": "n"})
    assert set(s.table.columns) == PAIR_TABLE
    pd.testing.assert_frame_equal(s.table, blimp.table[list(s.table.columns)])
    pd.testing.assert_frame_equal(s.regions, blimp.regions)
    assert s.info["n_identical"] == 0 and s.info["phenomena"] == blimp.info["phenomena"]


def test_table_old_item_key_still_reads_with_a_warning(tmp_path):
    # the role was `item` before it took the column vocabulary's name `item_id`
    path = tmp_path / "design.csv"
    path.write_text("n,cond,sentence\n1,a,The dog ran.\n2,a,A cat sat.\n")
    new = read_table_source(path, kind="factorial",
                            columns={"item_id": "n", "condition": "cond", "text": "sentence"})
    with pytest.warns(FutureWarning, match=rf"{path}: columns.item: the role 'item' is "
                                           r"deprecated .* use 'item_id'"):
        old = read_table_source(path, kind="factorial",
                                columns={"item": "n", "condition": "cond", "text": "sentence"})
    pd.testing.assert_frame_equal(old.table, new.table)
    with pytest.raises(SpecError, match="map 'item_id' only"):
        read_table_source(path, kind="factorial", columns={
            "item": "n", "item_id": "n", "condition": "cond", "text": "sentence"})


def test_table_factorial_with_extra_factor(tmp_path):
    path = tmp_path / "design.txt"
    path.write_text("item;cond;sentence;animacy\n1;a;The dog ran.;animate\n"
                    "1;b;The rock fell.;inanimate\n2;a;A cat sat.;animate\n")
    s = read_table_source(path, kind="factorial", sep=";", columns={
        "item_id": "item", "condition": "cond", "text": "sentence", "animacy": "animacy"})
    assert list(s.table.columns) == ["stimulus_id", "item_id", "condition", "text", "animacy"]
    assert s.table.stimulus_id.tolist() == ["design-1-a", "design-1-b", "design-2-a"]
    assert s.table.item_id.tolist() == [1, 1, 2] and s.factors == ["animacy"]
    assert s.info["factors"] == {"animacy": ["animate", "inanimate"]}
    regions = _with_text(s, s.regions)
    assert _spanned(regions) == regions.text.tolist()


def test_table_csv_without_item_column(tmp_path):
    path = tmp_path / "rsa.csv"
    path.write_text('text,category\n"Hello, world.",greeting\nGoodbye.,farewell\n')
    s = read_table_source(path, kind="rsa", columns={"text": "text", "condition": "category"})
    assert s.table.text.tolist() == ["Hello, world.", "Goodbye."]
    assert s.table.item_id.tolist() == [0, 1] and s.kind == "rsa"


def test_table_missing_declared_column(tmp_path):
    path = tmp_path / "design.csv"
    path.write_text("cond,sentence\na,The dog ran.\n")
    with pytest.raises(SpecError, match=re.escape(
            f"{path}: columns.text: column 'text' is not in the file; it has ['cond', 'sentence']")):
        read_table_source(path, kind="factorial", columns={"text": "text", "condition": "cond"})


def test_table_empty_text_cell(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("good,bad\nDogs bark.,Dogs barks.\nA cat sat.,\n")
    with pytest.raises(SpecError, match=re.escape(f"{path}:3: columns.bad: empty text")):
        read_table_source(path, kind="minimal_pairs", columns={"good": "good", "bad": "bad"})


def test_table_unknown_kind(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("text\nHi.\n")
    with pytest.raises(SpecError, match="kind: must be one of minimal_pairs, factorial, rsa"):
        read_table_source(path, kind="labels", columns={"text": "text"})


def test_table_columns_named_as_the_roles_need_no_mapping(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("item_id,good,bad,phenomenon\n7,Dogs bark.,Dogs barks.,agr\n")
    mapped = read_table_source(path, kind="minimal_pairs",
                               columns={"good": "good", "bad": "bad", "item_id": "item_id",
                                        "phenomenon": "phenomenon"})
    s = read_table_source(path, kind="minimal_pairs", columns={})
    pd.testing.assert_frame_equal(s.table, mapped.table)
    assert s.table["item_id"].tolist() == [7, 7] and set(s.table["phenomenon"]) == {"agr"}
    # an explicit mapping still wins over a column of the role's name
    path.write_text("good,bad,ok\nDogs barks.,Dogs bark.,Dogs bark.\n")
    s = read_table_source(path, kind="minimal_pairs", columns={"good": "ok"})
    assert s.table["text"].tolist() == ["Dogs bark.", "Dogs bark."]


def test_table_bad_header_is_refused_before_the_rows_are_read(tmp_path):
    path = tmp_path / "pairs.csv"
    # rows that could not be parsed (a field too many): the header's error comes first
    path.write_text("sentence,other\na,b,c\n")
    with pytest.raises(SpecError, match=re.escape(
            f"{path}: columns: must map the roles ['good', 'bad'] for kind 'minimal_pairs' "
            f"(or name the file's columns so); missing ['good', 'bad']")):
        read_table_source(path, kind="minimal_pairs", columns={})
