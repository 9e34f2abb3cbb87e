"""Analyses of causal interventions (arrays in, tidy tables out).

The model adapter runs the interventions (patched, ablated, interchanged or erased
forward passes) and hands their read-outs over as arrays; nothing here sees a model.

Activation patching
    :func:`patching_effects` (denoising and noising; log-probability change and restored
    fraction with item-bootstrap intervals), :func:`plot_patching`.
Causal mediation (Vig et al. 2020; Finlayson et al. 2021)
    :func:`mediation_effects` (TE, NIE, NDE with intervals), :func:`build_mediation_items`
    (per item), :func:`top_mediators`, :func:`joint_effect` (the top-k set at once).
"""

from probing.causal.mediation import (
    MEDIATION_COLUMNS,
    MEDIATION_METRICS,
    build_mediation_items,
    joint_effect,
    mediation_effects,
    top_mediators,
)
from probing.causal.patching import (
    DIRECTIONS,
    PATCHING_COLUMNS,
    PATCHING_METRICS,
    patching_effects,
)
from probing.causal.plotting import plot_patching

__all__ = [
    "DIRECTIONS",
    "MEDIATION_COLUMNS",
    "MEDIATION_METRICS",
    "PATCHING_COLUMNS",
    "PATCHING_METRICS",
    "build_mediation_items",
    "joint_effect",
    "mediation_effects",
    "patching_effects",
    "plot_patching",
    "top_mediators",
]
