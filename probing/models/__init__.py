"""The model adapter: the only package that imports torch and transformers.

:func:`load_model`
    A :class:`LanguageModel` from an alias (``smollm2-135m``, the embedded default), a
    ``.gguf`` file, a local folder or a hub id; :meth:`LanguageModel.from_objects` wraps
    a model and tokenizer you already built.
:func:`score_tokens`
    The tidy tokens table (``TOKEN_COLUMNS``): exact log-probability and surprisal of
    every token, causal (batched, optionally sharing prefixes) or masked (PLL).
:func:`resolve_start_token`
    Which token is prepended so that the first word is scored too.
:func:`encode_texts`
    Tokens with exact character spans.
:func:`reinitialize`
    The control model: the same architecture and tokenizer with seeded random weights.
:func:`prompt_pairs`, :func:`score_options`
    Metalinguistic prompts about minimal pairs (yes/no, forced choice; plain or in the
    chat template) and the log-probabilities of their answer options.
:func:`patch_pairs`, :func:`path_patch`, :func:`attribute_pairs`, :func:`check_interventions`
    Activation and path patching over minimal pairs, the sweep's first-order screen, and the
    self-checks of the intervention engine (``score_tokens`` and
    ``compute_activations`` take ``interventions=``; see :mod:`probing.interventions`).
"""

from probing.models.attribution_patching import attribute_pairs, compare_with_exact
from probing.models.control import reinitialize
from probing.models.das import fit_das_subspace
from probing.models.language_model import LanguageModel, detect_kind
from probing.models.loading import ALIASES, load_model, load_tokenizer
from probing.models.masked import PLL_VARIANTS
from probing.models.patch_runs import PATCH_COLUMNS, patch_pairs
from probing.models.path_patching import PATH_COLUMNS, path_patch
from probing.models.prompts import prompt_pairs, score_options
from probing.models.scoring import TOKEN_COLUMNS, context_length, score_tokens
from probing.models.selfcheck import check_interventions
from probing.models.start_token import StartToken, is_chat_marker, resolve_start_token
from probing.models.token_alignment import Encoded, encode_texts

__all__ = [
    "ALIASES",
    "PATCH_COLUMNS",
    "PATH_COLUMNS",
    "PLL_VARIANTS",
    "TOKEN_COLUMNS",
    "Encoded",
    "LanguageModel",
    "StartToken",
    "attribute_pairs",
    "fit_das_subspace",
    "check_interventions",
    "compare_with_exact",
    "context_length",
    "detect_kind",
    "encode_texts",
    "is_chat_marker",
    "load_model",
    "load_tokenizer",
    "patch_pairs",
    "path_patch",
    "prompt_pairs",
    "reinitialize",
    "resolve_start_token",
    "score_options",
    "score_tokens",
]
