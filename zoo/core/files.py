"""The file layer under everything: hashing, atomic writes and copies, safe names, text with a BOM.

Every module that hashes a file or replaces one goes through here, so the guarantees are kept in one place:
a file is never seen half written (temporary file in the same folder, ``fsync``, ``os.replace``); a
replaced file keeps its mode and owner, a new one gets the umask's mode (not ``mkstemp``'s 0600); a symlink
stays a link and its real file is written; a read-only file is refused, not silently replaced; a UTF-8 BOM
an editor put there stays. OS errors become one-line ``FileAccessError``s (exit 2).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from zoo.core.errors import FileAccessError, IntegrityError, UsageError
from zoo.core.resources import is_installed_data

CHUNK = 1 << 20
BOM = "\ufeff"
MAX_TEXT = 16 << 20  # a card, README or golden zoo reads whole; a pull request may name a larger file


def safe_name(name: str, what: str = "file name") -> str:
    """Refuse a name that could point outside its folder (defence in depth on top of the schema).

    >>> safe_name("osnet_a025_int8.tflite")
    'osnet_a025_int8.tflite'
    >>> safe_name("../x")
    Traceback (most recent call last):
    zoo.core.errors.UsageError: unsafe file name '../x': it must be a bare name without '..' or separators
    """
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


def describe(exc: OSError) -> str:
    """The OS's own words for an error, without Python's ``[Errno n]`` prefix."""
    return exc.strerror or type(exc).__name__


def path_error(exc: OSError, path: str | Path | None = None, doing: str | None = None) -> FileAccessError:
    """The one place an ``OSError`` about a path becomes a one-line error naming it: a name longer than the
    OS allows, a full disk, a folder where a file should be. The file the OS names wins over ``path``.

    >>> print(path_error(OSError(36, "File name too long", "x" * 3), doing="cannot read"))
    xxx: cannot read: File name too long
    """
    where = exc.filename if isinstance(exc.filename, (str, bytes, os.PathLike)) else path
    if isinstance(where, bytes):
        where = os.fsdecode(where)
    return FileAccessError(f"{doing}: {describe(exc)}" if doing else describe(exc), path=where)


@contextlib.contextmanager
def os_errors(path: str | Path, doing: str = "cannot write") -> Iterator[None]:
    """Turn an ``OSError`` inside the block into a one-line ``FileAccessError`` naming the file."""
    try:
        yield
    except FileAccessError:  # already one line naming its file
        raise
    except OSError as exc:
        raise path_error(exc, path, doing) from None


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file: a FIFO would hang, ``/dev/zero`` never ends.

    Raises ``FileNotFoundError`` as it is and ``FileAccessError`` for anything else.

    Opened with ``O_NONBLOCK`` so that a FIFO without a writer cannot block the open itself; the flag is
    meaningless for regular files.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise  # the caller knows what a missing file means
    except OSError as exc:
        raise path_error(exc, path, "cannot read") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise FileAccessError("is a folder, expected a file", path=path)
        raise FileAccessError("not a regular file (a FIFO, device or socket is refused)", path=path)
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def sha256_file(path: Path) -> str:
    """Hash a regular file in chunks (cached files can be hundreds of MB)."""
    digest = hashlib.sha256()
    with open_regular(Path(path)) as fh:
        try:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        except OSError as exc:
            raise path_error(exc, path, "cannot read") from None
    return digest.hexdigest()


def read_bytes(path: str | Path, *, limit: int | None = None) -> bytes:
    """A regular file's bytes. A FIFO or device is refused instead of read forever, and a file of more than
    ``limit`` bytes is refused having read only ``limit + 1`` of them: a 10 GB "card" never reaches memory,
    and files that report no size (``/proc``) are held to the limit too.

    Raises ``FileNotFoundError`` (callers say what a missing file means) and ``FileAccessError``.
    """
    path = Path(path)
    with open_regular(path) as fh:
        try:
            data = fh.read() if limit is None else fh.read(limit + 1)
        except OSError as exc:
            raise path_error(exc, path, "cannot read") from None
    if limit is not None and len(data) > limit:
        raise FileAccessError(f"refused: larger than {limit / (1 << 20):g} MiB", path=path)
    return data


def read_text(path: str | Path, *, limit: int | None = MAX_TEXT) -> tuple[str, bool]:
    """A UTF-8 file's text without its BOM, and whether it had one (so a rewrite can keep it).

    Read as ``read_bytes`` reads, at most ``MAX_TEXT`` bytes unless told otherwise; raises
    ``FileNotFoundError`` and ``FileAccessError``.
    """
    try:
        raw = read_bytes(path, limit=limit).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileAccessError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from None
    return (raw[1:], True) if raw.startswith(BOM) else (raw, False)


def write_atomic(path: str | Path, data: str | bytes, *, durable: bool = True) -> None:
    """Replace ``path`` in one step; a reader or a crash never sees it half written.

    Text is written as UTF-8 bytes, newlines untouched, with a BOM when the file being replaced had one.
    ``durable=False`` skips the ``fsync`` (tens of ms on a busy disk) for files that can be rebuilt.
    """
    write_files({Path(path): data}, durable=durable)


def write_files(files: dict[Path, str | bytes], *, durable: bool = True) -> None:
    """Replace several files as ``write_atomic`` replaces one, all or nothing: every new content is written
    and synced beside its file first, so a full disk or a read-only folder fails before any file is replaced;
    a rename that still fails puts back the files already replaced. (A card and its README stay a pair.)
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in files.items():
            target = _real_target(Path(path))
            if isinstance(data, str):
                if not data.startswith(BOM) and _has_bom(target):
                    data = BOM + data
                data = data.encode("utf-8")
            payload = data
            staged.append((_stage(target, lambda fh: fh.write(payload), durable=durable), target))
        _commit(staged)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


