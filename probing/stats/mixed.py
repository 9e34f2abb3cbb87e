"""Linear mixed models with item random intercepts (``statsmodels`` MixedLM)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from probing._core.defaults import MIXED_TEST, MIXED_TESTS
from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing.stats.items import check_n_items
from probing.stats.satterthwaite import satterthwaite

__all__ = ["MIXED_COLUMNS", "MIXED_TESTS", "fit_mixed_model", "mixed_formula"]

MIXED_COLUMNS = ("term", "estimate", "std_err", "stat", "p_val", "ci_low", "ci_high",
                 "converged", "n_obs", "n_groups", "test", "df")
#: Accepted ``test`` values (``MIXED_TESTS``; ``auto`` resolves to by_item or
#: satterthwaite, and the ``test`` column records the one used).
TESTS = MIXED_TESTS
#: Below this many groups the Wald z test warns: its false-positive rate was 0.107 with
#: 6 items and 0.100 with 8 (alpha 0.05; docs/statistics.md has the simulation).
MIN_GROUPS_WALD = 20
CODINGS = {"sum": "C({}, Sum)", "treatment": "C({})"}


def mixed_formula(outcome, fixed, *, coding="sum", interactions=True):
    """The patsy formula :func:`fit_mixed_model` fits.

    Examples
    --------
    >>> mixed_formula("surprisal", ["gap", "wh"])
    'surprisal ~ C(gap, Sum) * C(wh, Sum)'
    >>> mixed_formula("y", ["a"], coding="treatment")
    'y ~ C(a)'
    """
    if coding not in CODINGS:
        raise ProbingError(f"fit_mixed_model: coding must be one of {list(CODINGS)}, "
                           f"got {coding!r}")
    names = [outcome, *fixed]
    bad = [n for n in names if not str(n).isidentifier()]
    if bad:
        raise ProbingError(f"fit_mixed_model: column names must be identifiers, got {bad}")
    terms = [CODINGS[coding].format(f) for f in fixed] or ["1"]
    return f"{outcome} ~ " + (" * " if interactions else " + ").join(terms)


def _check_table(table, outcome, fixed, groups):
    missing = [c for c in (outcome, *fixed, groups) if c not in table.columns]
    if missing:
        raise ProbingError(f"fit_mixed_model: table is missing column(s) {missing}")
    data = table[[outcome, *fixed, groups]].dropna().reset_index(drop=True)
    for f in fixed:
        if data[f].nunique() < 2:
            raise ProbingError(f"fit_mixed_model: factor {f!r} needs at least two levels "
                               f"among the rows with an outcome, got {data[f].unique()}")
    if data[groups].nunique() < 2:
        raise ProbingError(f"fit_mixed_model: need at least two {groups!r} groups")
    return data


def _fit(formula, data, groups, reml):
    """Fit; None if the design is singular. Warnings are summarised at the caller."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = smf.mixedlm(formula, data, groups=data[groups]).fit(reml=reml)
        except np.linalg.LinAlgError as err:
            result = None
            caught.append(warnings.WarningMessage(f"fit failed ({err}), estimates are NaN",
                                                  ConvergenceWarning, __file__, 0))
    # The optimiser's retries emit a burst of ConvergenceWarnings and RuntimeWarnings
    # (log of 0 and the like); one warning naming the model says the same, once.
    notes = dict.fromkeys(str(w.message) for w in caught
                          if issubclass(w.category, ConvergenceWarning))
    if result is None or not result.converged or notes:
        status = "did not converge" if result is None or not result.converged else "warned"
        warnings.warn(f"mixed model {formula!r} {status}: " + "; ".join(notes),
                      ConvergenceWarning, stacklevel=4)
    for w in caught:
        if not issubclass(w.category, (ConvergenceWarning, RuntimeWarning)):
            warnings.warn(w.message, w.category, stacklevel=4)
    return result


