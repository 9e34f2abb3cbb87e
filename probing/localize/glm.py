"""Unit-wise statistics of a contrast between two conditions.

The GLM is nilearn's own, run on the stimulus x unit matrix as nilearn runs it on
scans x voxels: :func:`nilearn.glm.first_level.run_glm` with ``noise_model="ols"`` and
:func:`nilearn.glm.compute_contrast` for the t statistic (and its z score) of
``A - B``. The design has one regressor per condition (cell means, no intercept) plus
optional nuisance regressors, demeaned, such as the number of tokens (non-word strings
are cut into more tokens than words are). The Welch t-test (unequal variances, no
nuisance regressors) is the test of AlKhamissi et al. (2025), through
:func:`scipy.stats.ttest_ind`.

A unit that separates the conditions perfectly (no residual variance: constant within
each condition, or fitted exactly by the design) has an infinite t. Floating point
turns it into about 1e16 in the GLM and into NaN or infinity in a permutation test,
so it is detected once, here (:func:`find_separators`), and given ``stat = z = cohens_d
= +-inf`` and the p-value of an infinite t (0 or 1), which every selection rule then
ranks first (top-k), keeps (FDR) or keeps at the smallest permutation p (FWE).

``cohens_d`` is the effect size next to every p: the effect divided by the residual
standard deviation of the model, ``(mean A - mean B) / s``. Without nuisance regressors
``s`` is the pooled within-condition SD, so it is Cohen's d; with them it is the
adjusted effect in units of the adjusted residual SD. It is the same for both tests
(Welch's test changes the p-value, not the effect size). Unlike t it does not grow
with the number of stimuli, so it says how selective a unit is, not how sure we are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from probing._core.errors import ProbingError
from probing._core.values import LOCALIZE_TESTS
from probing.stats.pvalues import ALTERNATIVES

__all__ = ["ALTERNATIVES", "STAT_COLUMNS", "TESTS", "build_design", "compute_unit_stats",
           "find_separators", "parse_contrast"]

TESTS = LOCALIZE_TESTS
#: Columns of :func:`compute_unit_stats`, one row per unit.
STAT_COLUMNS = ("estimate", "cohens_d", "stat", "z", "dof", "p_val")
#: Residual SD below this fraction of the unit's total SD counts as none (a perfect
#: separator); float64 least squares leaves about 1e-16 where the exact answer is 0.
SEPARATOR_TOLERANCE = 1e-10


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
        One row per unit: ``estimate`` (mean A - mean B, adjusted for nuisance in the
        GLM), ``cohens_d`` (``estimate`` over the residual SD), ``stat`` (t), ``z`` (the standard normal score with the upper-tail probability of t), ``dof``,
        ``p_val``. Units that do not vary get NaN; perfect separators (see
        :func:`find_separators`) get infinite ``cohens_d``, ``stat`` and ``z``.

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
    out = np.full((responses.shape[1], len(STAT_COLUMNS)), np.nan)
    varies = responses.std(axis=0) > 0
    if varies.any():
        run = _glm if test == "glm" else _welch
        values = run(responses[:, varies], design, alternative)
        sign = find_separators(responses[:, varies], design)
        sep = sign != 0
        values[sep, 1:4] = sign[sep, None] * np.inf
        values[sep, 5] = _p_from_t(values[sep, 2], 1.0, alternative)
        out[varies] = values
    return pd.DataFrame(out, columns=list(STAT_COLUMNS))


def find_separators(responses, design):
    """Units the design fits exactly: +1 where A > B, -1 where A < B, 0 elsewhere.

    A unit with no residual variance (constant within each condition, once nuisance
    regressors are accounted for) separates the conditions perfectly; its t is
    infinite, not the ~1e16 that floating point makes of it.

    Parameters
    ----------
    responses : array-like
        ``(n_stimuli, n_units)``.
    design : pandas.DataFrame
        :func:`build_design` (``A, B`` indicators first).

    Returns
    -------
    numpy.ndarray of int
        ``(n_units,)``.

    Examples
    --------
    >>> y = np.array([[1.0, 0.3], [1.0, 0.1], [0.0, 0.2], [0.0, 0.5]])
    >>> find_separators(y, build_design(["a", "a", "b", "b"], ("a", "b"))).tolist()
    [1, 0]
    """
    y = np.asarray(responses, dtype=np.float64)
    x = np.asarray(design, dtype=np.float64)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    rss = ((y - x @ beta) ** 2).sum(axis=0)
    tss = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    exact = (tss > 0) & (rss <= SEPARATOR_TOLERANCE ** 2 * tss)
    return np.where(exact, np.sign(beta[0] - beta[1]), 0).astype(int)


def _glm(responses, design, alternative):
    from nilearn.glm import compute_contrast
    from nilearn.glm.first_level import run_glm

    with np.errstate(divide="ignore", invalid="ignore"):  # separators are set by the caller
        labels, results = run_glm(responses, design.to_numpy(), noise_model="ols")
        weights = np.zeros(design.shape[1])
        weights[:2] = (1.0, -1.0)
        contrast = compute_contrast(labels, results, weights, stat_type="t")
        t = np.asarray(contrast.stat(), dtype=float)
    # t = effect / (s sqrt(c'(X'X)^-1 c)), so d = effect / s = t sqrt(c'(X'X)^-1 c)
    x = design.to_numpy(dtype=float)
    scale = float(np.sqrt(weights @ np.linalg.pinv(x.T @ x) @ weights))
    return np.column_stack([contrast.effect_size().ravel(), t * scale, t, contrast.z_score(),
                            np.full(t.shape, contrast.dof), _p_from_t(t, contrast.dof, alternative)])


def _welch(responses, design, alternative):
    a, b = (responses[design.iloc[:, i].to_numpy() == 1] for i in (0, 1))
    with np.errstate(divide="ignore", invalid="ignore"):  # separators are set by the caller
        result = stats.ttest_ind(a, b, equal_var=False, alternative=alternative, axis=0)
        # z with the upper-tail probability of t, as nilearn's z_score for the GLM.
        z = stats.norm.isf(stats.t.sf(result.statistic, result.df))
        pooled = np.sqrt(((len(a) - 1) * a.var(0, ddof=1) + (len(b) - 1) * b.var(0, ddof=1))
                         / (len(a) + len(b) - 2))
        effect = a.mean(0) - b.mean(0)
        return np.column_stack([effect, effect / pooled, result.statistic, z, result.df,
                                result.pvalue])


def _p_from_t(t, dof, alternative):
    if alternative == "greater":
        return stats.t.sf(t, dof)
    if alternative == "less":
        return stats.t.cdf(t, dof)
    return 2 * stats.t.sf(np.abs(t), dof)
