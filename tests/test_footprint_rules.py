"""Footprint rules: board memory and time claims against the file, on osnet_demo (the real files: test_real_artifacts.py)."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from zoo.cards.card import Card, read_card
from zoo.demo import bundled_mirror
from zoo.core.documents import load_yaml
from zoo.model.footprint import compute_footprint
from zoo.core.resources import data_dir
from zoo.verification.rules.base import Severity, Status
from zoo.verification.rules.footprint import footprint_checks
from zoo.catalog.targets import load_targets
from helpers import verify_json

DEMO_FILE = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"
H7 = {"kind": "board", "target": "MCU", "series": "STM32H7", "board": "STM32H747I-DISCO", "engine": "1 CPU",
      "tool": "STEdgeAI Core", "tool_version": "3.0.0"}
N6 = {**H7, "target": "NPU", "series": "STM32N6", "board": "STM32N6570-DK", "engine": "NPU/MCU"}


def _board_record(variant: str, on: dict[str, Any], **values: tuple[float, str]) -> dict[str, Any]:
    return {"variant": variant, "dataset": "synthetic_reid", "format": "int8", "origin": "published",
            "measured_on": on, "values": {k: {"value": v, "unit": u} for k, (v, u) in values.items()}}


def _with_records(card: Card, *records: dict[str, Any]) -> Card:
    data = copy.deepcopy(card.data)
    data["performance"] = list(records)
    return dataclasses.replace(card, doc=dataclasses.replace(card.doc, data=data))


def _demo_card(*records: dict[str, Any]) -> Card:
    return _with_records(read_card(data_dir("model_cards") / "osnet_demo" / "card.yaml"), *records)


def _one(checks, rule_id: str):
    (found,) = [c for c in checks if c.id == rule_id]
    return found


def test_honest_figures_pass_and_the_estimates_are_information() -> None:
    fp = compute_footprint(DEMO_FILE)
    kib = round(fp.weights_bytes / 1024, 2)
    ram = round(fp.activation_lower_bound_bytes / 1024 * 1.1, 2)
    slow = round(fp.macs / 960e6 * 1000 * 5, 2)  # five times the Cortex-M7 bound
    card = _demo_card(_board_record("osnet_demo", H7, weights_flash=(kib, "KiB"), internal_ram=(ram, "KiB"),
                                    external_ram=(0, "KiB"), inference_time=(slow, "ms")),
                      _board_record("osnet_demo", N6, weights_flash=(kib * 3, "KiB"), internal_ram=(ram, "KiB"),
                                    inference_time=(1.5, "ms")))
    checks = list(footprint_checks(card, "osnet_demo", fp, load_targets()))
    assert [c.status for c in checks if c.severity is not Severity.INFO] == [Status.PASS] * 6, [c.message for c in checks]
    arena = [c for c in checks if c.id == "footprint.arena"]
    assert len(arena) == 2 and all(c.severity is Severity.INFO and "greedy plan" in c.message for c in arena)
    timed = _one(checks[:4], "footprint.time")
    assert timed.details["implied_macs_per_cycle"] == pytest.approx(0.4, rel=0.01)  # 2 MACs/cycle / 5


def test_impossible_time_weights_and_ram_fail_naming_the_bound() -> None:
    fp = compute_footprint(DEMO_FILE)
    card = _demo_card(_board_record("osnet_demo", H7, weights_flash=(13.95, "KiB"), internal_ram=(10, "KiB"),
                                    inference_time=(0.05, "ms")))
    checks = list(footprint_checks(card, "osnet_demo", fp, load_targets()))
    time, weights, ram = (_one(checks, r) for r in ("footprint.time", "footprint.weights_flash", "footprint.ram"))
    assert all(c.status is Status.FAIL for c in (time, weights, ram))
    least = fp.macs / 960e6 * 1000
    assert f"below the physical bound {least:.3g} ms" in time.message and "480 MHz x 2 MACs/cycle" in time.message
    assert f"{fp.weights_bytes:,} bytes" in weights.message and "should be" in weights.message
    assert f"lower bound {fp.activation_lower_bound_bytes / 1024:,.2f} KiB" in ram.message


@pytest.mark.parametrize("factor, status, severity", [(1.009, Status.PASS, Severity.ERROR),
                                                      (1.03, Status.WARN, Severity.WARNING),
                                                      (0.97, Status.WARN, Severity.WARNING),
                                                      (1.06, Status.FAIL, Severity.ERROR)])
def test_mcu_weights_flash_bands(factor: float, status: Status, severity: Severity) -> None:
    fp = compute_footprint(DEMO_FILE)
    card = _demo_card(_board_record("osnet_demo", H7, weights_flash=(round(fp.weights_bytes * factor / 1024, 2), "KiB")))
    found = _one(footprint_checks(card, "osnet_demo", fp, load_targets()), "footprint.weights_flash")
    assert (found.status, found.severity) == (status, severity)


def test_npu_weights_may_be_larger_never_smaller_and_unknown_targets_are_not_checked() -> None:
    fp = compute_footprint(DEMO_FILE)
    small = round(fp.weights_bytes / 1024 * 0.9, 2)
    unknown = {**H7, "series": "STM32L4", "board": "B-L475E-IOT01A"}
    card = _demo_card(_board_record("osnet_demo", N6, weights_flash=(small, "KiB")),
                      _board_record("osnet_demo", unknown, inference_time=(0.001, "ms"), inferences_per_second=(9e5, "inf/s")),
                      _board_record("osnet_demo", {**N6, "target": "MCU"}, inference_time=(0.001, "ms")))
    checks = list(footprint_checks(card, "osnet_demo", fp, load_targets()))
    assert _one(checks, "footprint.weights_flash").status is Status.FAIL
    unchecked = [c for c in checks if c.status is Status.NOT_CHECKED]
    assert [c.id for c in unchecked] == ["footprint.time", "footprint.rate", "footprint.time"]
    assert "B-L475E-IOT01A MCU is not in targets.yaml" in unchecked[0].message


def test_a_stored_rate_beyond_the_peak_fails(tmp_path: Path) -> None:
    fp = compute_footprint(DEMO_FILE)
    most = 960e6 / fp.macs
    card = _demo_card(_board_record("osnet_demo", H7, inferences_per_second=(round(most * 2, 1), "inf/s")),
                      _board_record("osnet_demo", N6, inferences_per_second=(round(most, 1), "inf/s")))
    rates = [c for c in footprint_checks(card, "osnet_demo", fp, load_targets()) if c.id == "footprint.rate"]
    assert [c.status for c in rates] == [Status.FAIL, Status.PASS] and "exceeds the most" in rates[0].message


def test_a_float_model_is_not_held_to_an_int8_peak(tmp_path: Path) -> None:
    import numpy as np
    import tflite_builder as tb

    path = tb.write(tb.float_model("FULLY_CONNECTED", [1, 64], np.ones((32, 64)), [1, 32]), tmp_path / "f.tflite")
    fp = compute_footprint(path)
    card = _demo_card(_board_record("osnet_demo", H7, inference_time=(1e-6, "ms")))
    (time,) = footprint_checks(card, "osnet_demo", fp, load_targets())
    assert time.status is Status.NOT_CHECKED and "float32 model" in time.message


def _verify(capsys, *args: str) -> tuple[int, list[dict[str, Any]]]:
    code, report = verify_json(capsys, *args)
    return code, [c for e in report["entries"] for c in e["checks"] if c["id"].startswith("footprint.")]


@pytest.mark.parametrize("metric", ["inference_time", "weights_flash"])
def test_verify_fails_a_card_with_one_impossible_h7_figure_naming_its_bound(tmp_path: Path, capsys, metric: str) -> None:
    """Through ``zoo verify CARD``: honest board figures pass, and one impossible figure is the one failure."""
    fp = compute_footprint(DEMO_FILE)
    honest = {"weights_flash": (round(fp.weights_bytes / 1024, 2), "KiB"),
              "internal_ram": (round(fp.activation_lower_bound_bytes / 1024 * 1.1, 2), "KiB"),
              "inference_time": (round(fp.macs / 960e6 * 1000 * 5, 2), "ms")}
    least_ms = fp.macs / 960e6 * 1000
    impossible, bound = {"inference_time": ((round(least_ms / 10, 4), "ms"), f"physical bound {least_ms:.3g} ms"),
                         "weights_flash": ((round(fp.weights_bytes / 1024 / 10, 2), "KiB"),
                                           f"should be {fp.weights_bytes / 1024:,.2f} KiB")}[metric]
    folder = tmp_path / "osnet_demo"
    shutil.copytree(data_dir("model_cards") / "osnet_demo", folder)
    card = load_yaml(folder / "card.yaml").data
    card["performance"].append({**_board_record("osnet_demo", H7, **honest), "resolution": "128x64"})
    folder.joinpath("card.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    code, checks = _verify(capsys, str(folder / "card.yaml"), "--mirror", str(bundled_mirror()), "--offline")
    assert code == 0 and {"footprint.weights_flash", "footprint.ram", "footprint.time"} <= {c["id"] for c in checks}
    assert all(c["status"] == "pass" for c in checks), [c["message"] for c in checks if c["status"] != "pass"]
    card["performance"][-1] = {**_board_record("osnet_demo", H7, **{**honest, metric: impossible}), "resolution": "128x64"}
    folder.joinpath("card.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    code, checks = _verify(capsys, str(folder / "card.yaml"), "--mirror", str(bundled_mirror()), "--offline")
    failed = [c for c in checks if c["status"] == "fail"]
    assert code == 1 and len(failed) == 1 and bound in failed[0]["message"], failed


def test_a_board_known_to_targets_gives_its_series(tmp_path: Path) -> None:
    """Finding 4: a record naming only the STM32N6570-DK board was "not checked" until the card said STM32N6."""
    fp = compute_footprint(DEMO_FILE)
    board_only = {k: v for k, v in N6.items() if k != "series"}
    card = _demo_card(_board_record("osnet_demo", board_only, inference_time=(1.5, "ms")))
    time = _one(footprint_checks(card, "osnet_demo", fp, load_targets()), "footprint.time")
    assert time.status is Status.PASS and "STM32N6 series" in time.message
    # a maintainer's own targets.yaml adds to the shipped boards instead of hiding them
    own = tmp_path / "targets.yaml"
    own.write_text("schema_version: 1\nboards:\n  MY-BOARD:\n    series: STM32N6\n")
    targets = load_targets(own)
    assert targets.series_of({"board": "MY-BOARD"}) == "STM32N6" and "STM32H747I-DISCO" in targets.boards
