"""Experiments: paradigms x models x analyses from one file, every step cached by content.

``load_experiment`` validates a file, ``plan_experiment`` keys every step by the hash of
its inputs, ``run_experiment`` runs what is not cached (serially, in a process pool or
on Ray) into one results folder with a manifest. Analyses plug in through
:mod:`probing.pipeline.experiment.registry`. See ``docs/experiments.md``.
"""

from probing.pipeline.experiment.experiment_spec import ExperimentSpec, load_experiment
from probing.pipeline.experiment.plan import Step, plan_experiment
from probing.pipeline.experiment.registry import ANALYSES, Analysis, register
from probing.pipeline.experiment.runner import describe_plan, run_experiment

__all__ = ["ANALYSES", "Analysis", "ExperimentSpec", "Step", "describe_plan", "load_experiment",
           "plan_experiment", "register", "run_experiment"]
