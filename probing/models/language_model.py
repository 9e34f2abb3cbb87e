"""The :class:`LanguageModel` adapter: a model, its tokenizer and how texts are framed.

Build one with :func:`probing.models.load_model` (a name, folder or ``.gguf`` file) or,
from objects you already hold, with :meth:`LanguageModel.from_objects`. Neither ever
modifies the tokenizer (padding is done by our own collate code, so no ``pad_token`` is
set on it).
"""

from __future__ import annotations

import dataclasses

import torch

from probing._core.config import get_config
from probing._core.errors import ProbingError
from probing.models.provenance import build_provenance
from probing.models.start_token import StartToken, resolve_end_token, resolve_start_token

__all__ = [
    "KINDS",
    "LanguageModel",
    "build_language_model",
    "detect_kind",
    "resolve_device",
    "resolve_dtype",
]

KINDS = ("causal", "masked")
_DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}
_CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")
_MASKED_SUFFIXES = ("ForMaskedLM",)


def resolve_dtype(dtype=None):
    """``torch.dtype`` from a name, a dtype, or the config default (float32).

    Examples
    --------
    >>> resolve_dtype("float64")
    torch.float64
    """
    dtype = dtype if dtype is not None else get_config()["dtype"] or "float32"
    if isinstance(dtype, torch.dtype) and dtype in _DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype.removeprefix("torch.") in _DTYPES:
        return _DTYPES[dtype.removeprefix("torch.")]
    raise ProbingError(f"dtype must be one of {sorted(_DTYPES)}; got {dtype!r}")


def resolve_device(device=None):
    """``torch.device`` from a name, or the config default (CUDA when available, else CPU).

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    device = device if device is not None else get_config()["device"]
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ProbingError(f"device {device!r} is not a valid torch device ({err})") from err


def _kind_from_names(names):
    for name in names:
        if name.endswith(_MASKED_SUFFIXES):
            return "masked"
        if name.endswith(_CAUSAL_SUFFIXES):
            return "causal"
    return None


def detect_kind(config, model=None):
    """``"causal"`` or ``"masked"`` from a model class, ``config.architectures`` or the model type.

    Parameters
    ----------
    config : transformers.PretrainedConfig
    model : torch.nn.Module, optional
        A built model; its class name is consulted first.

    Returns
    -------
    str
    """
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    names = [type(model).__name__] if model is not None else []
    kind = _kind_from_names(names + list(getattr(config, "architectures", None) or []))
    if kind:
        return kind
    model_type = getattr(config, "model_type", None)
    causal = model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    masked = model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    if causal and (getattr(config, "is_decoder", False) or not masked):
        return "causal"
    if masked:
        return "masked"
    raise ProbingError(
        f"cannot tell whether model type {model_type!r} is causal or masked; pass kind='causal' or kind='masked'"
    )


def _check_kind(kind):
    if kind not in KINDS:
        raise ProbingError(f"kind must be one of {list(KINDS)} or None; got {kind!r}")
    return kind


@dataclasses.dataclass(frozen=True, repr=False)
class LanguageModel:
    """A model in eval mode, its tokenizer, and how texts are framed for scoring.

    Parameters
    ----------
    model : transformers.PreTrainedModel
    tokenizer : transformers tokenizer
        Never modified.
    kind : {"causal", "masked"}
    name : str
        Model id, path or alias.
    start : StartToken
        Token prepended to every text (see :mod:`probing.models.start_token`).
    end : StartToken or None
        Token appended for masked LMs (``[SEP]``); None for causal LMs.
    provenance : dict
        JSON-able record of what was loaded (ids, file hashes, dtype, device, versions,
        start token and the policy that chose it).
    """

    model: object
    tokenizer: object
    kind: str
    name: str
    start: StartToken
    end: StartToken | None
    provenance: dict
    # boundary ids per (vocabulary size, end ids): reading them decodes the whole
    # vocabulary (~0.3 s of CPU for 49k tokens), so each model does it once, not once per
    # call of score_tokens; it lives and dies with the model, not in a module
    _boundary: dict = dataclasses.field(default_factory=dict, init=False, repr=False,
                                        compare=False)

    def boundary_ids(self):
        """Ids of the tokens that start a word, plus the ones that end a text.

        :func:`~probing.models.boundary.boundary_token_ids` with the model's end tokens
        (:func:`~probing.models.boundary.end_token_ids`; none for a masked LM), read once
        per vocabulary size (a token added to the tokenizer reads it again).

        Returns
        -------
        numpy.ndarray of int
            Sorted ids; a copy the caller may change.
        """
        from probing.models.boundary import boundary_token_ids, end_token_ids

        end_ids = tuple(end_token_ids(self)) if self.kind == "causal" else ()
        key = (len(self.tokenizer), end_ids)
        if key not in self._boundary:
            self._boundary[key] = boundary_token_ids(self.tokenizer, end_ids=end_ids)
        return self._boundary[key].copy()

    @property
    def start_token_id(self):
        """Id of the token prepended to every text."""
        return self.start.token_id

    @property
    def device(self):
        return next(self.model.parameters()).device

    @property
    def dtype(self):
        return next(self.model.parameters()).dtype

    def __repr__(self):
        return (
            f"LanguageModel(name={self.name!r}, kind={self.kind!r}, "
            f"start_token={self.start.token!r}, dtype={self.dtype}, device={self.device})"
        )

    @classmethod
    def from_objects(
        cls, model, tokenizer, *, kind=None, start_token="auto", name=None, device=None, dtype=None
    ):
        """Wrap a model and tokenizer you already built.

        The model is put in eval mode; it is moved or cast only when ``device`` or
        ``dtype`` is given (``model.to`` acts in place). The tokenizer is not touched.

        Parameters
        ----------
        model : transformers.PreTrainedModel
            A causal or masked LM.
        tokenizer : transformers tokenizer
        kind : {"causal", "masked"}, optional
            Detected from the model class and config when omitted.
        start_token : "auto" or str or int, default "auto"
        name : str, optional
            Recorded in provenance; defaults to ``config.name_or_path`` or the class name.
        device, dtype : optional
            Move or cast the model first.

        Returns
        -------
        LanguageModel
        """
        return build_language_model(
            model,
            tokenizer,
            kind=kind,
            start_token=start_token,
            name=name,
            device=device,
            dtype=dtype,
            source={"source": "objects"},
        )


def build_language_model(model, tokenizer, *, kind, start_token, name, device, dtype, source):
    """Check, frame and record a model (shared by ``from_objects`` and ``load_model``).

    ``source`` is the provenance of the weights (``source``, ``path``, ``sha256``...).
    """
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "config"):
        raise ProbingError(f"model must be a transformers model; got {type(model).__name__}")
    if device is not None or dtype is not None:
        model.to(
            device=resolve_device(device) if device is not None else None,
            dtype=resolve_dtype(dtype) if dtype is not None else None,
        )
    model.eval()
    kind = _check_kind(kind) if kind is not None else detect_kind(model.config, model)
    start = resolve_start_token(tokenizer, start_token, kind=kind)
    end = resolve_end_token(tokenizer) if kind == "masked" else None
    name = name or getattr(model.config, "name_or_path", "") or type(model).__name__
    provenance = build_provenance(
        model, tokenizer, kind=kind, name=name, start=start, end=end, source=source
    )
    return LanguageModel(model, tokenizer, kind, str(name), start, end, provenance)
