"""A download in progress: the bytes a source delivered so far, counted and hashed as they arrive.

It lives in the cache's ``partial/`` folder (see ``zoo.cache``), so an interrupted download is resumed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Protocol

from zoo.errors import IntegrityError
from zoo.files import CHUNK

if TYPE_CHECKING:
    from zoo.registry import Artifact


class ProgressBar(Protocol):
    """What the cache does with a bar: a tqdm bar fits."""

    def update(self, n: int) -> object: ...
    def reset(self, total: int | None = None) -> object: ...
    def close(self) -> object: ...


Progress = Callable[..., ProgressBar]
"""Makes a bar when a download starts, called as ``progress(total=, initial=, desc=)``: a tqdm class fits."""


class PartialFile:
    """A download in progress. Bytes are counted and hashed as they are written, in the same pass.

    Sources call ``write``; an HTTP source that asked for a range and got the whole file calls ``restart``.
    Writing more than the expected size stops the download at once.
    """

    def __init__(self, path: Path, artifact: Artifact, *, progress: Progress | None = None) -> None:
        self.path = path
        self.artifact = artifact
        self._digest = hashlib.sha256()
        self.offset = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: BinaryIO = open(path, "a+b")
        self._fh.seek(0)
        if os.fstat(self._fh.fileno()).st_size > artifact.size:
            self._fh.truncate(0)
        while chunk := self._fh.read(CHUNK):
            self._digest.update(chunk)
            self.offset += len(chunk)
        self.resumed_from = self.offset
        self._bar = progress(total=artifact.size, initial=self.offset, desc=artifact.file) if progress else None

    def restart(self) -> None:
        """Drop what was written so far (the server ignored our Range request, or old bytes were wrong)."""
        self._fh.seek(0)
        self._fh.truncate(0)
        self._digest = hashlib.sha256()
        if self._bar is not None:
            self._bar.reset(total=self.artifact.size)
        self.offset = self.resumed_from = 0

    def expect_remaining(self, length: int | None) -> None:
        """Fail before downloading when the announced length cannot add up to the expected size."""
        if length is not None and self.offset + length != self.artifact.size:
            raise IntegrityError(f"the source announces {self.offset + length} bytes, expected {self.artifact.size}")

    def write(self, chunk: bytes) -> None:
        if self.offset + len(chunk) > self.artifact.size:
            raise IntegrityError(f"the source sent more than the expected {self.artifact.size} bytes")
        self._fh.write(chunk)
        self._digest.update(chunk)
        self.offset += len(chunk)
        if self._bar is not None:
            self._bar.update(len(chunk))

    def check(self) -> None:
        """Raise ``IntegrityError`` naming the expected and actual size or sha256."""
        art = self.artifact
        if self.offset != art.size:
            raise IntegrityError(f"got {self.offset} bytes, expected {art.size} (truncated)")
        actual = self._digest.hexdigest()
        if actual != art.sha256:
            raise IntegrityError(f"sha256 mismatch: expected {art.sha256}, got {actual}")

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        if self._bar is not None:
            self._bar.close()
            self._bar = None
