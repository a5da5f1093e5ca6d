"""What every rule returns, and the one catalog of rule ids, severities and thresholds.

A rule's severity lives here, not at the place that applies it, so a report, the README and a test can
list every rule ``zoo verify`` knows. Statuses and severities are closed sets (enums whose values are the
strings the JSON report has always carried).

>>> check("parameters.count", False, "card declares 197,000").status
<Status.FAIL: 'fail'>
>>> check("golden", False, "differs").severity is Severity.ERROR, rule("accuracy.rank5").id
(True, 'accuracy')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class _Word(str, Enum):
    """An enum that prints, formats and serialises as its plain value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Severity(_Word):
    ERROR = "error"  # a failing check fails the run
    WARNING = "warning"  # reported, never fails (vague or noisy evidence)
    INFO = "info"  # a figure shown beside a claim; nothing compared


class Status(_Word):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    NOT_CHECKED = "not_checked"


# Thresholds, each with why it is what it is.
SCALE_RTOL = 1e-5  # cards print scales to ~9 significant digits; the file stores float32
PARAMETER_RTOL = 0.01  # published counts are rounded ("0.197 M")
LATENCY_RATIO_WARN = 1.5  # host timings are noisy: outside this factor of the recorded figure is a warning
WEIGHTS_FLASH_RTOL = 0.01  # an MCU's weights flash is the file's constant buffers (+ alignment, a few bytes a tensor)
WEIGHTS_FLASH_ERROR_RTOL = 0.05  # between 1 % and 5 % a warning (another tool's padding), beyond it an error
TOLERANCE_PP = 1.0  # default accuracy tolerance in percentage points (re-measures on another CPU drift a little)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    checks: str  # what it compares, in one line
    needs_file: bool = False  # reported as not checked, with the reason, when the artifact cannot be had


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("card.schema", Severity.ERROR, "the card follows schemas/card.schema.json and is consistent"),
    Rule("card.evaluable", Severity.WARNING, "a card that claims accuracy says how images are resized for evaluate"),
    Rule("registry.schema", Severity.ERROR, "the registry follows schemas/registry.schema.json"),
    Rule("targets.schema", Severity.ERROR, "targets.yaml follows schemas/targets.schema.json"),
    Rule("card.variant", Severity.ERROR, "the model is a variant of its card"),
    Rule("registry.model", Severity.ERROR, "the card's variant is a model of the registry"),
    Rule("registry.precision", Severity.ERROR, "the registry's precision is the file's", True),
    Rule("records.variant", Severity.ERROR, "a performance record names a card variant the registry knows"),
    Rule("records.dataset", Severity.ERROR, "a performance record names a dataset of the card"),
    Rule("records.artifact", Severity.ERROR, "a record's link is an artifact of its variant in the registry"),
    Rule("records.derived", Severity.ERROR, "a stored inferences/s equals 1000 / time at its printed precision"),
    Rule("records.resolution", Severity.ERROR, "a record's resolution is the file's input"),
    Rule("artifact.sha256", Severity.ERROR, "the fetched file has the registry's sha256 and size", True),
    Rule("artifact.signature", Severity.ERROR, "the file carries a signature by the key or identity the registry "
         "trusts, over its sha256 (model-signing)", True),
    Rule("artifact.readable", Severity.ERROR, "the file is a well-formed TFLite or ONNX model", True),
    Rule("artifact.format", Severity.ERROR, "the registry's format (tflite, onnx) is the file's, read from its content",
         True),
    Rule("artifact.runs", Severity.ERROR, "one inference runs in the file's runtime (LiteRT, onnxruntime), tried in a "
         "child process", True),
    Rule("records.format", Severity.ERROR, "a row's format (int8, float32, w4a8...) is the precision of the file it "
         "stands for", True),
    Rule("io.input.count", Severity.ERROR, "the card lists as many inputs as the file has", True),
    Rule("io.output.count", Severity.ERROR, "the card lists as many outputs as the file has", True),
    Rule("io.input.shape", Severity.ERROR, "declared input shape = the file's (symbolic: warning)", True),
    Rule("io.output.shape", Severity.ERROR, "declared output shape = the file's (symbolic: warning)", True),
    Rule("io.input.dtype", Severity.ERROR, "declared input dtype = the file's", True),
    Rule("io.output.dtype", Severity.ERROR, "declared output dtype = the file's", True),
    Rule("io.input.quantization", Severity.ERROR, "declared input scale/zero point = the file's", True),
    Rule("io.output.quantization", Severity.ERROR, "declared output scale/zero point = the file's", True),
    Rule("io.output.meaning", Severity.ERROR, "what the card says the output is = what the file's head computes", True),
    Rule("quantization.precision", Severity.ERROR, "declared weight precision = the file's", True),
    Rule("preprocessing.rescale", Severity.ERROR, "the card's rescale = what the quantized input computes"),
    Rule("parameters.count", Severity.ERROR, f"declared parameters within {PARAMETER_RTOL:.0%} of the file's", True),
    Rule("parameters.published", Severity.INFO, "the upstream parameter figure against the file's"),
    Rule("golden", Severity.ERROR, "golden inputs reproduce their stored outputs within one quantization step", True),
    Rule("kernels.agreement", Severity.INFO, "optimized vs reference kernels on the golden inputs (--kernels both)"),
    Rule("accuracy", Severity.ERROR, "a claimed accuracy figure is reproduced under its protocol within the tolerance"),
    Rule("footprint.weights_flash", Severity.ERROR, f"MCU weights flash within {WEIGHTS_FLASH_RTOL:.0%} of the file's "
         f"constant buffers (a warning up to {WEIGHTS_FLASH_ERROR_RTOL:.0%}); NPU weights flash at least them", True),
    Rule("footprint.file", Severity.ERROR, "the variant's weights bytes and MACs (zoo add) are the file's", True),
    Rule("footprint.ram", Severity.ERROR, "internal + external RAM at least the activation lower bound", True),
    Rule("footprint.arena", Severity.INFO, "the greedy arena plan and TFLM's head next to the claimed RAM", True),
    Rule("footprint.time", Severity.ERROR, "a board time at least MACs / the target's peak (registry/targets.yaml)", True),
    Rule("footprint.rate", Severity.ERROR, "a stored inferences/s at most the target's peak / MACs", True),
    Rule("latency.host", Severity.WARNING, f"host latency within x{LATENCY_RATIO_WARN} of the card's host record"),
    # A published markdown card read on its own (zoo validate README.md, zoo.review): errors the card proves.
    Rule("readme.table", Severity.WARNING, "a table whose rows cannot be read"),
    Rule("readme.total", Severity.ERROR, "total RAM / flash = the sum of its parts within the printed rounding"),
    Rule("readme.rate", Severity.ERROR, "an inferences/s that some time inside the printed time's rounding gives"),
    Rule("readme.unit", Severity.ERROR, "units as columns state them: no unit twice, no KiB sum under kB, no raw "
         "count under millions"),
    Rule("readme.parameters", Severity.ERROR, "a parameter count fits the weights flash printed for the same model"),
    Rule("readme.link", Severity.ERROR, "links are well formed and open what their label names"),
    Rule("readme.citation", Severity.ERROR, "a citation mark points at a reference of the card"),
    Rule("readme.arxiv", Severity.ERROR, "arXiv ids are well formed, one id per paper"),
    Rule("readme.use_case", Severity.ERROR, "model links stay in the card's use case"),
    Rule("readme.format", Severity.ERROR, "format, precision and tools = what the linked file's name and type say"),
    Rule("readme.resolution", Severity.ERROR, "a row's resolution is whole and = the linked file's name and other rows"),
    Rule("readme.dataset", Severity.ERROR, "a row's dataset = its heading's and its file's other rows'"),
    Rule("readme.label", Severity.ERROR, "one label per file; paired memory and time tables list the same models"),
    Rule("readme.contradiction", Severity.ERROR, "the prose and a row agree with themselves (task, engine and load, "
         "sizes)"),
    Rule("readme.io", Severity.ERROR, "the inputs and outputs fit the use case (a re-ID model outputs an embedding)"),
    Rule("readme.reference", Severity.WARNING, "a pointer to another section finds it"),
)}


