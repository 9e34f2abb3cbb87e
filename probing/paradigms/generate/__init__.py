"""Stimulus generation from validated paradigm specs."""

from probing.paradigms.generate.dispatch import generate_stimuli

__all__ = ["generate_stimuli"]
