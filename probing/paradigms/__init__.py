"""Paradigm-definition files: validation into immutable specs, and stimulus generation.

>>> from probing.paradigms import load_paradigm, generate  # doctest: +SKIP
>>> stimuli = generate(load_paradigm("paradigms/agreement_pp_attractor.yaml"), seed=1)  # doctest: +SKIP
"""

from probing.paradigms.generate import generate_stimuli
from probing.paradigms.load import (
    dump_paradigm,
    load_paradigm,
    parse_paradigm,
    shipped_paradigms,
    validate_paradigm,
)
from probing.paradigms.spec import ParadigmSpec

generate = generate_stimuli

__all__ = ["ParadigmSpec", "dump_paradigm", "generate", "generate_stimuli", "load_paradigm",
           "parse_paradigm", "shipped_paradigms", "validate_paradigm"]
