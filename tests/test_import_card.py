"""zoo import-card: upstream markdown cards become card data, and rendering gives their tables back."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from zoo.reid import synthetic
from zoo.cards.checks import file_problems
from zoo.cards.card import Card, load_card
from zoo.cli import main
from helpers import TINY_CARD, assert_same_table_numbers, import_round_trip

DATA = Path(__file__).resolve().parent / "data" / "cards"
DEMO_CARD = Path(__file__).resolve().parent.parent / "model_cards" / "osnet_demo" / "card.yaml"


def test_classification_card_round_trips_and_keeps_unknown_tables(tmp_path: Path, capsys) -> None:
    card, warnings = import_round_trip(DATA / "classification.md", tmp_path / "flowers", capsys)
    assert file_problems(card.path, None) == []
    assert card.use_case == "image_classification"
    assert card.outputs(card.variant_ids[0])[0]["meaning"] == "class_scores"
    assert "table ['Class', 'Precision', 'Recall']... is not understood; kept verbatim" in warnings
    assert card.data["tables"][0]["rows"] == [["daisy", "0.91", "0.88"], ["tulips", "0.84", "0.86"]]
    memory = card.records(card.variant_ids[0], kind="board")[0]["values"]
    assert memory["activation_ram"] == {"value": 158.5, "unit": "KiB", "label": "Activation RAM"}
    assert "| 1.10 " in (tmp_path / "flowers" / "README.md").read_text()  # versions are not turned into numbers


def test_detection_card_round_trips(tmp_path: Path, capsys) -> None:
    card, _ = import_round_trip(DATA / "detection.md", tmp_path / "ssd", capsys)
    vid = card.variant_ids[0]
    assert [t["meaning"] for t in card.outputs(vid)] == ["class_scores", "boxes"]
    assert card.outputs(vid)[1]["shape"] == [1, "NA", 4]
    assert card.records(vid)[-1]["values"] == {"AP50": {"value": 40.73, "unit": "%"}}
    assert card.variant(vid)["link"] == "https://example.invalid/ssd_mobilenet_v1_0.25_192_int8.tflite"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("| daisy | 0.91 | 0.88 |\n| tulips | 0.84 | 0.86 |\n", ""), ": table has a header but no rows"),
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


_LINK = "[tiny](https://example.invalid/tiny_int8.tflite)"
_HEAD = "| Model | Format | Resolution | Board |"


def _fixture(table: str, tmp_path: Path, name: str = "source.md", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(TINY_CARD.format(table=table.strip()).replace("\n", newline).encode())
    return path


def _records(card: Card) -> list[dict]:
    return card.records(card.variant_ids[0])


# One small table per irregularity the published cards show; each must import, render every number back and
# re-import into the same card (``import_round_trip`` checks all three), and keep what the cell said.
IRREGULAR = {
    "units and tabs inside cells": (
        f"{_HEAD} Frequency | Inference time (ms) |\n|---|---|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | B-U585I | 160\tMHz | 1.46  ms |",
        lambda r: r[0]["measured_on"]["frequency"] == {"value": 160, "unit": "MHz"}
        and r[0]["values"]["inference_time"] == {"value": 1.46, "unit": "ms"},
    ),
    "repeated units": (
        f"{_HEAD} Activation RAM | Weights Flash |\n|---|---|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | B-U585I | 17.21 KiB KiB | 10.08 KiB |",
        lambda r: r[0]["values"]["activation_ram"] == {"value": 17.21, "unit": "KiB", "label": "Activation RAM"},
    ),
    "approximate values and en-dash ranges": (
        f"{_HEAD} Inference time (ms) | Power (mW) |\n|---|---|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | B-U585I | ~1.49–3.72 | ~12 |",
        lambda r: r[0]["values"]["inference_time"] == {"low": 1.49, "high": 3.72, "qualifier": "~", "unit": "ms"}
        and r[0]["extra"]["Power (mW)"] == {"value": 12, "qualifier": "~"},
    ),
    "thousands separators and K suffixes": (
        f"{_HEAD} Parameters | MACs | Weights Flash (KiB) |\n|---|---|---|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | B-U585I | 725,061 | 130 K | 1,024.5 |",
        lambda r: r[0]["extra"] == {"Parameters": {"value": 725061}, "MACs": {"value": 130, "unit": "K"}}
        and r[0]["values"]["weights_flash"] == {"value": 1024.5, "unit": "KiB"},
    ),
    "NA and N/A": (
        f"{_HEAD} Inference time (ms) | %NPU |\n|---|---|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | B-U585I | N/A | NA |",
        lambda r: r[0]["values"]["inference_time"] == {"text": "N/A", "unit": "ms"} and r[0]["extra"]["%NPU"] == {"text": "NA"},
    ),
    "br and links in cells": (
        f"| Model | Format | Resolution | Top 1 Accuracy | Notes |\n|---|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | [91.2 %](https://example.invalid/log) | fp32<br>calibrated on 300 images |",
        lambda r: r[0]["values"]["top1"]["text"] == "[91.2 %](https://example.invalid/log)"
        and r[0]["extra"]["Notes"] == {"text": "fp32<br>calibrated on 300 images"},
    ),
    "footnote marks in headers and cells": (
        f"| Model | Format | Resolution | AP* | mAP\\*\\* |\n|---|---|---|---|---|\n| {_LINK} | Int8 | 256x256x3 | 64 %* | 41.5 \\*\\* |\n\n\\* EVAL_IOU = 0.5\n\\*\\* on 500 images",
        lambda r: r[0]["values"]["AP"] == {"value": 64, "unit": "%", "note": "*", "label": "AP*"}  # the header's mark kept
        and r[0]["values"]["mAP"]["note"] == "**" and r[0]["values"]["mAP"]["label"] == "mAP**",
    ),
    "× and x in resolutions": (
        f"| Model | Format | Resolution | Accuracy (%) |\n|---|---|---|---|\n| {_LINK} | Float | 256×256×3 | 90.1 |\n| {_LINK} | Float | 48 x 3 x 1 | 89.9 |",
        lambda r: [x["resolution"] for x in r] == ["256x256x3", "48x3x1"] and r[0]["format"] == "float",
    ),
    "e notation": (
        f"| Model | Format | Resolution | PESQ | Waveform MSE |\n|---|---|---|---|---|\n| {_LINK} | Int8 | 257x40 | 2.480 | 1.136e-4 |",
        lambda r: r[0]["values"]["PESQ"] == {"value": 2.48, "digits": 3, "unit": "1"}
        and r[0]["extra"]["Waveform MSE"] == {"value": 1.136e-4},
    ),
    "percent with or without a space": (
        f"| Model | Format | Resolution | Clip-level Accuracy | mIoU |\n|---|---|---|---|---|\n| {_LINK} | Int8 | 64x50x1 | 90.0% | 61.2 % |",
        lambda r: r[0]["values"]["clip_level_accuracy"]["value"] == 90.0 and r[0]["values"]["mIoU"] == {"value": 61.2, "unit": "%"},
    ),
    "header missing a pipe": (
        f"| Model | Format | Resolution  Top 1 Accuracy |\n|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | 77.5 % |",
        lambda r: False,  # not a performance table once a column is unnamed: kept verbatim (checked below)
    ),
    "rows without outer pipes, separator one column wider, extra empty cells": (
        f"Model | Format | Resolution | Board | Inference time (ms)\n---|---|---|---|---|---\n{_LINK} | Int8 | 32x32x3 | B-U585I | 3.4 | | |",
        lambda r: r[0]["values"]["inference_time"] == {"value": 3.4, "unit": "ms"},
    ),
    "rows with fewer cells than the header": (
        f"{_HEAD} Frequency | Inference time (ms) |\n|---|---|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | B-U585I | 160 MHz | 2.5 |\n"
        f"| {_LINK} | Int8 | 64x64x3 | B-U585I | 160 MHz",
        lambda r: r[0]["values"]["inference_time"] == {"value": 2.5, "unit": "ms"} and len(r) == 2
        and r[1]["resolution"] == "64x64x3" and r[1]["values"]["inference_time"] == {"text": "", "unit": "ms"},
    ),
    "figures written with trailing zeros": (
        f"| Model | Format | Resolution | AP | Weights Flash (KiB) |\n|---|---|---|---|---|\n| {_LINK} | Int8 | 256x256x3 | 56.90 % | 1,008.00 |",
        lambda r: r[0]["values"]["AP"] == {"value": 56.9, "digits": 2, "unit": "%"}
        and r[0]["values"]["weights_flash"] == {"value": 1008.0, "digits": 2, "unit": "KiB"},
    ),
    "rows with more cells than the header": (
        f"{_HEAD} Inference time (ms) |\n|---|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | B-U585I | 2.5 |\n"
        f"| {_LINK} | Int8 | 64x64x3 | B-U585I | 7.5 | | v2.1.0 |",
        lambda r: r[1]["values"]["inference_time"] == {"value": 7.5, "unit": "ms"}
        and r[1]["extra"] == {"column 7": {"text": "v2.1.0"}} and "extra" not in r[0],
    ),
    "hyperparameter columns": (
        f"| Model | Format | Resolution | Epochs | Batch size | Learning rate | Top 1 Accuracy |\n|---|---|---|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | 200 | 64 | 1e-3 | 80.5 % |",
        lambda r: r[0]["extra"] == {"Epochs": {"value": 200}, "Batch size": {"value": 64}, "Learning rate": {"value": 0.001}},
    ),
}


@pytest.mark.parametrize("kind", list(IRREGULAR))
def test_irregular_tables_import_and_round_trip(kind: str, tmp_path: Path, capsys) -> None:
    table, kept = IRREGULAR[kind]
    card, warnings = import_round_trip(_fixture(table, tmp_path), tmp_path / "card", capsys)
    assert card.data["provenance"] == "Trained in-house by the zoo tests, no public source"  # free text
    assert card.outputs(card.variant_ids[0])[0]["shape"] == [1, "4+K", "F"]  # symbolic shapes
    if kind == "header missing a pipe":
        assert "unnamed columns added to the header" in warnings and card.data["tables"][0]["rows"][0][-1] == "77.5 %"
    else:
        assert kept(_records(card)), _records(card)


def test_cells_kept_as_text_are_warnings_with_their_line(tmp_path: Path, capsys) -> None:
    table, _ = IRREGULAR["NA and N/A"]
    source = _fixture(table, tmp_path)
    assert main(["import-card", str(source), "-o", str(tmp_path / "out" / "card.yaml")]) == 0
    out = capsys.readouterr()
    assert f"zoo: warning: {source}:28: 'Inference time (ms)' cell 'N/A' kept as text" in out.err
    assert f"zoo: warning: {source}:26: column '%NPU' kept as text (1 cell(s), e.g. 'NA')" in out.err
    assert out.out.endswith("README.md (2 note(s) of cells kept as text)\n")


def test_a_short_row_is_padded_like_github_and_warned_with_its_line(tmp_path: Path, capsys) -> None:
    source = _fixture(IRREGULAR["rows with fewer cells than the header"][0], tmp_path)
    assert main(["import-card", str(source), "-o", str(tmp_path / "out" / "card.yaml")]) == 0
    err = capsys.readouterr().err
    assert f"zoo: warning: {source}:29: row has 5 cells, its header 6; padded with empty cells at the end" in err


def test_figures_come_back_with_the_decimals_they_were_published_with(tmp_path: Path, capsys) -> None:
    card, _ = import_round_trip(_fixture(IRREGULAR["figures written with trailing zeros"][0], tmp_path), tmp_path / "card", capsys)
    row = next(line for line in (card.path.parent / "README.md").read_text().splitlines() if line.startswith("|") and "256x256x3" in line)
    assert "| 56.90 % |" in row and "| 1008.00 " in row, row  # not 56.9 and 1008.0


def test_a_long_row_keeps_its_extra_cells_under_unnamed_columns_with_a_warning(tmp_path: Path, capsys) -> None:
    source = _fixture(IRREGULAR["rows with more cells than the header"][0], tmp_path)
    assert main(["import-card", str(source), "-o", str(tmp_path / "out" / "card.yaml")]) == 0
    err = capsys.readouterr().err
    assert f"zoo: warning: {source}:29: row has 7 cells, its header 5; unnamed columns added" in err
    assert "padded" not in err  # the other rows are not short: only the header grew


def test_crlf_card_imports_like_its_lf_twin(tmp_path: Path, capsys) -> None:
    table, _ = IRREGULAR["units and tabs inside cells"]
    lf, crlf = _fixture(table, tmp_path, "lf.md"), _fixture(table, tmp_path, "crlf.md", "\r\n")
    assert main(["import-card", str(lf), str(crlf), "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    cards = [yaml.safe_load((tmp_path / "out" / name / "card.yaml").read_text()) for name in ("lf", "crlf")]
    assert cards[0]["performance"] == cards[1]["performance"] and cards[0]["performance"]


def test_a_folder_of_cards_reports_each_and_goes_on_after_a_bad_one(tmp_path: Path, capsys) -> None:
    good = _fixture(IRREGULAR["e notation"][0], tmp_path, "good.md")
    bad = tmp_path / "bad.md"
    bad.write_text("| Model | Format |\n|---|---|\n\nNo rows.\n")
    assert main(["import-card", str(good), str(bad), "-o", str(tmp_path / "out"), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 1 and report["cards"][0]["card"] == str(tmp_path / "out" / "good" / "card.yaml")
    assert report["cards"][1]["error"] == [f"{bad}:1: table has a header but no rows"]
    assert not (tmp_path / "out" / "bad").exists()


def test_import_does_not_replace_another_readme_without_force(tmp_path: Path, capsys) -> None:
    """Issue 12 #2: ``-o DIR/card.yaml`` wrote DIR/README.md over an existing one; --force guards both files."""
    source = tmp_path / "README.md"
    shutil.copyfile(DATA / "detection.md", source)
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "README.md").write_text("my own README\n")
    assert main(["import-card", str(source), "-o", str(target / "card.yaml")]) == 2
    assert capsys.readouterr().err == f"zoo: error: {target / 'README.md'}: already exists (pass --force to overwrite it)\n"
    assert (target / "README.md").read_text() == "my own README\n" and not (target / "card.yaml").exists()
    assert main(["import-card", str(source), "-o", str(target / "card.yaml"), "--force"]) == 0
    assert "<!-- zoo:begin name=network -->" in (target / "README.md").read_text()


