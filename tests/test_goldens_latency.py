from __future__ import annotations

import json
from pathlib import Path

import pytest

from zoo.cli import main
from zoo.goldens import check_golden, load_golden, make_golden
from zoo.latency import cpu_model
from zoo.registry import load_registry


@pytest.mark.parametrize(("model_id", "fixture"), [("osnet_a025", "real_osnet"), ("mobilenetv2_a100", "real_mobilenetv2")])
def test_shipped_goldens_reproduce_on_the_real_files(model_id: str, fixture: str, request) -> None:
    artifact = load_registry().get(model_id).artifact("tflite")
    golden = load_golden(artifact.golden)
    assert golden["sha256"] == artifact.sha256 and golden["file"] == artifact.file
    result = check_golden(request.getfixturevalue(fixture), golden)
    assert result.passed and result.cases == 3 and result.max_diff <= 1


def test_golden_detects_changed_outputs_and_the_wrong_file(real_osnet: Path, real_mobilenetv2: Path) -> None:
    golden = make_golden(real_osnet, seed="test", cases=1)
    values = golden["expected"][0][0]["values"]
    values[:5] = [v + 2 if v < 120 else v - 2 for v in values[:5]]  # two quantization steps off
    result = check_golden(real_osnet, golden)
    assert not result.passed and result.mismatches == 5 and result.max_diff == 2
    assert not check_golden(real_mobilenetv2, load_golden(load_registry().get("osnet_a025").artifact("tflite").golden)).passed


def test_bench_reports_benchmark_model_fields(real_osnet: Path, capsys) -> None:
    assert main(["bench", str(real_osnet), "--json", "--warmup", "0", "--min-runs", "5", "--min-seconds", "0"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["count"] == 5 and r["threads"] == 1 and r["cpu"] == cpu_model() != ""
    assert 0 < r["min_ms"] <= r["p5_ms"] <= r["p50_ms"] <= r["p95_ms"] <= r["max_ms"]
    assert r["min_ms"] <= r["mean_ms"] <= r["max_ms"] and r["init_ms"] > 0 and r["first_ms"] > 0
    assert r["runtime"].startswith("ai-edge-litert")