# @renamed adds one frame: the warnings of this function and _fit count it (stacklevel)
@renamed(groups="group_column")
def fit_mixed_model(table, *, outcome, fixed, group_column="item_id", coding="sum",
                    interactions=True, reml=True, ci=0.95, test=MIXED_TEST):
    """Fit a linear mixed model with random intercepts per group (item).

    The model is ``outcome ~ fixed effects + (1 | group_column)``, fitted by
    :func:`statsmodels.formula.api.mixedlm`. Each column in ``fixed`` is treated as a
    categorical factor; by default all interactions are included.

    Sum (deviation) coding is the default because in a factorial design with
    interactions it makes each main effect the effect averaged over the levels of the
    other factors (the ANOVA main effect). With treatment coding a "main effect" is a
    simple effect at the other factors' reference levels, which is easy to misread.
    Under patsy's ``Sum`` each coefficient is one level's deviation from the grand
    mean; the last level is the one left out.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per observation, with the ``outcome``, ``fixed`` and ``group_column``
        columns. Rows with a missing value in any of them are dropped.
    outcome : str
        Numeric response column.
    fixed : sequence of str
        Factor columns (fixed effects).
    group_column : str, default "item_id"
        Column whose levels get random intercepts (its old name ``groups`` warns: a
        ``groups`` elsewhere is one label per row).
    coding : {"sum", "treatment"}, default "sum"
        Contrast coding of the factors.
    interactions : bool, default True
        Cross the factors (``a * b``) rather than adding them (``a + b``).
    reml : bool, default True
        Restricted maximum likelihood (False: maximum likelihood).
    ci : float, default 0.95
        Level of the confidence intervals.
    test : {"auto", "by_item", "satterthwaite", "wald"}, default ``MIXED_TEST`` = "auto"
        ``auto``: ``by_item`` where every term is estimable within every group (a
        within-item design), otherwise ``satterthwaite``; both keep the false-positive
        rate at 0.05 with 6 items (docs/statistics.md). ``satterthwaite``: the mixed
        model's estimates and standard errors with a t reference on Satterthwaite
        degrees of freedom (:mod:`probing.stats.satterthwaite`, as ``lmerTest``).
        ``wald``: the Wald z test (statsmodels' default); its normal
        reference ignores that the variance components are estimated, so with few
        groups it rejects too often (0.107 at 6 items), and it warns below
        ``MIN_GROUPS_WALD`` (20) groups. ``by_item``: each group's own least-squares coefficients (the same
        design and coding), then a one-sample t test of each coefficient across
        groups (``n_groups - 1`` degrees of freedom), exact under normal errors
        whatever the number of items and valid with by-item random slopes too. It
        needs every term estimable within every group (a within-item design with
        every cell in every item).

    Returns
    -------
    pandas.DataFrame
        One row per fixed-effect term: ``term, estimate, std_err, stat, p_val, ci_low,
        ci_high, converged, n_obs, n_groups, test, df``: ``test`` the test used and
        ``df`` its degrees of freedom (NaN for ``wald``). For ``wald``, ``stat`` is the Wald
        z statistic and ``p_val`` its two-sided normal p-value (statsmodels' defaults);
        for ``satterthwaite`` the same estimate with a t statistic and interval;
        for ``by_item``, ``estimate`` is the mean of the groups' coefficients (equal to
        the mixed model's in a balanced design), ``stat`` its t statistic and the
        interval a t interval. Non-convergence warns (``ConvergenceWarning``) instead
        of raising; a singular fit (no fit, or NaN standard errors) has ``converged``
        False.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> items = np.repeat(np.arange(30), 2)
    >>> cond = np.tile(["a", "b"], 30)
    >>> y = (cond == "a") * 2.0 + rng.normal(size=30)[items] + rng.normal(size=60)
    >>> table = pd.DataFrame({"item_id": items, "condition": cond, "y": y})
    >>> res = fit_mixed_model(table, outcome="y", fixed=["condition"])
    >>> res["term"].tolist()
    ['Intercept', 'C(condition, Sum)[S.a]']
    >>> bool(res.loc[1, "p_val"] < 0.001)
    True
    """
    fixed = [fixed] if isinstance(fixed, str) else list(fixed)
    formula = mixed_formula(outcome, fixed, coding=coding, interactions=interactions)
    groups = group_column
    data = _check_table(table, outcome, fixed, groups)
    if test not in TESTS:
        raise ProbingError(f"fit_mixed_model: test must be one of {list(TESTS)}, got {test!r}")
    n_groups = check_n_items(data[groups].nunique(), "fit_mixed_model")
    if test == "auto":
        test = "by_item" if _estimable_by_group(formula, data, groups) else "satterthwaite"
    if test == "by_item":
        return _by_item(formula, data, groups, ci)
    if test == "wald" and n_groups < MIN_GROUPS_WALD:
        warnings.warn(f"fit_mixed_model: the Wald z test with {n_groups} {groups!r} groups "
                      f"(< {MIN_GROUPS_WALD}) rejects too often; use test='by_item'",
                      UserWarning, stacklevel=3)
    result = _fit(formula, data, groups, reml)
    if result is None:
        return _nan_table(formula, data, groups, test)
    names = list(result.fe_params.index)
    # statsmodels reports converged=True for a singular fit whose Hessian cannot be
    # inverted (NaN standard errors); such a fit has not produced usable inference.
    converged = bool(result.converged) and bool(np.all(np.isfinite(result.bse_fe)))
    if not converged and result.converged:
        warnings.warn(f"mixed model {formula!r} is singular: NaN standard errors "
                      f"(converged=False)", ConvergenceWarning, stacklevel=3)
    if test == "satterthwaite":
        return _satterthwaite_table(result, data, groups, ci, converged)
    bounds = np.asarray(result.conf_int(alpha=1 - ci).loc[names], dtype=float)
    return pd.DataFrame({
        "term": names,
        "estimate": result.fe_params.to_numpy(dtype=float),
        "std_err": result.bse_fe.to_numpy(dtype=float),
        "stat": result.tvalues[names].to_numpy(dtype=float),
        "p_val": result.pvalues[names].to_numpy(dtype=float),
        "ci_low": bounds[:, 0],
        "ci_high": bounds[:, 1],
        "converged": converged,
        "n_obs": int(result.nobs),
        "n_groups": int(data[groups].nunique()),
        "test": "wald",
        "df": np.nan,
    }, columns=list(MIXED_COLUMNS))


