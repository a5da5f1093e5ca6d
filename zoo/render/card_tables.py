"""Card data -> the markdown tables of a README: network, io, platforms, performance and kept tables.

Output is already in the shape mdformat (with its tables plugin) would give it, so formatting a README never
makes ``zoo render-card --check`` fail. Region names: ``network``, ``io``, ``platforms``, the performance
regions of ``zoo.render.performance`` and ``table-<name>``.
"""

from __future__ import annotations

from typing import Any

from zoo.cards.card import Card
from zoo.render.performance import performance_groups, performance_table
from zoo.catalog.registry import Registry
from zoo.markdown.layout import markdown_table


def _shape(shape: list[Any]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _network(card: Card) -> str:
    data = card.data
    rows = [["Framework", data["framework"]]]
    for v in data["variants"]:
        params = v.get("parameters", {})
        if "count" in params:
            counted = f" ({params['counted']})" if "counted" in params else ""
            rows.append([f"Parameters, {v['label']}", f"{params['count']:,}{counted}"])
        if "published" in params:
            rows.append([f"Published MParams, {v['label']}", f"{params['published']['value'] / 1e6:g} M"])
    if "quantization" in data:
        q = data["quantization"]
        rows.append(["Quantization", q["precision"] + (f" ({q['method']})" if "method" in q else "")])
    for key in ("provenance", "paper"):
        if key in data:
            rows.append([key.capitalize(), data[key]])
    rows += [[row["name"], row["value"]] for row in data.get("network_details", [])]
    return markdown_table(["Network information", "Value"], rows)


def _tensors(card: Card, which: str) -> list[list[str]]:
    """One row per tensor; variants with identical tensors share rows."""
    groups: list[tuple[list[str], list[dict[str, Any]]]] = []
    for vid in card.variant_ids:
        tensors = getattr(card, which)(vid)
        same = next((g for g in groups if g[1] == tensors), None)
        if same:
            same[0].append(card.variant(vid)["label"])
        else:
            groups.append(([card.variant(vid)["label"]], tensors))
    rows = []
    for labels, tensors in groups:
        who = "all" if len(labels) == len(card.variant_ids) else ", ".join(labels)
        for t in tensors:
            q = t.get("quantization")
            quant = f"scale {q['scale']}, zero point {q['zero_point']}" if q else ""
            rows.append([who, t.get("name", ""), _shape(t["shape"]), t.get("dtype", ""), quant, t["meaning"], t.get("description", "")])
    return rows


def _io(card: Card) -> str:
    """The input and the output table; one the card has no tensors for is left out (a table without rows
    is no markdown table)."""
    headers = ["Variants", "Name", "Shape", "Dtype", "Quantization", "Meaning", "Description"]
    tables = [(title, _tensors(card, which)) for title, which in (("Input", "inputs"), ("Output", "outputs"))]
    return "\n\n".join(markdown_table([f"{title} variants", *headers[1:]], rows) for title, rows in tables if rows)


def _platforms(card: Card) -> str:
    box = {True: "[x]", False: "[]"}
    rows = [[p["name"], box[p["supported"]], box[p["recommended"]]] for p in card.data.get("platforms", [])]
    return markdown_table(["Platform", "Supported", "Recommended"], rows)


def regions(card: Card, registry: Registry | None) -> dict[str, str]:
    """Every region this card can fill, name -> markdown."""
    out = {"network": _network(card)}
    if card.data.get("inputs") or card.data.get("outputs") or any("outputs" in v for v in card.data["variants"]):
        out["io"] = _io(card)
    if card.data.get("platforms"):
        out["platforms"] = _platforms(card)
    for name, group in performance_groups(card).items():
        out[name] = performance_table(card, registry, group)
    for table in card.data.get("tables", []):
        out[f"table-{table['name']}"] = markdown_table(table["headers"], table["rows"])
    return out
