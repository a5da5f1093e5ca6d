"""``zoo verify``: check cards against the registry and the released files, and re-measure on this host.

For each card: its schema and the records that do not need a file. For each model: fetch its tflite
artifact, check the bytes, read the file (``zoo.model.inspection``), apply the rules (``zoo.verification.rules``), replay the
golden outputs, and optionally measure accuracy on a dataset and host latency. An artifact that cannot be
fetched makes its checks "not checked" with the reason; every other check still runs. Nothing here
prints: the CLI renders the entries (``zoo.verification.report``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from zoo.cards.checks import card_problems, evaluation_gaps
from zoo.cards.card import Card, figure_number
from zoo.core.errors import IntegrityError, RuntimeMissingError, SignatureError, ZooError
from zoo.model.inspection import ModelInfo
from zoo.catalog.registry import RUNNABLE, Artifact, Registry
from zoo.verification.rules.accuracy import accuracy_claim_checks
from zoo.verification.rules.artifact import artifact_checks
from zoo.verification.rules.base import LATENCY_RATIO_WARN, NEEDS_FILE, Check, Severity, Status, check, guarded, not_checked
from zoo.verification.rules.card import record_checks
from zoo.verification.rules.precision import precision_checks
from zoo.model.sandbox import ensure_runs
from zoo.core.settings import Settings
from zoo.cards.protocol import record_protocol
from zoo.verification.options import ACCURACY_METRICS, Options, check_dataset_options, claims_accuracy, dataset_id_for
from zoo.verification.targets import Target


@dataclass
class Entry:
    """The checks of one card (``kind == "card"``) or one model of a card (``kind == "model"``)."""

    kind: str
    subject: str
    card: str | None
    checks: list[Check] = field(default_factory=list)
    file: str | None = None
    measured: list[dict[str, Any]] = field(default_factory=list)  # host records ``--write`` may store

    @property
    def failed(self) -> bool:
        return any(c.status is Status.FAIL for c in self.checks)


def _card_entry(target: Target, registry: Registry) -> Entry:
    """The checks of a card on its own: schema and consistency, then the records (even on a schema failure)."""
    entry = Entry("card", str(target.card_path), str(target.card_path))
    card = target.card
    problems = target.card_error.lines() if card is None else card_problems(card, registry)
    entry.checks.append(check("card.schema", not problems, "card matches schemas/card.schema.json and the registry"
                              if not problems else f"{len(problems)} problem(s), first: {problems[0]} (zoo validate "
                              "lists them all)", problems=problems))
    if card is not None:
        entry.checks += list(record_checks(card, registry))
        entry.checks += [check("card.evaluable", False, gap) for gap in evaluation_gaps(card)]
    return entry


def verify(targets: list[Target], registry: Registry, options: Options, settings: Settings, *,
           jobs: int = 1) -> list[Entry]:
    """Card entries (once per card) followed by model entries, in the order of ``targets``.

    With ``settings.strict`` every check that could not run is a failure: a strict PASS means checked.
    """
    check_dataset_options(targets, options)
    cards = {t.card_path: _card_entry(t, registry) for t in targets if t.card_path is not None}
    models = [t for t in targets if t.model_id]  # a card that could not be read has no variants to verify
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:  # the interpreter releases the GIL
        entries = list(cards.values()) + list(pool.map(lambda t: verify_model(t, registry, options, settings), models))
    if settings.strict:
        for c in (c for e in entries for c in e.checks if c.status is Status.NOT_CHECKED):
            c.status, c.message = Status.FAIL, f"not checked (strict): {c.message}"
    return entries


def verify_model(target: Target, registry: Registry, options: Options, settings: Settings) -> Entry:
    """Every check of one model: registry and card membership, then what needs its file."""
    model_id, card = target.model_id, target.card
    entry = Entry("model", model_id, str(target.card_path) if target.card_path else None)
    checks = entry.checks
    model = registry.find(model_id)  # ID or ID@VERSION
    checks.append(check("registry.model", model is not None, f"{model_id} is in registry {registry.name}" if model
                        else f"{model_id} is not in registry {registry.name}; add it or fix the card's variant id"))
    if card is None:
        checks.append(not_checked("card.variant", "no readable card for this model"))
    else:
        variant = model_id.partition("@")[0]
        ok = card.find_variant(variant) is not None
        checks.append(check("card.variant", ok, f"{variant} is a variant of the card" if ok else
                            f"the card has no variant {variant!r}; add it under variants"))
    if model is None:
        return entry
    if not any(a.format in RUNNABLE for a in model.artifacts):
        checks += [not_checked(rule, f"{model_id} has no tflite or onnx artifact") for rule in NEEDS_FILE]
        return entry
    artifact = model.runnable()
    from zoo.artifacts.fetching import fetch  # only a run that reaches a file needs the download code

    try:
        path = fetch(artifact, settings=settings)
    except SignatureError as exc:
        checks.append(check("artifact.signature", False, exc.message))
        return entry
    except IntegrityError as exc:
        checks.append(check("artifact.sha256", False, exc.message + "; the released bytes differ from the registry"))
        return entry
    except ZooError as exc:
        reason = f"{artifact.file} could not be fetched: {exc.lines()[0]}"
        checks += [not_checked(rule, reason) for rule in NEEDS_FILE]
        return entry
    entry.file = str(path)
    checks.append(_signature_check(artifact))
    _artifact_entry(entry, artifact, path, card, registry, options)
    return entry


def _signature_check(artifact: Artifact) -> Check:
    """``fetch`` refuses what a trusted signature does not cover; reaching here it verified, or none is asked for."""
    trust = artifact.trust
    if trust is None:
        return check("artifact.signature", True, f"the registry names no trusted key for {artifact.model_id}; "
                     "signatures not checked (zoo publish --sign records one)", severity=Severity.INFO)
    who = trust.key.name if trust.key is not None else f"{trust.identity} ({trust.issuer})"
    return check("artifact.signature", True, f"{artifact.file}: signed by {who} over its sha256")


def _artifact_entry(entry: Entry, artifact: Artifact, path: Path, card: Card | None, registry: Registry,
                    options: Options) -> None:
    from zoo.model.inspection import inspect_model
    from zoo.model.runtime import runtime_name

    checks = entry.checks
    try:
        info = inspect_model(path, registry)
    except RuntimeMissingError as exc:  # an ONNX file without the onnx extra: not checked, and how to check it
        checks += [not_checked(rule, f"{artifact.file}: {exc.message}") for rule in NEEDS_FILE]
        return
    except ZooError as exc:
        checks.append(check("artifact.readable", False, exc.lines()[0]))
        return
    same = info.sha256 == artifact.sha256 and info.size == artifact.size
    checks.append(check("artifact.sha256", same, f"{artifact.file}: sha256 and size match the registry" if same else
                        f"{artifact.file}: sha256 {info.sha256} ({info.size} bytes), registry says {artifact.sha256} "
                        f"({artifact.size} bytes); update the registry or re-release the file"))
    if not same:
        return
    checks.append(check("artifact.readable", True, f"{info.op_count} ops, {info.parameters:,} parameters"))
    try:
        ensure_runs(path)

    except ZooError as exc:
        checks.append(check("artifact.runs", False, exc.lines()[0]))
        return
    checks.append(check("artifact.runs", True, f"one inference runs in {runtime_name(path)} (tried in a child process)"))
    checks.append(_golden_check(artifact, path))
    if options.kernels == "both":
        checks.append(_kernel_agreement_check(artifact, path))
    checks += guarded(card.valid if card else True, "records.format", lambda: precision_checks(card, artifact, info))
    if card is None:  # card.variant already says why; the file's own checks above still ran
        return
    checks += list(artifact_checks(card, artifact.model_id, info))
    checks += guarded(card.valid, "footprint.weights_flash", lambda: _footprint_checks(card, artifact, path, registry))
    if options.dataset is not None:
        checks += guarded(card.valid, "accuracy", lambda: _accuracy_checks(entry, artifact, path, card, options, info))
    if options.latency:
        checks += guarded(card.valid, "latency.host", lambda: [_latency_check(entry, artifact, path, card, options,
                                                                             info, k) for k in options.kernel_sets])


def _footprint_checks(card: Card, artifact: Artifact, path: Path, registry: Registry) -> list[Check]:
    """Board memory and time claims against the file's footprint; TFLM's arena too when zoo[mcu] is installed."""
    from zoo.model import tflm
    from zoo.model.footprint import compute_footprint
    from zoo.verification.rules.footprint import footprint_checks

    fp = compute_footprint(path, tflm=tflm.available())
    return list(footprint_checks(card, artifact.model_id, fp, _targets(registry.path)))


@lru_cache(maxsize=None)
def _targets(registry_path: Path) -> Any:  # -> zoo.catalog.targets.Targets
    """The targets of the registry in use (``zoo.catalog.targets.targets_path``), read once per process."""
    from zoo.catalog.targets import load_targets, targets_path

    return load_targets(targets_path(registry_path))


def _golden_check(artifact: Artifact, path: Path) -> Check:
    from zoo.model.goldens import check_golden, load_golden

    if artifact.golden is None:
        return not_checked("golden", f"the registry has no golden outputs for {artifact.file} (golden: key)",
                           severity=Severity.WARNING)
    golden = load_golden(artifact.golden)
    result = check_golden(path, golden)
    return check("golden", result.passed, f"{result.cases} golden inputs reproduce within one quantization step "
                 f"(max difference {result.max_diff:g})" if result.passed else f"{result.mismatches} output values "
                 f"differ from {artifact.golden.name} by more than one step (max {result.max_diff:g}); the file "
                 "or the runtime changed", max_diff=result.max_diff, mismatches=result.mismatches)


def _kernel_agreement_check(artifact: Artifact, path: Path) -> Check:
    """How far the host's optimized kernels are from the reference kernels (what an MCU computes)."""
    from zoo.model.goldens import kernel_agreement, load_golden

    if artifact.golden is None:
        return not_checked("kernels.agreement", f"the registry has no golden inputs for {artifact.file} (golden: key)",
                           severity=Severity.INFO)
    agreement = kernel_agreement(path, load_golden(artifact.golden))
    return check("kernels.agreement", True, f"optimized vs reference kernels on {agreement.cases} golden inputs: "
                 f"{agreement.differing_share:.1%} of {agreement.values} outputs differ, by at most "
                 f"{agreement.max_steps:g} quantization steps (reference = what TFLM on an MCU computes)",
                 severity=Severity.INFO, **agreement.to_json())


