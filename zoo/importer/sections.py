"""Read the non-figure parts of an upstream card into card fields: network facts, tensors, platforms and the
dataset sentence above an accuracy table. Performance tables are ``zoo.importer.tables``' job."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from zoo.cards.card import meaning_of_text
from zoo.importer.tables import LINK, header_key
from zoo.markdown.tables import Table
from zoo.markdown.cells import clean_text, numbers_in

_DTYPES = {"uint8": "uint8", "int8": "int8", "int16": "int16", "int32": "int32", "float16": "float16",
           "float32": "float32", "float": "float32"}
_PRECISIONS = {"int4", "int8", "uint8", "int16", "float16", "bfloat16", "float32", "mixed"}


def dataset_details(line: str, dataset: dict[str, Any]) -> tuple[dict[str, Any], Counter[float]]:
    """``dataset`` with what a ``Dataset details: [link](URL), License [X](URL), Number of images: 9529 (train:
    8569, ...)`` line (or the sentence zoo renders) says, and the numbers of the line a rendering must show
    (totals that the split sizes add up to are left out)."""
    dataset = dict(dataset)
    for text, url in re.findall(r"\[([^\]]*)\]\(([^)\s]+)\)", line):
        if text.lower() == "link":
            dataset["link"] = url
        else:
            dataset["license"], dataset["license_link"] = text, url
    splits: dict[str, dict[str, int]] = {}
    want = Counter(numbers_in(line))
    for what, total, inner in re.findall(r"Number of (\w+): (\d+) \(([^)]*)\)", line):
        counts = re.findall(r"(\w+): (\d+)", inner)
        for split, count in counts:
            splits.setdefault(split, {})[what] = int(count)
        if int(total) == sum(int(c) for _, c in counts):
            want[float(total)] -= 1
    for split, inner in re.findall(r"(\w+) \(((?:\d+ \w+(?:, )?)+)\)", line.partition("Splits:")[2]):
        for count, what in re.findall(r"(\d+) (\w+)", inner):
            splits.setdefault(split, {})[what] = int(count)
    if splits:
        dataset["splits"] = splits
    return dataset, +want


_PAPER = re.compile(r"^(arXiv:\S+|https?://\S+)$")  # the card schema's paper


def _link_url(value: str) -> str:
    link = LINK.fullmatch(value)
    return link.group("url") if link else value


def network(table: Table) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Known rows of a network-information table as card fields, and every other row (label, value) as is."""
    fields: dict[str, Any] = {}
    others: list[tuple[str, str]] = []
    for row in table.rows:
        key, value = clean_text(row[0]), clean_text(" ".join(row[1:2]))
        low = key.lower()
        if low == "framework" and "framework" not in fields and value:
            fields["framework"] = value
        elif low == "quantization" and value.lower() in _PRECISIONS and "quantization" not in fields:
            fields["quantization"] = {"precision": value.lower()}
        elif low == "provenance" and low not in fields and value not in ("", "-"):
            fields[low] = value  # free text as well as links
        elif low == "paper" and low not in fields and _PAPER.match(paper := _link_url(value)):
            fields[low] = paper
        else:  # a paper that is neither a link nor an arXiv id ("TO DO") stays a row as written
            others.append((key, value))
    return fields, others


def is_tensor_table(table: Table) -> str | None:
    """``inputs`` or ``outputs`` for an upstream ``Input Shape | Description`` table or zoo's own io table."""
    first = header_key(table.headers[0])
    if len(table.headers) < 2 or not any("shape" in header_key(h) for h in table.headers):
        return None
    return "inputs" if first.startswith("input") else "outputs" if first.startswith("output") else None


def tensors(table: Table) -> tuple[list[dict[str, Any]], list[str]]:
    """Tensors of a tensor table, and the rows that state no dtype (``line: message``; left out, not guessed)."""
    keys = [header_key(h) for h in table.headers]
    at: dict[str, int | None] = {}
    for name in ("shape", "dtype", "meaning", "name", "description"):  # each column is read once
        at[name] = next((i for i, k in enumerate(keys) if name in k and i not in at.values()), None)
    if at["description"] is None:  # "Input Shape | Details": the first column left describes the tensor
        at["description"] = next((i for i in range(len(keys)) if i not in at.values()), None)
    out, unstated = [], []
    for n, row in enumerate(table.rows):
        get = lambda name: clean_text(row[at[name]]) if at[name] is not None else ""  # noqa: E731
        description = get("description")
        inner = get("shape").strip("()[] ")
        parts = inner.split(",") if "," in inner else re.split(r"\s*[x×]\s*", inner)
        dims = [d.strip() for d in parts if d.strip()] or ["?"]
        words = re.findall(r"[a-z0-9]+", (get("dtype") or description).lower())
        dtype = next((_DTYPES[w] for w in words if w in _DTYPES), None)
        if dtype is None:
            unstated.append(f"{table.row_line(n)}: no dtype in {description!r}; left out (the card states none)")
        tensor: dict[str, Any] = {"name": get("name")} if get("name") else {}
        tensor["shape"] = [int(d) if re.fullmatch(r"-?\d+", d) else d for d in dims]
        tensor |= {"dtype": dtype} if dtype else {}
        tensor["meaning"] = get("meaning") or meaning_of_text(description) or "other"
        if description:
            tensor["description"] = description
        out.append(tensor)
    return out, unstated


def platforms(table: Table) -> list[dict[str, Any]]:
    return [{"name": clean_text(r[0]), "supported": "x" in r[1].lower(), "recommended": "x" in r[2].lower()}
            for r in table.rows]
