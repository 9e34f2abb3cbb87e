"""Tests for sentence, word and region aggregation (hand-computed on a synthetic table)."""

import numpy as np
import pandas as pd
import pytest

from probing._core.errors import ProbingError
from probing.behaviour import build_region_surprisal, build_sentence_scores, build_word_surprisal

LN2 = np.log(2)
TEXTS = {"s1": "The dogs, sadly, bark.", "s2": "Cats run."}
# (stimulus, token, char_start, char_end, surprisal); spans exclude the leading space.
TOKENS = [
    ("s1", "The", 0, 3, 1.0), ("s1", " dog", 4, 7, 2.0), ("s1", "s", 7, 8, 0.5),
    ("s1", ",", 8, 9, 0.25), ("s1", " sad", 10, 13, 3.0), ("s1", "ly", 13, 15, 1.5),
    ("s1", ",", 15, 16, 0.125), ("s1", " bark", 17, 21, 4.0), ("s1", ".", 21, 22, 0.75),
    ("s2", "C", 0, 1, 5.0), ("s2", "ats", 1, 4, 1.0), ("s2", " run", 5, 8, 2.0),
    ("s2", ".", 8, 9, 0.5),
]
# (stimulus, region, region_number, char_start, char_end); "pause" is empty.
REGIONS = [
    ("s1", "np", 1, 0, 9), ("s1", "pause", 2, 10, 10), ("s1", "adv", 3, 10, 16),
    ("s1", "verb", 4, 17, 22), ("s2", "all", 1, 0, 9),
]


def make_tokens():
    tokens = pd.DataFrame(TOKENS, columns=["stimulus_id", "token", "char_start", "char_end",
                                           "surprisal"])
    tokens.insert(1, "token_index", tokens.groupby("stimulus_id").cumcount())
    tokens.insert(2, "token_id", np.arange(len(tokens)) + 100)
    return tokens.assign(logprob=-tokens["surprisal"], surprisal_bits=tokens["surprisal"] / LN2)


def make_stimuli():
    return pd.DataFrame({"stimulus_id": list(TEXTS), "item_id": [1, 2],
                         "condition": ["x", "x"], "text": list(TEXTS.values())})


def make_regions():
    return pd.DataFrame(REGIONS, columns=["stimulus_id", "region", "region_number",
                                          "char_start", "char_end"])


def test_spans_of_the_fixture_match_the_text():
    for sid, token, start, end, _ in TOKENS:
        assert TEXTS[sid][start:end] == token.lstrip()


def test_sentence_scores_by_hand():
    out = build_sentence_scores(make_tokens())
    assert out["stimulus_id"].tolist() == ["s1", "s2"]
    np.testing.assert_allclose(out["logprob_sum"], [-13.125, -8.5])
    np.testing.assert_allclose(out["logprob_mean"], [-13.125 / 9, -8.5 / 4])
    assert out["n_tokens"].tolist() == [9, 4]


def test_sentence_nan_logprob_propagates():
    tokens = make_tokens()
    tokens.loc[0, "logprob"] = np.nan
    out = build_sentence_scores(tokens)
    assert np.isnan(out.loc[0, "logprob_sum"]) and out.loc[1, "logprob_sum"] == -8.5


def test_word_surprisal_by_hand():
    out = build_word_surprisal(make_tokens(), make_stimuli())
    assert out.columns.tolist() == ["stimulus_id", "word_index", "word", "char_start",
                                    "char_end", "surprisal", "surprisal_bits", "n_tokens",
                                    "eow_corrected"]
    assert out["word"].tolist() == ["The", "dogs,", "sadly,", "bark.", "Cats", "run."]
    assert out["word_index"].tolist() == [0, 1, 2, 3, 0, 1]
    assert list(zip(out["char_start"], out["char_end"], strict=True)) == [
        (0, 3), (4, 9), (10, 16), (17, 22), (0, 4), (5, 9)]
    np.testing.assert_allclose(out["surprisal"], [1.0, 2.75, 4.625, 4.75, 6.0, 2.5])
    np.testing.assert_allclose(out["surprisal_bits"], out["surprisal"] / LN2)
    assert out["n_tokens"].tolist() == [1, 3, 3, 2, 2, 2]


