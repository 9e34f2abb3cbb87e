"""Fedorenko-style language localizer: sentences, word lists, Jabberwocky, nonword strings.

Following Fedorenko et al. (2010, J Neurophysiol), each item is a sentence and its
matched controls:

- ``word_lists``: as many words as the sentence has, drawn at random from the *other*
  sentences of the set, in random order (real words, no sentence structure);
- ``nonwords``: each word of the sentence replaced by a pronounceable nonword of the
  same length in characters, built from CV/CVC syllables and checked against the
  lexicon so no real word slips in (no words, no structure);
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

import itertools
import zlib

import numpy as np

from probing.paradigms.generate.draw import draw_items
from probing.paradigms.generate.render import render_template
from probing.paradigms.generate.tables import records_to_stimuli

ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "pl", "st", "tr")
VOWELS = ("a", "e", "i", "o", "u")
CODAS = ("", "", "n", "m", "s", "t", "k", "l")
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
    real = {f.lower() for f in lexicon.entries["form"]} | {w.lower() for s in sentences
                                                             for w in _words(s)[0]}
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


def _nonword(length, rng, real):
    """A pronounceable letter string of exactly ``length`` characters, not a real word."""
    while True:
        text = ""
        while len(text) < length:
            text += (ONSETS[rng.integers(len(ONSETS))] + VOWELS[rng.integers(len(VOWELS))]
                     + CODAS[rng.integers(len(CODAS))])
        text = text[:length]
        if text not in real:
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
        out.append(stem + suffix + tail)
    return _format(out, end)
