"""Reading times regressed on surprisal: held-out delta log-likelihood.

Per word ``w`` of a text: reading time ``rt``, ``surprisal``, ``length`` (characters),
``frequency`` (unigram log-probability) and ``word_position`` (the word's position in
its text ``item_id``, as the data numbers it: Natural Stories' ``zone``).
The baseline model predicts ``rt`` from length, frequency and word position and the length
and frequency of the ``spillover`` previous words; the full model adds the surprisal of
the word and of the ``spillover`` previous words (Smith & Levy, 2013; Wilcox et al.,
2020). Both are fitted on training texts and scored on held-out texts (cross-validation
over texts): the delta log-likelihood is the mean, over held-out words, of the Gaussian
log-likelihood of the full model minus the baseline's (nats per word). Words whose
spillover reaches before the start of their text are left out of both models. Its
interval is a cluster bootstrap over texts (the unit the cross-validation holds out):
words of one text share a topic, a style and the model's fit, so they are not
independent draws.

Per-word means are fitted with statsmodels OLS; per-subject rows (a ``subject``
column) with a statsmodels mixed model with crossed random intercepts by subject and by
word (variance components, maximum likelihood), predicting held-out words with the fixed
effects plus the subject's fitted intercept, with the by-word variance added to the
residual variance (a held-out word's own effect is unknown).

The columns were called ``item`` and ``position`` before; frames with those names (and
without the new ones) are still read, with a :class:`DeprecationWarning`, for one release.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as sps
from sklearn.model_selection import GroupKFold
from sklearn.utils import check_random_state

from probing._core.defaults import CI, N_BOOT, READING_MIN_TEXTS, SPILLOVER
from probing._core.deprecation import renamed_columns
from probing._core.errors import ProbingError
from probing.alignment.reading_design import add_baseline_terms, apply_exclusions
from probing.stats import bootstrap_ci

__all__ = ["READING_COLUMNS", "build_reading_design", "compute_delta_loglik",
           "prepare_reading_design", "summarize_delta", "warn_few_texts"]

READING_COLUMNS = ("item_id", "word_position", "rt", "surprisal", "length", "frequency")
BASELINE = ("length", "frequency")
_OLD_NAMES = {"item": "item_id", "position": "word_position"}  # until the next release


def _new_names(words, where):
    """``words`` with the old column names ``item``/``position`` renamed (with a warning)."""
    return renamed_columns(words, where=where, stacklevel=4, **_OLD_NAMES)


def _lagged(names, spillover):
    return [f"{n}_lag{k}" for n in names for k in range(1, spillover + 1)]


def build_reading_design(words, *, spillover=SPILLOVER, predictor="surprisal"):
    """Add the spillover columns and drop words whose lags leave their text.

    Parameters
    ----------
    words : pandas.DataFrame
        One row per word (or per word and subject): ``item_id`` (the text),
        ``word_position`` (the word's position in it), ``rt, length, frequency`` and
        ``predictor``; optionally ``subject``.
    spillover : int, default 2
        Number of previous words whose predictors enter.
    predictor : str, default "surprisal"

    Returns
    -------
    pandas.DataFrame
        The rows kept, with ``<name>_lag<k>`` columns for ``predictor``, ``length`` and
        ``frequency``.

    Examples
    --------
    >>> words = pd.DataFrame({"item_id": 1, "word_position": [1, 2, 3],
    ...                       "rt": [300.0, 310, 320], "surprisal": [5.0, 2.0, 7.0],
    ...                       "length": [3, 4, 5], "frequency": [-5.0, -6, -7]})
    >>> design = build_reading_design(words, spillover=1)
    >>> design[["word_position", "surprisal_lag1"]].values.tolist()
    [[2.0, 5.0], [3.0, 2.0]]
    """
    words = _new_names(words, "build_reading_design")
    needed = [c for c in READING_COLUMNS if c != "surprisal"] + [predictor]
    missing = [c for c in needed if c not in words.columns]
    if missing:
        raise ProbingError(f"reading times: missing column(s) {missing}; required: {needed}")
    if spillover < 0 or int(spillover) != spillover:
        raise ProbingError(f"spillover must be an integer >= 0, got {spillover!r}")
    names = [predictor, *BASELINE]
    keys = ["item_id", "word_position"]
    per_word = words.drop_duplicates(keys).sort_values(keys)
    lagged = per_word[keys].copy()
    for k in range(1, spillover + 1):
        shifted = per_word.groupby("item_id", sort=False)[names].shift(k)
        for n in names:
            lagged[f"{n}_lag{k}"] = shifted[n].to_numpy()
    design = words.merge(lagged, on=keys, how="left")
    keep = design[[predictor, *BASELINE, "rt", *_lagged(names, spillover)]].notna().all(axis=1)
    return design.loc[keep].reset_index(drop=True)


def _columns(design, spillover, predictor, baseline="linear"):
    names = [*BASELINE, *[f"{n}_lag{k}" for k in range(1, spillover + 1) for n in BASELINE]]
    design, terms = add_baseline_terms(design, names, baseline=baseline)
    columns = [*terms, "word_position"]
    return design, columns, [*columns, predictor, *_lagged([predictor], spillover)]


def prepare_reading_design(words, *, spillover=SPILLOVER, predictor="surprisal", log_rt=False,
                           baseline="linear", exclude=(), rt_min=None, rt_max=None):
    """Design, exclusions and model columns of a reading-time regression.

    Parameters
    ----------
    words : pandas.DataFrame
        As in :func:`build_reading_design` (plus ``word`` for the text-based exclusions).
    spillover, predictor
        As in :func:`build_reading_design`.
    log_rt : bool, default False
        Model ``log(rt)`` (every kept reading time must be > 0).
    baseline : {"linear", "interaction", "spline"}
    exclude, rt_min, rt_max
        Exclusion rules (:func:`~probing.alignment.reading_design.apply_exclusions`).

    Returns
    -------
    dict
        ``design`` (the kept rows, ``rt`` on the modelled scale), ``baseline`` and
        ``full`` (their predictor columns) and ``exclusions`` (``rule, subject,
        n_excluded, n``; per subject too when ``words`` has a ``subject`` column).
    """
    words = _new_names(words, "prepare_reading_design")
    design = build_reading_design(words, spillover=spillover, predictor=predictor)
    design, exclusions = apply_exclusions(design, words, exclude=exclude, rt_min=rt_min,
                                          rt_max=rt_max)
    if log_rt:
        if (design["rt"] <= 0).any():
            raise ProbingError(f"log_rt: {int((design['rt'] <= 0).sum())} reading time(s) are "
                               "<= 0; exclude them (rt_min) or model raw times")
        design = design.assign(rt=np.log(design["rt"].to_numpy(float)))
    design, base, full = _columns(design, spillover, predictor, baseline)
    return {"design": design, "baseline": base, "full": full, "exclusions": exclusions}


def _loglik_ols(train, test, columns):
    x_train = sm.add_constant(train[columns].to_numpy(float), has_constant="add")
    fit = sm.OLS(train["rt"].to_numpy(float), x_train).fit()
    sigma = np.sqrt(fit.ssr / fit.nobs)  # the maximum-likelihood variance
    x_test = sm.add_constant(test[columns].to_numpy(float), has_constant="add")
    return sps.norm.logpdf(test["rt"].to_numpy(float), x_test @ fit.params, sigma)


MIXED_CELLS = 50_000_000  # rows x (subjects + words): the dense random-effects design


def _loglik_mixed(train, test, columns):
    """Crossed random intercepts by subject and by word (item), maximum likelihood.

    A held-out text's words are new, so their word effect is unknown: the predictive
    mean is the fixed part plus the subject's fitted intercept, and the predictive
    variance the residual variance plus the by-word variance.
    """
    from statsmodels.regression.mixed_linear_model import VCSpec

    subjects, s_codes = np.unique(train["subject"].to_numpy(), return_inverse=True)
    w_codes, word_keys = pd.factorize(pd.MultiIndex.from_frame(train[["item_id", "word_position"]]))
    if len(train) * (len(subjects) + len(word_keys)) > MIXED_CELLS:
        raise ProbingError(f"reading times: crossed random effects of {len(subjects)} subjects "
                           f"and {len(word_keys)} words on {len(train)} rows need a dense design "
                           f"past {MIXED_CELLS:,} cells; fit per-word means (no subject column) "
                           "or fewer texts")
    names = [[f"subject[{k}]" for k in range(len(subjects))],
             [f"word[{k}]" for k in range(len(word_keys))]]
    mats = [[np.eye(len(subjects))[s_codes]], [np.eye(len(word_keys))[w_codes]]]
    x_train = sm.add_constant(train[columns].to_numpy(float), has_constant="add")
    fit = sm.MixedLM(train["rt"].to_numpy(float), x_train, groups=np.zeros(len(train)),
                     exog_vc=VCSpec(["subject", "word"], [[n] for n in names], mats)).fit(
                         reml=False)
    effects = fit.random_effects[0]
    # the effects follow the components' order: the subjects' come first
    intercepts = dict(zip(subjects, effects.to_numpy(float)[:len(subjects)], strict=True))
    x_test = sm.add_constant(test[columns].to_numpy(float), has_constant="add")
    offset = test["subject"].map(intercepts).fillna(0.0).to_numpy(float)
    mean = x_test @ np.asarray(fit.fe_params) + offset
    sd = np.sqrt(fit.scale + float(fit.vcomp[1]))
    return sps.norm.logpdf(test["rt"].to_numpy(float), mean, sd)


def compute_delta_loglik(words, *, spillover=SPILLOVER, predictor="surprisal", cv=None,
                         **design_options):
    """Held-out log-likelihood of each word under the baseline and the full model.

    Parameters
    ----------
    words : pandas.DataFrame
        As in :func:`build_reading_design`; with a ``subject`` column, mixed models.
    spillover : int, default 2
    predictor : str, default "surprisal"
    cv : int, optional
        Folds over texts (``item_id``); default one fold per text (leave one text out).
    **design_options
        ``log_rt, baseline, exclude, rt_min, rt_max`` of :func:`prepare_reading_design`.

    Returns
    -------
    pandas.DataFrame
        The design rows kept with ``fold``, ``loglik_baseline``, ``loglik_full`` and
        ``delta_loglik`` (full minus baseline, nats); ``attrs["exclusions"]`` holds the
        exclusion counts (a dict of lists ``rule, n_excluded, n``).
    """
    words = _new_names(words, "compute_delta_loglik")
    prepared = prepare_reading_design(words, spillover=spillover, predictor=predictor,
                                      **design_options)
    design = prepared["design"]
    items = design["item_id"].to_numpy()
    n_texts = len(np.unique(items))
    n_splits = n_texts if cv is None else cv
    if n_texts < 2 or n_splits < 2 or n_splits > n_texts:
        raise ProbingError(f"reading times: cross-validation over texts needs at least 2 texts "
                           f"and 2 <= cv <= {n_texts}; got {n_texts} text(s), cv={cv}")
    baseline, full = prepared["baseline"], prepared["full"]
    loglik = _loglik_mixed if "subject" in design.columns else _loglik_ols
    out = design.assign(fold=-1, loglik_baseline=np.nan, loglik_full=np.nan)
    for k, (train, test) in enumerate(GroupKFold(n_splits=n_splits).split(design, groups=items)):
        tr, te = design.iloc[train], design.iloc[test]
        out.loc[out.index[test], "fold"] = k
        out.loc[out.index[test], "loglik_baseline"] = loglik(tr, te, baseline)
        out.loc[out.index[test], "loglik_full"] = loglik(tr, te, full)
    out = out.assign(delta_loglik=out["loglik_full"] - out["loglik_baseline"])
    # plain lists: pandas compares attrs when frames combine, and a frame there cannot be
    out.attrs["exclusions"] = prepared["exclusions"].to_dict("list")
    return out


RESAMPLE = ("texts", "words")


def warn_few_texts(n_texts, n_boot):
    """Warn when a bootstrap over ``n_texts`` texts has too few distinct resamples.

    ``n`` texts drawn with replacement give ``C(2n - 1, n)`` distinct resamples (10 for
    3 texts), and the percentile bounds sit at the extreme resamples (with 3 texts, the
    lowest and highest text means), so the interval is degenerate, not conservative.
    """
    if n_texts >= READING_MIN_TEXTS:
        return
    distinct = math.comb(2 * n_texts - 1, n_texts)
    warnings.warn(f"reading times: the bootstrap over texts has {n_texts} texts, hence "
                  f"{distinct} distinct resamples (n_boot {n_boot}); its interval is degenerate "
                  f"(near the lowest and highest text means). Use at least {READING_MIN_TEXTS} "
                  "texts, or report the word bootstrap (resample='words') beside it",
                  UserWarning, stacklevel=3)


def _text_bootstrap(values, texts, *, n_boot, ci, random_state):
    """Percentile interval of the mean over words, resampling whole texts.

    Written here rather than with :func:`scipy.stats.bootstrap`, which resamples
    observations: a cluster bootstrap draws texts with replacement and recomputes the
    mean over all words of the drawn texts (a ratio of sums), so texts of different
    lengths keep their weight.
    """
    codes = np.unique(texts, return_inverse=True)[1]
    sums = np.bincount(codes, weights=values)
    counts = np.bincount(codes).astype(float)
    n_texts = len(sums)
    if n_texts < 2:
        return np.nan, np.nan
    rng = check_random_state(random_state)
    # how often each text is drawn in each resample of n_texts draws with replacement
    weights = rng.multinomial(n_texts, np.full(n_texts, 1.0 / n_texts), size=n_boot)
    means = (weights @ sums) / (weights @ counts)
    tail = (1 - ci) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def summarize_delta(scored, *, predictor="surprisal", resample="texts", n_boot=N_BOOT, ci=CI,
                    random_state=None):
    """Mean held-out delta log-likelihood with a bootstrap interval over texts.

    Parameters
    ----------
    scored : pandas.DataFrame
        From :func:`compute_delta_loglik` (``delta_loglik`` and, for ``texts``, ``item_id``).
    predictor : str
        Written into the ``measure`` column.
    resample : {"texts", "words"}, default "texts"
        What the bootstrap draws with replacement. ``texts`` (a cluster bootstrap over
        ``item_id``) matches the cross-validation over texts and respects the dependence
        of words within a text; ``words`` treats every word as independent, which makes
        the interval too narrow when words of a text are correlated.
    n_boot, ci, random_state
        Resamples, confidence level and seed (``random_state`` as in scikit-learn).

    Returns
    -------
    pandas.DataFrame
        One row: ``measure, metric`` (``delta_loglik``), ``estimate`` (nats per word),
        ``ci_low, ci_high, n`` (held-out words).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 600
    >>> words = pd.DataFrame({"item_id": np.repeat(np.arange(12), n // 12),
    ...     "word_position": np.tile(np.arange(n // 12), 12), "surprisal": rng.gamma(2, 2, n),
    ...     "length": rng.integers(2, 9, n), "frequency": rng.normal(-9, 2, n)})
    >>> words["rt"] = 250 + 10 * words["surprisal"] + rng.normal(0, 20, n)
    >>> row = summarize_delta(compute_delta_loglik(words), random_state=0).iloc[0]
    >>> bool(row["ci_low"] > 0)
    True
    """
    if resample not in RESAMPLE:
        raise ProbingError(f"resample {resample!r}: allowed {', '.join(RESAMPLE)}")
    scored = _new_names(scored, "summarize_delta")
    values = scored["delta_loglik"].to_numpy(float)
    if resample == "texts":
        warn_few_texts(scored["item_id"].nunique(), n_boot)
        low, high = _text_bootstrap(values, scored["item_id"].to_numpy(), n_boot=n_boot, ci=ci,
                                    random_state=random_state)
    else:
        boot = bootstrap_ci(values, n_boot=n_boot, ci=ci, random_state=random_state)
        low, high = boot.ci_low, boot.ci_high
    return pd.DataFrame([{"measure": predictor, "metric": "delta_loglik",
                          "estimate": float(values.mean()), "ci_low": low, "ci_high": high,
                          "n": len(values)}])
