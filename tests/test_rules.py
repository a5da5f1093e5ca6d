"""The card-against-artifact rules, on the bundled osnet_demo in every clone (the real files: test_real_artifacts.py)."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from zoo.cards.card import Card, read_card
from zoo.catalog.registry import load_registry
from zoo.core.resources import data_dir
from zoo.verification.rules.accuracy import accuracy_claim_checks
from zoo.verification.rules.base import RULES, Severity, Status, rule
from zoo.verification.rules.card import record_checks
from helpers import all_checks, by_id, shipped_card

DEMO_FILE = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"


def _edited(card: Card, edit: Any) -> Card:
    """A copy of ``card`` whose data ``edit`` changed in place (line numbers kept for messages)."""
    data = copy.deepcopy(card.data)
    edit(data)
    return dataclasses.replace(card, doc=dataclasses.replace(card.doc, data=data))


def test_demo_card_passes_every_rule_on_its_file() -> None:
    checks = all_checks(shipped_card("osnet_demo"), "osnet_demo", DEMO_FILE)
    assert [c for c in checks if c.status is not Status.PASS] == []
    assert {"io.input.shape", "io.input.dtype", "io.input.quantization", "io.output.shape", "io.output.meaning",
            "io.output.quantization", "preprocessing.rescale", "parameters.count", "records.resolution",
            "records.variant", "records.dataset", "quantization.precision", "registry.precision"} <= set(by_id(checks))


def _contradict(data: dict) -> None:
    data["preprocessing"]["rescale"] = {"scale": 1 / 255, "offset": 0}
    data["quantization"]["precision"] = "float16"
    data["inputs"][0]["quantization"]["zero_point"] = 128
    data["inputs"][0]["dtype"] = "int8"
    data["inputs"][0]["shape"] = [1, 256, 128, 3]
    out = data["variants"][0]["outputs"][0]
    out.update(meaning="class_scores", dtype="float32", shape=[1, 10], description="class confidences")
    data["variants"][0]["parameters"]["count"] = 197000
    record = data["performance"][0]
    record["resolution"] = "224x224"
    data["performance"].append({**copy.deepcopy(record), "variant": "osnet_unknown", "resolution": "128x64"})
    data["performance"].append({**copy.deepcopy(record), "dataset": "nowhere", "resolution": "128x64"})
    data["performance"].append({"variant": "osnet_demo", "dataset": "synthetic_reid", "format": "int8",
                                "measured_on": {"kind": "board", "board": "STM32H747I-DISCO"},
                                "values": {"inference_time": {"value": 3.53, "unit": "ms"},
                                           "fps": {"value": 300.0, "unit": "inf/s"}}})


def test_each_rule_catches_its_own_contradiction_on_the_demo() -> None:
    card = _edited(shipped_card("osnet_demo"), _contradict)
    failed = {c.id for c in all_checks(card, "osnet_demo", DEMO_FILE) if c.status is Status.FAIL}
    assert failed == {"preprocessing.rescale", "quantization.precision", "io.input.quantization", "io.input.dtype",
                      "io.input.shape", "io.output.meaning", "io.output.dtype", "io.output.shape", "parameters.count",
                      "records.resolution", "records.variant", "records.dataset", "records.derived"}
    checks = by_id(all_checks(card, "osnet_demo", DEMO_FILE))
    meaning = checks["io.output.meaning"][0]
    assert "64-dim embedding" in meaning.message and "class_scores" in meaning.message
    assert checks["parameters.count"][0].details["counted"] == 25678


def test_a_missing_output_is_a_count_failure() -> None:
    card = _edited(shipped_card("osnet_demo"), lambda d: d["variants"][0].update(outputs=[]))
    checks = by_id(all_checks(card, "osnet_demo", DEMO_FILE))
    assert checks["io.output.count"][0].status is Status.FAIL


def test_accuracy_claims_compare_at_the_printed_precision() -> None:
    card = shipped_card("osnet_demo")
    exact = accuracy_claim_checks(card, "osnet_demo", "synthetic_reid", {"mAP": 88.9149}, tolerance_pp=0)
    assert [c.status for c in exact] == [Status.PASS]  # 88.91 as printed, at tolerance 0
    off = accuracy_claim_checks(card, "osnet_demo", "synthetic_reid", {"mAP": 88.93, "rank1": 97.0}, 1.0)
    assert [(c.id, c.status) for c in off] == [("accuracy.mAP", Status.PASS), ("accuracy.rank1", Status.FAIL)]
    assert accuracy_claim_checks(card, "osnet_demo", "other_set", {"mAP": 10.0}, 1.0) == []


def test_rules_work_on_a_card_that_breaks_its_schema(tmp_path: Path) -> None:
    text = (data_dir("model_cards") / "osnet_demo" / "card.yaml").read_text(encoding="utf-8")
    path = tmp_path / "card.yaml"
    path.write_text(text.replace("title: OSNet demo (synthetic people)", "title: 42\nsurprise: key"), encoding="utf-8")
    card = read_card(path)
    assert card.problems and not card.valid
    assert [c for c in all_checks(card, "osnet_demo", DEMO_FILE) if c.status is not Status.PASS] == []


def test_every_rule_has_one_catalog_entry_and_json_keeps_its_strings() -> None:
    checks = all_checks(_edited(shipped_card("osnet_demo"), _contradict), "osnet_demo", DEMO_FILE)
    assert all(rule(c.id) in RULES.values() for c in checks)
    assert rule("accuracy.mAP").id == "accuracy" and rule("io.output.meaning").severity is Severity.ERROR
    with pytest.raises(KeyError):
        rule("no.such.rule")
    doc = checks[0].to_json()
    assert type(doc["status"]) is str and doc["status"] in {"pass", "fail", "warn", "not_checked"}


def test_ranges_and_text_figures_are_compared_or_skipped_never_crash() -> None:
    def figures(data: dict) -> None:
        record = data["performance"][0]
        record["values"]["mAP"] = {"low": 85.0, "high": 90.0, "unit": "%"}
        record["values"]["rank1"] = {"text": "N/A", "unit": "%"}
        data["performance"].append({"variant": "osnet_demo", "dataset": "synthetic_reid", "format": "int8",
                                    "measured_on": {"kind": "board", "target": "MCU"},
                                    "values": {"inference_time": {"text": "N/A", "unit": "ms"},
                                               "fps": {"value": 2.02, "unit": "inf/s"}}})
    card = _edited(shipped_card("osnet_demo"), figures)
    checks = accuracy_claim_checks(card, "osnet_demo", "synthetic_reid", {"mAP": 88.9, "rank1": 50.0}, 0.0)
    assert [(c.id, c.status) for c in checks] == [("accuracy.mAP", Status.PASS)]  # inside the range; N/A skipped
    outside = accuracy_claim_checks(card, "osnet_demo", "synthetic_reid", {"mAP": 91.5}, 1.0)
    assert [c.status for c in outside] == [Status.FAIL]
    assert "records.derived" not in by_id(record_checks(card, load_registry()))


@pytest.mark.parametrize(("time", "rate", "ok"), [
    ({"value": 34.71, "unit": "ms"}, {"value": 28.8, "digits": 2, "unit": "inf/s"}, False),  # 28.80 is +-0.005
    ({"value": 34.71, "unit": "ms"}, {"value": 28.8, "unit": "inf/s"}, True),  # 28.8 is +-0.05
    ({"value": 190.3, "unit": "ms"}, {"value": 5.3, "unit": "inf/s"}, True),  # 5.2534..5.2562 meets 5.25..5.35
    ({"value": 26.39, "unit": "ms"}, {"value": 36.5, "unit": "inf/s"}, False),
])
def test_a_published_rate_is_checked_at_the_digits_both_figures_print(time: dict, rate: dict, ok: bool) -> None:
    def figures(data: dict) -> None:
        data["performance"].append({"variant": "osnet_demo", "dataset": "synthetic_reid", "format": "int8",
                                    "resolution": "128x64", "origin": "published",
                                    "measured_on": {"kind": "board", "target": "MCU"},
                                    "values": {"inference_time": time, "published_rate": rate}})
    (derived,) = by_id(record_checks(_edited(shipped_card("osnet_demo"), figures), load_registry()))["records.derived"]
    assert derived.status is (Status.PASS if ok else Status.FAIL), derived.message
