"""The generated false-belief paradigms: well-formed stories, endings that differ where intended.

The stories are read back with regular expressions (an implementation independent of the
generator): the place where the object was put (*in the X*), where it was moved (*to the
Y*), the label (*a picture of X*) and the real contents (*full of Y*), and the ending.
"""

import csv
import functools
import importlib.util
import re
from pathlib import Path

import pytest

from probing._core.errors import ProbingError
from probing.paradigms import generate, load_paradigm, parse_paradigm

REPO = Path(__file__).resolve().parents[2]
LEXICON = REPO / "data" / "lexicon" / "theory_of_mind.tsv"
TRANSFER = re.compile(r"^(\w+) puts the (\w+) in the (\w+) and .*?, (\w+) moves the \2 to the "
                      r"(\w+)\. .* for the \2 in the (\w+)\.$")
CONTENTS = re.compile(r"^(\w+) finds a closed (\w+) with a picture of (\w+) on it\. It is really "
                      r"full of (\w+)\. .* it is full of (\w+)\.$")
# paradigm -> (story pattern, which captured place the good ending names)
DESIGNS = {"false_belief_transfer": (TRANSFER, 3), "true_belief_transfer": (TRANSFER, 5),
           "false_belief_second_order": (TRANSFER, 3), "true_belief_second_order": (TRANSFER, 5),
           "false_belief_contents": (CONTENTS, 3), "true_belief_contents": (CONTENTS, 4)}
TWINS = [("false_belief_transfer", "true_belief_transfer"),
         ("false_belief_second_order", "true_belief_second_order"),
         ("false_belief_contents", "true_belief_contents")]


@functools.cache
def _generated(name):
    return generate(load_paradigm(REPO / "paradigms" / f"{name}.yaml")).table


def _stimuli(name):
    return _generated(name).copy()


def _pairs(table):
    good = table[table["role"] == "good"].set_index("pair_id")["text"]
    bad = table[table["role"] == "bad"].set_index("pair_id")["text"]
    return good.to_frame("good").join(bad.rename("bad"))


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_good_ending_is_the_belief_and_bad_the_other_place_of_the_story(name):
    pattern, believed = DESIGNS[name]
    pairs = _pairs(_stimuli(name))
    assert len(pairs) == 40
    for good, bad in zip(pairs["good"], pairs["bad"], strict=True):
        g, b = pattern.match(good), pattern.match(bad)
        assert g and b, (good, bad)
        first, second = (3, 5) if pattern is TRANSFER else (3, 4)
        assert g.group(first) != g.group(second)  # two different places (contents)
        assert g.group(6 if pattern is TRANSFER else 5) == g.group(believed)
        other = second if believed == first else first
        assert b.group(6 if pattern is TRANSFER else 5) == g.group(other)
        # the two members differ in exactly one word, the last
        gw, bw = good.split(), bad.split()
        assert len(gw) == len(bw) and gw[:-1] == bw[:-1] and gw[-1] != bw[-1]
        if pattern is TRANSFER:
            assert g.group(1) != g.group(4)  # the agent is not the mover


@pytest.mark.parametrize(("false", "true"), TWINS)
def test_twins_share_every_word_but_the_manipulation(false, true):
    a, b = _stimuli(false), _stimuli(true)
    ga, gb = a[a["role"] == "good"], b[b["role"] == "good"]
    for x, y in zip(ga["text"], gb["text"], strict=True):
        wx, wy = x.split(), y.split()
        # same names, objects, places; the endings are the two different places
        assert wx[0] == wy[0] and wx[-1] != wy[-1]
        differ = set(wx) ^ set(wy)
        assert differ - {wx[-1], wy[-1]} <= {"leaves", "stays", "in", "is", "away,", "watching,",
                                             "but", "and", "does", "not", "notice", "notices",
                                             "has", "the", "room."}
    # every false-belief good ending is the true-belief bad ending of the same item
    bad_true = b[b["role"] == "bad"]["text"].str.split().str[-1].tolist()
    assert ga["text"].str.split().str[-1].tolist() == bad_true


def test_each_place_is_the_belief_in_some_items_and_the_reality_in_others():
    pairs = _pairs(_stimuli("false_belief_transfer"))
    good = {TRANSFER.match(t).group(6) for t in pairs["good"]}
    bad = {TRANSFER.match(t).group(6) for t in pairs["bad"]}
    assert len(good & bad) >= 5


def test_a_slot_repeats_an_earlier_lemma_only_when_it_agrees_in_lemma(tmp_path):
    text = (REPO / "paradigms" / "false_belief_transfer.yaml").read_text(encoding="utf-8")
    text = text.replace("../data/lexicon/theory_of_mind.tsv", str(LEXICON))
    # without `lemma: same_as` the ending must be another lemma than `start`, and the
    # only container of start's pair that is not start is where it was moved: the rows
    # the slot admits are then all used, so every draw fails
    broken = text.replace("end: {pos: container, lemma: {same_as: start}, ",
                          "end: {pos: container, reality: \"no\", ")
    assert broken != text
    with pytest.raises(ProbingError, match="slot 'end'"):
        generate(parse_paradigm(broken, path=tmp_path / "p.yaml"))


def test_pair_rows_come_in_belief_reality_pairs():
    with open(LEXICON, encoding="utf-8") as fh:
        rows = list(csv.DictReader((r for r in fh if not r.startswith("#")), delimiter="\t"))
    pairs = {}
    for row in rows:
        if row["pair"]:
            pairs.setdefault((row["pos"], row["pair"]), []).append(row)
    assert pairs and all(sorted(r["reality"] for r in rs) == ["no", "yes"]
                         for rs in pairs.values())
    for (_, pair), rs in pairs.items():
        belief, real = pair.split(">")
        assert {r["form"]: r["reality"] for r in rs} == {belief: "no", real: "yes"}


def test_rebuilding_gives_the_committed_file(tmp_path):
    pytest.importorskip("wordfreq")
    spec = importlib.util.spec_from_file_location(
        "build_tom_lexicon", REPO / "data" / "lexicon" / "build_tom_lexicon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path / "tom.tsv")
    assert (tmp_path / "tom.tsv").read_text(encoding="utf-8") == LEXICON.read_text(encoding="utf-8")
