"""Load the model last: every command checks all of its inputs first.

Pipeline functions take ``lm`` as a loaded :class:`~probing.models.LanguageModel` or as
a zero-argument loader. They call the loader only once everything that can be checked
without a model (paradigm kind, labels, pooling, regions, options, the output folder)
has been checked, so a typo costs a second rather than the minutes a large model takes
to load.
"""

from __future__ import annotations

__all__ = ["resolve_model"]


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
