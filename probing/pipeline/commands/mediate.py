"""``probing mediate``: causal mediation by heads, layers or units, declared once.

Total, natural indirect and natural direct effects of each mediator at each position
between the members of each pair, the top-k mediators (selected on some items) and
their joint effect (on the others); the engine is :mod:`probing.pipeline.causal_run` and
:mod:`probing.pipeline.mediate_run`.
"""

from __future__ import annotations

import dataclasses

from probing._core.errors import ProbingError
from probing._core.values import INTERVENTION_SITES, MEDIATORS, REGION_TOKENS
from probing.commands import Command, LayersOption, ModelSettings, RunFolderSettings, option
from probing.pipeline.causal_options import PairOptions

__all__ = ["COMMAND", "MediateOptions", "prepare_mediate", "run_mediate", "run_mediate_plan"]


def _check_split(value):
    if not 0 < value <= 1:
        raise ProbingError(f"--split must be in (0, 1] (the fraction of items that select "
                           f"the top mediators), got {value}")


@dataclasses.dataclass(frozen=True)
class MediateOptions(LayersOption, PairOptions):
    """Options of ``probing mediate``; all are recorded in the manifest."""

    mediators: str = option("heads", "heads (each head of head_out), layers (the whole vector "
                            "of --site) or units (each unit of --site: one patched run per "
                            "unit, layer and position; restrict with --layers and --region)",
                            choices=MEDIATORS)
    site: str | None = option(None, "site of layers and units (heads are always head_out)",
                              choices=INTERVENTION_SITES, type=str, default_text="resid_post")
    top_k: int = option(5, "size of the joint set", minimum=1)
    split: float = option(0.5, "fraction of items the top-k are selected on; their joint "
                          "effect is measured on the other items (1: the same, biased)",
                          check=_check_split)

    def __post_init__(self):
        super().__post_init__()
        if self.mediators == "heads" and self.site not in (None, "head_out"):
            raise ProbingError(f"--site {self.site}: --mediators heads patches head_out; give "
                               f"--mediators layers or units for another site")
        if self.region_token == "all":
            one = ", ".join(t for t in REGION_TOKENS if t != "all")
            raise ProbingError(f"--region-token all: probing patch only (a mediator is one "
                               f"position); allowed here: {one}")

    @property
    def patched_site(self):
        """The site the sweeps patch: ``head_out`` for heads, else ``site`` (resid_post)."""
        return "head_out" if self.mediators == "heads" else self.site or "resid_post"


def prepare_mediate(paradigm, options):
    """The pairs, regions and contrast checked; no model."""
    from probing.pipeline.causal_run import prepare_pairs

    return prepare_pairs(paradigm, options, site=options.patched_site)


def run_mediate_plan(plan, lm):
    """The NIE and NDE sweeps, the top-k and their joint effect."""
    from probing.pipeline.causal_run import mediate_result

    return mediate_result(plan, lm)


def _check_model(plan, shape):
    from probing.pipeline.causal_run import check_pair_layers

    check_pair_layers(plan, shape)


def run_mediate(paradigm, lm, out, *, options=None, force=False, argv=None):
    """Causal mediation between the two members of each pair; write the run folder.

    Parameters
    ----------
    paradigm, lm, out, force, argv
        As for :func:`probing.pipeline.commands.patch.run_patch`.
    options : MediateOptions, optional

    Returns
    -------
    dict of str -> pandas.DataFrame
        See :func:`probing.pipeline.causal_run.mediate_result`.

    Examples
    --------
    >>> options = MediateOptions(mediators="units", site="mlp_out", layers="12",
    ...                          region="noun", contrast="subject_number", top_k=10)
    >>> options.patched_site
    'mlp_out'
    >>> tables = run_mediate("paradigms/agreement_pp_attractor.yaml", "smollm2-135m",
    ...                      "runs/units", options=options)  # doctest: +SKIP
    """
    from probing.pipeline.commands.execute import run_command

    result = run_command(COMMAND, paradigm, lm, out, options=options or MediateOptions(),
                         force=force, argv=argv)
    return dict(result.tables)


def _report(result, out):
    def show(table):
        return table.to_string(index=False, float_format=lambda x: f"{x:.3f}")

    tables = result.tables
    return "\n".join([
        f"wrote {out}/ (mediation.csv, mediation_test.csv, mediation_joint.csv, "
        f"top_mediators.csv, mediation_split.csv: top-k selected on some items, tested on "
        f"the others)",
        show(tables["top_mediators"].drop(columns=["model", "paradigm"])),
        "on the test items:",
        show(tables["mediation_test"].query("metric == 'indirect_effect'")
             .drop(columns=["model", "paradigm"])),
        show(tables["mediation_joint"][["k", "metric", "estimate", "ci_low", "ci_high"]])])


COMMAND = Command(
    name="mediate", help="causal mediation by heads, layers or units",
    description="Total, natural indirect and natural direct effects of each head (or layer, "
    "or unit) at each position between the members of each pair, the top-k mediators and "
    "their joint effect; write DIR/manifest.json, mediation.csv, mediation_test.csv, "
    "mediation_items.csv, "
    "mediation_joint.csv, mediation_split.csv, top_mediators.csv, top_units.csv (heads, "
    "units), excluded_pairs.csv and mediation.png.",
    options=MediateOptions, prepare=prepare_mediate, run=run_mediate_plan,
    kinds=("minimal_pairs",), settings=(ModelSettings, RunFolderSettings), report=_report,
    check_model=_check_model,
    example={"paradigm": "agreement_pp_attractor.yaml", "contrast": "subject_number",
             "readout": "logit_diff", "layers": "1", "limit": 2, "n_boot": 10, "top_k": 2,
             "split": 1.0})
