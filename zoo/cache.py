"""Where verified bytes live: a store addressed by sha256, with a browsable view by model id.

Layout under the cache root (``ZOO_CACHE_DIR``, else the platform's user cache dir)::

    blobs/sha256/<aa>/<sha256>        verified bytes, only ever put there by os.replace after a match
    blobs/sha256/<aa>/<sha256>.json   hash record: size and mtime at verification, the names it serves
    models/<model id>/<file>          symlink to the blob (else a hardlink, else a copy)
    partial/<sha256>.part             a download in progress; an interrupted one is resumed
    locks/<sha256>.lock               one writer per artifact across processes
    verdicts/registry-<sha256>.ok     registries that already passed their schema (see zoo.registry)

Using a cached file costs a ``stat`` and a small JSON read, not a re-hash: the record says which size and
mtime the blob had when its sha256 was last checked. ``zoo cache verify`` re-hashes everything.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zoo.files import safe_name, sha256_file, write_atomic
from zoo.errors import IntegrityError
from zoo.partial import PartialFile, Progress

if TYPE_CHECKING:
    from filelock import FileLock

    from zoo.registry import Artifact
    from zoo.sources import Source

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

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def blob(self, sha256: str) -> Path:
        return self.root / "blobs" / "sha256" / sha256[:2] / sha256

    def view(self, artifact: Artifact) -> Path:
        return self.root / "models" / safe_name(artifact.model_id, "model id") / safe_name(artifact.file)

    def lock(self, artifact: Artifact) -> FileLock:
        """A lock held while one process downloads an artifact; the others wait, then find it cached."""
        from filelock import FileLock

        path = self.root / "locks" / f"{artifact.sha256}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(path)

    def partial(self, artifact: Artifact, *, progress: Progress | None = None) -> PartialFile:
        """The download in progress for ``artifact``, holding whatever an earlier run left to resume."""
        return PartialFile(self.root / "partial" / f"{artifact.sha256}.part", artifact, progress=progress)

    def receive(self, artifact: Artifact, source: Source, progress: Progress | None = None) -> Path:
        """Download ``artifact`` from ``source`` and commit it; the cache owns the partial file throughout.

        Call it holding ``lock(artifact)``. A partial left by an earlier run that turns out wrong is retried
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
            return self._commit(artifact, part, source.location)
        except IntegrityError:
            part.discard()
            raise
        finally:
            part.close()
            if not part.offset:  # nothing worth resuming
                part.path.unlink(missing_ok=True)

    def lookup(self, artifact: Artifact) -> Path | None:
        """The cached file for ``artifact`` if its blob is intact by size and hash record, else None.

        A blob whose size or mtime moved since it was verified is re-hashed; a wrong one is removed.
        """
        blob = self.blob(artifact.sha256)
        try:
            st = blob.stat()
        except FileNotFoundError:
            return None
        record = self._record(artifact.sha256)
        fresh = record.get("size") == st.st_size == artifact.size and record.get("mtime_ns") == st.st_mtime_ns
        if not fresh:
            if st.st_size != artifact.size or sha256_file(blob) != artifact.sha256:
                self.remove(artifact.sha256)
                return None
            self._write_record(artifact.sha256, record.get("source"), record.get("names", []))
        return self._link_view(artifact)

    def _commit(self, artifact: Artifact, part: PartialFile, source: str) -> Path:
        """Check the finished download and move it into place; nothing unchecked ever enters the store."""
        part.check()
        part.close()
        blob = self.blob(artifact.sha256)
        blob.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part.path, blob)
        os.chmod(blob, 0o444)
        self._write_record(artifact.sha256, source, [])
        return self._link_view(artifact)

    def entries(self) -> list[Entry]:
        """Every blob in the store with what its record says about it."""
        found = []
        for blob in sorted((self.root / "blobs" / "sha256").glob("*/*")):
            if blob.suffix == ".json" or blob.name.startswith("."):
                continue
            record = self._record(blob.name)
            found.append(
                Entry(blob.name, blob.stat().st_size, blob, tuple(record.get("names", [])), record.get("source"))
            )
        return found

    def verify(self) -> list[tuple[Entry, bool]]:
        """Re-hash every blob. One that no longer matches its name is removed, so the next pull fetches it
        again instead of trusting it; an intact one gets a fresh record, so later uses stay cheap."""
        results = []
        for entry in self.entries():
            ok = sha256_file(entry.path) == entry.sha256
            if ok:
                self._write_record(entry.sha256, entry.source, list(entry.names))
            else:
                self.remove(entry.sha256)
            results.append((entry, ok))
        return results

    def clean(self, model_ids: Sequence[str] | None = None) -> list[Entry]:
        """Remove the blobs serving ``model_ids`` (default: everything, including partial downloads)."""
        wanted = set(model_ids or ())
        removed = [e for e in self.entries() if not wanted or any(n.split("/")[0] in wanted for n in e.names)]
        for entry in removed:
            self.remove(entry.sha256)
        if not wanted:
            for path in (self.root / "partial").glob("*.part"):
                path.unlink(missing_ok=True)
        return removed

    def remove(self, sha256: str) -> None:
        """Remove a blob, its record and every view that points at it."""
        for name in self._record(sha256).get("names", []):
            view = self.root / "models" / name
            view.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # drop the model's folder once it is empty
                view.parent.rmdir()
        self.blob(sha256).unlink(missing_ok=True)
        self._record_path(sha256).unlink(missing_ok=True)

    def _record_path(self, sha256: str) -> Path:
        return self.blob(sha256).with_name(f"{sha256}.json")

    def _record(self, sha256: str) -> dict:
        try:
            return json.loads(self._record_path(sha256).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _write_record(self, sha256: str, source: str | None, names: list[str]) -> None:
        st = self.blob(sha256).stat()
        record = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "source": source,
                  "names": sorted(set(names))}
        write_atomic(self._record_path(sha256), json.dumps(record, indent=1))

    def _link_view(self, artifact: Artifact) -> Path:
        """Make ``models/<id>/<file>`` point at the blob: symlink, else hardlink, else copy."""
        view, blob = self.view(artifact), self.blob(artifact.sha256)
        name = f"{artifact.model_id}/{artifact.file}"
        record = self._record(artifact.sha256)
        if name in record.get("names", []) and _same_file(view, blob):
            return view
        view.parent.mkdir(parents=True, exist_ok=True)
        tmp = view.with_name(f".{view.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.symlink(os.path.relpath(blob, view.parent), tmp)
        except OSError:
            try:
                os.link(blob, tmp)
            except OSError:
                shutil.copyfile(blob, tmp)
        os.replace(tmp, view)
        self._write_record(artifact.sha256, record.get("source"), [*record.get("names", []), name])
        return view


def _same_file(view: Path, blob: Path) -> bool:
    """A view is good when it is the blob (symlink or hardlink) or a full-size copy of it."""
    try:
        return os.path.samefile(view, blob) or (not view.is_symlink() and view.stat().st_size == blob.stat().st_size)
    except OSError:
        return False
