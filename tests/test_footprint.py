"""zoo footprint: weights, MACs and activation memory from the file, against TFLM's figures, on osnet_demo and
files the tests build (the real files against their published figures: test_real_artifacts.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import tflite_builder as tb
from helpers import zoo

from zoo.cli import main
from zoo.model.footprint import activation_lower_bound, compute_footprint, greedy_plan, lifetimes, planning_graph
from zoo.model.inspection import read_model
from zoo.catalog.registry import load_registry
from zoo.model.tflm import available as tflm_available

DEMO = Path(load_registry().get("osnet_demo").artifact("tflite").sources[0])
needs_tflm = pytest.mark.skipif(not tflm_available(), reason="tflite-micro (zoo[mcu]) is not installed")


@needs_tflm
def test_the_greedy_planner_agrees_with_tflm_on_the_demo() -> None:
    fp = compute_footprint(DEMO, tflm=True)
    assert fp.arena_estimate_bytes == pytest.approx(fp.tflm_activation_bytes, rel=0.03)
    assert fp.activation_lower_bound_bytes <= fp.tflm_activation_bytes < fp.tflm_arena_bytes


def test_greedy_plan_never_overlaps_tensors_alive_at_once() -> None:
    graph = planning_graph(read_model(DEMO))
    spans, offsets = lifetimes(graph), greedy_plan(graph)
    assert set(offsets) == set(spans) and all(o % 16 == 0 for o in offsets.values())
    items = list(offsets)
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            together = spans[a][0] <= spans[b][1] and spans[b][0] <= spans[a][1]
            apart = offsets[a] + graph.sizes[a] <= offsets[b] or offsets[b] + graph.sizes[b] <= offsets[a]
            assert apart or not together, (a, b)
    # Every op holds at least all its activation inputs (at its start) and all its outputs (at its end).
    biggest = max(max(sum(graph.sizes[t] for t in set(ins) if t not in graph.constant), sum(graph.sizes[t] for t in outs))
                  for _, ins, outs in graph.ops)
    assert biggest <= activation_lower_bound(graph) <= max(o + graph.sizes[t] for t, o in offsets.items())


def test_demo_weights_are_its_constant_buffers() -> None:
    parsed = read_model(DEMO)
    used = {int(t.buffer) for t in parsed.graph.tensors if t.buffer}
    held = sum(len(parsed.model.buffers[b].data) for b in used if parsed.model.buffers[b].data is not None)
    fp = compute_footprint(DEMO)
    assert fp.weights_bytes == held > 0 and sum(fp.weights_bytes_by_dtype.values()) == held
    assert fp.weights_bytes < DEMO.stat().st_size  # the rest is graph structure


def test_macs_of_hand_sized_ops_and_a_float_model_is_reported(tmp_path: Path) -> None:
    from zoo.model.runtime import load_model

    rng = np.random.default_rng(0)
    conv = tb.write(tb.float_model("CONV_2D", [1, 12, 10, 3], rng.normal(size=(8, 3, 3, 3)), [1, 6, 5, 8], 2),
                    tmp_path / "conv.tflite")
    fc = tb.write(tb.float_model("FULLY_CONNECTED", [1, 40], rng.normal(size=(7, 40)), [1, 7]),
                  tmp_path / "fc.tflite")
    for path in (conv, fc):  # the files are sound: LiteRT runs them
        model = load_model(path)
        assert model.invoke(np.ones(model.inputs[0].shape, np.float32))[0].shape == model.outputs[0].shape
    fp = compute_footprint(conv)
    assert fp.macs == 6 * 5 * 8 * 3 * 3 * 3 and fp.weights_bytes == (8 * 3 * 3 * 3 + 8) * 4
    assert fp.precision == "float32" and any("float32 weights" in n for n in fp.notes)
    assert compute_footprint(fc).macs_by_op == {"FULLY_CONNECTED": 7 * 40}
    # The greedy plan holds input and output side by side; the bound lets the output overwrite the input.
    assert fp.arena_estimate_bytes == 12 * 10 * 3 * 4 + 6 * 5 * 8 * 4
    assert fp.activation_lower_bound_bytes == max(12 * 10 * 3 * 4, 6 * 5 * 8 * 4)


def test_custom_ops_and_dynamic_shapes_are_reported_not_crashed_on(tmp_path: Path, capsys) -> None:
    custom = tb.write(tb.with_custom_op(tb.read(DEMO)), tmp_path / "custom.tflite")
    dynamic = tb.write(tb.with_dynamic_input(tb.read(DEMO)), tmp_path / "dynamic.tflite")
    base = compute_footprint(DEMO)
    fp = compute_footprint(custom)
    assert fp.weights_bytes == base.weights_bytes and any("custom ops (ZooTestOp)" in n for n in fp.notes)
    fp = compute_footprint(dynamic)
    assert fp.activation_lower_bound_bytes is None and fp.arena_estimate_bytes is None
    assert fp.macs == base.macs and any(n.startswith("dynamic shapes") for n in fp.notes)
    for path in (custom, dynamic):
        assert main(["footprint", str(path), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["notes"]


@needs_tflm
def test_a_model_tflm_cannot_run_is_a_note_with_its_reason(tmp_path: Path) -> None:
    custom = tb.write(tb.with_custom_op(tb.read(DEMO)), tmp_path / "custom.tflite")
    done = zoo("footprint", str(custom), "--tflm")  # a process: a traceback would show on its stderr
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "note: TFLM cannot plan this model" in done.stdout


def test_cli_json_names_and_text(capsys) -> None:
    assert main(["footprint", "osnet_demo", "--json", "--offline"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"weights_bytes", "macs", "activation_lower_bound_bytes", "arena_estimate_bytes",
            "tflm_activation_bytes", "tflm_arena_bytes"} <= doc.keys()
    assert doc["model_id"] == "osnet_demo" and doc["tflm_activation_bytes"] is None
    assert math.isclose(doc["weights_bytes"], sum(doc["weights_bytes_by_dtype"].values()))
    assert main(["footprint", str(DEMO)]) == 0
    text = capsys.readouterr().out
    assert f"{doc['weights_bytes']:,} bytes" in text and "MACs" in text and "lower bound" in text


def test_bad_files_and_ids_are_one_line_errors(tmp_path: Path, capsys) -> None:
    (tmp_path / "junk.tflite").write_bytes(b"\x00" * 64)
    for target in (str(tmp_path / "junk.tflite"), "no_such_model", str(tmp_path / "missing.tflite")):
        assert main(["footprint", target]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"zoo: error: {target}: "), err


def _card_copy(tmp_path: Path, name: str) -> Path:
    """A card folder copied next to nothing else: its README and card.yaml."""
    import shutil

    folder = tmp_path / name
    shutil.copytree(Path(__file__).parent.parent / "model_cards" / name, folder)
    return folder


def test_render_card_footprint_fills_the_table_from_the_file(tmp_path: Path, capsys) -> None:
    folder = _card_copy(tmp_path, "osnet_demo")
    readme = folder / "README.md"
    assert main(["render-card", str(folder), "--check", "--footprint", "--offline"]) == 0  # shipped table is current
    fp = compute_footprint(DEMO)
    row = next(line for line in readme.read_text().splitlines() if line.startswith("| OSNet demo int8 ")
               and "KiB" in line)
    assert f"{fp.weights_bytes / 1024:,.2f} KiB" in row and f"{fp.macs / 1e6:.2f} M" in row
    # Without --footprint the region is left as it is; with it, a hand-edited figure is stale.
    readme.write_text(readme.read_text().replace(row, row.replace(" M ", " G ")))
    assert main(["render-card", str(folder), "--check"]) == 0
    assert main(["render-card", str(folder), "--check", "--footprint", "--offline"]) == 1
    capsys.readouterr()


def test_render_card_footprint_says_which_files_it_could_not_have(tmp_path: Path, capsys) -> None:
    folder = _card_copy(tmp_path, "osnet")
    readme = folder / "README.md"
    readme.write_text(readme.read_text() + "\n<!-- zoo:begin name=footprint -->\n<!-- zoo:end name=footprint -->\n")
    assert main(["render-card", str(folder), "--footprint", "--offline"]) == 0
    captured = capsys.readouterr()
    assert [line.split(":")[2].strip() for line in captured.err.splitlines()] == ["osnet_a025", "osnet_a100"]
    assert readme.read_text().count("| not available |") == 2
