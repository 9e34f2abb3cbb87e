"""Functional localizers for units (arrays in, tidy tables out).

Neuroscience defines functional regions before it studies them: the language network is
the set of voxels that respond more to sentences than to non-word strings (Fedorenko et
al. 2010). Here the voxels are a model's units and the statistics are nilearn's.

Responses
    :func:`build_unit_responses` (stimulus x unit matrix over layers, raw or absolute),
    :func:`pool_words` (one row per stimulus from word rows).
Statistics
    :func:`parse_contrast`, :func:`build_design`, :func:`compute_unit_stats` (nilearn's
    OLS GLM, ``run_glm`` + ``compute_contrast``; or Welch's t-test via scipy).
Selection
    :func:`localize_units` (statistics + a rule: top-k%, FDR, or FWE by max-T
    permutations with ``permuted_ols``; over the model or per layer),
    :func:`select_top`, :func:`correct_fdr`, :func:`compute_fwe_pvalues`,
    :func:`build_layer_counts` (selected units per layer), :func:`compare_selections`.
Reliability
    :func:`build_reliability` (select on one half, measure on the other; Dice between
    the halves' selections next to its expectation for random selections),
    :func:`compute_dice`, :func:`expected_dice`; :func:`build_overlap_null` (the
    overlap's permutation null: labels shuffled within each half, the selection
    recomputed), :func:`compute_coordinate_dice`, :func:`overlap_pvalue`.
Length
    :func:`compute_length_correlation` (condition vs token count),
    :func:`select_length_matched` (the same token counts in both conditions).
Held-out profile
    :func:`build_response_profile` (the units selected on one half measured on every
    condition of the other half: word lists, Jabberwocky, ...).
Figures
    :func:`plot_layer_counts`, :func:`plot_unit_stats`, :func:`plot_response_profile`.

This package never imports a model: the pipeline hands it arrays.
"""

from probing.localize.glm import (
    ALTERNATIVES,
    STAT_COLUMNS,
    TESTS,
    build_design,
    compute_unit_stats,
    find_separators,
    parse_contrast,
)
from probing.localize.length import compute_length_correlation, select_length_matched
from probing.localize.localizer import UNITS_COLUMNS, compare_selections, localize_units
from probing.localize.overlap import (
    DICE_METRICS,
    OVERLAP_NULL_COLUMNS,
    build_overlap_null,
    compute_coordinate_dice,
    overlap_pvalue,
)
from probing.localize.plotting import plot_layer_counts, plot_response_profile, plot_unit_stats
from probing.localize.profile import PROFILE_COLUMNS, PROFILE_METRICS, build_response_profile
from probing.localize.reliability import (
    RELIABILITY_COLUMNS,
    build_reliability,
    compute_dice,
    expected_dice,
)
from probing.localize.responses import UNIT_COLUMNS, build_unit_responses, pool_words
from probing.localize.select import (
    SELECTIONS,
    build_layer_counts,
    compute_fwe_pvalues,
    correct_fdr,
    select_top,
)

__all__ = [
    "ALTERNATIVES",
    "DICE_METRICS",
    "OVERLAP_NULL_COLUMNS",
    "PROFILE_COLUMNS",
    "PROFILE_METRICS",
    "RELIABILITY_COLUMNS",
    "SELECTIONS",
    "STAT_COLUMNS",
    "TESTS",
    "UNITS_COLUMNS",
    "UNIT_COLUMNS",
    "build_design",
    "build_layer_counts",
    "build_overlap_null",
    "build_response_profile",
    "build_reliability",
    "build_unit_responses",
    "compare_selections",
    "compute_coordinate_dice",
    "compute_dice",
    "compute_fwe_pvalues",
    "compute_length_correlation",
    "compute_unit_stats",
    "correct_fdr",
    "expected_dice",
    "find_separators",
    "localize_units",
    "overlap_pvalue",
    "parse_contrast",
    "plot_layer_counts",
    "plot_response_profile",
    "plot_unit_stats",
    "pool_words",
    "select_length_matched",
    "select_top",
]
