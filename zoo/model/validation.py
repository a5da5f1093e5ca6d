"""Structural checks of a .tflite model before any interpreter sees it.

The native loaders (LiteRT, TFLM) trust the indices and sizes a flatbuffer carries: a tensor index past
the tensor list, a constant buffer shorter than its tensor, or a per-channel scale list shorter than its
channel count is read out of bounds, and a crafted or bit-flipped file can take the process down. The
pure-Python reader (``zoo.model.flatbuffer``) only builds records; this module checks what those objects point to, so that
``zoo.model.inspection.read_model`` (the one reading every command goes through) can refuse such a file with
a one-line error naming the first problem.

>>> _shape_problem("tensor 3", [1, -2, 4])
'tensor 3: negative dimension -2 in shape [1, -2, 4]'
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from zoo.model.tflite_enums import BUILTIN_OPERATORS, BUILTIN_OPTIONS

# Bits of one element of each TensorType (schema enum value -> bits); 0 = variable length (strings).
_BITS = {0: 32, 1: 16, 2: 32, 3: 8, 4: 64, 5: 0, 6: 8, 7: 16, 8: 64, 9: 8, 10: 64, 11: 128, 12: 64,
         13: 0, 14: 0, 15: 32, 16: 16, 17: 4, 18: 16, 19: 2, 20: 4, 21: 8, 22: 8}
# No tensor of a model this tool handles needs more; a larger one would only make a loader allocate it.
MAX_TENSOR_BYTES = 1 << 31
_SYMMETRIC = frozenset({2, 4})  # int32, int64: biases and indices are never offset (TFLite quantization spec)
# int8/uint8/int16 zero points must be representable in the tensor's own type.
_ZERO_POINT_RANGE = {3: (0, 255), 9: (-128, 127), 7: (-32768, 32767), 17: (-8, 7), 20: (0, 15)}


# Options each common op must carry (schema BuiltinOptions names); a mismatch makes the kernel read defaults
# (strides of 0) or another op's fields. Ops not listed are not checked here.
_OPTIONS = {"CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
            "AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions", "L2_POOL_2D": "Pool2DOptions",
            "TRANSPOSE_CONV": "TransposeConvOptions"}
_OPTIONAL = {"FULLY_CONNECTED": "FullyConnectedOptions", "ADD": "AddOptions", "MUL": "MulOptions",
             "SUB": "SubOptions", "MEAN": "ReducerOptions", "SOFTMAX": "SoftmaxOptions",
             "CONCATENATION": "ConcatenationOptions", "RESHAPE": "ReshapeOptions"}


def validate_model(model: Any, file_size: int) -> list[str]:
    """Every structural problem of ``model`` (``zoo.model.flatbuffer`` records), first found first; empty when sound."""
    return list(_model_problems(model, file_size))


def tensor_bytes(tensor: Any) -> int:
    """Bytes of ``tensor`` from its static shape and type (0 for strings and other variable-size types).

    >>> class T: shape, type = [1, 8, 8, 3], 9
    >>> tensor_bytes(T)
    192
    """
    bits = _BITS.get(int(tensor.type), 0)
    count = math.prod(int(d) for d in tensor.shape) if tensor.shape is not None else 1
    return (count * bits + 7) // 8


def constant_bytes(buffers: list[Any], tensor: Any) -> int:
    """Bytes the buffer of ``tensor`` holds: its data, or the size an offset buffer (models over 2 GB) names.

    The one rule for "is this tensor a constant": more than 0 bytes. Buffer 0 is the empty sentinel, and
    a tensor whose buffer holds nothing is written at run time (an activation).

    >>> class B: data, size = b"1234", 0
    >>> class T: buffer = 1
    >>> constant_bytes([None, B], T), constant_bytes([None, B], type("A", (), {"buffer": 0}))
    (4, 0)
    """
    b = int(tensor.buffer or 0)
    buffer = buffers[b] if 0 < b < len(buffers) else None
    if buffer is None:
        return 0
    return len(buffer.data) if buffer.data is not None else int(getattr(buffer, "size", 0) or 0)


def _model_problems(model: Any, file_size: int) -> Iterator[str]:
    if not model.subgraphs:
        yield "the model has no subgraph"
        return
    buffers = model.buffers or []
    for i, buffer in enumerate(buffers):
        offset, size = int(buffer.offset or 0), int(buffer.size or 0)
        if offset and offset + size > file_size:
            yield f"buffer {i} ends at byte {offset + size}, past the end of the file ({file_size} bytes)"
    operators = BUILTIN_OPERATORS
    names = []
    for i, code in enumerate(model.operatorCodes or []):
        builtin = max(int(code.builtinCode or 0), int(code.deprecatedBuiltinCode or 0))
        if builtin not in operators:
            yield f"operator code {i} names unknown builtin operator {builtin}"
        names.append(operators.get(builtin, "?"))
    options = BUILTIN_OPTIONS
    for s, graph in enumerate(model.subgraphs):
        yield from _subgraph_problems(s, graph, len(model.subgraphs), buffers, names, options)
    for i, sig in enumerate(model.signatureDefs or []):
        index = int(sig.subgraphIndex or 0)
        if not 0 <= index < len(model.subgraphs):
            yield f"signature {i} names subgraph {index}, the model has {len(model.subgraphs)}"


def _options_problem(label: str, options: dict[int, str], name: str, op: Any) -> str | None:
    """The op's options table is of the type its kernel reads (or absent, where the kernel has defaults)."""
    expected = _OPTIONS.get(name) or _OPTIONAL.get(name)
    found = options.get(int(op.builtinOptionsType or 0), "NONE")
    if expected is None or found == expected or (found == "NONE" and name in _OPTIONAL):
        return None
    return f"{label}: {name} carries {found} instead of {expected}"


