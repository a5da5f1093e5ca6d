"""``zoo.model.footprint``'s figures for an .onnx file, from the graph and ``onnx``'s shape inference.

- Weights bytes: the network's constants (initializers and Constant nodes, quantization scales and zero
  points aside, as TFLite keeps those outside its buffers) as an MCU stores them: int4 packed two per byte.
- MACs from inferred shapes: Conv, ConvInteger and QLinearConv (output elements x input channels per group
  x kernel, so grouped and depthwise convolutions count what they compute), ConvTranspose (input elements x
  output channels per group x kernel), MatMul, MatMulInteger, QLinearMatMul and Gemm (output elements x the
  shared dimension). An op whose shapes inference cannot fix is left out, with a note.
- Activation lower bound and greedy arena: ``zoo.model.footprint``'s planners on the graph as an integer
  runtime runs it: a QuantizeLinear or DequantizeLinear of an activation is folded away (its input and
  output are one tensor, held at its smallest size), as STEdgeAI and onnxruntime's QDQ fusion do. Only
  where every activation shape is static; otherwise a note.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

from zoo.model.footprint import (Footprint, PlanningGraph, _aligned, activation_lower_bound, greedy_arena)
from zoo.model.onnx_reader import (dtype_name, element_bits, onnx_module, parameter_tensors, quantization_facts,
                                   read_onnx, stored_bytes, stored_tensors)

MAC_OPS = ("Conv", "ConvInteger", "QLinearConv", "ConvTranspose", "MatMul", "MatMulInteger", "QLinearMatMul", "Gemm",
           "QGemm")
FOLDED = frozenset({"QuantizeLinear", "DequantizeLinear"})

Shapes = dict[str, tuple[list[int | None], str]]


def compute_onnx_footprint(path: str | Path, *, tflm: bool = False) -> Footprint:
    """The footprint of an .onnx file (``compute_footprint`` hands ONNX files here)."""
    read = read_onnx(path)
    graph = read.graph
    notes: list[str] = []
    weights: Counter[str] = Counter()
    for t in parameter_tensors(graph).values():
        weights[dtype_name(t.data_type)] += stored_bytes(t) or 0
    weights = Counter(dict(weights.most_common()))
    shapes = inferred_shapes(read.model, notes)
    macs, uncounted = macs_by_op(graph, shapes)
    if uncounted:
        notes.append(f"{uncounted} compute op(s) with shapes inference cannot fix: their MACs are not counted")
    precision = str(quantization_facts(graph)["precision"])
    if precision.startswith("float"):
        notes.append(f"{precision} weights: the int8 peak of a target does not bound this model's time")
    plan = planning_graph(graph, shapes)
    notes += plan.notes
    dynamic = any(n.startswith("dynamic") for n in plan.notes)
    if any(attr.HasField("g") or len(attr.graphs) for node in graph.node for attr in node.attribute):
        notes.append("subgraphs (If, Loop, Scan) are not planned nor counted")
    if tflm:
        notes.append("TFLM runs TFLite files only: no TFLM arena for an ONNX file")
    return Footprint(
        path=read.path, precision=precision, weights_bytes=sum(weights.values()), weights_bytes_by_dtype=dict(weights),
        macs=sum(macs.values()), macs_by_op=macs,
        activation_lower_bound_bytes=None if dynamic else activation_lower_bound(plan),
        arena_estimate_bytes=None if dynamic else greedy_arena(plan), notes=tuple(notes),
    )


def inferred_shapes(model: Any, notes: list[str]) -> Shapes:
    """Tensor name -> (dims, None where unknown; dtype) after ``onnx.shape_inference`` (non-strict)."""
    onnx = onnx_module()
    batch = [v.name for v in model.graph.input if v.type.tensor_type.shape.dim
             and not v.type.tensor_type.shape.dim[0].HasField("dim_value")]
    if batch:  # a dynamic batch runs as 1 (zoo.model.onnx_runtime), as TFLite runs a -1 batch
        model = onnx.ModelProto.FromString(model.SerializeToString())
        for value in model.graph.input:
            if value.name in batch:
                value.type.tensor_type.shape.dim[0].dim_value = 1
        notes.append(f"dynamic batch dimension of {', '.join(batch)}: figures for a batch of 1")
    try:
        graph = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True).graph
    except Exception as exc:  # noqa: BLE001 - inference failing leaves the shapes the file declares
        notes.append(f"shape inference failed ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}): "
                     "figures use the shapes the file declares")
        graph = model.graph
    graph = _contrib_shapes(onnx, model, graph)
    shapes: Shapes = {}
    for value in list(graph.input) + list(graph.value_info) + list(graph.output):
        t = value.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = [int(d.dim_value) if d.HasField("dim_value") else None for d in t.shape.dim]
        shapes[value.name] = (dims, dtype_name(t.elem_type))
    for name, tensor in stored_tensors(graph).items():
        shapes[name] = ([int(d) for d in tensor.dims], dtype_name(tensor.data_type))
    return shapes


# Contrib ops onnxruntime's quantizer writes (QOperator form), which onnx's inference does not know: output shape
# from the input shapes and attributes, output dtype from the input holding the output zero point.
_SAME_AS_INPUT = {"QLinearSigmoid": 4, "QLinearLeakyRelu": 4, "QLinearSoftmax": 4}
_BROADCAST = {"QLinearAdd": 7, "QLinearMul": 7}


def _contrib_output(node: Any, known: dict[str, tuple[list[int], int]]) -> tuple[list[int], int] | None:
    """(dims, elem type) of a contrib node's output from its inputs' shapes, or None."""
    ins = [known.get(i) for i in node.input]
    x = ins[0] if ins else None
    if x is None:
        return None
    attrs = {a.name: int(a.i) for a in node.attribute if a.type == 2}  # INT attributes
    zero = lambda at: ins[at][1] if at < len(ins) and ins[at] is not None else 1  # noqa: E731 - float without one
    if node.op_type in _SAME_AS_INPUT:
        return x[0], zero(_SAME_AS_INPUT[node.op_type])
    if node.op_type in _BROADCAST and len(ins) > 3 and ins[3] is not None:
        a, b = x[0], ins[3][0]
        rank = max(len(a), len(b))
        a, b = [1] * (rank - len(a)) + a, [1] * (rank - len(b)) + b
        return [max(p, q) for p, q in zip(a, b)], zero(_BROADCAST[node.op_type])
    if node.op_type == "QLinearGlobalAveragePool":
        dims = x[0]
        last = attrs.get("channels_last", 0)
        return ([dims[0]] + [1] * (len(dims) - 2) + [dims[-1]] if last else dims[:2] + [1] * (len(dims) - 2)), zero(4)
    if node.op_type == "QGemm" and len(ins) > 3 and ins[3] is not None and len(x[0]) == 2:
        m = x[0][1] if attrs.get("transA") else x[0][0]
        n = ins[3][0][0] if attrs.get("transB") else ins[3][0][1]
        return [m, n], zero(8)
    return None


def _contrib_shapes(onnx: Any, model: Any, graph: Any) -> Any:
    """``graph`` with the outputs of contrib nodes typed, inference re-run after each round (bounded)."""
    contrib = [n for n in model.graph.node if n.domain not in ("", "ai.onnx")]
    for _ in range(len(contrib)):
        known: dict[str, tuple[list[int], int]] = {}
        for value in list(graph.input) + list(graph.value_info) + list(graph.output):
            t = value.type.tensor_type
            if t.HasField("shape") and all(d.HasField("dim_value") for d in t.shape.dim):
                known[value.name] = ([int(d.dim_value) for d in t.shape.dim], t.elem_type)
        for tensor in graph.initializer:
            known[tensor.name] = ([int(d) for d in tensor.dims], tensor.data_type)
        added = [onnx.helper.make_tensor_value_info(n.output[0], typed[1], typed[0]) for n in contrib
                 if n.output and n.output[0] not in known and (typed := _contrib_output(n, known)) is not None]
        if not added:
            break
        model = onnx.ModelProto.FromString(model.SerializeToString())
        model.graph.value_info.extend([*graph.value_info, *added])
        try:
            graph = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True).graph
        except Exception:  # noqa: BLE001 - keep what is known
            graph = model.graph
    return graph


def _dims(shapes: Shapes, name: str) -> list[int] | None:
    dims = shapes.get(name, (None, ""))[0]
    return None if dims is None or any(d is None for d in dims) else dims  # type: ignore[return-value]


def node_macs(node: Any, shapes: Shapes) -> int | None:
    """MACs of one node; None when a shape it needs is unknown, 0 for ops that are not counted."""
    op = node.op_type
    if op not in MAC_OPS:
        return 0
    ins = list(node.input)
    out = _dims(shapes, node.output[0]) if node.output else None
    if op in ("Conv", "ConvInteger", "QLinearConv"):
        w = _dims(shapes, ins[3 if op == "QLinearConv" else 1])
        return None if out is None or w is None or len(w) < 3 else math.prod(out) * w[1] * math.prod(w[2:])
    if op == "ConvTranspose":
        x, w = _dims(shapes, ins[0]), _dims(shapes, ins[1])
        return None if x is None or w is None or len(w) < 3 else math.prod(x) * w[1] * math.prod(w[2:])
    a = _dims(shapes, ins[0])
    if op in ("Gemm", "QGemm"):  # A [M, K] (transA: [K, M]) times B [K, N] (transB: [N, K]); no output shape needed
        b = _dims(shapes, ins[3 if op == "QGemm" else 1])
        trans = {attr.name: int(attr.i) for attr in node.attribute if attr.name in ("transA", "transB")}
        if a is None or b is None or len(a) != 2 or len(b) != 2:
            return None
        m, k = (a[1], a[0]) if trans.get("transA") else (a[0], a[1])
        return m * k * (b[0] if trans.get("transB") else b[1])
    if out is None or a is None or not a:
        return None
    return math.prod(out) * a[-1]  # MatMul, MatMulInteger, QLinearMatMul: the shared dimension is A's last


def macs_by_op(graph: Any, shapes: Shapes) -> tuple[dict[str, int], int]:
    """MACs of the main graph by op type (largest first), and how many compute ops could not be counted."""
    found: Counter[str] = Counter()
    uncounted = 0
    for node in graph.node:
        macs = node_macs(node, shapes)
        if macs is None:
            uncounted += 1
        elif macs:
            found[node.op_type] += macs
    return dict(found.most_common()), uncounted


def planning_graph(graph: Any, shapes: Shapes) -> PlanningGraph:
    """The main graph as ``zoo.model.footprint``'s planners see it, activation Q/DQ nodes folded away."""
    constant = set(stored_tensors(graph))
    for node in graph.node:  # nodes are topologically sorted (onnx.checker): constant folding in one pass
        if node.input and all(not i or i in constant for i in node.input) or node.op_type == "Constant":
            constant.update(o for o in node.output if o)
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.get(name, name) != name:
            name = parent[name]
        return name

    ops: list[tuple[str, list[str], list[str]]] = []
    for node in graph.node:
        if node.op_type in FOLDED and node.input[0] not in constant and node.output[0] not in constant:
            parent[root(node.output[0])] = root(node.input[0])
            continue
        if all(o in constant for o in node.output if o):
            continue
        ops.append((node.op_type, [i for i in node.input if i], [o for o in node.output if o]))
    index: dict[str, int] = {}
    sizes: list[int] = []
    unknown: set[str] = set()
    names = {n for _, ins, outs in ops for n in ins + outs} | {v.name for v in graph.input} | \
        {v.name for v in graph.output} | set(parent)
    for name in sorted(names):
        if name in constant:
            continue
        r = root(name)
        dims = _dims(shapes, name)
        dtype = shapes.get(name, (None, "float32"))[1]
        size = None if dims is None else math.ceil(math.prod(dims) * element_bits(dtype) / 8)
        if size is None:
            unknown.add(r)
        if r not in index:
            index[r] = len(sizes)
            sizes.append(_aligned(size or 0))
        elif size is not None:
            j = index[r]
            sizes[j] = _aligned(size) if sizes[j] == 0 else min(sizes[j], _aligned(size))
    constants = {len(sizes)}
    sizes.append(0)  # one index stands for every constant: planners skip it

    def at(name: str) -> int:
        return len(sizes) - 1 if name in constant else index[root(name)]

    notes = []
    if unknown:
        notes.append(f"dynamic shapes ({len(unknown)} tensors have unknown dimensions): activation memory depends "
                     "on the input and is not estimated")
    return PlanningGraph(
        ops=[(op, [at(i) for i in ins], [at(o) for o in outs]) for op, ins, outs in ops],
        sizes=sizes, constant=constants,
        inputs=[at(v.name) for v in graph.input if v.name not in constant],
        outputs=[at(v.name) for v in graph.output], notes=notes,
    )
