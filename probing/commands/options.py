"""Options declared once: each field carries its help, allowed values, default and check.

:func:`option` makes a dataclass field whose metadata the CLI generator, the docs
generator and :meth:`Options.__post_init__` read. Validation of a declared option
happens in exactly one place, :func:`check_option`, when the options object is built:
before any paradigm is generated or model loaded, for the CLI and the API alike.
Shared fields are declared once in the small bases below and composed by inheritance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from probing._core.defaults import N_BOOT, N_PERM, RANDOM_STATE
from probing._core.errors import ProbingError
from probing._core.layers import parse_layers
from probing._core.values import CORRECTIONS, DEFAULT_MODEL, MODEL_DTYPES, SITES

__all__ = ["CACHED_RUN_FOLDER", "RUN_FOLDER", "ActivationOptions", "BatchOption", "BootOptions",
           "CacheSettings", "CorrectionOption", "LayersOption", "ModelSettings", "Option",
           "Options", "RandomStateOption", "RunFolderSettings", "SeedOption", "SiteOption",
           "StatsOptions", "StudyFolderSettings", "check_option",
           "option", "option_fields"]


@dataclasses.dataclass(frozen=True)
class Option:
    """What a field declares beyond its default (read by the checks, the CLI and the docs)."""

    help: str
    choices: tuple | None = None  # allowed values (each element, for a tuple-valued field)
    empty: bool = False  # a tuple-valued field may be empty (none of the choices)
    minimum: float | None = None
    check: Callable | None = None  # value -> None, raises ProbingError
    type: Callable | None = None  # how the CLI reads one value (default: the default's type)
    flag: str | None = None  # CLI flag (default --field-name; --no-field-name for a True bool)
    metavar: str | None = None
    required: bool = False  # required on the command line
    none_flag: str | None = None  # a CLI flag that sets the field to None
    none_help: str | None = None
    deprecated: tuple = ()  # old flag names kept for one release
    values: str | None = None  # allowed values in words, when they are not a finite list
    default_text: str | None = None  # the default as the CLI shows it
    cli: bool = True
    positional: bool = False  # a positional argument on the command line (named by metavar)
    nargs: str | None = None  # a positional's argparse nargs ("+", "*")


def option(default, help, **declared):
    """A dataclass field carrying its :class:`Option` declaration.

    Examples
    --------
    >>> @dataclasses.dataclass(frozen=True)
    ... class Mine(Options):
    ...     site: str = option("resid_post", "where", choices=("resid_post", "mlp_out"))
    >>> Mine(site="mlp_out").site
    'mlp_out'
    >>> Mine(site="nowhere")
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: site 'nowhere': allowed resid_post, mlp_out
    """
    return dataclasses.field(default=default, metadata={"option": Option(help, **declared)})


def option_fields(cls):
    """``(field, Option)`` of every declared field of an options class, in order."""
    return [(f, f.metadata["option"]) for f in dataclasses.fields(cls) if "option" in f.metadata]


def check_option(name, value, declared):
    """Raise a one-line :class:`ProbingError` unless ``value`` is allowed for ``name``."""
    if value is None:
        return
    if declared.choices is not None:
        many = isinstance(value, tuple | list)
        values = list(value) if many else [value]
        if (not values and not declared.empty) or any(v not in declared.choices for v in values):
            shown = values if many else repr(value)
            raise ProbingError(f"{name} {shown}: allowed {', '.join(map(str, declared.choices))}")
    if declared.minimum is not None and value < declared.minimum:
        raise ProbingError(f"{name} must be >= {declared.minimum:g}; got {value}")
    if declared.check is not None:
        declared.check(value)


@dataclasses.dataclass(frozen=True)
class Options:
    """Base of every options class: each declared field is checked when it is built."""

    def __post_init__(self):
        for field, declared in option_fields(type(self)):
            check_option(field.name, getattr(self, field.name), declared)


# --- shared fields, declared once ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SeedOption(Options):
    seed: int | None = option(None, "override the paradigm's seed", type=int)


@dataclasses.dataclass(frozen=True)
class LayersOption(Options):
    layers: str = option("all", "layers: all, or integers such as 0,6,12 or -1 (negatives count "
                         "back from the last block)", check=parse_layers,
                         values="all, or integers like 0,6,-1")


@dataclasses.dataclass(frozen=True)
class SiteOption(Options):
    site: str = option("resid_post", "recording site (TransformerLens names)", choices=SITES)


@dataclasses.dataclass(frozen=True)
class BatchOption(Options):
    batch_size: int = option(32, "stimuli per forward pass", minimum=1)


@dataclasses.dataclass(frozen=True)
class ActivationOptions(SeedOption, LayersOption, SiteOption, BatchOption):
    """What every command that reads activations shares: seed, layers, site, batch size."""


@dataclasses.dataclass(frozen=True)
class CorrectionOption(Options):
    correction: str = option("holm", "multiple-comparison correction across layers (or "
                             "phenomena)", choices=CORRECTIONS)


@dataclasses.dataclass(frozen=True)
class RandomStateOption(Options):
    random_state: int = option(RANDOM_STATE, "seed of folds, permutations and resampling (a "
                               "rerun gives the same tables)")


@dataclasses.dataclass(frozen=True)
class BootOptions(RandomStateOption):
    n_boot: int = option(N_BOOT, "item bootstrap resamples", minimum=1)


@dataclasses.dataclass(frozen=True)
class StatsOptions(CorrectionOption, RandomStateOption):
    n_perm: int = option(N_PERM, "permutations (the default's p-values reach 1e-4, so a "
                         "corrected layer sweep can reach 0.05)", minimum=1)


@dataclasses.dataclass(frozen=True)
class ModelSettings(Options):
    """How the model is loaded: never part of an analysis's options."""

    model: str = option(DEFAULT_MODEL, "hub name, local folder, .gguf file, or an alias")
    device: str | None = option(None, "cpu, cuda, cuda:1 ... (default: cuda if available)",
                                type=str)
    model_dtype: str | None = option(None, "dtype the model computes in",
                                     choices=MODEL_DTYPES, type=str, default_text="float32")
    start_token: str = option("auto", "token prepended so the first word is scored: auto (the "
                              "model's document-start token), a token TOKEN such as "
                              "'<|endoftext|>', or its integer ID")


