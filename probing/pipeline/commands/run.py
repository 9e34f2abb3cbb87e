"""``probing run``: one paradigm scored by one model, declared once.

Minimal pairs, factorial designs, dialogues, ratings and reading times: the token scores
of every stimulus, then the behavioural tables of its kind
(:func:`probing.pipeline.measures.behaviour_tables`), the alignment with human data
(:mod:`probing.pipeline.alignment_run`) and, with ``judgement="both"``, prompted judgements
(:mod:`probing.pipeline.judgement_run`). Engine modules are imported inside ``prepare`` and
``run`` so that ``probing --help`` imports no pandas or torch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from probing._core.defaults import MIXED_TESTS, N_BOOT, SLOR_LENGTH, SPILLOVER, UNIGRAM
from probing._core.defaults import TIES as DEFAULT_TIES
from probing._core.errors import ProbingError
from probing._core.layers import parse_layers
from probing._core.values import (
    BASELINES,
    EXCLUSIONS,
    JUDGEMENTS,
    MODEL_DTYPES,
    PROMPT_STYLES,
    PROMPT_TASKS,
    REDUCTIONS,
    RENDERINGS,
    SLOR_LENGTHS,
    TIE_RULES,
)
from probing.commands import (
    BatchOption,
    Command,
    CorrectionOption,
    ModelSettings,
    Options,
    Result,
    RunFolderSettings,
    SeedOption,
    fill_doc,
    identify,
    option,
)
from probing.pipeline.commands.judge_options import JudgeRunOptions, split_list

__all__ = ["COMMAND", "LENS_READOUT", "RunOptions", "prepare_run", "run_paradigm", "run_scores"]

ALIGNMENT_KINDS = ("ratings", "reading_times")
LENS_READOUT = ("logit lens: unembed(final_norm(resid_post L)), a read-out of layer L, not a "
                "prediction the model makes")


def _check_alignment(name):
    """The check of one ratings / reading-times override (``--name: message``)."""
    def check(value):
        from probing.paradigms.alignment_options import check_alignment_fields

        def fail(field, message):
            raise ProbingError(f"--{field.replace('_', '-')}: {message}")

        shown = list(value) if isinstance(value, tuple) else value  # as the CLI read it
        check_alignment_fields({name: shown}, kind=None, folder=Path.cwd(), fail=fail)
    return check


@dataclasses.dataclass(frozen=True)
class _AlignmentOverrides(Options):
    """Ratings and reading-times analysis options; None (not given): the paradigm file's
    ``alignment:`` field, else the package default (docs/alignment.md)."""

    slor_length: str | None = option(None, f"ratings: SLOR's length, wordfreq words or the "
                                     f"model's tokens of the sentence (default {SLOR_LENGTH})",
                                     choices=SLOR_LENGTHS, type=str)
    unigram: str | None = option(None, "unigram log-probabilities (SLOR, NormLP; reading-time "
                                 f"frequency): wordfreq or a UTF-8 text corpus (default "
                                 f"{UNIGRAM})", type=str, metavar="wordfreq|FILE",
                                 check=_check_alignment("unigram"))
    spillover: int | None = option(None, "reading times: previous words whose predictors "
                                   f"enter (default {SPILLOVER})", type=int, minimum=0)
    log_rt: bool = option(False, "reading times: model log reading times (default: raw times)")
    baseline: str | None = option(None, "reading times: linear (default), interaction (adds "
                                  "length x frequency) or spline (GAM-style cubic regression "
                                  "splines)", choices=BASELINES, type=str)
    exclude: tuple | None = option(None, "reading times: leave out words by rule (default "
                                   "none; counts in reading_exclusions.csv)", type=split_list,
                                   metavar="RULE[,RULE]", check=_check_alignment("exclude"),
                                   values=", ".join(EXCLUSIONS))
    rt_min: float | None = option(None, "reading times: exclude times below this (data units; "
                                  "default none)", type=float)
    rt_max: float | None = option(None, "reading times: exclude times above this (data units; "
                                  "default none)", type=float)


_OVERRIDES = ("slor_length", "unigram", "spillover", "log_rt", "baseline", "exclude", "rt_min",
              "rt_max")


@dataclasses.dataclass(frozen=True)
class RunOptions(JudgeRunOptions, _AlignmentOverrides, CorrectionOption, BatchOption, SeedOption):
    """Options of a run; all of them are recorded in the manifest.

    ``reduction`` is how a sentence's token log-probabilities are combined for pair
    comparisons (``sum``: the full-sentence log-probability, BLiMP's own rule; ``mean``:
    per-token average). ``ties`` says how a pair with equal scores counts (default ``half``).
    ``mixed_test`` is the factorial mixed model's test (default: the paradigm's
    ``mixed_test``, else ``auto``; :func:`probing.stats.fit_mixed_model`). ``layers``
    (``"all"``, ``"0,6,-1"``; ratings and reading-times paradigms only) adds alignment
    rows for each layer's logit-lens read-out (:mod:`probing.models.logit_lens`).
    ``judgement`` ``both`` adds prompted judgements of minimal pairs (Hu & Levy, 2023)
    in ``prompt_style`` (``plain``, ``chat`` or ``both``) for ``prompt_task``
    (``yes_no``, ``forced_choice`` or ``both``); see :mod:`probing.pipeline.judgement_run`.
    ``rendering`` is how a dialogue paradigm's messages become text: ``model`` (the
    model's chat template) or ``plain`` (``Sender: text`` lines, for base models).
    ``judge`` (a scale file) adds the model as judge after the scoring, asked in
    ``judge_style`` with the scale in ``scale_order`` and the templates ``judge_templates``
    (:mod:`probing.pipeline.judge_run`; ``n_bins`` for its calibration table).
    ``alignment`` holds the analysis options of ratings and reading-times paradigms given
    explicitly, ``((field, value), ...)`` (:mod:`probing.paradigms.alignment_options`),
    together with those given as their own fields (``slor_length`` ... ``rt_max``); they
    override the paradigm file's ``alignment:`` fields.
    """

    reduction: str = option("sum", "pair comparison on summed or per-token mean "
                            "log-probability", choices=REDUCTIONS)
    ties: str = option(DEFAULT_TIES, "what a tied pair scores (the exact test leaves ties out)",
                       choices=TIE_RULES)
    mixed_test: str | None = option(None, "factorial designs: the mixed model's test (default: "
                                    "the paradigm's mixed_test, else auto = by item where every "
                                    "item has every cell, else Satterthwaite; wald rejects too "
                                    "often with few items)", choices=MIXED_TESTS, type=str)
    truncate: bool = option(False, "truncate stimuli longer than the context window instead of "
                            "failing")
    stride: int | None = option(None, "score texts longer than the context in sliding windows "
                                "STRIDE tokens apart (causal models; recorded in the manifest)",
                                type=int)
    layers: str | None = option(None, "ratings and reading_times paradigms: also the alignment "
                                "of each layer's logit-lens read-out (docs/alignment.md)",
                                type=str, check=parse_layers, values="all, or integers like "
                                "0,6,-1")
    judgement: str = option("direct", "minimal pairs: 'direct' compares the members' "
                            "log-probabilities; 'both' also asks the model in prompts (Hu & "
                            "Levy 2023) and writes prompts.csv, judgements.csv and "
                            "judgement_summary.csv (accuracy, agreement with direct, McNemar)",
                            choices=JUDGEMENTS)
    prompt_style: str = option("both", "with --judgement both: 'plain' prompts ending in "
                               "'Answer:', 'chat' prompts in the tokenizer's chat template, or "
                               "both", choices=PROMPT_STYLES)
    prompt_task: str = option("both", "with --judgement both: 'yes_no' (is this sentence "
                              "acceptable?), 'forced_choice' (which of two is better? asked in "
                              "both orders) or both", choices=PROMPT_TASKS)
    rendering: str = option("model", "dialogue paradigms: 'model' renders the messages with the "
                            "model's chat template, 'plain' as 'Sender: text' lines (base "
                            "models)", choices=RENDERINGS)
    n_boot: int = option(N_BOOT, "bootstrap resamples of the intervals", minimum=0, cli=False)
    alignment: tuple = option((), "ratings / reading-times analysis options given explicitly, "
                              "((field, value), ...)", cli=False)

    def __post_init__(self):
        super().__post_init__()
        given = {name: getattr(self, name) for name in _OVERRIDES
                 if getattr(self, name) not in (None, False)}
        object.__setattr__(self, "alignment", tuple({**dict(self.alignment), **given}.items()))
        from probing.paradigms.alignment_options import resolve_alignment_options

        resolve_alignment_options({}, self.alignment)  # every field and value, together


@dataclasses.dataclass(frozen=True)
class RunModelSettings(ModelSettings):
    """How the model is loaded (``--dtype``: the deprecated name of ``--model-dtype``)."""

    model_dtype: str | None = option(None, "dtype the model computes in", choices=MODEL_DTYPES,
                                     type=str, default_text="float32", deprecated=("--dtype",))


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """A checked run: the paradigm (loaded once), the options and the judge's scale."""

    paradigm: object
    options: RunOptions
    judge: object = None


