"""Write a release into a mirror folder: ``<mirror>/<id>/<file>`` (``<mirror>/<id>/<version>/<file>`` for a
model with ``versions:``; the layout ``--mirror`` reads), each
file's ``<file>.sig`` beside it when signed, the card and README, and a ``SHA256SUMS`` that
``sha256sum -c`` checks. Every file is written atomically; a file already there with the same bytes is
left alone, one with other bytes is refused (a released name never changes meaning), and a signature that
still verifies with the signing key is kept: publishing the same version again writes nothing.
"""

from __future__ import annotations

from pathlib import Path

from zoo.core.errors import IntegrityError
from zoo.core.files import copy_atomic, read_bytes, safe_name, sha256_file, write_atomic
from zoo.release.gathering import Release


def write(release: Release, mirror: Path) -> tuple[list[Path], list[Path]]:
    """Write ``release`` under ``mirror``; returns (files written, files already there and identical)."""
    folder = Path(mirror).joinpath(*(safe_name(part, "model id") for part in release.artifacts[0].folder.split("/")))
    written: list[Path] = []
    present: list[Path] = []
    sums: dict[str, str] = {}
    for name, path in [*release.files.items(), *release.docs.items()]:
        target = folder / safe_name(name)
        digest = sha256_file(path)
        if target.is_file() and sha256_file(target) == digest:
            present.append(target)
        elif target.exists() and name in release.files:
            raise IntegrityError(f"already holds other bytes for {name}; a released file is never replaced "
                                 "(publish a new version)", path=target)
        else:
            copy_atomic(path, target, sha256=digest)
            written.append(target)
        sums[name] = digest
    sigs = {f"{a.file}.sig": a for a in release.artifacts} if release.signed else {}
    kept = {name for name, art in sigs.items()  # this release's signatures already there stay as they are
            if (folder / name).is_file() and release.already_signed(read_bytes(folder / name, limit=1 << 20), art)}
    for name in sigs:
        if name in kept:
            present.append(folder / name)
        else:
            write_atomic(folder / name, release.signatures()[name])
            written.append(folder / name)
    listing = "".join(f"{digest}  {name}\n" for name, digest in sums.items())
    if not (folder / "SHA256SUMS").is_file() or read_bytes(folder / "SHA256SUMS", limit=1 << 20) != listing.encode():
        write_atomic(folder / "SHA256SUMS", listing)
        written.append(folder / "SHA256SUMS")
    else:
        present.append(folder / "SHA256SUMS")
    return written, present
