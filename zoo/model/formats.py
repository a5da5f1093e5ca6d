"""Which model format a file holds, told from its first bytes, never from its name.

A pull request can name an ONNX file ``.tflite`` (or the reverse); every entry point that reads a model
(inspection, footprint, runtime, sandbox probe) asks here first and hands the file to that format's reader.
Only the first bytes are read and nothing heavy is imported, so asking costs a ``stat`` and one small read.

- TFLite: a FlatBuffer whose file identifier (bytes 4-8) is ``TFL3``.
- ONNX: a protobuf ``ModelProto``; a serialized message starts with the key of one of its fields, so the
  first key must be a ``ModelProto`` field number with that field's wire type (``ir_version`` = 1 as a
  varint for every file ``onnx`` writes). A file that only looks like one fails in ``onnx``'s parser, one line.

>>> sniff(b"\\x1c\\x00\\x00\\x00TFL3\\x00\\x00"), sniff(b"\\x08\\x08\\x12\\x07pytorch"), sniff(b"GIF89a")
('tflite', 'onnx', None)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from zoo.core.errors import FileAccessError, ModelFileError
from zoo.core.files import describe, open_regular

TFLITE = "tflite"
ONNX = "onnx"
FORMATS = (TFLITE, ONNX)
HEAD_BYTES = 16

# ModelProto field number -> protobuf wire type (0 varint, 2 length-delimited), from onnx/onnx.proto.
_MODEL_PROTO_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}


def _varint(data: bytes, pos: int) -> tuple[int, int] | None:
    """The varint at ``pos`` and the position after it; None when the bytes end inside it."""
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    return None


def sniff(head: bytes) -> str | None:
    """``tflite``, ``onnx`` or None for the first bytes of a file."""
    if len(head) >= 8 and head[4:8] == b"TFL3":
        return TFLITE
    key = _varint(head, 0)
    if key is None:
        return None
    field, wire = key[0] >> 3, key[0] & 7
    if _MODEL_PROTO_FIELDS.get(field) != wire:
        return None
    if field == 1:  # ir_version: 1 (2017) up to a few dozen
        version = _varint(head, key[1])
        return ONNX if version is not None and 1 <= version[0] < 1000 else None
    return ONNX


@contextlib.contextmanager
def read_errors(path: Path) -> Iterator[None]:
    """A model file that cannot be read (missing, special, unreadable) is one ``ModelFileError`` naming it."""
    try:
        yield
    except FileNotFoundError:
        raise ModelFileError("no such file", path=path) from None
    except FileAccessError as exc:
        raise ModelFileError(exc.message, path=path) from None
    except OSError as exc:
        raise ModelFileError(f"cannot read: {describe(exc)}", path=path) from None


def model_format(path: str | Path) -> str | None:
    """The format of the file at ``path`` (see ``sniff``); a missing or special file is a ``ModelFileError``."""
    path = Path(path)
    with read_errors(path), open_regular(path) as fh:
        head = fh.read(HEAD_BYTES)
    return sniff(head)


Parsed = TypeVar("Parsed")
READ_MEMO_MAX = 8  # verify reads one file for rules, footprint, each protocol: a few files at a time


def read_once(path: str | Path, memo: dict[tuple[str, int, int, int], Parsed],
              parse: Callable[[Path], Parsed]) -> Parsed:
    """``parse(path)``, remembered in ``memo`` while the file is unchanged (same size, mtime and inode): a reader
    parses and validates a file once per process. A missing or unreadable file is a one-line ``ModelFileError``."""
    path = Path(path)
    with read_errors(path):
        stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    parsed = memo.get(key)
    if parsed is None or getattr(parsed, "path", path) != path:
        parsed = parse(path)
        if len(memo) >= READ_MEMO_MAX:
            memo.pop(next(iter(memo)))
        memo[key] = parsed
    return parsed


def is_onnx(path: str | Path) -> bool:
    """True when ``path`` holds an ONNX model (by content)."""
    return model_format(path) == ONNX


def check_model_file(path: str | Path) -> None:
    """Read and validate ``path`` in its own format's reader: a ``ModelFileError`` (one line) for anything a
    runtime should not see. The callers that only need that (evaluation before it starts) call this."""
    if is_onnx(path):
        from zoo.model.onnx_reader import read_onnx

        read_onnx(path)
    else:
        from zoo.model.inspection import read_model

        read_model(path)
