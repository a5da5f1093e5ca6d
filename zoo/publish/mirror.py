"""Write a release into a mirror folder: ``<mirror>/<id>/<file>`` (``<mirror>/<id>/<version>/<file>`` for a
model with ``versions:``; the layout ``--mirror`` reads), each
file's ``<file>.sig`` beside it when signed, the card and README, and a ``SHA256SUMS`` that
``sha256sum -c`` checks. Every file is written atomically; a file already there with the same bytes is
left alone, one with other bytes is refused (a released name never changes meaning).
"""

from __future__ import annotations

from pathlib import Path

from zoo.core.errors import IntegrityError
from zoo.core.files import copy_atomic, safe_name, sha256_file, write_atomic
from zoo.publish.release import Release


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
    for name, bundle in release.signatures().items():
        write_atomic(folder / name, bundle)
        written.append(folder / name)
    listing = "".join(f"{digest}  {name}\n" for name, digest in sums.items())
    write_atomic(folder / "SHA256SUMS", listing)
    return [*written, folder / "SHA256SUMS"], present
