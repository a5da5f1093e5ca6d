"""``zoo pull``, ``zoo mirror`` and ``zoo cache list|verify|clean``: getting verified bytes and managing them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from zoo.cli.common import (add_fetch_options, add_json_option, fetch_options, load_registry_for, print_json, say,
                             table)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pull", help="download a model's artifacts into the cache, verified by sha256 and size")
    p.add_argument("model_id", metavar="ID")
    add_format_option(p)
    p.add_argument("--to", metavar="DIR", type=Path, help="also copy the verified files into DIR")
    add_fetch_options(p)
    p.set_defaults(func=cmd_pull)

    p = sub.add_parser("mirror", help="write <DIR>/<model id>/<file> from the cache, for --mirror elsewhere")
    p.add_argument("directory", metavar="DIR", type=Path)
    p.add_argument("model_ids", metavar="ID", nargs="*", help="models to include (default: all)")
    add_format_option(p)
    add_fetch_options(p)
    p.set_defaults(func=cmd_mirror)

    cache = sub.add_parser("cache", help="what is cached: list, re-hash (verify) or remove (clean)")
    actions = cache.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, func, text in (
        ("list", cmd_cache_list, "list cached artifacts"),
        ("verify", cmd_cache_verify, "re-hash every cached file; remove the ones that no longer match"),
        ("clean", cmd_cache_clean, "remove cached artifacts (all, or those of the given models)"),
    ):
        p = actions.add_parser(name, help=text)
        if name == "clean":
            p.add_argument("model_ids", metavar="ID", nargs="*", help="models to remove (default: everything)")
        add_json_option(p)
        p.set_defaults(func=func)


def add_format_option(parser: argparse.ArgumentParser) -> None:
    """One --format for pull and mirror, so the same command line selects the same files."""
    parser.add_argument("--format", choices=("tflite", "onnx", "keras", "all"),
                        help="default: the file zoo runs, the model's tflite (or onnx) artifact")


def _formats(args: argparse.Namespace) -> list[str]:
    """``--format`` as the library takes it: none selects the file zoo runs (tflite, else onnx)."""
    return [args.format] if args.format else []


def _artifact_json(pulled) -> dict[str, Any]:
    art = pulled.artifact
    return {"model": art.model_id, "file": art.file, "format": art.format, "size": art.size,
            "sha256": art.sha256, "path": str(pulled.path), "source": pulled.source}


def cmd_pull(args: argparse.Namespace) -> None:
    from zoo.api import pull

    pulled = pull(args.model_id, formats=_formats(args), to=args.to, registry=load_registry_for(args),
                  **fetch_options(args))
    if args.json:
        print_json({"model": args.model_id, "artifacts": [_artifact_json(p) for p in pulled]})
    else:
        print("\n".join(str(p.path) for p in pulled))


def cmd_mirror(args: argparse.Namespace) -> None:
    from zoo.artifacts.fetching import write_mirror

    registry = load_registry_for(args)
    paths = write_mirror(registry, args.directory, args.model_ids, formats=_formats(args), **fetch_options(args))
    if args.json:
        print_json({"mirror": str(args.directory), "files": [str(p) for p in paths]})
    else:
        print("\n".join(map(str, paths)))


def _cache(args: argparse.Namespace):
    from zoo.artifacts.cache import Cache

    return Cache(args.settings.cache_dir, lock_timeout=args.settings.lock_timeout)


def _entry_json(entry) -> dict[str, Any]:
    return {"sha256": entry.sha256, "size": entry.size, "path": str(entry.path), "names": list(entry.names),
            "source": entry.source}


def cmd_cache_list(args: argparse.Namespace) -> None:
    cache = _cache(args)
    entries = cache.entries()
    if args.json:
        print_json({"cache": str(cache.root), "entries": [_entry_json(e) for e in entries]})
        return
    print(f"cache: {cache.root}")
    if entries:
        rows = [(", ".join(e.names) or "-", f"{e.size:,}", e.sha256, e.source or "-") for e in entries]
        print(table(rows, ("artifact", "bytes", "sha256", "source")))


def cmd_cache_verify(args: argparse.Namespace) -> None:
    cache = _cache(args)
    results = cache.verify()
    bad = [e for e, ok in results if not ok]
    if args.json:
        print_json({"cache": str(cache.root), "entries": [{**_entry_json(e), "ok": ok} for e, ok in results],
                    "corrupt": len(bad)})
    else:
        rows = [(", ".join(e.names) or "-", e.sha256, "ok" if ok else "CORRUPT (removed)") for e, ok in results]
        print(table(rows, ("artifact", "sha256", "status")) if rows else f"cache: {cache.root} is empty")
    for entry in bad:
        say("error", f"{entry.path}: bytes no longer match their sha256; removed")
    if bad:
        from zoo.core.errors import IntegrityError

        raise IntegrityError(f"{len(bad)} cached file(s) no longer matched their sha256", reported=True)


def cmd_cache_clean(args: argparse.Namespace) -> None:
    import difflib

    from zoo.core.errors import UsageError, ZooError

    cache = _cache(args)
    known = {n.split("/")[0] for e in cache.entries() for n in e.names}
    if args.model_ids:
        try:
            known |= set(load_registry_for(args).models)
        except ZooError:
            pass  # a broken registry must not stop a clean: the cache's own names still count
    for name in args.model_ids or ():
        if name not in known:  # a typo must not look like "nothing to clean"
            close = difflib.get_close_matches(name, known, n=3)
            raise UsageError(f"cache clean {name}: no such model in the registry or the cache"
                             + (f" (did you mean {', '.join(close)}?)" if close else ""))
    kept: list = []
    removed = cache.clean(args.model_ids, kept=kept)
    if args.json:
        print_json({"cache": str(cache.root), "removed": [_entry_json(e) for e in removed],
                    "kept": [_entry_json(e) for e in kept]})
    else:
        for entry in removed:
            print(f"removed {', '.join(entry.names) or entry.sha256}")
    for entry in kept:
        say("note", f"kept {', '.join(entry.names) or entry.sha256}: another zoo process is using it; clean again "
                    "when it has finished")