def prepare_run(paradigm, options):
    """Every check of a run that needs no model: the options against the paradigm's kind.

    A ratings or reading-times paradigm's human data were read (and checked) when the
    paradigm was generated.
    """
    from probing.pipeline.judgement_run import check_judgement_options

    if options.layers is not None and paradigm.kind not in ALIGNMENT_KINDS:
        raise ProbingError(f"--layers: logit-lens read-outs are for paradigms of kind "
                           f"{' or '.join(ALIGNMENT_KINDS)}; this paradigm is {paradigm.kind!r}")
    check_judgement_options(options, paradigm.kind)
    return RunPlan(paradigm, options, judge=_prepare_judge(paradigm, options))


def _prepare_judge(paradigm, options):
    """The judge's plan, checked from the files alone (None without ``--judge``)."""
    if options.judge is None:
        return None
    from probing.pipeline.judge_run import check_judge_scale, judge_run_plan

    if options.judgement != "direct" and paradigm.kind == "minimal_pairs":
        raise ProbingError("--judge: give it or --judgement both, not both (each writes "
                           "judgements.csv for minimal pairs)")
    plan = judge_run_plan(paradigm.stimuli, None, options, seed=paradigm.seed)
    scale = check_judge_scale(paradigm.kind, plan.options, where=paradigm.path)
    return dataclasses.replace(plan, scale=scale)


