"""Unit-wise statistics of a contrast between two conditions.

The GLM is nilearn's own, run on the stimulus x unit matrix as nilearn runs it on
scans x voxels: :func:`nilearn.glm.first_level.run_glm` with ``noise_model="ols"`` and
:func:`nilearn.glm.compute_contrast` for the t statistic (and its z score) of
``A - B``. The design has one regressor per condition (cell means, no intercept) plus
optional nuisance regressors, demeaned, such as the number of tokens (non-word strings
are cut into more tokens than words are). The Welch t-test (unequal variances, no
nuisance regressors) is the test of AlKhamissi et al. (2025), through
:func:`scipy.stats.ttest_ind`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from probing._core.errors import ProbingError
from probing.stats.pvalues import ALTERNATIVES

__all__ = ["ALTERNATIVES", "STAT_COLUMNS", "TESTS", "build_design", "compute_unit_stats",
           "parse_contrast"]

TESTS = ("glm", "welch")
#: Columns of :func:`compute_unit_stats`, one row per unit.
STAT_COLUMNS = ("effect", "stat", "z", "dof", "p_val")


def parse_contrast(text, conditions=None):
    """Split ``"A-B"`` into ``("A", "B")`` and check both are known conditions.

    Examples
    --------
    >>> parse_contrast("sentences-nonwords", ["nonwords", "sentences"])
    ('sentences', 'nonwords')
    """
    parts = str(text).split("-")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ProbingError(f"contrast {text!r}: must be two conditions as A-B, e.g. "
                           f"sentences-nonwords")
    first, second = (p.strip() for p in parts)
    if first == second:
        raise ProbingError(f"contrast {text!r}: the two conditions must differ")
    if conditions is not None:
        known = sorted(set(map(str, conditions)))
        unknown = [c for c in (first, second) if c not in known]
        if unknown:
            raise ProbingError(f"contrast {text!r}: {unknown} not a condition; conditions: "
                               f"{', '.join(known)}")
    return first, second


def build_design(conditions, contrast, *, nuisance=None):
    """Design matrix: one indicator per condition of the contrast, then nuisance regressors.

    Parameters
    ----------
    conditions : array-like of str
        ``(n_stimuli,)`` condition of each stimulus; only the two of ``contrast`` may occur.
    contrast : (str, str)
        ``(A, B)``.
    nuisance : pandas.DataFrame, optional
        ``(n_stimuli, n_nuisance)`` numeric columns; each is demeaned.

    Returns
    -------
    pandas.DataFrame
        Columns ``A, B`` then the nuisance columns; ``n_stimuli`` rows.

    Examples
    --------
    >>> build_design(["s", "n", "s", "n"], ("s", "n"),
    ...              nuisance=pd.DataFrame({"n_tokens": [3, 5, 4, 6]}))
         s    n  n_tokens
    0  1.0  0.0      -1.5
    1  0.0  1.0       0.5
    2  1.0  0.0      -0.5
    3  0.0  1.0       1.5
    """
    conditions = np.asarray(conditions).astype(str)
    other = sorted(str(c) for c in set(conditions) - set(contrast))
    if other:
        raise ProbingError(f"conditions {other} are not in the contrast {contrast[0]}-{contrast[1]}")
    design = pd.DataFrame({c: (conditions == c).astype(float) for c in contrast})
    for c in contrast:
        if design[c].sum() < 2:
            raise ProbingError(f"condition {c!r}: needs at least 2 stimuli, got "
                               f"{int(design[c].sum())}")
    if nuisance is not None and len(nuisance.columns):
        if len(nuisance) != len(design):
            raise ProbingError(f"nuisance has {len(nuisance)} rows for {len(design)} stimuli")
        values = nuisance.to_numpy(dtype=float)
        values = values - values.mean(axis=0)
        design = pd.concat([design, pd.DataFrame(values, columns=list(nuisance.columns))], axis=1)
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        raise ProbingError(f"design {list(design.columns)} is rank deficient (a nuisance "
                           f"regressor is constant or collinear with the conditions)")
    return design


def compute_unit_stats(responses, conditions, contrast, *, nuisance=None, test="glm",
                       alternative="greater"):
    """t statistic, z score and p-value of ``A - B`` for every unit.

    Parameters
    ----------
    responses : array-like
        ``(n_stimuli, n_units)``.
    conditions : array-like of str
        ``(n_stimuli,)``, each one of the two conditions of ``contrast``.
    contrast : (str, str)
        ``(A, B)``: the statistic is positive where A > B.
    nuisance : pandas.DataFrame, optional
        Nuisance regressors (GLM only).
    test : {"glm", "welch"}
        nilearn's OLS GLM, or Welch's unequal-variance t-test (scipy).
    alternative : {"greater", "less", "two-sided"}
        Direction of the p-value (``greater``: A > B, the localizer's question).

    Returns
    -------
    pandas.DataFrame
        One row per unit: ``effect`` (mean A - mean B, adjusted for nuisance in the
        GLM), ``stat`` (t), ``z`` (the standard normal score with the upper-tail probability of t), ``dof``,
        ``p_val``. Units that do not vary get NaN.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=(20, 3)); y[:10, 0] += 3
    >>> out = compute_unit_stats(y, ["a"] * 10 + ["b"] * 10, ("a", "b"))
    >>> bool(out["stat"][0] > 5), bool(out["p_val"][0] < 1e-4)
    (True, True)
    """
    responses = np.asarray(responses, dtype=np.float64)
    if responses.ndim != 2 or responses.shape[0] != len(conditions):
        raise ProbingError(f"responses must be (n_stimuli, n_units) with {len(conditions)} rows;"
                           f" got shape {responses.shape}")
    if test not in TESTS:
        raise ProbingError(f"test {test!r}: allowed {', '.join(TESTS)}")
    if alternative not in ALTERNATIVES:
        raise ProbingError(f"alternative {alternative!r}: allowed {', '.join(ALTERNATIVES)}")
    if test == "welch" and nuisance is not None and len(nuisance.columns):
        raise ProbingError("the Welch test takes no nuisance regressors; use test='glm'")
    design = build_design(conditions, contrast, nuisance=nuisance)
    out = pd.DataFrame(np.nan, index=range(responses.shape[1]), columns=list(STAT_COLUMNS))
    varies = responses.std(axis=0) > 0
    if varies.any():
        run = _glm if test == "glm" else _welch
        out.loc[varies, list(STAT_COLUMNS)] = run(responses[:, varies], design, alternative)
    return out


def _glm(responses, design, alternative):
    from nilearn.glm import compute_contrast
    from nilearn.glm.first_level import run_glm

    labels, results = run_glm(responses, design.to_numpy(), noise_model="ols")
    weights = np.zeros(design.shape[1])
    weights[:2] = (1.0, -1.0)
    contrast = compute_contrast(labels, results, weights, stat_type="t")
    t = np.asarray(contrast.stat(), dtype=float)
    return np.column_stack([contrast.effect_size().ravel(), t, contrast.z_score(),
                            np.full(t.shape, contrast.dof), _p_from_t(t, contrast.dof, alternative)])


def _welch(responses, design, alternative):
    a, b = (responses[design.iloc[:, i].to_numpy() == 1] for i in (0, 1))
    result = stats.ttest_ind(a, b, equal_var=False, alternative=alternative, axis=0)
    # z with the upper-tail probability of t, as nilearn's z_score for the GLM.
    z = stats.norm.isf(stats.t.sf(result.statistic, result.df))
    return np.column_stack([a.mean(0) - b.mean(0), result.statistic, z, result.df,
                            result.pvalue])


def _p_from_t(t, dof, alternative):
    if alternative == "greater":
        return stats.t.sf(t, dof)
    if alternative == "less":
        return stats.t.cdf(t, dof)
    return 2 * stats.t.sf(np.abs(t), dof)
