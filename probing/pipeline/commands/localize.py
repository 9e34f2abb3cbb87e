"""``probing localize``: a functional localizer for a model's units, declared once.

The options (:class:`LocalizeOptions`), the checks (``prepare_localize``: contrast and
split on the one Paradigm value; no model) and the run (``run_localize_plan``: the
activations, the unit tests, the selection on all stimuli and on each half) of the
command; the engine is :mod:`probing.pipeline.localize_run`. Engine modules are imported
inside ``prepare``/``run`` so that ``probing --help`` imports no pandas or torch.
"""

from __future__ import annotations

import dataclasses

from probing._core.defaults import N_PERM
from probing._core.errors import ProbingError
from probing._core.values import (
    ALTERNATIVES,
    LOCALIZE_POOLINGS,
    LOCALIZE_RECIPES,
    LOCALIZE_TESTS,
    NUISANCE,
    RESPONSES,
    SELECTIONS,
)
from probing.commands import (
    CACHED_RUN_FOLDER,
    ActivationOptions,
    Command,
    RandomStateOption,
    fill_doc,
    option,
)

__all__ = ["COMMAND", "RECIPES", "LocalizeOptions", "prepare_localize", "run_localize",
           "run_localize_plan"]

#: Option presets: ``alkhamissi`` is the LLM language-localizer recipe of AlKhamissi et
#: al. (2025): absolute responses, Welch's t, the top 1%, texts cut to 12 tokens.
RECIPES = {"alkhamissi": {"responses": "absolute", "test": "welch", "selection": "top",
                          "top_percent": 1.0, "max_tokens": 12, "nuisance": ()}}


def _names(text):
    """``--nuisance n_tokens,n_words``: the names, empty parts dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _check_top_percent(value):
    if not 0 < value <= 100:
        raise ProbingError(f"need 0 < top_percent <= 100; got {value}")


def _check_alpha(value):
    if not 0 < value < 1:
        raise ProbingError(f"need 0 < alpha < 1; got {value}")


def _check_n_perm_overlap(value):
    if value < 0:
        raise ProbingError(f"n_perm_overlap must be >= 0 (0: no overlap test); got {value}")


def _check_max_tokens(value):
    if value < 0:
        raise ProbingError(f"max_tokens must be >= 0 (0: whole texts); got {value}")


@dataclasses.dataclass(frozen=True)
class LocalizeOptions(ActivationOptions, RandomStateOption):
    """Options of a localizer run; all of them are recorded in the manifest.

    ``recipe`` (a key of :data:`RECIPES`) overrides the options it names when the options
    are built, so the manifest records what ran.
    """

    contrast: str = option("sentences-nonwords", "two conditions of the paradigm as A-B, e.g. "
                           "sentences-nonwords", required=True)
    pooling: str = option("last", "last token, mean over the text's tokens, or words (mean of "
                          "the words' mean token vectors)", choices=LOCALIZE_POOLINGS)
    responses: str = option("raw", "signed activations or their absolute value",
                            choices=RESPONSES)
    test: str = option("glm", "nilearn OLS GLM or Welch's unequal-variance t-test",
                       choices=LOCALIZE_TESTS)
    nuisance: tuple = option((), "comma-separated nuisance regressors (GLM only)",
                             choices=NUISANCE, type=_names, empty=True, default_text="none")
    selection: str = option("top", "top k percent, Benjamini-Hochberg, or max-T permutation FWE",
                            choices=SELECTIONS)
    top_percent: float = option(1.0, "k of top k percent", check=_check_top_percent)
    alpha: float = option(0.05, "FDR / FWE level", check=_check_alpha)
    per_layer: bool = option(False, "select within each layer instead of over the whole model")
    alternative: str = option("greater", "which way the test looks: A > B, A < B or either",
                              choices=ALTERNATIVES)
    split: str = option("auto", "column that halves the stimuli (auto: run if present, else "
                        "items)")
    n_perm: int = option(N_PERM, "max-T permutations of selection fwe (the default's p-values "
                         "reach 1e-4)", minimum=1)
    n_perm_overlap: int = option(200, "label shuffles of the split-half overlap's permutation "
                                 "test, each rerunning the whole selection in both halves (0: no "
                                 "test)", check=_check_n_perm_overlap)
    profile: bool = option(False, "also measure each half's selected units on every condition "
                           "of the paradigm in the other half (profile.csv, profile.png)")
    match_length: bool = option(False, "keep only stimuli with a partner of the other condition "
                                "with the same number of tokens in the same half (token count vs "
                                "condition r is reported in the manifest either way)")
    max_tokens: int = option(0, "cut each text after its first N tokens, possibly inside a word "
                             "(0: whole texts)", check=_check_max_tokens)
    recipe: str | None = option(None, "a preset that overrides --responses, --test, "
                                "--selection, --top-percent, --nuisance and --max-tokens: "
                                "alkhamissi = absolute, welch, top 1 percent, 12 tokens (AlKhamissi "
                                "et al. 2025; docs/localizer.md)", choices=LOCALIZE_RECIPES,
                                type=str)

    def __post_init__(self):
        if self.recipe in RECIPES:  # a recipe overrides its options, then all are checked
            for name, value in RECIPES[self.recipe].items():
                object.__setattr__(self, name, value)
        if isinstance(self.n_perm, int) and (self.n_perm < 1 or self.batch_size < 1):
            # the message the API has always given for either count
            raise ProbingError(f"n_perm and batch_size must be >= 1; got {self.n_perm}, "
                               f"{self.batch_size}")
        super().__post_init__()
        if self.nuisance and self.test == "welch":
            raise ProbingError("nuisance regressors need test 'glm' (Welch's test takes none)")
        if self.selection == "fwe" and self.test != "glm":
            raise ProbingError("selection 'fwe' permutes the GLM; use test 'glm'")
        if self.max_tokens and self.pooling == "words":
            raise ProbingError(f"max_tokens must be >= 0 (0: whole texts) and cannot be "
                               f"combined with pooling 'words'; got {self.max_tokens}, "
                               f"{self.pooling!r}")


def prepare_localize(paradigm, options):
    """The contrast's stimuli and their halves, checked on the one Paradigm value; no model."""
    from probing.pipeline.localize_run import check_localize_inputs

    stimuli, contrast, halves = check_localize_inputs(paradigm, options)
    return paradigm, options, stimuli, contrast, halves


