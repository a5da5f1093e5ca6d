"""Model cards as data: load a ``card.yaml``, validate it, and read it through a small typed API.

The card is the source of truth for every figure a README shows; ``zoo render-card`` draws the tables
from it and ``zoo verify`` checks its claims against the artifacts (``zoo.cards.checks`` checks a card on
its own).

>>> card = load_card(data_dir("model_cards") / "osnet_demo" / "card.yaml")
>>> card.outputs("osnet_demo")[0]["meaning"], card.distance
('embedding', 'cosine')
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.core.documents import (Document, load_yaml, own_stamp, read_yaml_text, schema_problems, schema_stamp,
                                write_stamp)
from zoo.core.errors import InvalidDataError, UsageError
from zoo.cards.protocol import record_protocol
from zoo.core.resources import data_dir, load_schema

# What a tensor is, from the words of its description; first match wins. The schema's ``meaning`` enum names
# the same things; rules compare the file's head with this, the importer reads upstream prose with it.
MEANINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("class_scores", ("class", "confidence", "probabilit", "score")),
    ("logits", ("logit",)),
    ("embedding", ("embedding", "feature vector", "descriptor")),
    ("boxes", ("box",)),
    ("keypoints", ("keypoint", "landmark")),
    ("mask", ("mask", "segment")),
    ("heatmap", ("heatmap",)),
    ("spectrogram", ("spectrogram", "mel")),
    ("audio", ("audio", "waveform")),
    ("image", ("image", "rgb", "pixel")),
)


def meaning_of_text(text: Any) -> str | None:
    """The meaning a phrase describes, or None.

    >>> meaning_of_text("float class confidences"), meaning_of_text("int8 embedding"), meaning_of_text("x")
    ('class_scores', 'embedding', None)
    """
    words = str(text or "").lower()
    return next((meaning for meaning, keys in MEANINGS if any(k in words for k in keys)), None)


def declared_meaning(tensor: dict[str, Any]) -> str | None:
    """What the card says a tensor is: its ``meaning`` (unless ``other``), else what its description says.

    >>> declared_meaning({"meaning": "other", "description": "128-d feature vector"})
    'embedding'
    """
    meaning = tensor.get("meaning")
    if meaning and meaning != "other" and meaning in {m for m, _ in MEANINGS}:
        return str(meaning)
    return meaning_of_text(tensor.get("description")) or meaning_of_text(meaning)


def record_key(record: dict[str, Any]) -> str:
    """The identity of a measurement: every field but the figures, plus which metrics it holds.

    Two records with one key are duplicates on a card, and a re-measure replaces the older one.

    >>> a = {"variant": "m", "dataset": "d", "values": {"mAP": {"value": 1, "unit": "%"}}}
    >>> record_key(a) == record_key({**a, "values": {"mAP": {"value": 2, "unit": "%"}}})
    True
    >>> record_key(a) == record_key({**a, "values": {"rank1": {"value": 1, "unit": "%"}}})
    False
    """
    values = record.get("values")
    metrics = sorted(values) if isinstance(values, dict) else []
    rest = {k: v for k, v in record.items() if k != "values"}
    return json.dumps({**rest, "values": metrics}, sort_keys=True, default=str)


def figure_number(figure: Any) -> float | None:
    """The number of a performance figure, or None when it holds a range or text (``~1.49-3.72``, ``N/A``).

    >>> figure_number({"value": 2.02, "unit": "ms"}), figure_number({"low": 1.49, "high": 3.72, "unit": "ms"})
    (2.02, None)
    """
    value = figure.get("value") if isinstance(figure, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _mappings(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


@dataclass(frozen=True)
class Card:
    """A loaded card, valid or not: ``data`` is the parsed YAML, ``doc`` keeps each value's line number and
    ``problems`` lists its schema violations (empty when valid).

    Every consumer (rules, verify, rendering, importing, card writing) takes a Card. The accessors never
    raise on a card that breaks its schema, so ``zoo verify`` can still check the rest of it.
    """

    path: Path
    doc: Document
    problems: tuple[str, ...] = ()

    @property
    def data(self) -> dict[str, Any]:
        return self.doc.data

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def family(self) -> str:
        return str(self.data.get("family", ""))

    @property
    def title(self) -> str:
        return str(self.data.get("title", ""))

    @property
    def use_case(self) -> str:
        return str(self.data.get("use_case", ""))

    @property
    def variants(self) -> list[dict[str, Any]]:
        return _mappings(self.data.get("variants"))

    @property
    def variant_ids(self) -> list[str]:
        return [str(v.get("id")) for v in self.variants]

    def find_variant(self, vid: str) -> dict[str, Any] | None:
        """The variant entry ``vid`` (the first of that id), or None; a lookup, not a scan: importing a table of
        5,000 rows asks for a variant per row."""
        return self._variant_index().get(vid)

    def has_variant(self, vid: str) -> bool:
        return self.find_variant(vid) is not None

    def _variant_index(self) -> dict[Any, dict[str, Any]]:
        """id -> variant (the first of that id)."""
        def build(variants: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
            index: dict[Any, dict[str, Any]] = {}
            for variant in variants:
                with contextlib.suppress(TypeError):  # an unhashable id (a list) is a schema problem, found elsewhere
                    index.setdefault(variant.get("id"), variant)
            return index
        return self._indexed("variants", build)

    def _indexed(self, key: str, build: Any) -> Any:
        """``build(the card's list under key)``, kept until that list is replaced or grows or shrinks: a card of
        thousands of rows asks for a variant or its records once per row."""
        raw = self.data.get(key)
        stamp = (id(raw), len(raw) if isinstance(raw, list) else -1)
        cached = self.__dict__.get(f"_index_{key}")
        if cached is None or cached[0] != stamp:
            cached = self.__dict__[f"_index_{key}"] = (stamp, build(_mappings(raw)))  # frozen: the cache is no field
        return cached[1]

    def variant(self, vid: str) -> dict[str, Any]:
        """The variant entry ``vid``; an unknown id is a usage error naming the known ones."""
        found = self.find_variant(vid)
        if found is None:
            raise UsageError(f"card has no variant {vid!r} (it has: {', '.join(self.variant_ids)})", path=self.path)
        return found

    def inputs(self, vid: str) -> list[dict[str, Any]]:
        """Input tensors of ``vid``: its own override, else the card's shared list (may be empty)."""
        return self._tensors(vid, "inputs")

    def outputs(self, vid: str) -> list[dict[str, Any]]:
        """Output tensors of ``vid``: its own override, else the card's shared list (may be empty)."""
        return self._tensors(vid, "outputs")

    def _tensors(self, vid: str, kind: str) -> list[dict[str, Any]]:
        own = _mapping(self.find_variant(vid)).get(kind)
        return _mappings(own if own is not None else self.data.get(kind))

    @property
    def preprocessing(self) -> dict[str, Any]:
        return _mapping(self.data.get("preprocessing"))

    @property
    def quantization(self) -> dict[str, Any]:
        return _mapping(self.data.get("quantization"))

    @property
    def evaluation(self) -> dict[str, Any]:
        return _mapping(self.data.get("evaluation"))

    @property
    def distance(self) -> str:
        """The distance the card's figures were computed with (cosine unless it says otherwise)."""
        return str(self.evaluation.get("distance", "cosine"))

    @property
    def protocol(self) -> str:
        """The evaluation protocol of the card's accuracy figures (``zoo.reid.protocols``; market1501 unless it says)."""
        return record_protocol(self.evaluation, {})

    @property
    def performance(self) -> list[dict[str, Any]]:
        return _mappings(self.data.get("performance"))

    def records(self, variant: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Performance records, optionally of one variant and of one ``measured_on.kind`` (board or host).

        Records without ``measured_on`` (accuracy on a dataset) are returned only when ``kind`` is None.
        """
        def build(records: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
            by_variant: dict[Any, list[dict[str, Any]]] = {}
            for r in records:
                with contextlib.suppress(TypeError):
                    by_variant.setdefault(r.get("variant"), []).append(r)
            return by_variant

        return [
            r
            for r in (self.performance if variant is None else self._indexed("performance", build).get(variant, []))
            if (variant is None or r.get("variant") == variant)
            and (kind is None or _mapping(r.get("measured_on")).get("kind") == kind)
        ]

    @property
    def datasets(self) -> list[dict[str, Any]]:
        return _mappings(self.data.get("datasets"))

    def dataset(self, dataset_id: str) -> dict[str, Any] | None:
        return next((d for d in self.datasets if d.get("id") == dataset_id), None)


def read_card(path: str | Path, *, text: str | None = None, verdicts: Path | None = None) -> Card:
    """Read ``path`` (a card.yaml or its folder) and record its schema problems without raising on them.

    ``verdicts`` is a folder that remembers card texts which already passed the schema (this user's own stamps,
    ``zoo.core.documents.own_stamp``): such a card is not checked again. Raises ``ConfigError`` only when there
    is no card to speak of: unreadable, broken YAML, not a mapping.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "card.yaml"
    if verdicts is not None and text is None:
        text = read_yaml_text(path)
    doc = load_yaml(path, text=text)
    if not isinstance(doc.data, dict):
        raise InvalidDataError([doc.problem((), "a card must be a mapping of keys to values")], path=path)
    stamp = schema_stamp(verdicts, "card", text, load_schema("card")) if verdicts is not None and text else None
    if stamp is not None and own_stamp(stamp):
        return Card(path=path, doc=doc, problems=())
    problems = tuple(schema_problems(doc, load_schema("card")))
    if stamp is not None and not problems:
        write_stamp(stamp)
    return Card(path=path, doc=doc, problems=problems)


def load_card(path: str | Path, *, text: str | None = None, verdicts: Path | None = None) -> Card:
    """Read ``path`` and require it to follow the card schema; raise ``InvalidDataError`` listing every problem."""
    card = read_card(path, text=text, verdicts=verdicts)
    if card.problems:
        raise InvalidDataError(list(card.problems), path=card.path)
    return card


def default_card_paths() -> list[Path]:
    """Every ``card.yaml`` shipped under ``model_cards/``."""
    return sorted(data_dir("model_cards").glob("*/card.yaml"))


def card_path(path: str | Path) -> Path:
    """The card.yaml a command line names: the file itself, its folder, or the README.md beside it.

    >>> card_path("cards/osnet/README.md"), card_path("cards/osnet/card.yaml")
    (PosixPath('cards/osnet/card.yaml'), PosixPath('cards/osnet/card.yaml'))
    """
    path = Path(path)
    if path.is_dir():
        return path / "card.yaml"
    return path.parent / "card.yaml" if path.suffix == ".md" else path
