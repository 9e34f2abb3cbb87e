"""Localizer nonwords obey the lexicon's phonotactics, over many seeds."""

import re

import numpy as np
import pytest

from probing.paradigms.generate.localizer_stimuli import _nonword, phonotactics, real_words
from probing.paradigms.lexicon import read_lexicon
from tests.conftest import DATA

REAL = frozenset(f.lower() for f in read_lexicon(DATA / "lexicon" / "english_core.tsv")
                 .entries["form"])
WORDS = real_words(REAL)
CLUSTERS = re.compile(r"[^aeiou]+")


def test_the_inventory_is_english_and_leaves_out_rare_clusters():
    onsets, codas = phonotactics(REAL)
    assert {"", "b", "br", "st", "str", "pl", "th"} <= set(onsets)
    assert {"", "nd", "ck", "st", "ng"} <= set(codas)
    # the strings the issue found: "br" as a word, "kb" as a coda, "lpl" inside a word
    assert "kb" not in codas and "lpl" not in onsets and "lpl" not in codas


@pytest.mark.parametrize("seed", range(40))
def test_every_cluster_is_attested(seed):
    onsets, codas = phonotactics(REAL)
    rng = np.random.default_rng(seed)
    for length in [*range(1, 13), *rng.integers(1, 13, size=20)]:
        word = _nonword(int(length), rng, WORDS)
        assert len(word) == length and word not in REAL
        assert re.fullmatch(r"[a-z]+", word)
        clusters = [(m.start(), m.group()) for m in CLUSTERS.finditer(word)]
        for start, cluster in clusters:
            if start == 0:
                assert cluster in onsets, (word, cluster)
            elif start + len(cluster) == len(word):
                assert cluster in codas, (word, cluster)
            else:  # word-internal: the onset of the next syllable
                assert cluster in onsets, (word, cluster)
        assert not re.search(r"[aeiou]{2}", word), word  # one vowel per syllable


def test_a_consonant_only_word_never_appears():
    rng = np.random.default_rng(0)
    words = [_nonword(n, rng, WORDS) for n in (1, 2, 2, 3) * 50]
    assert all(re.search("[aeiou]", w) for w in words)


def test_real_words_holds_the_inventory_of_its_forms():
    assert WORDS.forms == REAL
    assert (WORDS.onsets, WORDS.codas) == phonotactics(REAL)