def copy_atomic(src: Path, dest: Path, *, sha256: str | None = None) -> Path:
    """Copy ``src`` to ``dest`` the same way (``dest`` is never half written); returns ``dest``.

    With ``sha256``, the bytes are hashed as they are copied and ``dest`` is only written when they match:
    a file that changed after it was verified is never handed on (``IntegrityError``).
    """
    target = _real_target(Path(dest))

    def copy(fh: BinaryIO) -> None:
        digest, buffer = hashlib.sha256(), memoryview(bytearray(CHUNK))
        while n := source.readinto(buffer):
            digest.update(buffer[:n])
            fh.write(buffer[:n])
        if sha256 is not None and digest.hexdigest() != sha256:
            raise IntegrityError(f"changed since it was verified (sha256 {digest.hexdigest()}, expected {sha256}); "
                                 "not copied", path=src, expected_sha256=sha256, actual_sha256=digest.hexdigest())

    with open_regular(Path(src)) as source:
        _replace(target, copy)
    return Path(dest)


def move_into_place(src: Path, dest: Path, *, read_only: bool = False) -> None:
    """Rename a finished file (a verified download) onto ``dest`` in one step, its folder made if needed."""
    with os_errors(dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        if read_only:
            os.chmod(dest, 0o444)


def link_atomic(src: Path, dest: Path) -> None:
    """Make ``dest`` name the same bytes as ``src`` in one step: a relative symlink, else a hard link, else a
    copy (a filesystem without links); a reader sees the old ``dest`` or the new one, never neither."""
    with os_errors(dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.link.tmp")
        tmp.unlink(missing_ok=True)
        try:
            try:
                os.symlink(os.path.relpath(src, dest.parent), tmp)
            except OSError:
                try:
                    os.link(src, tmp)
                except OSError:
                    shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _real_target(path: Path) -> Path:
    """The file a write to ``path`` must replace: a symlink's real file, so the link stays a link."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _has_bom(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(3) == BOM.encode("utf-8")
    except OSError:
        return False


def _replace(target: Path, write: Callable[[BinaryIO], object], *, durable: bool = True) -> None:
    """Write a temporary file next to ``target`` with ``write``, give it ``target``'s mode and owner, then
    rename it over ``target``. Every OS error (read-only folder, disk full, not a folder) is one line."""
    tmp = _stage(target, write, durable=durable)
    try:
        _commit([(tmp, target)])
    finally:
        tmp.unlink(missing_ok=True)


def _stage(target: Path, write: Callable[[BinaryIO], object], *, durable: bool = True) -> Path:
    """The new content of ``target``, written and closed in a temporary file beside it with ``target``'s mode
    and owner; on any failure nothing is left behind. zoo's own installed data (a wheel's registry and cards)
    is never replaced."""
    if is_installed_data(target):
        raise FileAccessError("is one of zoo's installed files, which zoo never changes; make your own zoo "
                              "(zoo init DIR) and work there", path=target)
    old = _existing(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _temporary(target) as (fh, tmp):
            write(fh)
            fh.flush()
            if old is not None:
                _keep_mode_and_owner(fh.fileno(), old)
            if durable:
                os.fsync(fh.fileno())
            fh.close()  # a full disk may only say so here
    except FileAccessError:
        raise
    except OSError as exc:
        raise path_error(exc, target, "cannot write") from None
    return tmp


def _commit(staged: list[tuple[Path, Path]]) -> None:
    """Rename each staged file over its target; if one rename fails, put back what was already replaced."""
    done: list[tuple[Path, Path | None]] = []  # target, the link keeping its old content (None: it was new)
    try:
        for tmp, target in staged:
            backup = None
            if len(staged) > 1 and target.exists():
                backup = target.with_name(f".{target.name}.{os.getpid()}.old")
                backup.unlink(missing_ok=True)
                os.link(target, backup)
            os.replace(tmp, target)
            done.append((target, backup))
    except OSError as exc:
        for target, backup in reversed(done):
            with contextlib.suppress(OSError):
                os.replace(backup, target) if backup is not None else target.unlink()
        raise path_error(exc, staged[len(done)][1], "cannot write") from None
    finally:
        for _, backup in done:
            if backup is not None:
                with contextlib.suppress(OSError):
                    backup.unlink(missing_ok=True)


def _existing(target: Path) -> os.stat_result | None:
    """The stat of the file about to be replaced; refuse what must not be replaced."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise path_error(exc, target, "cannot write") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileAccessError("is a folder, expected a file", path=target)
    if not stat.S_ISREG(st.st_mode):
        raise FileAccessError("not a regular file; not replaced", path=target)
    if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
        # root may write anything; a file nobody may write was made read-only on purpose.
        raise FileAccessError("is read-only; not replaced (make it writable to let zoo update it)", path=target)
    return st


@contextlib.contextmanager
def _temporary(target: Path) -> Iterator[tuple[BinaryIO, Path]]:
    """A new file next to ``target`` created with mode 0666 minus the umask; removed when the block fails."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for attempt in range(100):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{attempt}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a hundred stale temporaries of this very process
        raise FileExistsError(f"no free temporary name next to {target}")
    fh = os.fdopen(fd, "wb")
    try:
        yield fh, tmp
    except BaseException:
        with contextlib.suppress(OSError):  # closing flushes, and a full disk refuses that too
            fh.close()
        tmp.unlink(missing_ok=True)
        raise


def _keep_mode_and_owner(fd: int, old: os.stat_result) -> None:
    """Owner first: a change of owner clears set-id bits, which the mode then restores."""
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(PermissionError):  # only root may give a file away; keep what we can
            os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode))
