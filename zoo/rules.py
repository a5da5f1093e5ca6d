"""The card-against-artifact rules: each has an id, a severity, and a message that says what to fix.

Rules are pure functions of card data (a dict shaped like ``model_cards/*/card.yaml``), the registry and,
for the artifact rules, the ``ModelInfo`` read from the released file. They never fetch or run anything,
so they can be tested on any card and file, and ``zoo verify`` decides what to feed them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from zoo.inspection import ModelInfo
from zoo.metrics_catalog import inferences_per_second, quantity_of_unit
from zoo.registry import Registry
from zoo.tensors import TensorInfo

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


# ---- card-wide rules (no artifact needed) ------------------------------------------------------------

def record_checks(card: dict[str, Any], registry: Registry) -> Iterator[Check]:
    """Every performance record names a card variant that the registry knows, and links a registry file."""
    variants = {v.get("id") for v in card.get("variants") or []}
    datasets = {d.get("id") for d in card.get("datasets") or []}
    for i, record in enumerate(records_of(card)):
        vid, where = record.get("variant"), f"performance[{i}]"
        known = vid in variants and vid in registry.models
        yield check("records.variant", known,
                    f"{where}: variant {vid!r} resolves to the card and the registry" if known else
                    f"{where}: variant {vid!r} is not {'a card variant' if vid not in variants else 'a registry model'}; "
                    "fix the record's variant or add the model", record=i, variant=vid)
        if "dataset" in record and datasets:
            ok = record["dataset"] in datasets
            yield check("records.dataset", ok, f"{where}: dataset {record['dataset']!r} "
                        + ("is listed in datasets" if ok else "is not in the card's datasets; add it there"), record=i)
        link = record.get("artifact") or record.get("link")
        if link and known:
            name = PurePosixPath(str(link).split("?")[0]).name
            files = {a.file for a in registry.models[vid].artifacts}
            yield check("records.artifact", name in files,
                        f"{where}: links {name}" + ("" if name in files else
                        f", which is not an artifact of {vid} in the registry ({', '.join(sorted(files))})"),
                        record=i, link=str(link))
    yield from derived_checks(card)


def derived_checks(card: dict[str, Any]) -> Iterator[Check]:
    """A stored inferences-per-second figure must equal 1000 / inference time (ms) at its printed precision."""
    for i, record in enumerate(records_of(card)):
        values = record.get("values") or {}
        time = next((v for v in values.values() if isinstance(v, dict) and quantity_of_unit(v.get("unit")) == "time"),
                    None)
        for name, v in values.items():
            if not isinstance(v, dict) or v.get("unit") != "inf/s" or not time or not time["value"]:
                continue
            ms = f"{time['value']} {time['unit']}"
            expected = inferences_per_second(float(time["value"]), time["unit"])
            ok = abs(float(v["value"]) - expected) <= 0.5 * 10 ** -_decimals(v["value"]) + 1e-9
            yield check("records.derived", ok,
                        f"performance[{i}]: {name} {v['value']} inf/s "
                        + ("matches" if ok else f"contradicts {ms} (1000 ms / {ms} = {expected:.3g}); fix one of them"),
                        record=i, stored=v["value"], derived=round(expected, 6))


def accuracy_claim_checks(card: dict[str, Any], variant_id: str, dataset_id: str, measured: dict[str, float],
                          tolerance_pp: float) -> list[Check]:
    """Each accuracy figure (%) the card claims for ``variant_id`` on ``dataset_id``, against ``measured`` (%).

    Measured records count as claims too: ``--write`` put them there, and a re-measure must reproduce them.
    """
    checks = []
    for i, record in enumerate(records_of(card, variant_id)):
        if record.get("dataset") != dataset_id:
            continue
        for metric, value in (record.get("values") or {}).items():
            if metric not in measured:
                continue
            diff = measured[metric] - float(value["value"])
            ok = abs(diff) <= tolerance_pp
            checks.append(check(f"accuracy.{metric}", ok, f"performance[{i}]: {metric} claimed {value['value']} %, "
                                f"measured {measured[metric]:.2f} % ({diff:+.2f} pp, tolerance {tolerance_pp} pp)"
                                + ("" if ok else "; correct the claim or the file"), claimed=value["value"],
                                measured=round(measured[metric], 4)))
    return checks


# ---- artifact rules ---------------------------------------------------------------------------------

def artifact_checks(card: dict[str, Any], variant_id: str, info: ModelInfo) -> Iterator[Check]:
    """Every rule that compares what the card declares for ``variant_id`` with the file's facts."""
    for kind, found in (("input", info.inputs), ("output", info.outputs)):
        declared = declared_tensors(card, variant_id, kind + "s")
        if len(declared) != len(found):
            yield check(f"io.{kind}.count", False, f"card declares {len(declared)} {kind}(s), the file has "
                        f"{len(found)}; list each {kind} of the file", declared=len(declared), found=len(found))
        for j, (want, got) in enumerate(zip(declared, found)):
            yield from _tensor_checks(kind, j, want, got, info)
    yield from quantization_checks(card, info)
    yield from rescale_checks(card, info)
    yield from parameter_checks(card, variant_id, info)
    yield from resolution_checks(card, variant_id, info)


