"""Small .onnx files for the tests: a float graph built with ``onnx.helper`` and its quantized forms.

The float graph has a plain, a depthwise and a pointwise convolution, a global pool and a Gemm head;
``quantize`` runs ``onnxruntime.quantization.quantize_static`` on it (QDQ int8, per-tensor or per-channel,
optionally some weights as INT4: the mixed W4A8 files ST publishes). Every file onnxruntime accepts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT = "image"
CHANNELS, HEIGHT, WIDTH = 3, 16, 12


def _init(name: str, shape: tuple[int, ...], rng: np.random.Generator) -> onnx.TensorProto:
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.3).astype(np.float32), name)


def float_model(path: Path, *, batch: int | str = 1, seed: int = 0) -> Path:
    """Conv 3->8 (3x3) + Relu, depthwise 3x3 stride 2 (group 8) + Relu, Conv 1x1 8->16, GlobalAveragePool,
    Flatten, Gemm 16->10 (``transB``): a float32 graph, opset 21."""
    rng = np.random.default_rng(seed)
    inits = [
        _init("conv1.w", (8, 3, 3, 3), rng), _init("conv1.b", (8,), rng),
        _init("dw.w", (8, 1, 3, 3), rng), _init("dw.b", (8,), rng),
        _init("pw.w", (16, 8, 1, 1), rng), _init("pw.b", (16,), rng),
        _init("fc.w", (10, 16), rng), _init("fc.b", (10,), rng),
    ]
    nodes = [
        helper.make_node("Conv", [INPUT, "conv1.w", "conv1.b"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "dw.w", "dw.b"], ["d1"], group=8, strides=[2, 2], pads=[1, 1, 1, 1],
                         name="dw"),
        helper.make_node("Relu", ["d1"], ["r2"]),
        helper.make_node("Conv", ["r2", "pw.w", "pw.b"], ["p1"], name="pw"),
        helper.make_node("GlobalAveragePool", ["p1"], ["g1"]),
        helper.make_node("Flatten", ["g1"], ["f1"]),
        helper.make_node("Gemm", ["f1", "fc.w", "fc.b"], ["logits"], transB=1, name="fc"),
    ]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [batch, CHANNELS, HEIGHT, WIDTH])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 10])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], producer_name="zoo-tests")
    model.ir_version = 10
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


class _Calibration:
    """A few deterministic inputs for quantize_static's MinMax calibration."""

    def __init__(self, count: int = 8) -> None:
        rng = np.random.default_rng(1)
        self._batches = iter([{INPUT: rng.standard_normal((1, CHANNELS, HEIGHT, WIDTH)).astype(np.float32)}
                              for _ in range(count)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def quantize(source: Path, path: Path, *, per_channel: bool = False, int4: tuple[str, ...] = ()) -> Path:
    """QDQ int8 of ``source`` with onnxruntime's tool; the weights named in ``int4`` stored as INT4."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    reader = type("Reader", (_Calibration, CalibrationDataReader), {})()
    overrides = {name: [{"quant_type": QuantType.QInt4}] for name in int4}
    quantize_static(str(source), str(path), reader, quant_format=QuantFormat.QDQ, per_channel=per_channel,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    extra_options={"TensorQuantOverrides": overrides} if overrides else {})
    return path


def with_external_data(source: Path, folder: Path, location: str = "weights.bin") -> Path:
    """``source`` saved into ``folder`` with its initializers in an external file ``location``."""
    model = onnx.load(str(source))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / source.name
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=location,
                    size_threshold=0)
    return path


def set_external_location(path: Path, location: str) -> Path:
    """Point every external-data reference of the model at ``path`` to ``location`` (a crafted file)."""
    model = onnx.load(str(path), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    path.write_bytes(model.SerializeToString())
    return path


def quantize_qoperator(source: Path, path: Path) -> Path:
    """QOperator int8 (QLinearConv, com.microsoft QGemm and QLinearGlobalAveragePool), per-channel weights."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    reader = type("Reader", (_Calibration, CalibrationDataReader), {})()
    quantize_static(str(source), str(path), reader, quant_format=QuantFormat.QOperator, per_channel=True)
    return path


def quantize_dynamic(source: Path, path: Path) -> Path:
    """Dynamic int8: ConvInteger and MatMulInteger on activations DynamicQuantizeLinear makes at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic as dynamic

    dynamic(str(source), str(path), weight_type=QuantType.QInt8)
    return path


def mac_model(path: Path) -> Path:
    """A grouped convolution (2 groups), a ConvTranspose (stride 2) and a MatMul, float32, static shapes.

    x [1, 4, 6, 6] -> Conv 4->6, 3x3, group 2, pads 1 -> [1, 6, 6, 6] -> ConvTranspose 6->2, 3x3, stride 2
    -> [1, 2, 13, 13] -> Reshape [1, 338] -> MatMul [338, 5] -> [1, 5].
    """
    rng = np.random.default_rng(2)
    inits = [_init("g.w", (6, 2, 3, 3), rng), _init("t.w", (6, 2, 3, 3), rng), _init("m.w", (338, 5), rng),
             numpy_helper.from_array(np.array([1, 338], np.int64), "shape")]
    nodes = [
        helper.make_node("Conv", ["x", "g.w"], ["g"], group=2, pads=[1, 1, 1, 1]),
        helper.make_node("ConvTranspose", ["g", "t.w"], ["t"], strides=[2, 2]),
        helper.make_node("Reshape", ["t", "shape"], ["r"]),
        helper.make_node("MatMul", ["r", "m.w"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "macs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    return path


def failing_model(path: Path) -> Path:
    """A graph onnx.checker accepts and onnxruntime refuses only when it runs: Reshape of 12 values to [5]."""
    shape = numpy_helper.from_array(np.array([5], np.int64), "shape")
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    graph = helper.make_graph([node], "fails", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5])], initializer=[shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def lying_model(path: Path) -> Path:
    """An initializer whose dims claim 2**40 floats over 4 bytes of raw data: a reader trusting dims would allocate."""
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20], raw_data=b"\0" * 4)
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "lies",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def custom_op_model(path: Path) -> Path:
    """A node of a domain onnxruntime does not know: onnx.checker accepts it, the runtime cannot load it."""
    graph = helper.make_graph([helper.make_node("Foo", ["x"], ["y"], domain="my.ops")], "custom",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("my.ops", 1)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path
