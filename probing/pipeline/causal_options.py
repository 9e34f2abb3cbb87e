"""The options the causal commands share (``patch``, ``mediate``, ``ablate``, ``lesion``),
declared once and composed into each command's options class.

No pandas or torch here: ``probing --help`` builds every subcommand from these fields.
A check that involves two fields (``--region`` needs ``--positions regions``) is the
options class's own, so the command line, the API and an experiment step refuse the
same values with the same message.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from probing._core.errors import ProbingError
from probing._core.values import (
    ABLATIONS,
    DIRECTIONS,
    PATCH_POSITIONS,
    READOUTS,
    REGION_TOKENS,
    SWEEP_CORRECTIONS,
)
from probing.commands import BatchOption, BootOptions, Options, SeedOption, option

__all__ = ["AblationOptions", "CausalRunOptions", "PairOptions", "SweepOptions"]


@dataclasses.dataclass(frozen=True)
class CausalRunOptions(SeedOption, BatchOption, BootOptions):
    """How many pairs or items, their bootstrap and the batch size of a causal run."""

    batch_size: int = option(16, "stimuli per forward pass", minimum=1)
    limit: int | None = option(None, "the first N pairs (patch, mediate) or items (ablate, "
                               "lesion)", type=int, minimum=1)


@dataclasses.dataclass(frozen=True)
class PairOptions(CausalRunOptions):
    """Which pairs are patched, where, and what is read out (``patch`` and ``mediate``)."""

    contrast: str | None = option(
        None, "pair the grammatical members of FACTOR's two levels within an item (e.g. "
        "subject_number) instead of each pair's good and bad member", type=str,
        metavar="FACTOR")
    positions: str = option("regions", "one position per region (see --region-token) or "
                            "one per token", choices=PATCH_POSITIONS)
    region: str | None = option(None, "only this region's position (with --positions "
                                "regions), e.g. noun, or answer (the position that predicts "
                                "the answer); in a dialogue also a message (user_1), a sender "
                                "(user: its last message) or a named span", type=str,
                                metavar="NAME")
    region_token: str = option("last", "a region's position in each member: its last token, "
                               "its first, or all its tokens patched at once (patch only; "
                               "token for "
                               "token: a pair whose region has other token counts in its two "
                               "members is excluded)", choices=REGION_TOKENS)
    readout: str = option("sentence", "sentence: summed log-probability of each member "
                          "(members must split every word alike); logit_diff: good minus bad "
                          "answer token's logit where the answer is predicted (members of any "
                          "length)", choices=READOUTS)

    def __post_init__(self):
        super().__post_init__()
        if self.region is not None and self.positions != "regions":
            raise ProbingError(f"--region {self.region}: needs --positions regions")
        if self.region_token == "all" and self.positions != "regions":
            raise ProbingError("--region-token all: needs --positions regions")


@dataclasses.dataclass(frozen=True)
class SweepOptions(Options):
    """Which way a patching sweep copies and how its cells are corrected (``patch``,
    ``path-patch``)."""

    direction: str = option("denoising", "denoising: the good member's activations into the "
                            "bad one; noising: the other way; or both", choices=DIRECTIONS)
    correction: str = option("max_t", "correction across every cell of the sweep "
                             "(the *_corrected.csv table); max_t is family-wise with "
                             "simultaneous intervals, the others correct p-values only",
                             choices=SWEEP_CORRECTIONS)


def _check_units_path(path):
    if not str(path).strip():
        raise ProbingError("--units: give a unit table file")


@dataclasses.dataclass(frozen=True)
class AblationOptions(CausalRunOptions):
    """A unit set, what its units are set to, and the matched random sets of the null."""

    units: Path | None = option(None, "a .csv or .parquet unit table (layer, site, unit; only "
                                "rows with a true 'selected' when it has one): a localizer's "
                                "units.csv, probing mediate's top_units.csv, ...", type=Path,
                                required=True, metavar="TABLE", check=_check_units_path)
    ablation: str = option("zero", "what each unit is set to: zero, mean (its mean over the "
                           "paradigm's own stimuli) or resample (its value on another of the "
                           "paradigm's stimuli, drawn with --random-state)", choices=ABLATIONS,
                           deprecated=("--op",))
    n_sets: int = option(100, "random matched sets of the null (the default gives p-values "
                         "down to 1/101)", minimum=1)
