"""Matching on word frequency (Zipf) and the balance report (generate.balance).

References: scipy's f_oneway and pandas means computed here from the stimuli tables;
the Zipf of each filler is re-read from the lexicon with the csv module.
"""

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from probing._core.errors import SpecError
from probing.cli.main import main
from probing.paradigms import dump_paradigm, generate, parse_paradigm
from probing.paradigms.generate.balance import BALANCE_COLUMNS, build_balance

REPO = Path(__file__).resolve().parents[2]
LEXICON = REPO / "data" / "lexicon" / "english_core.tsv"

with open(LEXICON, encoding="utf-8", newline="") as _fh:
    _ROWS = list(csv.DictReader([line for line in _fh if line.strip() and not line.startswith("#")],
                                delimiter="\t"))
ZIPF = {(r["form"], r["pos"], r["lemma"]): float(r["zipf"]) for r in _ROWS}

DESIGN = """\
name: freq
version: 1
kind: rsa
seed: 0
lexicon: @LEXICON@
factors:
  animacy: [animate, inanimate]
  number: [sg, pl]
template: "I saw the {noun} near the {place} {adverbial}."
slots:
  noun: {pos: noun, animacy: $animacy, number: $number}
  place: {pos: noun, animacy: inanimate, countability: count, number: sg}
  adverbial: {pos: adverbial}
items_per_cell: 30
"""


def _parse(tmp_path, text, lexicon=None):
    if lexicon is not None:
        (tmp_path / "lex.tsv").write_text(lexicon, encoding="utf-8")
    text = text.replace("@LEXICON@", "lex.tsv" if lexicon else str(LEXICON))
    return parse_paradigm(text, path=tmp_path / "p.yaml")


def _zipf_spread(stimuli, slot):
    words = stimuli.words[stimuli.words["slot"] == slot].merge(
        stimuli.table[["stimulus_id", "item_id"]], on="stimulus_id")
    zipf = [ZIPF[w, p, lemma] for w, p, lemma in zip(words["word"], words["pos"], words["lemma"],
                                                       strict=True)]
    return words.assign(ref=zipf).groupby("item_id")["ref"].agg(lambda z: z.max() - z.min())


@pytest.mark.parametrize("tolerance", [0.5, 1.0])
def test_frequency_matching_holds_in_every_item(tolerance, tmp_path):
    matched = _parse(tmp_path, DESIGN + f"match:\n  frequency: {{noun: {tolerance}}}\n")
    for seed in range(3):
        assert (_zipf_spread(generate(matched, seed=seed), "noun") <= tolerance + 1e-9).all()
    # planted: the same design without matching spreads wider
    free = _parse(tmp_path, DESIGN)
    assert any((_zipf_spread(generate(free, seed=seed), "noun") > tolerance).any() for seed in range(3))


def test_frequency_and_length_together(tmp_path):
    spec = _parse(tmp_path, DESIGN + "match:\n  length: words\n  frequency: {noun: 0.5}\n")
    stimuli = generate(spec)
    assert (_zipf_spread(stimuli, "noun") <= 0.5 + 1e-9).all()
    n_words = stimuli.table.assign(n=stimuli.table["text"].str.split().str.len())
    assert (n_words.groupby("item_id")["n"].nunique() == 1).all()


def test_balance_matches_an_independent_computation(tmp_path):
    stimuli = generate(_parse(tmp_path, DESIGN))
    balance = pd.DataFrame(stimuli.info["balance"])
    assert list(balance.columns) == list(BALANCE_COLUMNS)
    assert balance.equals(build_balance(stimuli))
    words = stimuli.words.merge(stimuli.table[["stimulus_id", "condition"]], on="stimulus_id")
    noun = words[words["slot"] == "noun"]
    ref_zipf = noun.apply(lambda r: ZIPF[r["word"], r["pos"], r["lemma"]], axis=1)
    groups = [ref_zipf[noun["condition"] == c].to_numpy() for c in stimuli.table["condition"].unique()]
    rows = balance[(balance["slot"] == "noun") & (balance["measure"] == "zipf")]
    assert rows["condition"].tolist() == list(stimuli.table["condition"].unique())
    assert rows["mean"].to_numpy() == pytest.approx([g.mean() for g in groups])
    assert rows["sd"].to_numpy() == pytest.approx([g.std(ddof=1) for g in groups])
    f, p = stats.f_oneway(*groups)
    assert rows["stat"].iloc[0] == pytest.approx(f) and rows["p_val"].iloc[0] == pytest.approx(p)
    assert (rows["n"] == 30).all()
    # the place slot and the adverbial never change within an item: nothing to balance
    assert set(balance["slot"]) == {"(text)", "noun"}


