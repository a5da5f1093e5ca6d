"""A .tflite flatbuffer read through bounds-checked accessors into light records, without unpacking it.

The schema's object API (``ModelT`` in ai-edge-litert's ``schema_py_generated``) copies every table, vector
and buffer into Python objects: ~0.15 s for osnet_a025 and the flatbuffers and numpy imports on top, more
than the interpreter takes to load the file. Reading only the fields zoo uses, each through one
``struct.unpack_from`` at a checked position, costs a few milliseconds; constant buffers stay ``memoryview``
slices of the file. The records keep the schema's field names (``opcodeIndex``, ``quantizedDimension``,
``shapeSignature``, ...) so the code above reads them as it would read ``ModelT``; absent fields take the
schema's defaults, absent vectors are ``None``.

Every position is checked before it is read: an offset or length pointing outside the file raises
``struct.error`` (never reads elsewhere, never loops over a length the file cannot hold), which
``zoo.model.inspection`` turns into one line.

>>> from zoo.core.resources import data_dir
>>> model = read_tflite((data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite").read_bytes())
>>> graph = model.subgraphs[0]
>>> graph.tensors[graph.inputs[0]].shape, model.version
((1, 128, 64, 3), 3)
"""

from __future__ import annotations

import struct
from typing import Any

IDENTIFIER = b"TFL3"
_FORMATS = {"b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "q": 8, "Q": 8, "f": 4}
_STRUCTS = {code: struct.Struct("<" + code) for code in _FORMATS}
# Options fields the validation reads (strides, dilations, pool windows, subgraph indices): option type ->
# (field name, vtable offset, struct code, schema default). From schema_py_generated's accessors.
_CHECKED_OPTIONS: dict[int, tuple[tuple[str, int, str, int], ...]] = {
    1: (("strideW", 6, "i", 0), ("strideH", 8, "i", 0), ("dilationWFactor", 12, "i", 1),
        ("dilationHFactor", 14, "i", 1)),  # Conv2DOptions
    2: (("strideW", 6, "i", 0), ("strideH", 8, "i", 0), ("dilationWFactor", 14, "i", 1),
        ("dilationHFactor", 16, "i", 1)),  # DepthwiseConv2DOptions
    5: (("strideW", 6, "i", 0), ("strideH", 8, "i", 0), ("filterWidth", 10, "i", 0),
        ("filterHeight", 12, "i", 0)),  # Pool2DOptions
    16: (("subgraph", 4, "I", 0),),  # CallOptions
    49: (("strideW", 6, "i", 0), ("strideH", 8, "i", 0)),  # TransposeConvOptions
    92: (("thenSubgraphIndex", 4, "i", 0), ("elseSubgraphIndex", 6, "i", 0)),  # IfOptions
    93: (("condSubgraphIndex", 4, "i", 0), ("bodySubgraphIndex", 6, "i", 0)),  # WhileOptions
    103: (("initSubgraphIndex", 4, "i", 0),),  # CallOnceOptions
    106: (("strideD", 6, "i", 0), ("strideW", 8, "i", 0), ("strideH", 10, "i", 0), ("dilationDFactor", 14, "i", 1),
          ("dilationWFactor", 16, "i", 1), ("dilationHFactor", 18, "i", 1)),  # Conv3DOptions
}


class Record:
    """Fields of one table, as attributes (``vars(record)`` lists them, as for the schema's ``...T`` classes)."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        return f"Record({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class _Reader:
    """Bounds-checked little-endian reads of one flatbuffer; each table's vtable is read once, whole."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.view = memoryview(data)
        self.size = len(data)
        self._vtables: dict[int, tuple[int, ...]] = {}

    def _at(self, pos: int, width: int) -> int:
        if not 0 <= pos <= self.size - width:
            raise struct.error(f"offset {pos} points past the end of the file")
        return pos

    def scalar(self, code: str, pos: int) -> Any:
        packed = _STRUCTS[code]
        return packed.unpack_from(self.data, self._at(pos, packed.size))[0]

    def indirect(self, pos: int) -> int:
        """The position an unsigned offset stored at ``pos`` points to."""
        return pos + self.scalar("I", pos)

    def _slots(self, table: int) -> tuple[int, ...]:
        """The vtable of ``table``: its size, the table's size, then each field's offset (0: absent)."""
        slots = self._vtables.get(table)
        if slots is None:
            vtable = table - self.scalar("i", table)
            count = self.scalar("H", vtable) // 2
            slots = self._vtables[table] = struct.unpack_from(f"<{count}H", self.data, self._at(vtable, 2 * count))
        return slots

    def field(self, table: int, offset: int) -> int:
        """Position of the field at vtable ``offset`` of ``table``, 0 when absent."""
        slots = self._slots(table)
        rel = slots[offset // 2] if offset // 2 < len(slots) else 0
        return table + rel if rel else 0

    def check_table(self, table: int) -> None:
        """The vtable and inline fields of ``table`` lie inside the file (for tables whose fields are not read)."""
        slots = self._slots(table)
        self._at(table, slots[1] if len(slots) > 1 else 0)

    def value(self, table: int, offset: int, code: str, default: Any = 0) -> Any:
        pos = self.field(table, offset)
        return self.scalar(code, pos) if pos else default

    def table(self, table: int, offset: int) -> int:
        pos = self.field(table, offset)
        return self.indirect(pos) if pos else 0

    def _vector(self, table: int, offset: int, width: int) -> tuple[int, int] | None:
        pos = self.field(table, offset)
        if not pos:
            return None
        start = self.indirect(pos)
        count = self.scalar("I", start)
        self._at(start + 4, count * width)
        return start + 4, count

    def numbers(self, table: int, offset: int, code: str) -> tuple[Any, ...] | None:
        vector = self._vector(table, offset, _FORMATS[code])
        return None if vector is None else struct.unpack_from(f"<{vector[1]}{code}", self.data, vector[0])

    def raw(self, table: int, offset: int) -> memoryview | None:
        vector = self._vector(table, offset, 1)
        return None if vector is None else self.view[vector[0]:vector[0] + vector[1]]

    def string(self, table: int, offset: int) -> bytes | None:
        raw = self.raw(table, offset)
        return None if raw is None else bytes(raw)

    def tables(self, table: int, offset: int) -> list[int] | None:
        vector = self._vector(table, offset, 4)
        if vector is None:
            return None
        start, count = vector
        return [start + 4 * i + rel for i, rel in enumerate(struct.unpack_from(f"<{count}I", self.data, start))]


def read_tflite(data: bytes) -> Record:
    """The model table of ``data`` (a .tflite file) as records; ``struct.error`` for an out-of-bounds offset."""
    r = _Reader(data)
    root = r.indirect(0)
    return Record(
        version=r.value(root, 4, "I"),
        operatorCodes=_list(r, root, 6, _operator_code),
        subgraphs=_list(r, root, 8, _subgraph),
        description=r.string(root, 10),
        buffers=_list(r, root, 12, _buffer),
        signatureDefs=_list(r, root, 18, lambda r, t: Record(subgraphIndex=r.value(t, 12, "I"))),
    )


def _list(r: _Reader, table: int, offset: int, read: Any) -> list[Any] | None:
    positions = r.tables(table, offset)
    return None if positions is None else [read(r, t) for t in positions]


def _operator_code(r: _Reader, t: int) -> Record:
    return Record(deprecatedBuiltinCode=r.value(t, 4, "b"), customCode=r.string(t, 6), version=r.value(t, 8, "i", 1),
                  builtinCode=r.value(t, 10, "i"))


def _buffer(r: _Reader, t: int) -> Record:
    """A buffer's bytes, inside the flatbuffer or (models over 2 GB) at ``offset`` in the file, which the
    validation holds within the file."""
    offset, size = r.value(t, 6, "Q"), r.value(t, 8, "Q")
    return Record(data=r.view[offset:offset + size] if offset else r.raw(t, 4), offset=offset, size=size)


def _subgraph(r: _Reader, t: int) -> Record:
    return Record(tensors=_list(r, t, 4, _tensor), inputs=r.numbers(t, 6, "i"), outputs=r.numbers(t, 8, "i"),
                  operators=_list(r, t, 10, _operator), name=r.string(t, 12))


def _tensor(r: _Reader, t: int) -> Record:
    q = r.table(t, 12)
    quantization = None if not q else Record(scale=r.numbers(q, 8, "f"), zeroPoint=r.numbers(q, 10, "q"),
                                             quantizedDimension=r.value(q, 16, "i"))
    return Record(shape=r.numbers(t, 4, "i"), type=r.value(t, 6, "b"), buffer=r.value(t, 8, "I"),
                  name=r.string(t, 10), quantization=quantization, sparsity=r.table(t, 16) or None,
                  shapeSignature=r.numbers(t, 18, "i"))


def _operator(r: _Reader, t: int) -> Record:
    kind = r.value(t, 10, "B")
    options = r.table(t, 12)
    return Record(opcodeIndex=r.value(t, 4, "I"), inputs=r.numbers(t, 6, "i"), outputs=r.numbers(t, 8, "i"),
                  builtinOptionsType=kind, builtinOptions=_options(r, kind, options) if options else None,
                  intermediates=r.numbers(t, 20, "i"))


def _options(r: _Reader, kind: int, table: int) -> Record:
    """The options fields the validation checks (others are not read); empty for option types it does not check."""
    r.check_table(table)
    return Record(**{name: r.value(table, offset, code, default)
                     for name, offset, code, default in _CHECKED_OPTIONS.get(kind, ())})
