"""Region measures -> SyntaxGym prediction accuracy and mixed-model effects."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from probing._core.defaults import CI, MIXED_TEST, N_BOOT, RANDOM_STATE
from probing._core.errors import ProbingError, SpecError
from probing.behaviour._checks import plain, require_columns
from probing.paradigms.formula import parse_formula
from probing.stats import PROPORTION_METHODS, bootstrap_ci, fit_mixed_model, proportion_ci

__all__ = ["evaluate_predictions", "fit_region_model", "summarize_predictions"]


def _formulas_by_suite(predictions, suites, suite_column):
    """``{suite: [(text, Formula), ...]}``; one shared list when ``predictions`` is a list."""
    if isinstance(predictions, str):
        predictions = [predictions]
    if isinstance(predictions, Mapping):
        missing = [s for s in suites if s not in predictions]
        if missing:
            raise ProbingError(f"evaluate_predictions: no predictions for suite(s) {missing}")
        return {s: [(p, parse_formula(p)) for p in predictions[s]] for s in suites}
    parsed = [(p, parse_formula(p)) for p in predictions]
    return {s: parsed for s in suites}


def _measures(region_scores, stimuli_table, suite_column, measure):
    require_columns(region_scores, ("stimulus_id", "region", "region_number", measure),
                    "region_scores")
    extra = [] if suite_column is None else [suite_column]
    require_columns(stimuli_table, ("stimulus_id", "item_id", "condition", *extra), "stimuli")
    table = region_scores[["stimulus_id", "region", "region_number", measure]].merge(
        stimuli_table[["stimulus_id", "item_id", "condition", *extra]], on="stimulus_id",
        how="inner", validate="many_to_one")
    for key in ("region_number", "region"):
        dup = table.duplicated([*extra, "item_id", "condition", key])
        if dup.any():
            item, condition, value = plain(table.loc[dup, ["item_id", "condition", key]].iloc[0])
            raise ProbingError(f"region_scores: item {item!r} condition {condition!r} has "
                               f"{key} {value!r} more than once")
    return table


def _lookup(item, measure):
    rows = list(zip(item["region_number"], item["region"], item["condition"], item[measure],
                    strict=True))
    by_number = {(int(number), c): v for number, _, c, v in rows}
    by_name = {(name, c): v for _, name, c, v in rows}
    return lambda region, condition: (by_number if isinstance(region, int) else by_name)[
        region, condition]


def evaluate_predictions(region_scores, predictions, stimuli_table, *, suite_column=None,
                         measure="surprisal"):
    """Evaluate SyntaxGym prediction formulas on every item.

    Each formula (the SyntaxGym grammar, :func:`probing.paradigms.formula.parse_formula`)
    is evaluated once per item on that item's region measures: ``(3;%cond%)`` reads
    ``region_number`` 3 of condition ``cond``; ``(verb;%cond%)`` reads the region named
    ``verb``. As in SyntaxGym, a comparison involving NaN (the mean of an empty region)
    is false.

    Parameters
    ----------
    region_scores : pandas.DataFrame
        From :func:`build_region_surprisal`.
    predictions : sequence of str, or mapping of suite -> sequence of str
        Formulas; a mapping gives each suite (value of ``suite_column``) its own.
    stimuli_table : pandas.DataFrame
        ``stimulus_id, item_id, condition`` (and ``suite_column`` if given).
    suite_column : str, optional
        Column of ``stimuli_table`` naming the suite (e.g. ``phenomenon``); items are
        then evaluated within their suite.
    measure : str, default "surprisal"
        Column of ``region_scores`` the formulas compare (``surprisal_bits`` also works).

    Returns
    -------
    pandas.DataFrame
        ``[suite_column,] item_id, prediction, correct``: one row per item and formula,
        sorted by suite and item, formulas in the given order; ``correct`` is 1.0 or 0.0.

    Raises
    ------
    SpecError
        If a formula is malformed or refers to a region or condition an item lacks.

    Examples
    --------
    >>> stimuli = pd.DataFrame({"stimulus_id": ["a1", "b1", "a2", "b2"], "item_id": [1, 1, 2, 2],
    ...                         "condition": ["a", "b", "a", "b"]})
    >>> scores = pd.DataFrame({"stimulus_id": ["a1", "b1", "a2", "b2"], "region": "verb",
    ...                        "region_number": 2, "surprisal": [5.0, 3.0, 1.0, 4.0]})
    >>> evaluate_predictions(scores, ["(2;%a%) > (verb;%b%)"], stimuli)
       item_id            prediction  correct
    0        1  (2;%a%) > (verb;%b%)      1.0
    1        2  (2;%a%) > (verb;%b%)      0.0
    """
    if isinstance(predictions, Mapping) and suite_column is None:
        raise ProbingError("evaluate_predictions: predictions per suite need suite_column")
    table = _measures(region_scores, stimuli_table, suite_column, measure)
    keys = ["item_id"] if suite_column is None else [suite_column, "item_id"]
    suites = [None] if suite_column is None else sorted(table[suite_column].unique(), key=str)
    formulas = _formulas_by_suite(predictions, suites, suite_column)
    rows = []
    for key, item in table.groupby(keys, sort=True):
        suite = None if suite_column is None else key[0]
        lookup = _lookup(item, measure)
        for text, formula in formulas[suite]:
            try:
                correct = formula.evaluate(lookup)
            except SpecError as err:
                raise SpecError(f"item {key[-1]!r}: {err}") from err
            rows.append((*key, text, float(correct)))
    return pd.DataFrame(rows, columns=[*keys, "prediction", "correct"])


def summarize_predictions(evaluations, *, suite_column=None, n_boot=N_BOOT, ci=CI,
                          random_state=RANDOM_STATE, interval="wilson"):
    """Accuracy of each prediction (per suite) with a confidence interval over items.

    No test against chance is made: the chance rate of a formula joining several
    comparisons is not 0.5.

    Parameters
    ----------
    evaluations : pandas.DataFrame
        From :func:`evaluate_predictions`.
    suite_column : str, optional
        The same ``suite_column`` given to :func:`evaluate_predictions`.
    n_boot, ci, random_state
        As in :func:`probing.stats.bootstrap_ci` (``n_boot`` and ``random_state`` serve
        ``interval="bootstrap"`` only).
    interval : {"wilson", "clopper_pearson", "bootstrap"}, default "wilson"
        Each item is one independent 0/1 outcome, so the interval is a binomial
        proportion's (:func:`probing.stats.proportion_ci`); the percentile bootstrap
        of 0/1 outcomes undercovers (0.853 at 20 items and accuracy 0.9) and is kept
        only on request.

    Returns
    -------
    pandas.DataFrame
        ``[suite_column,] prediction, n, accuracy, ci_low, ci_high``, one row per
        suite and prediction.

    Examples
    --------
    >>> ev = pd.DataFrame({"item_id": [1, 2, 3, 4], "prediction": "(1;%a%) < (1;%b%)",
    ...                    "correct": [1.0, 1.0, 0.0, 1.0]})
    >>> summarize_predictions(ev, n_boot=500, random_state=0)[["n", "accuracy"]]
       n  accuracy
    0  4      0.75
    """
    keys = ["prediction"] if suite_column is None else [suite_column, "prediction"]
    require_columns(evaluations, (*keys, "correct"), "evaluations")
    if interval not in (*PROPORTION_METHODS, "bootstrap"):
        raise ProbingError(f"summarize_predictions: interval must be one of "
                           f"{[*PROPORTION_METHODS, 'bootstrap']}, got {interval!r}")
    rng = np.random.default_rng(random_state)
    rows = []
    for key, group in evaluations.groupby(keys, sort=True):
        correct = np.sort(group["correct"].to_numpy(float))
        if interval == "bootstrap":
            boot = bootstrap_ci(correct, n_boot=n_boot, ci=ci, random_state=rng)
            low, high = boot.ci_low, boot.ci_high
        else:
            low, high = proportion_ci(float(correct.sum()), len(correct), ci=ci, interval=interval)
        rows.append((*key, len(group), float(correct.mean()), low, high))
    return pd.DataFrame(rows, columns=[*keys, "n", "accuracy", "ci_low", "ci_high"])


def fit_region_model(region_scores, stimuli_table, *, region, factors, coding="sum",
                     interactions=True, measure="surprisal", test=MIXED_TEST):
    """Mixed model of one region's measure: design factors fixed, items random.

    Fits ``measure ~ factors`` (crossed) with random intercepts per ``item_id`` via
    :func:`probing.stats.fit_mixed_model`; see there for the coding.

    Parameters
    ----------
    region_scores : pandas.DataFrame
        From :func:`build_region_surprisal`.
    stimuli_table : pandas.DataFrame
        ``stimulus_id, item_id`` and the ``factors`` columns.
    region : int or str
        The target region: a ``region_number`` (int) or a ``region`` name (str).
    factors : sequence of str
        Factor columns of ``stimuli_table``.
    coding : {"sum", "treatment"}, default "sum"
    interactions : bool, default True
    measure : str, default "surprisal"
    test : {"auto", "by_item", "satterthwaite", "wald"}, default ``MIXED_TEST`` = "auto"
        The test of each term (see :func:`probing.stats.fit_mixed_model`): by item when
        every item has every cell, otherwise Satterthwaite degrees of freedom; both are
        calibrated with 6 items, where the Wald z test rejected 0.107 at 0.05.

    Returns
    -------
    pandas.DataFrame
        ``region`` then the columns of :func:`probing.stats.fit_mixed_model` (its
        ``test`` column records the test used).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> stimuli = pd.DataFrame({"stimulus_id": np.arange(40), "item_id": np.repeat(
    ...     np.arange(20), 2), "gap": np.tile(["yes", "no"], 20)})
    >>> scores = pd.DataFrame({"stimulus_id": np.arange(40), "region": "verb",
    ...     "region_number": 3, "surprisal": rng.normal(size=40) + (stimuli.gap == "yes")})
    >>> fit_region_model(scores, stimuli, region="verb", factors=["gap"])["term"].tolist()
    ['Intercept', 'C(gap, Sum)[S.no]']
    """
    factors = [factors] if isinstance(factors, str) else list(factors)
    require_columns(region_scores, ("stimulus_id", "region", "region_number", measure),
                    "region_scores")
    require_columns(stimuli_table, ("stimulus_id", "item_id", *factors), "stimuli")
    column = "region" if isinstance(region, str) else "region_number"
    target = region_scores.loc[region_scores[column] == region, ["stimulus_id", measure]]
    if target.empty:
        raise ProbingError(f"region_scores: no rows for {column} {region!r}")
    table = target.merge(stimuli_table[["stimulus_id", "item_id", *factors]],
                         on="stimulus_id", validate="many_to_one")
    result = fit_mixed_model(table, outcome=measure, fixed=factors, group_column="item_id",
                             coding=coding, interactions=interactions, test=test)
    return result.assign(region=region)[["region", *result.columns]]
