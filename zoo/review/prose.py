"""What the card says in words against what its tables and links say: the task, the tools, the execution
engine against its load, inputs and outputs against the use case."""

from __future__ import annotations

import re
from collections.abc import Iterator

from zoo.cards.units import QUALITY
from zoo.importer.sections import is_tensor_table
from zoo.importer.tables import header_key
from zoo.markdown.cells import clean_text, printed_interval
from zoo.review.findings import Finding, finding
from zoo.review.links import use_case_folder
from zoo.review.page import Page
from zoo.verification.rules.base import Severity

_TASKS = {"object_detection": r"object detection", "instance_segmentation": r"instance segmentation",
          "semantic_segmentation": r"semantic segmentation", "pose_estimation": r"pose estimation",
          "image_classification": r"image classification", "face_detection": r"face detection",
          "depth_estimation": r"depth estimation", "re_identification": r"re-?identification",
          "speech_enhancement": r"speech enhancement", "audio_event_detection": r"audio event detection",
          "human_activity_recognition": r"activity recognition", "hand_posture": r"hand posture"}
_CLOSE = {frozenset({"object_detection", "face_detection"}), frozenset({"pose_estimation", "object_detection"})}
_LOAD = re.compile(r"^%\s*(npu|gpu|cpu)$|^(npu|gpu|cpu)\s*(load|%|usage)")


def task(page: Page) -> Iterator[Finding]:
    """A model described as made for another use case's task than the card's (a detection card saying its model
    is for instance segmentation)."""
    own = use_case_folder(page.source.use_case)
    if own is None:
        return
    words = "|".join(_TASKS.values())
    pattern = re.compile(rf"\b(?:designed|intended|made|built|trained|used)\s+(?:\w+\s+){{0,2}}?for\s+(?:the\s+)?"
                         rf"(?:[\w-]+\s+){{0,2}}?({words})\s+tasks?\b", re.I)
    for line, text in page.prose():
        for found in pattern.finditer(text):
            said = next(k for k, v in _TASKS.items() if re.fullmatch(v, found.group(1), re.I))
            if said != own and frozenset({said, own}) not in _CLOSE:
                yield finding(page.path, line, "readme.contradiction",
                              f"this {own.replace('_', ' ')} card says its model is designed for "
                              f"{found.group(1)}; fix the description")


def engines(page: Page) -> Iterator[Finding]:
    """An execution engine against the load the same row gives each unit: ``2 CPU`` with CPU 0 % and NPU 64 %."""
    for row in page.rows:
        engine = row.cell("engine").lower()
        if not engine:
            continue
        loads = {}
        for col in row.cols:
            found = _LOAD.search(header_key(col.header).replace("(%)", "%")) or _LOAD.search(clean_text(col.header).lower())
            got = printed_interval(row.cells[col.index]) if found else None
            if got:
                loads[(found.group(1) or found.group(2))] = (got[0], got[1], clean_text(row.cells[col.index]))
        if not loads:
            continue
        uses = {u for u in ("npu", "gpu", "cpu") if re.search(rf"\b{u}\b", engine)}
        wrong = [f"{u.upper()} {text} %" for u, (low, high, text) in loads.items()
                 if (u in uses and high <= 0) or (uses and u not in uses and low > 0.5)]
        if wrong and uses:
            yield finding(page.path, row.line, "readme.contradiction",
                          f"execution engine {row.cell('engine')!r} but the row's load is {', '.join(wrong)}; fix the "
                          "engine or the load")


