"""One default per concept: every public function and option takes it from probing._core.defaults."""

import argparse
import dataclasses
import importlib
import inspect

import pytest

from probing._core import defaults

EXPECTED = {"random_state": defaults.RANDOM_STATE, "n_perm": defaults.N_PERM,
            "n_boot": defaults.N_BOOT, "ci": defaults.CI}
PACKAGES = ("probing.rsa", "probing.stats", "probing.probes", "probing.behaviour")


def _defaults_of(obj):
    try:
        parameters = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return {}
    return {name: p.default for name, p in parameters.items()
            if name in EXPECTED and p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("package", PACKAGES)
def test_public_functions_share_the_defaults(package):
    module = importlib.import_module(package)
    wrong = {f"{package}.{name}.{param}": value
             for name in module.__all__ if callable(getattr(module, name))
             and not inspect.isclass(getattr(module, name))
             for param, value in _defaults_of(getattr(module, name)).items()
             if value != EXPECTED[param]}
    assert wrong == {}


def test_run_options_share_the_defaults():
    from probing.pipeline.paradigm_run import RunOptions
    from probing.pipeline.probe_run import ProbeOptions
    from probing.pipeline.rsa_run import RSAOptions

    for options in (ProbeOptions, RSAOptions, RunOptions):
        for field in dataclasses.fields(options):
            if field.name in EXPECTED:
                assert field.default == EXPECTED[field.name], (options.__name__, field.name)


def _subcommands():
    from probing.cli.main import build_parser

    return build_parser()._subparsers._group_actions[0].choices


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_command_line_defaults_are_the_same(command):
    # generated subcommands leave defaults to their declaration (argparse's is SUPPRESS)
    for action in _subcommands()[command]._actions:
        if action.dest in EXPECTED and action.default != argparse.SUPPRESS:
            assert action.default == EXPECTED[action.dest], (command, action.dest)


def test_declared_options_share_the_defaults():
    from probing.pipeline.commands import COMMANDS

    wrong = {(command.name, field.name): field.default for command in COMMANDS
             for cls in (command.options, *command.settings) for field in dataclasses.fields(cls)
             if field.name in EXPECTED and field.default != EXPECTED[field.name]}
    assert wrong == {}


def test_every_default_is_explained():
    doc = defaults.__doc__
    assert all(f"``{name} = " in doc for name in ("RANDOM_STATE", "N_PERM", "N_BOOT", "CI"))
