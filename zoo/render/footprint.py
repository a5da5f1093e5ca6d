"""The README's generated "from the artifact" table: each variant's footprint, computed from its released file.

``zoo render-card --footprint`` fetches each variant's tflite or onnx artifact (cache, mirrors, sources, as
``pull``), computes its ``Footprint`` and fills the ``footprint`` region with one row per variant; a
variant whose file cannot be had gets a row saying so, never a guessed figure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from zoo.cards.card import Card
from zoo.core.errors import ZooError
from zoo.model.footprint import Footprint, compute_footprint, kib
from zoo.catalog.registry import RUNNABLE, Artifact, Registry
from zoo.markdown.layout import markdown_table

HEADERS = ["Model", "MACs", "Weights", "Activations (lower bound)", "Arena (greedy plan)"]
NOTE = ("Computed by `zoo footprint` from the released int8 files: weights are the file's constant buffers (what "
        "an MCU keeps in flash; int4 packed two per byte), MACs are counted per convolution and fully connected op, the lower bound is what "
        "any runtime must hold at once in the file's op order, and the arena is a greedy-by-size plan as "
        "TensorFlow Lite for Microcontrollers makes it.")


def footprint_row(label: str, fp: Footprint | None) -> list[str]:
    """One table row; ``fp`` None means the file could not be had."""
    if fp is None:
        return [label, "not available", "-", "-", "-"]
    return [label, f"{fp.macs / 1e6:.2f} M", kib(fp.weights_bytes), kib(fp.activation_lower_bound_bytes),
            kib(fp.arena_estimate_bytes)]


def footprint_region(card: Card, registry: Registry, fetch: Callable[[Artifact], Path]) -> tuple[str, list[str]]:
    """The ``footprint`` region of ``card`` and a warning per variant whose file could not be fetched or read."""
    rows, warnings = [], []
    for vid in card.variant_ids:
        model = registry.models.get(vid)
        artifact = next((a for a in model.artifacts if a.format in RUNNABLE), None) if model else None
        fp = None
        if artifact is not None:
            try:
                fp = compute_footprint(fetch(artifact))
            except ZooError as exc:
                warnings.append(f"{vid}: {exc.lines()[0]}")
        label = str((card.find_variant(vid) or {}).get("label") or vid)
        rows.append(footprint_row(label, fp))
    return f"{NOTE}\n\n{markdown_table(HEADERS, rows)}", warnings
