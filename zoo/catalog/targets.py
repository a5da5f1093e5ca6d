"""The compute peak of the boards cards name: ``registry/targets.yaml``, schema-checked.

A published inference time can be held against physics only when the target's peak int8 MACs per second
is known and sourced. A board that is not listed falls back to its series (whose figures are those of the
fastest part, a looser but true bound); otherwise the target is unknown and the time is "not checked".

>>> peak = load_targets().peak({"target": "MCU", "series": "STM32H7", "board": "STM32H747I-DISCO"})
>>> peak.macs_per_second, peak.label
(960000000.0, 'STM32H747I-DISCO MCU (Cortex-M7, 480 MHz x 2 MACs/cycle)')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.core.documents import load_yaml, schema_problems
from zoo.core.errors import InvalidDataError
from zoo.core.resources import data_dir, load_schema


@dataclass(frozen=True)
class Peak:
    """The most int8 MACs per second a target's compute unit can do, and where that figure comes from."""

    macs_per_second: float
    label: str  # e.g. "STM32H747I-DISCO MCU (Cortex-M7, 480 MHz x 2 MACs/cycle)"
    source: str
    clock_hz: float


@dataclass(frozen=True)
class Targets:
    path: Path
    boards: dict[str, dict[str, Any]]
    series: dict[str, dict[str, Any]]

    def series_of(self, measured_on: dict[str, Any]) -> str | None:
        """The record's series, else the one this file knows its board belongs to (a card naming
        ``STM32N6570-DK`` need not also say ``STM32N6``).

        >>> load_targets().series_of({"board": "STM32N6570-DK"})
        'STM32N6'
        """
        said = measured_on.get("series")
        return str(said) if said else (self.boards.get(str(measured_on.get("board"))) or {}).get("series")

    def peak(self, measured_on: dict[str, Any]) -> Peak | None:
        """The peak for a card's ``measured_on`` (board, else its series, for its ``target`` unit); None if unknown."""
        unit = str(measured_on.get("target") or "")
        board, series = measured_on.get("board"), self.series_of(measured_on)
        for name, entry in ((board, self.boards.get(str(board))), (series, self.series.get(str(series)))):
            engine = (entry or {}).get("engines", {}).get(unit)
            if engine is None:
                continue
            clock = float(engine["clock_mhz"]) * 1e6
            if "peak_int8_macs_per_cycle" in engine:
                per_cycle = float(engine["peak_int8_macs_per_cycle"])
                how = f"{engine['clock_mhz']:g} MHz x {per_cycle:g} MACs/cycle"
                rate = clock * per_cycle
            else:
                rate = float(engine["peak_int8_macs_per_second"])
                how = f"{rate / 1e9:g} G MACs/s"
            scope = name if entry is self.boards.get(str(board)) else f"{name} series (fastest part)"
            return Peak(rate, f"{scope} {unit} ({engine['core']}, {how})", engine["sources"]["peak"], clock)
        return None


def targets_path(registry_path: Path | None = None) -> Path:
    """The targets file beside a registry (a release team's own), else the one shipped with zoo. A team's own
    file adds to the shipped one (``load_targets``): its entries win, the shipped boards stay known."""
    beside = registry_path.parent / "targets.yaml" if registry_path is not None else None
    return beside if beside is not None and beside.is_file() else data_dir("registry") / "targets.yaml"


def load_targets(path: str | Path | None = None) -> Targets:
    """Load and validate the targets file; ``InvalidDataError`` lists every problem with its line."""
    path = Path(path) if path is not None else targets_path()
    doc = load_yaml(path)
    problems = schema_problems(doc, load_schema("targets"))
    if problems:
        raise InvalidDataError(problems, path=path)
    data = doc.data
    boards, series = dict(data.get("boards") or {}), dict(data.get("series") or {})
    shipped = data_dir("registry") / "targets.yaml"
    if path.resolve() != shipped.resolve():
        base = load_targets(shipped)
        boards, series = {**base.boards, **boards}, {**base.series, **series}
    return Targets(path, boards, series)