def tools(page: Page) -> Iterator[Finding]:
    """The quantization tool or framework the card names against the files its rows link (ONNX tools for
    .tflite files, TensorFlow Lite for .onnx files)."""
    suffixes = {r.link.file_name.rsplit(".", 1)[-1].lower() for r in page.rows if r.link and "." in r.link.file_name}
    quantized = suffixes & {"tflite", "onnx"}
    if len(quantized) != 1:
        return
    have = quantized.pop()
    claims = ((r"quantiz\w*\s+(?:\w+\s+){0,3}?(?:with|using|by)\s+(?:the\s+)?onnx", "onnx"),
              (r"quantiz\w*\s+(?:\w+\s+){0,3}?(?:with|using|by)\s+(?:the\s+)?(?:tf\s*lite|tensorflow\s*lite|tflite)", "tflite"))
    names = {"onnx": r"\bonnx\b", "tflite": r"tf\s*lite|tensorflow\s*lite|tflite"}
    for line, text in page.prose():
        plain = clean_text(text).replace("*", "")
        if re.search(names[have], plain, re.I):
            continue  # "with the TFLite converter or the ONNX quantizer" names the linked files' tool too
        for pattern, kind in claims:
            if kind != have and re.search(pattern, plain, re.I):
                yield finding(page.path, line, "readme.format",
                              f"says the model is quantized with {'ONNX' if kind == 'onnx' else 'TensorFlow Lite'} "
                              f"tools, but every quantized model the card links is a .{have} file; fix the sentence")
    for table in page.source.tables:
        if not table.headers or not header_key(table.headers[0]).startswith("network information"):
            continue
        for n, cells in enumerate(table.rows):
            if clean_text(cells[0]).lower() != "framework" or len(cells) < 2:
                continue
            value = clean_text(cells[1]).lower()
            said = "onnx" if "onnx" in value else "tflite" if re.search(r"tf\s*lite|tensorflow\s*lite", value) else None
            if said and said != have:
                yield finding(page.path, table.row_line(n), "readme.format",
                              f"framework {clean_text(cells[1])!r} but every quantized model the card links is a .{have} file")


def io(page: Page) -> Iterator[Finding]:
    """Inputs and outputs: a re-ID (embedding) model whose output is described as class confidences; a card with
    no input/output table only gets a warning (prose, or nothing, is an omission, not an error)."""
    found = {is_tensor_table(t): t for t in page.source.tables if is_tensor_table(t)}
    if "outputs" not in found or "inputs" not in found:
        yield finding(page.path, _io_line(page), "readme.io",
                      "no input or output table; give the tensors' shapes and types in one", Severity.WARNING)
    own = use_case_folder(page.source.use_case)
    table = found.get("outputs")
    if own == "re_identification" and table is not None:
        for n, cells in enumerate(table.rows):
            text = " ".join(clean_text(c) for c in cells).lower()
            if re.search(r"per[- ]class|class (confidence|probabilit|score)|classes", text):
                yield finding(page.path, table.row_line(n), "readme.io",
                              "a re-identification model outputs an embedding, but this row describes per-class "
                              "confidences; describe the embedding (its size and type)")


def _io_line(page: Page) -> int:
    return next((n + 1 for n, t in enumerate(page.lines) if re.match(r"#+\s*networks? inputs?", t.strip(), re.I)), 1)


def multipliers(page: Page) -> Iterator[Finding]:
    """Two model sizes given for one depth multiplier (``alpha=0.35 | 1.66 M`` and ``alpha=0.35 | 3.5 M``)."""
    seen: dict[str, tuple[str, int]] = {}
    for table in page.source.tables:
        if not table.headers or not header_key(table.headers[0]).startswith("network information"):
            continue
        for n, cells in enumerate(table.rows):
            key = clean_text(cells[0]).lower()
            alpha = re.search(r"(?:alpha|depth multiplier|width)\s*=?\s*(\d+(?:\.\d+)?)", key)
            if not alpha or len(cells) < 2 or not re.search(r"param", key):
                continue
            value = clean_text(cells[1])
            if alpha.group(1) in seen and seen[alpha.group(1)][0] != value:
                yield finding(page.path, table.row_line(n), "readme.contradiction",
                              f"alpha={alpha.group(1)} has {value} here and {seen[alpha.group(1)][0]} on line "
                              f"{seen[alpha.group(1)][1]}; one depth multiplier, one size")
            seen.setdefault(alpha.group(1), (value, table.row_line(n)))


def references(page: Page) -> Iterator[Finding]:
    """A heading that sends the reader to a section the card does not have (``see Accuracy for details``)."""
    headings = " ".join(t.lower() for n, t in enumerate(page.lines)
                        if t.lstrip().startswith("#") and n not in page.code and "see " not in t.lower())
    quality = any(c.role == "metric" and c.metric and c.metric.quantity in QUALITY
                  for r in page.rows for c in r.cols)
    for line, text in page.prose():
        for found in re.finditer(r"see (\w+) for details", text, re.I):
            if found.group(1).lower() not in headings and not (quality and found.group(1).lower() == "accuracy"):
                yield finding(page.path, line, "readme.reference",
                              f"sends the reader to {found.group(1)}, a section this card does not have",
                              Severity.WARNING)
