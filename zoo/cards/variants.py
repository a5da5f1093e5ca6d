"""Write what a model file proves into its card's variant, keeping everything a person wrote around it.

``zoo add`` calls this with the facts it read from the file (I/O tensors and their meaning, parameter count,
weights bytes and MACs). A missing card is created with the fields the card schema requires; an existing one
is edited as a round trip (``zoo.core.roundtrip``): comments, order and the other variants stay as they were,
and the result must still follow the card schema before it replaces the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zoo.cards.card import load_card
from zoo.core.roundtrip import edit_yaml, mapping

#: Variant keys a file proves; ``zoo add`` replaces them, a person's ``label``, ``training`` and ``link`` stay.
FILE_FACTS = ("parameters", "footprint", "inputs", "outputs")


def write_variant(card_path: str | Path, variant: Mapping[str, Any], *, card: Mapping[str, Any]) -> str:
    """Create or update variant ``variant["id"]`` of the card at ``card_path``; returns ``created`` (the card),
    ``added`` (the variant), ``updated`` or ``unchanged``.

    ``card`` holds the card-level fields a new card starts with (schema_version, family, title, ...).
    """
    path = Path(card_path)

    def check(text: str) -> None:
        load_card(path, text=text)  # InvalidDataError: nothing written

    if not path.exists():
        body = mapping(**card, variants=[dict(variant)])
        with edit_yaml(path, check, new="# Made by `zoo add`: variants hold what the files prove; add the rest by "
                                         "hand or with zoo import-card.\n{}\n") as doc:
            doc.data.update(body)
            doc.data.fa.set_block_style()
        return "created"
    outcome = "unchanged"
    with edit_yaml(path, check) as doc:
        variants = doc.data.setdefault("variants", mapping().__class__())
        found = next((v for v in variants if isinstance(v, dict) and v.get("id") == variant["id"]), None)
        if found is None:
            variants.append(mapping(**variant))
            outcome = "added"
        else:
            for key in FILE_FACTS:
                if key in variant and _plain(found.get(key)) != _plain(variant[key]):
                    found[key] = mapping(**{key: variant[key]})[key]
                    outcome = "updated"
    return outcome


def _plain(value: Any) -> Any:
    """A round-trip value as plain data, for comparison (``CommentedMap`` -> dict, tuples -> lists).

    >>> _plain({"a": (1, 2)})
    {'a': [1, 2]}
    """
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
