from __future__ import annotations

import json
from pathlib import Path

import pytest

from zoo.cli import main
from zoo.errors import ModelFileError
from zoo.inspection import inspect_model
from zoo.registry import load_registry


def test_real_osnet_reports_its_true_tensors_ops_and_parameters(real_osnet: Path, capsys) -> None:
    assert main(["inspect", str(real_osnet), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    (inp,), (out,) = info["inputs"], info["outputs"]
    assert (inp["shape"], inp["dtype"], inp["zero_point"]) == ([1, 256, 128, 3], "uint8", 127)
    assert inp["scale"] == pytest.approx(1 / 127.5, rel=1e-6)
    assert (out["shape"], out["dtype"], out["zero_point"], out["per_channel"]) == ([1, 128], "int8", -128, False)
    assert out["scale"] == pytest.approx(0.019770296, rel=1e-6)
    assert (out["producer"], out["meaning"]) == ("MEAN", "embedding")
    assert info["parameters"] == 133_938
    assert info["parameters_by_dtype"] == {"int8": 129_136, "int32": 4_802}
    assert info["op_count"] == 288  # counted in the flatbuffer; ../shared/REFERENCE.md's 291 does not add up
    assert {k: info["ops"][k] for k in ("CONV_2D", "DEPTHWISE_CONV_2D", "MEAN", "LOGISTIC", "MUL", "ADD")} == {
        "CONV_2D": 127, "DEPTHWISE_CONV_2D": 60, "MEAN": 25, "LOGISTIC": 24, "MUL": 24, "ADD": 24}
    assert info["artifact"] == {"model_id": "osnet_a025", "file": real_osnet.name, "format": "tflite"}
    assert (info["size"], info["sha256"][:8]) == (377_504, "e9713dbb")


def test_real_mobilenetv2_counts_and_text_output(real_mobilenetv2: Path, capsys) -> None:
    info = inspect_model(real_mobilenetv2, load_registry())
    assert (info.parameters, info.op_count, info.outputs[0].shape) == (2_206_818, 64, (1, 1280))
    assert info.output_meaning(0) == "embedding" and info.artifact.model_id == "mobilenetv2_a100"
    assert main(["inspect", str(real_mobilenetv2)]) == 0
    text = capsys.readouterr().out
    assert "2,206,818" in text and "mobilenetv2_a100" in text and "1x1280" in text


def _damaged(real: Path, tmp_path: Path) -> list[Path]:
    data = real.read_bytes()
    flipped = bytearray(data)
    flipped[8:24] = b"\xff" * 16  # corrupt the root table's offsets
    cases = {"empty": b"", "text": b"not a model at all\n" * 4, "header-only": data[:16],
             "half": data[: len(data) // 2], "one-byte-short": data[:-1], "flipped": bytes(flipped)}
    paths = []
    for name, content in cases.items():
        (tmp_path / f"{name}.tflite").write_bytes(content)
        paths.append(tmp_path / f"{name}.tflite")
    return paths


def test_malformed_files_are_one_line_errors_never_crashes(real_osnet: Path, tmp_path: Path, capsys) -> None:
    for path in _damaged(real_osnet, tmp_path) + [tmp_path / "missing.tflite"]:
        with pytest.raises(ModelFileError):
            inspect_model(path)
        for command in ("inspect", "bench"):
            assert main([command, str(path)]) == 2, path
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith(f"zoo: error: {path}: "), err
