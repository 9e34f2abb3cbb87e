"""Load the model last: every command checks all of its inputs first.

Pipeline functions take ``lm`` as a loaded :class:`~probing.models.LanguageModel` or as
a zero-argument loader. They call the loader only once everything that can be checked
without a model (paradigm kind, labels, pooling, regions, options, the output folder)
has been checked, so a typo costs a second rather than the minutes a large model takes
to load.
"""

from __future__ import annotations

__all__ = ["resolve_model", "shape_before_loading"]


def resolve_model(lm):
    """``lm`` itself, or ``lm()`` when it is a loader rather than a loaded model.

    Examples
    --------
    >>> class Model:
    ...     provenance = {}
    >>> model = Model()
    >>> resolve_model(model) is model, resolve_model(lambda: model) is model
    (True, True)
    """
    if hasattr(lm, "provenance") or not callable(lm):
        return lm
    return lm()


def shape_before_loading(lm):
    """The model's shape from its configuration when ``lm`` is a loader that names it.

    A loader with a ``model_name`` attribute (the CLI's) names an alias, ``.gguf`` file
    or folder whose configuration is read without the weights
    (:func:`probing.models.config_shape.config_shape`); anything else gives None and the
    checks run on the loaded model, before any forward pass.
    """
    name = getattr(lm, "model_name", None)
    if name is None or hasattr(lm, "provenance"):
        return None
    from probing.models.config_shape import config_shape

    return config_shape(name)
