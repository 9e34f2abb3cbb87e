"""Tests for the SyntaxGym prediction-formula grammar (probing.paradigms.formula)."""

import dataclasses
import re

import numpy as np
import pytest

from probing._core.errors import SpecError
from probing.paradigms.formula import (
    EQUALITY_ATOL,
    EQUALITY_RTOL,
    BinaryOp,
    Formula,
    Number,
    Reference,
    parse_formula,
)

# Copied literally (trailing spaces included) from the suites' "predictions" fields.
FGD_SUBJECT = "[(3;%what_nogap%) > (3;%that_nogap%) ] & [(4;%what_gap%) < (4;%that_gap%) ] "
NPI_ORC_ANY = ("[ (8;%neg_pos%) < (8;%pos_pos%) ] & [ (8;%neg_neg%) < (8;%pos_neg%) ] & "
               "[ (8;%neg_pos%) < (8;%pos_neg%) ]")
NUMBER_SRC = ("[(7;%match_sing%) < (7;%mismatch_sing%)] & "
              "[(7;%match_plural%) < (7;%mismatch_plural%)]")
ATTRACTION = "((5;%mismatch%) - (5;%match%)) > ((5;%mismatch_attr%) - (5;%match_attr%))"
# The dummy suite of cpllab/syntaxgym-core, test/conftest.py (condition names with '-').
SUBORDINATION = ("((5;%sub_no-matrix%) > (5;%no-sub_no-matrix%) ) & "
                 "((5;%sub_matrix%) < (5;%no-sub_matrix%) )")


def _lookup(table):
    return lambda region, condition: table[region, condition]


def _fgd(what_nogap, that_nogap, what_gap, that_gap):
    return {(3, "what_nogap"): what_nogap, (3, "that_nogap"): that_nogap,
            (4, "what_gap"): what_gap, (4, "that_gap"): that_gap}


def _npi(neg_pos, neg_neg, pos_pos, pos_neg):
    return {(8, "neg_pos"): neg_pos, (8, "neg_neg"): neg_neg,
            (8, "pos_pos"): pos_pos, (8, "pos_neg"): pos_neg}


def _number(match_sing, mismatch_sing, match_plural, mismatch_plural):
    return {(7, "match_sing"): match_sing, (7, "mismatch_sing"): mismatch_sing,
            (7, "match_plural"): match_plural, (7, "mismatch_plural"): mismatch_plural}


def _attraction(mismatch, match, mismatch_attr, match_attr):
    return {(5, "mismatch"): mismatch, (5, "match"): match,
            (5, "mismatch_attr"): mismatch_attr, (5, "match_attr"): match_attr}


# Region-5 surprisals of item 1 in syntaxgym-core's dummy suite; its own test expects False.
SUBORDINATION_ITEM = {(5, "sub_no-matrix"): 12.49306574242164,
                      (5, "no-sub_no-matrix"): 18.37796694276843,
                      (5, "sub_matrix"): 11.725874091041778,
                      (5, "no-sub_matrix"): 19.63184731373726}

CASES = [
    (FGD_SUBJECT, _fgd(5.0, 4.0, 2.0, 3.0), True),
    (FGD_SUBJECT, _fgd(4.0, 5.0, 2.0, 3.0), False),
    (FGD_SUBJECT, _fgd(5.0, 4.0, 3.0, 2.0), False),
    (FGD_SUBJECT, _fgd(4.0, 4.0, 2.0, 3.0), False),
    (NPI_ORC_ANY, _npi(1.0, 2.0, 3.0, 4.0), True),
    (NPI_ORC_ANY, _npi(5.0, 1.0, 6.0, 4.0), False),
    (NUMBER_SRC, _number(1.0, 2.0, 3.0, 4.0), True),
    (NUMBER_SRC, _number(1.0, 2.0, 4.0, 3.0), False),
    (ATTRACTION, _attraction(10.0, 4.0, 8.0, 5.0), True),
    (ATTRACTION, _attraction(6.0, 4.0, 8.0, 5.0), False),
    (SUBORDINATION, SUBORDINATION_ITEM, False),
    (SUBORDINATION, {**SUBORDINATION_ITEM, (5, "sub_no-matrix"): 20.0}, True),
]
CASE_IDS = ["fgd-holds", "fgd-first-fails", "fgd-second-fails", "fgd-tie-is-not-greater",
            "npi-holds", "npi-third-fails", "number-holds", "number-plural-fails",
            "attraction-holds", "attraction-fails", "subordination-reference-item",
            "subordination-holds"]


