"""Format and precision rules: what the registry and each card row say a file is, against the file itself.

The STM32 model zoo publishes a model as TFLite and as ONNX (QDQ int8, float, mixed 4/8-bit weights), and
its tables' Format column is typed by hand: an ONNX QDQ row printed ``Float``, or a W4A8 file's figures on an
int8 row, is exactly the kind of drift a card must not carry. These rules read the file's format from its
content (``zoo.model.formats``) and its precision from its weights and activations
(``zoo.model.onnx_reader.quantization_facts``; TFLite: the dtype of its weights).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from zoo.cards.card import Card
from zoo.catalog.registry import Artifact
from zoo.model.inspection import ModelInfo
from zoo.verification.rules.base import Check, Severity, check

# The words cards use in a Format column, as the precision zoo reads from a file.
PRECISION_WORDS = {
    "float": "float32", "float32": "float32", "fp32": "float32", "f32": "float32",
    "float16": "float16", "fp16": "float16", "f16": "float16", "half": "float16",
    "int8": "int8", "qdq int8": "int8", "qdq_int8": "int8", "int8 qdq": "int8", "i8": "int8", "w8a8": "int8",
    "uint8": "int8", "qdq": "int8",
    "w4a8": "w4a8", "int4/int8": "w4a8", "w4": "w4a8", "mixed int4/int8": "w4a8",
    "int4": "int4", "w4a16": "w4a16", "w8a16": "w8a16", "int16": "w8a16",
}


SCHEMES = {"qdq": "QDQ", "qoperator": "QOperator", "dynamic": "dynamic quantization"}


def precision_word(text: object) -> str | None:
    """The precision a card's Format cell names, or None for a word zoo does not know.

    >>> precision_word("FP32"), precision_word(" Int8 "), precision_word("W4A8"), precision_word("NA")
    ('float32', 'int8', 'w4a8', None)
    """
    return PRECISION_WORDS.get(" ".join(str(text).lower().split()))


def describe(info: ModelInfo) -> str:
    """``int8 (ONNX QDQ, per-channel)``, ``w4a8 (ONNX QDQ, 38% of weights 4-bit)`` or ``int8 (TFLite)``."""
    q = info.quantization or {}
    parts = [info.format.upper() if info.format == "onnx" else "TFLite"]
    if q.get("scheme") in SCHEMES:
        parts[0] += f" {SCHEMES[q['scheme']]}"
        if q.get("granularity"):
            parts.append(str(q["granularity"]))
        if q.get("weights_4bit_share"):
            parts.append(f"{q['weights_4bit_share']:.0%} of weights 4-bit")
    return f"{info.precision} ({', '.join(parts)})"


def precision_checks(card: Card | None, artifact: Artifact, info: ModelInfo) -> Iterator[Check]:
    """The registry's format for the file, then every card row of the variant that stands for this file."""
    ok = artifact.format == info.format
    yield check("artifact.format", ok, f"{artifact.file} is {info.format.upper() if info.format == 'onnx' else 'TFLite'}"
                + (" as the registry says" if ok else f", the registry says format {artifact.format}; fix the registry"),
                declared=artifact.format, found=info.format)
    if card is None:
        return
    for i, record in enumerate(card.performance):
        if record.get("variant") != artifact.model_id or "format" not in record:
            continue
        link = record.get("artifact") or record.get("link")
        if link and PurePosixPath(str(link).split("?")[0]).name != artifact.file:
            continue  # a row of another file of this model (its .keras, or a TFLite twin): not this file's
        said = precision_word(record["format"])
        where = f"performance[{i}]"
        if said is None:
            yield check("records.format", True, f"{where}: format {record['format']!r} names no precision zoo knows; "
                        f"the file is {describe(info)}", severity=Severity.WARNING, record=i)
            continue
        ok = said == info.precision
        yield check("records.format", ok, f"{where}: format {record['format']}"
                    + (f" matches {artifact.file}, {describe(info)}" if ok else
                       f", but {artifact.file} is {describe(info)}; write {info.precision} or link the file the "
                       "figures belong to"), record=i, declared=record["format"], found=info.precision)
