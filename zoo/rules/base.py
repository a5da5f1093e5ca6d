"""What every rule returns (``Check``) and the card-data helpers the rules share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


ERROR, WARNING, INFO = "error", "warning", "info"
PASS, FAIL, WARN, NOT_CHECKED = "pass", "fail", "warn", "not_checked"

SCALE_RTOL = 1e-5  # cards print scales to ~9 significant digits; the file stores float32
PARAMETER_RTOL = 0.01  # published counts are rounded ("0.197 M")


@dataclass
class Check:
    """One rule applied once. ``status`` is pass, fail (an error), warn, or not_checked (with the reason)."""

    id: str
    severity: str
    status: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "status": self.status, "message": self.message,
                "details": self.details}


def check(rule: str, ok: bool, message: str, *, severity: str = ERROR, **details: Any) -> Check:
    """A passing check, or a failing one whose status follows the severity (warnings never fail)."""
    status = PASS if ok else (FAIL if severity == ERROR else WARN)
    return Check(rule, severity, status, message, details)


def not_checked(rule: str, reason: str, *, severity: str = ERROR) -> Check:
    return Check(rule, severity, NOT_CHECKED, reason)


# ---- card data helpers -------------------------------------------------------------------------------

def variant_data(card: dict[str, Any], variant_id: str) -> dict[str, Any] | None:
    return next((v for v in card.get("variants") or [] if v.get("id") == variant_id), None)


def declared_tensors(card: dict[str, Any], variant_id: str, kind: str) -> list[dict[str, Any]]:
    """The card's ``inputs``/``outputs`` for a variant: the variant's own, else the card-wide ones."""
    variant = variant_data(card, variant_id) or {}
    return list(variant.get(kind) or card.get(kind) or [])


def records_of(card: dict[str, Any], variant_id: str | None = None) -> list[dict[str, Any]]:
    return [r for r in card.get("performance") or [] if variant_id is None or r.get("variant") == variant_id]


_MEANINGS = (("class_scores", ("class", "score", "confidence", "probab")), ("logits", ("logit",)),
             ("embedding", ("embedding", "feature", "descriptor")), ("image", ("image", "pixel")))


def declared_meaning(tensor: dict[str, Any]) -> str | None:
    """What the card says a tensor is: its ``meaning``, else a word of its description (class, embedding...)."""
    for text in (tensor.get("meaning"), tensor.get("description")):
        words = str(text or "").lower()
        for meaning, keys in _MEANINGS:
            if any(k in words for k in keys):
                return meaning
    return None


def parse_resolution(text: Any) -> tuple[int, ...] | None:
    """``256x128x3`` -> (256, 128, 3); anything else -> None."""
    parts = re.split(r"\s*[x×*]\s*", str(text).strip().lower())
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def _hwc(shape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if len(shape) != 4:
        return shape
    return (shape[2], shape[3], shape[1]) if layout.upper() == "NCHW" else shape[1:]


def _decimals(value: float) -> int:
    text = repr(float(value))
    return 0 if text.endswith(".0") or "e" in text else len(text.split(".")[1])
