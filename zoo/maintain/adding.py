"""``zoo add``: register model files in a zoo from what the files themselves say.

Each file is hashed and read (format, precision, inputs and outputs, parameters, weights bytes, MACs); the
registry gets a schema-valid entry (a new model, or a new version of one) through the round-trip editor, so
its comments and layout stay; golden outputs are recorded; and the card's variant is created or updated with
what the file proves. A new version shares its model's card when the file has the same inputs, outputs and
parameters; one that differs says so and needs a card of its own (``--card``).
"""

from __future__ import annotations

import contextlib

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.cards.card import read_card
from zoo.cards.variants import write_variant
from zoo.catalog.editing import add_model, add_version, expand, registry_file
from zoo.catalog.registry import Registry, load_registry
from zoo.core.errors import ConfigError, UsageError
from zoo.core.files import write_atomic
from zoo.maintain.goldens import golden_path, write_golden
from zoo.model.footprint import compute_footprint
from zoo.model.formats import model_format
from zoo.model.inspection import ModelInfo, inspect_model

PRECISIONS = ("int8", "uint8", "int16", "float16", "float32", "int4", "w4a8", "w4a16", "w8a16")  # the registry's,
# besides "mixed"


@dataclass
class Added:
    """What ``add_files`` recorded, for the CLI to say."""

    ref: str  # ID@VERSION
    artifacts: list[dict[str, Any]]
    card: Path
    card_outcome: str  # created, added, updated, unchanged
    goldens: list[Path] = field(default_factory=list)


def add_files(registry_path: str | Path, files: Sequence[str | Path], *, model_id: str, version: str | None = None,
              sources: Sequence[str] = (), card: str | Path | None = None, family: str | None = None,
              title: str | None = None, task: str | None = None, license: str | None = None) -> Added:
    """Register ``files`` as model ``model_id`` (a new model) or as its version ``version`` (a new version).

    ``sources`` are templates (``{id}``, ``{file}``, ``{version}``); without any, a file inside the zoo's
    folder is its own source (a path relative to the registry). Raises ``UsageError`` for what the user can
    fix (an id taken without ``--version``, bytes already registered, a card whose I/O differs) and
    ``ModelFileError`` for a file that is not a readable model; nothing is written then.
    """
    path = registry_file(registry_path)
    registry = load_registry(path)
    root = path.resolve().parent
    existing = registry.models.get(model_id)
    if existing is not None and version is None:
        raise UsageError(f"model {model_id!r} is already in {path}: give --version V to add a new version "
                         f"(it has: {', '.join(existing.versions)})")
    name = version or "1"
    facts = [_read(Path(f), registry) for f in files]
    if len({i.path.name for i in facts}) != len(facts):
        raise UsageError("two files of one version have the same name; rename one")
    card_path, shared = _card_for(registry, root, model_id, card, existing)
    relative_card = _relative(card_path, root)  # before anything is written
    card_data = _card_fields(card_path, model_id, family, title, task, license, facts[0])
    tflite = facts[0]
    variant = variant_facts(model_id, tflite, card_data["title"])
    if shared and existing is not None:
        _same_architecture(card_path, variant, model_id, name)
    goldens: list[Path] = []
    artifacts = []
    card_before = card_path.read_bytes() if card_path.is_file() else None
    try:  # all or nothing: a registry edit that is refused takes back the goldens and the card it came with
        for info in facts:
            art = {"file": info.path.name, "format": info.format, "precision": _precision(info), "size": info.size,
                   "sha256": info.sha256, "sources": _sources(info.path, sources, root, model_id, name)}
            golden = golden_path(root, model_id, name, info.path.name)
            if not golden.exists():
                goldens.append(golden)
            write_golden(info.path, golden, expect_sha256=info.sha256)
            art["golden"] = golden.relative_to(root).as_posix()
            artifacts.append(art)
        outcome = write_variant(card_path, variant, card=card_data)
        if existing is None:
            add_model(path, model_id, family=card_data["family"], title=card_data["title"],
                      task=card_data["use_case"], artifacts=artifacts, card=relative_card,
                      license=card_data["license"]["id"], version=version)
        else:
            add_version(path, model_id, name, artifacts, card=None if shared else relative_card)
    except BaseException:
        _take_back(goldens, card_path, card_before)
        raise
    return Added(f"{model_id}@{name}", artifacts, card_path, outcome,
                 [golden_path(root, model_id, name, info.path.name) for info in facts])


def _take_back(new_goldens: list[Path], card_path: Path, card_before: bytes | None) -> None:
    """Remove the goldens this run created and put the card back as it was (best effort: the error is the news)."""
    for golden in new_goldens:
        golden.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        if card_before is None:
            card_path.unlink(missing_ok=True)
        elif card_path.read_bytes() != card_before:
            write_atomic(card_path, card_before)


def _read(path: Path, registry: Registry) -> ModelInfo:
    """The file's facts; a file that is neither TFLite nor ONNX (by content), or whose bytes the registry already
    holds, is refused."""
    if model_format(path) is None:
        raise UsageError("neither a TFLite model (no TFL3 identifier) nor an ONNX model; zoo add reads .tflite and "
                         ".onnx files", path=path)
    info = inspect_model(path)
    if (known := registry.by_sha256(info.sha256)) is not None:
        raise UsageError(f"these bytes are already registered as {known.ref} ({known.file}); released bytes "
                         "are registered once", path=path)
    return info


