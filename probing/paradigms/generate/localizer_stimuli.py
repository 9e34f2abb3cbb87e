"""Fedorenko-style language localizer: sentences, word lists, Jabberwocky, nonword strings.

Following Fedorenko et al. (2010, J Neurophysiol), each item is a sentence and its
matched controls:

- ``word_lists``: as many words as the sentence has, drawn at random from the *other*
  sentences of the set, in random order (real words, no sentence structure);
- ``nonwords``: each word of the sentence replaced by a pronounceable nonword of the
  same length in characters (no words, no structure): syllables of an onset and one
  vowel, the last one closed by an optional coda, where onsets and codas are the
  consonant clusters that begin and end at least :data:`MIN_ATTESTED` words of the
  lexicon (``br``, ``st``; ``nd``, ``ck``), so every cluster is one English spells
  (:func:`phonotactics`); checked against the lexicon so no real word slips in.
- ``jabberwocky``: the sentence with every content word replaced by a pronounceable
  nonword of the same length, function words and inflections (-s, -ed, -ing, -ly)
  kept (structure without meaning; Fedorenko et al. 2010's third control). It draws
  from its own random stream (seeded by the item), so adding it leaves the other
  conditions' texts unchanged.

All three conditions of an item have the same number of words and keep the
sentence's capitalisation and final punctuation, so they differ only in what the
words are and whether they form a sentence.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import re
import zlib

import numpy as np

from probing.paradigms.generate.draw import draw_items
from probing.paradigms.generate.render import render_template
from probing.paradigms.generate.tables import records_to_stimuli

VOWELS = ("a", "e", "i", "o", "u")
#: A cluster counts as English when at least this many lexicon words begin (onsets) or
#: end (codas) with it: rare spellings (``pn``, ``tz``) stay out.
MIN_ATTESTED = 5
_CONSONANTS = re.compile(r"[bcdfghjklmnprstvwxz]*")  # no y (a vowel too), no q (qu)
FINAL_PUNCT = ".!?"
#: Words Jabberwocky keeps: determiners, prepositions, complementisers, pronouns, auxiliaries.
FUNCTION_WORDS = frozenset(
    "a an the this that these those every each some no any all and or but if than as who "
    "whom which what when where while because of in on at to by for from with without about "
    "after before during near under over behind above below between into onto across "
    "through around since until his her its their our my your he she it they we you i "
    "him them us me is are was were be been being has have had do does did will would "
    "can could should may might must not along beside toward towards against among beyond "
    "inside outside upon off out up down like".split())
SUFFIXES = ("ing", "ed", "ly", "s")


def generate_localizer(spec, filler, lexicon):
    """Generate the localizer conditions named in ``spec.conditions``."""
    counter = itertools.count()

    def render(chosen):
        template = spec.templates[next(counter) % len(spec.templates)]
        text, _ = render_template(template, {s: r["form"] for s, r in chosen["all"].items()})
        return [{"condition": "sentences", "levels": (), "text": text, "regions": []}]

    sentences = [records[0]["text"] for records in
                 draw_items(filler, spec.items_per_cell, render)]
    real = real_words({f.lower() for f in lexicon.entries["form"]}
                      | {w.lower() for s in sentences for w in _words(s)[0]})
    items = []
    for i, sentence in enumerate(sentences):
        texts = {"sentences": sentence}
        if "word_lists" in spec.conditions:
            texts["word_lists"] = _word_list(sentences, i, filler.rng)
        if "nonwords" in spec.conditions:
            texts["nonwords"] = _nonword_string(sentence, filler.rng, real)
        if "jabberwocky" in spec.conditions:
            rng = np.random.default_rng([zlib.crc32(sentence.encode()), i])
            texts["jabberwocky"] = _jabberwocky(sentence, rng, real)
        items.append([{"condition": c, "levels": (), "text": t,
                       "regions": [("sentence", 1, 0, len(t))]} for c, t in texts.items()])
    return records_to_stimuli(spec, items, info={"conditions": list(spec.conditions)})


def _words(sentence):
    """Words of a sentence without its final punctuation, and that punctuation."""
    end = sentence[-1] if sentence and sentence[-1] in FINAL_PUNCT else ""
    body = sentence[: len(sentence) - len(end)]
    return body.split(), end


def _format(words, end):
    text = " ".join(words)
    return text[:1].upper() + text[1:] + end


def _word_list(sentences, index, rng):
    words, end = _words(sentences[index])
    pool = [w.lower().strip(",;:") for j, s in enumerate(sentences) if j != index
            for w in _words(s)[0]]
    picks = []
    for k in rng.permutation(len(pool)):  # no word twice in a list ("the the the" reads as noise)
        if pool[k] not in picks:
            picks.append(pool[k])
        if len(picks) == len(words):
            break
    return _format(picks, end)


def _nonword_string(sentence, rng, real):
    words, end = _words(sentence)
    return _format([_nonword(len(w), rng, real) for w in words], end)


@dataclasses.dataclass(frozen=True)
class RealWords:
    """The words a nonword must not be, with their onsets and codas (computed once).

    Built once per generated paradigm by :func:`real_words` and passed down, so that the
    inventory is not recounted for every nonword (and needs no module-level cache).
    """

    forms: frozenset
    onsets: tuple
    codas: tuple


def real_words(forms):
    """The :class:`RealWords` of ``forms`` (lower-case words; their clusters counted once).

    Examples
    --------
    >>> words = real_words({"bring", "brand", "bred", "brow", "brim", "ant", "and"})
    >>> "br" in words.onsets, "bred" in words.forms
    (True, True)
    """
    forms = frozenset(forms)
    return RealWords(forms, *phonotactics(forms))


def phonotactics(words):
    """``(onsets, codas)``: the consonant clusters attested at the start and the end of words.

    Parameters
    ----------
    words : frozenset of str
        Lower-case words (a lexicon's forms); multiword forms count word by word.

    Returns
    -------
    tuple of (tuple of str, tuple of str)
        Sorted clusters attested in at least :data:`MIN_ATTESTED` words; ``""`` (a
        vowel-initial word, an open final syllable) among them.

    Examples
    --------
    >>> words = frozenset({"bring", "brand", "bred", "brow", "brim", "ant", "and"})
    >>> onsets, codas = phonotactics(words)
    >>> "br" in onsets, "nd" in codas, "kb" in codas
    (True, True, False)
    """
    onsets, codas = collections.Counter(), collections.Counter()
    for word in {w for form in words for w in form.split()}:
        if not word.isalpha() or word.startswith("q"):
            continue
        onset = _CONSONANTS.match(word).group()
        coda = word[len(word.rstrip("bcdfghjklmnprstvwxz")):]
        if onset != word and not word.startswith("y"):
            onsets[onset] += 1
        if coda != word and not word.endswith("y"):
            codas[coda] += 1
    keep = MIN_ATTESTED if len(words) > 100 else 1  # a toy lexicon keeps what it has
    return (tuple(sorted(c for c, n in onsets.items() if n >= keep)),
            tuple(sorted(c for c, n in codas.items() if n >= keep)))


def _nonword(length, rng, real):
    """A pronounceable letter string of exactly ``length`` characters, not a real word.

    Syllables onset + vowel (an empty onset only word-initially, so vowels never meet);
    the word ends in a coda of exactly the characters left, so every consonant cluster
    is an attested onset or coda.
    ``real`` is the :class:`RealWords` of the paradigm.
    """
    onsets, codas = real.onsets, real.codas
    inner = [o for o in onsets if o]
    while True:
        text = ""
        while True:
            left = length - len(text)
            fits = [c for c in codas if len(c) == left] if text else []
            if fits and (left == 0 or rng.random() < 0.5):
                text += fits[rng.integers(len(fits))]
                break
            chunks = [o + v for o in (inner if text else onsets) for v in VOWELS
                      if len(o) + 1 <= left]
            if not chunks:
                break
            text += chunks[rng.integers(len(chunks))]
        if len(text) == length and text not in real.forms:
            return text


def _jabberwocky(sentence, rng, real):
    """Content words -> nonwords of the same length; function words and inflections kept."""
    words, end = _words(sentence)
    out = []
    for word in words:
        bare = word.rstrip(",;:")
        tail = word[len(bare):]
        if bare.lower() in FUNCTION_WORDS:
            out.append(word.lower() if not out else word)
            continue
        suffix = next((x for x in SUFFIXES if bare.endswith(x) and len(bare) > len(x) + 2), "")
        stem = _nonword(len(bare) - len(suffix), rng, real)
        while (stem + suffix).lower() in real.forms:  # "blam" + "ed" would make a real word
            stem = _nonword(len(stem), rng, real)
        out.append(stem + suffix + tail)
    return _format(out, end)