def test_matching_shrinks_the_frequency_difference_between_conditions(tmp_path):
    free = pd.DataFrame(generate(_parse(tmp_path, DESIGN)).info["balance"])
    matched = pd.DataFrame(generate(_parse(tmp_path, DESIGN + "match:\n  frequency: {noun: 0.5}\n"))
                           .info["balance"])

    def spread(balance):
        rows = balance[(balance["slot"] == "noun") & (balance["measure"] == "zipf")]
        return rows["mean"].max() - rows["mean"].min()

    assert spread(matched) < spread(free)
    assert spread(matched) <= 0.5 + 1e-9  # item-wise bound implies the bound on the means


def test_generate_prints_the_balance(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(DESIGN.replace("@LEXICON@", str(LEXICON)).replace("items_per_cell: 30",
                                                                       "items_per_cell: 5"))
    assert main(["generate", str(path), "--out", str(tmp_path / "s.csv")]) == 0
    out = capsys.readouterr().out
    assert "slot measure" in out and "anova" in out and "zipf" in out


def test_round_trip_of_a_frequency_match(tmp_path):
    spec = _parse(tmp_path, DESIGN + "match:\n  frequency: {noun: 0.5, place: 1}\n")
    assert spec.match.frequency == (("noun", 0.5), ("place", 1.0)) and spec.match.length is None
    again = parse_paradigm(dump_paradigm(spec), path=tmp_path / "p.yaml")
    assert again == spec


@pytest.mark.parametrize(("match", "field", "message"), [
    ("  frequency: {nown: 0.5}\n", "match.frequency.nown",
     "'nown' is not a slot; allowed: noun, place, adverbial"),
    ("  frequency: {noun: -1}\n", "match.frequency.noun", "must be a number >= 0 (Zipf units), got -1"),
    ("  frequency: {noun: high}\n", "match.frequency.noun",
     "must be a number >= 0 (Zipf units), got 'high'"),
    ("  frequency: {}\n", "match.frequency", "must name at least one slot"),
    ("  frequency: [noun]\n", "match.frequency",
     "must be a mapping slot: tolerance (Zipf units), got list ['noun']"),
    ("  tolerance: 1\n", "match", "needs length: words|chars, frequency: {slot: tolerance}, or both"),
    ("  length: words\n  zipf: 1\n", "match.zipf", "unknown field; allowed: length, tolerance, frequency"),
], ids=["unknown-slot", "negative", "not-a-number", "empty", "list", "neither", "unknown-key"])
def test_bad_frequency_match(match, field, message, tmp_path):
    with pytest.raises(SpecError) as err:
        _parse(tmp_path, DESIGN + "match:\n" + match)
    assert (err.value.field, err.value.message) == (field, message)
    assert err.value.line is not None


def test_frequency_match_needs_a_zipf_column(tmp_path):
    lexicon = ("form\tlemma\tpos\tanimacy\tnumber\n" + "".join(
        f"{w}\t{w}\tnoun\t{a}\tsg\n{w}s\t{w}\tnoun\t{a}\tpl\n"
        for w, a in [("cat", "animate"), ("dog", "animate"), ("cup", "inanimate"), ("box", "inanimate")]))
    text = ("name: nz\nversion: 1\nkind: rsa\nlexicon: @LEXICON@\nfactors: {animacy: [animate, inanimate]}\n"
            'template: "A {noun}."\nslots:\n  noun: {pos: noun, animacy: $animacy, number: sg}\n'
            "items_per_cell: 2\nmatch:\n  frequency: {noun: 0.5}\n")
    with pytest.raises(SpecError) as err:
        _parse(tmp_path, text, lexicon=lexicon)
    assert err.value.message == (f"the lexicon {tmp_path / 'lex.tsv'} has no 'zipf' column (word "
                                 "frequency on the Zipf scale, e.g. wordfreq's zipf_frequency)")
    # without matching it generates, and the balance reports length only
    stimuli = generate(_parse(tmp_path, text.split("match:")[0], lexicon=lexicon))
    assert set(pd.DataFrame(stimuli.info["balance"])["measure"]) == {"words", "chars"}


def test_balance_of_identical_values_has_no_test():
    from probing.stimuli import Stimuli
    table = pd.DataFrame({"stimulus_id": ["a", "b"], "item_id": [1, 1], "condition": ["x", "y"],
                          "text": ["A b.", "C d."]})
    stimuli = Stimuli(paradigm="p", kind="rsa", table=table, regions=pd.DataFrame(
        columns=["stimulus_id", "region", "region_number", "char_start", "char_end"]))
    balance = build_balance(stimuli)
    assert balance["mean"].tolist() == [2.0, 2.0] and np.isnan(balance["p_val"]).all()
