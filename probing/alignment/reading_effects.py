"""The surprisal effect in ms per bit, and a paired delta-LL test between two predictors.

:func:`compute_surprisal_effect` fits the full reading-time model once on every kept
word (statsmodels OLS with standard errors clustered by text: words of a text are not
independent) and reports the coefficient of the word's own surprisal and the sum over
the word and its spillover words, per bit (the ``surprisal`` column is in nats; one bit
is ``ln 2`` nats). Raw reading times give ms per bit (the data's unit per bit); with
``log_rt`` the unit is log reading time per bit (``exp(value) - 1`` is the proportional
slow-down per bit).

:func:`compare_delta_loglik` compares two models, or two layers, on the same words: the
per-word difference of their delta log-likelihoods (their baselines are the same fit),
its mean, a bootstrap interval over texts resampling both together (paired), and a
t-test on the per-text mean differences (texts are the unit the cross-validation holds out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as sps

from probing._core.defaults import CI, N_BOOT
from probing._core.errors import ProbingError

__all__ = ["compare_delta_loglik", "compute_surprisal_effect"]


def compute_surprisal_effect(prepared, *, predictor="surprisal", log_rt=False, ci=CI):
    """Per-bit effect of surprisal on reading times, from one fit on all kept words.

    Parameters
    ----------
    prepared : dict
        From :func:`~probing.alignment.reading.prepare_reading_design`.
    predictor : str, default "surprisal"
        In nats.
    log_rt : bool
        Whether ``prepared`` models log reading times (names the unit).
    ci : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Two rows: ``measure`` (``predictor``), ``metric`` (``ms_per_bit`` and
        ``ms_per_bit_total``, or ``log_rt_per_bit``...), ``value, ci_low, ci_high, stat``
        (the cluster-robust z), ``p_val, n`` (words).

    Examples
    --------
    >>> from probing.alignment.reading import prepare_reading_design
    >>> rng = np.random.default_rng(0)
    >>> words = pd.DataFrame({"item_id": np.repeat(np.arange(10), 60),
    ...     "word_position": np.tile(np.arange(60), 10), "surprisal": rng.gamma(2, 2, 600),
    ...     "length": rng.integers(2, 9, 600), "frequency": rng.normal(-9, 2, 600)})
    >>> words["rt"] = 250 + 10 * words["surprisal"] / np.log(2) + rng.normal(0, 20, 600)
    >>> table = compute_surprisal_effect(prepare_reading_design(words))
    >>> round(float(table["estimate"].iloc[0]))
    10
    """
    design, columns = prepared["design"], prepared["full"]
    x = sm.add_constant(design[columns].to_numpy(float), has_constant="add")
    groups = pd.factorize(design["item_id"])[0]
    fit = sm.OLS(design["rt"].to_numpy(float), x).fit(cov_type="cluster",
                                                    cov_kwds={"groups": groups})
    spill = [c for c in columns if c.startswith(f"{predictor}_lag")]
    unit = "log_rt_per_bit" if log_rt else "ms_per_bit"
    rows = []
    for metric, names in ((unit, [predictor]), (f"{unit}_total", [predictor, *spill])):
        weights = np.zeros(x.shape[1])
        weights[[1 + columns.index(n) for n in names]] = np.log(2)  # per nat -> per bit
        test = fit.t_test(weights)
        low, high = np.asarray(test.conf_int(alpha=1 - ci)).ravel()
        rows.append({"measure": predictor, "metric": metric, "estimate": float(test.effect[0]),
                     "ci_low": float(low), "ci_high": float(high),
                     "stat": float(np.asarray(test.tvalue).ravel()[0]),
                     "p_val": float(np.asarray(test.pvalue).ravel()[0]), "n": len(design)})
    return pd.DataFrame(rows)


_KEYS = ["item_id", "word_position"]


def compare_delta_loglik(first, second, *, names=("first", "second"), n_boot=N_BOOT, ci=CI,
                         random_state=None):
    """Paired comparison of two predictors' delta log-likelihood on the same words.

    Parameters
    ----------
    first, second : pandas.DataFrame
        Scored words (:func:`~probing.alignment.compute_delta_loglik`, or a run's
        ``reading.csv``): ``item_id, word_position, delta_loglik`` (and ``subject``
        when per subject). Both must hold the same words.
    names : (str, str)
        Written into ``measure`` as ``"first - second"``.
    n_boot, ci, random_state
        Paired bootstrap over texts.

    Returns
    -------
    pandas.DataFrame
        One row: ``measure, metric`` (``delta_loglik_difference``), ``estimate`` (mean over
        words of first minus second, nats per word), ``ci_low, ci_high`` (bootstrap over
        texts), ``stat, p_val`` (one-sample t on the per-text mean differences, df =
        texts - 1), ``n`` (words), ``n_texts``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = pd.DataFrame({"item_id": np.repeat(np.arange(12), 50),
    ...                   "word_position": np.tile(np.arange(50), 12)})
    >>> b = a.assign(delta_loglik=rng.normal(0.0, 0.1, 600))
    >>> a = a.assign(delta_loglik=b["delta_loglik"] + 0.05 + rng.normal(0, 0.01, 600))
    >>> row = compare_delta_loglik(a, b, random_state=0).iloc[0]
    >>> bool(row["ci_low"] > 0.04 and row["p_val"] < 1e-6)
    True
    """
    from probing.alignment.reading import _text_bootstrap, warn_few_texts

    keys = [*_KEYS, *(["subject"] if "subject" in first.columns else [])]
    merged = _paired(first, second, keys)
    difference = (merged["delta_loglik_a"] - merged["delta_loglik_b"]).to_numpy(float)
    texts = merged["item_id"].to_numpy()
    n_texts = len(np.unique(texts))
    if n_texts < 2:
        raise ProbingError("compare_delta_loglik: needs words of at least 2 texts")
    warn_few_texts(n_texts, n_boot)
    low, high = _text_bootstrap(difference, texts, n_boot=n_boot, ci=ci, random_state=random_state)
    per_text = pd.Series(difference).groupby(texts).mean()
    test = sps.ttest_1samp(per_text.to_numpy(), 0.0)
    return pd.DataFrame([{"measure": f"{names[0]} - {names[1]}",
                          "metric": "delta_loglik_difference", "estimate": float(difference.mean()),
                          "ci_low": low, "ci_high": high, "stat": float(test.statistic),
                          "p_val": float(test.pvalue), "n": len(difference), "n_texts": n_texts}])


def _paired(first, second, keys):
    for frame, which in ((first, "first"), (second, "second")):
        missing = [c for c in [*keys, "delta_loglik"] if c not in frame.columns]
        if missing:
            raise ProbingError(f"compare_delta_loglik: {which} lacks column(s) {missing}")
    a = first.dropna(subset=["delta_loglik"])[[*keys, "delta_loglik"]]
    b = second.dropna(subset=["delta_loglik"])[[*keys, "delta_loglik"]]
    merged = a.merge(b, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    unpaired = int((merged["_merge"] != "both").sum())
    if unpaired:
        raise ProbingError(f"compare_delta_loglik: {unpaired} word(s) are scored in only one "
                           "of the two tables; compare predictors on the same words (same data, "
                           "spillover and exclusions)")
    return merged
