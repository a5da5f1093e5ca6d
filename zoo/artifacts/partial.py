"""A download in progress: the bytes a source delivered so far, counted and hashed as they arrive.

It lives in the cache's ``partial/`` folder (see ``zoo.artifacts.cache``), so an interrupted download is resumed.
``pour`` is the fast path every source uses: large reads into reused buffers while a second thread hashes
and a third writes the previous ones, so the socket is read at wire speed (``benchmarks/bench_pull.py``).
"""

from __future__ import annotations

import hashlib
import queue
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from zoo.core.errors import FileAccessError, IntegrityError
from zoo.core.files import describe

if TYPE_CHECKING:
    from zoo.catalog.registry import Artifact

BUFFER = 1 << 20  # bytes per read: ~100 Python iterations per 100 MB, progress and resume points every MiB
DEPTH = 8  # buffers in flight between receiving, hashing and writing


class ProgressBar(Protocol):
    """What the cache does with a bar: a tqdm bar fits."""

    def update(self, n: int) -> object: ...
    def reset(self, total: int | None = None) -> object: ...
    def close(self) -> object: ...


Progress = Callable[..., ProgressBar]
"""Makes a bar when a download starts, called as ``progress(total=, initial=, desc=)``: a tqdm class fits."""


class PartialFile:
    """A download in progress. Bytes are counted and hashed exactly as they are written.

    Sources call ``pour`` (or ``write`` for a few bytes); an HTTP source that asked for a range and got the
    whole file calls ``restart``. More than the expected size stops the download at once.
    """

    def __init__(self, path: Path, artifact: Artifact, *, progress: Progress | None = None) -> None:
        self.path = path
        self.artifact = artifact
        self._digest = hashlib.sha256()
        self.offset = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(path, "a+b", buffering=0)
            if self._fh.seek(0, 2) > artifact.size:
                self._fh.truncate(0)
            self._fh.seek(0)
            while chunk := self._fh.read(BUFFER):
                self._digest.update(chunk)
                self.offset += len(chunk)
        except OSError as exc:
            raise FileAccessError(f"cannot write: {describe(exc)}", path=path) from None
        self.resumed_from = self.offset
        self._bar = progress(total=artifact.size, initial=self.offset, desc=artifact.file) if progress else None
        self._bar_lock = threading.Lock()

    @property
    def position(self) -> int:
        """Where the next byte goes in the artifact (the same as ``offset``: the file is always a prefix)."""
        return self.offset

    def advance(self, n: int) -> None:
        """Count ``n`` bytes on the progress bar (from any thread: byte ranges arrive on several connections)."""
        if self._bar is not None:
            with self._bar_lock:
                self._bar.update(n)

    def restart(self) -> None:
        """Drop what was written so far (the server ignored our Range request, or old bytes were wrong), byte
        ranges fetched ahead included."""
        shutil.rmtree(self.ranges_folder, ignore_errors=True)
        self._fh.truncate(0)
        self._digest = hashlib.sha256()
        if self._bar is not None:
            self._bar.reset(total=self.artifact.size)
        self.offset = self.resumed_from = 0

    def expect_remaining(self, length: int | None) -> None:
        """Fail before downloading when the announced length cannot add up to the expected size."""
        if length is not None and self.offset + length != self.artifact.size:
            raise IntegrityError(f"the source announces {self.offset + length} bytes, expected {self.artifact.size}",
                                 expected_size=self.artifact.size, actual_size=self.offset + length)

    def write(self, chunk: bytes) -> None:
        """Append a few bytes in the caller's thread (``pour`` is the fast path for a whole body)."""
        self._room(len(chunk))
        self._append(memoryview(chunk))
        self.advance(len(chunk))

    def pour(self, readinto: Callable[[memoryview], int], *, counted: bool = True) -> None:
        """Read with ``readinto`` until it returns 0, into ``DEPTH`` reused buffers of ``BUFFER`` bytes.

        Receiving stays in the calling thread; hashing and writing run on two more threads, each taking
        buffers in order, so the three overlap (hashlib, file writes and socket reads release the GIL). An
        error from ``readinto`` propagates after every byte already received is hashed and written, so the
        caller can resume from ``offset``; a write error (disk full) stops everything as a FileAccessError.
        ``counted=False`` leaves the progress bar alone (a byte range already counted as it arrived).
        """
        free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(DEPTH):
            free.put(bytearray(BUFFER))
        to_hash: queue.SimpleQueue = queue.SimpleQueue()
        to_write: queue.SimpleQueue = queue.SimpleQueue()
        failed: list[BaseException] = []
        stages = [threading.Thread(target=self._hash_stage, args=(to_hash, to_write), daemon=True),
                  threading.Thread(target=self._write_stage, args=(to_write, free, failed), daemon=True)]
        for stage in stages:
            stage.start()
        received = self.offset
        try:
            while not failed:
                buffer = free.get()
                # One byte more than still expected: a longer body shows at once, an endless one never runs on.
                n = readinto(memoryview(buffer)[: min(BUFFER, self.artifact.size - received + 1)])
                if not n:
                    break
                if received + n > self.artifact.size:
                    raise IntegrityError(f"the source sent more than the expected {self.artifact.size} bytes")
                received += n
                to_hash.put((buffer, n))
                if counted:
                    self.advance(n)
        finally:
            to_hash.put(None)
            for stage in stages:
                stage.join()
        if failed:
            raise failed[0]

    def _hash_stage(self, todo: queue.SimpleQueue, then: queue.SimpleQueue) -> None:
        while (item := todo.get()) is not None:
            buffer, n = item
            self._digest.update(memoryview(buffer)[:n])
            then.put(item)
        then.put(None)

    def _write_stage(self, todo: queue.SimpleQueue, free: queue.SimpleQueue, failed: list[BaseException]) -> None:
        while (item := todo.get()) is not None:
            buffer, n = item
            if not failed:
                try:
                    self._write_all(memoryview(buffer)[:n])
                except FileAccessError as exc:
                    failed.append(exc)
            free.put(buffer)
        free.put(bytearray(0))  # wakes a reader waiting for a buffer after a failure

    def _room(self, n: int) -> None:
        if self.offset + n > self.artifact.size:
            raise IntegrityError(f"the source sent more than the expected {self.artifact.size} bytes")

    def _append(self, view: memoryview) -> None:
        self._digest.update(view)
        self._write_all(view)

    def _write_all(self, view: memoryview) -> None:
        """Write every byte (an unbuffered write may be short) and count it; OS errors are one line."""
        try:
            while view:
                written = self._fh.write(view)
                view = view[written:]
                self.offset += written
        except OSError as exc:
            raise FileAccessError(f"cannot write the download: {describe(exc)}", path=self.path) from None

    def check(self) -> None:
        """Raise ``IntegrityError`` naming the expected and actual size or sha256."""
        art = self.artifact
        if self.offset != art.size:
            raise IntegrityError(f"got {self.offset} bytes, expected {art.size} (truncated)",
                                 expected_size=art.size, actual_size=self.offset)
        actual = self._digest.hexdigest()
        if actual != art.sha256:
            raise IntegrityError(f"sha256 mismatch: expected {art.sha256}, got {actual}",
                                 expected_sha256=art.sha256, actual_sha256=actual, expected_size=art.size,
                                 actual_size=self.offset)

    def discard(self) -> None:
        """Remove what this download holds: the partial file and any byte ranges waiting beside it."""
        self.close()
        self.path.unlink(missing_ok=True)
        shutil.rmtree(self.ranges_folder, ignore_errors=True)

    @property
    def ranges_folder(self) -> Path:
        """Where byte ranges fetched ahead of the partial file wait (``zoo.artifacts.ranges``)."""
        return self.path.with_suffix(".ranges")

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        if self._bar is not None:
            self._bar.close()
            self._bar = None
