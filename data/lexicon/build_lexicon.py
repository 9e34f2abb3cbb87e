"""Build ``english_core.tsv`` from ``curated.txt`` (run once; the output is committed).

Usage (from the repository root, with the dev extra installed)::

    python data/lexicon/build_lexicon.py

Open-class lemmas and their lexical features come from ``curated.txt`` (hand-curated for
this project). Their inflected forms come from lemminflect (MIT licence), except where
``curated.txt`` spells the forms out. Closed-class words (pronouns, reflexives,
determiners, auxiliaries, complementizers, wh-words, conjunctions) are listed below with
their features per form. Every form gets its Zipf frequency from wordfreq (word-frequency
data CC BY-SA 4.0; code Apache-2.0), so the frequencies are fixed in the file and
generation does not need wordfreq.

Every lexical feature is set on every form of a lemma (a participle carries its verb's
``transitivity``), so the file passes ``probing.paradigms.lexicon.check_lexicon``.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from lemminflect import getInflection
from wordfreq import zipf_frequency

HERE = Path(__file__).resolve().parent
COLUMNS = ("form", "lemma", "pos", "zipf", "number", "person", "agr", "animacy", "human", "gender",
           "countability", "vform", "transitivity", "case", "det_type", "npi_licensor", "aux_type",
           "tense")
HEADER = """\
# English feature lexicon for probing paradigms, built by build_lexicon.py (do not edit by hand).
# Lemmas and lexical features: curated.txt (hand-curated for this project, BSD-3-Clause).
# Inflections: lemminflect 0.2.3 (MIT). Frequencies: wordfreq {wordfreq} zipf_frequency(form, "en"),
#   word-frequency data under CC BY-SA 4.0 (see README.md). An empty cell: does not apply.
# number: sg|pl; person: first|second|third; agr: 3sg|non3sg (present-tense agreement class);
# animacy: animate|inanimate; human: yes|no; gender: m|f|n; countability: count|mass;
# vform: pres|past|part|ing; transitivity: intransitive|transitive|optional (optional = NP/Z);
# case: nom|acc; det_type: definite|demonstrative|negative|quantifier; npi_licensor: yes|no;
# aux_type: be|have|do|modal; tense: pres|past (finite verbs and auxiliaries, as their vform;
# adverbials that need a past-tense verb, such as yesterday: past; empty: either tense).
"""

# Closed classes: (form, lemma, pos, {feature: value}) per form. Personal pronouns are one
# lemma per person (I/me/we/us; you; he/him/she/her/it/they/them), as in the traditional
# person-by-number paradigm, so number, case and gender are inflectional for them and a
# person x number design shares the lemma across numbers.
PRONOUNS = [(form, lemma, "pronoun", dict(zip(("person", "number", "gender", "case", "agr", "animacy",
                                                 "human"), feats, strict=True)))
            for form, lemma, *feats in [
    ("I", "I", "first", "sg", "", "nom", "non3sg", "animate", "yes"),
    ("me", "I", "first", "sg", "", "acc", "non3sg", "animate", "yes"),
    ("we", "I", "first", "pl", "", "nom", "non3sg", "animate", "yes"),
    ("us", "I", "first", "pl", "", "acc", "non3sg", "animate", "yes"),
    ("you", "you", "second", "sg", "", "nom", "non3sg", "animate", "yes"),
    ("you", "you", "second", "sg", "", "acc", "non3sg", "animate", "yes"),
    ("you", "you", "second", "pl", "", "nom", "non3sg", "animate", "yes"),
    ("you", "you", "second", "pl", "", "acc", "non3sg", "animate", "yes"),
    ("he", "he", "third", "sg", "m", "nom", "3sg", "animate", "yes"),
    ("him", "he", "third", "sg", "m", "acc", "3sg", "animate", "yes"),
    ("she", "he", "third", "sg", "f", "nom", "3sg", "animate", "yes"),
    ("her", "he", "third", "sg", "f", "acc", "3sg", "animate", "yes"),
    ("it", "he", "third", "sg", "n", "nom", "3sg", "inanimate", "no"),
    ("it", "he", "third", "sg", "n", "acc", "3sg", "inanimate", "no"),
    ("they", "he", "third", "pl", "", "nom", "non3sg", "", ""),
    ("them", "he", "third", "pl", "", "acc", "non3sg", "", ""),
]]
REFLEXIVES = [(form, "self", "reflexive", {"number": n, "gender": g, "person": "third"})
              for form, n, g in [("himself", "sg", "m"), ("herself", "sg", "f"), ("itself", "sg", "n"),
                                 ("themselves", "pl", "m"), ("themselves", "pl", "f")]]
DETERMINERS = [(form, lemma, "det", {"number": n, "det_type": t, "npi_licensor": npi})
               for form, lemma, n, t, npi in [
    ("the", "the", "", "definite", "no"), ("this", "this", "sg", "demonstrative", ""),
    ("these", "this", "pl", "demonstrative", ""), ("that", "that", "sg", "demonstrative", ""),
    ("those", "that", "pl", "demonstrative", ""), ("no", "no", "", "negative", "yes"),
    ("every", "every", "sg", "quantifier", ""), ("each", "each", "sg", "quantifier", ""),
    ("many", "many", "pl", "quantifier", ""), ("several", "several", "pl", "quantifier", ""),
    ("some", "some", "", "quantifier", "")]]
AUXILIARIES = [(form, lemma, "aux", {"number": n, "vform": v, "agr": a, "aux_type": t})
               for form, lemma, n, v, a, t in [
    ("is", "be", "sg", "pres", "3sg", "be"), ("are", "be", "pl", "pres", "non3sg", "be"),
    ("was", "be", "sg", "past", "", "be"), ("were", "be", "pl", "past", "", "be"),
    ("has", "have", "sg", "pres", "3sg", "have"), ("have", "have", "pl", "pres", "non3sg", "have"),
    ("had", "have", "", "past", "", "have"), ("does", "do", "sg", "pres", "3sg", "do"),
    ("do", "do", "pl", "pres", "non3sg", "do"), ("did", "do", "", "past", "", "do"),
    *[(m, m, "", "", "", "modal") for m in ("will", "would", "can", "could", "should", "must",
                                             "may", "might")]]]
OTHERS = [(w, w, "comp", {}) for w in ("that", "whether", "if")] + \
         [(w, w, "conj", {}) for w in ("and", "or", "but")] + \
         [("who", "who", "wh", {"animacy": "animate", "human": "yes"}),
          ("what", "what", "wh", {"animacy": "inanimate", "human": "no"}),
          ("which", "which", "wh", {})]


def read_curated(path):
    """``[(lemma, pos, features, forms or None, line)]`` from curated.txt."""
    out, pos, features = [], None, {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("@"):
            head, *pairs = line[1:].split()
            pos, features = head, dict(p.split("=", 1) for p in pairs)
            continue
        for token in line.split():
            lemma, _, forms = token.partition(":")
            out.append((lemma.replace("_", " "), pos, features,
                        forms.replace("_", " ").split(",") if forms else None, number))
    return out


def _inflect(lemma, tag):
    found = getInflection(lemma, tag)
    if not found:
        sys.exit(f"lemminflect has no {tag} form of {lemma!r}; give the forms in curated.txt")
    return found[0]


def noun_rows(lemma, features, forms):
    if features.get("countability") == "mass":
        return [(lemma, {"number": "sg", "agr": "3sg"})]
    sg, pl = forms or (lemma, _inflect(lemma, "NNS"))
    return [(sg, {"number": "sg", "agr": "3sg"}), (pl, {"number": "pl", "agr": "non3sg"})]


def verb_rows(lemma, features, forms):
    if " " in lemma:
        sys.exit(f"multiword verb {lemma!r} is not supported")
    third, past, part = forms or (_inflect(lemma, "VBZ"), _inflect(lemma, "VBD"), _inflect(lemma, "VBN"))
    return [(third, {"vform": "pres", "number": "sg", "agr": "3sg"}),
            (lemma, {"vform": "pres", "number": "pl", "agr": "non3sg"}),
            (past, {"vform": "past"}), (part, {"vform": "part"}),
            (_inflect(lemma, "VBG"), {"vform": "ing"})]


def open_class_rows(curated):
    rows, seen = [], {}
    for lemma, pos, features, forms, line in curated:
        key = (pos, lemma)
        if key in seen:
            if seen[key] != features:
                sys.exit(f"curated.txt:{line}: {pos} {lemma!r} listed twice with different features")
            continue
        seen[key] = features
        if pos == "noun":
            inflected = noun_rows(lemma, features, forms)
        elif pos == "verb":
            inflected = verb_rows(lemma, features, forms)
        elif pos == "name":
            inflected = [(lemma, {"number": "sg", "agr": "3sg"})]
        else:
            inflected = [(lemma, {})]
        rows += [(form, lemma, pos, {**features, **own}) for form, own in inflected]
    return rows


def build(out_path):
    import wordfreq

    rows = open_class_rows(read_curated(HERE / "curated.txt"))
    rows += PRONOUNS + REFLEXIVES + DETERMINERS + AUXILIARIES + OTHERS
    table, seen = [], set()
    for form, lemma, pos, features in rows:
        record = {c: "" for c in COLUMNS}
        record.update(form=form, lemma=lemma, pos=pos, **features)
        if pos in ("verb", "aux") and record["vform"] in ("pres", "past"):
            record["tense"] = record["vform"]  # finite forms: what an adverbial agrees with
        record["zipf"] = f"{zipf_frequency(form, 'en'):.2f}"
        key = tuple(record.values())
        if key not in seen:  # e.g. "hurt" as past and participle are two rows, kept once each
            seen.add(key)
            table.append(record)
    with open(out_path, "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER.format(wordfreq=wordfreq.__version__ if hasattr(wordfreq, "__version__")
                               else "3.1"))
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
    return table


if __name__ == "__main__":
    table = build(HERE / "english_core.tsv")
    print(f"wrote {len(table)} entries to {HERE / 'english_core.tsv'}")
