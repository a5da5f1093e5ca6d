"""ONNX files through every command that reads a model: inspect, footprint, bench, goldens, untrusted files.

Files are built here (``onnx_builder``: a float graph with a depthwise convolution and a Gemm, quantized by
onnxruntime to QDQ int8 per-tensor and per-channel, and W4A8 with INT4 weight initializers). Each figure
zoo prints is compared with a count this file makes itself from the ONNX graph and onnx's shape inference.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx_builder as ob  # noqa: E402
from helpers import verify_json  # noqa: E402
from onnx import numpy_helper, shape_inference  # noqa: E402

from zoo.cli import main  # noqa: E402
from zoo.core.resources import data_dir  # noqa: E402

DEMO_TFLITE = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"
KINDS = ("float", "qdq_per_tensor", "qdq_per_channel", "w4a8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("onnx")
    source = ob.float_model(d / "tiny_float.onnx")
    return {
        "float": source,
        "qdq_per_tensor": ob.quantize(source, d / "tiny_qdq_int8.onnx"),
        "qdq_per_channel": ob.quantize(source, d / "tiny_qdq_pc_int8.onnx", per_channel=True),
        "w4a8": ob.quantize(source, d / "tiny_qdq_w4a8.onnx", per_channel=True, int4=("conv1.w", "pw.w")),
    }


def run_json(capsys, *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def qparam_names(graph) -> set[str]:
    """Scales and zero points: inputs 1 and 2 of QuantizeLinear/DequantizeLinear (the only Q ops these files use)."""
    return {n.input[i] for n in graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")
            for i in (1, 2) if i < len(n.input)}


def independent_counts(path: Path) -> dict:
    """Parameters, weights bytes and MACs counted from the graph directly (numpy arrays, inferred shapes)."""
    model = onnx.load(str(path))
    graph = model.graph
    skip = qparam_names(graph)
    params, weight_bytes = Counter(), 0
    for init in graph.initializer:
        if init.name in skip:
            continue
        array = numpy_helper.to_array(init)
        dtype = {"float": "float32", "double": "float64"}.get(onnx.TensorProto.DataType.Name(init.data_type).lower(),
                                                              onnx.TensorProto.DataType.Name(init.data_type).lower())
        params[dtype] += array.size
        weight_bytes += (array.size + 1) // 2 if dtype == "int4" else array.nbytes
    inferred = shape_inference.infer_shapes(model).graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.value_info) + list(inferred.output) + list(inferred.input)}
    shapes.update({i.name: list(i.dims) for i in graph.initializer})
    produced = {o: n for n in graph.node for o in n.output}

    def weight(name: str) -> list[int]:  # through the DequantizeLinear of a QDQ file
        node = produced.get(name)
        return shapes[node.input[0]] if node is not None and node.op_type == "DequantizeLinear" else shapes[name]

    macs = Counter()
    for n in graph.node:
        if n.op_type == "Conv":
            cout, cin_per_group, kh, kw = weight(n.input[1])
            macs["Conv"] += math.prod(shapes[n.output[0]]) * cin_per_group * kh * kw
        elif n.op_type == "Gemm":
            macs["Gemm"] += math.prod(shapes[n.output[0]]) * shapes[n.input[0]][1]
    return {"parameters": params, "weights_bytes": weight_bytes, "macs": macs,
            "ops": Counter(n.op_type for n in graph.node)}


@pytest.mark.parametrize("kind", KINDS)
def test_inspect_and_footprint_equal_counts_made_from_the_graph(capsys, built, kind) -> None:
    path = built[kind]
    want = independent_counts(path)
    info = run_json(capsys, "inspect", str(path))
    fp = run_json(capsys, "footprint", str(path))
    assert info["format"] == "onnx" and info["opset"] == 21
    assert info["ops"] == dict(want["ops"]) and info["op_count"] == sum(want["ops"].values())
    assert info["parameters_by_dtype"] == dict(want["parameters"])
    assert info["parameters"] == sum(want["parameters"].values())
    assert fp["weights_bytes"] == want["weights_bytes"]
    assert fp["macs_by_op"] == dict(want["macs"]) and fp["macs"] == sum(want["macs"].values())
    # The architecture by hand: conv1 8x16x12 outputs x 27, depthwise 8x8x6 x 9, pointwise 16x8x6 x 8, Gemm 10 x 16.
    assert fp["macs"] == 8 * 16 * 12 * 27 + 8 * 8 * 6 * 9 + 16 * 8 * 6 * 8 + 10 * 16
    assert fp["activation_lower_bound_bytes"] > 0 and fp["arena_estimate_bytes"] >= fp["activation_lower_bound_bytes"]
    assert info["inputs"][0]["shape"] == [1, 3, 16, 12] and info["outputs"][0]["producer"] == "Gemm"


def test_precision_is_what_the_weights_and_activations_are(capsys, built) -> None:
    got = {kind: run_json(capsys, "inspect", str(built[kind])) for kind in KINDS}
    assert got["float"]["precision"] == "float32" and got["float"]["quantization"]["scheme"] == "float"
    for kind, granularity in (("qdq_per_tensor", "per-tensor"), ("qdq_per_channel", "per-channel")):
        q = got[kind]["quantization"]
        assert (got[kind]["precision"], q["scheme"], q["granularity"], q["activations"]) == \
            ("int8", "qdq", granularity, "int8")
    model = onnx.load(str(built["w4a8"]))
    dq_inputs = {n.input[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    sizes = {i.name: (i.data_type, math.prod(i.dims)) for i in model.graph.initializer if i.name in dq_inputs}
    four = sum(n for t, n in sizes.values() if t == onnx.TensorProto.INT4)
    eight = sum(n for t, n in sizes.values() if t == onnx.TensorProto.INT8)
    assert four == 8 * 27 + 16 * 8  # conv1.w and pw.w
    assert got["w4a8"]["precision"] == "w4a8"
    assert got["w4a8"]["quantization"]["weights_4bit_share"] == pytest.approx(four / (four + eight), abs=1e-4)


def test_a_dynamic_batch_is_shown_by_name_and_figures_are_for_one(capsys, tmp_path) -> None:
    path = ob.float_model(tmp_path / "dynamic.onnx", batch="N")
    info = run_json(capsys, "inspect", str(path))
    assert info["inputs"][0]["shape"] == ["N", 3, 16, 12] and info["outputs"][0]["shape"] == ["N", 10]
    fp = run_json(capsys, "footprint", str(path))
    assert fp["macs"] == independent_counts(ob.float_model(tmp_path / "static.onnx"))["macs"].total()
    assert any("dynamic batch" in note for note in fp["notes"])


def test_the_format_comes_from_the_content_not_the_name(capsys, built, tmp_path) -> None:
    disguised = tmp_path / "model.tflite"
    disguised.write_bytes(built["qdq_per_tensor"].read_bytes())
    assert run_json(capsys, "inspect", str(disguised))["format"] == "onnx"
    renamed = tmp_path / "model.onnx"
    renamed.write_bytes(DEMO_TFLITE.read_bytes())
    assert run_json(capsys, "inspect", str(renamed))["format"] == "tflite"


@pytest.mark.parametrize("kind", ("float", "w4a8"))
def test_onnx_files_run_in_onnxruntime_for_bench_and_goldens(capsys, built, kind) -> None:
    import onnxruntime as ort

    from zoo.model.goldens import check_golden, make_golden
    from zoo.model.runtime import load_model, synthetic_input

    path = built[kind]
    model = load_model(path)
    x = synthetic_input(model.inputs[0], "t")
    ours = model.invoke(x)[0]
    theirs = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    np.testing.assert_array_equal(ours, theirs)
    golden = make_golden(path)
    assert golden["runtime"].startswith("onnxruntime ") and check_golden(path, golden).passed
    golden["expected"][0][0]["values"][0] += 1.0
    assert not check_golden(path, golden).passed
    bench = run_json(capsys, "bench", str(path), "--min-runs", "3", "--min-seconds", "0", "--warmup", "0")
    assert bench["runtime"].startswith("onnxruntime ") and bench["count"] >= 3


def one_line_error(capsys, *args: str) -> str:
    assert main(list(args)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def test_a_truncated_protobuf_is_one_line(capsys, built, tmp_path) -> None:
    data = built["qdq_per_channel"].read_bytes()
    for cut in (len(data) // 2, len(data) - 3, 40):
        broken = tmp_path / f"cut{cut}.onnx"
        broken.write_bytes(data[:cut])
        for command in ("inspect", "footprint", "bench"):
            err = one_line_error(capsys, command, str(broken))
            assert str(broken) in err and "ONNX" in err, err


def test_external_data_beside_the_model_is_read_and_run(capsys, built, tmp_path) -> None:
    path = ob.with_external_data(built["float"], tmp_path / "ext")
    assert (tmp_path / "ext" / "weights.bin").stat().st_size > 0
    assert run_json(capsys, "inspect", str(path))["parameters"] == 618
    assert run_json(capsys, "footprint", str(path))["weights_bytes"] == 618 * 4
    from zoo.model.runtime import load_model, synthetic_input

    model = load_model(path)
    assert model.invoke(synthetic_input(model.inputs[0], "t"))[0].shape == (1, 10)


@pytest.mark.parametrize("location", ["../outside.bin", "/etc/passwd", "sub/../../outside.bin", "link.bin",
                                      "fifo.bin", "missing.bin", "short.bin"])
def test_external_data_that_leaves_the_folder_or_is_not_a_file_is_refused(capsys, built, tmp_path, location) -> None:
    folder = tmp_path / "model"
    path = ob.with_external_data(built["float"], folder)
    (tmp_path / "outside.bin").write_bytes((folder / "weights.bin").read_bytes())
    (folder / "link.bin").symlink_to(tmp_path / "outside.bin")
    os.mkfifo(folder / "fifo.bin")
    (folder / "short.bin").write_bytes(b"\0" * 16)
    ob.set_external_location(path, location)
    for command in ("inspect", "footprint", "bench"):
        err = one_line_error(capsys, command, str(path))
        assert str(path) in err and "external data" in err, err


def test_start_up_and_tflite_commands_never_import_onnx() -> None:
    """`zoo --help`, `zoo pull` and a TFLite inspect or footprint run without onnx or onnxruntime."""
    probe = "print(sorted(m for m in ('onnx', 'onnxruntime') if m in sys.modules))"
    for code in (f"import sys, zoo.cli; zoo.cli.build_parser(); {probe}",
                 f"import sys, zoo.cli; zoo.cli.build_parser('pull'); {probe}",
                 f"import sys, zoo.cli; zoo.cli.main(['inspect', {str(DEMO_TFLITE)!r}]); {probe}",
                 f"import sys, zoo.cli; zoo.cli.main(['footprint', {str(DEMO_TFLITE)!r}]); {probe}"):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0 and result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


DEMO_QDQ = "osnet_demo_qdq"


def demo_release(tmp_path: Path) -> tuple[Path, Path]:
    """An editable copy of the bundled registry (and its mirror) and cards: what a pull request would change."""
    import shutil

    root = tmp_path / "release"
    for name in ("registry", "model_cards"):
        shutil.copytree(data_dir(name), root / name)
    return root / "registry" / "registry.yaml", root / "model_cards" / "osnet_demo" / "card.yaml"


def verify_checks(capsys, *args: str) -> tuple[int, dict[str, list[dict]]]:
    code, report = verify_json(capsys, *args, "--offline", "--strict")
    entry = next(e for e in report["entries"] if e["kind"] == "model")
    by_id: dict[str, list[dict]] = {}
    for c in entry["checks"]:
        by_id.setdefault(c["id"], []).append(c)
    return code, by_id


def test_the_onnx_demo_verifies_strictly_and_evaluates_within_the_card_tolerance(capsys, demo_test_split) -> None:
    """On the card's synthetic test split (the conftest fixture regenerates it from the card)."""
    code, checks = verify_checks(capsys, DEMO_QDQ, "--dataset", str(demo_test_split), "--dataset-id", "synthetic_reid")
    assert code == 0 and all(c["status"] == "pass" for cs in checks.values() for c in cs if c["severity"] == "error")
    for rule in ("artifact.runs", "artifact.format", "golden", "records.format", "io.input.shape", "parameters.count",
                 "accuracy.mAP", "accuracy.rank1"):
        assert checks[rule][0]["status"] == "pass", rule
    assert "onnxruntime" in checks["artifact.runs"][0]["message"]
    assert "ONNX QDQ, per-channel" in checks["records.format"][0]["message"]
    mAP = checks["accuracy.mAP"][0]["details"]
    assert abs(mAP["measured"] - mAP["claimed"]) <= 1.0  # the card's tolerance (percentage points)


