"""Control models: the same architecture with freshly initialised weights.

A probe that decodes a property from a randomly initialised network shows how much of
the decoding the architecture and the input embeddings' geometry give for free, without
any training (Zhang & Bowman 2018; Hewitt & Liang 2019 discuss it with control tasks).
The control model keeps the tokenizer and start token, so its activations line up row
for row with the trained model's and go through the same extraction and probes.
"""

from __future__ import annotations

import dataclasses
import numbers

import torch
from transformers import AutoModelForCausalLM, AutoModelForMaskedLM

from probing._core.errors import ProbingError
from probing.models.language_model import build_language_model

__all__ = ["reinitialize"]

_AUTO_CLASSES = {"causal": AutoModelForCausalLM, "masked": AutoModelForMaskedLM}


def _check_seed(random_state):
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ProbingError(f"reinitialize: random_state must be an integer seed (the control "
                           f"model is recorded by it); got {random_state!r}")
    if not 0 <= int(random_state) < 2**63:
        raise ProbingError(f"reinitialize: random_state must lie in [0, 2**63); got {random_state}")
    return int(random_state)


def _fresh_model(lm, seed):
    # fork_rng keeps the caller's global torch RNG untouched; weights are drawn on the
    # CPU so the same seed gives the same weights whatever device the model runs on.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _AUTO_CLASSES[lm.kind].from_config(lm.model.config, dtype=torch.float32)
    return model.to(device=lm.device, dtype=lm.dtype)


def reinitialize(lm, *, random_state=0):
    """The same architecture and tokenizer as ``lm`` with re-initialised weights.

    Weights are drawn by the architecture's own initialiser (``_init_weights``, with the
    config's ``initializer_range``) under ``torch.manual_seed(random_state)``; the
    caller's global random state is left as it was.

    Parameters
    ----------
    lm : LanguageModel
        The trained model; not modified.
    random_state : int, default 0
        Seed of the initialisation; the same seed gives the same weights.

    Returns
    -------
    LanguageModel
        Same kind, dtype, device, tokenizer and start token; ``provenance`` records
        ``source: "reinitialized"``, the seed and the trained model's provenance under
        ``reinitialized_from``, so caches and run folders never confuse the two.
    """
    seed = _check_seed(random_state)
    model = _fresh_model(lm, seed)
    source = {"source": "reinitialized", "random_state": seed,
              "reinitialized_from": dict(lm.provenance)}
    control = build_language_model(
        model, lm.tokenizer, kind=lm.kind, start_token=lm.start_token_id,
        name=f"{lm.name} (reinitialized, seed {seed})", device=None, dtype=None, source=source)
    # Framed exactly like the trained model, and recorded with the rule that chose it.
    provenance = {**control.provenance, "start_token_policy": lm.start.policy}
    return dataclasses.replace(control, start=lm.start, end=lm.end, provenance=provenance)
