"""Options and output helpers shared by the command groups."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        metavar="PATH",
        help="registry file or folder to use (default: $ZOO_REGISTRY, else the one shipped with zoo)",
    )


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """--mirror, --offline and --quiet for every command that fetches artifacts."""
    parser.add_argument("--mirror", metavar="URL_OR_DIR", action="append", default=[],
                        help="try <mirror>/<model id>/<file> before the registry's sources (repeatable; also $ZOO_MIRROR)")
    parser.add_argument("--offline", action="store_true",
                        help="no network: serve from the cache and local mirrors (also $ZOO_OFFLINE=1)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def add_fetch_options(parser: argparse.ArgumentParser) -> None:
    """Everything a command that fetches and reports takes: sources, --registry and --json."""
    add_source_options(parser)
    add_registry_option(parser)
    add_json_option(parser)


def settings_for(args: argparse.Namespace):  # -> zoo.settings.Settings
    """The run's one Settings: the environment with this command's --mirror/--offline/--registry on top."""
    from zoo.settings import Settings

    return Settings.from_env().with_flags(mirrors=getattr(args, "mirror", ()), offline=getattr(args, "offline", False),
                                          registry=getattr(args, "registry", None))


def show_progress(args: argparse.Namespace) -> bool:
    """Progress bars only on a terminal, never with --quiet or --json (they would interleave with the JSON)."""
    return not getattr(args, "quiet", False) and not getattr(args, "json", False) and sys.stderr.isatty()


def fetch_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for zoo.fetching.fetch/pull: the run's settings and whether to draw progress."""
    return {"settings": args.settings, "progress": show_progress(args)}


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a machine-readable JSON document")


def load_registry_for(args: argparse.Namespace):  # -> zoo.registry.Registry
    """The registry the user selected: --registry, else $ZOO_REGISTRY, else the shipped one (loaded once a run)."""
    from zoo.registry import load_registry

    if getattr(args, "registry_loaded", None) is None:
        settings = args.settings
        args.registry_loaded = load_registry(settings.registry, verdicts=settings.cache_dir / "verdicts")
    return args.registry_loaded


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def resolve_target(args: argparse.Namespace, target: str, **options: Any):  # -> zoo.resolving.Resolved
    """``FILE|ID`` of a command, resolved against the selected registry; an id is fetched with the run's settings."""
    from zoo.fetching import fetch
    from zoo.resolving import resolve

    return resolve(target, load_registry_for(args), fetch=lambda artifact: fetch(artifact, **fetch_options(args)),
                   **options)
