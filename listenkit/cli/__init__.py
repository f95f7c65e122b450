"""The ``listenkit`` command: a thin layer over the library API.

Each sub-command lives in its own module in this package with a ``register(subparsers)`` function
that adds its parser and sets ``func(args) -> int``. Library errors (:class:`ListenkitError`) become
one line on stderr and exit code 2; Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from .. import wording
from ..errors import ListenkitError

#: sub-command modules, in the order ``listenkit --help`` lists them
COMMAND_MODULES = [
    "listenkit.cli.analyze_cmd",
    "listenkit.cli.live_cmd",
    "listenkit.cli.calibrate_cmd",
    "listenkit.cli.chart_cmd",
    "listenkit.cli.report_cmd",
    "listenkit.cli.history_cmd",
]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered sub-command."""
    from .. import __version__

    parser = argparse.ArgumentParser(prog="listenkit", description=wording.PROG_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"listenkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ListenkitError as exc:
        print(wording.error_line(str(exc)), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(wording.INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except MemoryError:
        print(wording.error_line(wording.UNEXPECTED_ERROR.format(detail="out of memory")), file=sys.stderr)
        return 1


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