def _tensor_checks(kind: str, j: int, want: dict[str, Any], got: TensorInfo, info: ModelInfo) -> Iterator[Check]:
    label = f"{kind} {j} ({want.get('name', got.name)})"
    shape = want.get("shape")
    if shape is not None:
        same = len(shape) == len(got.shape) and all(not isinstance(d, int) or d == g for d, g in zip(shape, got.shape))
        symbolic = same and any(not isinstance(d, int) for d in shape)  # vague ("N x M"), not false
        yield check(f"io.{kind}.shape", same and not symbolic,
                    f"{label}: shape {list(got.shape)}" + ("" if same and not symbolic else
                    f" in the file, card says {list(shape)}; write the file's shape"),
                    severity=WARNING if symbolic else ERROR, declared=list(shape), found=list(got.shape))
    if want.get("dtype"):
        ok = str(want["dtype"]).lower() == got.dtype
        yield check(f"io.{kind}.dtype", ok, f"{label}: dtype {got.dtype}"
                    + ("" if ok else f" in the file, card says {want['dtype']}; write {got.dtype}"),
                    declared=want["dtype"], found=got.dtype)
    q = want.get("quantization")
    if q:
        ok = got.quantized and math.isclose(float(q["scale"]), got.scale, rel_tol=SCALE_RTOL) \
            and int(q["zero_point"]) == got.zero_point
        yield check(f"io.{kind}.quantization", ok, f"{label}: scale {got.scale}, zero point {got.zero_point}"
                    + ("" if ok else f" in the file, card says scale {q['scale']}, zero point {q['zero_point']}"),
                    declared=q, found={"scale": got.scale, "zero_point": got.zero_point})
    if kind == "output":
        found = info.output_meaning(j)
        said = declared_meaning(want)
        if found == "unknown" or said is None:
            yield check("io.output.meaning", True, f"{label}: the file's head ({info.output_producers[j]}) does not say "
                        "what the output means; not compared", severity=INFO, declared=said, found=found)
        else:
            what = f"a {got.shape[-1]}-dim embedding ({info.output_producers[j]} global pool, no classifier)" \
                if found == "embedding" else f"{found} ({info.output_producers[j]})"
            yield check("io.output.meaning", said == found,
                        f"{label}: the file's output is {what}" + ("" if said == found else
                        f", but the card describes {said}; describe the output as the file computes it"),
                        declared=said, found=found)