def _check_max_memory(value):
    if value < 0:
        raise ProbingError(f"--max-memory must be >= 0 GiB, got {value}")


@dataclasses.dataclass(frozen=True)
class CacheSettings(Options):
    """Where activations are cached and how much memory a step may plan to use."""

    cache_dir: Path | None = option(None, "activations cache (default ~/.cache/probing)",
                                    type=Path)
    max_memory: float | None = option(None, "refuse when the memory estimate exceeds GIB "
                                      "(default: the memory available now; 0: no check)",
                                      type=float, metavar="GIB", check=_check_max_memory)


@dataclasses.dataclass(frozen=True)
class RunFolderSettings(Options):
    """Where the run folder goes."""

    out: Path | None = option(None, "run folder (default runs/<paradigm>-<command>; for probing "
                              "run runs/<paradigm>)", type=Path)
    force: bool = option(False, "replace an existing run folder")


@dataclasses.dataclass(frozen=True)
class StudyFolderSettings(RunFolderSettings):
    """Where a study folder goes (one run folder per part), and whether finished parts are
    reused."""

    out: Path | None = option(None, "study folder", type=Path, required=True, metavar="DIR")
    resume: bool = option(False, "reuse the finished part folders already in DIR (same "
                          "options, inputs and model); the others are run")


#: The settings of a command that loads a model and writes a run folder (with a cache).
RUN_FOLDER = (ModelSettings, RunFolderSettings)
CACHED_RUN_FOLDER = (ModelSettings, CacheSettings, RunFolderSettings)