def test_word_surprisal_multiple_spaces_and_uncovered_word():
    # One token spans "a b": the word "b" has no token starting in it.
    stimuli = pd.DataFrame({"stimulus_id": ["s"], "text": ["  a b   c"]})
    tokens = pd.DataFrame({"stimulus_id": "s", "token_index": [0, 1], "token": ["a b", " c"],
                           "char_start": [2, 8], "char_end": [5, 9],
                           "surprisal": [1.0, 2.0], "surprisal_bits": [1 / LN2, 2 / LN2]})
    out = build_word_surprisal(tokens, stimuli)
    assert out["word"].tolist() == ["a", "b", "c"]
    assert out["char_start"].tolist() == [2, 4, 8]
    np.testing.assert_allclose(out["surprisal"], [1.0, np.nan, 2.0])
    assert out["n_tokens"].tolist() == [1, 0, 1]


@pytest.mark.parametrize("reduction", ["sum", "mean"], ids=["sum", "mean"])
def test_region_surprisal_by_hand(reduction):
    out = build_region_surprisal(make_tokens(), make_regions(), reduction=reduction)
    assert out.columns.tolist() == ["stimulus_id", "region", "region_number", "surprisal",
                                    "surprisal_bits", "n_tokens", "eow_corrected"]
    assert out["region"].tolist() == ["np", "pause", "adv", "verb", "all"]
    sums = np.array([3.75, 0.0, 4.625, 4.75, 8.5])
    counts = np.array([4, 0, 3, 2, 4])
    expected = sums if reduction == "sum" else np.divide(
        sums, counts, out=np.full(5, np.nan), where=counts > 0)
    np.testing.assert_allclose(out["surprisal"], expected)
    np.testing.assert_allclose(out["surprisal_bits"], expected / LN2)
    assert out["n_tokens"].tolist() == counts.tolist()


def test_empty_region_follows_syntaxgym():
    # syntaxgym/utils.py METRICS: sum([]) == 0 and np.mean([]) is NaN.
    tokens, regions = make_tokens(), make_regions()
    summed = build_region_surprisal(tokens, regions).set_index("region")
    meaned = build_region_surprisal(tokens, regions, reduction="mean").set_index("region")
    assert summed.loc["pause", ["surprisal", "n_tokens"]].tolist() == [0.0, 0]
    assert np.isnan(meaned.loc["pause", "surprisal"])


def test_region_overlaps_and_uncovered_tokens():
    # "det" nests in "np" (a token counts in both); the text after "np" is in no region.
    regions = pd.DataFrame({"stimulus_id": "s1", "region": ["np", "det"],
                            "region_number": [1, 2], "char_start": [0, 0],
                            "char_end": [9, 3]})
    out = build_region_surprisal(make_tokens(), regions).set_index("region")
    assert out.loc["np", "surprisal"] == 3.75 and out.loc["det", "surprisal"] == 1.0
    assert out["n_tokens"].tolist() == [4, 1]


def test_region_nan_surprisal_propagates():
    tokens = make_tokens()
    tokens.loc[1, "surprisal"] = np.nan
    out = build_region_surprisal(tokens, make_regions()).set_index("region")
    assert np.isnan(out.loc["np", "surprisal"]) and out.loc["adv", "surprisal"] == 4.625


BUILDERS = {
    "sentence": lambda t: build_sentence_scores(t),
    "word": lambda t: build_word_surprisal(t, make_stimuli()),
    "region-sum": lambda t: build_region_surprisal(t, make_regions()),
    "region-mean": lambda t: build_region_surprisal(t, make_regions(), reduction="mean"),
}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_shuffled_rows_same_output_and_input_untouched(build):
    tokens = make_tokens()
    before = tokens.copy()
    out = build(tokens)
    pd.testing.assert_frame_equal(tokens, before)
    shuffled = build(tokens.sample(frac=1, random_state=1))
    pd.testing.assert_frame_equal(out, shuffled)


def test_only_stimuli_with_tokens_are_reported():
    tokens = make_tokens().query("stimulus_id == 's2'")
    assert build_word_surprisal(tokens, make_stimuli())["stimulus_id"].unique().tolist() == ["s2"]
    assert build_region_surprisal(tokens, make_regions())["region"].tolist() == ["all"]


@pytest.mark.parametrize("char_start, where", [(3, "whitespace"), (22, "end of text")],
                         ids=["whitespace", "past-end"])
def test_token_in_no_word_raises(char_start, where):
    tokens = make_tokens()
    tokens.loc[1, ["char_start", "token"]] = [char_start, "odd"]
    with pytest.raises(ProbingError, match=r"1 token\(s\) start outside every word, e.g. token "
                                           r"'odd' \(token_index 1\) of stimulus 's1'"):
        build_word_surprisal(tokens, make_stimuli())


