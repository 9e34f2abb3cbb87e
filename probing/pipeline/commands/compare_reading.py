"""``probing compare-reading``: two reading-times runs compared word by word, declared once.

Its inputs are two run folders (positional options), not a paradigm; it loads no model.
The engine is :func:`probing.pipeline.alignment_reading.compare_reading_runs`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from probing.commands import BootOptions, Command, Result, option

__all__ = ["COMMAND", "CompareReadingOptions"]


@dataclasses.dataclass(frozen=True)
class CompareReadingOptions(BootOptions):
    """The two run folders, the bootstrap and where the row is written."""

    first: Path | None = option(None, "run folder with reading.csv", type=Path,
                                positional=True, metavar="first")
    second: Path | None = option(None, "run folder with reading.csv", type=Path,
                                 positional=True, metavar="second")
    out: Path | None = option(None, "CSV file to write the row to", type=Path)


def _prepare(paradigm, options):
    return options


def _run(options, lm):
    """The paired comparison (no model); ``--out`` written atomically."""
    from probing.pipeline.alignment_reading import compare_reading_runs

    row = compare_reading_runs(options.first, options.second, n_boot=options.n_boot,
                               random_state=options.random_state)
    if options.out is not None:
        from probing._core.io import write_table

        write_table(row, options.out)
    return Result(tables={"compare_reading": row})


def _report(result, out):
    return result.tables["compare_reading"].to_string(index=False,
                                                      float_format=lambda x: f"{x:.4g}")


COMMAND = Command(
    name="compare-reading",
    help="paired delta-LL test of two reading-times runs on the same words",
    description="Read two run folders of the same reading-times paradigm (two models, or the "
    "same model with other options that keep the same words) and compare their held-out "
    "delta log-likelihood word by word: the mean difference (first minus second, nats per "
    "word), a paired bootstrap interval over texts and a t-test on the per-text mean "
    "differences. Prints one row; --out writes it as CSV.",
    options=CompareReadingOptions, prepare=_prepare, run=_run, settings=(), report=_report,
    reads_paradigm=False)
