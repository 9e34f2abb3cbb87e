"""`--help` lists every accepted value of every option of every command."""

import argparse

import pytest

from probing.cli.main import build_parser


def _commands():
    parser = build_parser()
    return parser._subparsers._group_actions[0].choices


def _option_help(sub, action):
    """The help block of one option (its flags line and description)."""
    text = sub.format_help()
    flag = action.option_strings[-1]
    start = text.index(f"  {flag}") if f"  {flag}" in text else text.index(flag)
    rest = text[start + len(flag):]
    nxt = [rest.find(f"\n  {o}") for o in ("-",) if rest.find(f"\n  {o}") >= 0]
    return " ".join(text[start:start + len(flag) + (min(nxt) if nxt else len(rest))].split())


def _free_form_values():
    """Options whose values are not argparse choices (composite or lists) -> accepted values."""
    from probing.models.pooling import POOLINGS
    from probing.pipeline.localize_run import NUISANCE
    from probing.pipeline.localize_run import POOLINGS as LOCALIZE_POOLINGS
    from probing.pipeline.probe_run import PROBES

    region = ("region:NAME",)
    return {
        ("extract", "pooling"): (*POOLINGS, *region),
        ("probe", "pooling"): (*POOLINGS, *region),
        ("rsa", "pooling"): (*POOLINGS, *region),
        ("probe", "probes"): PROBES,
        ("localize", "pooling"): LOCALIZE_POOLINGS,
        ("localize", "nuisance"): NUISANCE,
        **{(name, "start_token"): ("auto", "TOKEN", "ID")
           for name in ("run", "demo", "extract", "probe", "rsa")},
    }


def _visible_options():
    for name, sub in _commands().items():
        for action in sub._actions:
            if action.option_strings and action.help != argparse.SUPPRESS:
                yield name, sub, action


def test_every_choice_is_listed_in_the_help():
    missing = [(name, action.dest, choice) for name, sub, action in _visible_options()
               if action.choices is not None
               for choice in action.choices if str(choice) not in _option_help(sub, action)]
    assert missing == []


@pytest.mark.parametrize(("command", "dest"), sorted(_free_form_values()))
def test_free_form_options_list_their_values(command, dest):
    sub = _commands()[command]
    action = next(a for a in sub._actions if a.dest == dest and a.help != argparse.SUPPRESS)
    text = _option_help(sub, action)
    missing = [v for v in _free_form_values()[(command, dest)] if v not in text]
    assert missing == [], text
