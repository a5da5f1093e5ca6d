"""Goldens and bench on the bundled osnet_demo (the real files' shipped goldens: test_real_artifacts.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tflite_builder as tb

from zoo.cli import main
from zoo.model.goldens import check_golden, load_golden, make_golden
from zoo.model.latency import cpu_model
from zoo.catalog.registry import load_registry
from zoo.core.resources import data_dir

DEMO = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"


def test_the_shipped_golden_reproduces_on_the_demo_file() -> None:
    artifact = load_registry().get("osnet_demo").artifact("tflite")
    golden = load_golden(artifact.golden)
    assert golden["sha256"] == artifact.sha256 and golden["file"] == artifact.file
    result = check_golden(DEMO, golden)
    assert result.passed and result.cases == golden["recipe"]["cases"] == 3 and result.max_diff <= 1


def _retrained(tmp_path: Path) -> Path:
    """The demo with every int8 weight of its first convolution moved one step: same graph, other outputs."""
    model = tb.read(DEMO)
    graph = model.subgraphs[0]
    conv = next(op for op in graph.operators if op.inputs is not None and len(op.inputs) == 3)
    buffer = model.buffers[graph.tensors[int(conv.inputs[1])].buffer]
    weights = np.asarray(buffer.data, np.uint8).view(np.int8)
    buffer.data = np.where(weights < 100, weights + 20, weights - 20).astype(np.int8).view(np.uint8)
    return tb.write(model, tmp_path / "retrained.tflite")


def test_golden_detects_changed_outputs_and_the_wrong_file(tmp_path: Path) -> None:
    golden = make_golden(DEMO, seed="test", cases=1)
    values = golden["expected"][0][0]["values"]
    values[:5] = [v + 2 if v < 120 else v - 2 for v in values[:5]]  # two quantization steps off
    result = check_golden(DEMO, golden)
    assert not result.passed and result.mismatches == 5 and result.max_diff == 2
    shipped = load_golden(load_registry().get("osnet_demo").artifact("tflite").golden)
    assert not check_golden(_retrained(tmp_path), shipped).passed


def test_bench_reports_benchmark_model_fields(capsys) -> None:
    assert main(["bench", str(DEMO), "--json", "--warmup", "0", "--min-runs", "5", "--min-seconds", "0"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["count"] == 5 and r["threads"] == 1 and r["cpu"] == cpu_model() != ""
    assert 0 < r["min_ms"] <= r["p5_ms"] <= r["p50_ms"] <= r["p95_ms"] <= r["max_ms"]
    assert r["min_ms"] <= r["mean_ms"] <= r["max_ms"] and r["init_ms"] > 0 and r["first_ms"] > 0
    assert r["runtime"].startswith("ai-edge-litert")
