"""argparse subcommands generated from declarations.

Each declared field becomes one flag whose help lists its allowed values and default.
argparse only reads strings; every check is the options class's own
(:meth:`probing.commands.Options.__post_init__`), so a value is validated once, in the
same place for the command line and the API.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from probing.commands.options import option_fields

__all__ = ["DeprecatedFlag", "add_field", "add_subcommand", "flag_of", "help_of", "options_from_args"]


class DeprecatedFlag(argparse.Action):
    """An old flag name kept for one release: it works, and says which name replaces it."""

    def __init__(self, option_strings, dest, *, new_flag, **kwargs):
        self.new_flag = new_flag
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"probing: warning: {option_string} is deprecated and will be removed in the next "
              f"release; use {self.new_flag}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def flag_of(field, declared):
    if declared.flag:
        return declared.flag
    name = field.name.replace("_", "-")
    return f"--no-{name}" if field.default is True else f"--{name}"


def _shown(value):
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    return str(value)


def help_of(field, declared):
    text = declared.help
    if declared.choices is not None:
        text += f"; allowed: {', '.join(map(str, declared.choices))}"
    elif declared.values:
        text += f"; allowed: {declared.values}"
    if declared.default_text is not None:
        text += f" (default {declared.default_text})"
    elif not (declared.required or field.default is None or isinstance(field.default, bool)):
        text += f" (default {_shown(field.default)})"
    return text


def _reader(field, declared):
    if declared.type is not None:
        return declared.type
    default = field.default
    if isinstance(default, tuple):  # comma-separated on the command line
        return lambda text: tuple(part.strip() for part in text.split(","))
    return type(default) if default is not None else str


def add_field(parser, field, declared):
    """Add the flag(s) of one declared field to ``parser``."""
    flag = flag_of(field, declared)
    if declared.positional:
        parser.add_argument(field.name, type=declared.type or _reader(field, declared),
                            metavar=declared.metavar, nargs=declared.nargs,
                            choices=declared.choices, help=help_of(field, declared))
        return
    if isinstance(field.default, bool):
        parser.add_argument(flag, dest=field.name, action="store_false" if field.default
                            else "store_true", help=help_of(field, declared))
        return
    reader = _reader(field, declared)
    parser.add_argument(flag, dest=field.name, type=reader, default=argparse.SUPPRESS,
                        required=declared.required, metavar=declared.metavar,
                        help=help_of(field, declared))
    for old in declared.deprecated:
        parser.add_argument(old, dest=field.name, type=reader, action=DeprecatedFlag,
                            new_flag=flag, help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    if declared.none_flag:
        parser.add_argument(declared.none_flag, dest=field.name, action="store_const",
                            const=None, default=argparse.SUPPRESS, help=declared.none_help)


def add_subcommand(sub, command, handler):
    """Register ``command`` on argparse's subparsers ``sub``; ``handler(command, args)``."""
    p = sub.add_parser(command.name, help=command.help, description=command.description)
    what = "paradigm file" + ("" if command.kinds else ", or a stimuli table (.csv/.tsv/.parquet)")
    if not command.reads_paradigm:  # its inputs are its options (positional ones included)
        pass
    elif command.many:
        p.add_argument("files", type=Path, nargs="+", metavar="FILE", help=what + "s")
    else:
        p.add_argument("file", type=Path, metavar="FILE", help=what)
    for cls in (command.options, *command.settings):
        for field, declared in option_fields(cls):
            if declared.cli:
                add_field(p, field, declared)
    p.set_defaults(func=lambda args: handler(command, args))
    return p


def options_from_args(cls, args):
    """An options object of class ``cls`` from parsed arguments (its own checks run).

    Flags not given keep the dataclass default; argparse never supplies a default of its
    own, so the defaults live in the declaration only.
    """
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
             if hasattr(args, f.name)}
    return cls(**given)
