"""A model's :class:`~probing.interventions.ModelShape` from its configuration alone.

Options that depend on the model (a layer that exists, a unit below a site's width) are
checked before the weights load when the model is an alias, a ``.gguf`` file or a local
folder: their configuration is read (GGUF metadata or ``config.json``), no weight is.
A hub id is not looked up (that may need the network): its options are checked as soon
as the model is loaded, still before any forward pass.
"""

from __future__ import annotations

from probing._core.errors import ProbingError
from probing.interventions import ModelShape

__all__ = ["config_shape"]


def config_shape(name_or_path):
    """The shape of a model read from its configuration, or None where that is not cheap.

    Parameters
    ----------
    name_or_path : str or path-like
        As for :func:`~probing.models.load_model`.

    Returns
    -------
    ModelShape or None
        None for a hub id, or when the configuration cannot be read (loading the model
        then reports why).

    Examples
    --------
    >>> config_shape("smollm2-135m").n_layers  # doctest: +SKIP
    30
    """
    from transformers import AutoConfig

    from probing.models.loading import resolve_source

    try:
        source = resolve_source(name_or_path)
    except ProbingError:
        return None
    if source.kind == "hub":
        return None
    extra = {"gguf_file": source.gguf_file} if source.kind == "gguf" else {}
    try:
        config = AutoConfig.from_pretrained(source.location, local_files_only=True, **extra)
    except (OSError, ValueError, KeyError):
        return None
    d_model = getattr(config, "hidden_size", None)
    n_heads = getattr(config, "num_attention_heads", None)
    n_layers = getattr(config, "num_hidden_layers", None)
    if not all(isinstance(v, int) for v in (d_model, n_heads, n_layers)):
        return None
    head_dim = getattr(config, "head_dim", None) or d_model // n_heads
    return ModelShape(n_layers, d_model, n_heads, head_dim)
