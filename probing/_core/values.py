"""The allowed values of each concept, defined once; everything else imports them.

Options, checks, ``--help`` and the generated docs all read these tuples, so a value
added here is accepted, listed and documented everywhere at once.
"""

from __future__ import annotations

from probing._core.errors import ProbingError

__all__ = ["ABLATIONS", "ALTERNATIVES", "BASELINES", "CACHE_ACTIONS", "COMPARISONS",
           "CORRECTIONS", "DEFAULT_MODEL", "DIRECTIONS", "DISTANCES", "EXCLUSIONS",
           "EXECUTORS", "HEAD_SITES", "INTERVENTION_SITES", "JUDGEMENTS", "JUDGE_SCALE_ORDERS",
           "JUDGE_STYLES", "LEVELS", "LOCALIZE_POOLINGS", "LOCALIZE_RECIPES", "LOCALIZE_TESTS",
           "MEDIATORS", "MIXED_TESTS", "MODEL_DTYPES", "NUISANCE", "PATCH_POSITIONS",
           "PATH_RECEIVER_SITES", "PATH_SENDER_SITES", "PERMUTE", "POOLINGS", "PROBES",
           "PROMPT_STYLES", "PROMPT_TASKS", "READOUTS", "REDUCTIONS", "REGION_TOKENS",
           "RENDERINGS", "RESIDUALS", "RESPONSES", "SCALE_ORDERS", "SELECTIONS", "SITES",
           "SLOR_LENGTHS", "STORE_DTYPES", "SWEEP_CORRECTIONS", "TIE_RULES", "check_pooling"]

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
#: Path patching: the components a sender can be (a head's output, a whole attention or
#: MLP output) and those a receiver can be (what reads the sender's change).
PATH_SENDER_SITES = ("head_out", "attn_out", "mlp_out")
PATH_RECEIVER_SITES = ("head_out", "q", "k", "v", "mlp_out", "resid_pre", "resid_post")
#: How a stimulus's (or word's) token vectors become one vector; ``region:NAME`` also.
POOLINGS = ("first", "last", "mean")
#: The probes `probing probe` fits.
PROBES = ("logistic", "mlp")
#: One vector per stimulus or one per word.
LEVELS = ("sentence", "word")
#: Multiple-comparison corrections a command accepts.
CORRECTIONS = ("holm", "bonferroni", "fdr_bh")
#: Corrections across the cells of a patching sweep (``sweep_correction``): ``max_t``
#: (Westfall-Young max-|t| over item sign flips, with simultaneous intervals) first.
SWEEP_CORRECTIONS = ("max_t", *CORRECTIONS)
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
#: Which way a patching run copies: the good member's activations into the bad (denoising),
#: the other way (noising), or both.
DIRECTIONS = ("denoising", "noising", "both")
#: What a mediation analysis treats as one mediator: a head, a layer's whole site, a unit.
MEDIATORS = ("heads", "layers", "units")
#: Where a patching sweep patches: one position per region, or every token.
PATCH_POSITIONS = ("regions", "tokens")
#: Which of a region's tokens are patched in each member: its last, its first, or all of
#: them at once.
REGION_TOKENS = ("last", "first", "all")
#: What an ablated unit is set to: 0, its mean over the paradigm's stimuli, or its value on
#: another stimulus drawn at random.
ABLATIONS = ("zero", "mean", "resample")
#: How a sentence's token log-probabilities are combined for a pair comparison.
REDUCTIONS = ("sum", "mean")
#: Minimal pairs: the members' log-probabilities only, or also prompted judgements.
JUDGEMENTS = ("direct", "both")
#: How a model as judge is asked (``--judge-style``): the question as the user turn of its
#: chat template, as raw text ending in ``Answer:``, or both.
JUDGE_STYLES = ("chat", "plain", "both")
#: The orders a judge scale is listed in, lowest label first or highest first.
SCALE_ORDERS = ("ascending", "descending")
#: ``--scale-order``: one order, or both (which measures position bias).
JUDGE_SCALE_ORDERS = (*SCALE_ORDERS, "both")
#: Prompted judgements: the prompt's form and the question asked.
PROMPT_STYLES = ("plain", "chat", "both")
PROMPT_TASKS = ("yes_no", "forced_choice", "both")
#: Ratings: SLOR's length unit. Reading times: the baseline model and word exclusions.
SLOR_LENGTHS = ("words", "tokens")
BASELINES = ("linear", "interaction", "spline")
EXCLUSIONS = ("text_edge", "sentence_edge", "punctuation")
#: RSA: RDM distances, RDM comparisons, which labels a permutation exchanges, and the
#: noise estimate of crossnobis (each fold's training rows, or none).
DISTANCES = ("correlation", "cosine", "euclidean", "sqeuclidean", "mahalanobis", "crossnobis")
COMPARISONS = ("spearman", "pearson", "tau_a", "rho_a", "cosine", "whitened_cosine",
               "whitened_pearson")
PERMUTE = ("free", "items")
RESIDUALS = ("folds", "none")
#: The direction a one-sided test looks in.
ALTERNATIVES = ("greater", "less", "two-sided")
#: Localizer: pooling (``words``: the mean of the words' mean token vectors), response
#: transform, unit test, selection rule and nuisance regressors.
LOCALIZE_POOLINGS = ("last", "mean", "words")
RESPONSES = ("raw", "absolute")
LOCALIZE_TESTS = ("glm", "welch")
SELECTIONS = ("top", "fdr", "fwe")
NUISANCE = ("n_tokens", "n_words", "n_chars")
#: Localizer option presets (``alkhamissi``: AlKhamissi et al. 2025's recipe).
LOCALIZE_RECIPES = ("alkhamissi",)
#: The tests ``fit_mixed_model(test=)``, ``probing run --mixed-test`` and the paradigm field
#: ``mixed_test`` accept (``auto``: by item where possible, else Satterthwaite).
MIXED_TESTS = ("auto", "by_item", "satterthwaite", "wald")
#: How ``probing experiment`` runs its steps: one after another, a local process pool, ray.
EXECUTORS = ("serial", "processes", "ray")
#: What ``probing cache`` does with the activation cache.
CACHE_ACTIONS = ("list", "clear")
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
