"""What was loaded, as a JSON-able record: enough to tell two runs' models apart.

A cache key or a results file stores this record; it names the weights by content
(sha256 of the GGUF file or of a folder's weight files) or by hub revision, so a
changed file never passes for the old one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import transformers

__all__ = ["WEIGHT_SUFFIXES", "build_provenance", "hash_file", "hash_weight_files"]

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_CHUNK = 1 << 20


def hash_file(path):
    """sha256 hex digest of a file's bytes.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    str
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_weight_files(folder):
    """sha256 of every weight file directly in ``folder``.

    Returns
    -------
    dict
        ``{file name: sha256}``, sorted by name (``WEIGHT_SUFFIXES`` decide what counts).
    """
    files = sorted(p for p in Path(folder).iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    return {p.name: hash_file(p) for p in files}


def _dtype_name(dtype):
    return str(dtype).removeprefix("torch.")


def build_provenance(model, tokenizer, *, kind, name, start, end, source):
    """The provenance record of a :class:`~probing.models.LanguageModel`.

    Parameters
    ----------
    model : torch.nn.Module
    tokenizer : transformers tokenizer
    kind : str
    name : str
    start, end : StartToken or None
    source : dict
        Where the weights came from (``source``, ``path``, ``sha256``, ``revision``).

    Returns
    -------
    dict
        JSON-able; keys ``model, kind, architecture, dtype, device, start_token_id,
        start_token, start_token_policy, end_token_id, end_token, tokenizer,
        transformers_version, torch_version`` plus those of ``source``.
    """
    parameter = next(model.parameters())
    record = {
        "model": str(name),
        "kind": kind,
        "architecture": type(model).__name__,
        "dtype": _dtype_name(parameter.dtype),
        "device": str(parameter.device),
        "start_token_id": int(start.token_id),
        "start_token": start.token,
        "start_token_policy": start.policy,
        "end_token_id": None if end is None else int(end.token_id),
        "end_token": None if end is None else end.token,
        "tokenizer": type(tokenizer).__name__,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
    }
    record.update(source)
    return record
