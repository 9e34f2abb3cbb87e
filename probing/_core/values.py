"""The allowed values of each concept, defined once; everything else imports them.

Options, checks, ``--help`` and the generated docs all read these tuples, so a value
added here is accepted, listed and documented everywhere at once.
"""

from __future__ import annotations

from probing._core.errors import ProbingError

__all__ = ["CORRECTIONS", "DEFAULT_MODEL", "HEAD_SITES",
           "INTERVENTION_SITES", "LEVELS", "MODEL_DTYPES", "PROBES",
           "POOLINGS", "READOUTS", "RENDERINGS", "SITES", "STORE_DTYPES", "TIE_RULES", "check_pooling"]

#: Recording sites of extraction (TransformerLens names); 0 = embeddings at resid_post.
#: ``mlp_post``: the MLP's hidden activation after its nonlinearity (GPT-2: act(c_fc x);
#: gated Llama MLPs: act(gate x) * up x), one unit per neuron. ``q``/``k``/``v``: the
#: attention's query/key/value projections, heads concatenated; under grouped-query
#: attention ``k`` and ``v`` have one slice per key/value head (fewer than query heads).
SITES = ("resid_post", "mlp_out", "attn_out", "mlp_post", "q", "k", "v")
#: Sites an intervention may write to: the recording sites plus the block's input, one
#: attention head's output (``head_out``) and the attention pattern (``pattern``: the
#: post-softmax probabilities of each head, one row per query position, which has no
#: fixed width and so is no recording site).
INTERVENTION_SITES = ("resid_pre", "resid_post", "attn_out", "mlp_out", "head_out", "mlp_post",
                      "q", "k", "v", "pattern")
#: Intervention sites that are split into attention heads (``heads`` selects some).
HEAD_SITES = ("head_out", "q", "k", "v", "pattern")
#: How a stimulus's (or word's) token vectors become one vector; ``region:NAME`` also.
POOLINGS = ("first", "last", "mean")
#: The probes `probing probe` fits.
PROBES = ("logistic", "mlp")
#: One vector per stimulus or one per word.
LEVELS = ("sentence", "word")
#: Multiple-comparison corrections a command accepts.
CORRECTIONS = ("holm", "bonferroni", "fdr_bh")
#: dtypes a model computes in.
MODEL_DTYPES = ("float32", "float64", "float16", "bfloat16")
#: dtypes activations are stored in.
STORE_DTYPES = ("float16", "float32", "float64")
#: What a tied minimal pair scores (the exact test leaves ties out either way).
TIE_RULES = ("incorrect", "half", "correct")
#: How a dialogue's messages become text: the model's chat template, or plain lines.
RENDERINGS = ("model", "plain")
#: What a patching run reads out: the other member's whole sentence, or the good-minus-bad
#: logit where the answer is predicted.
READOUTS = ("sentence", "logit_diff")
#: The packaged default model's alias.
DEFAULT_MODEL = "smollm2-135m"


def check_pooling(pooling):
    """Validate ``first|last|mean|region:<name>``; return ``(method, region)``.

    Examples
    --------
    >>> check_pooling("region:noun"), check_pooling("last")
    (('mean', 'noun'), ('last', None))
    """
    if isinstance(pooling, str) and pooling.startswith("region:") and pooling[7:]:
        return "mean", pooling[7:]
    if pooling in POOLINGS:
        return pooling, None
    raise ProbingError(f"pooling must be one of {', '.join(POOLINGS)} or region:<name>; "
                       f"got {pooling!r}")