def _host(options: Options, kernels: str, path: Path) -> dict[str, Any]:
    from zoo.model.latency import cpu_model
    from zoo.model.runtime import runtime_name

    return {"kind": "host", "runtime": runtime_name(path), "cpu": cpu_model(), "threads": options.threads,
            "kernels": kernels}


def _resolution(info: ModelInfo, channels: bool) -> str:
    dims = info.inputs[0].shape[1:] if len(info.inputs[0].shape) == 4 else info.inputs[0].shape
    return "x".join(str(d) for d in (dims if channels else dims[:2]))


def _claimed_protocols(card: Card, variant: str, dataset_id: str, options: Options) -> list[str]:
    """The protocols to measure under: ``--protocol``, else those of the card's claims (else the card's)."""
    if options.protocol:
        return [options.protocol]
    claims = [record_protocol(card.evaluation, r) for r in card.records(variant) if r.get("dataset") == dataset_id
              and set(ACCURACY_METRICS) & set(r.get("values") or {})]
    return list(dict.fromkeys(claims)) or [card.protocol]


def _accuracy_checks(entry: Entry, artifact: Artifact, path: Path, card: Card, options: Options,
                     info: ModelInfo) -> list[Check]:
    """Accuracy under each protocol the claims use and each kernel set asked for; a claim is compared only with
    a measurement under its own protocol (and, for a record naming them, its kernels)."""
    from zoo.reid.evaluation import evaluate

    dataset_id = dataset_id_for(card, options)
    if dataset_id is None or not (options.write or claims_accuracy(card, artifact.model_id, dataset_id)):
        what = f"dataset {dataset_id!r}" if dataset_id else f"a dataset named like {options.dataset.name!r}"
        return [not_checked("accuracy", f"the card claims no accuracy of {artifact.model_id} on {what}")]
    protocols = _claimed_protocols(card, artifact.model_id, dataset_id, options)
    checks = [not_checked("accuracy", f"performance[{i}] is under the {record_protocol(card.evaluation, r)} protocol; "
                          f"measured under {protocols[0]} only (--protocol)")
              for i, r in enumerate(card.performance) if r.get("variant") == artifact.model_id
              and r.get("dataset") == dataset_id and record_protocol(card.evaluation, r) not in protocols]
    for protocol in protocols:
        for kernels in options.kernel_sets:
            result = evaluate(path, options.dataset, preprocessing=card.preprocessing, card=card.path,
                              distance=card.distance, protocol=protocol, kernels=kernels, progress=options.progress)
            measured = result.as_percent(ndigits=None)
            entry.measured.append({
                "variant": artifact.model_id, "dataset": dataset_id, "split": "test", "format": artifact.precision,
                "resolution": _resolution(info, channels=False), "origin": "measured",
                **({} if protocol == card.protocol else {"protocol": protocol}), "measured_on": _host(options, kernels, path),
                "values": {k: {"value": round(v, 2), "unit": "%"} for k, v in measured.items()},
            })
            compared = accuracy_claim_checks(card, artifact.model_id, dataset_id, measured, options.tolerance_pp,
                                             protocol=protocol, kernels=kernels, unnamed_kernels=options.kernel_sets[0])
            summary = ", ".join(f"{k} {v:.2f} %" for k, v in measured.items())
            checks += compared or [check("accuracy", True, f"measured on {dataset_id}: {summary} ({protocol} protocol, "
                                         f"{kernels} kernels); no claim under these to compare", severity=Severity.INFO,
                                         measured=measured, protocol=protocol, kernels=kernels)]
    return checks