@pytest.mark.parametrize(("text", "table", "expected"), CASES, ids=CASE_IDS)
def test_suite_formula_evaluates_to_hand_computed_truth(text, table, expected):
    result = parse_formula(text).evaluate(_lookup(table))
    assert result is expected


@pytest.mark.parametrize(("text", "expected"), [
    (FGD_SUBJECT, ((3, "what_nogap"), (3, "that_nogap"), (4, "what_gap"), (4, "that_gap"))),
    (NPI_ORC_ANY, ((8, "neg_pos"), (8, "pos_pos"), (8, "neg_neg"), (8, "pos_neg"))),
    (NUMBER_SRC, ((7, "match_sing"), (7, "mismatch_sing"), (7, "match_plural"),
                  (7, "mismatch_plural"))),
    ("[(verb;%b%) > (2;%a%)] & [(2;%a%) < (verb;%c%)]",
     (("verb", "b"), (2, "a"), ("verb", "c"))),
], ids=["fgd", "npi-repeats-dropped", "number", "names-and-numbers"])
def test_references_in_order_of_first_appearance(text, expected):
    assert parse_formula(text).references == expected


@pytest.mark.parametrize(("text", "canonical"), [
    (FGD_SUBJECT, "[(3;%what_nogap%) > (3;%that_nogap%)] & [(4;%what_gap%) < (4;%that_gap%)]"),
    (ATTRACTION, ATTRACTION),
    ("[[((1;%a%))]] > [(1;%b%)]", "(1;%a%) > (1;%b%)"),
    ("([((1;%a%) - (1;%b%))] > (0))", "((1;%a%) - (1;%b%)) > 0.0"),
    ("[[[(1;%a%) > 0]] & [([(1;%b%) > 0])]]", "[(1;%a%) > 0.0] & [(1;%b%) > 0.0]"),
    ("(1;%a%) - ((1;%b%) - (1;%c%)) > 0", "((1;%a%) - ((1;%b%) - (1;%c%))) > 0.0"),
    ("(1;%a%)>0 & ((1;%b%)>0 | (1;%c%)>0)", "[(1;%a%) > 0.0] & [[(1;%b%) > 0.0] | [(1;%c%) > 0.0]]"),
], ids=["suite", "already-canonical", "nested-groups-of-a-reference", "nested-mixed-brackets",
        "nested-comparisons", "right-nested-sum", "right-nested-join"])
def test_canonical_text(text, canonical):
    assert str(parse_formula(text)) == canonical


@pytest.mark.parametrize("text", [FGD_SUBJECT, NPI_ORC_ANY, NUMBER_SRC, ATTRACTION, SUBORDINATION,
                                  "(1;%a%) - (1;%b%) > -2.5e-1", "(noun;%sg%) = (noun;%pl%) + 1",
                                  "[(1;%a%) > 0] | [(1;%b%) > 0] & [(1;%c%) < .5]"],
                         ids=["fgd", "npi", "number", "attraction", "subordination", "literal",
                              "names", "mixed-join"])
def test_round_trip(text):
    formula = parse_formula(text)
    again = parse_formula(str(formula))
    assert again == formula
    assert hash(again) == hash(formula)
    assert str(again) == str(formula)


@pytest.mark.parametrize("text", [
    "[(3;%what_nogap%)>(3;%that_nogap%)]&[(4;%what_gap%)<(4;%that_gap%)]",
    "  [  (  3 ; %what_nogap%  )  >  ( 3;%that_nogap% )  ]  &  [ (4 ;%what_gap%) < (4; %that_gap%) ]  ",
    "[(3;%what_nogap%)\n>\t(3;%that_nogap%)]\n&\n[(4;%what_gap%)<(4;%that_gap%)]\n",
], ids=["no-spaces", "many-spaces", "tabs-and-newlines"])
def test_spacing_does_not_change_the_formula(text):
    assert parse_formula(text) == parse_formula(FGD_SUBJECT)


@pytest.mark.parametrize(("text", "expected"), [
    ("(1;%a%) - (1;%b%) - (1;%c%) = 1", True),   # (5 - 3) - 1; right-grouped would be 3
    ("(1;%a%) - (1;%b%) + (1;%c%) > 2.5", True),  # (5 - 3) + 1; right-grouped would be 1
    ("(1;%a%) > (1;%b%) + (1;%c%) + 0.5", True),  # sums bind tighter than comparisons
    ("(1;%a%) - (1;%b%) > +2.5e-0", False),
    ("(1;%c%) - (1;%a%) > -3.5", False),
    ("(1;%c%) - (1;%a%) > -4.0e0 - 0.5", True),
], ids=["minus-left-assoc", "mixed-left-assoc", "precedence", "signed-literal",
        "negative-literal", "literal-arithmetic"])
