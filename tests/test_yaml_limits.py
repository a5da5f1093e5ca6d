"""Hostile YAML (cards and registries arrive in pull requests): refused in one line, exit 2, quickly."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.cli import main


def _laughs(levels: int, width: int) -> str:
    """A "billion laughs" document: small on disk, ``width ** levels`` values once aliases expand."""
    lines = ["l0: &l0 [lol]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_laughs(8, 5), "more than 100,000 values once aliases are expanded"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 64 levels"),
        ("".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v\n", "nested deeper than 64 levels"),
        ("schema_version: " + "7" * 5000 + "\n", "an integer of more than 100 digits"),
        ("title: '" + "x" * (5 * 1024 * 1024) + "'\n", "larger than 4 MiB"),
    ],
    ids=["billion-laughs", "deep-flow", "deep-block", "huge-integer", "huge-file"],
)
def test_hostile_yaml_is_refused_in_one_line(tmp_path: Path, capsys, text: str, expected: str) -> None:
    card = tmp_path / "card.yaml"
    card.write_text(text)
    assert main(["render-card", "--check", str(card)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err == f"zoo: error: {card}: refused: {expected}\n"
    assert main(["validate", str(card)]) == 1  # validate reports the file as one problem among its files
    assert capsys.readouterr().out == f"{card}:1: error: refused: {expected} [card.schema]\n"


def test_ordinary_anchors_still_load(tmp_path: Path) -> None:
    from zoo.core.documents import load_yaml

    doc = load_yaml(tmp_path / "x.yaml", text="base: &b {unit: ms}\nvalues: [*b, *b]\nbig: 123456789012345678901234567890\n")
    assert doc.data["values"] == [{"unit": "ms"}, {"unit": "ms"}] and doc.data["big"] == 123456789012345678901234567890
