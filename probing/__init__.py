"""probing: cognitive-neuroscience paradigms for language models.

Importing the package is cheap: it never imports torch or transformers. Heavy
submodules load on first attribute access (the approach scikit-learn takes in its
own ``__init__``).
"""

import importlib

__version__ = "0.1.0"

# public name -> submodule that defines it; resolved lazily by __getattr__
_LAZY = {
    "load_paradigm": "probing.paradigms",
    "generate": "probing.paradigms",
    "Stimuli": "probing.stimuli",
    "load_stimuli": "probing.stimuli",
    "config_context": "probing._core.config",
    "get_config": "probing._core.config",
    "load_model": "probing.models",
    "load_activations": "probing.store",
    "extract_activations": "probing.pipeline.extraction",
    "score_sentences": "probing.pipeline.score",
    "score_pairs": "probing.pipeline.score",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'probing' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