def test_unknown_stimulus_raises():
    tokens = make_tokens().assign(stimulus_id=lambda t: t["stimulus_id"].replace("s2", "s9"))
    with pytest.raises(ProbingError, match=r"stimulus_id\(s\) \['s9'\] are not in the stimuli"):
        build_word_surprisal(tokens, make_stimuli())


MISSING = [
    (lambda t: build_sentence_scores(t.drop(columns="logprob")), r"tokens: .*\['logprob'\]"),
    (lambda t: build_word_surprisal(t.drop(columns=["char_start", "surprisal_bits"]),
                                    make_stimuli()), r"\['char_start', 'surprisal_bits'\]"),
    (lambda t: build_word_surprisal(t, make_stimuli().drop(columns="text")),
     r"stimuli: missing column\(s\) \['text'\]"),
    (lambda t: build_region_surprisal(t.drop(columns="surprisal"), make_regions()),
     r"tokens: missing column\(s\) \['surprisal'\]"),
    (lambda t: build_region_surprisal(t, make_regions().drop(columns="region_number")),
     r"regions: missing column\(s\) \['region_number'\]"),
]


@pytest.mark.parametrize("call, message", MISSING,
                         ids=["sentence", "word-tokens", "word-stimuli", "region-tokens",
                              "region-regions"])
def test_missing_columns_named(call, message):
    with pytest.raises(ProbingError, match=message):
        call(make_tokens())


def test_bad_reduction_and_non_frame():
    with pytest.raises(ProbingError, match="reduction must be one of"):
        build_region_surprisal(make_tokens(), make_regions(), reduction="max")
    with pytest.raises(ProbingError, match="expected a pandas DataFrame"):
        build_sentence_scores(make_tokens().to_dict())


def _eow_tokens():
    # "The dogs bark." as The | Ġdog s | Ġbark . with end-of-word masses after each token
    return pd.DataFrame({"stimulus_id": "s", "token_index": [0, 1, 2, 3, 4],
                         "token": ["The", " dog", "s", " bark", "."],
                         "char_start": [0, 4, 7, 9, 13], "char_end": [3, 7, 8, 13, 14],
                         "surprisal": [1.0, 2.0, 0.5, 3.0, 0.25],
                         "logprob_eow": np.log([0.5, 0.25, 0.4, 0.1, 0.8])}).assign(
        surprisal_bits=lambda t: t["surprisal"] / LN2)


def test_corrected_word_surprisal_by_hand():
    stimuli = pd.DataFrame({"stimulus_id": ["s"], "text": ["The dogs bark."]})
    out = build_word_surprisal(_eow_tokens(), stimuli)
    expected = [1.0 - np.log(0.5),                      # no boundary term before the text
                2.5 - np.log(0.4) + np.log(0.5),        # dogs: after "s", before = after "The"
                3.25 - np.log(0.8) + np.log(0.4)]       # bark.: ends the text
    np.testing.assert_allclose(out["surprisal"], expected)
    assert out["eow_corrected"].all()
    plain = build_word_surprisal(_eow_tokens(), stimuli, eow_correction=False)
    np.testing.assert_allclose(plain["surprisal"], [1.0, 2.5, 3.25])
    # the corrected words add up to the text's surprisal and its final end-of-word term
    total = _eow_tokens()["surprisal"].sum() - np.log(0.8)
    assert out["surprisal"].sum() == pytest.approx(total)


def test_corrected_region_inside_a_word_is_uncorrected_on_that_side():
    regions = pd.DataFrame({"stimulus_id": "s", "region": ["dogs", "bark", "dot"],
                            "region_number": [1, 2, 3], "char_start": [4, 9, 13],
                            "char_end": [8, 13, 14]})
    out = build_region_surprisal(_eow_tokens(), regions)
    np.testing.assert_allclose(out["surprisal"], [
        2.5 - np.log(0.4) + np.log(0.5),
        3.0 + np.log(0.4),          # "bark" ends inside "bark.": no closing term
        0.25 - np.log(0.8)])        # "." starts inside the word: no opening term


def test_eow_correction_needs_the_column_and_nan_propagates():
    stimuli = pd.DataFrame({"stimulus_id": ["s"], "text": ["The dogs bark."]})
    tokens = _eow_tokens()
    with pytest.raises(ProbingError, match="eow_correction=True needs the tokens column"):
        build_word_surprisal(tokens.drop(columns="logprob_eow"), stimuli, eow_correction=True)
    tokens.loc[4, "logprob_eow"] = np.nan  # a text that filled the context window
    out = build_word_surprisal(tokens, stimuli)
    assert np.isnan(out["surprisal"].iloc[2]) and np.isfinite(out["surprisal"].iloc[:2]).all()