NEEDS_FILE = tuple(r.id for r in RULES.values() if r.needs_file)


def rule(rule_id: str) -> Rule:
    """The catalog entry of ``rule_id``; ``accuracy.mAP`` is an instance of ``accuracy``."""
    parts = rule_id.split(".")
    for end in range(len(parts), 0, -1):
        found = RULES.get(".".join(parts[:end]))
        if found is not None:
            return found
    raise KeyError(f"rule {rule_id!r} is not in zoo.verification.rules.base.RULES")


@dataclass
class Check:
    """One rule applied once: pass, fail (an error), warn, or not_checked (with the reason)."""

    id: str
    severity: Severity
    status: Status
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity.value, "status": self.status.value, "message": self.message,
                "details": self.details}


def check(rule_id: str, ok: bool, message: str, *, severity: Severity | None = None, **details: Any) -> Check:
    """A passing check, or a failing one whose status follows the severity (warnings and info never fail).

    ``severity`` overrides the catalog's where the evidence itself is weaker (a symbolic shape, a head that
    says nothing): the check then informs instead of failing.
    """
    level = severity or rule(rule_id).severity
    status = Status.PASS if ok else (Status.FAIL if level is Severity.ERROR else Status.WARN)
    return Check(rule_id, level, status, message, details)


def not_checked(rule_id: str, reason: str, *, severity: Severity | None = None) -> Check:
    return Check(rule_id, severity or rule(rule_id).severity, Status.NOT_CHECKED, reason)


def guarded(card_valid: bool, rule_id: str, run: Callable[[], Iterable[Check]]) -> list[Check]:
    """The checks ``run`` makes; on a card that breaks its schema, a value of the wrong type there makes the
    rule not checked (``card.schema`` already fails and says where) instead of a traceback.

    On a valid card nothing is caught: a rule that fails there is a bug to see.
    """
    if card_valid:
        return list(run())
    try:
        return list(run())
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        return [not_checked(rule_id, f"the card breaks its schema where this rule reads it ({type(exc).__name__}); "
                            "zoo validate says where")]


def parse_resolution(text: Any) -> tuple[int, ...] | None:
    """``256x128x3`` -> (256, 128, 3); anything else -> None.

    >>> parse_resolution("256 x 128"), parse_resolution("NxM")
    ((256, 128), None)
    """
    parts = re.split(r"\s*[x×*]\s*", str(text).strip().lower())
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def decimals(value: float | dict[str, Any]) -> int:
    """Digits after the point as printed: what precision a stored figure claims. Given the stored cell, the
    digits it was published with (``28.80`` is stored as 28.8 with ``digits: 2``, a claim to +-0.005).

    >>> decimals(2.02), decimals(74.8), decimals(241), decimals({"value": 28.8, "digits": 2})
    (2, 1, 0, 2)
    """
    if isinstance(value, dict):
        return int(value["digits"]) if value.get("digits") else decimals(value["value"])
    text = repr(float(value))
    return 0 if text.endswith(".0") or "e" in text else len(text.split(".")[1])
