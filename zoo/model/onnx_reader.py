"""What an .onnx file really holds, read with ``onnx`` and checked before any runtime sees it.

The same facts as ``zoo.model.inspection`` gives for TFLite (``ModelInfo``: tensors, ops, parameters by dtype),
plus what only ONNX files say: the opset, and the precision the file really has, which its name and its
card may not (QDQ int8 per-tensor or per-channel, mixed 4/8-bit weights as ST's ``_qdq_w4_..%_w8_..%_a8``
files, QOperator ``QLinearConv``/``ConvInteger`` forms, or float).

Untrusted files (``read_onnx``): at most ``MAX_MODEL_BYTES`` (protobuf's 2 GiB limit), parsed by protobuf
(a truncated or corrupt file is one line), checked by ``onnx.checker``, and every external-data reference
is held to the model's own folder: a relative name with no ``..``, no absolute path, no symlink leading
out, a regular file (never a FIFO or device), offset and length inside it and matching the tensor
(CVE-2022-25882 and CVE-2024-27318 were path traversals there). External bytes are never read here: the
facts need only dims and dtypes, and onnxruntime reads them itself after the checks passed.

``onnx`` is imported only when an ONNX file is read (``pip install 'zoo[onnx]'``).
"""

from __future__ import annotations

import hashlib
import math
import os
import stat
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from zoo.catalog.registry import Registry
from zoo.core.errors import ModelFileError, RuntimeMissingError
from zoo.core.files import describe, read_bytes
from zoo.model.formats import read_errors, read_once
from zoo.model.inspection import ModelInfo
from zoo.model.tensors import TensorInfo

MAX_MODEL_BYTES = (2 << 30) - 1  # protobuf cannot parse a larger message; bigger models keep weights outside
MAX_EXTERNAL_BYTES = 64 << 30  # all external data of one model
INSTALL_HINT = "reading .onnx files needs onnx and onnxruntime: pip install 'zoo[onnx]'"

# Ops whose input at this position is a weight tensor (through a DequantizeLinear in QDQ files).
WEIGHT_INPUT = {"Conv": 1, "ConvTranspose": 1, "Gemm": 1, "MatMul": 1, "ConvInteger": 1, "MatMulInteger": 1,
                "QLinearConv": 3, "QLinearMatMul": 3, "QGemm": 3}
# Inputs that are quantization parameters (scales, zero points), not parameters of the network.
QPARAM_INPUTS = {"QuantizeLinear": (1, 2), "DequantizeLinear": (1, 2), "QLinearConv": (1, 2, 4, 5, 6, 7),
                 "QLinearMatMul": (1, 2, 4, 5, 6, 7), "ConvInteger": (2, 3), "MatMulInteger": (2, 3),
                 "QLinearAdd": (1, 2, 4, 5, 6, 7), "QLinearMul": (1, 2, 4, 5, 6, 7), "QGemm": (1, 2, 4, 5, 7, 8),
                 "QLinearGlobalAveragePool": (1, 2, 3, 4), "QLinearSigmoid": (1, 2, 3, 4)}
QOPERATOR = frozenset({"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "QLinearAdd", "QLinearMul",
                       "QGemm"})
# Ops that reshape, cast or requantize: the op that gives an output its meaning sits behind them.
PASS_THROUGH = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "QuantizeLinear", "DequantizeLinear",
                          "Identity", "Cast"})
# Ops after which a one-step difference of their input stays at most one step (goldens' tolerance).
STEP_KEEPING = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "ReduceMean", "ReduceMax",
                          "GlobalAveragePool", "GlobalMaxPool", "AveragePool", "MaxPool"})
_BITS = {"int4": 4, "uint4": 4, "int8": 8, "uint8": 8, "int16": 16, "uint16": 16, "int32": 32}


@dataclass(frozen=True)
class OnnxModel:
    """An .onnx file parsed and checked: the ``ModelProto`` (external data not loaded) and its bytes' hash."""

    path: Path
    size: int
    sha256: str
    model: Any  # onnx.ModelProto

    @property
    def graph(self) -> Any:
        return self.model.graph

    @property
    def opset(self) -> int | None:
        return next((int(o.version) for o in self.model.opset_import if o.domain in ("", "ai.onnx")), None)


def onnx_module() -> Any:
    try:
        import onnx
    except ImportError:
        raise RuntimeMissingError(INSTALL_HINT) from None
    return onnx


_READ: dict[tuple[str, int, int, int], OnnxModel] = {}


