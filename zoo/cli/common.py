"""Options and output helpers shared by the command groups."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
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


def fetch_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for zoo.fetching.fetch/pull from the options of ``add_source_options``.

    Progress bars only on a terminal, never with --quiet or --json (they would interleave with the JSON).
    """
    from zoo.settings import Settings

    return {
        "settings": Settings.from_env(),
        "mirrors": tuple(args.mirror),
        "offline": True if args.offline else None,
        "progress": not args.quiet and not getattr(args, "json", False) and sys.stderr.isatty(),
    }


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a machine-readable JSON document")


def load_registry_for(args: argparse.Namespace):  # -> zoo.registry.Registry
    """The registry the user selected: --registry, else $ZOO_REGISTRY, else the shipped one."""
    from zoo.registry import load_registry
    from zoo.settings import Settings

    settings = Settings.from_env()
    path = getattr(args, "registry", None) or settings.registry
    return load_registry(path, verdicts=settings.cache_dir / "verdicts")


def model_file(args: argparse.Namespace, registry) -> Path:
    """A path to a .tflite file: the file named, or the registry model's tflite artifact, fetched."""
    from zoo.errors import ModelFileError

    path = Path(args.target)
    if path.exists():
        return path
    if args.target not in registry.models:
        raise ModelFileError("no such file, nor a model id of the registry (see zoo list)", path=path)
    from zoo.fetching import fetch

    artifact = registry.get(args.target).artifact("tflite")
    return fetch(artifact, **fetch_options(args))


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")
