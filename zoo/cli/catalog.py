"""``zoo list`` and ``zoo info``: what the registry offers."""

from __future__ import annotations

import argparse
from typing import Any

from zoo.cli.common import add_json_option, add_registry_option, load_registry_for, print_json, say, table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the models of the registry")
    p.add_argument("--task", help="only models of this task (e.g. re_identification)")
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="show one model: its card, artifacts, sizes, hashes and sources")
    p.add_argument("model_id", metavar="ID")
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_info)


def _model_json(model) -> dict[str, Any]:
    return {
        "id": model.id,
        "family": model.family,
        "title": model.title,
        "task": model.task,
        "license": model.license,
        "card": str(model.card) if model.card else None,
        "version": model.version,
        "artifacts": [
            {
                "file": a.file,
                "format": a.format,
                "precision": a.precision,
                "size": a.size,
                "sha256": a.sha256,
                "sources": list(a.sources),
            }
            for a in model.artifacts
        ],
    }


def _claims(model, verdicts) -> list[dict[str, str]]:
    """What the model's card claims for it, one line per performance record (a broken card: none)."""
    from zoo.cards.card import read_card
    from zoo.core.errors import ConfigError

    if model.card is None:
        return []
    try:
        card = read_card(model.card, verdicts=verdicts)  # an unchanged card is not schema-checked again
    except ConfigError:
        return []
    out = []
    for record in card.records(model.id):
        on = record.get("measured_on") if isinstance(record.get("measured_on"), dict) else {}
        where = " ".join(str(on[k]) for k in ("board", "series", "target", "runtime", "cpu") if on.get(k))
        where = f"{record.get('dataset', '?')}, {where or on.get('kind', 'unspecified')}"
        values = record.get("values") if isinstance(record.get("values"), dict) else {}
        shown = ", ".join(f"{k} {v.get('value', v.get('text', '?'))}{' ' + str(v['unit']) if v.get('unit') else ''}"
                          for k, v in values.items() if isinstance(v, dict))
        out.append({"where": where, "values": shown})
    return out


def cmd_list(args: argparse.Namespace) -> None:
    registry = load_registry_for(args)
    models = registry.by_task(args.task)
    if args.json:
        print_json({"registry": str(registry.path), "models": [_model_json(m) for m in models]})
        return
    if not models:
        tasks = sorted({m.task for m in registry.models.values()})
        say("note", f"no model{f' of task {args.task}' if args.task else ''} in {registry.path}"
            + (f" (its tasks: {', '.join(tasks)})" if tasks else "; add one with zoo add"))
        return
    rows = [
        (m.id, m.family, m.task, m.title, ", ".join(f"{a.format}/{a.precision}" for a in m.artifacts))
        for m in models
    ]
    print(table(rows, ("id", "family", "task", "title", "artifacts")))


def cmd_info(args: argparse.Namespace) -> None:
    registry = load_registry_for(args)
    model = registry.get(args.model_id)
    versions = [{"version": v.version, "released": v.released, "notes": v.notes,
                 "files": [a.file for a in v.artifacts]} for v in registry.versions[model.id].values()]
    claims = _claims(model, args.settings.cache_dir / "verdicts")
    if args.json:
        print_json({**_model_json(model), "versions": versions, "aliases": model.aliases,
                    "default": registry.models[model.id].version, "claims": claims})
        return
    print(f"{model.ref}: {model.title}")
    print(f"  family {model.family}, task {model.task}, license {model.license or 'unknown'}")
    aliases = ", ".join(f"{a} -> {v}" for a, v in model.aliases.items())
    print(f"  versions {', '.join(model.versions)} (plain {model.id}: {registry.models[model.id].version})"
          + (f"; aliases {aliases}" if aliases else ""))
    if model.card:
        print(f"  card   {model.card}")
    for claim in claims:
        print(f"  claims {claim['where']}: {claim['values']}")
    rows = [(a.file, a.format, a.precision, f"{a.size:,}", a.sha256) for a in model.artifacts]
    print(table(rows, ("file", "format", "precision", "bytes", "sha256")))
    for a in model.artifacts:
        print(f"sources of {a.file}:")
        for s in a.sources:
            print(f"  {s}")
