"""Statistics shared by every analysis: bootstrap, exact tests, corrections, mixed models.

Everything here sees arrays and tables, never a model, and imports only
``probing._core`` and third-party libraries (numpy, scipy, pandas, statsmodels).
Each function wraps a well-kept implementation and fixes the conventions:

:func:`bootstrap_ci`
    Percentile (or basic, BCa) bootstrap interval via ``scipy.stats.bootstrap``.
:func:`proportion_ci`, :func:`clustered_proportion_ci`
    Wilson or Clopper-Pearson interval of a proportion via ``statsmodels`` (on the
    effective number of trials when trials share an item).
:func:`binomial_test`
    Exact binomial test via ``scipy.stats.binomtest`` (two-sided by default).
:func:`correct_pvalues`
    Holm, Bonferroni or Benjamini-Hochberg via ``statsmodels``; NaN-safe.
:func:`permutation_pvalue`
    ``(b + 1) / (n + 1)`` Monte-Carlo or exact-enumeration p-values, never 0.
:func:`mcnemar_test`, :func:`compare_proportions`
    McNemar's test of two judgements of the same items (exact when few are discordant),
    and the difference of two independent proportions (Newcombe interval, score test).
:func:`item_intervals`, :func:`check_n_items`
    t intervals of ratios over items (causal effects), and the few-items warning.
:func:`max_t_test`, :func:`item_t_tests`
    Family-wise (max-|t| over item sign flips) p-values and simultaneous intervals over
    many cells, and their per-cell t tests.
:func:`fit_mixed_model`
    ``statsmodels`` MixedLM with item random intercepts, sum-coded factors by default,
    returned as a tidy table.
"""

from probing.stats.items import ITEM_INTERVALS, FewItemsWarning, check_n_items, item_intervals
from probing.stats.maxt import MaxTResult, item_t_tests, max_t_test
from probing.stats.mixed import MIXED_COLUMNS, fit_mixed_model, mixed_formula
from probing.stats.permutation import permutation_pvalue
from probing.stats.proportions import PROPORTION_METHODS, clustered_proportion_ci, proportion_ci
from probing.stats.pvalues import CORRECTIONS, binomial_test, correct_pvalues, correction_label
from probing.stats.resampling import BootstrapCI, bootstrap_ci
from probing.stats.twoprop import compare_proportions, mcnemar_test

__all__ = [
    "ITEM_INTERVALS",
    "FewItemsWarning",
    "check_n_items",
    "clustered_proportion_ci",
    "item_intervals",
    "item_t_tests",
    "MaxTResult",
    "max_t_test",
    "CORRECTIONS",
    "correction_label",
    "MIXED_COLUMNS",
    "PROPORTION_METHODS",
    "BootstrapCI",
    "binomial_test",
    "bootstrap_ci",
    "compare_proportions",
    "correct_pvalues",
    "fit_mixed_model",
    "mcnemar_test",
    "mixed_formula",
    "permutation_pvalue",
    "proportion_ci",
]