@pytest.mark.parametrize("written", ["fp32", "Float", "w4a8"])
def test_a_row_that_calls_a_qdq_int8_file_something_else_fails(capsys, tmp_path, written) -> None:
    registry, card = demo_release(tmp_path)
    text = card.read_text(encoding="utf-8")
    head, tail = text.split("  - variant: osnet_demo_qdq\n")
    card.write_text(head + "  - variant: osnet_demo_qdq\n" + tail.replace("format: int8", f"format: {written.lower()}", 1),
                    encoding="utf-8")
    code, checks = verify_checks(capsys, DEMO_QDQ, "--registry", str(registry))
    (row,) = checks["records.format"]
    assert code == 1 and row["status"] == "fail"
    assert f"format {written.lower()}, but osnet_demo_qdq_int8.onnx is int8 (ONNX QDQ, per-channel)" in row["message"]


def test_a_registry_that_calls_the_onnx_file_tflite_fails(capsys, tmp_path) -> None:
    registry, _ = demo_release(tmp_path)
    text = registry.read_text(encoding="utf-8")
    registry.write_text(text.replace("file: osnet_demo_qdq_int8.onnx\n        format: onnx",
                                     "file: osnet_demo_qdq_int8.onnx\n        format: tflite"), encoding="utf-8")
    code, checks = verify_checks(capsys, DEMO_QDQ, "--registry", str(registry))
    assert code == 1 and checks["artifact.format"][0]["status"] == "fail"
    assert "is ONNX, the registry says format tflite" in checks["artifact.format"][0]["message"]


