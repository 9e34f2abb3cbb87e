"""``probing patch``: activation patching between the members of minimal pairs, declared once.

Every layer x position (x head) of each pair's target member is patched from its source
member (denoising: good into bad; noising: the other way); the engine is
:mod:`probing.pipeline.causal_run` (pairs aligned word by word, regions located in each
member, :func:`probing.models.patch_pairs`, :func:`probing.causal.summarize_patching`).
"""

from __future__ import annotations

import dataclasses

from probing._core.errors import ProbingError
from probing._core.values import HEAD_SITES, INTERVENTION_SITES
from probing.commands import Command, LayersOption, ModelSettings, RunFolderSettings, option
from probing.pipeline.causal_options import PairOptions, SweepOptions

__all__ = ["COMMAND", "PatchOptions", "prepare_patch", "run_patch", "run_patch_plan"]


@dataclasses.dataclass(frozen=True)
class PatchOptions(LayersOption, SweepOptions, PairOptions):
    """Options of ``probing patch``; all are recorded in the manifest."""

    site: str = option("resid_post", "site patched (TransformerLens names; head_out: the "
                       "attention heads' outputs)", choices=INTERVENTION_SITES)
    per_head: bool = option(False, "one cell per head (--site " + ", ".join(HEAD_SITES) + ")")

    def __post_init__(self):
        super().__post_init__()
        if self.per_head and self.site not in HEAD_SITES:
            raise ProbingError(f"--per-head needs --site {' or '.join(HEAD_SITES)}; got "
                               f"--site {self.site}")


def prepare_patch(paradigm, options):
    """The pairs, regions and contrast checked; no model."""
    from probing.pipeline.causal_run import prepare_pairs

    return prepare_pairs(paradigm, options, site=options.site)


def run_patch_plan(plan, lm):
    """One patching sweep per direction; tables and heatmaps."""
    from probing.pipeline.causal_run import patch_result

    return patch_result(plan, lm)


def _check_template(plan, model_name):
    from probing.pipeline.causal_run import check_dialogue_template

    check_dialogue_template(plan, model_name)


def _check_model(plan, shape):
    from probing.pipeline.causal_run import check_pair_layers

    check_pair_layers(plan, shape)


def run_patch(paradigm, lm, out, *, options=None, force=False, argv=None):
    """Patch every layer x position (x head) from one member of each pair into the other.

    Parameters
    ----------
    paradigm : path-like or probing.commands.Paradigm
        A ``minimal_pairs`` paradigm.
    lm : probing.models.LanguageModel or callable
        A loaded causal LM, or a zero-argument loader called after the inputs are checked.
    out : path-like
        Run folder to create.
    options : PatchOptions, optional
    force : bool
        Replace an existing run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``patch_pairs``, ``patching`` (:data:`probing.causal.PATCHING_COLUMNS`, then
        ``n_items, model, paradigm``), ``patching_pairs``, ``patching_corrected`` (every cell corrected across the sweep:
        :func:`probing.causal.sweep_correction`) and ``excluded_pairs``.

    Examples
    --------
    >>> PatchOptions(contrast="subject_number", readout="logit_diff").direction
    'denoising'
    """
    from probing.pipeline.commands.execute import run_command

    result = run_command(COMMAND, paradigm, lm, out, options=options or PatchOptions(),
                         force=force, argv=argv)
    return dict(result.tables)


def _report(result, out):
    tables = result.tables
    table = tables["patching"]
    rows = table[(table["metric"] == "restored_fraction") & table["estimate"].notna()]
    best = rows.loc[rows.groupby(["direction", "position"])["estimate"].idxmax()]
    best = best[["direction", "position", "layer", "estimate", "ci_low", "ci_high"]]
    return (f"wrote {out}/ (patching.csv, patching_pairs.csv, patching_corrected.csv, "
            f"{len(tables['patch_pairs'])} "
            f"pairs; {len(tables['excluded_pairs'])} excluded: excluded_pairs.csv)\n"
            "largest restored fraction per position:\n"
            + best.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


COMMAND = Command(
    name="patch", help="activation patching between the members of minimal pairs",
    description="Patch every layer x position (x head) of each pair's target member from its "
    "source member (denoising: good into bad; noising: the other way) and write "
    "DIR/manifest.json, patch_pairs.csv, patching.csv (effect and restored fraction with "
    "item intervals), patching_pairs.csv, patching_corrected.csv (each cell corrected for "
    "testing the whole layer x position grid), excluded_pairs.csv and a heatmap per "
    "direction. A dialogue paradigm (--contrast FACTOR pairs its dialogues) is rendered with "
    "the model's chat template and patched at a message's, sender's or span's token.",
    options=PatchOptions, prepare=prepare_patch, run=run_patch_plan, kinds=("minimal_pairs", "dialogue"),
    settings=(ModelSettings, RunFolderSettings), report=_report, check_model=_check_model,
    before_model=_check_template,
    example={"paradigm": "agreement_pp_attractor.yaml", "contrast": "subject_number",
             "readout": "logit_diff", "layers": "1", "limit": 2, "n_boot": 10})