def quantization_checks(card: dict[str, Any], info: ModelInfo) -> Iterator[Check]:
    declared = (card.get("quantization") or {}).get("precision")
    if declared:
        ok = str(declared).lower() == info.precision
        yield check("quantization.precision", ok, f"weights are {info.precision}"
                    + ("" if ok else f", card declares {declared}; fix quantization.precision"),
                    declared=declared, found=info.precision)
    if info.artifact is not None:
        ok = info.artifact.precision == info.precision
        yield check("registry.precision", ok, f"registry precision {info.artifact.precision}"
                    + (" matches the file" if ok else f" but the file's weights are {info.precision}; fix the registry"))


def rescale_checks(card: dict[str, Any], info: ModelInfo) -> Iterator[Check]:
    """Preprocessing ``x * scale + offset`` on raw pixels must be what the quantized input computes.

    A uint8 input with scale s and zero point z maps pixel p to s * (p - z): the card's rescale matches
    when scale == s and offset == -s * z within one step s (z = 127 stands for the unrepresentable 127.5).
    """
    rescale = (card.get("preprocessing") or {}).get("rescale")
    if not rescale or not info.inputs:
        return
    t = info.inputs[0]
    if not t.quantized or t.dtype not in ("uint8", "int8"):
        yield check("preprocessing.rescale", True, f"input is {t.dtype}: the caller applies the rescale", severity=INFO)
        return
    zero = t.zero_point + (128 if t.dtype == "int8" else 0)
    implied = -t.scale * zero
    ok = math.isclose(float(rescale["scale"]), t.scale, rel_tol=SCALE_RTOL) and \
        abs(float(rescale["offset"]) - implied) <= t.scale
    yield check("preprocessing.rescale", ok,
                f"rescale {rescale['scale']:.6g}, offset {rescale['offset']} "
                + ("matches" if ok else "contradicts") + f" the input quantization (scale {t.scale:.6g}, zero point "
                f"{t.zero_point}, i.e. offset {implied:.4f})" + ("" if ok else "; fix preprocessing.rescale"),
                declared=rescale, found={"scale": t.scale, "zero_point": t.zero_point})


def parameter_checks(card: dict[str, Any], variant_id: str, info: ModelInfo) -> Iterator[Check]:
    """Declared parameters (``count``, else the ``published`` figure) vs the constants stored in the file."""
    params = (variant_data(card, variant_id) or {}).get("parameters") or {}
    published = (params.get("published") or {}).get("value")
    declared = params.get("count", published)
    if declared is None:
        yield check("parameters.count", True, f"the file holds {info.parameters:,} parameters; the card "
                    "declares none (add parameters.count)", severity=WARNING, found=info.parameters)
        return
    diff = (float(declared) - info.parameters) / info.parameters
    ok = abs(diff) <= PARAMETER_RTOL
    yield check("parameters.count", ok, f"card declares {float(declared):,.0f} parameters, the file holds "
                f"{info.parameters:,} ({diff:+.1%})" + ("" if ok else "; declare the file's count"),
                declared=declared, counted=info.parameters, relative_difference=round(diff, 4))
    if published is not None and published != declared:
        pdiff = (float(published) - info.parameters) / info.parameters
        yield check("parameters.published", True, f"the upstream figure {float(published):,.0f} differs from the "
                    f"file by {pdiff:+.1%}; the card records both", severity=INFO,
                    published=published, counted=info.parameters, relative_difference=round(pdiff, 4))


def resolution_checks(card: dict[str, Any], variant_id: str, info: ModelInfo) -> Iterator[Check]:
    if not info.inputs:
        return
    layout = str((declared_tensors(card, variant_id, "inputs") or [{}])[0].get("layout", "NHWC"))
    hwc = _hwc(info.inputs[0].shape, layout)
    for i, record in enumerate(card.get("performance") or []):
        if record.get("variant") != variant_id or "resolution" not in record:
            continue
        res = parse_resolution(record["resolution"])
        ok = res is not None and tuple(hwc[: len(res)]) == res
        yield check("records.resolution", ok, f"performance[{i}]: resolution {record['resolution']}"
                    + (" matches the input" if ok else f" contradicts the input {'x'.join(map(str, hwc))}"),
                    record=i)
