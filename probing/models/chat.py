"""Render dialogue stimuli with a model's chat template; regions move with their messages.

A dialogue paradigm generates each stimulus as messages (``Stimuli.messages``) with a
plain rendering as its text. :func:`render_chat` renders the same messages with the
tokenizer's own chat template (transformers' ``apply_chat_template``) and moves every
region, word and message span into the rendered string: a span inside a message keeps
its offset from the message's start, so ``text[char_start:char_end]`` is the same
characters before and after. Nothing is re-tokenized here; the rendered text is
tokenized like any other, with the template's special tokens read as the single tokens
they are and no start token of ours in front (:func:`chat_token_ids`), so the ids equal
``apply_chat_template(..., tokenize=True)``.

Only the tokenizer is needed, so a template that rejects a dialogue (Gemma's refuses a
``system`` message) is reported before any model weights load.
"""

from __future__ import annotations

import dataclasses
import hashlib

from probing._core.errors import ProbingError
from probing._core.values import RENDERINGS
from probing.paradigms.dialogue import speaker_label

__all__ = ["RENDERINGS", "chat_messages", "chat_token_ids", "render_chat", "render_for_model"]


def render_chat(stimuli, tokenizer, *, rendering="model", generation_prompt=None):
    """The dialogues of ``stimuli`` as the model's chat template writes them.

    Parameters
    ----------
    stimuli : Stimuli
        A ``dialogue`` paradigm's stimuli (with a ``messages`` table).
    tokenizer : transformers tokenizer
        Its ``chat_template`` renders the messages. Read only.
    rendering : {"model", "plain"}
        ``model``: the tokenizer's chat template; ``plain``: the ``Sender: text`` lines
        the paradigm generated (for base models without a template).
    generation_prompt : bool, optional
        End with the assistant's opening header (``add_generation_prompt``); default:
        the paradigm's ``generation_prompt``.

    Returns
    -------
    Stimuli
        Same stimuli, texts rendered, regions, words and messages moved with them;
        ``info["rendering"]`` records how (kept in run manifests).

    Raises
    ------
    ProbingError
        Not a dialogue, no chat template, a template that rejects the dialogue or
        does not copy a message's text verbatim.

    Examples
    --------
    >>> from transformers import AutoTokenizer  # doctest: +SKIP
    >>> chat = render_chat(stimuli, AutoTokenizer.from_pretrained(path))  # doctest: +SKIP
    >>> chat.info["rendering"]["template"]  # doctest: +SKIP
    'model'
    """
    if stimuli.messages is None:
        raise ProbingError(f"{stimuli.paradigm}: render_chat needs a dialogue paradigm's "
                           f"messages; kind {stimuli.kind!r} has none")
    if rendering not in RENDERINGS:
        raise ProbingError(f"rendering {rendering!r}: allowed {', '.join(RENDERINGS)}")
    if generation_prompt is None:
        generation_prompt = bool(stimuli.info.get("generation_prompt", False))
    if rendering == "plain":
        return _with_rendering(stimuli, {"template": "plain", "generation_prompt": False})
    template = getattr(tokenizer, "chat_template", None)
    if not template or not isinstance(template, str):
        raise ProbingError("rendering 'model': the tokenizer has no chat template; render "
                           "with rendering='plain' (a base model) or give a chat model")
    moves, texts = {}, {}
    for sid, text, messages in _dialogues(stimuli):
        texts[sid], moves[sid] = _render_one(tokenizer, sid, text, messages, generation_prompt)
    table = stimuli.table.assign(text=stimuli.table["stimulus_id"].map(texts))
    record = {"template": "model", "generation_prompt": generation_prompt,
              "chat_template": template,
              "chat_template_sha256": hashlib.sha256(template.encode()).hexdigest()}
    return _with_rendering(dataclasses.replace(
        stimuli, table=table, regions=_move_spans(stimuli.regions, moves),
        words=None if stimuli.words is None else _move_spans(stimuli.words, moves),
        messages=_move_spans(stimuli.messages, moves)), record)


