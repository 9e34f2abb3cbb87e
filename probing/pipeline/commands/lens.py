"""``probing lens``: the logit lens by layer (nostalgebraist 2020), declared once.

Each layer's residual stream is read out through the model's final norm and
unembedding (:mod:`probing.models.logit_lens`); the tables give each stimulus's
log-probability under each layer's read-out and the mean token surprisal per layer.
"""

from __future__ import annotations

import dataclasses

from probing._core.vocabulary import table_columns
from probing.commands import (
    RUN_FOLDER,
    BatchOption,
    Command,
    LayersOption,
    Result,
    SeedOption,
    identify,
)

__all__ = ["COMMAND", "LensOptions", "prepare_lens", "run_lens"]


@dataclasses.dataclass(frozen=True)
class LensOptions(SeedOption, LayersOption, BatchOption):
    """Options of ``probing lens``: which layers to read out."""


def prepare_lens(paradigm, options):
    """Nothing to check beyond the options and the paradigm: the plan is both."""
    return paradigm, options


def run_lens(plan, lm):
    """Score every stimulus under each layer's read-out; tables ``lens`` and ``lens_scores``."""
    from probing.models import score_tokens  # the only step that needs torch

    paradigm, options = plan
    tokens = score_tokens(lm, paradigm.stimuli.table, batch_size=options.batch_size,
                          layers=options.layers)
    scores = tokens.groupby(["stimulus_id", "layer"], sort=False).agg(
        logprob_sum=("logprob", "sum"), n_tokens=("logprob", "size")).reset_index()
    lens = tokens.groupby("layer")["surprisal"].agg(estimate="mean", n="size").reset_index()
    lens = lens.assign(metric="surprisal")[table_columns("lens")]
    tables = identify({"lens": lens, "lens_scores": scores}, model=lm.name,
                      paradigm=paradigm.name)
    return Result(tables=tables,
                  notes={"readout": "unembed(final_norm(resid_post L))"})


def _report(result, out):
    lens = result.tables["lens"]
    return (f"wrote {out}/ (lens.csv, lens_scores.csv)\nmean token surprisal (nats) by layer:\n"
            + lens[["layer", "estimate"]].to_string(index=False, float_format=lambda x: f"{x:.3f}"))


COMMAND = Command(
    name="lens", help="logit lens: each layer's next-token read-out, layer by layer",
    description="Score a paradigm's stimuli under the logit-lens read-out of each layer "
    "(the model's final norm and unembedding applied to the residual stream after that "
    "block; causal LMs only) and write DIR/manifest.json, lens.csv (mean token surprisal "
    "per layer) and lens_scores.csv (each stimulus's log-probability per layer).",
    options=LensOptions, prepare=prepare_lens, run=run_lens,
    settings=RUN_FOLDER, report=_report,
    example={"paradigm": "rsa_number_animacy.yaml", "layers": "0,-1"})