def test_w4a8_and_float_rows_are_held_to_the_file(built) -> None:
    """The rule on the built files: a W4A8 file's int8 row fails, its w4a8 row passes; a float file's int8 row fails."""
    from zoo.cards.card import Card
    from zoo.catalog.registry import Artifact
    from zoo.core.documents import Document
    from zoo.model.onnx_reader import inspect_onnx
    from zoo.verification.rules.precision import precision_checks

    for kind, right, wrong in (("w4a8", "W4A8", "int8"), ("float", "float32", "int8"), ("qdq_per_tensor", "int8", "fp32")):
        info = inspect_onnx(built[kind])
        artifact = Artifact("m", built[kind].name, "onnx", info.precision, info.size, info.sha256, ())
        for word, status in ((right, "pass"), (wrong, "fail")):
            card = Card(Path("card.yaml"), Document(Path("card.yaml"), {"performance": [{"variant": "m", "format": word}]},
                                                    {}))
            (row,) = [c for c in precision_checks(card, artifact, info) if c.id == "records.format"]
            assert row.status == status, (kind, word, row.message)


TINY_MACS = 8 * 16 * 12 * 27 + 8 * 8 * 6 * 9 + 16 * 8 * 6 * 8 + 10 * 16  # tiny graph by hand (see above)


