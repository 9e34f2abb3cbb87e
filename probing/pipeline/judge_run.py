"""A model as judge of a ``ratings`` or ``minimal_pairs`` paradigm (issue #26, item 5).

Declared as a command would be: :class:`JudgeOptions` (every field with its default and
allowed values), :func:`prepare_judge` (every check, the tokenizer but no weights),
:func:`run_judge` (the only step that sees a model) and :func:`write_judge`. Tables:

``judge_prompts.csv``
    One row per prompt and label: the label's log-probability (``judge_texts``).
``judge_ratings.csv``
    One row per prompt: the expected rating and the labels' probability mass.
``judge_summary.csv`` (ratings)
    Pearson/Spearman with the human ratings, Williams' test against each direct measure
    given, consistency across templates, position bias, label mass.
``judge_calibration.csv`` (ratings)
    Binned judge rating vs mean human rating.
``judgements.csv``, ``judgement_summary.csv`` (minimal pairs)
    The ``judge`` judgements of each pair and their accuracy (ties one half), beside the
    direct judgements when given.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from probing._core.defaults import JUDGE_STYLE, N_BINS, N_BOOT, SCALE_ORDER, TIES
from probing._core.errors import ProbingError
from probing._core.values import JUDGE_SCALE_ORDERS, JUDGE_STYLES, SCALE_ORDERS
from probing.alignment.judge_analysis import (
    build_judge_calibration,
    build_judge_ratings,
    judge_pairs,
    summarize_judge,
)
from probing.alignment.judgements import compare_judgements
from probing.paradigms.judge_scale import load_judge_scale
from probing.pipeline.sources import load_source

__all__ = ["DEFAULT_SCALE", "JUDGE_CHOICES", "JUDGE_KINDS", "JudgeOptions", "JudgePlan",
           "check_judge_prompts", "check_judge_scale", "judge_notes", "judge_run_plan",
           "judge_run_tables", "prepare_judge", "resolve_judge_scale", "run_judge",
           "write_judge"]

DEFAULT_SCALE = Path(__file__).resolve().parents[2] / "paradigms" / "judge" / "acceptability_1to4.yaml"
JUDGE_KINDS = ("ratings", "minimal_pairs")
JUDGE_CHOICES = {"judge_style": JUDGE_STYLES, "scale_order": JUDGE_SCALE_ORDERS}


@dataclasses.dataclass(frozen=True)
class JudgeOptions:
    """Options of a judge run.

    Attributes
    ----------
    scale : str or None
        The judge scale file (labels, values, templates); None: the shipped 1-4
        acceptability scale, ``paradigms/judge/acceptability_1to4.yaml``.
    judge_style : {"chat", "plain", "both"}, default ``JUDGE_STYLE``
        ``chat``: the question as the user turn of the model's own chat template;
        ``plain``: raw text ending in ``Answer:``.
    scale_order : {"both", "ascending", "descending"}, default ``SCALE_ORDER``
        How the scale is listed in the prompt; ``both`` measures position bias.
    templates : tuple of str, default () (all of the scale's)
    limit : int or None
        Rate only the first ``limit`` sentences (ratings) or pairs (minimal pairs).
    n_bins : int, default ``N_BINS``
    batch_size : int, default 16
    n_boot : int, default ``N_BOOT``
    seed : int, default 0
    ties : {"half", "incorrect", "correct"}, default ``TIES``

    Examples
    --------
    >>> JudgeOptions().scale_order
    'both'
    """

    scale: str | None = None
    judge_style: str = JUDGE_STYLE
    scale_order: str = SCALE_ORDER
    templates: tuple = ()
    limit: int | None = None
    n_bins: int = N_BINS
    batch_size: int = 16
    n_boot: int = N_BOOT
    seed: int = 0
    ties: str = TIES

    def __post_init__(self):
        for name, allowed in JUDGE_CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ProbingError(f"{name.replace('_', '-')} {getattr(self, name)!r}: allowed "
                                   f"{', '.join(allowed)}")
        if self.limit is not None and (isinstance(self.limit, bool) or self.limit < 1):
            raise ProbingError(f"limit: must be a positive integer, got {self.limit!r}")
        if self.n_bins < 1:
            raise ProbingError(f"n-bins: must be >= 1, got {self.n_bins!r}")
        object.__setattr__(self, "templates", tuple(self.templates))

    def styles(self):
        return tuple(s for s in JUDGE_STYLES if s != "both") if self.judge_style == "both" \
            else (self.judge_style,)

    def orders(self):
        return SCALE_ORDERS if self.scale_order == "both" else (self.scale_order,)


@dataclasses.dataclass(frozen=True)
class JudgePlan:
    """What :func:`prepare_judge` checked: the stimuli to rate, the scale, the options."""

    stimuli: object
    table: pd.DataFrame
    scale: object
    options: JudgeOptions


def _limited(stimuli, limit):
    table = stimuli.table
    if limit is None:
        return table
    if stimuli.kind == "ratings":
        return table.head(limit)
    keep = table["pair_id"].drop_duplicates().head(limit)
    return table[table["pair_id"].isin(keep)]


def prepare_judge(path, model, options=None):
    """Every check of a judge run before a model's weights load.

    Parameters
    ----------
    path : str or path-like
        A ``ratings`` or ``minimal_pairs`` paradigm file (or stimuli table).
    model : str
        The model name or path: its tokenizer alone is loaded, to check that every label
        is one token and that the chat template renders the prompt.
    options : JudgeOptions, optional

    Returns
    -------
    JudgePlan

    Raises
    ------
    ProbingError
        One line: a paradigm of another kind, a bad scale file (empty scale, a template
        without its ``{sentence}`` slot, a label of several tokens), an unknown template,
        a chat style without a chat template.

    Examples
    --------
    >>> plan = prepare_judge("paradigms/lau2020_ratings.yaml", "smollm2-135m",
    ...                      JudgeOptions(limit=20))  # doctest: +SKIP
    """
    from probing.models import load_tokenizer

    options = options or JudgeOptions()
    stimuli = load_source(path, seed=options.seed)[0]
    scale = check_judge_scale(stimuli.kind, options, where=path)
    table = _limited(stimuli, options.limit)
    check_judge_prompts(load_tokenizer(model), scale, options, table["text"].iat[0],
                        name=str(model))
    return JudgePlan(stimuli=stimuli, table=table, scale=scale, options=options)


def check_judge_scale(kind, options, *, where):
    """The paradigm's kind, the scale file and the chosen templates (no tokenizer).

    Returns
    -------
    probing.paradigms.judge_scale.JudgeScale

    Examples
    --------
    >>> check_judge_scale("ratings", JudgeOptions(), where="r.yaml").labels  # doctest: +SKIP
    ('1', '2', '3', '4')
    """
    if kind not in JUDGE_KINDS:
        raise ProbingError(f"{where}: a judge rates a {' or '.join(JUDGE_KINDS)} paradigm; "
                           f"this one is {kind}")
    scale = load_judge_scale(options.scale or DEFAULT_SCALE)
    unknown = [t for t in options.templates if t not in scale.templates]
    if unknown:
        raise ProbingError(f"templates: {unknown} not in {scale.file}; it has "
                           f"{list(scale.templates)}")
    return scale


def check_judge_prompts(tokenizer, scale, options, sentence, *, name):
    """Every label one token, and one prompt of each style rendered (the tokenizer alone)."""
    from probing.models.judge_prompts import build_judge_prompt, check_judge_tokens

    for style in options.styles():
        check_judge_tokens(tokenizer, scale, style=style, name=name)
        build_judge_prompt(tokenizer, scale, next(iter(scale.templates)), sentence, style=style)


def run_judge(plan, lm, *, measures=None, direct=None, prompts=None):
    """Rate the plan's sentences with ``lm`` and summarise against the human data.

    Parameters
    ----------
    plan : JudgePlan
    lm : LanguageModel
    measures : pandas.DataFrame, optional
        Ratings: ``stimulus_id`` and direct measures (``SLOR``, ...) of the same model,
        e.g. ``acceptability.csv`` of ``probing run``; Williams' test against each.
    direct : pandas.DataFrame, optional
        Minimal pairs: ``pairs.csv`` of ``probing run`` (the direct judgements), for
        agreement and McNemar's test.
    prompts : pandas.DataFrame, optional
        The ``judge_prompts`` table already scored (e.g. in chunks under a time budget);
        the plan's table is then cut to the sentences it holds.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables of the module docstring.
    """
    from probing.models.judge_prompts import judge_texts

    opts = plan.options
    if prompts is None:
        prompts = judge_texts(lm, plan.table[["stimulus_id", "text"]], plan.scale,
                              styles=opts.styles(), orders=opts.orders(),
                              templates=opts.templates or None, batch_size=opts.batch_size,
                              progress=None)
    else:
        plan = dataclasses.replace(plan, table=plan.table[plan.table["stimulus_id"].isin(
            prompts["stimulus_id"])])
    ratings = build_judge_ratings(prompts)
    out = {"judge_prompts": prompts, "judge_ratings": ratings}
    boot = {"n_boot": opts.n_boot, "random_state": opts.seed}
    if plan.stimuli.kind == "ratings":
        human = plan.table[["stimulus_id", "rating"]]
        out["judge_summary"] = summarize_judge(ratings, human, measures=measures, **boot)
        out["judge_calibration"] = build_judge_calibration(ratings, human, n_bins=opts.n_bins)
        return out
    judged = judge_pairs(ratings, plan.table, direct=direct, ties=opts.ties)
    out["judgements"] = judged
    out["judgement_summary"] = compare_judgements(judged)
    return out


def write_judge(tables, out, *, plan, lm):
    """Write the tables (CSV) and ``judge_manifest.json`` (scale, prompts, chat template)."""
    import json

    from probing._core.io import write_table

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_table(table, out / f"{name}.csv")
    notes = judge_notes(plan, lm)
    (out / "judge_manifest.json").write_text(json.dumps(notes, indent=2) + "\n", encoding="utf-8")
    return out


def judge_notes(plan, lm):
    """The scale, the prompt texts, the styles and the chat template, for the manifest."""
    from probing.models.prompts import prompt_templates

    opts = plan.options
    notes = {"paradigm": plan.stimuli.paradigm, "model": lm.name, "scale": plan.scale.record(),
             "options": dataclasses.asdict(opts), "n_rated": int(len(plan.table)),
             "styles": {"plain": prompt_templates()["plain"],
                        "chat": prompt_templates()["chat"]},
             "score": "expected rating = sum_k p_k value_k, p renormalised over the labels' "
                      "log-probabilities after the prompt; label_mass = sum_k p(label_k)"}
    if "chat" in opts.styles():
        notes["chat_template"] = lm.tokenizer.chat_template
    return notes


def resolve_judge_scale(value):
    """A scale file, or the name of a shipped one (``acceptability_1to4``), as a path.

    Examples
    --------
    >>> resolve_judge_scale("acceptability_1to4").name
    'acceptability_1to4.yaml'
    """
    path = Path(value)
    shipped = DEFAULT_SCALE.parent / f"{value}.yaml"
    if not path.is_file() and path.suffix == "" and shipped.is_file():
        return shipped
    return path


def judge_run_plan(stimuli, scale, options, *, seed):
    """The :class:`JudgePlan` of ``probing run --judge``: every stimulus, the run's options.

    ``options`` is a :class:`probing.pipeline.paradigm_run.RunOptions`; its ``judge_*`` fields,
    ``scale_order``, ``n_bins``, ``batch_size``, ``n_boot`` and ``ties`` become the
    :class:`JudgeOptions`, and the paradigm's seed the bootstrap's.
    """
    judge = JudgeOptions(scale=str(resolve_judge_scale(options.judge)),
                         judge_style=options.judge_style, scale_order=options.scale_order,
                         templates=options.judge_templates, n_bins=options.n_bins,
                         batch_size=options.batch_size, n_boot=options.n_boot,
                         seed=seed or 0, ties=options.ties)
    return JudgePlan(stimuli=stimuli, table=stimuli.table, scale=scale, options=judge)


def judge_run_tables(plan, lm, tables):
    """:func:`run_judge` after a run's scoring, against its direct measures.

    Ratings: the ``acceptability`` table's measures (LP ... SLOR) enter Williams' test;
    minimal pairs: the ``pairs`` table gives agreement and McNemar's test.
    """
    from probing.alignment.acceptability import MEASURES

    check_judge_prompts(lm.tokenizer, plan.scale, plan.options, plan.table["text"].iat[0],
                        name=lm.name)
    measures = tables.get("acceptability")
    if measures is not None:
        measures = measures[["stimulus_id", *MEASURES]]
    return run_judge(plan, lm, measures=measures, direct=tables.get("pairs"))