def render_for_model(stimuli, lm, *, rendering="model"):
    """Dialogues rendered for scoring or extraction with ``lm`` (other kinds unchanged).

    The package scores a text after ``lm``'s start token. A template that opens with that
    same token (Llama 3 and Gemma write ``{{ bos_token }}`` first) would get it twice, so
    it is cut from the text and the start token supplies it: the model then sees exactly
    the template's ids. A template that does not (ChatML) is read after the start token,
    the document boundary the model was trained on; ``info["rendering"]`` says which.

    Parameters
    ----------
    stimuli : Stimuli
    lm : LanguageModel
    rendering : {"model", "plain"}

    Returns
    -------
    Stimuli

    Examples
    --------
    >>> chat = render_for_model(stimuli, load_model("smollm2-135m"))  # doctest: +SKIP
    """
    if stimuli.kind != "dialogue":
        return stimuli
    chat = render_chat(stimuli, lm.tokenizer, rendering=rendering)
    start = lm.start.token
    texts = chat.table["text"]
    if rendering == "plain" or not texts.str.startswith(start).all():
        return _with_rendering(chat, {**chat.info["rendering"], "start_token_prepended": True})
    cut = len(start)
    shift = {column: chat.regions[column] - cut for column in ("char_start", "char_end")}
    return dataclasses.replace(
        chat, table=chat.table.assign(text=texts.str[cut:]), regions=chat.regions.assign(**shift),
        words=None if chat.words is None else chat.words.assign(
            char_start=chat.words["char_start"] - cut, char_end=chat.words["char_end"] - cut),
        messages=chat.messages.assign(char_start=chat.messages["char_start"] - cut,
                                      char_end=chat.messages["char_end"] - cut),
        info={**chat.info, "rendering": {**chat.info["rendering"], "start_token_prepended": False,
                                         "template_start_token_cut": start}})


def chat_token_ids(tokenizer, text):
    """Token ids of a rendered chat: special tokens parsed, none added.

    Examples
    --------
    >>> chat_token_ids(tokenizer, "<|im_start|>user\\nHi<|im_end|>\\n")  # doctest: +SKIP
    [1, 4093, 198, 22503, 2, 198]
    """
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def chat_messages(text, messages):
    """The ``[{role, content}]`` list ``apply_chat_template`` takes for one dialogue."""
    out = []
    for row in messages.itertuples(index=False):
        content = text[row.char_start:row.char_end]
        agent = row.agent if isinstance(row.agent, str) else ""
        out.append({"role": row.chat_role,
                    "content": f"{speaker_label(row.chat_role, agent)}: {content}" if agent else content})
    return out


def _dialogues(stimuli):
    groups = dict(tuple(stimuli.messages.groupby("stimulus_id", sort=False)))
    for sid, text in zip(stimuli.table["stimulus_id"], stimuli.table["text"], strict=True):
        if sid not in groups:
            raise ProbingError(f"{stimuli.paradigm}: stimulus {sid!r} has no messages")
        yield sid, text, groups[sid].sort_values("message_index")


def _render_one(tokenizer, sid, text, messages, generation_prompt):
    """The rendered text and, per message, (plain start, plain end, rendered start)."""
    chat = chat_messages(text, messages)
    try:
        rendered = tokenizer.apply_chat_template(chat, tokenize=False,
                                                 add_generation_prompt=generation_prompt)
    except Exception as err:  # jinja2's TemplateError and raise_exception() in templates
        raise ProbingError(f"stimulus {sid!r}: the chat template rejects this dialogue "
                           f"({' '.join(str(err).split())[:160]}); allowed roles depend "
                           "on the template") from None
    cursor, moves = 0, []
    for row, message in zip(messages.itertuples(index=False), chat, strict=True):
        at = rendered.find(message["content"], cursor)
        if at < 0:
            raise ProbingError(f"stimulus {sid!r}: the chat template does not copy message "
                               f"{row.message_index} ({row.chat_role}) verbatim, so its regions "
                               "cannot be placed; strip spaces from the paradigm's texts")
        start = at + len(message["content"]) - (row.char_end - row.char_start)
        moves.append((row.char_start, row.char_end, start))
        cursor = at + len(message["content"])
    return rendered, moves


def _move_spans(frame, moves):
    """Shift every span by the move of the message holding each of its ends."""
    frame = frame.copy()
    for column in ("char_start", "char_end"):
        frame[column] = [_move(moves[sid], int(pos), sid)
                         for sid, pos in zip(frame["stimulus_id"], frame[column], strict=True)]
    return frame


def _move(moves, pos, sid):
    for start, end, new_start in moves:
        if start <= pos <= end:
            return new_start + pos - start
    raise ProbingError(f"stimulus {sid!r}: a span ends at character {pos}, outside every "
                       "message; dialogue regions must lie within messages")


def _with_rendering(stimuli, record):
    return dataclasses.replace(stimuli, info={**stimuli.info, "rendering": record})
