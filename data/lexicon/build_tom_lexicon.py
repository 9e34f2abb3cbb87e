"""Build ``theory_of_mind.tsv``, the lexicon of the false-belief paradigms (output committed).

Usage (from the repository root, with the dev extra installed)::

    python data/lexicon/build_tom_lexicon.py

Parts of speech: ``name`` (the first names of ``english_core.tsv``, with their gender and
frequency), ``object`` (small movable things: *the ball*), ``package`` (what an
unexpected-contents story's closed container is: *a tin*), and two pair classes whose
rows come in pairs of the same ``pair``:

- ``container``: where an object is put and moved to (*in the basket*, *to the box*);
- ``content``: what a package shows on its label and what is really inside (*cookies*,
  *pencils*).

A pair ``basket>box`` has two rows: *basket* with ``reality: no`` (where the object was
put, or what the label shows: the false belief) and *box* with ``reality: yes`` (where
it is now, or what is really inside). Every ordered pair of distinct words is listed, so
each word is the belief in some items and the reality in others. A story's ending slot
repeats one member (``lemma`` and ``pair`` ``same_as`` it) and the contrast
``{feature: reality, keep: [pair]}`` swaps it for the other member of the same pair: the
two endings of an item differ in that one word, the two places of its own story.
Zipf frequencies from wordfreq (data CC BY-SA 4.0).
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

from wordfreq import zipf_frequency

HERE = Path(__file__).resolve().parent
COLUMNS = ("form", "lemma", "pos", "zipf", "gender", "pair", "reality")
OBJECTS = ("ball", "marble", "key", "ring", "coin", "watch", "book", "doll", "apple", "cookie",
           "sock", "pen", "spoon", "hat", "scarf", "toy")
CONTAINERS = ("basket", "box", "drawer", "cupboard", "bag", "suitcase", "bucket", "backpack",
              "chest", "closet")
PACKAGES = ("box", "tin", "jar", "bag", "carton", "packet", "pouch", "crate")
CONTENTS = ("cookies", "crayons", "pencils", "candles", "buttons", "marbles", "shells", "coins",
            "stamps", "beads")


def _names():
    with open(HERE / "english_core.tsv", encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")),
                              delimiter="\t")
        return [{"form": r["form"], "lemma": r["lemma"], "pos": "name", "zipf": r["zipf"],
                 "gender": r["gender"]} for r in rows if r["pos"] == "name"]


def _word(form, pos):
    return {"form": form, "lemma": form, "pos": pos, "zipf": f"{zipf_frequency(form, 'en'):.2f}"}


def _pairs(words, pos):
    rows = []
    for belief, real in itertools.permutations(words, 2):
        pair = f"{belief}>{real}"
        rows.append({**_word(belief, pos), "pair": pair, "reality": "no"})
        rows.append({**_word(real, pos), "pair": pair, "reality": "yes"})
    return rows


def build():
    """All rows, in file order."""
    return (_names() + [_word(w, "object") for w in OBJECTS]
            + [_word(w, "package") for w in PACKAGES]
            + _pairs(CONTAINERS, "container") + _pairs(CONTENTS, "content"))


def main(path=HERE / "theory_of_mind.tsv"):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("# Theory-of-mind lexicon for the false-belief paradigms, built by "
                     "build_tom_lexicon.py (do not edit by hand).\n")
        writer = csv.DictWriter(handle, COLUMNS, delimiter="\t", restval="",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(build())


if __name__ == "__main__":
    main()
