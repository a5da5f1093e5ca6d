"""What a model needs on a microcontroller, computed from the .tflite file alone.

- Weights bytes: the constant buffers the tensors reference, each buffer once. On an MCU this is what
  weights flash holds (an NPU stores weights in its own layout, so there it is a lower bound).
- MACs: multiply-accumulates per op from the tensor shapes (convolutions, depthwise, fully connected,
  transposed convolution, batch matmul). Other ops are not counted, so the total is a lower bound of the
  work: a claimed time below ``macs / peak MACs per second`` of the target is impossible.
- Activation lower bound: ops run one at a time in the file's order; while op *i* runs, every activation
  tensor written before *i* and read after *i* is held, plus the larger of *i*'s inputs that it reads last
  and its outputs: those two may share memory (in-place element-wise ops, and convolutions whose output
  overwrites input rows already consumed, which ST's tool does: mobilenetv2_a035 is published at
  461.32 KiB on STM32H7, below the 480 KiB its first strided depthwise needs out of place). The largest
  such sum is what any runtime that keeps whole tensors at op boundaries must hold at once.
- Arena estimate: a greedy-by-size planner over tensor lifetimes, as TFLM's ``GreedyMemoryPlanner``:
  buffers sorted largest first, each placed at the lowest offset (16-byte aligned) where it overlaps no
  already placed buffer that is alive at the same time. No in-place reuse, as TFLM.

Only the main subgraph is planned; a graph whose sizes the file does not fix (dynamic shapes) or that has
custom ops gets the figures it can have and a note saying what is missing, never an exception.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.core.errors import ModelFileError, RuntimeMissingError
from zoo.model.inspection import ParsedModel, read_model
from zoo.model.validation import constant_bytes, tensor_bytes

ALIGNMENT = 16  # TFLM's MicroArenaBufferAlignment()
@dataclass(frozen=True)
class Footprint:
    """The figures of one model file; ``notes`` say which figures are partial and why."""

    path: Path
    precision: str  # the dtype of most weights (int8 for the zoo's MCU models)
    weights_bytes: int
    weights_bytes_by_dtype: dict[str, int]
    macs: int
    macs_by_op: dict[str, int]
    activation_lower_bound_bytes: int | None
    arena_estimate_bytes: int | None
    notes: tuple[str, ...] = ()
    tflm_activation_bytes: int | None = None
    tflm_arena_bytes: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path), "precision": self.precision,
            "weights_bytes": self.weights_bytes, "weights_bytes_by_dtype": self.weights_bytes_by_dtype,
            "macs": self.macs, "macs_by_op": self.macs_by_op,
            "activation_lower_bound_bytes": self.activation_lower_bound_bytes,
            "arena_estimate_bytes": self.arena_estimate_bytes,
            "tflm_activation_bytes": self.tflm_activation_bytes, "tflm_arena_bytes": self.tflm_arena_bytes,
            "notes": list(self.notes),
        }


@dataclass
class PlanningGraph:
    """The main subgraph reduced to what planning needs: ops by name and tensor indices, sizes, constants."""

    ops: list[tuple[str, list[int], list[int]]]
    sizes: list[int]
    constant: set[int]
    inputs: list[int]
    outputs: list[int]
    notes: list[str] = field(default_factory=list)


def compute_footprint(path: str | Path, *, tflm: bool = False) -> Footprint:
    """The footprint of ``path``, with TFLM's arena when ``tflm`` (``RuntimeMissingError`` without the package).

    Raises ``ModelFileError`` only for files ``read_model`` refuses; a model TFLM cannot run gets a note.
    """
    from zoo.model.formats import is_onnx

    if is_onnx(path):  # by content: an ONNX file's figures come from onnx's graph and shape inference
        from zoo.model.onnx_footprint import compute_onnx_footprint

        return compute_onnx_footprint(path, tflm=tflm)
    if tflm:  # imported only then: its child-process machinery is ~10 ms of every other footprint
        from zoo.model import tflm as micro

        if not micro.available():
            raise RuntimeMissingError(micro.INSTALL_HINT)
    parsed = read_model(path)
    weights = weights_by_dtype(parsed)
    graph = planning_graph(parsed)
    macs = macs_by_op(parsed)
    # The dtype holding most weight bytes, biases (int32/int64) aside.
    precision = next((d for d in weights if d not in ("int32", "int64")), next(iter(weights), "unknown"))
    if precision.startswith("float"):
        graph.notes.append(f"{precision} weights: the int8 peak of a target does not bound this model's time")
    dynamic = any(n.startswith("dynamic") for n in graph.notes)
    arena = None if dynamic else greedy_arena(graph)
    tflm_figures = None
    if tflm:
        try:
            tflm_figures = micro.tflm_arena(parsed.path, (arena or 0) + len(parsed.data))
        except ModelFileError as exc:
            graph.notes.append(exc.message)
    return Footprint(
        path=parsed.path, precision=precision,
        weights_bytes=sum(weights.values()), weights_bytes_by_dtype=weights,
        macs=sum(macs.values()), macs_by_op=macs,
        activation_lower_bound_bytes=None if dynamic else activation_lower_bound(graph),
        arena_estimate_bytes=arena,
        notes=tuple(graph.notes),
        tflm_activation_bytes=tflm_figures.head if tflm_figures else None,
        tflm_arena_bytes=tflm_figures.total if tflm_figures else None,
    )


def kib(n: float | None) -> str:
    """Bytes as the cards print memory: KiB with two decimals (``-`` for a figure not computed).

    >>> kib(142872), kib(None)
    ('139.52 KiB', '-')
    """
    return "-" if n is None else f"{n / 1024:,.2f} KiB"


def weights_by_dtype(parsed: ParsedModel) -> dict[str, int]:
    """Bytes of every constant buffer a tensor references (once each), by the dtype of its first tensor."""
    model, seen, out = parsed.model, set(), Counter()
    for graph in model.subgraphs:
        for tensor in graph.tensors or []:
            held = constant_bytes(model.buffers, tensor)
            if not held or int(tensor.buffer) in seen:
                continue
            seen.add(int(tensor.buffer))
            out[parsed.dtype(tensor)] += held
    return dict(out.most_common())


def _dims(tensor: Any) -> list[int]:
    return [int(d) for d in tensor.shape] if tensor.shape is not None else []


def _op_macs(name: str, ins: list[Any], out: Any) -> int:
    """MACs of one op from its input tensors (None for an absent optional input) and first output."""
    o = math.prod(_dims(out))
    w = _dims(ins[1]) if len(ins) > 1 and ins[1] is not None else []
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D") and len(w) == 4:
        return o * w[1] * w[2] * (w[3] if name == "CONV_2D" else 1)
    if name == "CONV_3D" and len(w) == 5:
        return o * w[0] * w[1] * w[2] * w[3]
    if name == "FULLY_CONNECTED" and w:
        return o * w[-1]
    if name == "TRANSPOSE_CONV" and len(ins) > 2 and ins[2] is not None and len(w) == 4:
        return math.prod(_dims(ins[2])) * w[0] * w[1] * w[2]
    if name == "BATCH_MATMUL" and ins and ins[0] is not None and _dims(ins[0]):
        return o * _dims(ins[0])[-1]
    return 0


def macs_by_op(parsed: ParsedModel) -> dict[str, int]:
    """MACs of the main subgraph by op type, ops without MACs left out, largest first."""
    graph, out = parsed.graph, Counter()
    tensors = graph.tensors or []
    for op in graph.operators or []:
        if op.outputs is None or not len(op.outputs):
            continue
        ins = [tensors[int(i)] if int(i) >= 0 else None for i in (op.inputs if op.inputs is not None else ())]
        macs = _op_macs(parsed.op_name(op), ins, tensors[int(op.outputs[0])])
        if macs:
            out[parsed.op_name(op)] += macs
    return dict(out.most_common())


def planning_graph(parsed: ParsedModel) -> PlanningGraph:
    """The main subgraph as planning sees it, with notes on what the figures cannot cover."""
    g, model = parsed.graph, parsed.model
    tensors = g.tensors or []
    constant = {i for i, t in enumerate(tensors) if constant_bytes(model.buffers, t)}
    ops = [(parsed.op_name(op), [int(i) for i in (op.inputs if op.inputs is not None else ()) if int(i) >= 0],
            [int(i) for i in (op.outputs if op.outputs is not None else ())]) for op in g.operators or []]
    return PlanningGraph(ops, [_aligned(tensor_bytes(t)) for t in tensors], constant,
                         [int(i) for i in g.inputs], [int(i) for i in g.outputs], _notes(parsed))


def _notes(parsed: ParsedModel) -> list[str]:
    """Custom ops, dynamic shapes and control flow: what the figures of this file leave out."""
    notes, model, graph = [], parsed.model, parsed.graph
    custom = sorted({_text(model.operatorCodes[int(op.opcodeIndex)].customCode) for op in graph.operators or []
                     if parsed.op_name(op) == "CUSTOM"})
    if custom:
        notes.append(f"custom ops ({', '.join(custom)}): their MACs and scratch memory are not counted")
    # A -1 batch dimension is the converters' default; runtimes run the shape the file stores (batch 1).
    dynamic = [t for t in graph.tensors or [] if t.shapeSignature is not None
               and any(int(d) < 0 for d in t.shapeSignature[1:])]
    if dynamic:
        notes.append(f"dynamic shapes ({len(dynamic)} tensors have unknown dimensions): activation memory "
                     "depends on the input and is not estimated")
    if len(model.subgraphs) > 1:
        notes.append(f"{len(model.subgraphs) - 1} further subgraph(s) (control flow) are not planned")
    return notes


def _text(value: bytes | str | None) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "?")


def _aligned(size: int) -> int:
    return -(-size // ALIGNMENT) * ALIGNMENT


def lifetimes(graph: PlanningGraph) -> dict[int, tuple[int, int]]:
    """Activation tensor -> (first op that needs it, last op that needs it), as TFLM's allocator sees them.

    Graph inputs live from the first op, graph outputs to the last; constants are not activations.
    """
    last = max(len(graph.ops) - 1, 0)
    spans: dict[int, list[int]] = {i: [0, 0] for i in graph.inputs if i not in graph.constant}
    for i in graph.outputs:
        spans.setdefault(i, [last, last])[1] = last
    for index, (_, ins, outs) in enumerate(graph.ops):
        for t in outs:
            if t not in graph.constant:
                span = spans.setdefault(t, [index, index])
                span[0] = min(span[0], index)
        for t in ins:
            if t not in graph.constant:
                span = spans.setdefault(t, [0, index])
                span[1] = max(span[1], index)
    return {t: (a, b) for t, (a, b) in spans.items()}


def activation_lower_bound(graph: PlanningGraph) -> int:
    """Bytes any runtime that keeps whole tensors and runs the file's op order must hold at once.

    While op *i* runs, every other live tensor is held, and its inputs that die at *i* and its outputs
    may share memory (in-place element-wise ops; a convolution whose output overwrites input rows it no
    longer needs, as ST's tool does), but at the start all those inputs exist and at the end all outputs.

    One sweep over the ops: the bytes alive at each op come from a running sum of births and deaths, so
    the time is linear in the graph (a 40,000-op chain is planned in well under a second).
    """
    spans = lifetimes(graph)
    change = [0] * (len(graph.ops) + 2)
    for t, (first, last) in spans.items():
        change[first] += graph.sizes[t]
        change[last + 1] -= graph.sizes[t]
    outputs = set(graph.outputs)
    best = alive = 0
    for index, (_, ins, outs) in enumerate(graph.ops):
        alive += change[index]
        dying = {t for t in ins if t in spans and spans[t][0] <= index == spans[t][1] and t not in outputs}
        made = {t for t in outs if t in spans and spans[t][0] <= index <= spans[t][1]}
        shared = sum(graph.sizes[t] for t in dying | made)
        held = alive - shared + max(sum(graph.sizes[t] for t in dying), sum(graph.sizes[t] for t in made))
        best = max(best, held)
    return best


def greedy_plan(graph: PlanningGraph) -> dict[int, int]:
    """Tensor -> arena offset, greedy by size over the lifetimes (TFLM's GreedyMemoryPlanner).

    Largest tensor first (ties: the earlier-born first); each goes to the lowest offset where it overlaps
    no already placed tensor that is alive at the same time. Sizes are already 16-byte aligned.

    The placed tensors are found by op (``alive_at``), so a tensor only looks at those alive during its own
    lifetime: time grows with the graph's lifetimes, not with the square of its tensor count.
    """
    spans = lifetimes(graph)
    alive_at: list[list[int]] = [[] for _ in range(len(graph.ops) + 1)]  # op -> placed tensors alive there
    offsets: dict[int, int] = {}
    for t in sorted(spans, key=lambda t: (-graph.sizes[t], spans[t][0], t)):
        size, (first, last) = graph.sizes[t], spans[t]
        neighbours = {p for index in range(first, last + 1) for p in alive_at[index]}
        offset = 0
        for p_offset, p_size in sorted((offsets[p], graph.sizes[p]) for p in neighbours):
            if offset + size <= p_offset:
                break
            offset = max(offset, p_offset + p_size)
        offsets[t] = offset
        for index in range(first, last + 1):
            alive_at[index].append(t)
    return offsets


def greedy_arena(graph: PlanningGraph) -> int:
    """Arena bytes of the greedy plan: the end of its highest tensor."""
    return max((offset + graph.sizes[t] for t, offset in greedy_plan(graph).items()), default=0)
