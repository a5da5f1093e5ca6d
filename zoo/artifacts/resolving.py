"""``FILE|ID`` -> the model file, its registry model and its card: the one resolver every command shares.

A registry id is fetched into the cache (verified); a file is matched to the registry by its sha256, so a
renamed copy of a released file still finds its card. ``inspect``, ``bench``, ``evaluate`` and ``verify``
all start here.

>>> from zoo.catalog.registry import load_registry
>>> found = resolve("osnet_demo", load_registry(), fetch=lambda artifact: Path(artifact.file), need_card=True)
>>> found.label, found.path.name, found.card.family
('osnet_demo', 'osnet_demo_int8.tflite', 'osnet_demo')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zoo.cards.card import Card, load_card
from zoo.core.errors import ModelFileError, UsageError
from zoo.core.files import sha256_file
from zoo.catalog.registry import Artifact, Model, Registry


@dataclass(frozen=True)
class Resolved:
    """What a ``FILE|ID`` argument names: the file to read, and what the registry and card say of it."""

    label: str  # the model id (``ID@V`` when a version was asked for), else the file's name
    path: Path
    model: Model | None
    card: Card | None  # read only when the command needs it (``need_card``)


def resolve(target: str, registry: Registry, *, fetch: Callable[[Artifact], Path], card: str | Path | None = None,
            need_card: bool = False, verdicts: Path | None = None) -> Resolved:
    """Resolve ``target`` (a model file or a model id); ``fetch`` turns the id's tflite or onnx artifact into a path.

    ``card`` overrides the registry's card. Only with ``need_card`` is the card read (inspect, bench and
    footprint look at the file alone, so a broken card does not stop them), and a file the registry does not
    know must then come with one (a usage error says so), since its preprocessing cannot be guessed.
    ``verdicts`` remembers cards that passed their schema (``zoo.cards.card.read_card``).
    """
    path = Path(target)
    if path.exists():
        if not path.is_file():
            raise ModelFileError("not a regular file", path=path)
        artifact = registry.by_sha256(sha256_file(path))
        model = registry.get(artifact.ref) if artifact else None
    elif model := registry.find(target):
        path = fetch(model.runnable())
    else:
        raise ModelFileError("no such file, nor a model id of the registry (see zoo list)", path=path)
    card_path = card or (model.card if model else None)
    if card_path is None and need_card:
        why = "is not in the registry" if model is None else f"({model.id}) has no card in the registry"
        raise UsageError(f"{target} {why}: pass --card CARD.yaml to say how to preprocess its images")
    loaded = load_card(card_path, verdicts=verdicts) if need_card and card_path else None
    label = (model.ref if "@" in target else model.id) if model else path.name
    return Resolved(label, path, model, loaded)
