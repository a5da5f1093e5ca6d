"""Where verified bytes live: a store addressed by sha256, with a browsable view by model id.

Layout under the cache root (``ZOO_CACHE_DIR``, else the platform's user cache dir)::

    blobs/sha256/<aa>/<sha256>        verified bytes, only ever put there by os.replace after a match
    blobs/sha256/<aa>/<sha256>.json   hash record: size and mtime at verification, the names it serves
    models/<model id>/<file>          symlink to the blob (else a hardlink, else a copy)
    partial/<sha256>.part             a download in progress; an interrupted one is resumed
    partial/<sha256>.ranges/<a>-<b>   byte ranges fetched ahead of it on other connections (zoo.artifacts.ranges)
    locks/<sha256>.lock               one writer per artifact across processes
    verdicts/registry-<sha256>.ok     registries that already passed their schema (see zoo.catalog.registry)

A blob of up to ``REHASH_BELOW`` bytes (every re-ID artifact) is re-hashed each time it is used, so a byte
flipped in place is never handed out, even with its size and mtime kept (about 1 ms per MB). A larger
blob costs a ``stat`` and a small JSON read: the record says which size and mtime it had when its sha256
was last checked, and a blob whose size or mtime moved is re-hashed. ``zoo cache verify`` re-hashes
everything. Sources are recorded without credentials.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import stat
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zoo.core.errors import FileAccessError, IntegrityError, SourceUnavailableError, UsageError
from zoo.core.files import link_atomic, move_into_place, os_errors, safe_name, sha256_file, write_atomic
from zoo.artifacts.partial import PartialFile, Progress
from zoo.artifacts.sources import redact

if TYPE_CHECKING:
    from zoo.catalog.registry import Artifact
    from zoo.artifacts.sources import Source

REHASH_BELOW = 32 << 20  # re-hashed on every use up to this size: ~20 ms at 1.6 GB/s
LOCK_TIMEOUT = 600.0  # seconds a pull waits for another one's download of the same artifact (ZOO_LOCK_TIMEOUT)
log = logging.getLogger("zoo.artifacts.cache")
# Entries this process is using (sha256 -> descriptor holding a shared lock): another process's `zoo cache clean`
# leaves them alone until this process ends or lets them go (Cache.release).
_HELD: dict[tuple[str, str], int] = {}
_BLOB = re.compile(r"[0-9a-f]{64}")

@dataclass(frozen=True)
class Entry:
    """One cached blob and the ``model_id/file`` names that point at it."""

    sha256: str
    size: int
    path: Path
    names: tuple[str, ...]
    source: str | None


class Cache:
    """The cache root. Cheap to construct; creates folders only when it writes."""

    def __init__(self, root: Path, *, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.root = Path(root)
        self.lock_timeout = lock_timeout

    def blob(self, sha256: str) -> Path:
        return self.root / "blobs" / "sha256" / sha256[:2] / sha256

    def view(self, artifact: Artifact) -> Path:
        folder = self.root / "models" / safe_name(artifact.model_id, "model id")
        folder = folder / safe_name(artifact.version, "version") if artifact.versioned else folder
        return folder / safe_name(artifact.file)

    @contextlib.contextmanager
    def lock(self, sha256: str, *, wait: bool = True) -> Iterator[bool]:
        """Held while one process downloads an artifact; the others wait, then find it cached.

        With ``wait=False`` it yields False at once when another process holds it or uses the entry
        (``clean`` then leaves that artifact alone instead of pulling a download or a file in use from
        under it). The lock is the kernel's ``flock`` on ``locks/<sha256>.lock``: a waiter wakes the moment
        it is released, and a killed holder releases it with its last descriptor. A waiter says whom it
        waits for and gives up after ``lock_timeout`` seconds (a holder stopped with SIGSTOP never ends).
        """
        self.release(sha256)  # this process's own shared hold would deadlock its exclusive lock
        fd, path = self._lock_fd(sha256)
        try:
            held = _flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if not held and wait:
                held = self._wait(fd, path)
                if not held:  # the descriptor now belongs to the waiting thread, which closes it
                    fd = -1
                    raise self._gave_up(path)
            if held:
                _note_holder(fd)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            raise
        try:
            yield held
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def hold(self, sha256: str) -> None:
        """Keep the entry from ``clean`` in other processes while this one uses it (a shared lock, kept until
        ``release`` or the process ends); waits, with the lock's bound, while another process downloads it."""
        key = (str(self.root), sha256)
        if key in _HELD:
            return
        fd, path = self._lock_fd(sha256)
        if not _flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB) and not self._wait(fd, path, fcntl.LOCK_SH):
            raise self._gave_up(path)  # the waiting thread owns fd now
        _HELD[key] = fd

    def _gave_up(self, path: Path) -> SourceUnavailableError:
        return SourceUnavailableError(f"held by {_holder(path)} for over {self.lock_timeout:g} s; gave up waiting "
                                      "(end that process, or wait longer: --lock-timeout SECONDS, ZOO_LOCK_TIMEOUT)",
                                      path=path)

    def release(self, sha256: str) -> None:
        """Stop holding an entry ``hold`` kept."""
        fd = _HELD.pop((str(self.root), sha256), None)
        if fd is not None:
            os.close(fd)

    def _lock_fd(self, sha256: str) -> tuple[int, Path]:
        """A descriptor on the entry's lock file, which must be a regular file: a FIFO planted there would hang
        the open, a symlink would lock (and note the holder in) someone else's file."""
        path = self.root / "locks" / f"{sha256}.lock"
        flags = os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        with os_errors(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_RDWR | flags, 0o644)
            except PermissionError:  # a shared cache's lock file made by another user: read-only still locks
                fd = os.open(path, os.O_RDONLY | flags, 0o644)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise FileAccessError("not a regular file; a lock must be one (remove it)", path=path)
        return fd, path

    def _wait(self, fd: int, path: Path, how: int = fcntl.LOCK_EX) -> bool:
        """Wait for the lock, at most ``lock_timeout`` seconds, saying whom for. The blocking ``flock`` runs in
        a thread so that the waiter wakes the moment the holder lets go; on timeout that thread keeps ``fd``
        and closes it whenever it gets the lock."""
        log.warning("waiting for %s, which holds %s (at most %g s: --lock-timeout, ZOO_LOCK_TIMEOUT)",
                    _holder(path), path, self.lock_timeout)
        guard, done, state = threading.Lock(), threading.Event(), {"abandoned": False}

        def take() -> None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, how)
            with guard:
                if state["abandoned"]:
                    os.close(fd)
                else:
                    done.set()

        threading.Thread(target=take, name="zoo-lock-wait", daemon=True).start()
        if done.wait(self.lock_timeout):
            return True
        with guard:
            if done.is_set():
                return True
            state["abandoned"] = True
        return False

    def partial(self, artifact: Artifact, *, progress: Progress | None = None) -> PartialFile:
        """The download in progress for ``artifact``, holding whatever an earlier run left to resume."""
        return PartialFile(self.root / "partial" / f"{artifact.sha256}.part", artifact, progress=progress)

    def receive(self, artifact: Artifact, source: Source, progress: Progress | None = None) -> Path:
        """Download ``artifact`` from ``source`` and commit it; the cache owns the partial file throughout.

        Call it holding ``lock(artifact.sha256)``. A partial left by an earlier run that turns out wrong is retried
        once from zero, so a stale fragment never makes a good source fail. Wrong bytes are discarded;
        bytes that merely stopped coming are kept, so the next attempt resumes.
        """
        part = self.partial(artifact, progress=progress)
        try:
            try:
                source.download(part)
                part.check()
            except IntegrityError:
                if not part.resumed_from:
                    raise
                part.restart()
                source.download(part)
            return self._commit(artifact, part, redact(source.location))
        except IntegrityError:
            part.discard()
            raise
        finally:
            part.close()
            if not part.offset:  # nothing worth resuming
                part.path.unlink(missing_ok=True)

    def lookup(self, artifact: Artifact) -> Path | None:
        """The cached file for ``artifact`` if its blob is intact, else None (a wrong blob is removed).

        Intact means: re-hashed now when small (``REHASH_BELOW``) or when its size or mtime moved since
        it was verified; otherwise matching its hash record. A read-only cache still serves what it holds.
        """
        blob = self.blob(artifact.sha256)
        with os_errors(blob, "cannot read the cache"):
            try:
                st = blob.stat()
            except FileNotFoundError:
                return None
            record = self._record(artifact.sha256)
            fresh = record.get("size") == st.st_size and record.get("mtime_ns") == st.st_mtime_ns
            if not stat.S_ISREG(st.st_mode) or st.st_size != artifact.size or (
                (not fresh or artifact.size <= REHASH_BELOW) and sha256_file(blob) != artifact.sha256
            ):
                self.remove(artifact.sha256)
                return None
        if not fresh:
            with contextlib.suppress(FileAccessError):  # the record only saves a re-hash; a read-only cache serves
                self._write_record(artifact.sha256, record.get("source"), record.get("names", []))
        return self._link_view(artifact)

    def source(self, sha256: str) -> str | None:
        """Where the cached bytes came from (credentials removed), as recorded when they were committed."""
        source = self._record(sha256).get("source")
        return redact(source) if isinstance(source, str) else None

    def _commit(self, artifact: Artifact, part: PartialFile, source: str) -> Path:
        """Check the finished download and move it into place; nothing unchecked ever enters the store."""
        part.check()
        part.close()
        move_into_place(part.path, self.blob(artifact.sha256), read_only=True)
        return self._link_view(artifact, {"source": source})

    def entries(self) -> list[Entry]:
        """Every blob in the store with what its record says about it; anything else there is ignored, and so
        is a blob another process's ``clean`` removes while this one lists them."""
        found = []
        store = self.root / "blobs" / "sha256"
        with os_errors(store, "cannot read the cache"):
            for blob in sorted(store.glob("*/*")):
                if not _BLOB.fullmatch(blob.name) or blob.parent.name != blob.name[:2]:
                    continue
                try:
                    st = blob.lstat()
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                names = self._record(blob.name).get("names", [])
                names = tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()
                found.append(Entry(blob.name, st.st_size, blob, names, self.source(blob.name)))
        return found

    def verify(self) -> list[tuple[Entry, bool]]:
        """Re-hash every blob. One that no longer matches its name is removed, so the next pull fetches it
        again instead of trusting it; an intact one gets a fresh record, so later uses stay cheap."""
        results = []
        for entry in self.entries():
            try:
                ok = sha256_file(entry.path) == entry.sha256
            except FileNotFoundError:  # cleaned by another process meanwhile: nothing left to verify
                continue
            if ok:
                with contextlib.suppress(FileAccessError):  # advisory, as in lookup
                    self._write_record(entry.sha256, entry.source, list(entry.names))
            else:
                self.remove(entry.sha256)
            results.append((entry, ok))
        return results

    def clean(self, model_ids: Sequence[str] | None = None, *, kept: list[Entry] | None = None) -> list[Entry]:
        """Remove the blobs serving ``model_ids`` (default: everything, including partial downloads).

        What another zoo process holds is left alone (and added to ``kept``): cleaning never loses a download
        in progress nor pulls a file from under a command that uses it.
        """
        wanted = set(model_ids or ())
        removed = []
        for sha256 in [sha for root, sha in _HELD if root == str(self.root)]:
            self.release(sha256)  # this process asked for the clean: its own uses do not stop it
        for entry in self.entries():
            if not wanted or any(n.split("/")[0] in wanted for n in entry.names):
                with self.lock(entry.sha256, wait=False) as free:
                    if free:
                        self.remove(entry.sha256)
                        removed.append(entry)
                    elif kept is not None:
                        kept.append(entry)
        if not wanted:
            for path in [*(self.root / "partial").glob("*.part"), *(self.root / "partial").glob("*.ranges")]:
                with self.lock(path.stem, wait=False) as free:
                    if free:
                        with os_errors(path):
                            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        return removed

    def remove(self, sha256: str) -> None:
        """Remove a blob, its record and every view that points at it."""
        with os_errors(self.blob(sha256), "cannot remove from the cache"):
            names = self._record(sha256).get("names", [])
            for name in names if isinstance(names, list) else ():
                parts = str(name).split("/")  # <id>/<file> or <id>/<version>/<file>
                try:  # a record is a file anyone could edit: never unlink outside models/
                    if len(parts) not in (2, 3):
                        continue
                    view = self.root.joinpath("models", *(safe_name(p, "cache name") for p in parts))
                except UsageError:
                    continue
                view.unlink(missing_ok=True)
                for folder in (view.parent, view.parent.parent)[:len(parts) - 1]:
                    with contextlib.suppress(OSError):  # drop the version's and model's folders once empty
                        folder.rmdir()
            self.blob(sha256).unlink(missing_ok=True)
            self._record_path(sha256).unlink(missing_ok=True)

    def _record_path(self, sha256: str) -> Path:
        return self.blob(sha256).with_name(f"{sha256}.json")

    def _record(self, sha256: str) -> dict:
        try:
            record = json.loads(self._record_path(sha256).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def _write_record(self, sha256: str, source: str | None, names: list[str]) -> None:
        """Not fsynced: a lost or torn record only makes the next use re-hash the blob."""
        with os_errors(self.blob(sha256), "cannot read the cache"):
            st = self.blob(sha256).stat()
        record = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "source": source,
                  "names": sorted(set(names))}
        write_atomic(self._record_path(sha256), json.dumps(record, indent=1), durable=False)

    def _link_view(self, artifact: Artifact, record: dict | None = None) -> Path:
        """Make ``models/<id>/<file>`` point at the blob: symlink, else hardlink, else copy.

        ``record`` is the blob's record when the caller has just made it (a commit): written once, here.
        """
        view, blob = self.view(artifact), self.blob(artifact.sha256)
        name = f"{artifact.folder}/{artifact.file}"
        fresh = record is not None
        record = record if fresh else self._record(artifact.sha256)
        if not fresh and _same_file(view, blob):
            if name not in record.get("names", []):
                with contextlib.suppress(FileAccessError):  # as above: a read-only cache still serves the view
                    self._write_record(artifact.sha256, record.get("source"), [*record.get("names", []), name])
            return view
        link_atomic(blob, view)
        self._write_record(artifact.sha256, record.get("source"), [*record.get("names", []), name])
        return view


def _same_file(view: Path, blob: Path) -> bool:
    """A view is good when it is the blob (symlink or hardlink) or a full-size copy of it."""
    try:
        return os.path.samefile(view, blob) or (not view.is_symlink() and view.stat().st_size == blob.stat().st_size)
    except OSError:
        return False


def _flock(fd: int, how: int) -> bool:
    try:
        fcntl.flock(fd, how)
        return True
    except BlockingIOError:
        return False


def _note_holder(fd: int) -> None:
    """Write who holds the lock into its file, so a waiter can say whom it waits for (nothing when the file is
    another user's and opened read-only)."""
    note = f"pid {os.getpid()} ({' '.join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:4]))})"
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode("utf-8", "replace")[:300], 0)


def _holder(path: Path) -> str:
    """Who holds ``path``, as its holder noted (a file anyone could write: shown through the one printer)."""
    from zoo.core.text import printable

    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode) and (note := os.pread(fd, 300, 0).decode("utf-8", "replace").strip()):
                return printable(note)
        finally:
            os.close(fd)
    return "another process"
