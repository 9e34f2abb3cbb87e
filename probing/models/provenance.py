"""What was loaded, as a JSON-able record: enough to tell two runs' models apart.

A cache key or a results file stores this record; it names the weights by content
(sha256 of the GGUF file or of a folder's weight files) or by hub revision, so a
changed file never passes for the old one. Its ``weights`` field says in words what was
loaded, as a methods section must (for the default model: "SmolLM2-135M-Instruct
quantised to 4 bits (GGUF Q4_1), de-quantised to float32 on load").
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import torch
import transformers

__all__ = ["WEIGHT_SUFFIXES", "build_provenance", "describe_weights", "hash_file",
           "hash_weight_files"]

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_CHUNK = 1 << 20
# a GGUF file's name ends in its tensor type: SmolLM2-135M-Instruct.Q4_1, model-q4_k_m
_GGUF_TYPE = re.compile(r"^(?P<base>.+?)[._-](?P<type>I?Q(?P<bits>\d)(?:_[A-Z0-9]+)*|B?F16|F32)$",
                        re.IGNORECASE)


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


def describe_weights(record):
    """What was loaded, in words, from a provenance record (``source``, ``path``, ``dtype``).

    Examples
    --------
    >>> describe_weights({"source": "gguf", "dtype": "float32",
    ...                   "path": "/x/SmolLM2-135M-Instruct.Q4_1.gguf"})
    'SmolLM2-135M-Instruct quantised to 4 bits (GGUF Q4_1), de-quantised to float32 on load'
    >>> describe_weights({"source": "hub", "dtype": "float32", "path": "gpt2",
    ...                   "revision": "607a30d783dfa663caf39e06633721c8d4cfcd7e"})
    'gpt2 from the Hugging Face hub (revision 607a30d783df) in float32'
    """
    source, dtype = record.get("source"), record.get("dtype")
    path = str(record.get("path", record.get("model", "")))
    if source == "gguf":
        stem = Path(path).name.removesuffix(".gguf").removesuffix(".GGUF")
        found = _GGUF_TYPE.match(stem)
        if found is None:
            return f"{stem} (GGUF), de-quantised to {dtype} on load"
        kind = found["type"].upper()
        if found["bits"]:
            return (f"{found['base']} quantised to {found['bits']} bits (GGUF {kind}), "
                    f"de-quantised to {dtype} on load")
        return f"{found['base']} stored as GGUF {kind}, converted to {dtype} on load"
    if source == "hub":
        revision = record.get("revision")
        return (f"{path} from the Hugging Face hub"
                + (f" (revision {revision[:12]})" if revision else "") + f" in {dtype}")
    if source == "folder":
        return f"the model folder {path} in {dtype}"
    if source == "reinitialized":
        trained = record.get("reinitialized_from", {})
        return (f"the architecture of {trained.get('weights', trained.get('model'))} with "
                f"randomly re-initialised weights (seed {record.get('random_state')}) in {dtype}")
    return f"a model built in Python ({record.get('architecture')}) in {dtype}"


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
    record["weights"] = describe_weights(record)
    return record