def _precision(info: ModelInfo) -> str:
    return info.precision if info.precision in PRECISIONS else "mixed"


def _sources(file: Path, templates: Sequence[str], root: Path, model_id: str, version: str) -> list[str]:
    """Expanded templates; without any, the file's own path relative to the zoo when it lies inside it."""
    if templates:
        return [expand(t, model_id=model_id, file=file.name, version=version) for t in templates]
    try:
        return [file.resolve().relative_to(root).as_posix()]
    except ValueError:
        raise UsageError(f"say where the released bytes of {file.name} live: --source TEMPLATE, e.g. "
                         "https://host/zoo/{id}/{file} or hf://org/repo/{file}@main (or put the file inside "
                         "the zoo's folder)") from None


def _card_for(registry: Registry, root: Path, model_id: str, card: str | Path | None,
              existing: Any) -> tuple[Path, bool]:
    """(card path, shared with the model's other versions?)"""
    if card is not None:
        path = Path(card).resolve()
        return path, existing is not None and existing.card is not None and existing.card == path
    if existing is not None and existing.card is not None:
        return existing.card, True
    return root / "model_cards" / model_id / "card.yaml", False


def _card_fields(card_path: Path, model_id: str, family: str | None, title: str | None, task: str | None,
                 license: str | None, info: ModelInfo) -> dict[str, Any]:
    """The card-level fields: the existing card's, else the options', else defaults from the file."""
    data: dict[str, Any] = {}
    if card_path.exists():
        data = read_card(card_path).data
    use_case = task or data.get("use_case")
    if not use_case:
        raise UsageError(f"say what {model_id} does: --task TASK (snake_case, e.g. image_classification, "
                         "object_detection, re_identification)")
    fields = {
        "schema_version": 1,
        "family": family or data.get("family") or model_id,
        "title": title or data.get("title") or model_id,
        "use_case": use_case,
        "framework": data.get("framework") or ("ONNX" if info.format == "onnx" else "TensorFlow Lite"),
        "license": {"id": license or (data.get("license") or {}).get("id") or "NOASSERTION"},
    }
    if _precision(info) in PRECISIONS:
        fields["quantization"] = {"precision": _precision(info)}
    return fields


def variant_facts(model_id: str, info: ModelInfo, label: str, *, path: Path | None = None) -> dict[str, Any]:
    """What one file proves about its variant, in the card's terms."""
    fp = compute_footprint(path or info.path)
    counted = ", ".join(f"{n:,} {dtype}" for dtype, n in info.parameters_by_dtype.items())
    return {
        "id": model_id,
        "label": label,
        "parameters": {"count": info.parameters, "counted": f"constant tensors of {info.path.name} ({counted})"},
        "footprint": {"weights_bytes": fp.weights_bytes, "macs": fp.macs},
        "inputs": [_tensor(t, _input_meaning(t.shape)) for t in info.inputs],
        "outputs": [_tensor(t, _output_meaning(info, j)) for j, t in enumerate(info.outputs)],
    }


def _tensor(t: Any, meaning: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name, "shape": t.display_shape}  # a dynamic dimension by its name
    if meaning == "image" and len(t.shape) == 4:
        out["layout"] = "NHWC" if t.shape[-1] in (1, 3, 4) else "NCHW"
    out["dtype"] = t.dtype
    if t.quantized and not t.per_channel:
        out["quantization"] = {"scale": float(t.scale), "zero_point": int(t.zero_point)}
    out["meaning"] = meaning
    return out


def _input_meaning(shape: tuple[int, ...]) -> str:
    """An NHWC or NCHW tensor of 1, 3 or 4 channels is an image; anything else the card must say."""
    return "image" if len(shape) == 4 and (shape[-1] in (1, 3, 4) or shape[1] in (1, 3, 4)) else "other"


def _output_meaning(info: ModelInfo, index: int) -> str:
    found = info.output_meaning(index)
    return "other" if found == "unknown" else found


def _same_architecture(card_path: Path, variant: dict[str, Any], model_id: str, version: str) -> None:
    """A new version shares the card only when the file has the card's inputs, outputs and parameters."""
    card = read_card(card_path)
    old = card.find_variant(model_id)
    if old is None:
        return
    for key, what in (("inputs", "inputs"), ("outputs", "outputs"), ("parameters", "parameter count")):
        said = old.get(key)
        now = variant[key]
        if key == "parameters":
            said, now = (said or {}).get("count"), now["count"]
        else:
            said = [{k: t.get(k) for k in ("shape", "dtype", "quantization")} for t in said or []]
            now = [{k: t.get(k) for k in ("shape", "dtype", "quantization")} for t in now]
        if said and said != now:
            raise UsageError(f"{model_id}@{version} differs from the card's variant {model_id} ({what}: card "
                             f"{said}, file {now}); give this version its own card with --card PATH",
                             path=card_path)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise ConfigError("the card must live inside the zoo's folder (the registry names it by a relative "
                          "path)", path=path) from None
