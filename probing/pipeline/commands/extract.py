"""``probing extract``: layerwise activations of a paradigm's stimuli, declared once.

The engine (:mod:`probing.pipeline.extraction`) is imported inside ``prepare`` and ``run``
so that ``probing --help`` imports no pandas or torch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from probing._core.io import check_writable
from probing._core.values import LEVELS, STORE_DTYPES, check_pooling
from probing.commands import (
    ActivationOptions,
    CacheSettings,
    Command,
    ModelSettings,
    Result,
    option,
)

__all__ = ["COMMAND", "ExtractOptions", "prepare_extract", "run_extract"]


@dataclasses.dataclass(frozen=True)
class ExtractOptions(ActivationOptions):
    """Options of ``probing extract``."""

    out: Path | None = option(None, "output folder", type=Path, required=True)
    pooling: str = option("last", "last (in a causal LM the last token is the first to have "
                          "seen the whole text or word), first, mean, or region:NAME (the mean "
                          "over a named region's tokens)", check=check_pooling,
                          values="first, last, mean, region:NAME")
    level: str = option("sentence", "one vector per stimulus or per word", choices=LEVELS)
    store_dtype: str = option("float32", "dtype the activations are stored in",
                              choices=STORE_DTYPES, deprecated=("--dtype",))
    cache: bool = option(True, "recompute; do not read or write the cache")
    chunk_size: int = option(512, "stimuli per chunk written to disk; an interrupted run "
                             "resumes at the first missing chunk", minimum=1)


def prepare_extract(paradigm, options):
    """Check the segments, the output folder and the cache folder; return the plan."""
    from probing.pipeline.extraction import build_segments
    from probing.store import cache_root

    build_segments(paradigm.stimuli, pooling=options.pooling, level=options.level)
    if options.out is not None:
        check_writable(options.out)
    if options.cache:
        check_writable(cache_root())
    return paradigm.stimuli, options


def run_extract(plan, lm):
    """Extract (or read from the cache) and write ``options.out``."""
    from probing.pipeline.extraction import extract_activations

    stimuli, options = plan
    acts = extract_activations(lm, stimuli, layers=options.layers, site=options.site,
                               pooling=options.pooling, level=options.level,
                               store_dtype=options.store_dtype, batch_size=options.batch_size,
                               chunk_size=options.chunk_size, cache=options.cache,
                               out=options.out)
    return Result(notes={"activations": acts})


def _report(result, out):
    return f"{result.notes['activations']!r} -> {out}/"


COMMAND = Command(
    name="extract", help="layerwise activations of a paradigm's stimuli",
    description="Extract pooled activations (n_stimuli x n_layers x n_units) of a paradigm "
    "file's stimuli (or of a stimuli table: .csv/.tsv/.parquet with stimulus_id and text "
    "columns, or written by 'probing generate') and write DIR/values.npy, index.csv, "
    "meta.json. Results are cached by a key over everything that changes them.",
    options=ExtractOptions, prepare=prepare_extract, run=run_extract,
    settings=(ModelSettings, CacheSettings), report=_report,
    example={"paradigm": "rsa_number_animacy.yaml", "layers": "0,-1", "cache": False})
