"""``probing fresh-vs-published``: published (BLiMP) vs freshly generated pairs, declared once.

Its input is a mapping of BLiMP phenomena to generated paradigms (default: the shipped
``paradigms/fresh_vs_published.csv``), not one paradigm file; the engine is
:mod:`probing.pipeline.fresh_run`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from probing._core.defaults import TIES
from probing._core.values import TIE_RULES
from probing.commands import (
    RUN_FOLDER,
    BatchOption,
    Command,
    CorrectionOption,
    SeedOption,
    fill_doc,
    option,
)

__all__ = ["COMMAND", "FreshOptions", "run_fresh"]


@dataclasses.dataclass(frozen=True)
class FreshOptions(SeedOption, BatchOption, CorrectionOption):
    """Options of ``probing fresh-vs-published``; all are recorded in the manifest."""

    mapping: Path | None = option(None, "CSV with phenomenon, fresh_paradigm[, conditions, "
                                  "match, note] (default: the shipped mapping)", type=Path)
    blimp: Path | None = option(None, "folder of BLiMP .jsonl files (default: the bundled "
                                "sample, data/blimp)", type=Path)
    paradigms: Path | None = option(None, "folder of the fresh paradigm files (default: the "
                                    "shipped paradigms)", type=Path)
    limit: int | None = option(None, "published pairs per phenomenon (default: all in the "
                               "folder)", type=int, minimum=1)
    ties: str = option(TIES, "what a tied pair scores (the exact test leaves ties out)",
                       choices=TIE_RULES)


def _prepare(paradigm, options):
    from probing.pipeline.fresh_run import prepare_fresh

    return prepare_fresh(options)


def _run(plan, lm):
    from probing.pipeline.fresh_run import fresh_result

    return fresh_result(plan, lm)


@fill_doc
def run_fresh(lm, out, *, options=None, force=False, argv=None):
    """Score published and fresh pairs of each mapped phenomenon; write the run folder.

    Parameters
    ----------
    %(lm)s
    out : path-like
        Run folder to create.
    options : FreshOptions, optional
    force : bool
        Replace an existing run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``fresh_vs_published``, ``pairs_published`` and ``pairs_fresh``.

    Examples
    --------
    >>> FreshOptions(limit=10).ties
    'half'
    """
    from probing.pipeline.commands.execute import run_command

    result = run_command(COMMAND, None, lm, out, options=options or FreshOptions(),
                         force=force, argv=argv)
    return dict(result.tables)


def _report(result, out):
    keep = ["phenomenon", "item_set", "estimate", "ci_low", "ci_high", "p_val", "p_corr", "n"]
    return (f"wrote {out}/\n" + result.tables["fresh_vs_published"][keep]
            .to_string(index=False, float_format=lambda x: f"{x:.3f}"))


COMMAND = Command(
    name="fresh-vs-published", help="accuracy on published (BLiMP) vs freshly generated pairs",
    description="Score the BLiMP phenomena of a mapping and the generated paradigms matched "
    "to them (default: the shipped paradigms/fresh_vs_published.csv) and compare the model's "
    "accuracy on published vs fresh items: the difference, its Newcombe interval and a "
    "two-proportion score test. Writes DIR/fresh_vs_published.csv, pairs_published.csv, "
    "pairs_fresh.csv and manifest.json.",
    options=FreshOptions, prepare=_prepare, run=_run, settings=RUN_FOLDER, report=_report,
    reads_paradigm=False, folder="fresh_vs_published",
    example={"limit": 2})
