"""zoo inspect: a file's tensors, ops and parameters, on osnet_demo against LiteRT and the flatbuffer read directly.

The real files' published figures: tests/test_real_artifacts.py.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tflite_builder as tb
from ai_edge_litert import schema_py_generated as schema

from zoo.cards.card import load_card
from zoo.cli import main
from zoo.core.errors import ModelFileError
from zoo.model.inspection import inspect_model
from zoo.catalog.registry import load_registry
from zoo.core.resources import data_dir
from helpers import assert_damaged_copies_are_one_line_errors

DEMO = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"


def test_demo_reports_the_tensors_ops_and_parameters_the_file_holds(capsys) -> None:
    """Each figure against another reader of the same file: LiteRT's interpreter and the raw schema bindings."""
    from ai_edge_litert.interpreter import Interpreter

    assert main(["inspect", str(DEMO), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    litert = Interpreter(model_path=str(DEMO))
    for ours, theirs in ((info["inputs"], litert.get_input_details()), (info["outputs"], litert.get_output_details())):
        assert len(ours) == len(theirs) == 1
        assert ours[0]["shape"] == theirs[0]["shape"].tolist() and ours[0]["dtype"] == theirs[0]["dtype"].__name__
        assert (ours[0]["scale"], ours[0]["zero_point"]) == pytest.approx(theirs[0]["quantization"], rel=1e-6)
    model = tb.read(DEMO)
    graph = model.subgraphs[0]
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    ops = Counter(names[max(model.operatorCodes[op.opcodeIndex].builtinCode,
                            model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode)] for op in graph.operators)
    assert info["op_count"] == len(graph.operators) and info["ops"] == dict(ops)
    dtypes = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    constant = Counter()
    for t in graph.tensors:
        if model.buffers[t.buffer].data is not None and len(model.buffers[t.buffer].data):
            constant[dtypes[t.type]] += int(np.prod(t.shape))
    assert info["parameters_by_dtype"] == dict(constant) and info["parameters"] == sum(constant.values())
    assert info["parameters"] == load_card(load_registry().get("osnet_demo").card).variant("osnet_demo")["parameters"]["count"]
    assert (info["outputs"][0]["producer"], info["outputs"][0]["meaning"]) == ("MEAN", "embedding")
    assert info["artifact"] == {"model_id": "osnet_demo", "file": DEMO.name, "format": "tflite"}
    assert (info["size"], info["sha256"]) == (DEMO.stat().st_size, hashlib.sha256(DEMO.read_bytes()).hexdigest())
    assert main(["inspect", str(DEMO)]) == 0
    text = capsys.readouterr().out
    assert f"{info['parameters']:,}" in text and "osnet_demo" in text and "1x64" in text


def test_malformed_files_are_one_line_errors_never_crashes(tmp_path: Path, capsys) -> None:
    assert_damaged_copies_are_one_line_errors(DEMO, tmp_path, capsys)


def test_the_generated_enum_names_are_the_installed_schemas() -> None:
    """zoo.model.tflite_enums is generated from LiteRT's schema (tools/gen_tflite_enums.py); a LiteRT upgrade that
    adds ops or types fails here until it is regenerated, so no op is ever printed under a stale name."""
    from zoo.model.tflite_enums import BUILTIN_OPERATORS, BUILTIN_OPTIONS, TENSOR_TYPES

    for ours, cls in ((BUILTIN_OPERATORS, schema.BuiltinOperator), (BUILTIN_OPTIONS, schema.BuiltinOptions),
                      (TENSOR_TYPES, schema.TensorType)):
        theirs = {v: k for k, v in vars(cls).items() if isinstance(v, int) and not k.startswith("_")}
        assert ours == theirs, "run python tools/gen_tflite_enums.py"


def test_the_reader_reads_what_the_schema_bindings_read_and_no_numpy() -> None:
    """Every field zoo reads, through the bounds-checked reader, equals the schema's object API on the same file;
    reading and inspecting import neither numpy nor the schema bindings (the ~90 ms `zoo inspect` used to pay)."""
    import subprocess
    import sys

    from zoo.model.flatbuffer import read_tflite

    ours, theirs = read_tflite(DEMO.read_bytes()), tb.read(DEMO)
    for mine, ref in zip(ours.subgraphs[0].tensors, theirs.subgraphs[0].tensors, strict=True):
        assert (list(mine.shape), mine.type, mine.name) == (list(ref.shape), ref.type, ref.name)
        held = ours.buffers[mine.buffer].data  # the bindings renumber empty buffers: compare what each tensor holds
        assert bytes(held or b"") == bytes(theirs.buffers[ref.buffer].data if ref.buffer else b"")
        if ref.quantization is not None and ref.quantization.scale is not None:
            assert list(mine.quantization.scale) == list(ref.quantization.scale)
            assert list(mine.quantization.zeroPoint) == list(ref.quantization.zeroPoint)
    for mine, ref in zip(ours.subgraphs[0].operators, theirs.subgraphs[0].operators, strict=True):
        assert (mine.opcodeIndex, list(mine.inputs), list(mine.outputs), mine.builtinOptionsType) == \
            (ref.opcodeIndex, list(ref.inputs), list(ref.outputs), ref.builtinOptionsType)
        for key, value in (vars(mine.builtinOptions) if mine.builtinOptions is not None else {}).items():
            assert getattr(ref.builtinOptions, key) == value
    code = (f"import sys; from zoo.model.inspection import inspect_model; inspect_model({str(DEMO)!r}); "
            "print([m for m in ('numpy', 'flatbuffers', 'ai_edge_litert') if m in sys.modules])")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


@pytest.mark.parametrize("where", ["root", "vtable", "vector length"])
def test_an_offset_past_the_end_is_one_line_never_a_read_elsewhere(where: str, tmp_path: Path) -> None:
    import struct

    data = bytearray(DEMO.read_bytes())
    root = struct.unpack_from("<I", data, 0)[0]
    if where == "root":
        struct.pack_into("<I", data, 0, len(data) + 16)
    elif where == "vtable":
        struct.pack_into("<i", data, root, -len(data))  # the vtable would lie after the file's end
    else:
        vtable = root - struct.unpack_from("<i", data, root)[0]
        field = root + struct.unpack_from("<H", data, vtable + 8)[0]  # Model.subgraphs
        vector = field + struct.unpack_from("<I", data, field)[0]
        struct.pack_into("<I", data, vector, 1 << 30)
    path = tmp_path / "bad.tflite"
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match="malformed or truncated TFLite file"):
        inspect_model(path)


def test_a_fifo_named_as_a_model_is_refused_by_the_library_not_read_forever(tmp_path: Path) -> None:
    """The CLI checks for a regular file first; a script calling the reader directly gets the same refusal."""
    import os
    import subprocess
    import sys

    fifo = tmp_path / "model.tflite"
    os.mkfifo(fifo)
    code = ("from zoo.core.errors import ModelFileError\nfrom zoo.model.inspection import read_model\n"
            f"try:\n    read_model({str(fifo)!r})\nexcept ModelFileError as exc:\n    print(exc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith(f"{fifo}: ") and "regular" in done.stdout, done
