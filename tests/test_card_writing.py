from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zoo.cards.writing import write_records
from zoo.cards.card import read_card
from zoo.core.documents import load_yaml
from zoo.core.errors import InvalidDataError
from zoo.core.resources import data_dir

HOST = {"kind": "host", "runtime": "ai-edge-litert 2.3.0", "cpu": "Test CPU (R) @ 2.0GHz", "threads": 1}


def _record(ms: float) -> dict:
    return {"variant": "osnet_a025", "dataset": "deepsportradar", "format": "int8", "resolution": "256x128x3",
            "origin": "measured", "measured_on": dict(HOST), "values": {"inference_time": {"value": ms, "unit": "ms"}}}


def test_measured_records_are_appended_then_replaced_and_nothing_else_moves(tmp_path: Path) -> None:
    card = tmp_path / "card.yaml"
    shutil.copy(data_dir("model_cards") / "osnet" / "card.yaml", card)
    original = card.read_text()
    write_records(read_card(card), [_record(2.5)])
    once = card.read_text()
    assert once.startswith(original) and "# Source of truth" in once
    write_records(read_card(card), [_record(3.25), {**_record(1.0), "measured_on": {**HOST, "threads": 2}}])
    data = load_yaml(card).data
    measured = [r for r in data["performance"] if r["origin"] == "measured"]
    assert [(r["measured_on"]["threads"], r["values"]["inference_time"]["value"]) for r in measured] == [(1, 3.25), (2, 1.0)]
    assert card.read_text().startswith(original)
    assert data["performance"][:-2] == load_yaml(data_dir("model_cards") / "osnet" / "card.yaml").data["performance"]


def test_a_card_that_does_not_parse_is_left_untouched(tmp_path: Path) -> None:
    card = tmp_path / "card.yaml"
    card.write_text("performance:\n  - variant: a\n    values: {x: [unclosed\n")
    before = card.read_bytes()
    with pytest.raises(InvalidDataError):
        write_records(read_card(card), [_record(1.0)])
    assert card.read_bytes() == before and list(tmp_path.iterdir()) == [card]


def test_a_card_keeps_its_bom_mode_and_link_when_records_are_written(tmp_path: Path) -> None:
    """An editor's BOM, the file's mode and a symlinked card survive --write (one BOM, still parses)."""
    real = tmp_path / "shared" / "card.yaml"
    real.parent.mkdir()
    real.write_bytes(b"\xef\xbb\xbf" + (data_dir("model_cards") / "osnet" / "card.yaml").read_bytes())
    real.chmod(0o664)
    card = tmp_path / "card.yaml"
    card.symlink_to(real)
    write_records(read_card(card), [_record(2.5)])
    assert card.is_symlink() and real.read_bytes().startswith(b"\xef\xbb\xbf") and real.read_bytes()[3:6] != b"\xef\xbb\xbf"
    assert (real.stat().st_mode & 0o777) == 0o664
    assert [r["origin"] for r in load_yaml(real).data["performance"]][-1] == "measured"