def _subgraph_problems(s: int, graph: Any, subgraphs: int, buffers: list[Any], names: list[str],
                       options: dict[int, str]) -> Iterator[str]:
    codes = len(names)
    where = f"subgraph {s}"
    tensors = graph.tensors or []
    n = len(tensors)
    for t, tensor in enumerate(tensors):
        yield from _tensor_problems(f"{where} tensor {t}", tensor, buffers)
    for kind in ("inputs", "outputs"):
        for index in getattr(graph, kind) if getattr(graph, kind) is not None else ():
            if not 0 <= int(index) < n:
                yield f"{where}: {kind[:-1]} tensor {int(index)} does not exist ({n} tensors)"
    for o, op in enumerate(graph.operators or []):
        label = f"{where} operator {o}"
        if not 0 <= int(op.opcodeIndex) < codes:
            yield f"{label}: operator code {int(op.opcodeIndex)} does not exist ({codes} codes)"
        elif why := _options_problem(label, options, names[int(op.opcodeIndex)], op):
            yield why
        for kind in ("inputs", "outputs", "intermediates"):
            for index in getattr(op, kind) if getattr(op, kind) is not None else ():
                if not -1 <= int(index) < n or (kind == "outputs" and int(index) < 0):
                    yield f"{label}: {kind[:-1]} tensor {int(index)} does not exist ({n} tensors)"
        yield from _option_problems(label, op.builtinOptions, subgraphs)


def _option_problems(label: str, options: Any, subgraphs: int) -> Iterator[str]:
    """Control-flow ops (IF, WHILE, CALL_ONCE, composites) name other subgraphs by index; strides, dilations
    and pool windows are at least 1 (kernels divide by them)."""
    for key, value in (vars(options).items() if options is not None and hasattr(options, "__dict__") else ()):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if "ubgraph" in key and not 0 <= int(value) < subgraphs:
            yield f"{label}: {key} {int(value)} does not exist ({subgraphs} subgraphs)"
        elif key.startswith(("stride", "dilation", "filterWidth", "filterHeight")) and int(value) < 1:
            yield f"{label}: {key} is {int(value)}, it must be at least 1"


def _shape_problem(label: str, shape: Any) -> str | None:
    dims = [int(d) for d in shape]
    bad = next((d for d in dims if d < 0), None)
    return None if bad is None else f"{label}: negative dimension {bad} in shape {dims}"


def _tensor_problems(label: str, tensor: Any, buffers: list[Any]) -> Iterator[str]:
    if int(tensor.type) not in _BITS:
        yield f"{label}: unknown tensor type {int(tensor.type)}"
        return
    if tensor.shape is not None and (why := _shape_problem(label, tensor.shape)):
        yield why
        return
    size = tensor_bytes(tensor)
    if size > MAX_TENSOR_BYTES:
        yield f"{label}: shape {[int(d) for d in tensor.shape]} needs {size:,} bytes (more than {MAX_TENSOR_BYTES:,})"
        return
    if not 0 <= int(tensor.buffer) < max(len(buffers), 1):
        yield f"{label}: buffer {int(tensor.buffer)} does not exist ({len(buffers)} buffers)"
        return
    held = constant_bytes(buffers, tensor)
    if held and size and tensor.sparsity is None and held < size:
        yield f"{label}: constant buffer holds {held} bytes, its shape needs {size}"
    yield from _quantization_problems(label, tensor)


def _quantization_problems(label: str, tensor: Any) -> Iterator[str]:
    q = tensor.quantization
    if q is None or q.scale is None or not len(q.scale):
        return
    scales = [float(x) for x in q.scale]
    zeros = [int(z) for z in q.zeroPoint] if q.zeroPoint is not None else []
    if len(zeros) != len(scales):
        yield f"{label}: {len(scales)} quantization scale(s) but {len(zeros)} zero point(s)"
    if not all(math.isfinite(x) and x > 0 for x in scales):
        yield f"{label}: quantization scales must be positive and finite"
    low, high = _ZERO_POINT_RANGE.get(int(tensor.type), (-(2**31), 2**31 - 1))
    if not all(low <= z <= high for z in zeros):
        yield f"{label}: a zero point lies outside [{low}, {high}]"
    elif (len(scales) > 1 or int(tensor.type) in _SYMMETRIC) and any(zeros):
        yield f"{label}: per-channel and int32/int64 tensors are symmetric (zero point 0), this one has {max(zeros, key=abs)}"
    if len(scales) > 1:
        rank = len(tensor.shape) if tensor.shape is not None else 0
        dim = int(q.quantizedDimension or 0)
        if not 0 <= dim < rank:
            yield f"{label}: quantized dimension {dim} outside the tensor's rank {rank}"
        elif int(tensor.shape[dim]) != len(scales):
            yield f"{label}: {len(scales)} per-channel scales for dimension {dim} of size {int(tensor.shape[dim])}"
