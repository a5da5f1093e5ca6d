"""A large artifact in byte ranges over parallel connections, hashed in order as it lands.

Upstream hosts (Git LFS media, CDNs, hubs) cap each connection and answer each request after a round trip,
so one stream is far below what the link carries. When a server honours ``Range`` (it answers the first
request, for the first segment only, with 206), later segments go to more connections: each worker claims
the next segment nobody holds and writes it to ``partial/<sha256>.ranges/<start>-<end>``, resuming its own
range on a cut body as a single download does (each range is retried alone). The calling thread only ever
writes the partial file in order: it downloads the segment at its end itself when no worker holds it,
else waits for the worker and appends that segment's file, so the one sha256 sees every byte in order
and the partial file stays a plain prefix that a later run resumes. A segment a worker could not get is
downloaded by the calling thread. A server that answers 200 instead gets one connection for the whole body.

How many connections a run opens at once is ``Settings.http_connections`` (``--connections``,
``ZOO_HTTP_CONNECTIONS``), shared by every download of the process (``connection_slots``): several artifacts
at once take one each, and a lone large artifact gets the rest for its ranges.

>>> [(a >> 20, b >> 20) for a, b in segment_bounds(100 << 20, 4)]
[(0, 25), (25, 50), (50, 75), (75, 100)]
>>> len(segment_bounds(5 << 20, 4))  # never below SEGMENT_MIN: a round trip per 4 MiB at most
2
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.core.errors import FileAccessError, IntegrityError
from zoo.core.files import describe

if TYPE_CHECKING:
    from zoo.artifacts.partial import PartialFile

SEGMENT_MIN = 4 << 20  # below this a range costs more in round trips than a second connection brings
_MIB = 1 << 20
_slots: dict[int, threading.BoundedSemaphore] = {}
Transfer = Callable[[Any, Any, "int | None", "Callable[[int], None] | None"], int]
_slots_lock = threading.Lock()


def segment_bounds(size: int, connections: int) -> list[tuple[int, int]]:
    """``[start, end)`` of each segment: one per connection, whole MiB, at least ``SEGMENT_MIN`` bytes.

    Bounds depend only on the size and the connection count, so a resumed run finds its segment files.
    """
    step = max(SEGMENT_MIN, -(-size // max(connections, 1) // _MIB) * _MIB)
    return [(start, min(start + step, size)) for start in range(0, size, step)]


def connection_slots(connections: int) -> threading.BoundedSemaphore:
    """The process-wide permits for ``connections`` concurrent HTTP connections."""
    with _slots_lock:
        return _slots.setdefault(connections, threading.BoundedSemaphore(connections))


@contextlib.contextmanager
def slot(connections: int) -> Iterator[None]:
    """Hold one of the process's ``connections`` permits while the block runs (waiting for one)."""
    permits = connection_slots(connections)
    permits.acquire()
    try:
        yield
    finally:
        permits.release()


class RangesRefused(Exception):
    """The server answered a range request with the whole file: this segment cannot be fetched on its own."""


class Segment:
    """Bytes ``[start, end)`` of the artifact in a file of their own; what it holds survives for a resume."""

    def __init__(self, folder: Path, start: int, end: int, advance: Callable[[int], None]) -> None:
        self.start, self.end, self.path, self._advance = start, end, folder / f"{start}-{end}", advance
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a+b", buffering=0)
            held = self._fh.seek(0, 2)
            if held > end - start:
                self._fh.truncate(0)
                held = 0
        except OSError as exc:
            raise FileAccessError(f"cannot write: {describe(exc)}", path=self.path) from None
        self.position = start + held
        advance(held)  # bytes an earlier run fetched count as they do for the partial file

    @property
    def complete(self) -> bool:
        return self.position == self.end

    def restart(self) -> None:
        raise RangesRefused

    def expect_remaining(self, length: int | None) -> None:
        if length is not None and self.position + length != self.end:
            raise RangesRefused

    def pour(self, readinto: Callable[[memoryview], int]) -> None:
        from zoo.artifacts.partial import BUFFER

        buffer = bytearray(BUFFER)
        while self.position < self.end:
            n = readinto(memoryview(buffer)[: min(BUFFER, self.end - self.position)])
            if not n:
                return
            view = memoryview(buffer)[:n]
            try:
                while view:  # an unbuffered write may be short
                    view = view[self._fh.write(view):]
            except OSError as exc:
                raise FileAccessError(f"cannot write the download: {describe(exc)}", path=self.path) from None
            self.position += n
            self._advance(n)

    def close(self) -> None:
        self._fh.close()


