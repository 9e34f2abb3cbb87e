"""Which units a localizer selects: top-k%, FDR, or family-wise error by max-T permutations.

- ``top``: the ``top_percent`` % of units with the largest statistic (AlKhamissi et al.
  2025 take the top 1%), over the whole model or within each layer. No error rate is
  controlled; ``p_corr`` is NaN.
- ``fdr``: Benjamini-Hochberg over the family (the whole model, or each layer).
- ``fwe``: max-T permutation p-values from :func:`nilearn.mass_univariate.permuted_ols`
  (Westfall & Young): a unit is selected when its t exceeds the ``1 - alpha`` quantile
  of the permutation distribution of the family's largest t.

Perfect separators (:func:`~probing.localize.glm.find_separators`, infinite t) come
first in all three: ``top`` ranks +inf above every finite score, ``fdr`` sees their
p-value of 0, and ``fwe`` gives them the smallest permutation p-value,
``1 / (n_perm + 1)`` (an infinite t exceeds every permuted maximum; the permutation
code itself returns NaN or infinity for them, which it would count as never exceeding).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from probing._core.deprecation import renamed
from probing._core.errors import ProbingError
from probing._core.values import SELECTIONS
from probing.localize.glm import build_design, find_separators
from probing.stats import correct_pvalues

__all__ = ["SELECTIONS", "build_layer_counts", "compute_fwe_pvalues", "correct_fdr", "select_top"]


def _families(n, families):
    return np.zeros(n, dtype=int) if families is None else pd.factorize(np.asarray(families))[0]


def _score(stat, alternative):
    stat = np.asarray(stat, dtype=float)
    score = {"greater": stat, "less": -stat, "two-sided": np.abs(stat)}[alternative]
    return np.where(np.isnan(score), -np.inf, score)  # +inf (a perfect separator) ranks first


def select_top(stat, *, top_percent=1.0, alternative="greater", families=None):
    """The ``top_percent`` % of units with the largest statistic, per family.

    Parameters
    ----------
    stat : array-like
        ``(n_units,)``; NaN (units that do not vary) is never selected; +inf (a
        perfect separator) ranks first.
    top_percent : float
        In (0, 100]; each family keeps ``max(1, round(top_percent / 100 * n))`` units.
    alternative : {"greater", "less", "two-sided"}
        Rank by ``stat``, ``-stat`` or ``|stat|``.
    families : array-like, optional
        ``(n_units,)`` family of each unit (its layer, for a per-layer selection).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> select_top([0.5, 3.0, -4.0, 1.0], top_percent=50).tolist()
    [False, True, False, True]
    >>> select_top([0.5, 3.0, -4.0, 1.0], top_percent=25, families=[0, 0, 1, 1]).tolist()
    [False, True, False, True]
    """
    if not 0 < top_percent <= 100:
        raise ProbingError(f"top_percent must be in (0, 100]; got {top_percent!r}")
    score = _score(stat, alternative)
    codes = _families(len(score), families)
    selected = np.zeros(len(score), dtype=bool)
    for code in np.unique(codes):
        members = np.flatnonzero(codes == code)
        n_keep = max(1, int(round(top_percent / 100 * len(members))))
        # stable order: equal scores keep the lower unit index
        order = members[np.argsort(-score[members], kind="stable")][:n_keep]
        selected[order[score[order] > -np.inf]] = True
    return selected


def correct_fdr(p_val, *, families=None):
    """Benjamini-Hochberg adjusted p-values within each family (NaN stays NaN)."""
    p_val = np.asarray(p_val, dtype=float)
    codes = _families(len(p_val), families)
    p_corr = np.full(len(p_val), np.nan)
    for code in np.unique(codes):
        members = codes == code
        p_corr[members] = correct_pvalues(p_val[members], correction="fdr_bh")
    return p_corr


def compute_fwe_pvalues(responses, conditions, contrast, *, nuisance=None,
                        alternative="greater", n_perm=1000, families=None, random_state=0):
    """Family-wise max-T permutation p-values of ``A - B`` for every unit.

    Parameters
    ----------
    responses : array-like
        ``(n_stimuli, n_units)``.
    conditions : array-like of str
        ``(n_stimuli,)``, each one of the two conditions of ``contrast``.
    contrast : (str, str)
    nuisance : pandas.DataFrame, optional
        Confounding regressors, as in the GLM.
    alternative : {"greater", "less", "two-sided"}
    n_perm : int, default 1000
        Permutations; the smallest possible p-value is ``1 / (n_perm + 1)``. Fewer than
        the project's ``N_PERM`` (10,000) on purpose: each max-T permutation refits the
        GLM of every unit (17,856 for SmolLM2-135M), and 1,000 already resolves FWE
        p-values to 0.001, well under the usual 0.05.
    families : array-like, optional
        ``(n_units,)``: the maximum is taken within each family (each layer).
    random_state : int

    Returns
    -------
    numpy.ndarray
        ``(n_units,)`` corrected p-values; NaN for units that do not vary;
        ``1 / (n_perm + 1)`` for perfect separators in the tested direction (1 in the
        other).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=(30, 50)); y[:15, 0] += 3
    >>> p = compute_fwe_pvalues(y, ["a"] * 15 + ["b"] * 15, ("a", "b"), n_perm=200)
    >>> bool(p[0] < 0.01), bool(np.median(p[1:]) > 0.5)
    (True, True)
    """
    from nilearn.mass_univariate import permuted_ols

    if int(n_perm) < 1:
        raise ProbingError(f"n_perm must be >= 1; got {n_perm!r}")
    responses = np.asarray(responses, dtype=np.float64)
    design = build_design(conditions, contrast, nuisance=nuisance)
    tested = design.iloc[:, :1].to_numpy() * (-1.0 if alternative == "less" else 1.0)
    confounds = design.iloc[:, 2:].to_numpy() if design.shape[1] > 2 else None
    codes = _families(responses.shape[1], families)
    varies = responses.std(axis=0) > 0
    sign = find_separators(responses, design) * (-1 if alternative == "less" else 1)
    p_corr = np.full(responses.shape[1], np.nan)
    for code in np.unique(codes):
        members = np.flatnonzero((codes == code) & varies)
        if not len(members):
            continue
        # With an intercept, the indicator of A carries exactly the A - B contrast.
        with np.errstate(divide="ignore", invalid="ignore"):  # separators: set below
            out = permuted_ols(tested, responses[:, members], confounding_vars=confounds,
                               model_intercept=True, n_perm=int(n_perm),
                               two_sided_test=alternative == "two-sided",
                               random_state=int(random_state), n_jobs=1, verbose=0,
                               output_type="dict")
        p_corr[members] = 10.0 ** -out["logp_max_t"][0]
    if alternative == "two-sided":
        p_corr[sign != 0] = 1.0 / (int(n_perm) + 1)
    else:
        p_corr[sign > 0] = 1.0 / (int(n_perm) + 1)
        p_corr[sign < 0] = 1.0
    return p_corr


@renamed(units="unit_table")
def build_layer_counts(unit_table):
    """How many units each layer has and how many were selected.

    Parameters
    ----------
    unit_table : pandas.DataFrame
        ``layer, site, unit, selected`` (and any other columns).

    Returns
    -------
    pandas.DataFrame
        ``layer, site, n_units, n_selected, fraction`` (of the layer's units), one row per
        layer and site, with a share of all selected units in ``share``.

    Examples
    --------
    >>> units = pd.DataFrame({"layer": [0, 0, 1, 1], "site": "resid_post", "unit": [0, 1, 0, 1],
    ...                       "selected": [True, False, True, True]})
    >>> build_layer_counts(units)[["layer", "n_selected", "fraction"]].values.tolist()
    [[0.0, 1.0, 0.5], [1.0, 2.0, 1.0]]
    """
    counts = unit_table.groupby(["layer", "site"], sort=True)["selected"].agg(["size", "sum"])
    counts = counts.rename(columns={"size": "n_units", "sum": "n_selected"}).reset_index()
    counts["n_selected"] = counts["n_selected"].astype(int)
    counts["fraction"] = counts["n_selected"] / counts["n_units"]
    total = counts["n_selected"].sum()
    counts["share"] = counts["n_selected"] / total if total else 0.0
    return counts