def read_onnx(path: str | Path) -> OnnxModel:
    """Parse and check ``path``; ``ModelFileError`` (one line) for anything a runtime should not see.

    A file read before in this process, unchanged since (size, mtime, inode), is not read again.
    """
    return read_once(path, _READ, _parse)


def _parse(path: Path) -> OnnxModel:
    onnx = onnx_module()
    from google.protobuf.message import DecodeError

    with read_errors(path):
        data = read_bytes(path, limit=MAX_MODEL_BYTES)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise ModelFileError(f"truncated or malformed ONNX protobuf ({_first_line(exc) or 'cannot decode'})",
                             path=path) from None
    if not model.HasField("graph") or not model.graph.node:
        raise ModelFileError("not an ONNX model: no graph with nodes (truncated?)", path=path)
    check_external_data(path, model)
    try:
        # By path when tensors live outside, so the checker resolves them against the model's folder (checked above).
        onnx.checker.check_model(str(path) if uses_external_data(model) else model)
    except Exception as exc:  # noqa: BLE001 - ValidationError and the C++ checker's other refusals
        raise ModelFileError(f"invalid ONNX model: {_first_line(exc)[:300]}", path=path) from None
    return OnnxModel(path, len(data), hashlib.sha256(data).hexdigest(), model)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _all_tensors(graph: Any) -> list[Any]:
    """Every TensorProto a graph stores: initializers, sparse values, Constant nodes, nested subgraphs."""
    found = list(graph.initializer) + [s.values for s in graph.sparse_initializer]
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                found.append(attr.t)
            found += list(attr.tensors)
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                found += _all_tensors(sub)
    return found


def check_external_data(path: Path, model: Any) -> None:
    """Every external-data reference stays a regular file inside the model's folder, in bounds (see module)."""
    folder = path.resolve().parent
    total = 0
    for tensor in _all_tensors(model.graph):
        if tensor.data_location != 1:  # TensorProto.EXTERNAL
            continue
        info = {e.key: e.value for e in tensor.external_data}
        where = f"external data of tensor {tensor.name!r}"
        location = info.get("location", "")
        parts = location.replace("\\", "/").split("/")
        if not location or location.startswith(("/", "\\")) or "\x00" in location or ".." in parts \
                or (len(location) > 1 and location[1] == ":"):
            raise ModelFileError(f"{where}: location {location!r} leaves the model's folder; refused", path=path)
        target = (folder / location).resolve()
        if folder not in target.parents:
            raise ModelFileError(f"{where}: {location!r} resolves outside the model's folder (a symlink?); refused",
                                 path=path)
        try:
            st = os.stat(target)
        except OSError as exc:
            raise ModelFileError(f"{where}: {location!r}: {describe(exc)}", path=path) from None
        if not stat.S_ISREG(st.st_mode):
            raise ModelFileError(f"{where}: {location!r} is not a regular file (a FIFO, device or folder is "
                                 "refused)", path=path)
        try:
            offset, length = int(info.get("offset", 0)), int(info.get("length", st.st_size - int(info.get("offset", 0))))
        except ValueError:
            raise ModelFileError(f"{where}: offset or length is not a number", path=path) from None
        expected = stored_bytes(tensor)
        if offset < 0 or length < 0 or offset + length > st.st_size:
            raise ModelFileError(f"{where}: bytes {offset}..{offset + length} lie outside {location!r} "
                                 f"({st.st_size} bytes)", path=path)
        if expected is not None and length != expected:
            raise ModelFileError(f"{where}: {length} bytes, its dims and dtype need {expected}", path=path)
        total += length
        if total > MAX_EXTERNAL_BYTES:
            raise ModelFileError(f"external data over {MAX_EXTERNAL_BYTES >> 30} GiB; refused", path=path)


def uses_external_data(model: Any) -> bool:
    """True when some tensor of ``model`` keeps its values in a file beside it."""
    return any(t.data_location == 1 for t in _all_tensors(model.graph))


@lru_cache(maxsize=None)
def dtype_name(elem_type: int) -> str:
    """``float32``, ``int8``, ``int4``... for an ONNX element type (asked once per tensor: remembered)."""
    onnx = onnx_module()
    try:
        return onnx.helper.tensor_dtype_to_np_dtype(elem_type).name
    except (KeyError, TypeError, ValueError):
        return onnx.TensorProto.DataType.Name(elem_type).lower() if elem_type else "undefined"


