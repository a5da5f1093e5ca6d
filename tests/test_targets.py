"""registry/targets.yaml: schema-checked peaks with sources; unknown targets are unknown, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.core.errors import InvalidDataError
from zoo.catalog.targets import load_targets


def test_shipped_targets_cover_the_shipped_cards_board_records() -> None:
    from zoo.cards.card import default_card_paths
    from zoo.core.documents import load_yaml

    targets = load_targets()
    for path in default_card_paths():
        for record in load_yaml(path).data.get("performance") or []:
            where = record.get("measured_on") or {}
            if where.get("kind") == "board" and "inference_time" in record["values"]:
                peak = targets.peak(where)
                assert peak is not None and peak.macs_per_second > 0 and len(peak.source) > 20, (path, where)


def test_board_first_then_its_series_then_nothing() -> None:
    targets = load_targets()
    board = targets.peak({"target": "MCU", "series": "STM32H7", "board": "STM32H747I-DISCO"})
    series = targets.peak({"target": "MCU", "series": "STM32H7", "board": "NUCLEO-H7-UNLISTED"})
    assert board.macs_per_second == 480e6 * 2 and "STM32H747I-DISCO" in board.label
    assert series.macs_per_second >= board.macs_per_second and "series" in series.label
    assert targets.peak({"target": "MCU", "series": "STM32N6", "board": "STM32N6570-DK"}) is None  # M55 not sourced
    assert targets.peak({"target": "MCU", "series": "STM32XX", "board": "ANY"}) is None
    assert targets.peak({"target": "NPU", "series": "STM32N6"}).macs_per_second == 300e9


@pytest.mark.parametrize("entry, problem", [
    ("STM32X:\n    engines:\n      MCU: {core: M7, clock_mhz: 480, sources: {clock_mhz: datasheet, peak: arm trm}}",
     "is not valid under any of the given schemas"),  # no peak figure
    ("STM32X:\n    engines:\n      MCU: {core: M7, clock_mhz: 480, peak_int8_macs_per_cycle: 2}",
     "'sources' is a required property"),
    ("STM32X:\n    engines:\n      MCU: {core: M7, clock_mhz: -1, peak_int8_macs_per_cycle: 2, "
     "sources: {clock_mhz: datasheet x, peak: trm of arm}}", "clock_mhz: -1 is less than or equal to the minimum of 0"),
])
def test_a_figure_without_its_source_or_sense_is_refused_with_its_line(tmp_path: Path, entry: str, problem: str) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text(f"schema_version: 1\nseries:\n  {entry}\n")
    with pytest.raises(InvalidDataError) as caught:
        load_targets(path)
    assert any(line.startswith(f"{path}:") and problem in line for line in caught.value.lines()), caught.value.lines()


def test_zoo_validate_checks_the_targets_beside_the_registry(tmp_path: Path, capsys) -> None:
    import json
    import shutil

    from zoo.cli import main
    from zoo.core.resources import data_dir

    registry = tmp_path / "registry.yaml"
    shutil.copy(data_dir("registry") / "registry.yaml", registry)
    registry.write_text(registry.read_text().replace("card: ../model_cards/", f"card: {data_dir('model_cards')}/"))
    (tmp_path / "targets.yaml").write_text("schema_version: 1\nboards:\n  X1:\n    series: S\n    engines: {}\n")
    assert main(["validate", "--registry", str(registry), "--json"]) == 1
    (targets,) = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["rule"] == "targets.schema"]
    assert targets == {"file": str(tmp_path / "targets.yaml"), "line": 5, "severity": "error", "rule": "targets.schema",
                       "message": "/boards/X1/engines: {} should be non-empty"}
