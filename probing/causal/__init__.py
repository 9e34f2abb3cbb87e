"""Analyses of causal interventions (arrays in, tidy tables out).

The model adapter runs the interventions (patched, ablated, interchanged or erased
forward passes) and hands their read-outs over as arrays; nothing here sees a model.

Activation patching
    :func:`patching_effects` (denoising and noising; log-probability change and restored
    fraction with item-bootstrap intervals), :func:`plot_patching`;
    :func:`screen_agreement` (attribution-patching screen against exact patching);
    :func:`build_patching_runs`, :func:`summarize_patching` (from the adapter's long
    table of runs); :func:`locate_crossover` (the layer where an effect moves from one
    position to another); :func:`sweep_correction` (every cell of a sweep corrected:
    max-|t| family-wise p-values and simultaneous intervals, or FDR).
Causal mediation (Vig et al. 2020; Finlayson et al. 2021)
    :func:`mediation_effects` (TE, NIE, NDE with intervals), :func:`build_mediation_items`
    (per item), :func:`top_mediators`, :func:`joint_effect` (the top-k set at once),
    :func:`plot_unit_effects` (a per-unit sweep's effects by layer).
Ablation of a unit set against matched random sets
    :func:`check_unit_table`, :func:`select_units`, :func:`sample_matched_units`,
    :func:`ablation_test` (per phenomenon, corrected), :func:`compare_to_null`.
Interchange interventions on linear subspaces
    :func:`probe_subspace`, :func:`mean_difference_subspace`, :func:`random_subspaces`,
    :func:`interchange`, :func:`make_control_counterfactuals`,
    :func:`interchange_accuracy` (IIA per layer; controls are rows of the same table).
Concept erasure (LEACE, Belrose et al. 2023) and amnesic probing (Elazar et al. 2021)
    :class:`LeaceEraser`, :class:`RandomEraser` (scikit-learn transformers),
    :func:`amnesic_effect`.
Lesion studies over several paradigms
    :func:`combine_ablations` (one family across every paradigm's phenomena, and a
    normal-null p-value), :func:`normal_null_pvalue`, :func:`plot_lesion`.
"""

from probing.causal.ablation import ABLATION_COLUMNS, ablation_test, compare_to_null
from probing.causal.amnesic import AMNESIC_COLUMNS, amnesic_effect
from probing.causal.attribution_screen import SCREEN_COLUMNS, screen_agreement
from probing.causal.cell_correction import SWEEP_COLUMNS, sweep_correction
from probing.causal.crossover import CROSSOVER_COLUMNS, locate_crossover
from probing.causal.erasure import LeaceEraser, RandomEraser
from probing.causal.interchange import (
    IIA_COLUMNS,
    interchange,
    interchange_accuracy,
    make_control_counterfactuals,
    mean_difference_subspace,
    probe_subspace,
    random_subspaces,
)
from probing.causal.lesion_family import (
    LESION_COLUMNS,
    combine_ablations,
    normal_null_pvalue,
    plot_lesion,
)
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
from probing.causal.plotting import plot_patching, plot_unit_effects
from probing.causal.runs import (
    PAIR_EFFECT_COLUMNS,
    RUN_COLUMNS,
    PatchingRuns,
    build_patching_runs,
    patching_pairs,
    summarize_patching,
)
from probing.causal.units import (
    UNIT_COLUMNS,
    check_unit_table,
    sample_matched_units,
    select_units,
)

__all__ = [
    "ABLATION_COLUMNS",
    "AMNESIC_COLUMNS",
    "CROSSOVER_COLUMNS",
    "DIRECTIONS",
    "IIA_COLUMNS",
    "LESION_COLUMNS",
    "MEDIATION_COLUMNS",
    "MEDIATION_METRICS",
    "PAIR_EFFECT_COLUMNS",
    "PATCHING_COLUMNS",
    "PATCHING_METRICS",
    "RUN_COLUMNS",
    "SCREEN_COLUMNS",
    "SWEEP_COLUMNS",
    "UNIT_COLUMNS",
    "LeaceEraser",
    "PatchingRuns",
    "RandomEraser",
    "ablation_test",
    "amnesic_effect",
    "build_mediation_items",
    "build_patching_runs",
    "check_unit_table",
    "combine_ablations",
    "compare_to_null",
    "interchange",
    "interchange_accuracy",
    "joint_effect",
    "locate_crossover",
    "make_control_counterfactuals",
    "mean_difference_subspace",
    "mediation_effects",
    "normal_null_pvalue",
    "patching_effects",
    "patching_pairs",
    "plot_lesion",
    "plot_patching",
    "plot_unit_effects",
    "probe_subspace",
    "random_subspaces",
    "sample_matched_units",
    "screen_agreement",
    "select_units",
    "summarize_patching",
    "sweep_correction",
    "top_mediators",
]