def test_a_tensor_table_with_a_header_missing_a_pipe_keeps_its_descriptions(tmp_path: Path, capsys) -> None:
    table, _ = IRREGULAR["e notation"]
    text = _fixture(table, tmp_path).read_text().replace("| Output Shape | Description |", "| Output Shape  Description |")
    source = tmp_path / "broken.md"
    source.write_text(text)
    card, warnings = import_round_trip(source, tmp_path / "card", capsys)
    assert "unnamed columns added to the header" in warnings
    assert card.outputs(card.variant_ids[0])[0]["description"].startswith("FLOAT values where F is the number")


def test_seeded_mutations_never_traceback_and_never_lose_a_number(tmp_path: Path, capsys) -> None:
    """Cards arrive in pull requests: 60 seeded mutations of the fixtures (stray pipes, units, ranges, NA, tabs,
    emphasis, dropped and doubled lines) each import (every number back) or are refused in one line (exit 2)."""
    import random

    rng = random.Random(20261124)
    sources = [(DATA / "classification.md").read_text(), (DATA / "detection.md").read_text(),
               *(TINY_CARD.format(table=t) for t, _ in IRREGULAR.values())]
    tokens = ["NA", "~", "–", "×", "<br>", "**", "\\*", "|", "\t", "1,234", "1e-3", "%", " KiB", "-", "[x](y)", "---"]
    for n in range(60):
        lines = rng.choice(sources).split("\n")
        for _ in range(rng.randint(1, 5)):
            i = rng.randrange(len(lines))
            if rng.random() < 0.6:
                j = rng.randrange(len(lines[i]) + 1)
                lines[i] = lines[i][:j] + rng.choice(tokens) + lines[i][j:]
            elif rng.random() < 0.5:
                lines.insert(i, lines[rng.randrange(len(lines))])
            else:
                del lines[i]
        folder = tmp_path / str(n)
        folder.mkdir()
        (folder / "README.md").write_text("\n".join(lines))
        source = folder / "source.md"
        source.write_text("\n".join(lines))
        code = main(["import-card", str(folder / "README.md")])
        err = capsys.readouterr().err
        assert code in (0, 2), err
        if code == 2:
            assert len([l for l in err.splitlines() if l.startswith("zoo: error:")]) >= 1
        else:
            assert_same_table_numbers(source, folder / "README.md")


