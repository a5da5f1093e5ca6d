"""What ``zoo verify`` checks: model ids or card files, each card read once, split into CI shards."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from zoo.cards.card import Card, read_card
from zoo.core.errors import ConfigError, UsageError
from zoo.catalog.registry import Registry


@dataclass(frozen=True)
class Target:
    """One model to verify and the card it is checked against (read once per run, shared by its variants)."""

    model_id: str
    card_path: Path | None
    card: Card | None = field(default=None, compare=False, hash=False)
    card_error: ConfigError | None = field(default=None, compare=False, hash=False)  # why there is no Card


class _Cards:
    """Each card file read once, whether it is named on the command line or reached through the registry."""

    def __init__(self) -> None:
        self.read: dict[Path, tuple[Card | None, ConfigError | None]] = {}

    def target(self, model_id: str, path: Path | None) -> Target:
        if path is None:
            return Target(model_id, None)
        path = path.resolve()
        if path not in self.read:
            try:
                self.read[path] = (read_card(path), None)
            except ConfigError as exc:
                self.read[path] = (None, exc)
        card, error = self.read[path]
        return Target(model_id, path, card, error)


def select_targets(registry: Registry, names: Iterable[str]) -> list[Target]:
    """Model ids (``ID`` or ``ID@VERSION``), or card files (every variant of the card); no name means every model of the registry."""
    cards = _Cards()
    names = list(names)
    if not names:
        return [cards.target(m.id, m.card) for m in registry.models.values()]
    targets: list[Target] = []
    for name in names:
        path = Path(name)
        if model := registry.find(name):  # ID or ID@VERSION
            targets.append(cards.target(name, model.card))
        elif path.is_file():
            first = cards.target("", path)
            if first.card is None:
                targets.append(first)  # reported as the card's own failure
            targets += [cards.target(vid, path) for vid in (first.card.variant_ids if first.card else [])]
        else:
            registry.get(name)  # raises the usage error with close matches
    return list(dict.fromkeys(targets))


def shard(targets: list[Target], spec: str | None) -> list[Target]:
    """``I/N`` (1-based): every N-th target starting at the I-th, in a stable order, for CI matrices."""
    if not spec:
        return targets
    try:
        index, total = (int(x) for x in spec.split("/"))
        if not 1 <= index <= total:
            raise ValueError
    except ValueError:
        raise UsageError(f"--shard {spec!r}: expected I/N with 1 <= I <= N, e.g. 1/4") from None
    ordered = sorted(targets, key=lambda t: (t.model_id, str(t.card_path)))
    return ordered[index - 1 :: total]
