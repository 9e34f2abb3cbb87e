"""Metalinguistic prompts (Hu & Levy, 2023): ask the model, read its answer options.

A *direct* judgement compares the log-probabilities of the two members of a minimal
pair. A *prompted* judgement asks the model about them in words and reads the
log-probability of each answer option after the prompt. Two tasks, as in Hu & Levy:

``yes_no``
    One sentence: "Is the following sentence grammatically acceptable ...?" with the
    options Yes / No.
``forced_choice``
    Both sentences, numbered 1) and 2): "Which sentence is a better English sentence?"
    with the options 1 / 2. LMs prefer one position over the other, so every pair is
    asked in both orders (good first, bad first) and the order is recorded.

Two styles: ``plain`` (the question as raw text ending in ``Answer:``, read after the
model's start token, options with a leading space) and ``chat`` (the question as the user
turn of the tokenizer's chat template, ``apply_chat_template(...,
add_generation_prompt=True)``, options as the start of the assistant's reply; the
template supplies its own first tokens, so no start token is prepended). The templates
are module constants, returned by :func:`prompt_templates` for the manifest.

The log-probability of an option is the sum over its tokens. Options that differ only in
their last token (`` 1`` / `` 2`` are ``[' ', '1']`` / ``[' ', '2']`` for SmolLM2) are
read from one forward pass; others get a pass each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from probing._core.errors import ProbingError
from probing.models.batching import pad_sequences, plan_batches
from probing.models.causal_lm import accepts_position_ids, forward_logits, gather_logprobs

__all__ = ["PROMPT_COLUMNS", "PROMPT_STYLES", "PROMPT_TASKS", "build_prompt", "frame_question",
           "has_chat_template", "prompt_pairs", "prompt_templates", "score_options"]

PROMPT_TASKS = ("yes_no", "forced_choice")
PROMPT_STYLES = ("plain", "chat")
PROMPT_COLUMNS = ("phenomenon", "pair_id", "task", "prompt_style", "order", "role", "option",
                  "logprob_option")
_QUESTIONS = {
    "yes_no": ("Is the following sentence grammatically acceptable in English?\n"
               "Sentence: {sentence}\n"
               "Respond with either Yes or No as your answer."),
    "forced_choice": ("Here are two English sentences: 1) {first} 2) {second} "
                      "Which sentence is a better English sentence? "
                      "Respond with either 1 or 2 as your answer."),
}
_LABELS = {"yes_no": ("Yes", "No"), "forced_choice": ("1", "2")}
_PLAIN_SUFFIX = "\nAnswer:"


def prompt_templates():
    """The questions, answer labels and how each style frames them (for the manifest).

    Examples
    --------
    >>> sorted(prompt_templates()["tasks"])
    ['forced_choice', 'yes_no']
    """
    return {"tasks": {task: {"question": _QUESTIONS[task], "options": list(_LABELS[task])}
                      for task in PROMPT_TASKS},
            "plain": f"start token + question + {_PLAIN_SUFFIX!r}; options with a leading space",
            "chat": "the question as the user turn of the tokenizer's chat template "
                    "(add_generation_prompt=True); options as the reply's first tokens"}


def has_chat_template(tokenizer):
    """Whether the tokenizer carries a chat template."""
    return bool(getattr(tokenizer, "chat_template", None))


def build_prompt(tokenizer, task, style, **sentences):
    """The prompt text and its answer options.

    Parameters
    ----------
    tokenizer : transformers tokenizer
    task : {"yes_no", "forced_choice"}
    style : {"plain", "chat"}
    **sentences
        ``sentence=`` for ``yes_no``; ``first=``, ``second=`` for ``forced_choice``.

    Returns
    -------
    prompt : str
    options : tuple of str
        The answer options as they continue the prompt (``" Yes", " No"`` plain,
        ``"Yes", "No"`` chat).
    """
    if task not in PROMPT_TASKS:
        raise ProbingError(f"prompt task {task!r}: allowed {', '.join(PROMPT_TASKS)}")
    return frame_question(tokenizer, _QUESTIONS[task].format(**sentences), _LABELS[task], style)


def frame_question(tokenizer, question, labels, style):
    """A question and its answer labels framed in ``style`` (see the module docstring).

    Parameters
    ----------
    tokenizer : transformers tokenizer
    question : str
    labels : sequence of str
        The answers as words (``Yes``, ``1``).
    style : {"plain", "chat"}

    Returns
    -------
    prompt : str
    options : tuple of str
        The labels as they continue the prompt (a leading space in ``plain``).

    Examples
    --------
    >>> frame_question(None, "Rate it.", ("1", "2"), "plain")
    ('Rate it.\\nAnswer:', (' 1', ' 2'))
    """
    if style not in PROMPT_STYLES:
        raise ProbingError(f"prompt style {style!r}: allowed {', '.join(PROMPT_STYLES)}")
    if style == "plain":
        return question + _PLAIN_SUFFIX, tuple(" " + label for label in labels)
    if not has_chat_template(tokenizer):
        raise ProbingError("prompt style 'chat': the model's tokenizer has no chat template; "
                           "use the plain style")
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                           tokenize=False, add_generation_prompt=True)
    return prompt, tuple(labels)


def _ids(tokenizer, text):
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _requests(context, options):
    """Forward inputs and the (input position, token, option) reads for one prompt."""
    common = 0
    shortest = min(len(o) for o in options)
    while common < shortest - 1 and len({tuple(o[: common + 1]) for o in options}) == 1:
        common += 1
    if all(len(o) == common + 1 for o in options):  # one pass: options differ in their last token
        shared = options[0][:common]
        reads = [(len(context) - 1 + j, tok, k) for k in range(len(options))
                 for j, tok in enumerate(shared)]
        reads += [(len(context) - 1 + common, o[-1], k) for k, o in enumerate(options)]
        return [(context + shared, reads)]
    return [(context + o[:-1], [(len(context) - 1 + j, tok, k) for j, tok in enumerate(o)])
            for k, o in enumerate(options)]


def score_options(lm, prompts, options, *, start=True, batch_size=32, progress=False):
    """Log-probability of each answer option after each prompt.

    Parameters
    ----------
    lm : LanguageModel
        A causal model.
    prompts : list of str
        ``n_prompts`` prompt texts (chat prompts already rendered by the template).
    options : list of tuple of str
        Per prompt, its options as they continue the prompt text.
    start : bool or list of bool, default True
        Prepend the model's start token (plain prompts); False for chat prompts, whose
        template brings its own first tokens.
    batch_size : int, default 32
    progress : bool or None, default False
        Show a progress bar over batches (None: only on a terminal).

    Returns
    -------
    list of numpy.ndarray
        Per prompt, shape ``(n_options,)``: ``sum_j log p(o_j | prompt, o_<j)`` in nats.
    """
    if lm.kind != "causal":
        raise ProbingError(f"prompted judgements need a causal model; {lm.name} is {lm.kind}")
    if len(prompts) != len(options):
        raise ProbingError(f"{len(prompts)} prompts but {len(options)} option lists")
    starts = [start] * len(prompts) if isinstance(start, bool) else list(start)
    requests, owners = [], []
    for i, (prompt, opts) in enumerate(zip(prompts, options, strict=True)):
        context = ([lm.start_token_id] if starts[i] else []) + _ids(lm.tokenizer, prompt)
        encoded = [_ids(lm.tokenizer, o) for o in opts]
        if not context or any(not o for o in encoded):
            raise ProbingError(f"prompt {i}: the prompt and every option need at least one token")
        for request in _requests(context, encoded):
            requests.append(request)
            owners.append(i)
    out = [np.zeros(len(o)) for o in options]
    _run_requests(lm, requests, owners, out, batch_size, progress)
    return out


def _run_requests(lm, requests, owners, out, batch_size, progress):
    use_positions = accepts_position_ids(lm.model)
    batches = plan_batches([len(r[0]) for r in requests], batch_size=batch_size)
    with torch.inference_mode():
        for indices in tqdm(batches, desc="prompts", unit="batch", disable=progress is False):
            batch = pad_sequences([requests[i][0] for i in indices], pad_id=lm.start_token_id,
                                  padding_side="right").to(lm.device)
            logits, _ = forward_logits(lm.model, batch, pass_position_ids=use_positions, use_cache=False)
            rows, cols, toks, where = [], [], [], []
            for row, i in enumerate(indices):
                for position, token, k in requests[i][1]:
                    rows.append(row)
                    cols.append(int(batch.columns[row][position]))
                    toks.append(token)
                    where.append((owners[i], k))
            values = gather_logprobs(logits, *(torch.as_tensor(v, device=lm.device)
                                               for v in (rows, cols, toks)))
            for (owner, k), value in zip(where, values, strict=True):
                out[owner][k] += value


def _pair_prompts(tokenizer, pairs, task, style):
    """Prompt rows of one task and style: (keys, prompt, options, roles of the options)."""
    rows = []
    for phenomenon, pair_id, good, bad in pairs[["phenomenon", "pair_id", "good", "bad"]].itertuples(
            index=False):
        key = {"phenomenon": phenomenon, "pair_id": pair_id, "task": task, "prompt_style": style}
        if task == "yes_no":
            for role, sentence in (("good", good), ("bad", bad)):
                prompt, opts = build_prompt(tokenizer, task, style, sentence=sentence)
                rows.append(({**key, "order": "none", "role": role}, prompt, opts, (role, role)))
        else:
            for order, first, second, roles in (("good_first", good, bad, ("good", "bad")),
                                                ("bad_first", bad, good, ("bad", "good"))):
                prompt, opts = build_prompt(tokenizer, task, style, first=first, second=second)
                rows.append(({**key, "order": order}, prompt, opts, roles))
    return rows


def prompt_pairs(lm, pairs, *, tasks=PROMPT_TASKS, styles=PROMPT_STYLES, batch_size=32,
                 progress=False):
    """Ask the model about every minimal pair; one row per prompt and answer option.

    Parameters
    ----------
    lm : LanguageModel
        A causal model (with a chat template for ``styles`` holding ``chat``).
    pairs : pandas.DataFrame
        ``phenomenon, pair_id, good, bad`` (the texts), e.g. ``pairs.csv`` of a run.
    tasks : sequence of {"yes_no", "forced_choice"}
    styles : sequence of {"plain", "chat"}
    batch_size : int, default 32
    progress : bool or None, default False
        Progress bar (None: only on a terminal).

    Returns
    -------
    pandas.DataFrame
        ``phenomenon, pair_id, task, prompt_style, order, role, option, logprob_option``.
        ``yes_no``: two prompts per pair (``role`` = the member asked about, ``order`` =
        ``none``), options ``Yes``/``No``. ``forced_choice``: two prompts per pair
        (``order`` = ``good_first``/``bad_first``), options ``1``/``2`` and ``role`` =
        the member each option names. ``option`` is the label without its leading space.
    """
    missing = [c for c in ("phenomenon", "pair_id", "good", "bad") if c not in pairs]
    if missing:
        raise ProbingError(f"pairs: missing column(s) {missing} for prompted judgements")
    rows = [r for task in tasks for style in styles
            for r in _pair_prompts(lm.tokenizer, pairs, task, style)]
    scores = score_options(lm, [r[1] for r in rows], [r[2] for r in rows],
                           start=[r[0]["prompt_style"] == "plain" for r in rows],
                           batch_size=batch_size, progress=progress)
    records = []
    for (key, _, opts, roles), values in zip(rows, scores, strict=True):
        for k, (option, value) in enumerate(zip(opts, values, strict=True)):
            role = key.get("role", roles[k])
            records.append({**key, "role": role, "option": option.strip(), "logprob_option": value})
    return pd.DataFrame(records, columns=list(PROMPT_COLUMNS))