def test_arithmetic(text, expected):
    table = {(1, "a"): 5.0, (1, "b"): 3.0, (1, "c"): 1.0}
    assert parse_formula(text).evaluate(_lookup(table)) is expected


@pytest.mark.parametrize(("left", "right", "expected"), [
    (10.0, 10.0, True),
    (10.0, 10.0009, True),
    (10.0, 10.0012, False),
    (1000.0, 1000.0105, True),      # tolerance 1e-3 + 1e-5 * 1000.0105
    (1000.0, 1000.012, False),
    (1e6 + 10.00105, 1e6, False),   # the tolerance scales with the right side only ...
    (1e6, 1e6 + 10.00105, True),    # ... as in np.isclose, so '=' is not symmetric
    (np.inf, np.inf, True),
    (1.0, np.inf, False),
    (np.nan, np.nan, False),
], ids=["exact", "within-atol", "beyond-atol", "within-rtol", "beyond-rtol",
        "asymmetric-small-right", "asymmetric-large-right", "inf", "finite-vs-inf", "nan"])
def test_equals_is_approximate(left, right, expected):
    formula = parse_formula("(1;%a%) = (1;%b%)")
    assert formula.evaluate(_lookup({(1, "a"): left, (1, "b"): right})) is expected


def test_equals_matches_numpy_isclose(rng):
    values = np.concatenate([rng.normal(0, 1, 40), rng.normal(1e4, 1, 40), [np.inf, -np.inf,
                                                                            np.nan, 0.0]])
    pairs = [(a, a + step) for a in values for step in (0.0, 5e-4, 2e-3, 0.05, 0.2)]
    pairs += [(a, b) for a in values[-4:] for b in values[-4:]]
    formula = parse_formula("(1;%a%)=(1;%b%)")
    got = [formula.evaluate(_lookup({(1, "a"): a, (1, "b"): b})) for a, b in pairs]
    want = [bool(np.isclose(a, b, rtol=EQUALITY_RTOL, atol=EQUALITY_ATOL)) for a, b in pairs]
    assert got == want


def _random_value(rng, depth):
    if depth == 0 or rng.random() < 0.3:
        if rng.random() < 0.2:
            return Number(float(rng.integers(-6, 7)) / 4)
        region = int(rng.integers(1, 4)) if rng.random() < 0.7 else "verb"
        return Reference(region, str(rng.choice(["a", "b_c", "d-e"])))
    op = str(rng.choice(["+", "-"]))
    return BinaryOp(op, _random_value(rng, depth - 1), _random_value(rng, depth - 1))


def _random_truth(rng, depth):
    if depth == 0 or rng.random() < 0.3:
        op = str(rng.choice(["<", ">"]))
        return BinaryOp(op, _random_value(rng, 2), _random_value(rng, 2))
    op = str(rng.choice(["&", "|"]))
    return BinaryOp(op, _random_truth(rng, depth - 1), _random_truth(rng, depth - 1))


def _python_eval(text, table):
    """Evaluate canonical text with Python's own expression grammar (an independent check)."""
    def value(match):
        region = int(match[1]) if match[1].isdigit() else match[1]
        return f"({float(table[region, match[2]])!r})"

    expr = re.sub(r"\((\w+);%([\w-]+)%\)", value, text)
    expr = expr.replace("[", "(").replace("]", ")").replace("&", " and ").replace("|", " or ")
    return bool(eval(expr))


def test_random_formulas_round_trip_and_match_python(rng):
    keys = [(region, cond) for region in (1, 2, 3, "verb") for cond in ("a", "b_c", "d-e")]
    for _ in range(300):
        formula = Formula(_random_truth(rng, 3))
        table = dict(zip(keys, rng.normal(0, 3, len(keys)), strict=True))
        assert parse_formula(str(formula)) == formula
        assert formula.evaluate(_lookup(table)) is _python_eval(str(formula), table)


def test_region_names_and_numbers():
    formula = parse_formula("(verb;%match%) < (verb;%mismatch%) - (3;%match%)")
    assert formula.references == (("verb", "match"), ("verb", "mismatch"), (3, "match"))
    assert isinstance(formula.references[2][0], int)
    table = {("verb", "match"): 1.0, ("verb", "mismatch"): 4.0, (3, "match"): 2.0}
    assert formula.evaluate(_lookup(table)) is True