def check_template(plan, model_name):
    """A dialogue is rendered once with the model's tokenizer (no weights) before loading;
    the judge's labels are checked against it."""
    stimuli = plan.paradigm.stimuli
    if plan.judge is not None:
        from probing.models import load_tokenizer
        from probing.pipeline.judge_run import check_judge_prompts

        judge = plan.judge
        check_judge_prompts(load_tokenizer(model_name), judge.scale, judge.options,
                            judge.table["text"].iat[0], name=str(model_name))
    if stimuli.kind == "dialogue" and plan.options.rendering == "model":
        from probing.models import load_tokenizer
        from probing.models.chat import render_chat

        render_chat(stimuli, load_tokenizer(model_name), rendering=plan.options.rendering)


def run_scores(plan, lm):
    """Score the stimuli and build every table of the paradigm's kind (the only model step).

    Returns
    -------
    probing.commands.Result
        ``stimuli`` (a paradigm table), ``tokens``, ``scores`` and the tables of the kind
        (:func:`probing.pipeline.measures.behaviour_tables`, alignment, judgements), each
        ending with ``model, paradigm``; the manifest's notes.
    """
    from probing.behaviour import build_sentence_scores
    from probing.models import score_tokens
    from probing.models.chat import render_for_model
    from probing.models.logit_lens import resolve_lens_layers
    from probing.pipeline.judgement_run import check_prompt_model, judgement_tables
    from probing.pipeline.measures import behaviour_tables
    from probing.pipeline.sanity import SANITY_PAIRS, check_sanity, sanity_table

    options, paradigm = plan.options, plan.paradigm
    stimuli = render_for_model(paradigm.stimuli, lm, rendering=options.rendering)
    layers = None if options.layers is None else resolve_lens_layers(lm, options.layers)
    if options.judgement != "direct":
        check_prompt_model(lm, options)
    # a diagnostic only: truncation keeps a short-context model from failing here
    n_sane = check_sanity(build_sentence_scores(score_tokens(lm, sanity_table(), truncate=True)),
                          model_name=lm.name)
    texts = stimuli.table[["stimulus_id", "text"]]
    scoring = {"batch_size": options.batch_size, "truncate": options.truncate,
               "stride": options.stride, "progress": None}  # a bar with ETA in a terminal
    tokens = score_tokens(lm, texts, **scoring)
    tables = {"tokens": tokens, **behaviour_tables(stimuli, tokens, options=options,
                                                   random_state=paradigm.seed)}
    if stimuli.kind in ALIGNMENT_KINDS:
        from probing.pipeline.alignment_run import alignment_tables

        lens = None if layers is None else score_tokens(lm, texts, layers=layers, **scoring)
        tables.update(alignment_tables(stimuli, tokens, options=options, model=lm.name,
                                       lens_tokens=lens))
    if options.judgement != "direct":
        tables.update(judgement_tables(lm, tables["pairs"], options=options))
    if plan.judge is not None:
        from probing.pipeline.judge_run import judge_run_tables

        tables.update(judge_run_tables(plan.judge, lm, tables))
    notes = _notes(stimuli, tables, tokens, options, lm, layers)
    if plan.judge is not None:
        from probing.pipeline.judge_run import judge_notes

        notes["notes"]["judge"] = judge_notes(plan.judge, lm)
    notes["sanity_pairs_correct"] = f"{n_sane}/{len(SANITY_PAIRS)}"
    return Result(tables=identify(tables, model=lm.name, paradigm=stimuli.paradigm),
                  paradigm_tables=identify({"stimuli": stimuli.table}, model=lm.name,
                                           paradigm=stimuli.paradigm), notes=notes)


