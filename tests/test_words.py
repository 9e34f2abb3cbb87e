"""One definition of a word for the whole package (probing._core.words)."""

from pathlib import Path

from probing._core.words import count_words, word_spans, words_table

PACKAGE = Path(__file__).resolve().parents[1] / "probing"
USERS = ("behaviour/surprisal.py", "pipeline/extraction.py", "paradigms/importers/blimp.py",
         "paradigms/generate/tables.py", "paradigms/generate/draw.py",
         "paradigms/generate/balance.py")


def test_the_modules_that_split_words_use_the_one_definition():
    for name in USERS:
        text = (PACKAGE / name).read_text(encoding="utf-8")
        assert "from probing._core.words import" in text, name
        assert r'"\S+"' not in text and ".split()" not in text, name


def test_words_keep_their_punctuation_and_offsets():
    text = "The  cat\tsat on\u00a0the mat."
    spans = word_spans(text)
    assert [w for w, _, _ in spans] == ["The", "cat", "sat", "on", "the", "mat."]
    assert all(text[a:b] == w for w, a, b in spans)
    assert count_words(text) == len(spans) == len(words_table(["s"], [text]))


def test_word_level_extraction_and_word_surprisal_share_word_indices():
    import pandas as pd

    from probing.behaviour.surprisal import _split_words
    from probing.pipeline.extraction import _whitespace_words

    table = pd.DataFrame({"stimulus_id": ["a", "b"], "text": ["Dogs  bark.", "It\train s."]})
    pd.testing.assert_frame_equal(_split_words(table, ["a", "b"]), _whitespace_words(table))