def element_bits(dtype: str) -> int:
    """Bits one element of ``dtype`` takes where it is stored (int4 packs two in a byte).

    >>> element_bits("int4"), element_bits("float32"), element_bits("bool")
    (4, 32, 8)
    """
    if dtype in _BITS:
        return _BITS[dtype]
    import numpy as np

    try:
        return np.dtype(dtype).itemsize * 8
    except TypeError:
        return 8


def stored_bytes(tensor: Any) -> int | None:
    """Bytes of a TensorProto's values as stored (int4 packed two per byte); None for strings."""
    dtype = dtype_name(tensor.data_type)
    if dtype in ("object", "string"):
        return None
    return math.ceil(math.prod(int(d) for d in tensor.dims) * element_bits(dtype) / 8)


def stored_tensors(graph: Any) -> dict[str, Any]:
    """Name -> TensorProto of the main graph's constants: initializers and Constant nodes' values."""
    found = {t.name: t for t in graph.initializer}
    for s in graph.sparse_initializer:
        found[s.values.name] = s.values
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            for attr in node.attribute:
                if attr.HasField("t") and node.output:
                    found[node.output[0]] = attr.t
    return found


def quantization_parameters(graph: Any) -> set[str]:
    """Names of the constants that are scales or zero points of quantization, not network parameters."""
    names: set[str] = set()
    for node in graph.node:
        for position in QPARAM_INPUTS.get(node.op_type, ()):
            if position < len(node.input) and node.input[position]:
                names.add(node.input[position])
    return names


def parameter_tensors(graph: Any) -> dict[str, Any]:
    """The constants that are the network's parameters (weights, biases, shapes), quantization parameters aside."""
    qparams = quantization_parameters(graph)
    return {name: t for name, t in stored_tensors(graph).items() if name not in qparams}


def _producers(graph: Any) -> dict[str, Any]:
    return {out: node for node in graph.node for out in node.output if out}


def quantization_facts(graph: Any) -> dict[str, Any]:
    """The precision the file really has, from the weights the compute ops read and the activations' Q nodes.

    ``precision``: ``float32``/``float16`` (no quantized weights), ``int8`` (8-bit weights and activations,
    or 8-bit weights alone), ``w4a8`` (some 4-bit weights, 8-bit activations), ``int4``... ``scheme``: ``qdq``
    (QuantizeLinear/DequantizeLinear around float ops), ``qoperator`` (QLinearConv, ConvInteger...) or
    ``float`` (``dynamic``: activations quantized at run time, DynamicQuantizeLinear); ``granularity`` of the weights' scales; ``weights_4bit_share``: the share of quantized
    weight elements stored in 4 bits (ST writes it into its file names: ``w4_30%_w8_70%``).
    """
    constants = stored_tensors(graph)
    producers = _producers(graph)
    weights: list[tuple[int, str, int]] = []  # elements, dtype, scale count
    for node in graph.node:
        position = WEIGHT_INPUT.get(node.op_type)
        candidates = [position] if position is not None else []
        if node.op_type == "MatMul":
            candidates = [0, 1]
        for pos in candidates:
            if pos >= len(node.input):
                continue
            name = node.input[pos]
            scales = 1
            source = producers.get(name)
            if source is not None and source.op_type == "DequantizeLinear" and source.input[0] in constants:
                name = source.input[0]
                scale = constants.get(source.input[1]) if len(source.input) > 1 else None
                scales = math.prod(int(d) for d in scale.dims) if scale is not None else 1
            elif node.op_type in ("QLinearConv", "QLinearMatMul", "QGemm", "ConvInteger", "MatMulInteger") \
                    and name in constants:  # the weights' scale (QLinear*) or zero point (*Integer), one per channel
                at = 3 if node.op_type.endswith("Integer") else 4
                scale = constants.get(node.input[at]) if at < len(node.input) else None
                scales = math.prod(int(d) for d in scale.dims) if scale is not None else 1
            if name in constants:
                t = constants[name]
                weights.append((math.prod(int(d) for d in t.dims), dtype_name(t.data_type), scales))
    activation_bits = sorted({element_bits(dtype_name(constants[n.input[2]].data_type)) if len(n.input) > 2
                              and n.input[2] in constants else 8
                              for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] not in constants})
    ops = {n.op_type for n in graph.node}
    quantized = [(n, d, s) for n, d, s in weights if d in _BITS and _BITS[d] <= 16]
    if not quantized:
        floats = Counter()
        for n, d, _ in weights:
            floats[d] += n
        precision = floats.most_common(1)[0][0] if floats else "unknown"
        return {"precision": precision, "scheme": "float", "granularity": None, "weights_4bit_share": 0.0,
                "activations": None}
    total = sum(n for n, _, _ in quantized)
    four = sum(n for n, d, _ in quantized if _BITS[d] == 4)
    bits = {_BITS[d] for _, d, _ in quantized}
    act = activation_bits[-1] if activation_bits else (8 if ops & QOPERATOR else None)
    if 4 in bits:
        precision = f"w4a{act}" if act else "int4"
    elif act in (None, 8):
        precision = "int8"
    else:
        precision = f"w8a{act}"
    per_channel = {s > 1 for _, _, s in quantized}
    return {
        "precision": precision,
        "scheme": "dynamic" if "DynamicQuantizeLinear" in ops else "qoperator" if ops & QOPERATOR
        else "qdq" if "DequantizeLinear" in ops else "other",
        "granularity": "mixed" if len(per_channel) > 1 else "per-channel" if True in per_channel else "per-tensor",
        "weights_4bit_share": round(four / total, 4) if total else 0.0,
        "activations": f"int{act}" if act else "float",
    }