_REID = """# Tiny re-ID model

## **Use case** : `Re-Identification`

### Accuracy with synthetic_reid dataset

| Model | Format | Resolution | mAP | rank-1 accuracy |
|---|---|---|---|---|
| [OSNet demo int8](./ST_pretrainedmodel_public_dataset/synthetic_reid/osnet_demo/osnet_demo_int8.tflite) | Int8 | 128x64x3 | 51.3 % | 62.5 % |

{closing}
"""


@pytest.mark.parametrize(("closing", "protocol"), [
    ("Please refer to the stm32ai-modelzoo-services GitHub to retrain it.", "st-modelzoo"),
    ("Trained with torchreid.", None),
])
def test_st_zoo_reid_card_names_the_protocol_of_its_figures(closing: str, protocol: str | None, tmp_path: Path, capsys) -> None:
    source = tmp_path / "source.md"
    source.write_text(_REID.format(closing=closing))
    card, _ = import_round_trip(source, tmp_path / "card", capsys)
    assert card.evaluation.get("protocol") == protocol and card.protocol == (protocol or "market1501")
    assert all("protocol" not in r for r in card.data["performance"])  # the card's own protocol, said once


def test_verify_checks_an_imported_st_zoo_reid_card_under_the_st_protocol(tmp_path: Path, capsys) -> None:
    source = tmp_path / "source.md"
    source.write_text(_REID.format(closing="Please refer to the stm32ai-modelzoo-services GitHub."))
    card, _ = import_round_trip(source, tmp_path / "card", capsys)
    data = yaml.safe_load(card.path.read_text())  # what the maintainer adds before verifying: the preprocessing
    data["preprocessing"] = load_card(DEMO_CARD).data["preprocessing"]
    card.path.write_text(yaml.safe_dump(data, sort_keys=False))
    people = synthetic.write_test_set(tmp_path / "people", identities=8, gallery_per_identity=3).root
    main(["verify", str(card.path), "--offline", "--dataset", str(people), "--dataset-id", "synthetic_reid", "--json"])
    checks = [c for e in json.loads(capsys.readouterr().out)["entries"] for c in e["checks"] if c["id"].startswith("accuracy.")]
    assert {c["id"] for c in checks} == {"accuracy.mAP", "accuracy.rank1"}
    assert all(c["details"]["protocol"] == "st-modelzoo" for c in checks), checks


