"""Model rows against the file each one links and against the other rows of the same file: format and precision,
resolution, dataset and label."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator

from zoo.importer.tables import heading_dataset, slug
from zoo.markdown.cells import clean_text
from zoo.review.findings import Finding, finding
from zoo.review.page import Page, Row
from zoo.verification.rules.base import Severity, parse_resolution

_FILE_PRECISION = ((r"w4a8|_w4(?:_|\d|$)", "w4a8"), (r"w8a8|qdq|int8|_quant|uint8", "int8"), (r"fp32|float32|_float", "float32"))
_CELL_PRECISION = ((r"w4a8", "w4a8"), (r"u?int8|\bi8\b|quantized", "int8"), (r"float(32)?|fp32|\bf32\b", "float32"))
_FRAMEWORK = ((r"\bonnx\b", ".onnx"), (r"tf\s*lite|tensorflow\s*lite|tflite", ".tflite"))


def precision_of_file(name: str) -> str | None:
    """The precision a file name states (``..._qdq_int8.onnx`` -> int8), else None.

    >>> precision_of_file("yolo11n_256_quant_pc_uf.tflite"), precision_of_file("x_qdq_w4_78.84%_w8_21.16%_a8.onnx")
    ('int8', 'w4a8')
    >>> precision_of_file("x_w4a8.onnx"), precision_of_file("x_qdq_int8.onnx"), precision_of_file("x.keras")
    ('w4a8', 'int8', None)
    """
    low = name.lower()
    return next((p for pattern, p in _FILE_PRECISION if re.search(pattern, low)), None)


def _granularity_of_file(name: str) -> str | None:
    """Per-channel or per-tensor as a quantized file's name says it (``_int8_pc``, ``_quant_pc_``, ``_int8_pt``);
    a lone ``_pt`` is PyTorch (``dla46c_pt_224``), so per-tensor needs the quantization token before it.

    >>> _granularity_of_file("m_192_int8_pc.tflite"), _granularity_of_file("m_192_int8_pt.tflite")
    ('channel', 'tensor')
    >>> _granularity_of_file("yolo_256_quant_pc_uf.tflite"), _granularity_of_file("dla46c_pt_224_qdq_int8.onnx")
    ('channel', None)
    """
    stem = name.rsplit(".", 1)[0].lower()
    if re.search(r"(?:int8|quant)_pc(?:_|$)", stem):
        return "channel"
    if re.search(r"(?:int8|quant)_pt(?:_|$)", stem):
        return "tensor"
    return None


def precision_of_cell(text: str) -> str | None:
    low = text.lower()
    found = [p for pattern, p in _CELL_PRECISION if re.search(pattern, low)]
    return found[0] if len(found) == 1 else None


def formats(page: Page) -> Iterator[Finding]:
    """A row's format or precision against the file it links: a qdq_int8 file labelled FP32 or W4A8, an int8
    .tflite labelled float32, an .onnx file labelled TensorFlow Lite (and the other way round)."""
    for row in page.rows:
        if row.link is None:
            continue
        name, cell = row.link.file_name, row.cell("format")
        stated, named = precision_of_cell(cell), precision_of_file(name)
        if stated and named and stated != named:
            yield finding(page.path, row.line, "readme.format",
                          f"format {cell!r} but the row links {name}, whose file is {named}; fix the format or the link")
        granularity = _granularity_of_file(name)
        for _, quant in row.header_cells(r"^quantization"):
            said = re.findall(r"per[\s_-]*(tensor|channel)", clean_text(quant).lower())
            if granularity and len(set(said)) == 1 and said[0] != granularity:
                yield finding(page.path, row.line, "readme.format",
                              f"quantization {clean_text(quant)!r} but the row links {name}, a per-{granularity} "
                              "file; fix the quantization or the link")
        kind = next((ext for pattern, ext in _FRAMEWORK if re.search(pattern, cell.lower())), None)
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if kind and suffix in (".onnx", ".tflite") and kind != suffix:
            yield finding(page.path, row.line, "readme.format",
                          f"format {cell!r} but the row links {name}, whose file is {suffix}; fix the format or the link")


def _tokens(name: str) -> tuple[list[tuple[int, int]], list[int]]:
    """Resolution tokens of a file name: ``_256_128_`` and ``64x50`` pairs, and lone sizes (``_256_``)."""
    stem = name.rsplit(".", 1)[0].lower()
    pairs = [(int(a), int(b)) for a, b in re.findall(r"(?<![\da-z.])([1-9]\d{1,3})[x_]([1-9]\d{1,3})(?![\d.])", stem)]
    singles = [int(n) for n in re.findall(r"(?<=_)([1-9]\d{1,3})(?=_|$)", stem)]
    singles = [n for n in singles if n >= 32 and not 1900 <= n <= 2100]
    return pairs, singles


def _hwc(dims: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """A channels-first size (``3x300x300``, PyTorch's order) as height, width, channels, so it compares with
    ``300x300x3``.

    >>> _hwc((3, 300, 300)), _hwc((300, 300, 3)), _hwc((1, 512, 1))
    ((300, 300, 3), (300, 300, 3), (1, 512, 1))
    """
    if dims and len(dims) == 3 and dims[0] in (1, 3) and dims[2] not in (1, 3) and min(dims[1:]) >= 8:
        return (dims[1], dims[2], dims[0])
    return dims


def resolutions(page: Page) -> Iterator[Finding]:
    """A resolution that is cut short (``256x256x``), that the linked file's name contradicts (a ``_256`` file at
    640x640x3), or that another row of the same file contradicts."""
    by_file: dict[str, list[tuple[Row, tuple[int, ...]]]] = defaultdict(list)
    for row in page.rows:
        text = row.cell("resolution")
        if re.fullmatch(r"\(?\s*(\d+\s*[x×]\s*)+\)?", text) or re.match(r"^\s*[x×]\s*\d", text):
            yield finding(page.path, row.line, "readme.resolution", f"resolution {text!r} is cut short; write HxWxC")
            continue
        dims = _hwc(parse_resolution(text))
        if not dims or row.link is None:
            continue
        name = row.link.file_name
        pairs, singles = _tokens(name)
        if pairs and not any(p == dims[:2] for p in pairs) and not any(p in dims for pair in pairs for p in pair):
            yield finding(page.path, row.line, "readme.resolution",
                          f"resolution {text} but the row links {name} ({pairs[0][0]}x{pairs[0][1]}); fix one of them")
            continue
        if not pairs and singles and len(dims) >= 2 and not set(singles) & set(dims[:2]) and min(dims[:2]) >= 32:
            yield finding(page.path, row.line, "readme.resolution",
                          f"resolution {text} but the row links {name}, made for {singles[0]}; fix one of them")
            continue
        by_file[row.link.url].append((row, dims[:2]))
    for rows in by_file.values():
        counts = Counter(d for _, d in rows)
        if len(counts) < 2:
            continue
        common = counts.most_common(1)[0][0] if counts.most_common(2)[0][1] > counts.most_common(2)[1][1] else None
        for row, d in rows:
            if common is not None and d != common:
                yield finding(page.path, row.line, "readme.resolution",
                              f"{row.link.file_name} is listed at {d[0]}x{d[1]} here and at {common[0]}x{common[1]} "  # type: ignore[union-attr]
                              "in the other rows of the same file; one file has one input size")


def same_dataset(a: str, b: str) -> bool:
    """Whether two dataset names can be the same data set (``COCO Person`` / ``coco-person``, ``ESC-10`` /
    ``esc10``, ``ST_VL53LxCX_handposture`` / ``ST_VL53L8CX_handposture_dataset``).

    >>> same_dataset("COCO Person", "coco-person"), same_dataset("ESC-10", "esc10"), same_dataset("COCO", "Pascal VOC")
    (True, True, False)
    >>> same_dataset("food-10", "food-101"), same_dataset("COCO 2017", "coco"), same_dataset("VOC 2012", "VOC 2007+2012")
    (False, True, True)
    """
    numbers = [set(re.findall(r"\d+", s)) for s in (a, b)]
    if numbers[0] and numbers[1] and not numbers[0] & numbers[1]:
        return False  # Food-10 is not Food-101, COCO 2014 not COCO 2017
    drop = {"dataset", "data", "set", "the", "st", "public", "custom", "reid"}
    words = lambda s: {w for w in re.findall(r"[a-z0-9]+", s.lower()) if w not in drop and len(w) >= 3}  # noqa: E731
    compact = lambda s: re.sub(r"dataset|[^a-z0-9]", "", s.lower())  # noqa: E731
    ca, cb = compact(a), compact(b)
    return bool(ca and cb and (ca in cb or cb in ca)) or bool(words(a) & words(b)) or not (words(a) and words(b))


def _person_subset_differs(a: str, b: str) -> bool:
    """Two dataset cells of one file where one names COCO's person subset and the other all of COCO: a heading
    may name the parent data set, but two cells of one file contradict each other.

    >>> _person_subset_differs("COCO", "COCO-Person"), _person_subset_differs("COCO 2017 Person", "coco_person")
    (True, False)
    """
    person = {bool(re.search(r"person", s, re.I)) for s in (a, b)}
    return len(person) == 2 and bool(re.search(r"coco", a, re.I)) and bool(re.search(r"coco", b, re.I))


def _folder_dataset(url: str) -> str | None:
    found = re.search(r"pretrainedmodel_(?:public|custom)_dataset/([^/]+)/", url, re.I)
    return found.group(1) if found else None


def datasets(page: Page) -> Iterator[Finding]:
    """A heading naming one dataset over rows of another (by their dataset cell or the dataset folder of the
    file they link); one file named with two datasets in different tables."""
    by_file: dict[str, list[tuple[Row, str, bool]]] = defaultdict(list)
    against: dict[int, list[Finding]] = defaultdict(list)  # heading contradictions, by table
    known: Counter[int] = Counter()  # rows with a dataset of their own, by table
    for row in page.rows:
        heading = clean_text(row.table.heading).replace("*", "")
        named = heading_dataset(heading) if re.search(r"data\s*set", heading, re.I) else "unspecified"
        cell = row.cell("dataset")
        folder = _folder_dataset(row.link.url) if row.link else None
        own = cell or folder
        if cell and folder and not same_dataset(cell, folder):
            yield finding(page.path, row.line, "readme.dataset",
                          f"this row's dataset is {cell} but its file is in the folder of {folder}; fix one of them")
            continue
        known[row.table.start] += bool(own)
        if named != "unspecified" and own and not same_dataset(named, own):
            against[row.table.start].append(finding(
                page.path, row.line, "readme.dataset",
                f"the section names {named} but this row's {'dataset is' if cell else 'file is in the folder of'} "
                f"{own}; fix the heading or the row"))
            continue
        if row.link and (cell or named != "unspecified"):
            by_file[row.link.url].append((row, cell or named, bool(cell)))
    for start, found in against.items():
        if len(found) >= 2 and len(found) == known[start]:  # every row disagrees: the heading is the wrong one
            line = _heading_line(page, start)
            yield finding(page.path, line, "readme.dataset",
                          f"{found[0].message.split(' but ')[0]} but none of the {len(found)} rows under it is on that "
                          "dataset; fix the heading")
        else:
            yield from found
    for rows in by_file.values():
        first_row, first, first_cell = rows[0]
        for row, name, is_cell in rows[1:]:
            if not same_dataset(first, name) or (first_cell and is_cell and _person_subset_differs(first, name)):
                yield finding(page.path, row.line, "readme.dataset",
                              f"{row.link.file_name} is on {name} here and on {first} on line {first_row.line}; "  # type: ignore[union-attr]
                              "one file is trained on one dataset")


def _heading_line(page: Page, start: int) -> int:
    """1-based line of the heading above the table whose header is at 0-based ``start`` (the header's if none)."""
    for n in range(start - 1, -1, -1):
        if page.lines[n].lstrip().startswith("#") and n not in page.code:
            return n + 1
    return start + 1


def _same_id(a: str, b: str) -> bool:
    """Labels the importer reads as one variant (``DeepLabV3`` / ``DeepLabv3``)."""
    return slug(a) == slug(b)


def _norm(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", label.lower())


def _near(a: str, b: str) -> bool:
    """Labels a typo apart: equal but for case, spaces, punctuation, one character or two swapped neighbours.

    >>> _near("st_gmp_wl_24", "st_gpm_wl_24"), _near("st_gmp_wl_24", "st_gmp_wl_48")
    (True, False)
    """
    na, nb = _norm(a), _norm(b)
    if na == nb:
        return True
    if abs(len(na) - len(nb)) > 1:
        return False
    short, long = sorted((na, nb), key=len)
    if len(short) == len(long):
        diff = [i for i, (x, y) in enumerate(zip(short, long)) if x != y]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and short[diff[0]] == long[diff[1]] \
            and short[diff[1]] == long[diff[0]]
        return len(diff) == 1 or swapped
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def labels(page: Page) -> Iterator[Finding]:
    """Row labels: one file under two labels a typo apart (a second variant that is the same model), and a
    variant that one table lacks while its paired table of the same target (memory and time) has it."""
    by_file: dict[str, list[Row]] = defaultdict(list)
    for row in page.rows:
        if row.link:
            by_file[row.link.url].append(row)
    for rows in by_file.values():
        counts = Counter(r.label for r in rows)
        if len(counts) < 2:
            continue
        stem = _norm(rows[0].link.file_name.rsplit(".", 1)[0])  # type: ignore[union-attr]
        named = [label for label in counts if _norm(label) and _norm(label) in stem]
        # the label the file name spells, else the most common (on a tie, the first row's: the later is reported)
        usual = named[0] if len(named) == 1 else counts.most_common(1)[0][0]
        for row in rows:
            if _same_id(row.label, usual):
                continue  # case, spaces and punctuation only: the importer reads one variant
            by_name = len(named) == 1
            if row.label != usual and (by_name or counts[row.label] < counts[usual] or row.line > rows[0].line):
                near = _near(row.label, usual)
                yield finding(page.path, row.line, "readme.label",
                              f"label {row.label!r} for {row.link.file_name}, which the other rows call {usual!r}"  # type: ignore[union-attr]
                              + ("; a typo makes it a second model" if near else "; use one name for one file"),
                              None if near else Severity.WARNING)
    yield from _missing(page)
    for row in page.rows:
        said, named = _multiplier(row.label), _file_multiplier(row.link.file_name) if row.link else None
        if said is not None and named is not None and abs(said - named) > 1e-9:
            yield finding(page.path, row.line, "readme.label",
                          f"label {row.label!r} says width {said:g} but the row links {row.link.file_name} "  # type: ignore[union-attr]
                          f"(width {named:g}); two model sizes cannot share one multiplier")


def _multiplier(label: str) -> float | None:
    """The width (depth) multiplier a label states: ``MobileNet v2 0.35 fft`` -> 0.35, ``alpha=1.0`` -> 1.0."""
    found = re.findall(r"(?<![\w.])(0\.\d{1,2}|1\.0|1\.4|2\.0)(?![\w.])", label)
    return float(found[0]) if len(found) == 1 else None


def _file_multiplier(name: str) -> float | None:
    """The multiplier a file name states: ``_a035_``, ``_w025_`` or ``_035_`` -> 0.35, 0.25, 0.35.

    >>> _file_multiplier("mobilenetv2_a100_256_128_fft_int8.tflite"), _file_multiplier("ssd_mobilenet_v2_fpnlite_035_192_int8.tflite")
    (1.0, 0.35)
    >>> _file_multiplier("st_yoloxn_d033_w025_192_int8.tflite"), _file_multiplier("yolo11n_256_quant.tflite")
    (0.25, None)
    """
    stem = name.rsplit(".", 1)[0].lower()
    found = re.findall(r"(?:^|_)(?:a|w|alpha)(\d{3})(?=_|$)", stem) or re.findall(r"(?:^|_)(0\d{2})(?=_|$)", stem)
    decimal = re.findall(r"_(0\.\d{1,2}|1\.0|1\.4)(?=_|$)", stem)
    values = {int(f) / 100 for f in found} | {float(d) for d in decimal}
    return values.pop() if len(values) == 1 else None


def _missing(page: Page) -> Iterator[Finding]:
    """A model one memory or time table lacks while every other table lists it: a model is the file its rows link
    (so ``sqnxt_x100_pt`` in the accuracy table and ``sqnxt_x100_pt_224`` in the time table are one model), or its
    label when the row links nothing."""
    tables: dict[int, tuple[str, str, set[str]]] = {}
    names: dict[str, str] = {}
    for row in page.rows:
        heading = clean_text(row.table.heading).replace("*", "").lower()
        target = re.search(r"\b(npu|mcu|mpu|gpu)\b", heading)
        kind = "memory" if re.search(r"memory|footprint", heading) else "time" if re.search(r"inference time", heading) else ""
        entry = tables.setdefault(row.table.start, (kind, target.group(1) if target else "", set()))
        key = row.link.url if row.link else re.sub(r"[^a-z0-9]", "", row.label.lower())
        names.setdefault(key, row.link.file_name if row.link else row.label)
        entry[2].add(key)
    every = [labels for _, _, labels in tables.values()]
    for start, (kind, target, have) in tables.items():
        if not kind:
            continue
        pair = [l for s, (k, t, l) in tables.items() if s != start and t == target and k and k != kind]
        for other in pair:
            for label in other - have:
                if sum(label in labels for labels in every) == len(every) - 1 and len(every) >= 3:
                    yield finding(page.path, start + 1, "readme.label",
                                  f"the {target.upper() or ''} {kind} table lists no row for a model every other "
                                  f"table lists ({names[label]!r}); add its row or drop it everywhere")
