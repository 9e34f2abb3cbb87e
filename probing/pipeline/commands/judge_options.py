"""The options of ``probing run --judge``: the model as judge after the scoring.

Declared apart from :class:`probing.pipeline.commands.run.RunOptions` (which inherits
them) so that ``probing --help`` reads no pandas: the scale file is read by the option's
check, the rest in :mod:`probing.pipeline.judge_run`.
"""

from __future__ import annotations

import dataclasses

from probing._core.defaults import JUDGE_STYLE, N_BINS, SCALE_ORDER
from probing._core.values import JUDGE_SCALE_ORDERS, JUDGE_STYLES
from probing.commands import Options, option

__all__ = ["JudgeRunOptions", "split_list"]


def split_list(text):
    """Comma-separated names as a tuple (the CLI's reading of a list option)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _check_judge_scale(value):
    """The scale file is read and validated when the options are built."""
    from probing.paradigms.judge_scale import load_judge_scale
    from probing.pipeline.judge_run import resolve_judge_scale

    load_judge_scale(resolve_judge_scale(value))


@dataclasses.dataclass(frozen=True)
class JudgeRunOptions(Options):
    """The model as judge after the scoring (:mod:`probing.pipeline.judge_run`)."""

    judge: str | None = option(None, "ratings and minimal pairs: also ask the model to rate "
                               "each sentence on this scale (a YAML file of labels and "
                               "templates, or a shipped scale's name: acceptability_1to4) and "
                               "write judge_prompts.csv, judge_ratings.csv and its summaries "
                               "(docs/alignment.md)", type=str, metavar="SCALE_FILE",
                               check=_check_judge_scale)
    judge_style: str = option(JUDGE_STYLE, "with --judge: the question as the user turn of the "
                              "model's chat template, as plain text ending in 'Answer:', or "
                              "both", choices=JUDGE_STYLES)
    scale_order: str = option(SCALE_ORDER, "with --judge: the scale listed lowest first, highest "
                              "first, or both (position bias)", choices=JUDGE_SCALE_ORDERS)
    judge_templates: tuple = option((), "with --judge: the scale's templates to ask (default: "
                                    "all of them)", type=split_list, metavar="NAME[,NAME]")
    n_bins: int = option(N_BINS, "with --judge on ratings: bins of the judge's rating in "
                         "judge_calibration.csv", minimum=1)
