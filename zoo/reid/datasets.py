"""Re-ID test sets on disk: which images are queries, which are gallery, and their person and camera ids.

Three layouts, detected in this order (or named with ``layout=``):

- ``manifest``: a ``manifest.csv`` with columns ``path, pid, camid, split`` (``split`` is ``query`` or
  ``gallery``; other splits are ignored; paths are relative to the CSV). It wins when present because
  it carries the true cameras.
- ``deepsportradar``: ``reid_test/query`` and ``reid_test/gallery``, names ``<pid>_<seq>_<frame>``. As the
  challenge's official loader does, every query gets camera 0 and every gallery image camera 1, so no
  gallery item is ever removed as "same camera".
- ``market1501``: ``query`` and ``bounding_box_test``, names ``<pid>_c<cam>s<seq>_<frame>_<idx>``; junk
  images (pid -1) are dropped, distractors (pid 0) are kept.

Images are listed in sorted path order: that order is the gallery index that breaks distance ties.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zoo.core.errors import DatasetError, FileAccessError
from zoo.core.files import open_regular

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
MANIFEST = "manifest.csv"
_DEEPSPORTRADAR_NAME = re.compile(r"^(\d+)_\d+_\d+$")
_MARKET_NAME = re.compile(r"^(-1|\d+)_c(\d+)s\d+_\d+_\d+$")


@dataclass(frozen=True)
class Image:
    path: Path
    pid: int
    camid: int


@dataclass(frozen=True)
class ReidDataset:
    """A query set and a gallery set, each in a fixed order."""

    root: Path
    layout: str
    query: tuple[Image, ...]
    gallery: tuple[Image, ...]


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DatasetError(["no such folder"], path=folder)
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _parse_folder(folder: Path, parse: Callable[[Path], Image | None], expected: str) -> tuple[Image, ...]:
    """Every image of ``folder`` through ``parse``; all unparseable names are reported at once."""
    items, bad = [], []
    for path in _images(folder):
        try:
            item = parse(path)
        except ValueError:
            bad.append(path.name)
            continue
        if item is not None:
            items.append(item)
    if bad:
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise DatasetError([f"file names not of the form {expected}: {', '.join(bad[:3])}{more}"], path=folder)
    if not items:
        raise DatasetError(["no images"], path=folder)
    return tuple(items)


def _deepsportradar(root: Path) -> tuple[tuple[Image, ...], tuple[Image, ...]]:
    def parser(camid: int) -> Callable[[Path], Image]:
        def parse(path: Path) -> Image:
            match = _DEEPSPORTRADAR_NAME.match(path.stem)
            if not match:
                raise ValueError(path.name)
            return Image(path, int(match[1]), camid)

        return parse

    expected = "<pid>_<sequence>_<frame>"
    test = root / "reid_test"
    return _parse_folder(test / "query", parser(0), expected), _parse_folder(test / "gallery", parser(1), expected)


def _market_image(path: Path) -> Image | None:
    match = _MARKET_NAME.match(path.stem)
    if not match:
        raise ValueError(path.name)
    pid = int(match[1])
    return None if pid == -1 else Image(path, pid, int(match[2]))  # -1: junk, not part of the protocol


def _market1501(root: Path) -> tuple[tuple[Image, ...], tuple[Image, ...]]:
    expected = "<pid>_c<cam>s<seq>_<frame>_<idx>"
    return _parse_folder(root / "query", _market_image, expected), _parse_folder(
        root / "bounding_box_test", _market_image, expected
    )


def _manifest(root: Path) -> tuple[tuple[Image, ...], tuple[Image, ...]]:
    path = root / MANIFEST
    try:
        # utf-8-sig: spreadsheets save "CSV UTF-8" with a BOM, which would otherwise rename the first column
        with io.TextIOWrapper(open_regular(path), encoding="utf-8-sig", newline="") as fh:  # a FIFO would hang
            reader = csv.DictReader(fh)
            missing = {"path", "pid", "camid", "split"} - set(reader.fieldnames or ())
            if missing:
                raise DatasetError([f"1: missing column(s) {', '.join(sorted(missing))}"], path=path)
            rows = list(reader)
    except FileNotFoundError:
        raise DatasetError(["no such file"], path=path) from None
    except FileAccessError as exc:
        raise DatasetError([exc.message], path=path) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError([f"cannot read: {exc}"], path=path) from None
    splits: dict[str, list[Image]] = {"query": [], "gallery": []}
    problems = []
    for line, row in enumerate(rows, start=2):
        if row["split"] not in splits:
            continue
        image = root / (row["path"] or "")
        try:
            item = Image(image, int(row["pid"]), int(row["camid"]))
        except (TypeError, ValueError):
            problems.append(f"{line}: pid and camid must be integers, got {row['pid']!r}, {row['camid']!r}")
            continue
        if not image.is_file():
            problems.append(f"{line}: no such image {row['path']!r}")
            continue
        splits[row["split"]].append(item)
    problems += [f"no rows with split {name!r}" for name, items in splits.items() if not items]
    if problems:
        raise DatasetError(problems, path=path)
    return tuple(sorted(splits["query"], key=_by_path)), tuple(sorted(splits["gallery"], key=_by_path))


def _by_path(item: Image) -> str:
    return str(item.path)


_LAYOUTS: dict[str, Callable[[Path], tuple[tuple[Image, ...], tuple[Image, ...]]]] = {
    "manifest": _manifest,
    "deepsportradar": _deepsportradar,
    "market1501": _market1501,
}
LAYOUTS = tuple(_LAYOUTS)


def detect_layout(root: Path) -> str:
    """The layout of ``root`` (see the module docstring for the order)."""
    if (root / MANIFEST).is_file():
        return "manifest"
    if (root / "reid_test" / "query").is_dir():
        return "deepsportradar"
    if (root / "query").is_dir() and (root / "bounding_box_test").is_dir():
        return "market1501"
    raise DatasetError(
        [f"unknown layout: expected {MANIFEST}, reid_test/query + reid_test/gallery, or query + bounding_box_test"],
        path=root,
    )


def load_dataset(root: str | Path, layout: str | None = None) -> ReidDataset:
    """List the query and gallery images of ``root``; a bad dataset raises ``DatasetError`` naming the path."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(["no such dataset folder"], path=root)
    if layout is not None and layout not in _LAYOUTS:
        raise DatasetError([f"unknown layout {layout!r} (choose from {', '.join(LAYOUTS)})"], path=root)
    layout = layout or detect_layout(root)
    query, gallery = _LAYOUTS[layout](root)
    return ReidDataset(root=root, layout=layout, query=query, gallery=gallery)