def download_in_ranges(transfer: Transfer, new_session: Callable[[], Any], session: Any, part: PartialFile,
                       connections: int) -> None:
    """Fill ``part`` to its artifact's size. ``transfer(session, sink, end, answered)`` fetches
    ``[sink.position, end)`` into a sink, calling ``answered(status)`` once the headers are in, before the body:
    the first segment's answer (206) starts the workers, so every connection streams at once."""
    size = part.artifact.size
    segments = segment_bounds(size, connections)
    first = next(end for start, end in segments if start <= part.offset < end)
    ranges = _Ranges(transfer, new_session, part, [s for s in segments if s[0] >= first], connections)
    try:
        if transfer(session, part, first, ranges.answered) != 206 or not ranges.started:
            if part.offset < size:  # a server that sent less than the whole file: the rest, one stream
                transfer(session, part, None, None)
            return
        ranges.append_in_order(session)
    finally:
        ranges.stop()


class _Ranges:
    """The segments after the first: claimed by workers in order, appended to the partial file in order."""

    def __init__(self, transfer: Transfer, new_session: Callable[[], Any], part: PartialFile,
                 segments: list[tuple[int, int]], connections: int) -> None:
        self.transfer, self.new_session, self.part, self.connections = transfer, new_session, part, connections
        self.folder = part.ranges_folder
        self.state = {start: "todo" for start, _ in segments}
        self.bounds = dict(segments)
        self.done = threading.Condition()
        self.workers: list[threading.Thread] = []
        self.started = False

    def answered(self, status: int) -> None:
        """The first segment's answer: with 206 the server honours ranges, so the workers start now."""
        if status != 206 or self.started or not self.state:
            return
        self.started = True
        wanted = {f"{a}-{b}" for a, b in self.bounds.items()}
        if self.folder.is_dir():  # segments of another plan (another connection count) are of no use
            for stale in self.folder.iterdir():
                if stale.name not in wanted:
                    stale.unlink(missing_ok=True)
        permits = connection_slots(self.connections)
        for _ in range(len(self.state)):
            if not permits.acquire(blocking=False):  # every connection is busy: the calling thread goes on alone
                break
            worker = threading.Thread(target=self._work, args=(permits,), daemon=True)
            worker.start()
            self.workers.append(worker)

    def stop(self) -> None:
        """Let no worker claim more, wait for those running; the segment files go once the download is whole."""
        with self.done:
            for start, state in self.state.items():
                if state == "todo":
                    self.state[start] = "abandoned"
        for worker in self.workers:
            worker.join()
        if self.part.offset == self.part.artifact.size:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _claim(self) -> int | None:
        with self.done:
            start = next((s for s, state in self.state.items() if state == "todo"), None)
            if start is not None:
                self.state[start] = "running"
            return start

    def _work(self, permits: threading.BoundedSemaphore) -> None:
        try:
            with self.new_session() as session:
                while (start := self._claim()) is not None:
                    outcome = "failed"
                    try:
                        segment = Segment(self.folder, start, self.bounds[start], self.part.advance)
                        try:
                            if not segment.complete:
                                self.transfer(session, segment, segment.end, None)
                            outcome = "done" if segment.complete else "failed"
                        finally:
                            segment.close()
                    except Exception:  # noqa: BLE001 - the calling thread fetches a failed segment itself
                        outcome = "failed"
                    with self.done:
                        self.state[start] = outcome
                        self.done.notify_all()
        finally:
            permits.release()

    def append_in_order(self, session: Any) -> None:
        part, size = self.part, self.part.artifact.size
        while part.offset < size:
            start = max((s for s in self.bounds if s <= part.offset), default=None)
            if start is None:  # still inside the first segment (its body was cut short): the rest of it, here
                self.transfer(session, part, min(self.bounds), None)
                continue
            with self.done:
                while self.state[start] == "running":
                    self.done.wait()
                state = self.state[start]
                if state == "todo":
                    self.state[start] = "ours"  # written straight into the partial file, by this thread
            if state == "done" and self._append(start):
                continue
            before = part.offset
            self.transfer(session, part, self.bounds[start], None)
            if part.offset == before:
                raise IntegrityError(f"the source sent no bytes from offset {before}")

    def _append(self, start: int) -> bool:
        """Pour a finished segment's file into the partial file from its current end; False if it is gone."""
        path = self.folder / f"{start}-{self.bounds[start]}"
        try:
            fh = open(path, "rb")
        except OSError:
            return False
        with fh:
            fh.seek(self.part.offset - start)
            self.part.pour(fh.readinto, counted=False)
        with contextlib.suppress(OSError):
            os.unlink(path)
        return True
