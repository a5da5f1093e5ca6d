"""Options and output helpers shared by the command groups."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from zoo.core.text import printable, printable_lines


MAX_THREADS = 256  # more threads than any host has cores is a typo, not a request


def count(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in ``[low, high]`` (``--threads 100000`` is refused, not tried).

    >>> count(1, 8)("4")
    4
    """
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value
    return parse


def seconds(text: str) -> float:
    """An argparse type: a finite, non-negative number of seconds.

    >>> seconds("0.5")
    0.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0 <= value <= 24 * 3600):
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds from 0 to 86400")
    return value


def positive_seconds(text: str) -> float:
    """``seconds``, but more than zero (a lock wait of 0 s would fail every concurrent pull).

    >>> positive_seconds("30")
    30.0
    """
    value = seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def add_registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        metavar="PATH",
        help="registry file or folder to use (default: $ZOO_REGISTRY, else the zoo found from here upward, "
        "else the one shipped with zoo)",
    )


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """--mirror, --offline and --quiet for every command that fetches artifacts."""
    parser.add_argument("--mirror", metavar="URL_OR_DIR", action="append", default=[],
                        help="try <mirror>/<model id>/<file> before the registry's sources (repeatable; also $ZOO_MIRROR)")
    parser.add_argument("--offline", action="store_true",
                        help="no network: serve from the cache and local mirrors (also $ZOO_OFFLINE=1)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    parser.add_argument("--connections", type=int, metavar="N",  # its range is checked with the settings
                        help="HTTP connections at once: several artifacts, or byte ranges of a large one "
                        "(default 8, also $ZOO_HTTP_CONNECTIONS; 1: one at a time)")
    parser.add_argument("--lock-timeout", metavar="SECONDS", type=positive_seconds, default=None,
                        help="give up waiting for another zoo's download of the same file after this long "
                        "(default 600; also $ZOO_LOCK_TIMEOUT)")


def add_fetch_options(parser: argparse.ArgumentParser) -> None:
    """Everything a command that fetches and reports takes: sources, --registry and --json."""
    add_source_options(parser)
    add_registry_option(parser)
    add_json_option(parser)


def settings_for(args: argparse.Namespace):  # -> zoo.core.settings.Settings
    """The run's one Settings: the environment with this command's --mirror/--offline/--registry on top."""
    from zoo.core.settings import Settings
    from zoo.core.verdicts import remember_in

    settings = Settings.from_env().with_flags(
        mirrors=getattr(args, "mirror", ()), offline=getattr(args, "offline", False),
        registry=getattr(args, "registry", None), strict=getattr(args, "strict", None),
        connections=getattr(args, "connections", None), lock_timeout=getattr(args, "lock_timeout", None))
    remember_in(settings.cache_dir / "verdicts")  # a file that ran in a child once is not run there again
    return settings


def show_progress(args: argparse.Namespace) -> bool:
    """Progress bars only on a terminal, never with --quiet or --json (they would interleave with the JSON)."""
    return not getattr(args, "quiet", False) and not getattr(args, "json", False) and sys.stderr.isatty()


def fetch_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for zoo.artifacts.fetching.fetch/pull: the run's settings and whether to draw progress."""
    show_fetch_notes(verbose=show_progress(args))
    return {"settings": args.settings, "progress": progress_bar if show_progress(args) else None}


def say(kind: str, text: str) -> None:
    """One ``zoo: error: ...`` (or warning) line on stderr. ``text`` names files and cells from untrusted
    input, so a newline in it is shown escaped and can never forge a second line."""
    print(f"zoo: {kind}: {printable(text)}", file=sys.stderr)


class _Escaping:
    """A text stream that shows what zoo prints through ``printable_lines``: a report keeps its lines, but no
    name, op or message from a file can send a terminal an escape sequence or redraw a line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(printable_lines(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextlib.contextmanager
def escaped_output() -> Iterator[None]:
    """While a command runs, everything printed on stdout and stderr goes through the one printer.

    (JSON is escaped by ``json`` itself; progress bars draw on the real stream, ``progress_bar``.)"""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Escaping(sys.stdout), _Escaping(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _real(stream: TextIO) -> TextIO:
    return stream.stream if isinstance(stream, _Escaping) else stream


def show_fetch_notes(*, verbose: bool) -> None:
    """Print what ``zoo.artifacts.fetching`` logs on stderr: warnings (a source served wrong bytes) always, which
    source delivered only on a terminal, like the progress bars."""
    import logging  # here, not at the top: commands that fetch nothing never pay for it (~5 ms)

    class OneLine(logging.Formatter):
        """A log record is one line: the URLs and names in it come from registries and mirrors."""

        def format(self, record: logging.LogRecord) -> str:
            return printable(super().format(record))

    logger = logging.getLogger("zoo")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(OneLine("zoo: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def progress_bar(**kwargs: Any):  # -> tqdm.tqdm
    """A byte-counting bar on stderr, made by the cache when a download starts (tqdm imported only then).
    It draws with ``\\r`` on the real stream; its description (a file name) goes through the printer."""
    from tqdm import tqdm

    if "desc" in kwargs:
        kwargs["desc"] = printable(str(kwargs["desc"]))
    return tqdm(unit="B", unit_scale=True, unit_divisor=1024, leave=False, file=_real(sys.stderr), **kwargs)


def table(rows: list[tuple], headers: tuple[str, ...]) -> str:
    """Rows as a plain-text table (tabulate, imported only here: ``--json`` output never pays its ~25 ms)."""
    from tabulate import tabulate

    return tabulate(rows, headers=headers, disable_numparse=True)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a machine-readable JSON document")


def load_registry_for(args: argparse.Namespace):  # -> zoo.catalog.registry.Registry
    """The registry the user selected: --registry, else $ZOO_REGISTRY, else the shipped one (loaded once a run)."""
    from zoo.catalog.registry import load_registry

    if getattr(args, "registry_loaded", None) is None:
        settings = args.settings
        args.registry_loaded = load_registry(settings.registry, verdicts=settings.cache_dir / "verdicts")
    return args.registry_loaded


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def resolve_target(args: argparse.Namespace, target: str, **options: Any):  # -> zoo.artifacts.resolving.Resolved
    """``FILE|ID`` of a command, resolved against the selected registry; an id is fetched with the run's settings."""
    from zoo.api import resolve

    return resolve(target, registry=load_registry_for(args), **fetch_options(args), **options)


# zoo.model.runtime.KERNELS, spelled out here: building the parser must not import numpy and the interpreter,
# or every command (a warm `zoo pull` included) pays ~0.2 s for them. tests/test_pull_trust.py keeps them equal.
KERNELS = ("optimized", "reference")


def add_kernels_option(parser: argparse.ArgumentParser, *, both: bool = False) -> None:
    """--kernels: which kernel set the interpreter runs (``zoo.model.runtime.KERNELS``; ``both`` compares them)."""
    choices = (*KERNELS, "both") if both else KERNELS
    parser.add_argument("--kernels", choices=choices, default="optimized",
                        help="optimized: the runtime's default kernels (a host); reference: LiteRT's reference "
                        "kernels, bit-exact with TFLM (what an MCU computes; ~40x slower)"
                        + ("; both: each, and how they agree" if both else "") + " (default optimized)")
