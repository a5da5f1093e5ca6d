"""What earlier runs proved about a model file, remembered by sha256 so that the next run starts at once
(and, by the same means, that a file's signature verified: ``zoo.artifacts.fetching``).

A file runs once in a child (``zoo.model.sandbox``) before this process trusts the native runtime with it:
~0.5 s a file, paid by every run of ``verify``, ``evaluate`` and ``bench``. After a child ran it, a verdict
is written to ``<cache>/verdicts/model-<sha256>.<kernels>.ok``, and a later run that finds a verdict for the
same bytes, kernels, runtime, zoo and Python loads the file here directly.

Skipping the child is only safe when the verdict is true, so a verdict is never taken on its word: it holds
an HMAC-SHA256 of those facts under a key that only this user can read (``verdicts/key``: 32 random bytes,
mode 0600; a key file that is not the user's own, or that others may read or write, disables verdicts).
A verdict planted in a shared or copied cache, one written for other bytes, kernels or another runtime
version (stale), or one edited by hand does not verify, and the file runs in a child as if there were
none: a file that crashes the runtime still only kills that child. Structural validation is never skipped:
it is the few milliseconds of ``zoo.model.inspection.read_model`` and guards every reader, verdict or not.

>>> import tempfile
>>> verdicts = Verdicts(Path(tempfile.mkdtemp()))
>>> verdicts.ran("ab" * 32, "optimized", "litert 1.0")
False
>>> verdicts.record("ab" * 32, "optimized", "litert 1.0")
>>> verdicts.ran("ab" * 32, "optimized", "litert 1.0"), verdicts.ran("ab" * 32, "optimized", "litert 2.0")
(True, False)
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path

_folder: Path | None = None


def remember_in(folder: Path | None) -> None:
    """Keep this process's verdicts in ``folder`` (the CLI passes ``<cache>/verdicts``; None: remember nothing)."""
    global _folder
    _folder = folder


def current() -> Verdicts | None:
    """The verdicts of this process, if a folder was given."""
    return Verdicts(_folder) if _folder is not None else None


class Verdicts:
    """Signed verdicts in one folder; every failure to read or write one only means the child runs."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def ran(self, sha256: str, kernels: str, runtime: str) -> bool:
        """True when a verdict says a child ran these bytes with ``kernels`` on ``runtime``, and its MAC holds."""
        return self.holds(f"model-{sha256}.{kernels}", ("ran-in-child", sha256, kernels, runtime))

    def record(self, sha256: str, kernels: str, runtime: str) -> None:
        """Remember that a child ran these bytes (a read-only cache remembers nothing, and that is fine)."""
        self.remember(f"model-{sha256}.{kernels}", ("ran-in-child", sha256, kernels, runtime))

    def holds(self, name: str, facts: Sequence[str]) -> bool:
        """True when the verdict ``name`` was written for exactly ``facts`` by this user (its MAC holds)."""
        import hmac

        key = self._key(create=False)
        if key is None:
            return False
        try:
            with open(self.folder / f"{name}.ok", "rb") as fh:
                stored = fh.read(128).strip()
        except OSError:
            return False
        return hmac.compare_digest(stored, self._mac(key, facts).encode())

    def remember(self, name: str, facts: Sequence[str]) -> None:
        """Write the verdict ``name`` for ``facts`` (a read-only cache remembers nothing, and that is fine)."""
        from zoo.core.files import write_atomic

        key = self._key(create=True)
        if key is not None:
            with contextlib.suppress(OSError):
                write_atomic(self.folder / f"{name}.ok", self._mac(key, facts), durable=False)

    @staticmethod
    def _mac(key: bytes, facts: Sequence[str]) -> str:
        import hashlib
        import hmac
        import platform
        import sys

        from zoo import __version__

        text = "\n".join((*facts, f"zoo {__version__}", sys.version, platform.machine()))
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()

    def _key(self, *, create: bool) -> bytes | None:
        """This user's key, made on first use; None when it is missing (and not to be made) or not private."""
        path = self.folder / "key"
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            if not create:
                return None
            return self._new_key(path)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            private = stat.S_ISREG(st.st_mode) and not st.st_mode & 0o077 and (
                not hasattr(os, "getuid") or st.st_uid == os.getuid())
            key = fh.read(64)
        return key if private and len(key) == 32 else None

    def _new_key(self, path: Path) -> bytes | None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return self._key(create=False)
        except OSError:
            return None
        key = os.urandom(32)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key
