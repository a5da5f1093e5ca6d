"""What a .tflite file really holds, read from its flatbuffer rather than from what a card says.

The file is read by ``zoo.model.flatbuffer`` (bounds-checked accessors, no object API), not by the
interpreter: after ``allocate_tensors`` XNNPACK replaces most ops by DELEGATE nodes, so op counts would be
wrong, and the native loader may crash on a crafted file where the pure-Python reader only raises. Every
caller that later hands a file to the interpreter inspects it here first.

>>> from zoo.core.resources import data_dir
>>> info = inspect_model(data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite")
>>> info.parameters, info.outputs[0].shape, info.output_meaning(0)
(25678, (1, 64), 'embedding')
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.catalog.registry import Artifact, Registry
from zoo.core.errors import ModelFileError
from zoo.core.files import read_bytes
from zoo.model.flatbuffer import IDENTIFIER, read_tflite
from zoo.model.formats import is_onnx, read_errors, read_once
from zoo.model.tensors import TensorInfo
from zoo.model.tflite_enums import BUILTIN_OPERATORS, TENSOR_TYPES

# Ops that only reshape or requantize: the op that gives an output its meaning sits behind them.
PASS_THROUGH = frozenset({"RESHAPE", "SQUEEZE", "QUANTIZE", "DEQUANTIZE", "EXPAND_DIMS"})
# A global pool (or a normalisation of one) ending the graph leaves a feature vector, not class scores.
POOLING = frozenset({"MEAN", "AVERAGE_POOL_2D", "MAX_POOL_2D", "REDUCE_MAX", "SUM", "L2_NORMALIZATION",
                     "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax", "ReduceSum", "LpNormalization",
                     "QLinearGlobalAveragePool"})  # TFLite's op names, then ONNX's
SCORES = frozenset({"SOFTMAX", "LOG_SOFTMAX", "LOGISTIC", "Softmax", "LogSoftmax", "Sigmoid"})
CLASSIFIER = frozenset({"FULLY_CONNECTED", "Gemm", "MatMul", "QLinearMatMul", "MatMulInteger"})


@dataclass(frozen=True)
class ModelInfo:
    """The facts of one model file that a card can be checked against."""

    path: Path
    size: int
    sha256: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    ops: dict[str, int]  # op type -> count, most frequent first
    parameters: int  # elements of the constant tensors (weights and biases)
    parameters_by_dtype: dict[str, int]
    output_producers: tuple[str | None, ...]  # the op behind each output, pass-through ops skipped
    artifact: Artifact | None = None
    format: str = "tflite"
    opset: int | None = None  # ONNX: the default domain's opset
    quantization: dict[str, Any] | None = None  # ONNX: precision, scheme, granularity (zoo.model.onnx_reader)

    @property
    def op_count(self) -> int:
        return sum(self.ops.values())

    @property
    def precision(self) -> str:
        """``int8`` when weights are stored as 8-bit integers, else the dtype of most constants (ONNX: what
        ``zoo.model.onnx_reader.quantization_facts`` found, e.g. ``w4a8``)."""
        if self.quantization:
            return str(self.quantization["precision"])
        weights = {k: v for k, v in self.parameters_by_dtype.items() if k not in ("int32", "int64")}
        if not weights:
            return "unknown"
        return max(weights, key=weights.__getitem__)

    def output_meaning(self, index: int) -> str:
        """``embedding``, ``class_scores``, ``logits`` or ``unknown``: what output ``index`` is.

        Heuristic (documented because cards are judged by it): an output whose producing op, looking
        through reshapes and requantization, is a global pool (MEAN, AVERAGE/MAX_POOL_2D, ...) or an L2
        normalisation, and whose shape is [N, D], is a D-dimensional embedding: no classifier follows the
        pool. SOFTMAX/LOGISTIC give class scores; a FULLY_CONNECTED head gives logits (or a projection,
        which only the card can say). Anything else is ``unknown`` and is not held against a card.
        """
        producer = self.output_producers[index]
        rank = len(self.outputs[index].shape)
        if producer in POOLING and rank == 2:
            return "embedding"
        if producer in SCORES:
            return "class_scores"
        if producer in CLASSIFIER:
            return "logits"
        return "unknown"

    def to_json(self) -> dict[str, Any]:
        art = self.artifact
        return {
            "path": str(self.path),
            "size": self.size,
            "sha256": self.sha256,
            "artifact": {"model_id": art.model_id, "file": art.file, "format": art.format} if art else None,
            "inputs": [tensor_json(t) for t in self.inputs],
            "outputs": [
                {**tensor_json(t), "producer": self.output_producers[i], "meaning": self.output_meaning(i)}
                for i, t in enumerate(self.outputs)
            ],
            "op_count": self.op_count,
            "ops": self.ops,
            "parameters": self.parameters,
            "parameters_by_dtype": self.parameters_by_dtype,
            "precision": self.precision,
            "format": self.format,
            **({"opset": self.opset, "quantization": self.quantization} if self.format == "onnx" else {}),
        }


def tensor_json(t: TensorInfo) -> dict[str, Any]:
    """A tensor as reports show it: per-channel tensors list every scale and zero point."""
    return {
        "name": t.name,
        "shape": t.display_shape,
        "dtype": t.dtype,
        "scale": list(t.scales) if t.per_channel else t.scale,
        "zero_point": list(t.zero_points) if t.per_channel else t.zero_point,
        "per_channel": t.per_channel,
    }


def _dtype(code: int) -> str:
    return TENSOR_TYPES[code].lower()


def _tensor(tensor: Any, index: int) -> TensorInfo:
    q = tensor.quantization
    scales = tuple(float(s) for s in (q.scale if q is not None and q.scale is not None else ()))
    zeros = tuple(int(z) for z in (q.zeroPoint if q is not None and q.zeroPoint is not None else ()))
    return TensorInfo(
        name=tensor.name.decode("utf-8", "replace") if isinstance(tensor.name, bytes) else str(tensor.name),
        index=index,
        shape=tuple(int(d) for d in (tensor.shape if tensor.shape is not None else ())),
        dtype=_dtype(tensor.type),
        scales=scales,
        zero_points=zeros[: len(scales)],
        quantized_dimension=int(q.quantizedDimension) if q is not None else 0,
    )


def _read(path: Path, data: bytes) -> Any:
    if len(data) < 8 or data[4:8] != IDENTIFIER:
        raise ModelFileError("not a TFLite file (no TFL3 flatbuffer identifier)", path=path)
    return read_tflite(data)


def _op_name(model: Any, op: Any) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    return BUILTIN_OPERATORS.get(max(code.builtinCode, code.deprecatedBuiltinCode)) or "CUSTOM"


def _producers(model: Any, graph: Any) -> dict[int, tuple[str, list[int]]]:
    """Tensor index -> (op name, op inputs) of the op that writes it."""
    out: dict[int, tuple[str, list[int]]] = {}
    for op in graph.operators:
        name = _op_name(model, op)
        for t in op.outputs or ():
            out[int(t)] = (name, [int(i) for i in op.inputs or () if i >= 0])
    return out


def _meaningful_producer(index: int, producers: dict[int, tuple[str, list[int]]]) -> str | None:
    seen: set[int] = set()
    while index in producers and index not in seen:
        seen.add(index)
        name, inputs = producers[index]
        if name not in PASS_THROUGH or not inputs:
            return name
        index = inputs[0]
    return None


@dataclass(frozen=True)
class ParsedModel:
    """A .tflite file read by ``zoo.model.flatbuffer`` (records named as the schema's ``ModelT``), checked by
    ``zoo.model.validation``.

    Everything that reads facts from a model file (inspection, footprint) starts from this one reading.
    """

    path: Path
    data: bytes
    model: Any  # zoo.model.flatbuffer.Record: the Model table

    @property
    def graph(self) -> Any:
        """The main subgraph (the one an interpreter runs)."""
        return self.model.subgraphs[0]

    def op_name(self, op: Any) -> str:
        return _op_name(self.model, op)

    def dtype(self, tensor: Any) -> str:
        return _dtype(tensor.type)


_PARSED: dict[tuple[str, int, int, int], ParsedModel] = {}


def read_model(path: str | Path) -> ParsedModel:
    """Read and validate ``path``; raise ``ModelFileError`` (one line) for anything an interpreter should not see.

    A file read before in this process, unchanged since (same size, mtime and inode), is not parsed again.
    """
    return read_once(path, _PARSED, _parse)


def _parse(path: Path) -> ParsedModel:
    from zoo.model.validation import validate_model

    with read_errors(path):
        data = read_bytes(path)  # a regular file only: a FIFO named as a model is refused, not read forever
    with _malformed(path):
        model = _read(path, data)
        problems = validate_model(model, len(data))
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise ModelFileError(f"invalid TFLite model: {problems[0]}{more}", path=path)
    return ParsedModel(path, data, model)


@contextmanager
def _malformed(path: Path) -> Iterator[None]:
    """Whatever a corrupt offset or length leads the flatbuffer reader into becomes one ``ModelFileError``."""
    try:
        yield
    except ModelFileError:
        raise
    except struct.error:  # the reader unpacks at an offset the file does not reach
        raise ModelFileError("malformed or truncated TFLite file (an offset points past its end)", path=path) from None
    except Exception as exc:  # noqa: BLE001 - any exception of the pure-Python reader means a broken file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(f"malformed or truncated TFLite file ({reason[:200]})", path=path) from None


def inspect_model(path: str | Path, registry: Registry | None = None) -> ModelInfo:
    """Read ``path`` (a .tflite file) and, given a registry, name the artifact it is (by sha256).

    Raises ``ModelFileError`` (one line) for a missing, truncated, malformed or non-TFLite file. An ONNX file
    (by content, ``zoo.model.formats``) goes to ``zoo.model.onnx_reader``.
    """
    if is_onnx(path):
        from zoo.model.onnx_reader import inspect_onnx

        return inspect_onnx(path, registry)
    from zoo.model.validation import constant_bytes  # read_model imported it already

    parsed = read_model(path)
    model, graph, path = parsed.model, parsed.graph, parsed.path
    with _malformed(path):
        tensors = graph.tensors or []
        by_dtype: Counter[str] = Counter()
        for tensor in tensors:
            if not constant_bytes(model.buffers, tensor):
                continue
            by_dtype[_dtype(tensor.type)] += math.prod(tensor.shape) if tensor.shape is not None else 1
        inputs = tuple(_tensor(tensors[i], int(i)) for i in graph.inputs)
        outputs = tuple(_tensor(tensors[i], int(i)) for i in graph.outputs)
        producers = _producers(model, graph)
        ops = Counter(_op_name(model, op) for op in graph.operators)
        output_producers = tuple(_meaningful_producer(int(i), producers) for i in graph.outputs)
    sha = hashlib.sha256(parsed.data).hexdigest()
    return ModelInfo(
        path=path,
        size=len(parsed.data),
        sha256=sha,
        inputs=inputs,
        outputs=outputs,
        ops=dict(ops.most_common()),
        parameters=sum(by_dtype.values()),
        parameters_by_dtype=dict(by_dtype.most_common()),
        output_producers=output_producers,
        artifact=registry.by_sha256(sha) if registry is not None else None,
    )
