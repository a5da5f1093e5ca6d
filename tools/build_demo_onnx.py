"""Build the demo's ONNX variant from the bundled int8 TFLite demo model: python tools/build_demo_onnx.py [OUT]

The ST model zoo publishes its PyTorch-trained models as ONNX QDQ files; ``osnet_demo_qdq_int8.onnx`` is the
same network in that form, so a plain clone tests every ONNX path on a real re-ID model. Steps:

1. read ``registry/mirror/osnet_demo/osnet_demo_int8.tflite`` and dequantize its weights (per-channel
   scales) into a float32 ONNX graph, NCHW as PyTorch exports are, one ONNX node per TFLite op (CONV_2D,
   DEPTHWISE_CONV_2D as a grouped Conv, MEAN, AVERAGE/MAX_POOL_2D, ADD, MUL, LOGISTIC; fused ReLUs as Relu);
   the input takes the rescaled image (``x / 127.5 - 1``, the card's preprocessing), float32;
2. quantize it with ``onnxruntime.quantization.quantize_static``: QDQ, int8 weights per channel, int8
   activations, calibrated on the same synthetic training images the TFLite file was calibrated on.

Deterministic: the same onnx and onnxruntime versions give the same bytes. The script prints the sha256,
size, parameters and the accuracy on the synthetic test split that the registry entry, the golden
(``python tools/make_goldens.py OUT``) and the card's ``osnet_demo_qdq`` variant record.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from ai_edge_litert.tools import flatbuffer_utils as fu
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zoo.reid import synthetic  # noqa: E402

TFLITE = ROOT / "registry" / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"
OUT = ROOT / "registry" / "mirror" / "osnet_demo" / "osnet_demo_qdq_int8.onnx"
OPSET = 17
NHWC_TO_NCHW = {0: 0, 1: 2, 2: 3, 3: 1}
ACTIVATIONS = {0: None, 1: "Relu", 3: "Relu6"}


class Converter:
    """One TFLite subgraph into ONNX nodes; 4-d tensors change to NCHW, weights are dequantized."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.graph = model.subgraphs[0]
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.names: dict[int, str] = {}
        self.constants: dict[int, str] = {}  # TFLite tensor index -> its initializer, for shared weights
        self.count = 0

    def tensor(self, index: int) -> Any:
        return self.graph.tensors[index]

    def shape(self, index: int) -> list[int]:
        return [int(d) for d in self.tensor(index).shape]

    def constant(self, index: int) -> np.ndarray | None:
        """A tensor's buffer dequantized to float32 (per-channel along its quantized dimension), or None."""
        t = self.tensor(index)
        buffer = self.model.buffers[t.buffer]
        if buffer.data is None or not len(buffer.data):
            return None
        dtype = {9: np.int8, 2: np.int32, 0: np.float32, 3: np.uint8}[t.type]
        values = np.frombuffer(bytes(buffer.data), dtype=dtype).reshape(self.shape(index)).astype(np.float32)
        q = t.quantization
        if q is not None and q.scale is not None and len(q.scale):
            scale, zero = np.asarray(q.scale, np.float32), np.asarray(q.zeroPoint, np.float32)
            if len(scale) > 1:
                shape = [1] * values.ndim
                shape[q.quantizedDimension] = -1
                scale, zero = scale.reshape(shape), zero.reshape(shape)
            values = (values - zero) * scale
        return values

    def name(self, index: int) -> str:
        return self.names.setdefault(index, f"t{index}")

    def fresh(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def shared(self, index: int, stem: str, values: np.ndarray) -> str:
        """One initializer per TFLite constant tensor: weights several ops share (OSNet's channel gate, one per
        block for its four streams) stay one, as in the TFLite file."""
        if index not in self.constants:
            self.constants[index] = self.init(stem, values)
        return self.constants[index]

    def init(self, stem: str, values: np.ndarray) -> str:
        name = self.fresh(stem)
        self.inits.append(numpy_helper.from_array(values.astype(np.float32), name))
        return name

    def operand(self, index: int) -> str:
        """A node input: the running tensor, or a constant (4-d constants to NCHW)."""
        values = self.constant(index)
        if values is None:
            return self.name(index)
        return self.init("const", values.transpose(0, 3, 1, 2) if values.ndim == 4 else values)

    def finish(self, out: str, index: int, activation: int) -> None:
        """Name ``out`` the op's output, through its fused activation when it has one."""
        act = ACTIVATIONS[activation] if activation in ACTIVATIONS else None
        if activation not in ACTIVATIONS:
            raise SystemExit(f"fused activation {activation} is not converted")
        if act is None:
            self.names[index] = out
        elif act == "Relu":
            self.nodes.append(helper.make_node("Relu", [out], [self.name(index)]))
        else:
            self.nodes.append(helper.make_node("Clip", [out, self.init("lo", np.float32(0)),
                                                        self.init("hi", np.float32(6))], [self.name(index)]))

    def pads(self, padding: int, in_hw: list[int], kernel: list[int], strides: list[int], dilation: list[int]) -> list[int]:
        """TensorFlow's SAME padding (the extra row or column at the end) as explicit ONNX pads."""
        if padding == 1:  # VALID
            return [0, 0, 0, 0]
        before, after = [], []
        for size, k, s, d in zip(in_hw, kernel, strides, dilation):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            before.append(total // 2)
            after.append(total - total // 2)
        return before + after

    def convert(self) -> onnx.GraphProto:
        self.names[int(self.graph.inputs[0])] = "image"
        for op in self.graph.operators:
            name = fu.opcode_to_name(self.model, op.opcodeIndex)
            ins, outs, opt = [int(i) for i in op.inputs], [int(i) for i in op.outputs], op.builtinOptions
            getattr(self, f"op_{name.lower()}")(ins, outs, opt)
        (inp,), (out,) = self.graph.inputs, self.graph.outputs
        self.nodes.append(helper.make_node("Identity", [self.name(int(out))], ["embedding"]))
        n, h, w, c = self.shape(int(inp))
        return helper.make_graph(
            self.nodes, "osnet_demo",
            [helper.make_tensor_value_info(self.name(int(inp)), TensorProto.FLOAT, [n, c, h, w])],
            [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, self.shape(int(out)))], self.inits)

    def op_quantize(self, ins: list[int], outs: list[int], opt: Any) -> None:
        self.names[outs[0]] = self.name(ins[0])  # uint8 -> int8 requantization: the identity on real values

    def _conv(self, ins: list[int], outs: list[int], opt: Any, depthwise: bool) -> None:
        weights = self.constant(ins[1])
        if depthwise:  # [1, kh, kw, C*m] -> [C*m, 1, kh, kw], one group per input channel
            weights = weights.transpose(3, 0, 1, 2)
            group = self.shape(ins[0])[3]
        else:  # [O, kh, kw, I] -> [O, I, kh, kw]
            weights = weights.transpose(0, 3, 1, 2)
            group = 1
        kernel, strides = list(weights.shape[2:]), [opt.strideH, opt.strideW]
        dilation = [opt.dilationHFactor, opt.dilationWFactor]
        inputs = [self.name(ins[0]), self.shared(ins[1], "w", weights)]
        if len(ins) > 2 and ins[2] >= 0:
            inputs.append(self.shared(ins[2], "b", self.constant(ins[2])))
        out = self.fresh("conv")
        self.nodes.append(helper.make_node(
            "Conv", inputs, [out], group=group, kernel_shape=kernel, strides=strides, dilations=dilation,
            pads=self.pads(opt.padding, self.shape(ins[0])[1:3], kernel, strides, dilation)))
        self.finish(out, outs[0], opt.fusedActivationFunction)

    def op_conv_2d(self, ins: list[int], outs: list[int], opt: Any) -> None:
        self._conv(ins, outs, opt, depthwise=False)

    def op_depthwise_conv_2d(self, ins: list[int], outs: list[int], opt: Any) -> None:
        self._conv(ins, outs, opt, depthwise=True)

    def _pool(self, kind: str, ins: list[int], outs: list[int], opt: Any) -> None:
        kernel, strides = [opt.filterHeight, opt.filterWidth], [opt.strideH, opt.strideW]
        out = self.fresh("pool")
        extra = {"count_include_pad": 0} if kind == "AveragePool" else {}
        self.nodes.append(helper.make_node(kind, [self.name(ins[0])], [out], kernel_shape=kernel, strides=strides,
                                           pads=self.pads(opt.padding, self.shape(ins[0])[1:3], kernel, strides, [1, 1]),
                                           **extra))
        self.finish(out, outs[0], opt.fusedActivationFunction)

    def op_average_pool_2d(self, ins: list[int], outs: list[int], opt: Any) -> None:
        self._pool("AveragePool", ins, outs, opt)

    def op_max_pool_2d(self, ins: list[int], outs: list[int], opt: Any) -> None:
        self._pool("MaxPool", ins, outs, opt)

    def op_mean(self, ins: list[int], outs: list[int], opt: Any) -> None:
        rank = len(self.shape(ins[0]))
        axes = [int(a) % rank for a in self.constant(ins[1]).astype(np.int64).ravel()]
        axes = sorted(NHWC_TO_NCHW[a] for a in axes) if rank == 4 else axes
        self.nodes.append(helper.make_node("ReduceMean", [self.name(ins[0])], [self.name(outs[0])], axes=axes,
                                           keepdims=int(bool(opt.keepDims))))

    def _binary(self, kind: str, ins: list[int], outs: list[int], opt: Any) -> None:
        out = self.fresh(kind.lower())
        self.nodes.append(helper.make_node(kind, [self.operand(ins[0]), self.operand(ins[1])], [out]))
        self.finish(out, outs[0], opt.fusedActivationFunction if opt is not None else 0)

    def op_add(self, ins: list[int], outs: list[int], opt: Any) -> None:
        self._binary("Add", ins, outs, opt)

    def op_mul(self, ins: list[int], outs: list[int], opt: Any) -> None:
        self._binary("Mul", ins, outs, opt)

    def op_logistic(self, ins: list[int], outs: list[int], opt: Any) -> None:
        self.nodes.append(helper.make_node("Sigmoid", [self.name(ins[0])], [self.name(outs[0])]))


def float_model(tflite: Path) -> onnx.ModelProto:
    converter = Converter(fu.read_model_from_bytearray(bytearray(tflite.read_bytes())))
    model = helper.make_model(converter.convert(), opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="zoo tools/build_demo_onnx.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def calibration(count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """The TFLite file's calibration images (tools/build_demo_model.py): a black, a white, then training views."""
    images, _ = synthetic.training_arrays(300, 1, seed=synthetic.DEFAULT_SEED, epoch=10_000, size=size)
    extremes = np.stack([np.zeros_like(images[0]), np.full_like(images[0], 255)])
    batch = np.concatenate([extremes, images[:count]]).astype(np.float32) / np.float32(127.5) - np.float32(1)
    return [x.transpose(2, 0, 1)[None] for x in batch]


def quantize(source: Path, out: Path, inputs: list[np.ndarray], input_name: str) -> None:
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {input_name: batch}

    quantize_static(str(source), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=OUT)
    parser.add_argument("--calibration", type=int, default=200)
    args = parser.parse_args()
    model = float_model(TFLITE)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "osnet_demo_float.onnx"
        onnx.save(model, str(source))
        shape = model.graph.input[0].type.tensor_type.shape.dim
        size = (shape[2].dim_value, shape[3].dim_value)
        quantize(source, args.out, calibration(args.calibration, size), model.graph.input[0].name)
    from zoo.model.inspection import inspect_model

    info = inspect_model(args.out)
    print(f"wrote {args.out}: {info.size} bytes, sha256 {info.sha256}")
    print(f"parameters {info.parameters} {info.parameters_by_dtype}; precision {info.precision} {info.quantization}")
    print(f"input {info.inputs[0].name} {list(info.inputs[0].shape)}; output {info.outputs[0].name} "
          f"{list(info.outputs[0].shape)} ({info.output_meaning(0)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
