"""Representational similarity analysis (arrays in, tidy tables out).

Containers and helpers
    :class:`RDMs` (immutable stack of condensed RDMs over shared stimulus ids),
    :func:`check_rdm` (validate a user array), :func:`to_square`, :func:`to_condensed`.
RDMs from patterns
    :func:`compute_rdm` (correlation, cosine, euclidean, sqeuclidean, mahalanobis,
    crossnobis; vectorised over layers), :func:`average_patterns`,
    :func:`estimate_noise_cov` (shrinkage covariance from residuals).
Model RDMs
    :func:`build_model_rdm` (one factor: categorical or continuous),
    :func:`build_model_rdms` (a paradigm's ``model_rdms``).
Comparison
    :func:`compare_rdms` (spearman, pearson, tau_a, rho_a, cosine, whitened_cosine,
    whitened_pearson; equal to rsatoolbox's ``compare``, see
    :mod:`probing.rsa.rdm_comparison`).
Inference
    :func:`permutation_test` (stimulus-label permutations, exact enumeration for few
    stimuli), :func:`draw_permutations`, :func:`bootstrap_stimuli`,
    :func:`bootstrap_items`, :func:`noise_ceiling`.
Corpus scale
    :func:`stream_rsa` (the permutation test of :func:`compute_rdm` RDMs, streamed by
    layer and by block of rows in bounded memory).
Sweeps and second-order RSA
    :func:`rsa_layers` (tidy table per layer and model RDM), :func:`compare_layers`,
    :func:`compare_models`.
Figures and interop
    :func:`plot_rdm`, :func:`plot_rsa_layers`, :func:`to_rsatoolbox`,
    :func:`from_rsatoolbox`.

How our metrics and methods relate to rsatoolbox's and scipy's is tabulated in the
docstrings of :mod:`probing.rsa.compute` and :mod:`probing.rsa.rdm_comparison`.
"""

from probing.rsa.bootstrap import (
    BootstrapResult,
    bootstrap_conditions,  # noqa: F401  (deprecated name, one release)
    bootstrap_items,
    bootstrap_stimuli,
)
from probing.rsa.ceiling import NoiseCeiling, noise_ceiling
from probing.rsa.compute import DISTANCES, METRICS, average_patterns, compute_rdm
from probing.rsa.inference import PermutationResult, draw_permutations, permutation_test
from probing.rsa.interop import from_rsatoolbox, to_rsatoolbox
from probing.rsa.model_rdms import build_model_rdm, build_model_rdms
from probing.rsa.noise import COVARIANCES, estimate_noise_cov
from probing.rsa.plotting import plot_rdm, plot_rsa_layers
from probing.rsa.rdm import RDMs, check_rdm, to_condensed, to_square
from probing.rsa.rdm_comparison import COMPARISONS, METHODS, compare_rdms
from probing.rsa.rsa_sweep import RSA_COLUMNS, compare_layers, compare_models, rsa_layers
from probing.rsa.stream import stream_rsa

__all__ = [
    "COMPARISONS",
    "COVARIANCES",
    "DISTANCES",
    "METHODS",
    "METRICS",
    "RSA_COLUMNS",
    "BootstrapResult",
    "NoiseCeiling",
    "PermutationResult",
    "RDMs",
    "average_patterns",
    "bootstrap_items",
    "bootstrap_stimuli",
    "build_model_rdm",
    "build_model_rdms",
    "check_rdm",
    "compare_layers",
    "compare_models",
    "compare_rdms",
    "compute_rdm",
    "draw_permutations",
    "estimate_noise_cov",
    "from_rsatoolbox",
    "noise_ceiling",
    "permutation_test",
    "plot_rdm",
    "plot_rsa_layers",
    "rsa_layers",
    "stream_rsa",
    "to_condensed",
    "to_rsatoolbox",
    "to_square",
]
