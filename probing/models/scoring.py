"""Score every token of every stimulus: the tidy tokens table.

Texts are tokenized once (:mod:`probing.models.token_alignment`), framed with the model's
start token (:mod:`probing.models.start_token`), scored in length-bucketed batches by a
causal LM (:mod:`probing.models.causal_lm`, or :mod:`probing.models.prefix` with shared
prefixes) or a masked LM (:mod:`probing.models.masked`), and written out one row per
token in the order of the input table.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings

import numpy as np
import pandas as pd

from probing._core.errors import ProbingError
from probing._core.vocabulary import table_columns
from probing.models.boundary import end_token_ids
from probing.models.causal_lm import accepts_position_ids, score_causal
from probing.models.intervention_hooks import per_text, prepare_interventions
from probing.models.logit_lens import resolve_lens_layers
from probing.models.masked import PLL_VARIANTS, score_masked
from probing.models.prefix import score_causal_shared
from probing.models.token_alignment import Encoded, encode_texts
from probing.models.windows import split_windows, stitch_windows
from probing.stimuli import check_text_table

__all__ = ["TOKEN_COLUMNS", "context_length", "score_tokens"]

#: Columns of the tokens table (one list, in the column vocabulary).
TOKEN_COLUMNS = tuple(table_columns("tokens"))
GROUP_COLUMNS = ("pair_id", "item_id")
_CONTEXT_ATTRS = ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length")


def context_length(lm):
    """Most input tokens the model takes, or None if unbounded.

    The smaller of the config's position limit and the tokenizer's ``model_max_length``
    (RoBERTa's config says 514 because its positions start at 2; its tokenizer says 512).
    """
    limits = [getattr(lm.model.config, attr, None) for attr in _CONTEXT_ATTRS]
    limits = [next((v for v in limits if isinstance(v, int) and v > 0), None)]
    limits.append(getattr(lm.tokenizer, "model_max_length", None))
    limits = [v for v in limits if isinstance(v, int) and 0 < v < 10**7]
    return min(limits) if limits else None


@dataclasses.dataclass(frozen=True)
class _Plan:
    """The options of one :func:`score_tokens` call, checked, and the scorer they pick."""

    mode: str  # "plain", "masked", "lens" or "intervened"
    budget: dict
    padding_side: str
    pll: str
    share_prefixes: bool
    stride: int | None
    layers: list | None
    progress: bool | None
    interventions: object = None
    regions: pd.DataFrame | None = None


#: Options that exclude each other, each pair with its one-line reason.
_EXCLUSIVE = (
    ("share_prefixes", "interventions", "share_prefixes cannot be combined with interventions "
     "(a shared prefix is run once, before any per-stimulus edit)"),
    ("share_prefixes", "stride", "stride (sliding windows) needs a causal model and "
     "share_prefixes=False"),
    ("share_prefixes", "layers", "layers (logit lens) cannot be combined with share_prefixes "
     "or interventions"),
    ("interventions", "layers", "layers (logit lens) cannot be combined with share_prefixes "
     "or interventions"),
    ("interventions", "stride", "stride cannot be combined with interventions: intervention "
     "positions index whole texts, not windows"),
)


def _positive(name, value, optional=False):
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ProbingError(f"{name} must be a positive integer{' or None' if optional else ''}; "
                           f"got {value!r}")


def _check_options(lm, options):
    """Every option checked once, before any text is read; the plan of the scoring run."""
    _positive("batch_size", options["batch_size"])
    _positive("max_tokens_per_batch", options["max_tokens_per_batch"], optional=True)
    _positive("stride", options["stride"], optional=True)
    if options["padding_side"] not in ("right", "left"):
        raise ProbingError(f"padding_side must be 'right' or 'left'; got {options['padding_side']!r}")
    if options["pll"] not in PLL_VARIANTS:
        raise ProbingError(f"pll must be one of {list(PLL_VARIANTS)}; got {options['pll']!r}")
    given = {name for name in ("stride", "layers", "interventions") if options[name] is not None}
    given |= {"share_prefixes"} if options["share_prefixes"] else set()
    for first, second, reason in _EXCLUSIVE:
        if {first, second} <= given:
            raise ProbingError(reason)
    if "share_prefixes" in given and (lm.kind != "causal" or not accepts_position_ids(lm.model)):
        raise ProbingError("share_prefixes needs a causal model that takes position_ids")
    if "stride" in given and lm.kind != "causal":
        raise ProbingError("stride (sliding windows) needs a causal model and share_prefixes=False")
    layers = None if options["layers"] is None else resolve_lens_layers(lm, options["layers"])
    mode = ("intervened" if "interventions" in given else "lens" if layers is not None
            else "masked" if lm.kind == "masked" else "plain")
    return _Plan(mode, {"batch_size": options["batch_size"],
                        "max_tokens_per_batch": options["max_tokens_per_batch"]},
                 options["padding_side"], options["pll"], bool(options["share_prefixes"]),
                 options["stride"], layers, options["progress"], options["interventions"],
                 options["regions"])


def _fit_context(lm, ids, encoded, truncate, stride=None):
    """Check every text fits the context window; cut it when ``truncate`` is set."""
    limit = None if stride is not None else context_length(lm)
    n_special = 2 if lm.kind == "masked" else 0  # causal inputs: start + all but the last token
    fitted, truncated = [], []
    for sid, e in zip(ids, encoded, strict=True):
        allowed = None if limit is None else limit - n_special
        if allowed is not None and len(e.token_ids) > allowed:
            if not truncate:
                raise ProbingError(
                    f"stimulus {sid!r} has {len(e.token_ids)} tokens, more than the model's "
                    f"context window allows ({allowed}); shorten it or pass truncate=True"
                )
            e = Encoded(e.token_ids[:allowed], e.spans[:allowed], e.word_ids[:allowed])
            truncated.append(sid)
        fitted.append(e)
    if truncated:
        warnings.warn(
            f"truncated {len(truncated)} stimuli to the context window: {truncated[:5]}",
            stacklevel=3,
        )
    return fitted, truncated


def _groups(table):
    column = next((c for c in GROUP_COLUMNS if c in table.columns), None)
    if column is None:
        raise ProbingError(
            f"share_prefixes groups stimuli by one of {list(GROUP_COLUMNS)}; the table has neither"
        )
    indices = table.reset_index(drop=True).groupby(column, sort=False, dropna=False).indices
    return [rows.tolist() for rows in indices.values()]


def _split_scores(scores, n):
    """``(logprob, logprob_eow)`` of one text's ``n`` tokens from a scorer's output."""
    if scores.ndim == 1:  # masked LMs: no next-token distribution, no end-of-word mass
        return scores, np.full(n, np.nan)
    eow = np.full(n, np.nan)
    eow[: len(scores) - 1] = scores[1:, 1]
    return scores[:n, 0], eow


def _build_table(lm, ids, encoded, scores, layers=None):
    if layers is not None:
        parts = [_build_table(lm, ids, encoded, [s[..., j] for s in scores])
                 for j in range(len(layers))]
        return pd.concat([p.assign(layer=np.int64(layer)) for p, layer in
                          zip(parts, layers, strict=True)], ignore_index=True)[
            ["layer", *TOKEN_COLUMNS]]
    lengths = [len(e.token_ids) for e in encoded]
    token_ids = np.concatenate([np.asarray(e.token_ids, dtype=np.int64) for e in encoded])
    spans = np.concatenate([np.asarray(e.spans, dtype=np.int64).reshape(-1, 2) for e in encoded])
    split = [_split_scores(s, n) for s, n in zip(scores, lengths, strict=True)]
    logprob = np.concatenate([lp for lp, _ in split]).astype(np.float64)
    eow = np.concatenate([e for _, e in split]).astype(np.float64)
    return pd.DataFrame(
        {
            "stimulus_id": np.repeat(np.asarray(ids, dtype=object), lengths),
            "token_index": np.concatenate([np.arange(n, dtype=np.int64) for n in lengths]),
            "token_id": token_ids,
            "token": lm.tokenizer.convert_ids_to_tokens(token_ids.tolist()),
            "char_start": spans[:, 0],
            "char_end": spans[:, 1],
            "logprob": logprob,
            "surprisal": -logprob,
            "surprisal_bits": -logprob / math.log(2),
            "logprob_eow": eow,
        },
        columns=list(TOKEN_COLUMNS),
    )


def regions_by_stimulus(regions, ids):
    """Per stimulus id, ``{region: (char_start, char_end)}`` from a regions table."""
    if regions is None:
        return None
    if not isinstance(regions, pd.DataFrame) or not {"stimulus_id", "region", "char_start",
                                                      "char_end"} <= set(regions.columns):
        raise ProbingError("regions must be a table with columns stimulus_id, region, "
                           "char_start, char_end")
    spans = {}
    for sid, name, a, b in regions[["stimulus_id", "region", "char_start", "char_end"]].itertuples(
            index=False):
        spans.setdefault(sid, {}).setdefault(str(name), (int(a), int(b)))
    return [spans.get(sid) for sid in ids]


def _causal_run(lm, encoded, plan, boundary, on_batch=None):
    """Causal scores per text (``([...], windowed mask)``), in sliding windows with a stride."""
    limit = context_length(lm)
    run = functools.partial(score_causal, lm, boundary=boundary, padding_side=plan.padding_side,
                            progress=plan.progress, on_batch=on_batch, layers=plan.layers,
                            limit=limit, **plan.budget)
    if plan.stride is None or limit is None:
        return run(encoded), np.zeros(len(encoded), dtype=bool)
    pieces, windows = split_windows(encoded, limit, plan.stride)
    counts = np.bincount([w.text for w in windows], minlength=len(encoded))
    return stitch_windows(run(pieces), windows, len(encoded)), counts > 1


def _score_plain(lm, table, encoded, plan, boundary):
    if not plan.share_prefixes:
        return _causal_run(lm, encoded, plan, boundary)
    scores = score_causal_shared(lm, encoded, _groups(table), boundary=boundary,
                                 limit=context_length(lm), **plan.budget)
    return scores, np.zeros(len(encoded), dtype=bool)


def _score_masked(lm, table, encoded, plan, boundary, on_batch=None):
    scores = score_masked(lm, encoded, pll=plan.pll, on_batch=on_batch, **plan.budget)
    return scores, np.zeros(len(encoded), dtype=bool)


def _score_lens(lm, table, encoded, plan, boundary):
    return _causal_run(lm, encoded, plan, boundary)


def _score_intervened(lm, table, encoded, plan, boundary):
    ids = table["stimulus_id"].tolist()
    run = prepare_interventions(
        lm, table["text"].tolist(), per_text(plan.interventions, len(ids), ids),
        encoded=encoded, regions=regions_by_stimulus(plan.regions, ids), labels=[f"stimulus {i!r}" for i in ids],
        batch_size=plan.budget["batch_size"])
    with run.hooks():
        if lm.kind == "masked":
            return _score_masked(lm, table, encoded, plan, boundary, on_batch=run.on_batch)
        return _causal_run(lm, encoded, plan, boundary, on_batch=run.on_batch)


_SCORERS = {"plain": _score_plain, "masked": _score_masked, "lens": _score_lens,
            "intervened": _score_intervened}


def _encode(lm, table, truncate, stride):
    """Checked ids and tokenized texts (cut to the context window with ``truncate``)."""
    check_text_table(table)
    ids = table["stimulus_id"].tolist()
    encoded = encode_texts(lm.tokenizer, table["text"].tolist())
    for sid, e in zip(ids, encoded, strict=True):
        if not e.token_ids:
            raise ProbingError(
                f"stimulus {sid!r}: text has no tokens; every stimulus needs text to score"
            )
    return (ids, *_fit_context(lm, ids, encoded, truncate, stride))


def score_tokens(
    lm,
    table,
    *,
    batch_size=32,
    max_tokens_per_batch=None,
    padding_side="right",
    pll="original",
    share_prefixes=False,
    truncate=False,
    progress=False,
    interventions=None,
    regions=None,
    stride=None,
    layers=None,
):
    """Log-probability and surprisal of every token of every stimulus.

    Causal LMs give ``log p(t_i | start, t_1..t_{i-1})``; masked LMs give the
    pseudo-log-likelihood term of each token (``pll``). Results do not depend on
    ``batch_size``, ``padding_side``, ``share_prefixes`` or the order of ``table``
    beyond float rounding.

    Parameters
    ----------
    lm : LanguageModel
        From :func:`~probing.models.load_model` or
        :meth:`~probing.models.LanguageModel.from_objects`.
    table : pandas.DataFrame
        At least ``stimulus_id`` (unique) and ``text`` (non-empty); the stimuli table.
    batch_size : int, default 32
        Most sequences per forward pass (masked LMs: masked copies).
    max_tokens_per_batch : int, optional
        Most padded tokens per forward pass (masked LMs default to 4096).
    padding_side : {"right", "left"}, default "right"
        Causal LMs only (masked LMs always pad on the right).
    pll : {"original", "word_l2r"}, default "original"
        Masked LMs only: mask the token alone (Salazar et al., 2020) or also the rest of
        its word to the right (Kauf & Ivanova, 2023).
    share_prefixes : bool, default False
        Causal LMs only: run the longest common prefix of each ``pair_id`` (else
        ``item_id``) group once and reuse its key/value cache.
    truncate : bool, default False
        Cut stimuli longer than the context window instead of raising; the cut ids are
        warned about and listed in ``attrs["scoring"]["truncated"]``.
    progress : bool or None, default False
        Progress bar with ETA over batches for the plain causal path (None: only when
        stderr is a terminal).
    interventions : Intervention, sequence or mapping, optional
        Score under interventions (:mod:`probing.interventions`): one or a sequence
        applied to every stimulus, or a mapping ``stimulus_id -> sequence``. Validated
        against the model and every stimulus before any forward pass. An intervention
        at a causal stimulus' last token changes only its ``logprob_eow``; a masked LM's
        ``patch`` source is the unmasked source text.
    regions : pandas.DataFrame, optional
        ``stimulus_id, region, char_start, char_end`` (a Stimuli's ``regions``), for
        ``region:<name>`` positions.
    stride : int, optional
        Causal LMs only: score texts longer than the context in sliding windows whose
        starts are ``stride`` tokens apart (:mod:`probing.models.windows`); recorded in
        ``attrs["scoring"]`` with the ids of the texts that needed more than one window.
        Not combined with ``interventions`` (their positions index whole texts).
    layers : str, int or list of int, optional
        Causal LMs only: score the logit-lens read-out of these layers (``"all"``,
        ``"0,6,-1"``, ...; :mod:`probing.models.logit_lens`) instead of the model's output:
        the table gets a leading ``layer`` column and one block of rows per layer. Works
        with ``stride``; not with ``share_prefixes`` or ``interventions``.

    Returns
    -------
    pandas.DataFrame
        One row per token, stimuli in table order: ``stimulus_id``, ``token_index``
        (0-based, start token excluded), ``token_id``, ``token`` (vocabulary string),
        ``char_start``, ``char_end`` (``text[char_start:char_end]`` is the token without
        leading whitespace), ``logprob`` (natural log), ``surprisal`` (nats,
        ``-logprob``), ``surprisal_bits``, ``logprob_eow``: the log of the total
        probability that the token *after* this one starts a new word or ends the text
        (:mod:`probing.models.boundary`; causal LMs only, NaN for masked LMs and for the
        last token of a text that fills the context window), which word and region
        surprisal need (Pimentel & Meister, 2024). ``attrs["scoring"]`` records the
        options, the size of the end-of-word set and its end-of-text tokens, and the
        model's provenance.

    Raises
    ------
    ProbingError
        Missing columns, duplicate ids, empty text, a stimulus longer than the context
        window (unless ``truncate``), or invalid options.
    """
    plan = _check_options(lm, {
        "batch_size": batch_size, "max_tokens_per_batch": max_tokens_per_batch,
        "padding_side": padding_side, "pll": pll, "share_prefixes": share_prefixes,
        "progress": progress, "stride": stride, "layers": layers,
        "interventions": interventions, "regions": regions})
    ids, encoded, truncated = _encode(lm, table, truncate, stride)
    end_ids = end_token_ids(lm) if lm.kind == "causal" else []
    boundary = lm.boundary_ids()  # read once per model
    scores, windowed = _SCORERS[plan.mode](lm, table, encoded, plan, boundary)
    tokens = _build_table(lm, ids, encoded, scores, plan.layers)
    tokens.attrs["scoring"] = {
        "eow": None if lm.kind == "masked" else {
            "n_boundary_tokens": int(len(boundary)),
            "end_tokens": lm.tokenizer.convert_ids_to_tokens(end_ids),
        },
        "pll": pll if lm.kind == "masked" else None,
        "truncate": truncate,
        "truncated": truncated,
        "share_prefixes": share_prefixes,
        "stride": stride,
        "windowed": [sid for sid, w in zip(ids, windowed, strict=True) if w],
        "model": dict(lm.provenance),
        "interventions": None if interventions is None else repr(interventions),
        "layers": plan.layers,
        "readout": ("model" if plan.layers is None
                    else "logit lens: unembed(final_norm(resid_post))"),
    }
    return tokens
