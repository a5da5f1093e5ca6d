"""``zoo golden``: record or refresh the golden outputs of a zoo's models, for any registry.

Goldens are made from the verified bytes (fetched into the cache like ``zoo pull``), written inside the
zoo's own folder (``goldens/<id>/<version>/<file stem>.json``, or where the registry already points inside
it) and linked from the registry's ``golden:`` key through the round-trip editor.
"""

from __future__ import annotations

import json
from pathlib import Path

from zoo.catalog.editing import registry_file, set_golden
from zoo.catalog.registry import load_registry
from zoo.core.errors import IntegrityError, UsageError
from zoo.core.files import safe_name, write_atomic
from zoo.core.settings import Settings


def golden_path(root: Path, model_id: str, version: str, file: str) -> Path:
    """Where ``zoo add`` keeps the golden of one file of one version."""
    return root / "goldens" / safe_name(model_id, "model id") / safe_name(version, "version") / \
        f"{Path(safe_name(file)).stem}.json"


def write_golden(model: Path, target: Path, *, expect_sha256: str) -> None:
    """Run ``model`` on the golden inputs and write the outputs to ``target`` (atomically); the bytes run must be
    the bytes registered."""
    from zoo.model.goldens import make_golden

    doc = make_golden(model)
    if doc["sha256"] != expect_sha256:
        raise IntegrityError(f"changed while it was read (sha256 {doc['sha256']}, expected {expect_sha256})",
                             path=model)
    write_atomic(target, json.dumps(doc, separators=(",", ":")) + "\n")


def refresh_goldens(registry_path: str | Path, ref: str, *, settings: Settings) -> list[Path]:
    """Make or refresh the goldens of every TFLite file of ``ref`` (``ID`` or ``ID@VERSION``)."""
    from zoo.artifacts.fetching import fetch

    path = registry_file(registry_path)
    registry = load_registry(path)
    model = registry.get(ref)
    root = path.resolve().parent
    written = []
    for artifact in (a for a in model.artifacts if a.format == "tflite"):
        target = artifact.golden
        if target is None or root not in target.parents:  # never write outside the zoo's folder
            target = golden_path(root, model.id, model.version, artifact.file)
        write_golden(fetch(artifact, settings=settings), target, expect_sha256=artifact.sha256)
        set_golden(path, model.id, artifact.file, target.relative_to(root).as_posix(), version=model.version)
        written.append(target)
    if not written:
        raise UsageError(f"{model.ref} has no TFLite file to record goldens for")
    return written
