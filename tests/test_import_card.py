"""zoo import-card: upstream markdown cards become card data, and rendering gives their tables back."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from zoo.cards import Card, file_problems, load_card
from zoo.cli import main
from zoo.markdown_tables import parse_tables
from zoo.registry import load_registry

DATA = Path(__file__).resolve().parent / "data" / "cards"


def _import(source: Path, folder: Path, capsys: pytest.CaptureFixture) -> tuple[Card, str]:
    """Import ``source`` into ``folder``; the README it writes must give back every table value and be
    up to date with the card. Returns the (schema-valid) card and the warnings printed."""
    folder.mkdir()
    readme = folder / "README.md"
    shutil.copyfile(source, readme)
    assert main(["import-card", str(readme)]) == 0
    warnings = capsys.readouterr().err
    assert_same_table_values(source, readme)
    assert main(["render-card", "--check", str(folder)]) == 0
    return load_card(folder / "card.yaml"), warnings


def _norm(cell: str) -> str | float:
    """Compare figures as numbers (24.0 == 24) and link cells by their text."""
    link = re.fullmatch(r"\[([^\]]*)\]\([^)]*\)", cell)
    cell = (link.group(1) if link else cell).replace("**", "").strip()
    try:
        return float(cell.rstrip("%").strip())
    except ValueError:
        return cell


def _tables(path: Path) -> list:
    text = path.read_text()
    tables, problems = parse_tables(text.split("\n"))
    assert problems == []
    return tables


def assert_same_table_values(source: Path, rendered: Path) -> None:
    """Every source table comes back, in order, with the same rows and every cell value in its row."""
    before, after = _tables(source), _tables(rendered)
    assert len(before) == len(after)
    for old, new in zip(before, after):
        assert len(old.rows) == len(new.rows), old.headers
        label_only = old.headers[0].lower().startswith("network")  # row names are reworded, values are not
        for old_row, new_row in zip(old.rows, new.rows):
            values = [_norm(c) for c in (old_row[1:] if label_only else old_row)]
            assert set(values) <= {_norm(c) for c in new_row}, (old_row, new_row)


def test_published_osnet_card_round_trips_and_keeps_its_claims(published_osnet_card: Path, tmp_path: Path, capsys) -> None:
    card, warnings = _import(published_osnet_card, tmp_path / "osnet", capsys)
    assert card.family == "osnet" and card.use_case == "re_identification"
    assert card.variant_ids == ["osnet_a025", "osnet_a100"]  # mapped through the artifact file names
    # The card's false claims are kept as data, for zoo verify to flag.
    assert card.outputs("osnet_a025") == [
        {"shape": [1, "P"], "dtype": "float32", "meaning": "class_scores", "description": "Per-class confidence for P classes in FLOAT32"}
    ]
    assert card.inputs("osnet_a100")[0]["shape"] == [1, "N", "M", 3]
    assert card.variant("osnet_a025")["parameters"]["published"]["value"] == 197000
    # ... and so is its malformed paper link, which validation reports.
    assert "malformed arXiv id '1905.0095'" in warnings
    problems = file_problems(card.path, load_registry())
    assert len(problems) == 1 and "/paper: malformed arXiv id" in problems[0]
    npu = card.records("osnet_a025", kind="board")[0]
    assert npu["measured_on"] == {
        "kind": "board", "target": "NPU", "series": "STM32N6", "board": "STM32N6570-DK", "engine": "NPU/MCU",
        "tool": "STEdgeAI Core", "tool_version": "3.0.0",
    }  # memory and time rows of one measurement merged
    assert npu["values"]["inference_time"] == {"value": 3.53, "unit": "ms"}
    assert card.dataset("deepsportradar")["splits"]["test_gallery"] == {"images": 910}


def test_classification_card_round_trips_and_keeps_unknown_tables(tmp_path: Path, capsys) -> None:
    card, warnings = _import(DATA / "classification.md", tmp_path / "flowers", capsys)
    assert file_problems(card.path, None) == []
    assert card.use_case == "image_classification"
    assert card.outputs(card.variant_ids[0])[0]["meaning"] == "class_scores"
    assert "table ['Class', 'Precision', 'Recall']... is not understood; kept verbatim" in warnings
    assert card.data["tables"][0]["rows"] == [["daisy", "0.91", "0.88"], ["tulips", "0.84", "0.86"]]
    memory = card.records(card.variant_ids[0], kind="board")[0]["values"]
    assert memory["activation_ram"] == {"value": 158.5, "unit": "KiB", "label": "Activation RAM"}
    assert "| 1.10 " in (tmp_path / "flowers" / "README.md").read_text()  # versions are not turned into numbers


def test_detection_card_round_trips(tmp_path: Path, capsys) -> None:
    card, _ = _import(DATA / "detection.md", tmp_path / "ssd", capsys)
    vid = card.variant_ids[0]
    assert [t["meaning"] for t in card.outputs(vid)] == ["class_scores", "boxes"]
    assert card.outputs(vid)[1]["shape"] == [1, "NA", 4]
    assert card.records(vid)[-1]["values"] == {"AP50": {"value": 40.73, "unit": "%"}}
    assert card.variant(vid)["link"] == "https://example.invalid/ssd_mobilenet_v1_0.25_192_int8.tflite"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("| STM32U5  |[x]|[]|", "| STM32U5  |[x]|"), ":32: table row has 2 cells, its header has 3"),
        (lambda t: t.replace("| daisy | 0.91 | 0.88 |\n| tulips | 0.84 | 0.86 |\n", ""), ": table has a header but no rows"),
        (lambda t: t.replace("| 158.5 |", "| lots |"), "'Activation RAM' cell 'lots' is not a number"),
    ],
)
def test_bad_tables_are_refused_with_their_line(tmp_path: Path, capsys, edit, expected: str) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(edit((DATA / "classification.md").read_text()))
    before = readme.read_bytes()
    assert main(["import-card", str(readme)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"zoo: error: {readme}:") and expected in err[0], err
    assert readme.read_bytes() == before and not (tmp_path / "card.yaml").exists()


def test_existing_card_is_not_overwritten_without_force(tmp_path: Path, capsys) -> None:
    readme = tmp_path / "README.md"
    shutil.copyfile(DATA / "detection.md", readme)
    (tmp_path / "card.yaml").write_text("keep me\n")
    assert main(["import-card", str(readme), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["messages"][0].endswith("already exists (pass --force to overwrite it)")
    assert (tmp_path / "card.yaml").read_text() == "keep me\n"
    out = tmp_path / "elsewhere" / "card.yaml"
    assert main(["import-card", str(readme), "-o", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["card"] == str(out)
    assert (out.parent / "README.md").exists()