def _estimable_by_group(formula, data, groups):
    """True when every term is estimable from each group's rows alone."""
    design = np.asarray(smf.ols(formula, data).exog)
    return all(np.linalg.matrix_rank(design[rows]) == design.shape[1]
               for rows in data.groupby(groups, sort=True).indices.values())


def _satterthwaite_table(result, data, groups, ci, converged):
    names = list(result.fe_params.index)
    codes = pd.factorize(data[groups])[0]
    var_item = float(np.asarray(result.cov_re)[0, 0])
    std_err, df = result.bse_fe.to_numpy(dtype=float), np.full(len(names), np.nan)
    if converged and result.scale > 0:  # a singular fit has no usable variance estimates
        try:
            std_err, df = satterthwaite(np.asarray(result.model.exog), codes, var_item,
                                        float(result.scale))
        except np.linalg.LinAlgError:
            pass
    estimate = result.fe_params.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = estimate / std_err
    half = stats.t.ppf((1 + ci) / 2, df) * std_err
    return pd.DataFrame({
        "term": names, "estimate": estimate, "std_err": std_err, "stat": t,
        "p_val": 2 * stats.t.sf(np.abs(t), df), "ci_low": estimate - half,
        "ci_high": estimate + half, "converged": converged, "n_obs": int(result.nobs),
        "n_groups": int(data[groups].nunique()), "test": "satterthwaite", "df": df},
        columns=list(MIXED_COLUMNS))


def _by_item(formula, data, groups, ci):
    """One-sample t tests across groups of each group's own OLS coefficients."""
    # The pooled OLS model only supplies the design matrix, coded as the mixed model's.
    pooled = smf.ols(formula, data)
    design, y = np.asarray(pooled.exog), np.asarray(pooled.endog)
    coefs = []
    for key, rows in data.groupby(groups, sort=True).indices.items():
        X = design[rows]
        if np.linalg.matrix_rank(X) < X.shape[1]:
            raise ProbingError(f"fit_mixed_model: test='by_item' needs every term estimable "
                               f"within each {groups!r} group (every cell in every group); "
                               f"group {key!r} lacks some; use test='wald'")
        coefs.append(np.linalg.lstsq(X, y[rows], rcond=None)[0])
    coefs = np.asarray(coefs)
    n = len(coefs)
    estimate, std_err = coefs.mean(axis=0), coefs.std(axis=0, ddof=1) / np.sqrt(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = estimate / std_err
    half = stats.t.ppf((1 + ci) / 2, n - 1) * std_err
    return pd.DataFrame({
        "term": list(pooled.exog_names), "estimate": estimate, "std_err": std_err, "stat": t,
        "p_val": 2 * stats.t.sf(np.abs(t), n - 1), "ci_low": estimate - half,
        "ci_high": estimate + half, "converged": True, "n_obs": len(data), "n_groups": n,
        "test": "by_item", "df": float(n - 1)}, columns=list(MIXED_COLUMNS))


def _nan_table(formula, data, groups, test):
    # The design's column names, so a failed fit still lists the terms it tried.
    names = smf.ols(formula, data).exog_names
    out = pd.DataFrame({"term": names}, columns=list(MIXED_COLUMNS))
    return out.assign(converged=False, n_obs=len(data), n_groups=data[groups].nunique(),
                      test=test)