def _value_info(value: Any, index: int) -> TensorInfo:
    t = value.type.tensor_type
    dims = [d for d in t.shape.dim] if t.HasField("shape") else []
    shape = tuple(int(d.dim_value) if d.HasField("dim_value") else -1 for d in dims)
    names = tuple(None if d.HasField("dim_value") else (d.dim_param or "?") for d in dims)
    return TensorInfo(name=value.name, index=index, shape=shape, dtype=dtype_name(t.elem_type), scales=(),
                      zero_points=(), quantized_dimension=0, dim_names=names if any(names) else ())


def _meaningful_producer(name: str, producers: dict[str, Any]) -> str | None:
    seen: set[str] = set()
    while name in producers and name not in seen:
        seen.add(name)
        node = producers[name]
        if node.op_type not in PASS_THROUGH or not node.input:
            return str(node.op_type)
        name = node.input[0]
    return None


def inspect_onnx(path: str | Path, registry: Registry | None = None) -> ModelInfo:
    """``ModelInfo`` of an .onnx file (``zoo.model.inspection.inspect_model`` hands ONNX files here)."""
    read = read_onnx(path)
    graph = read.graph
    stored = {n for n in stored_tensors(graph)} | {t.name for t in graph.initializer}
    inputs = tuple(_value_info(v, i) for i, v in enumerate(v for v in graph.input if v.name not in stored))
    outputs = tuple(_value_info(v, i) for i, v in enumerate(graph.output))
    by_dtype: Counter[str] = Counter()
    for t in parameter_tensors(graph).values():
        by_dtype[dtype_name(t.data_type)] += math.prod(int(d) for d in t.dims)
    ops = Counter(n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}" for n in graph.node)
    producers = _producers(graph)
    facts = quantization_facts(graph)
    return ModelInfo(
        path=read.path, size=read.size, sha256=read.sha256, inputs=inputs, outputs=outputs,
        ops=dict(ops.most_common()), parameters=sum(by_dtype.values()), parameters_by_dtype=dict(by_dtype.most_common()),
        output_producers=tuple(_meaningful_producer(v.name, producers) for v in graph.output),
        artifact=registry.by_sha256(read.sha256) if registry is not None else None,
        format="onnx", opset=read.opset, quantization=facts,
    )



def output_steps(path: str | Path) -> list[float | None]:
    """Per graph output, the quantization step of the DequantizeLinear (per-tensor) a float output comes from,
    through ops that only reshape, pool or average (which never widen a difference), else None.

    Two CPUs rounding one requantization apart differ by one step there, which goldens allow, as for
    TFLite's integer outputs.
    """
    graph = read_onnx(path).graph
    producers, constants = _producers(graph), stored_tensors(graph)
    onnx = onnx_module()
    steps: list[float | None] = []
    for value in graph.output:
        name, step = value.name, None
        for _ in range(len(graph.node)):
            node = producers.get(name)
            if node is None:
                break
            if node.op_type == "DequantizeLinear":
                scale = constants.get(node.input[1]) if len(node.input) > 1 else None
                if scale is not None and math.prod(scale.dims) == 1 and scale.data_location != 1:
                    step = float(onnx.numpy_helper.to_array(scale).reshape(-1)[0])
                break
            if node.op_type not in STEP_KEEPING or not node.input:
                break
            name = node.input[0]
        steps.append(step)
    return steps