def _latency_check(entry: Entry, artifact: Artifact, path: Path, card: Card, options: Options,
                   info: ModelInfo, kernels: str) -> Check:
    from zoo.model.latency import measure_latency

    result = measure_latency(path, threads=options.threads, kernels=kernels)
    host = _host(options, kernels, path)
    entry.measured.append({  # timed on synthetic inputs: no dataset of the card's was involved
        "variant": artifact.model_id, "format": artifact.precision,
        "resolution": _resolution(info, channels=True), "origin": "measured", "measured_on": host,
        "values": {"inference_time": {"value": round(result.mean_ms, 3), "unit": "ms"}},
    })
    same = [r for r in card.records(artifact.model_id, kind="host")
            if r["measured_on"].get("cpu") == host["cpu"] and r["measured_on"].get("threads") == options.threads
            and r["measured_on"].get("kernels", "optimized") == kernels
            and figure_number((r.get("values") or {}).get("inference_time"))]
    measured = (f"{result.mean_ms:.2f} ms mean over {result.count} runs ({host['cpu']}, {options.threads} thread(s), "
                f"{kernels} kernels)")
    if not same:
        return check("latency.host", True, f"{measured}; the card has no host record for this CPU, thread count and "
                     "kernel set",
                     severity=Severity.INFO, **result.to_json())
    recorded = figure_number(same[-1]["values"]["inference_time"])
    ratio = result.mean_ms / recorded
    ok = 1 / LATENCY_RATIO_WARN <= ratio <= LATENCY_RATIO_WARN
    return check("latency.host", ok, f"{measured}, card records {recorded} ms (x{ratio:.2f})"
                 + ("" if ok else "; re-measure with --latency --write"), recorded=recorded, **result.to_json())


def measured_by_card(entries: list[Entry]) -> dict[str, list[dict[str, Any]]]:
    """The records ``--write`` stores, grouped by the card file they belong to."""
    by_card: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        if e.card and e.measured:
            by_card.setdefault(e.card, []).extend(e.measured)
    return by_card
