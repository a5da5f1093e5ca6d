"""Small .tflite files built with the schema bindings ai-edge-litert ships, and edits of real ones.

Tests use them for graphs the shipped models do not have (float weights, a hand-sized convolution, custom
ops, dynamic shapes) and for broken files; each builder returns bytes a real interpreter accepts unless
the test breaks them on purpose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.tools import flatbuffer_utils as fu


def read(path: Path) -> Any:
    """A model file as an editable ``ModelT``."""
    return fu.read_model_from_bytearray(bytearray(path.read_bytes()))


def write(model: Any, path: Path) -> Path:
    path.write_bytes(bytes(fu.convert_object_to_bytearray(model)))
    return path


def _tensor(shape: list[int], dtype: int, buffer: int, name: str) -> Any:
    t = schema.TensorT()
    t.shape, t.type, t.buffer, t.name = np.array(shape, dtype=np.int32), dtype, buffer, name.encode()
    return t


def _buffer(array: np.ndarray | None) -> Any:
    b = schema.BufferT()
    b.data = None if array is None else np.frombuffer(array.tobytes(), dtype=np.uint8)
    return b


def float_model(op: str, input_shape: list[int], weights: np.ndarray, output_shape: list[int],
                stride: int = 1) -> Any:
    """One float32 CONV_2D (SAME padding) or FULLY_CONNECTED op with constant weights and bias."""
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = getattr(schema.BuiltinOperator, op)
    code.version = 1
    bias = np.zeros(weights.shape[0], np.float32)
    graph = schema.SubGraphT()
    graph.tensors = [_tensor(input_shape, schema.TensorType.FLOAT32, 0, "input"),
                     _tensor(list(weights.shape), schema.TensorType.FLOAT32, 1, "weights"),
                     _tensor([weights.shape[0]], schema.TensorType.FLOAT32, 2, "bias"),
                     _tensor(output_shape, schema.TensorType.FLOAT32, 0, "output")]
    graph.inputs, graph.outputs = [0], [3]
    operator = schema.OperatorT()
    operator.opcodeIndex, operator.inputs, operator.outputs = 0, [0, 1, 2], [3]
    if op == "CONV_2D":
        options = schema.Conv2DOptionsT()
        options.padding, options.strideH, options.strideW = schema.Padding.SAME, stride, stride
        operator.builtinOptionsType, operator.builtinOptions = schema.BuiltinOptions.Conv2DOptions, options
    else:
        operator.builtinOptionsType = schema.BuiltinOptions.FullyConnectedOptions
        operator.builtinOptions = schema.FullyConnectedOptionsT()
    graph.operators = [operator]
    model = schema.ModelT()
    model.version, model.operatorCodes, model.subgraphs = 3, [code], [graph]
    model.buffers = [_buffer(None), _buffer(weights.astype(np.float32)), _buffer(bias)]
    model.description = b"zoo test model"
    return model


def with_custom_op(model: Any, name: str = "ZooTestOp") -> Any:
    """``model`` with its last op turned into a custom op ``name`` (a runtime without it cannot run the file)."""
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    code.customCode, code.version = name.encode(), 1
    model.operatorCodes.append(code)
    last = model.subgraphs[0].operators[-1]
    last.opcodeIndex = len(model.operatorCodes) - 1
    last.builtinOptionsType, last.builtinOptions = 0, None
    return model


def with_dynamic_input(model: Any) -> Any:
    """``model`` whose input height and width are unknown until run time (shape signature -1)."""
    graph = model.subgraphs[0]
    tensor = graph.tensors[int(graph.inputs[0])]
    signature = np.array(tensor.shape, dtype=np.int32)
    signature[1:3] = -1
    tensor.shapeSignature = signature
    return model


def metadata_offsets(data: bytes) -> np.ndarray:
    """Offsets of every byte of a .tflite file that is not constant-buffer payload: the graph's structure
    (tables, offsets, vectors of indices and shapes, quantization, names), where corruption misleads a loader."""
    root = schema.Model.GetRootAs(bytearray(data), 0)
    keep = np.ones(len(data), bool)
    for i in range(root.BuffersLength()):
        table = root.Buffers(i)._tab
        field = table.Offset(4)  # Buffer.data
        if field:
            start = table.Vector(field)
            keep[start:start + table.VectorLen(field)] = False
    return np.flatnonzero(keep)
