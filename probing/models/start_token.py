"""Which token opens a scored text, so that its first word is scored too.

A causal model scores token ``t`` given everything before it; the first token of a
text therefore needs something before it. We prepend the model's *document-start*
token: the token the model saw at the start of (or between) pretraining documents.

The ``"auto"`` rule, in order:

1. the tokenizer's ``bos_token``, unless it is a chat-template marker. A marker
   contains a turn fragment (``im_start``, ``start_of_turn``, ``start_header``,
   ``[INST]``, ...) or appears literally in the tokenizer's ``chat_template``
   (templates that start documents with ``{{ bos_token }}``, as Llama 3 and Gemma do,
   do not contain it literally, so their BOS stays). GPT-2 style models land here:
   their ``bos_token`` is ``<|endoftext|>`` (``bos == eos``).
2. ``<|endoftext|>`` when the vocabulary has it: the pretraining document separator of
   models whose BOS is a chat marker. SmolLM2-Instruct's GGUF declares ``<|im_start|>``
   as BOS while pretraining separated documents with ``<|endoftext|>`` (id 0); with the
   chat marker as start token minicons loses about 14 BLiMP points on that model.
3. the ``eos_token``, unless it is a chat marker (``<|im_end|>``) too.
4. otherwise :class:`~probing._core.errors.ProbingError`: pass ``start_token=`` a token
   string or id.

Masked LMs wrap texts the way they were trained: ``cls_token`` (else ``bos_token``)
before and ``sep_token`` (else ``eos_token``) after.
"""

from __future__ import annotations

import dataclasses

from probing._core.errors import ProbingError

__all__ = ["StartToken", "is_chat_marker", "resolve_end_token", "resolve_start_token"]

AUTO = "auto"
ENDOFTEXT = "<|endoftext|>"
_TURN_FRAGMENTS = (
    "im_start",
    "im_end",
    "start_of_turn",
    "end_of_turn",
    "start_header",
    "end_header",
    "eot_id",
    "[INST]",
    "<|user|>",
    "<|assistant|>",
    "<|system|>",
)


@dataclasses.dataclass(frozen=True)
class StartToken:
    """A resolved start token.

    Parameters
    ----------
    token_id : int
        Vocabulary id prepended to every text.
    token : str
        Its vocabulary string.
    policy : str
        Why it was chosen (``bos_token``, ``endoftext``, ``eos_token``, ``cls_token``,
        ``user``), recorded in provenance.
    """

    token_id: int
    token: str
    policy: str


def is_chat_marker(tokenizer, token):
    """Whether ``token`` marks chat turns rather than documents.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        Read only (its ``chat_template``).
    token : str
        A special-token string.

    Returns
    -------
    bool

    Examples
    --------
    >>> class Tok:
    ...     chat_template = "{% for m in messages %}<|im_start|>{{ m.content }}{% endfor %}"
    >>> is_chat_marker(Tok(), "<|im_start|>"), is_chat_marker(Tok(), "<|endoftext|>")
    (True, False)
    """
    if any(fragment in token for fragment in _TURN_FRAGMENTS):
        return True
    template = getattr(tokenizer, "chat_template", None) or ""
    if isinstance(template, dict):
        template = " ".join(template.values())
    return token in template


def _vocab_id(tokenizer, token):
    """The id of ``token`` if the vocabulary has it exactly, else None."""
    vocab = tokenizer.get_vocab()
    return vocab.get(token)


def _from_user(tokenizer, start_token):
    vocab_size = len(tokenizer)
    if isinstance(start_token, bool) or not isinstance(start_token, int | str):
        raise ProbingError(
            f"start_token must be 'auto', a token string or an id; got {start_token!r}"
        )
    if isinstance(start_token, int):
        if not 0 <= start_token < vocab_size:
            raise ProbingError(
                f"start_token id {start_token} is outside the vocabulary (0..{vocab_size - 1})"
            )
        return StartToken(start_token, tokenizer.convert_ids_to_tokens(start_token), "user")
    token_id = _vocab_id(tokenizer, start_token)
    if token_id is None:
        raise ProbingError(f"start_token {start_token!r} is not in the tokenizer's vocabulary")
    return StartToken(token_id, start_token, "user")


def _candidates(tokenizer):
    """(token, policy) pairs in the order of the ``auto`` rule."""
    bos, eos = tokenizer.bos_token, tokenizer.eos_token
    if bos and not is_chat_marker(tokenizer, bos):
        yield bos, "bos_token"
    yield ENDOFTEXT, "endoftext"
    if eos and not is_chat_marker(tokenizer, eos):
        yield eos, "eos_token"


def resolve_start_token(tokenizer, start_token=AUTO, *, kind="causal"):
    """Choose the token prepended to every text (rule in the module docstring).

    Parameters
    ----------
    tokenizer : transformers tokenizer
        Read only; never modified.
    start_token : {"auto"} or str or int, default "auto"
        ``"auto"`` applies the rule; a string or id overrides it.
    kind : {"causal", "masked"}, default "causal"
        Masked models start with ``cls_token`` (else ``bos_token``).

    Returns
    -------
    StartToken

    Raises
    ------
    ProbingError
        If no start token can be chosen, or an override is not in the vocabulary.
    """
    if not (isinstance(start_token, str) and start_token == AUTO):
        return _from_user(tokenizer, start_token)
    if kind == "masked":
        candidates = [(tokenizer.cls_token, "cls_token"), (tokenizer.bos_token, "bos_token")]
    else:
        candidates = _candidates(tokenizer)
    for token, policy in candidates:
        token_id = _vocab_id(tokenizer, token) if token else None
        if token_id is not None:
            return StartToken(token_id, token, policy)
    raise ProbingError(
        f"{type(tokenizer).__name__} has no document-start token (bos/cls, <|endoftext|> or eos); "
        "pass start_token='<token>' or an integer id"
    )


def resolve_end_token(tokenizer):
    """The token appended after a text for masked LMs (``sep_token``, else ``eos_token``).

    Parameters
    ----------
    tokenizer : transformers tokenizer
        Read only.

    Returns
    -------
    StartToken
        The end token, with policy ``sep_token`` or ``eos_token``.
    """
    for token, policy in ((tokenizer.sep_token, "sep_token"), (tokenizer.eos_token, "eos_token")):
        token_id = _vocab_id(tokenizer, token) if token else None
        if token_id is not None:
            return StartToken(token_id, token, policy)
    raise ProbingError(
        f"{type(tokenizer).__name__} has no sep_token or eos_token to close a masked-LM input"
    )