def test_a_paper_that_is_neither_link_nor_arxiv_id_stays_a_network_row(tmp_path: Path, capsys) -> None:
    table, _ = IRREGULAR["e notation"]
    source = _fixture(table, tmp_path)
    source.write_text(source.read_text().replace("| Provenance |", "| Paper | to be published |\n| Provenance |"))
    card, _ = import_round_trip(source, tmp_path / "card", capsys)  # the card schema takes arXiv ids and URLs only
    assert "paper" not in card.data and {"name": "Paper", "value": "to be published"} in card.data["network_details"]


def test_import_keeps_what_the_card_says(tmp_path: Path, capsys) -> None:
    """What the card writes comes back as written: a plain "Accuracy" is no top-1 (segmentation pixel accuracy),
    kB stays kB, W4A8 stays W4A8, a tensor without a dtype gets none, an empty provenance is no provenance."""
    text = TINY_CARD.replace("| Provenance | Trained in-house by the zoo tests, no public source |", "| Provenance |  |")
    text = text.replace("with UINT8 values between 0 and 255", "pixels").replace("FLOAT values where", "where")
    table = (f"| Model | Format | Resolution | Series | Weights Flash (kB) | Accuracy (%) |\n|---|---|---|---|---|---|\n"
             f"| {_LINK} | W4A8 | 256x256x3 | STM32N6 | 123.5 | 91.2 |")
    source = tmp_path / "source.md"
    source.write_text(text.format(table=table))
    card, warnings = import_round_trip(source, tmp_path / "card", capsys)
    (record,) = _records(card)
    assert set(record["values"]) == {"weights_flash", "accuracy"}  # not top1
    assert record["values"]["weights_flash"] == {"value": 123.5, "unit": "kB"} and record["format"] == "w4a8"
    assert "provenance" not in card.data
    assert [t.get("dtype") for t in card.inputs(card.variant_ids[0]) + card.outputs(card.variant_ids[0])] == [None, None]
    assert warnings.count("left out (the card states none)") == 2
    readme = (tmp_path / "card" / "README.md").read_text()
    assert re.search(r"\| W4A8 +\|", readme) and "Weights Flash (kB)" in readme
    assert "Top 1" not in readme and "float32" not in readme and re.search(r"\| Accuracy +\|", readme)


def test_import_into_a_folder_named_after_the_card(tmp_path: Path, capsys) -> None:
    source = tmp_path / "up" / "yolo.md"
    source.parent.mkdir()
    source.write_text(TINY_CARD.format(table=f"{_HEAD} Inference time (ms) |\n|---|---|---|---|---|\n| {_LINK} | Int8 | 32x32x3 | B | 1.5 |"))
    assert main(["import-card", str(source), "-o", f"{tmp_path / 'out' / 'yolo'}/"]) == 0
    assert (tmp_path / "out" / "yolo" / "card.yaml").is_file() and not (tmp_path / "out" / "yolo" / "yolo").exists()
