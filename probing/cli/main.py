"""The ``probing`` command line.

Errors caused by input (bad paradigm files, unknown models, ...) print one line on
stderr and exit with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import probing
from probing._core.errors import ProbingError
from probing.cli import declared

EXIT_USAGE = 2


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (the project's rule for bad
    input), pointing at ``--help`` instead of printing the usage block; exit code 2.
    ``add_subparsers`` builds every subcommand's parser from this class too."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    """The argument parser with every subcommand."""
    parser = _OneLineParser(
        prog="probing", description="Cognitive-neuroscience paradigms for language models.")
    parser.add_argument("--version", action="version", version=f"probing {probing.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in declared.REGISTRY:
        register(sub)
    return parser


def main(argv=None):
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        _resolve_files(args)
        return args.func(args) or 0
    except ProbingError as err:
        if args.debug:
            raise
        print(f"probing {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("probing: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`probing list | head`): stop quietly, as `ls | head` does.
        # stdout is pointed at devnull so that the interpreter's final flush cannot raise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _resolve_files(args):
    """Paradigm and experiment files given by name or by their documented shipped path
    (one rule for every command: :func:`probing._core.locations.resolve_file`), and
    ``--model`` checked before anything imports torch."""
    from probing._core.locations import resolve_file
    from probing._core.model_names import check_model_name

    if isinstance(getattr(args, "model", None), str):  # a typo fails before torch loads
        check_model_name(args.model)
    kind = "experiment" if args.command == "experiment" else "paradigm"
    if getattr(args, "file", None) is not None:
        args.file = resolve_file(args.file, file_type=kind)
    if getattr(args, "files", None):
        args.files = [resolve_file(f, file_type=kind) for f in args.files]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
