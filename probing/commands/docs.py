"""Documentation generated from declarations: the options reference and shared text.

:func:`options_markdown` writes ``docs/options.md`` (a test keeps the file current).
:data:`DOCDICT` holds parameter text written once; :func:`fill_doc` fills
``%(name)s`` placeholders in a docstring with it (nilearn's ``docdict``/``fill_doc``
idea, written here in our own code).
"""

from __future__ import annotations

import textwrap

from probing._core.defaults import N_PERM, RANDOM_STATE
from probing.commands.options import option_fields
from probing.commands.parser import flag_of, help_of

__all__ = ["DOCDICT", "fill_doc", "options_markdown"]

DOCDICT = {
    "lm": """lm : probing.models.LanguageModel or callable
    A loaded model, or a zero-argument loader called after every input is checked.""",
    "layers": """layers : "all", int, str ("0,6,-1") or list of int
    0 = embeddings, i = output of block i; negatives count back from the last block;
    a layer given twice is an error (:func:`probing._core.layers.parse_layers`).""",
    "site": """site : {"resid_post", "mlp_out", "attn_out"}
    Recording site (TransformerLens names).""",
    "pooling": """pooling : {"last", "first", "mean"} or "region:<name>"
    How a stimulus's (or word's) token vectors become one vector.""",
    "random_state": f"""random_state : int, default {RANDOM_STATE}
    Seed of every random draw (folds, permutations, resamples).""",
    "n_perm": f"""n_perm : int, default {N_PERM}
    Permutations of the permutation test.""",
    "paradigm": """paradigm : probing.commands.Paradigm
    The paradigm loaded and generated once (spec, stimuli, path, hash, seed).""",
    "result": """Result
    ``tables`` (name -> tidy DataFrame ending with ``model, paradigm``), ``figures``
    (name -> matplotlib Figure) and ``notes`` (added to the manifest).""",
}


def fill_doc(obj):
    """Fill ``%(name)s`` in ``obj.__doc__`` from :data:`DOCDICT` (indented to fit).

    Examples
    --------
    >>> @fill_doc
    ... def f(layers):
    ...     '''Parameters
    ...     ----------
    ...     %(layers)s
    ...     '''
    >>> "negatives count back" in f.__doc__
    True
    """
    doc = obj.__doc__ or ""
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("%(") and stripped.endswith(")s"):
            indent = line[:len(line) - len(line.lstrip())]
            lines[i] = textwrap.indent(DOCDICT[stripped[2:-2]], indent)
    obj.__doc__ = "\n".join(lines) + ("\n" if doc.endswith("\n") else "")
    return obj


def _rows(cls):
    for field, declared in option_fields(cls):
        if declared.cli:
            flag = declared.metavar if declared.positional else flag_of(field, declared)
            yield (f"| `{flag}` | `{field.name}` | "
                   f"{help_of(field, declared).replace('|', '/')} |")


def options_markdown(commands):
    """The options reference (``docs/options.md``) of ``commands`` (and utilities)."""
    out = ["# Options reference", "",
           "Generated from the command declarations (`probing.commands`); do not edit by hand:",
           "run `python -m probing.pipeline.commands > docs/options.md` (a test checks it is "
           "current).", ""]
    shared = []
    for command in commands:
        out += [f"## `probing {command.name}`", "", command.description, "",
                "| flag | option | meaning |", "|---|---|---|", *_rows(command.options), ""]
        if command.kinds:
            out += [f"Reads paradigms of kind: {', '.join(command.kinds)}.", ""]
        if command.settings:
            out += [f"Also: {', '.join(f'`{s.__name__}`' for s in command.settings)} (below).",
                    ""]
        shared += [s for s in command.settings if s not in shared]
    out += ["## Shared settings", ""]
    for cls in shared:
        out += [f"### `{cls.__name__}`", "", (cls.__doc__ or "").strip(), "",
                "| flag | option | meaning |", "|---|---|---|", *_rows(cls), ""]
    return "\n".join(out)