def test_qoperator_and_dynamic_forms_are_read_as_what_they_are(capsys, built, tmp_path) -> None:
    qop = ob.quantize_qoperator(built["float"], tmp_path / "tiny_qop.onnx")
    dyn = ob.quantize_dynamic(built["float"], tmp_path / "tiny_dynamic.onnx")
    for path, scheme, mac_ops in ((qop, "qoperator", {"QLinearConv", "QGemm"}),
                                  (dyn, "dynamic", {"ConvInteger", "MatMulInteger"})):
        model = onnx.load(str(path))
        info = run_json(capsys, "inspect", str(path))
        assert info["precision"] == "int8" and info["quantization"]["scheme"] == scheme
        assert info["ops"] == dict(Counter(n.op_type if not n.domain else f"{n.domain}.{n.op_type}"
                                           for n in model.graph.node))
        fp = run_json(capsys, "footprint", str(path))
        assert set(fp["macs_by_op"]) == mac_ops and fp["macs"] == TINY_MACS, fp
    qgemm = next(n for n in onnx.load(str(qop)).graph.node if n.op_type == "QGemm")
    assert qgemm.domain == "com.microsoft"  # a contrib op: its shapes come from zoo's rules, MACs still counted


def test_grouped_conv_conv_transpose_and_matmul_macs(capsys, tmp_path) -> None:
    path = ob.mac_model(tmp_path / "macs.onnx")
    fp = run_json(capsys, "footprint", str(path))
    grouped = 6 * 6 * 6 * (4 // 2) * 3 * 3  # output elements x input channels per group x kernel
    transposed = 6 * 6 * 6 * 2 * 3 * 3  # input elements x output channels x kernel
    matmul = 5 * 338
    assert fp["macs_by_op"] == {"ConvTranspose": transposed, "Conv": grouped, "MatMul": matmul}
    inferred = shape_inference.infer_shapes(onnx.load(str(path))).graph
    assert [d.dim_value for d in next(v for v in inferred.value_info if v.name == "t").type.tensor_type.shape.dim] \
        == [1, 2, 13, 13]
    assert fp["weights_bytes"] == (6 * 2 * 9 * 2 + 338 * 5) * 4 + 2 * 8


def test_the_demo_onnx_file_has_the_macs_and_arena_of_the_tflite_file_it_was_built_from(capsys) -> None:
    """Two readers of the same network (the TFLite flatbuffer, the ONNX graph) count the same work."""
    onnx_demo = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_qdq_int8.onnx"
    ours, theirs = run_json(capsys, "footprint", str(onnx_demo)), run_json(capsys, "footprint", str(DEMO_TFLITE))
    assert ours["macs"] == theirs["macs"] == 3_916_928
    assert ours["arena_estimate_bytes"] == theirs["arena_estimate_bytes"]
    # the gate weights OSNet's streams share are stored once in both files: the same int8 bytes
    assert ours["weights_bytes_by_dtype"]["int8"] == theirs["weights_bytes_by_dtype"]["int8"] == 24_280
    assert independent_counts(onnx_demo)["macs"].total() == ours["macs"]
    assert independent_counts(onnx_demo)["weights_bytes"] == ours["weights_bytes"]


def test_without_the_onnx_extra_an_onnx_file_is_one_line_saying_what_to_install(built) -> None:
    block = "import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None; import zoo.cli; "
    for command in ("inspect", "footprint"):
        code = block + f"sys.exit(zoo.cli.main([{command!r}, {str(built['float'])!r}]))"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "pip install 'zoo[onnx]'" in done.stderr and "Traceback" not in done.stderr


def test_a_file_onnxruntime_refuses_fails_in_the_probe_child_in_one_line(capsys, tmp_path) -> None:
    """The same isolation as LiteRT: the file runs once in a child first; its refusal is one line, exit 2."""
    from zoo.core.errors import ModelFileError
    from zoo.model.runtime import load_model

    path = ob.failing_model(tmp_path / "fails.onnx")
    with pytest.raises(ModelFileError) as refused:
        load_model(path)
    (line,) = refused.value.lines()
    assert line.startswith(str(path)) and "onnxruntime failed" in line
    err = one_line_error(capsys, "bench", str(path))
    assert "onnxruntime failed" in err


def test_a_maintainer_adds_an_onnx_file_and_it_verifies_strictly(capsys, built, tmp_path, monkeypatch) -> None:
    """zoo add reads an ONNX file by its content: format onnx, its real precision (w4a8), I/O, parameters, MACs."""
    import shutil

    assert main(["init", str(tmp_path / "z")]) == 0
    path = Path(shutil.copy(built["w4a8"], tmp_path / "z" / "tiny_w4a8.onnx"))
    monkeypatch.chdir(tmp_path / "z")
    capsys.readouterr()
    added = run_json(capsys, "add", str(path), "--id", "tiny", "--task", "image_classification")
    (art,) = added["artifacts"]
    assert (art["format"], art["precision"]) == ("onnx", "w4a8")
    card = (tmp_path / "z" / "model_cards" / "tiny" / "card.yaml").read_text()
    want = independent_counts(path)
    for fact in ("framework: ONNX", "precision: w4a8", f"count: {sum(want['parameters'].values())}",
                 f"weights_bytes: {want['weights_bytes']}", f"macs: {TINY_MACS}"):
        assert fact in card, fact
    code, checks = verify_checks(capsys, "tiny")
    assert code == 0
    assert checks["artifact.format"][0]["status"] == checks["golden"][0]["status"] == "pass"


@pytest.mark.parametrize(("make", "commands", "says"), [
    (lambda p: p.write_bytes(b"\x08\x07" + bytes(range(256)) * 4) and p, ("inspect", "footprint", "bench"),
     "malformed ONNX protobuf"),
    (ob.lying_model, ("inspect", "footprint", "bench"), "too small for the declared shape"),
    (ob.custom_op_model, ("bench",), "my.ops:Foo"),
])
def test_hostile_onnx_files_are_one_line_errors(capsys, tmp_path, make, commands, says) -> None:
    path = tmp_path / "hostile.onnx"
    make(path)
    for command in commands:
        err = one_line_error(capsys, command, str(path))
        assert str(path) in err and says in err, err
