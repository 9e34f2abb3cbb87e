"""One default per concept, with its reason; every function and option uses these names.

``RANDOM_STATE = 0``
    A rerun gives the same table (the manifest can be checked by repeating it); vary it
    (``--random-state``, ``random_state=``) to see how much a result depends on the draw.
``N_PERM = 10_000``
    A permutation p-value cannot fall below ``1 / (n_perm + 1)``. With 10,000 the
    smallest p is about 1e-4, so a Holm or Bonferroni correction over a whole layer
    sweep (30 layers x a few model RDMs or probes, ~100 tests) can still reach 0.05;
    1,000 could not (100 / 1,001 > 0.05).
``N_BOOT = 2_000``
    Percentile intervals need 1,000-2,000 resamples for their end points to be stable
    to about 1% of the interval's width (Efron & Tibshirani 1993, ch. 19; Davison &
    Hinkley 1997, ch. 5); 2,000 keeps the Monte Carlo error of a 95% end point small
    without the run time of 10,000 for resamplings that refit or recompute an RDM.
``CI = 0.95``
    The interval level reported in ``ci_low``/``ci_high``.
``SLOR_LENGTH = "words"``, ``UNIGRAM = "wordfreq"``
    SLOR's length and unigram terms (human ratings): wordfreq's words are the unit of its
    unigram log-probabilities, so both terms count the same thing for every model; Lau
    et al. (2020) divided by model tokens and took unigrams from the model's training
    corpus, which ``slor_length="tokens"`` and ``unigram=<corpus file>`` reproduce.
``SPILLOVER = 2``, ``READING_MIN_TEXTS = 10``
    Reading times: the previous two words' predictors enter (self-paced reading spills
    over about two words; Smith & Levy 2013, Wilcox et al. 2020). A bootstrap over fewer
    than 10 texts warns: 9 texts give 24,310 distinct resamples but 3 give 10, whose
    percentile bounds are the lowest and highest text means.
``ITEM_INTERVAL = "t"``
    Intervals of causal effects over items (patching, mediation, ablation): a t interval
    with items as clusters, because the percentile item bootstrap undercovers with the
    8-24 pairs real studies have (0.877-0.902; docs/statistics.md).
``MIN_ITEMS = 20``
    Below this many items a table warns (``FewItemsWarning``): small-sample corrections
    then carry the inference, and normal-theory tests reject too often.
``MIXED_TEST = "auto"``
    The mixed model's test: by item where every item has every cell, otherwise
    Satterthwaite degrees of freedom; the Wald z test rejected 0.107 at 6 items.
``TIES = "half"``
    A tied minimal pair scores one half in the accuracy and its interval (and is left
    out of the exact test): scoring it 0 read 30 ties as "reliably wrong".
``JUDGE_STYLE = "chat"``, ``SCALE_ORDER = "both"``, ``N_BINS = 5``
    A model as judge is asked in its own chat template (how instruction-tuned models are
    used), with the scale listed in both orders so that position bias is measured, and
    its calibration is read in five bins of its rating (quintiles: about 20 sentences a
    bin for a 100-sentence sample).
``GROUPS = "auto"``
    What ``groups="auto"`` resolves to in probes and controls: see :func:`resolve_groups`.
"""

from __future__ import annotations

# allowed values live in probing._core.values (one place); MIXED_TESTS stays importable here
from probing._core.values import MIXED_TESTS

__all__ = ["CI", "ITEM_INTERVAL", "JUDGE_STYLE", "MIN_ITEMS", "MIXED_TEST", "MIXED_TESTS", "N_BINS",
           "N_BOOT", "N_PERM", "RANDOM_STATE", "SCALE_ORDER", "TIES"]

RANDOM_STATE = 0
N_PERM = 10_000
N_BOOT = 2_000
CI = 0.95
SLOR_LENGTH = "words"
UNIGRAM = "wordfreq"
SPILLOVER = 2
READING_MIN_TEXTS = 10
ITEM_INTERVAL = "t"
MIN_ITEMS = 20
MIXED_TEST = "auto"
TIES = "half"
JUDGE_STYLE = "chat"
SCALE_ORDER = "both"
N_BINS = 5
