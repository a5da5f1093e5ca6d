"""Card loading and validation: the committed cards are valid, and every kind of bad card is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.cards.checks import arxiv_problem, file_problems
from zoo.cards.card import default_card_paths, load_card
from zoo.core.errors import InvalidDataError
from zoo.catalog.registry import load_registry

REPO = Path(__file__).resolve().parent.parent
OSNET = REPO / "model_cards" / "osnet" / "card.yaml"


def test_committed_cards_have_no_problem() -> None:
    registry = load_registry()
    paths = default_card_paths()
    assert {p.parent.name for p in paths} == {"osnet", "mobilenetv2_reid", "osnet_demo"}
    assert [problem for p in paths for problem in file_problems(p, registry)] == []


def test_typed_access_uses_variant_override_else_shared() -> None:
    card = load_card(OSNET)
    assert card.family == "osnet" and card.use_case == "re_identification"
    assert card.variant_ids == ["osnet_a025", "osnet_a100"]
    assert card.outputs("osnet_a100")[0]["shape"] == [1, 512]
    assert card.inputs("osnet_a100")[0]["dtype"] == "uint8"  # shared by both variants
    assert len(card.records("osnet_a025")) == 3
    assert len(card.records(kind="board")) == 4
    assert card.doc.line(("variants", 1, "id")) == OSNET.read_text().splitlines().index("  - id: osnet_a100") + 1


def _edited(tmp_path: Path, old: str, new: str, source: Path = OSNET) -> Path:
    text = source.read_text()
    assert old in text
    out = tmp_path / "card.yaml"
    out.write_text(text.replace(old, new, 1))
    return out


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("family: osnet\n", "family: osnet\nfamly: typo\n", ":5: /famly: unknown key"),
        ("weights_flash: {value: 404.94, unit: KiB}", "weights_flash: {value: 404.94, unit: ms}",
         "/performance/0/values/weights_flash/unit: unit 'ms' does not fit weights_flash"),
        ("inference_time: {value: 3.53, unit: ms}", "inferences_per_second: {value: 283.3, unit: inf/s}",
         "/performance/0/values/inferences_per_second/unit: inferences_per_second is derived"),
        ("    split: test\n", "    split: test\n    dataset: x\n", "duplicate key 'dataset'"),
        ("paper: arXiv:1905.00953", "paper: arXiv:1905.0095", "/paper: malformed arXiv id '1905.0095'"),
        ("        shape: [1, 512]", "        shape: [1, 1.5]", "/variants/1/outputs/0/shape/1: 1.5 is not valid"),
        ("    measured_on: {kind: board, target: NPU,", "    measured_on: {kind: board,",
         "/performance/0/measured_on: 'target' is a required property"),
    ],
)
def test_each_problem_is_one_line_with_file_line_and_pointer(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = _edited(tmp_path, old, new)
    problems = file_problems(path, load_registry())
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:") and expected in problems[0]
    assert int(problems[0][len(str(path)) + 1 :].split(":")[0]) > 1


def test_unknown_variant_and_its_records_are_all_reported(tmp_path: Path) -> None:
    path = _edited(tmp_path, "  - id: osnet_a100", "  - id: osnet_x9")
    problems = file_problems(path, load_registry())
    assert "/variants/1/id: variant 'osnet_x9' is not a model of registry" in problems[0]
    assert [p.split(": ", 1)[1] for p in problems[1:]] == ["/performance/%d/variant: record for unknown variant 'osnet_a100'" % i for i in (1, 3, 5)]


def _unused_dataset(tmp_path: Path) -> Path:
    return _edited(tmp_path, "  - variant: osnet_a025\n    dataset: deepsportradar\n    split: test",
                   "  - variant: osnet_a025\n    dataset: cuhk03\n    split: test")


def test_record_for_unknown_dataset(tmp_path: Path) -> None:
    (problem,) = file_problems(_unused_dataset(tmp_path), None)
    assert "/performance/4/dataset: record for unknown dataset 'cuhk03'" in problem


def test_duplicate_record_is_reported(tmp_path: Path) -> None:
    text = OSNET.read_text()
    first = text.index("  - variant: osnet_a025")
    second = text.index("  - variant: osnet_a100", first)
    path = tmp_path / "card.yaml"
    path.write_text(text + text[first:second])
    (problem,) = file_problems(path, load_registry())
    assert "duplicate performance record (same as item 0)" in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("family: [unclosed\n", ":2: invalid YAML"),
        ("- just\n- a list\n", ":1: /: a card must be a mapping"),
        ("schema_version: 1\nfamily: 3\n", "/family: 3 is not of type 'string'"),
    ],
)
def test_bad_documents_raise_invalid_data(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "card.yaml"
    path.write_text(text)
    with pytest.raises(InvalidDataError) as info:
        load_card(path)
    assert any(expected in line for line in info.value.lines()), info.value.lines()


@pytest.mark.parametrize(
    ("paper", "ok"),
    [
        ("arXiv:1905.00953", True),
        ("https://arxiv.org/abs/1801.04381v4", True),
        ("https://arxiv.org/pdf/1409.1556.pdf", True),
        ("https://arxiv.org/abs/1905.0095", False),
        ("arXiv:1913.12345", False),
        ("https://example.org/paper.pdf", True),
    ],
)
def test_arxiv_ids(paper: str, ok: bool) -> None:
    assert (arxiv_problem(paper) is None) is ok


def test_time_without_where_it_was_measured_is_a_problem(tmp_path: Path) -> None:
    path = _edited(tmp_path, "    split: test\n    format: int8\n    resolution: 256x128\n    origin: published\n    values:\n",
                   "    split: test\n    format: int8\n    resolution: 256x128\n    origin: published\n    values:\n      inference_time: {value: 2.0, unit: ms}\n")
    (problem,) = file_problems(path, None)
    assert "/performance/4/values/inference_time: memory and time figures need measured_on" in problem