def test_evaluate_returns_python_bool_for_numpy_measures():
    values = np.array([2.0, 1.0], dtype=np.float32)
    result = parse_formula("(1;%a%) > (1;%b%)").evaluate(
        lambda region, condition: values[0 if condition == "a" else 1])
    assert type(result) is bool and result


def test_formula_is_immutable_and_comparable():
    formula = parse_formula(NUMBER_SRC)
    with pytest.raises(dataclasses.FrozenInstanceError):
        formula.root = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        formula.root.op = "|"
    assert formula != parse_formula(FGD_SUBJECT)
    assert len({formula, parse_formula(str(formula))}) == 1


def test_formula_root_must_be_a_truth_value():
    with pytest.raises(TypeError, match=r"got \(1;%a%\) - 2.0"):
        Formula(BinaryOp("-", Reference(1, "a"), Number(2.0)))


def test_missing_measure_is_a_spec_error():
    table = _fgd(5.0, 4.0, 2.0, 3.0)
    del table[4, "what_gap"]
    with pytest.raises(SpecError, match=r"no measure for region 4 of condition 'what_gap'"):
        parse_formula(FGD_SUBJECT).evaluate(_lookup(table))


@pytest.mark.parametrize(("text", "message"), [
    ("[(3;%a%) > (3;%b%)", "expected ']' at position 18 in '[(3;%a%) > (3;%b%)' "
                           "(found end of formula)"),
    ("(3;%a% > (3;%b%)", "expected ')' at position 7 in '(3;%a% > (3;%b%)' (found '>')"),
    ("(3;%a%) > (3;%b%))", "expected end of formula at position 17 in '(3;%a%) > (3;%b%))' "
                           "(found ')')"),
    ("[(3;%a%) > (3;%b%))", "expected ']' at position 18 in '[(3;%a%) > (3;%b%))' (found ')')"),
    ("(3;%a) > 1", "expected '%' closing the condition name at position 5 in '(3;%a) > 1' "
                   "(found ')')"),
    ("(3;%%) > 1", "expected a condition name at position 4 in '(3;%%) > 1' (found '%')"),
    ("(3;%a%) >", "expected a region reference, number or bracket at position 9 in "
                  "'(3;%a%) >' (found end of formula)"),
    ("(3;%a%) > 1 &", "expected a region reference, number or bracket at position 13 in "
                      "'(3;%a%) > 1 &' (found end of formula)"),
    ("(1;%a%)", "expected '<', '>' or '=' at position 7 in '(1;%a%)' (found end of formula)"),
    ("(1;%a%) & (1;%b%) > 0", "expected '<', '>' or '=' at position 8 in "
                              "'(1;%a%) & (1;%b%) > 0' (found '&')"),
    ("(1;%a%) $ 3", "expected a bracket, operator, number, name or '%' at position 8 in "
                    "'(1;%a%) $ 3' (found '$')"),
    ("(1;%a%) < (1;%b%) < 3", "expected '&' or '|' (comparisons do not chain) at position 18 "
                              "in '(1;%a%) < (1;%b%) < 3' (found '<')"),
    ("[(1;%a%) > 0] + 1 > 2", "expected a value (reference, number or sum), not a comparison, "
                              "at position 0 in '[(1;%a%) > 0] + 1 > 2'"),
    ("(3.5;%a%) > 1", "expected an integer region number at position 1 in '(3.5;%a%) > 1' "
                      "(found '3.5')"),
    ("(3%a%) > 1", "expected ';' at position 2 in '(3%a%) > 1' (found '%a%')"),
    ("", "expected a region reference, number or bracket at position 0 in '' "
         "(found end of formula)"),
], ids=["unclosed-bracket", "unclosed-reference", "extra-close", "mismatched-brackets",
        "missing-percent", "empty-condition", "dangling-comparison", "dangling-and",
        "bare-reference", "reference-joined-by-and", "unknown-character", "chained-comparison",
        "comparison-as-value", "decimal-region", "missing-semicolon", "empty"])
def test_bad_formula_message(text, message):
    with pytest.raises(SpecError, match=re.escape(message) + "$") as info:
        parse_formula(text)
    assert (info.value.file, info.value.field, info.value.line) == (None, None, None)


def test_non_string_formula_is_a_spec_error():
    with pytest.raises(SpecError, match="a formula must be a string, got int"):
        parse_formula(3)