def _notes(stimuli, tables, tokens, options, lm, layers):
    """The manifest's ``n_stimuli`` and ``notes`` (what the run saw)."""
    from probing.pipeline.alignment_run import alignment_notes
    from probing.pipeline.judgement_run import judgement_notes

    notes = {}
    if "identical" in stimuli.table:
        notes["identical_pairs_excluded"] = int(
            stimuli.table.drop_duplicates("pair_id")["identical"].sum())
    if "model" in tables and "note" in tables["model"]:  # models the data cannot fit
        notes["models_not_fitted"] = [
            {"region": r, "reason": n}
            for r, n in zip(tables["model"]["region"], tables["model"]["note"], strict=True) if n]
    if stimuli.kind in ALIGNMENT_KINDS:
        notes["alignment"] = alignment_notes(stimuli, options)
        if layers is not None:
            notes["alignment"].update(layers=layers, readout=LENS_READOUT)
    if options.judgement != "direct":
        notes["judgements"] = judgement_notes(lm, options)
    if "rendering" in stimuli.info:  # dialogues: the template and how it was applied
        notes["rendering"] = stimuli.info["rendering"]
    scoring = tokens.attrs.get("scoring", {})
    notes["truncated_stimuli"] = list(scoring.get("truncated", []))
    notes["windowed_stimuli"] = list(scoring.get("windowed", []))
    return {"n_stimuli": len(stimuli.table), "notes": notes}


@fill_doc
def run_paradigm(paradigm_path, lm, out, *, options=None, force=False, argv=None):
    """Generate a paradigm's stimuli, score them with ``lm`` and write the run folder.

    Parameters
    ----------
    paradigm_path : str, path-like or probing.commands.Paradigm
        Paradigm file (or a shipped paradigm's name, ``"agreement_simple"``), or a
        stimuli table (``.csv``, ``.tsv``, ``.parquet`` with ``stimulus_id, text``; see
        :func:`probing.stimuli.read_plain_table`).
    %(lm)s
    out : str or path-like
        Run folder to create.
    options : RunOptions
    force : bool
        Replace an existing run folder.

    Returns
    -------
    dict of str -> pandas.DataFrame
        Every table written, keyed by file stem (``stimuli``, ``tokens``, ``scores``, ...).

    Examples
    --------
    >>> RunOptions(ties="correct", spillover=1).alignment
    (('spillover', 1),)
    """
    from probing.pipeline.commands.execute import run_tables

    return run_tables(COMMAND, paradigm_path, lm, out, options=options, force=force, argv=argv)


def _summary_text(name, table):
    if name == "judgement_summary":  # the pooled rows; per phenomenon in the file
        keep = ["task", "prompt_style", "order", "metric", "estimate", "ci_low", "ci_high",
                "p_val", "n"]
        table = table.loc[table["phenomenon"] == "overall", keep]
    if name == "predictions":  # accuracy per prediction: one definition (behaviour)
        from probing.behaviour import summarize_predictions

        table = summarize_predictions(table, suite_column="suite")
    return table.to_string(index=False, float_format=lambda x: f"{x:.3f}")


def _report(result, out):
    """What ``probing run`` prints: the files and the summaries of the kind."""
    tables = result.all_tables
    lines = [f"wrote {out}/ ({', '.join(sorted(tables))})"]
    lines += [_summary_text(name, tables[name]) for name in
              ("summary", "predictions", "alignment", "judgement_summary",
                                   "judge_summary") if name in tables]
    return "\n".join(lines)


COMMAND = Command(
    name="run", help="score a paradigm with a model and write a run folder",
    description="Generate a paradigm's stimuli, score them with a language model and write "
    "DIR/manifest.json, stimuli.csv, tokens.csv, scores.csv, words.csv, and per kind "
    "pairs.csv + summary.csv or regions.csv + predictions.csv (ratings and reading times: "
    "alignment.csv; docs/alignment.md).",
    options=RunOptions, prepare=prepare_run, run=run_scores,
    settings=(RunModelSettings, RunFolderSettings), report=_report, folder="{paradigm}",
    before_model=check_template,
    example={"paradigm": "agreement_simple.yaml", "n_boot": 20})
