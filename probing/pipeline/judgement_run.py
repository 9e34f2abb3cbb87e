"""Prompted judgements of a minimal-pair run (``probing run --judgement both``).

Three tables beside ``pairs.csv``: ``prompts.csv`` (one row per prompt and answer option:
the option's log-probability), ``judgements.csv`` (one row per pair and method: direct,
yes/no, forced choice in each order and both orders summed) and ``judgement_summary.csv``
(accuracy of each method, agreement with the direct measure, McNemar's test, order bias;
per phenomenon and overall). The manifest records the prompt templates.
"""

from __future__ import annotations

from probing._core.errors import ProbingError
from probing._core.values import JUDGEMENTS, PROMPT_STYLES, PROMPT_TASKS
from probing._core.vocabulary import table_columns
from probing.alignment.judgements import build_judgements, compare_judgements

PROMPT_CHOICES = {"prompt_style": PROMPT_STYLES, "prompt_task": PROMPT_TASKS}


def check_judgement_options(options, kind=None):
    """One-line errors for the judgement options (and a paradigm kind that has no pairs)."""
    if options.judgement not in JUDGEMENTS:
        raise ProbingError(f"judgement {options.judgement!r}: allowed {', '.join(JUDGEMENTS)}")
    for name, allowed in PROMPT_CHOICES.items():
        if getattr(options, name) not in allowed:
            raise ProbingError(f"{name.replace('_', '-')} {getattr(options, name)!r}: allowed "
                               f"{', '.join(allowed)}")
    if kind is not None and options.judgement != "direct" and kind != "minimal_pairs":
        raise ProbingError(f"--judgement {options.judgement}: prompted judgements need a "
                           f"minimal_pairs paradigm; this one is {kind}")


def _expand(value, name):
    return PROMPT_CHOICES[name][:2] if value == "both" else (value,)


def check_prompt_model(lm, options):
    """Refuse a chat style on a tokenizer without a chat template (before any scoring)."""
    from probing.models.prompts import has_chat_template

    if lm.kind != "causal":
        raise ProbingError(f"--judgement both: prompted judgements need a causal model; "
                           f"{lm.name} is {lm.kind}")
    if "chat" in _expand(options.prompt_style, "prompt_style") and not has_chat_template(
            lm.tokenizer):
        raise ProbingError(f"--prompt-style {options.prompt_style}: the tokenizer of {lm.name} "
                           "has no chat template; use --prompt-style plain")


def judgement_tables(lm, pairs, *, options):
    """``prompts``, ``judgements`` and ``judgement_summary`` of one run."""
    from probing.models.prompts import prompt_pairs

    prompts = prompt_pairs(lm, pairs[~pairs["identical"].astype(bool)],
                           tasks=_expand(options.prompt_task, "prompt_task"),
                           styles=_expand(options.prompt_style, "prompt_style"),
                           batch_size=options.batch_size, progress=None)
    judgements = build_judgements(prompts, pairs, ties=options.ties)
    summary = compare_judgements(judgements, correction=options.correction)
    return {"prompts": prompts[table_columns("prompts")],
            "judgements": judgements[table_columns("judgements")],
            "judgement_summary": summary[table_columns("judgement_summary")]}


def judgement_notes(lm, options):
    """The prompt templates and the chat template as the manifest records them."""
    from probing.models.prompts import prompt_templates

    notes = {"judgement": options.judgement, "prompt_style": options.prompt_style,
             "prompt_task": options.prompt_task, "templates": prompt_templates()}
    if "chat" in _expand(options.prompt_style, "prompt_style"):
        notes["chat_template"] = lm.tokenizer.chat_template
    return notes
