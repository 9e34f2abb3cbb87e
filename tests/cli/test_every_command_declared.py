"""Guard: every subcommand of ``probing`` is declared once (issue #23).

The subcommands are DISCOVERED from the parser that ``probing`` itself builds
(:func:`probing.cli.main.build_parser`), not read from a list, so a hand-wired
subparser fails here the day it is added:

* each comes from a declaration: a :class:`~probing.commands.Command` (options,
  ``prepare``, ``run``, the one run-folder writer) or a :class:`~probing.commands.Utility`,
  and every argument it accepts is a field of that declaration;
* a Utility is allowed only under the documented rule (``docs/architecture.md``): it
  writes no run folder (it lists, checks, generates a stimuli file, or runs other
  commands), and the names below are the whole list;
* every allowed-values list (declared or on the parser) is a constant of
  ``probing._core.values``;
* the generated options reference (``docs/options.md``) lists every subcommand.
"""

import argparse
from pathlib import Path

import pytest

from probing._core import values
from probing.cli.declared import DECLARATIONS
from probing.cli.main import build_parser
from probing.commands import (
    Command,
    RunFolderSettings,
    Utility,
    option_fields,
    options_markdown,
)

REPO = Path(__file__).resolve().parents[2]
#: The utilities: no run folder through the writer, so no Command. A new one needs a
#: reason in docs/architecture.md and its name here.
UTILITIES = {"list", "validate", "generate", "cache", "demo", "experiment", "status", "report"}


def _subcommands():
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


SUBCOMMANDS = _subcommands()
BY_NAME = {d.name: d for d in DECLARATIONS}


def _declared_dests(declaration):
    dests = {"help"}
    if declaration.reads_paradigm:
        dests.add("files" if declaration.many else "file")
    for cls in (declaration.options, *declaration.settings):
        dests |= {field.name for field, declared in option_fields(cls) if declared.cli}
    return dests


def _value_constants():
    return [v for k, v in vars(values).items() if k.isupper() and isinstance(v, tuple)]


def test_the_parser_is_discovered():
    assert len(SUBCOMMANDS) >= 20
    assert {"localize", "lesion", "compare-reading", "fresh-vs-published", "list"} <= set(
        SUBCOMMANDS)


def _undeclared(subcommands):
    """Names of subcommands no declaration made, or with arguments it does not declare."""
    bad = []
    for name, sub in subcommands.items():
        declaration = BY_NAME.get(name)
        if not isinstance(declaration, Command | Utility) or (
                {a.dest for a in sub._actions} != _declared_dests(declaration)
                or sub.description != declaration.description):
            bad.append(name)
    return bad


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_comes_from_a_declaration(name):
    assert _undeclared({name: SUBCOMMANDS[name]}) == [], f"probing {name} is hand-wired"


def test_a_hand_wired_subcommand_or_flag_is_caught():
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    action.add_parser("rogue", description="by hand")
    action.choices["localize"].add_argument("--by-hand")
    assert _undeclared(action.choices) == ["localize", "rogue"]


@pytest.mark.parametrize("name", sorted(n for n, d in BY_NAME.items() if isinstance(d, Utility)))
def test_a_utility_follows_the_allow_rule(name):
    utility = BY_NAME[name]
    assert name in UTILITIES, f"probing {name}: a new utility; declare a Command instead"
    assert not any(issubclass(cls, RunFolderSettings) for cls in (utility.options,
                                                                    *utility.settings))


def test_every_allowed_values_list_is_a_values_constant():
    constants = _value_constants()
    loose = []
    for declaration in DECLARATIONS:
        for cls in (declaration.options, *declaration.settings):
            for field, declared in option_fields(cls):
                if declared.choices is not None and tuple(declared.choices) not in constants:
                    loose.append((declaration.name, field.name, declared.choices))
    for name, sub in SUBCOMMANDS.items():  # anything argparse itself restricts
        for action in sub._actions:
            if action.choices is not None and tuple(action.choices) not in constants:
                loose.append((name, action.dest, action.choices))
    assert loose == [], "allowed values must be constants of probing._core.values"


def test_a_literal_list_is_caught():
    assert ("glm", "welch") in _value_constants()
    assert ("glm", "welch", "ols") not in _value_constants()


def test_the_generated_docs_list_every_subcommand():
    text = (REPO / "docs" / "options.md").read_text(encoding="utf-8")
    assert text == options_markdown(DECLARATIONS)
    missing = [name for name in SUBCOMMANDS if f"## `probing {name}`" not in text]
    assert missing == []
