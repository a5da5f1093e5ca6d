"""The ``zoo`` command: parse arguments, call the library, print. Nothing else lives here.

Each command group registers its subcommands from its own module, and only the group of the command
being run is imported and built (``COMMANDS``); heavy libraries are imported inside the handlers, so
that a warm ``zoo pull`` starts fast. This is the one place where ``ZooError`` becomes an exit code and
a one-line message.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import NoReturn

from zoo import __version__
from zoo.cli.common import escaped_output, say, settings_for
from zoo.core.errors import EXIT_OK, EXIT_USAGE, ZooError

# Which module of zoo.cli registers each command, in the order ``zoo --help`` lists them. A command line
# names one command, so only its module is imported: ``zoo pull`` never builds ``evaluate``'s options.
COMMANDS = {
    "init": "own", "add": "own", "golden": "own",
    "list": "catalog", "info": "catalog",
    "pull": "fetch", "mirror": "fetch", "cache": "fetch",
    "validate": "cards", "render-card": "cards", "import-card": "cards",
    "inspect": "inspect", "bench": "inspect",
    "footprint": "footprint",
    "verify": "verify",
    "evaluate": "reid",
    "publish": "publish",
    "demo": "demo",
}


class _Parser(argparse.ArgumentParser):
    """argparse with the project's one-line errors: ``zoo: error: ...`` and exit 2, no usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"zoo: error: {message} (see {self.prog} --help)\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for ``command`` (every command when it is None or unknown: help and errors list them all).

    >>> build_parser("pull").parse_args(["pull", "osnet_a025"]).model_id
    'osnet_a025'
    """
    parser = _Parser(
        prog="zoo",
        description="Pull verified model-zoo artifacts and keep model cards true to the files they link.",
    )
    parser.add_argument("--version", action="version", version=f"zoo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    groups = [COMMANDS[command]] if command in COMMANDS else dict.fromkeys(COMMANDS.values())
    for group in groups:
        importlib.import_module(f"zoo.cli.{group}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv else None)
    with escaped_output():  # argparse quotes the arguments in its errors: they go through the printer too
        return _run(parser.parse_args(argv))


def _run(args: argparse.Namespace) -> int:
    try:
        args.settings = settings_for(args)  # built once; every command reads it from here
        args.func(args)  # a failure is raised: its class says the exit code
        return EXIT_OK
    except ZooError as exc:
        return report_error(exc, as_json=getattr(args, "json", False))
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `zoo list | head`: the reader left, nothing to report
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:  # about a path no layer expected to fail (a name longer than the OS allows)
        from zoo.core.files import path_error

        return report_error(path_error(exc), as_json=getattr(args, "json", False))


def report_error(exc: ZooError, *, as_json: bool = False) -> int:
    """Print ``exc`` as one line per problem on stderr (and as JSON on stdout with ``--json``); an error whose
    report was printed already (``exc.reported``) only sets the exit code."""
    if exc.reported:
        return exc.exit_code
    for line in exc.lines():
        say("error", line)
    if as_json:
        payload = {"error": {"type": type(exc).__name__, "exit_code": exc.exit_code, "messages": exc.lines()}}
        print(json.dumps(payload, indent=2))
    return exc.exit_code if exc.exit_code else EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
