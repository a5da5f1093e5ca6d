"""Seeded fuzz of card tables (issue 23): performance tables with random columns, rows and cell text (figures in
every format the published cards use, ranges, NA, markup, unicode, control characters, escaped pipes) go
through import-card. Each either imports, giving every number back in its rendered README, or is refused in
one-line errors (exit 2); nothing traces back, and no control character reaches the terminal."""

from __future__ import annotations

import random
from pathlib import Path

from helpers import TINY_CARD, assert_same_table_numbers
from zoo.cli import main

SEED, TABLES = 20261207, 40
COLUMNS = ["Series", "Board", "Execution Engine", "Frequency", "Inference time (ms)", "Inf / sec", "Activation RAM (KiB)",
           "Weights Flash (KiB)", "Top 1 Accuracy", "mAP", "Power (mW)", "Notes", "STEdgeAI Core version", "%NPU",
           "Parameters", "MACs", "Ünïcödé col", "ctl\x1b[31m col", "AP*"]


def _figure(rng: random.Random) -> str:
    value = rng.choice([rng.uniform(0, 2000), rng.uniform(0, 1), float(rng.randint(0, 10**6))])
    digits = rng.choice([0, 1, 2, 3])
    text = f"{value:,.{digits}f}" if rng.random() < 0.3 else f"{value:.{digits}f}"
    if rng.random() < 0.1:
        text = f"{value:.3e}"
    return rng.choice(["", "~", "<", ""]) + text + rng.choice(["", "", " %", "%", " ms", " KiB", " MHz", " KiB KiB", " K"])


def _cell(rng: random.Random) -> str:
    kind = rng.randrange(10)
    if kind < 5:
        return _figure(rng)
    if kind == 5:
        return f"{_figure(rng)}–{_figure(rng)}"
    return rng.choice(["NA", "N/A", "", "-", "fp32<br>300 images", "**12.5**", "[91.2 %](https://example.invalid/log)",
                       "TensorFlowLite 2.18.0", "a \\| b", "µs ≈ 3", "x\x1b[2Jy", "tab\there", "STM32N6570-DK", "96 MHz"])


def _table(rng: random.Random) -> str:
    columns = ["Model", "Format", "Resolution"] + rng.sample(COLUMNS, rng.randint(1, 6))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in range(rng.randint(1, 25)):
        model = f"[tiny {row}](https://example.invalid/tiny_{row}_int8.tflite)" if rng.random() < 0.8 else f"tiny {row}"
        cells = [model, rng.choice(["Int8", "Float", "W4A8", "int8"]), rng.choice(["32x32x3", "256×256×3", "48 x 3 x 1"])]
        cells += [_cell(rng) for _ in columns[3:]]
        if rng.random() < 0.05:
            cells = cells[: rng.randrange(1, len(cells))]  # a short row
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_seeded_card_tables_import_with_every_number_or_are_refused_in_one_line(tmp_path: Path, capsys) -> None:
    rng = random.Random(SEED)
    codes = []
    for n in range(TABLES):
        folder = tmp_path / f"card{n}"
        folder.mkdir()
        text = TINY_CARD.format(table=_table(rng))
        (folder / "source.md").write_text(text)
        (folder / "README.md").write_text(text)
        code = main(["import-card", str(folder / "README.md")])
        out = capsys.readouterr()
        codes.append(code)
        assert code in (0, 2), out.err
        assert "\x1b" not in out.err + out.out and "Traceback" not in out.err
        if code == 2:
            assert [line for line in out.err.splitlines() if line.startswith("zoo: error:")], out.err
        else:
            assert_same_table_numbers(folder / "source.md", folder / "README.md")
            assert main(["render-card", "--check", str(folder)]) == 0, capsys.readouterr().err
    assert codes.count(0) >= TABLES // 2, codes  # the fuzz reaches the writer, not only the refusals
