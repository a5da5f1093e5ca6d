"""The file layer under everything: hashing, atomic writes and copies, safe names.

Every module that hashes a file or replaces one goes through here, so the guarantees (never half written,
never outside its folder) are kept in one place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from zoo.errors import UsageError

CHUNK = 1 << 20


def safe_name(name: str, what: str = "file name") -> str:
    """Refuse a name that could point outside its folder (defence in depth on top of the schema)."""
    bad = (
        not name
        or name in (".", "..")
        or ".." in name
        or "/" in name
        or "\\" in name
        or "\0" in name
        or os.path.isabs(name)
        or (os.altsep is not None and os.altsep in name)
    )
    if bad:
        raise UsageError(f"unsafe {what} {name!r}: it must be a bare name without '..' or separators")
    return name


def sha256_file(path: Path) -> str:
    """Hash a file in chunks (cached files can be hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_atomic(src: Path, dest: Path) -> Path:
    """Copy ``src`` to ``dest`` through a temporary file in the same folder, so ``dest`` is never half written."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Replace ``path`` in one step (temp file in the same folder, then ``os.replace``): a reader or a crash
    never sees it half written. Text is written as UTF-8 bytes, newlines untouched."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
