"""Artifact rules: what the card declares for a variant against what its released file holds."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from zoo.cards.card import Card, declared_meaning
from zoo.model.inspection import ModelInfo
from zoo.verification.rules.base import PARAMETER_RTOL, SCALE_RTOL, Check, Severity, check, guarded, parse_resolution
from zoo.model.tensors import TensorInfo


def artifact_checks(card: Card, variant_id: str, info: ModelInfo) -> Iterator[Check]:
    """Every rule that compares what the card declares for ``variant_id`` with the file's facts."""
    for rule_id, run in (
        ("io.input.count", lambda: io_checks(card, variant_id, info, "input")),
        ("io.output.count", lambda: io_checks(card, variant_id, info, "output")),
        ("quantization.precision", lambda: quantization_checks(card, info)),
        ("preprocessing.rescale", lambda: rescale_checks(card, info)),
        ("parameters.count", lambda: parameter_checks(card, variant_id, info)),
        ("records.resolution", lambda: resolution_checks(card, variant_id, info)),
    ):
        yield from guarded(card.valid, rule_id, run)


def io_checks(card: Card, variant_id: str, info: ModelInfo, kind: str) -> Iterator[Check]:
    """The card's inputs (or outputs) against the file's: how many, then each one's shape, dtype, quantization."""
    found = info.inputs if kind == "input" else info.outputs
    declared = card.inputs(variant_id) if kind == "input" else card.outputs(variant_id)
    if len(declared) != len(found):
        yield check(f"io.{kind}.count", False, f"card declares {len(declared)} {kind}(s), the file has "
                    f"{len(found)}; list each {kind} of the file", declared=len(declared), found=len(found))
    for j, (want, got) in enumerate(zip(declared, found)):
        yield from _tensor_checks(kind, j, want, got, info)


def _tensor_checks(kind: str, j: int, want: dict[str, Any], got: TensorInfo, info: ModelInfo) -> Iterator[Check]:
    label = f"{kind} {j} ({want.get('name', got.name)})"
    shape = want.get("shape")
    if shape is not None:
        same = len(shape) == len(got.shape) and all(not isinstance(d, int) or d == g for d, g in zip(shape, got.shape))
        symbolic = same and any(not isinstance(d, int) for d in shape)  # vague ("N x M"), not false
        yield check(f"io.{kind}.shape", same and not symbolic,
                    f"{label}: shape {list(got.shape)}" + ("" if same and not symbolic else
                    f" in the file, card says {list(shape)}; write the file's shape"),
                    severity=Severity.WARNING if symbolic else None, declared=list(shape), found=list(got.shape))
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
                        "what the output means; not compared", severity=Severity.INFO, declared=said, found=found)
        else:
            what = f"a {got.shape[-1]}-dim embedding ({info.output_producers[j]} global pool, no classifier)" \
                if found == "embedding" else f"{found} ({info.output_producers[j]})"
            yield check("io.output.meaning", said == found,
                        f"{label}: the file's output is {what}" + ("" if said == found else
                        f", but the card describes {said}; describe the output as the file computes it"),
                        declared=said, found=found)


def quantization_checks(card: Card, info: ModelInfo) -> Iterator[Check]:
    declared = card.quantization.get("precision")
    if declared:
        ok = str(declared).lower() == info.precision
        yield check("quantization.precision", ok, f"weights are {info.precision}"
                    + ("" if ok else f", card declares {declared}; fix quantization.precision"),
                    declared=declared, found=info.precision)
    if info.artifact is not None:
        ok = info.artifact.precision == info.precision
        yield check("registry.precision", ok, f"registry precision {info.artifact.precision}"
                    + (" matches the file" if ok else f" but the file's weights are {info.precision}; fix the registry"))


def rescale_checks(card: Card, info: ModelInfo) -> Iterator[Check]:
    """Preprocessing ``x * scale + offset`` on raw pixels must be what the quantized input computes.

    A uint8 input with scale s and zero point z maps pixel p to s * (p - z): the card's rescale matches
    when scale == s and offset == -s * z within one step s (z = 127 stands for the unrepresentable 127.5).
    """
    rescale = card.preprocessing.get("rescale")
    if not rescale or not info.inputs:
        return
    t = info.inputs[0]
    if not t.quantized or t.dtype not in ("uint8", "int8"):
        yield check("preprocessing.rescale", True, f"input is {t.dtype}: the caller applies the rescale", severity=Severity.INFO)
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


def parameter_checks(card: Card, variant_id: str, info: ModelInfo) -> Iterator[Check]:
    """Declared parameters (``count``, else the ``published`` figure) vs the constants stored in the file."""
    params = (card.find_variant(variant_id) or {}).get("parameters") or {}
    published = (params.get("published") or {}).get("value")
    declared = params.get("count", published)
    if declared is None:
        yield check("parameters.count", True, f"the file holds {info.parameters:,} parameters; the card "
                    "declares none (add parameters.count)", severity=Severity.WARNING, found=info.parameters)
        return
    diff = (float(declared) - info.parameters) / info.parameters
    ok = abs(diff) <= PARAMETER_RTOL
    yield check("parameters.count", ok, f"card declares {float(declared):,.0f} parameters, the file holds "
                f"{info.parameters:,} ({diff:+.1%})" + ("" if ok else "; declare the file's count"),
                declared=declared, counted=info.parameters, relative_difference=round(diff, 4))
    if published is not None and published != declared:
        pdiff = (float(published) - info.parameters) / info.parameters
        yield check("parameters.published", True, f"the upstream figure {float(published):,.0f} differs from the "
                    f"file by {pdiff:+.1%}; the card records both",
                    published=published, counted=info.parameters, relative_difference=round(pdiff, 4))


def resolution_checks(card: Card, variant_id: str, info: ModelInfo) -> Iterator[Check]:
    if not info.inputs:
        return
    layout = str((card.inputs(variant_id) or [{}])[0].get("layout", "NHWC"))
    hwc = _hwc(info.inputs[0].shape, layout)
    for i, record in enumerate(card.performance):
        if record.get("variant") != variant_id or "resolution" not in record:
            continue
        res = parse_resolution(record["resolution"])
        ok = res is not None and tuple(hwc[: len(res)]) == res
        yield check("records.resolution", ok, f"performance[{i}]: resolution {record['resolution']}"
                    + (" matches the input" if ok else f" contradicts the input {'x'.join(map(str, hwc))}"),
                    record=i)


def _hwc(shape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    """Height, width, channels of a 4-d input in either layout (other ranks as they are)."""
    if len(shape) != 4:
        return shape
    return (shape[2], shape[3], shape[1]) if layout.upper() == "NCHW" else shape[1:]