def run_localize_plan(plan, lm):
    """Extract, test every unit, select on all stimuli and on each half; tables and figures."""
    from probing.pipeline.localize_run import compute_localize

    return compute_localize(*plan, lm)


@fill_doc
def run_localize(paradigm, lm, out, *, options=None, force=False, argv=None):
    """Localize the units of ``lm`` that respond to a contrast and write the run folder.

    Parameters
    ----------
    paradigm : str, path-like or probing.commands.Paradigm
        Any paradigm whose stimuli include the contrast's two conditions; loaded and
        generated once (a Paradigm value is used as it is).
    %(lm)s
    out : str or path-like
        Run folder to create.
    options : LocalizeOptions, optional
    force : bool
        Replace an existing run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``stimuli`` (the contrast's stimuli with ``n_tokens`` and ``half``), ``units``
        (:data:`probing.localize.UNITS_COLUMNS` plus ``contrast``), ``units_by_half``
        (the same per half, column ``half``), ``reliability``
        (:data:`probing.localize.RELIABILITY_COLUMNS` plus ``contrast, selection``),
        ``layer_counts``, ``response_choice`` (one row: the same selection on the other
        response transform, ``n_changed`` units), ``overlap_null`` (unless
        ``n_perm_overlap`` is 0) and ``profile`` (with ``options.profile``); every table
        ends with ``model, paradigm``.

    Examples
    --------
    >>> LocalizeOptions(recipe="alkhamissi").test
    'welch'
    """
    from probing.pipeline.commands.execute import run_tables

    return run_tables(COMMAND, paradigm, lm, out, options=options or LocalizeOptions(),
                      force=force, argv=argv)


def _report(result, out):
    tables = result.tables
    counts, reliability = tables["layer_counts"], tables["reliability"]
    choice = tables["response_choice"].iloc[0]
    lines = [f"wrote {out}/ (units.csv, reliability.csv, layer_counts.csv, figures)",
             f"{int(counts['n_selected'].sum())} of {int(counts['n_units'].sum())} units "
             f"selected ({reliability['selection'].iloc[0]}); per layer: "
             + ", ".join(f"{layer}:{n}" for layer, n in zip(counts["layer"], counts["n_selected"],
                                                             strict=True)),
             f"{choice['other']} responses instead of {choice['chosen']}: "
             f"{choice['n_selected_other']} selected, {choice['n_changed']} units change "
             f"(dice {choice['dice']:.3f})",
             reliability[["selected_on", "measured_on", "metric", "estimate", "expected", "p_val"]]
             .to_string(index=False, float_format=lambda x: f"{x:.3g}")]
    if "profile" in tables:
        profile = tables["profile"].query("metric == 'response_z'")
        lines.append(profile[["selected_on", "measured_on", "condition", "estimate", "ci_low",
                              "ci_high"]].to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    return "\n".join(lines)


COMMAND = Command(
    name="localize", help="functional localizer for units (GLM contrast)",
    description="Extract the activations of a paradigm's stimuli in the contrast's two "
    "conditions, test every unit with nilearn's OLS GLM (or Welch's t-test), select units "
    "(top k%, FDR or max-T FWE), measure the split-half reliability of the selection and "
    "write DIR/manifest.json, units.csv, units_by_half.csv, reliability.csv, "
    "layer_counts.csv, stimuli.csv, response_choice.csv, overlap_null.csv, "
    "selected_per_layer.png and unit_stats.png.",
    options=LocalizeOptions, prepare=prepare_localize, run=run_localize_plan,
    settings=CACHED_RUN_FOLDER, report=_report,
    example={"paradigm": "fedorenko2010_localizer.yaml", "contrast": "sentences-nonwords",
             "layers": "0,-1", "n_perm_overlap": 2})
