"""Model files are validated before any interpreter sees them: one-line errors, never a traceback or a signal."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tflite_builder as tb
from helpers import one_line_error, zoo
from ai_edge_litert import schema_py_generated as schema

from zoo.cli import main
from zoo.core.errors import ModelFileError
from zoo.model.inspection import inspect_model, read_model
from zoo.core.resources import data_dir

DEMO = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"


def _conv(model: Any) -> Any:
    """The first convolution of the graph (input, per-channel int8 filter, int32 bias)."""
    graph = model.subgraphs[0]
    return next(op for op in graph.operators if op.inputs is not None and len(op.inputs) == 3)


def _tensor(model: Any, which: int) -> Any:
    return model.subgraphs[0].tensors[int(_conv(model).inputs[which])]


def _shorten(model: Any, which: int) -> None:
    buffer = model.buffers[int(_tensor(model, which).buffer)]
    buffer.data = buffer.data[: len(buffer.data) // 2]


EDITS: dict[str, tuple[Callable[[Any], None], str]] = {
    "op input index": (lambda m: _conv(m).inputs.__setitem__(0, 10_000), "input tensor 10000 does not exist"),
    "graph output index": (lambda m: m.subgraphs[0].outputs.__setitem__(0, 10_000), "output tensor 10000 does not exist"),
    "opcode index": (lambda m: setattr(_conv(m), "opcodeIndex", 99), "operator code 99 does not exist"),
    "short weights": (lambda m: _shorten(m, 1), "constant buffer holds"),
    "short bias": (lambda m: _shorten(m, 2), "constant buffer holds"),
    "scale count": (lambda m: setattr(_tensor(m, 1).quantization, "scale", np.ones(3, np.float32)),
                    "3 quantization scale(s) but"),
    "quantized dimension": (lambda m: setattr(_tensor(m, 1).quantization, "quantizedDimension", 7),
                            "quantized dimension 7 outside"),
    "zero scale": (lambda m: _tensor(m, 0).quantization.scale.__setitem__(0, 0.0), "must be positive and finite"),
    "per-channel zero point": (lambda m: _tensor(m, 1).quantization.zeroPoint.__setitem__(0, 5), "zero point 0"),
    "options type": (lambda m: setattr(_conv(m), "builtinOptionsType", schema.BuiltinOptions.AddOptions),
                     "carries AddOptions instead of Conv2DOptions"),
    "stride 0": (lambda m: setattr(_conv(m).builtinOptions, "strideW", 0), "strideW is 0"),
    "huge tensor": (lambda m: setattr(m.subgraphs[0].tensors[int(_conv(m).outputs[0])], "shape",
                                      np.array([1, 1 << 20, 1 << 20, 16], np.int32)), "needs"),
    "negative dimension": (lambda m: setattr(_tensor(m, 0), "shape", np.array([1, -4, 4, 3], np.int32)),
                           "negative dimension -4"),
}


@pytest.mark.parametrize("name", EDITS)
def test_each_broken_structure_is_a_one_line_error_naming_it(name: str, tmp_path: Path, capsys) -> None:
    edit, problem = EDITS[name]
    model = tb.read(DEMO)
    edit(model)
    path = tb.write(model, tmp_path / "broken.tflite")
    with pytest.raises(ModelFileError) as caught:
        read_model(path)
    assert problem in str(caught.value) and str(caught.value).startswith(f"{path}: invalid TFLite model: ")
    for command in ("inspect", "footprint", "bench"):  # bench would hand the file to LiteRT next
        assert main([command, str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"zoo: error: {path}: ") and problem in err[0], err


def test_the_shipped_model_passes_validation() -> None:  # the real files: test_real_artifacts.py
    assert inspect_model(DEMO).op_count > 0


# The driver runs in a child so that a native crash shows as a signal, not as a dead test run; each case's
# exit code, stderr lines and any escaped exception come back as one JSON line.
_DRIVER = """
import contextlib, io, json, sys, traceback
from zoo.cli import main
for path in sys.argv[1:]:
    for command in ("inspect", "footprint"):
        err, out = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                code = main([command, path, "--offline"])
            escaped = None
        except BaseException:
            code, escaped = None, traceback.format_exc().splitlines()[-1]
        print(json.dumps({"path": path, "command": command, "code": code, "escaped": escaped,
                          "err": err.getvalue().splitlines()}), flush=True)
"""


def _mutants(tmp_path: Path, seed: int, count: int) -> list[Path]:
    """``count`` copies of the demo with 1 to 4 structure bytes set to random values (seeded)."""
    data = DEMO.read_bytes()
    offsets = tb.metadata_offsets(data)
    rng = random.Random(seed)
    paths = []
    for k in range(count):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutated[int(offsets[rng.randrange(len(offsets))])] = rng.randrange(256)
        paths.append(tmp_path / f"mutant{k}.tflite")
        paths[-1].write_bytes(mutated)
    return paths


def test_fuzzed_structure_bytes_never_give_a_traceback_or_a_signal(tmp_path: Path) -> None:
    paths = _mutants(tmp_path, seed=20261124, count=60)
    done = subprocess.run([sys.executable, "-c", _DRIVER, *map(str, paths)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"the child died (signal {-done.returncode})" if done.returncode < 0 else done.stderr
    cases = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(cases) == 2 * len(paths)
    refused = 0
    for case in cases:
        assert case["escaped"] is None, case
        assert case["code"] in (0, 2), case
        if case["code"] == 2:
            refused += 1
            assert len(case["err"]) == 1 and case["err"][0].startswith(f"zoo: error: {case['path']}: "), case
        assert not any("Traceback" in line for line in case["err"]), case
    assert 0 < refused < len(cases)  # the seed exercises both outcomes


def test_a_few_mutants_through_the_real_command_line(tmp_path: Path) -> None:
    """Each mutant gets the outcome its class documents: a file the validator refuses is exit 2 with one line
    naming it and the validator's reason; a file it accepts is inspected (exit 0) with the library's figures."""
    outcomes = set()
    for path in _mutants(tmp_path, seed=2, count=4):
        try:
            expected = inspect_model(path).to_json()
        except ModelFileError as exc:
            expected = exc
        for command in ("inspect", "footprint"):
            done = zoo(command, str(path), "--json")
            if isinstance(expected, ModelFileError):
                assert one_line_error(done, 2) == f"zoo: error: {expected.lines()[0]}"
            else:
                assert done.returncode == 0, done.stderr
                if command == "inspect":
                    assert json.loads(done.stdout)["parameters"] == expected["parameters"]
            outcomes.add(done.returncode)
    assert outcomes == {0, 2}  # the seed exercises both classes


def test_evaluate_validates_the_file_before_any_interpreter(tmp_path: Path, capsys) -> None:
    model = tb.read(DEMO)
    EDITS["short weights"][0](model)
    path = tb.write(model, tmp_path / "broken.tflite")
    card = data_dir("model_cards") / "osnet_demo" / "card.yaml"
    assert main(["evaluate", str(path), "--dataset", str(tmp_path), "--card", str(card)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"zoo: error: {path}: invalid TFLite model: "), err
