"""A model as judge: rate each sentence on a Likert scale through a prompt.

Each sentence is asked about with every template (paraphrase) of a
:class:`~probing.paradigms.judge_scale.JudgeScale`, the scale written ascending and
descending, in the ``plain`` or ``chat`` style of :mod:`probing.models.prompts`. The
model's answer is not sampled: the log-probability of every label after the prompt is
read (:func:`~probing.models.prompts.score_options`), and
:func:`probing.alignment.judge_analysis.build_judge_ratings` turns them into the expected rating.

A label must be one token where it continues the prompt: the labels may share leading
tokens (SmolLM2 writes `` 1`` as ``' '`` + ``'1'``), but past what they share each is a
single token, so the distribution over the labels is one next-token distribution.
:func:`check_judge_tokens` checks that with the tokenizer alone, before weights load.
"""

from __future__ import annotations

import pandas as pd

from probing._core.errors import SpecError
from probing._core.vocabulary import TABLES
from probing.models.prompts import frame_question, score_options
from probing.paradigms.judge_scale import SCALE_ORDERS, render_judge_question

__all__ = ["JUDGE_PROMPT_COLUMNS", "build_judge_prompt", "check_judge_tokens", "judge_texts"]

JUDGE_PROMPT_COLUMNS = TABLES["judge_prompts"]


def build_judge_prompt(tokenizer, scale, template, sentence, *, order="ascending",
                       style="chat"):
    """The prompt asking about ``sentence`` and the labels as they continue it.

    Returns
    -------
    prompt : str
    options : tuple of str
        One per label, in the scale's order (lowest value first) whatever ``order``.

    Examples
    --------
    >>> prompt, options = build_judge_prompt(None, scale, "natural", "Dogs bark.",
    ...                                      style="plain")  # doctest: +SKIP
    >>> options  # doctest: +SKIP
    (' 1', ' 2', ' 3', ' 4')
    """
    question = render_judge_question(scale, template, sentence, order)
    return frame_question(tokenizer, question, scale.labels, style)


def _ids(tokenizer, text):
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def check_judge_tokens(tokenizer, scale, *, style="chat", name="the model"):
    """Refuse labels that are not one token each where they continue the prompt.

    Parameters
    ----------
    tokenizer : transformers tokenizer
    scale : JudgeScale
    style : {"plain", "chat"}
        ``plain`` labels are read with their leading space.
    name : str
        The model's name, for the message.

    Raises
    ------
    SpecError
        ``<scale file>: scale.<i>.label: label '10' is 2 tokens ...``; also a ``chat``
        style on a tokenizer without a chat template.

    Examples
    --------
    >>> check_judge_tokens(load_tokenizer("smollm2-135m"), scale)  # doctest: +SKIP
    """
    _, options = build_judge_prompt(tokenizer, scale, next(iter(scale.templates)), "x",
                                    style=style)
    encoded = [_ids(tokenizer, option) for option in options]
    shared = 0
    while (all(len(e) > shared + 1 for e in encoded)
           and len({e[shared] for e in encoded}) == 1):
        shared += 1
    for i, (label, ids) in enumerate(zip(scale.labels, encoded, strict=True)):
        rest = ids[shared:]
        if len(rest) != 1:
            pieces = tokenizer.convert_ids_to_tokens(rest)
            raise SpecError(f"label {label!r} is {len(rest)} tokens of the tokenizer of {name} "
                            f"({pieces}) in the {style} style; each label must be one token",
                            file=scale.file, field=f"scale.{i}.label")
    last = [ids[-1] for ids in encoded]
    if len(set(last)) != len(last) or any(ids[:shared] != encoded[0][:shared] for ids in encoded):
        raise SpecError(f"labels {list(scale.labels)} are not distinct tokens of the tokenizer "
                        f"of {name} after a shared prefix", file=scale.file, field="scale")


def _prompt_rows(tokenizer, texts, scale, styles, orders, templates):
    for style in styles:
        for template in templates:
            for order in orders:
                for sid, text in texts:
                    prompt, options = build_judge_prompt(tokenizer, scale, template, text,
                                                         order=order, style=style)
                    yield {"stimulus_id": sid, "prompt_style": style, "template": template,
                           "scale_order": order}, prompt, options


def judge_texts(lm, texts, scale, *, styles=("chat",), orders=SCALE_ORDERS, templates=None,
                batch_size=32, progress=False):
    """The log-probability of every label of ``scale`` after every judge prompt.

    Parameters
    ----------
    lm : LanguageModel
        A causal model (a chat template for ``styles`` holding ``chat``).
    texts : pandas.DataFrame
        ``stimulus_id, text``: the sentences to rate.
    scale : JudgeScale
    styles : sequence of {"plain", "chat"}, default ("chat",)
    orders : sequence of {"ascending", "descending"}, default both
        How the scale is listed in the prompt (position bias).
    templates : sequence of str, optional
        Names of the scale's templates (default: all).
    batch_size : int, default 32
    progress : bool or None, default False

    Returns
    -------
    pandas.DataFrame
        ``stimulus_id, prompt_style, template, scale_order, option, scale_value,
        logprob_option``: one row per prompt and label; ``option`` is the label,
        ``scale_value`` the rating it stands for, ``logprob_option`` its log-probability
        after the prompt (nats; the labels' shared leading tokens included).

    Examples
    --------
    >>> table = judge_texts(lm, pd.DataFrame({"stimulus_id": ["a"], "text": ["Dogs bark."]}),
    ...                     scale)  # doctest: +SKIP
    """
    templates = list(scale.templates) if templates is None else list(templates)
    unknown = [t for t in templates if t not in scale.templates]
    if unknown:
        raise SpecError(f"template(s) {unknown} not in the scale; it has {list(scale.templates)}",
                        file=scale.file, field="templates")
    for style in styles:
        check_judge_tokens(lm.tokenizer, scale, style=style, name=lm.name)
    pairs = list(zip(texts["stimulus_id"], texts["text"], strict=True))
    rows = list(_prompt_rows(lm.tokenizer, pairs, scale, styles, orders, templates))
    scores = score_options(lm, [r[1] for r in rows], [r[2] for r in rows],
                           start=[r[0]["prompt_style"] == "plain" for r in rows],
                           batch_size=batch_size, progress=progress)
    records = [{**key, "option": label, "scale_value": value, "logprob_option": float(lp)}
               for (key, _, _), values in zip(rows, scores, strict=True)
               for label, value, lp in zip(scale.labels, scale.values, values, strict=True)]
    return pd.DataFrame(records, columns=list(JUDGE_PROMPT_COLUMNS))
