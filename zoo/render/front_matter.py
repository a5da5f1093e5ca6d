"""Card data -> Hugging Face model-card front matter (licence, pipeline tag, tags, datasets, model-index)."""

from __future__ import annotations

from typing import Any

import yaml

from zoo.cards.card import Card
from zoo.cards.units import METRICS, quantity_of

# Hugging Face licence ids that equal the lowercased SPDX id; anything else is "other" + license_name.
_HF_LICENSES = {"mit", "apache-2.0", "bsd-2-clause", "bsd-3-clause", "gpl-3.0", "lgpl-3.0", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "mpl-2.0", "bsl-1.0"}


class _HubDumper(yaml.SafeDumper):
    """Indent sequences under their key, as mdformat's front-matter plugin re-dumps them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def front_matter(card: Card) -> dict[str, Any]:
    """Hugging Face model-card metadata: licence, pipeline tag, tags, datasets, and model-index results."""
    data, hub = card.data, card.data.get("hub", {})
    lic = data["license"]
    meta: dict[str, Any] = {}
    if lic["id"].lower() in _HF_LICENSES:
        meta["license"] = lic["id"].lower()
    else:
        meta["license"] = "other"
        meta["license_name"] = lic["id"].lower()
        if "link" in lic:
            meta["license_link"] = lic["link"]
    for key in ("pipeline_tag", "tags", "base_model"):
        if key in hub:
            meta[key] = hub[key]
    if data.get("datasets"):
        meta["datasets"] = [d.get("hub_id", d["id"]) for d in data["datasets"]]
    index = []
    for vid in card.variant_ids:
        results = []
        for r in card.records(vid):
            metrics = [
                {"type": m, "value": v["value"], "name": METRICS[m].label if m in METRICS else v.get("label", m)}
                for m, v in r["values"].items()
                if quantity_of(m, v["unit"]) == "accuracy" and "value" in v  # ranges and text are no hub figures
            ]
            if metrics:
                dataset = card.dataset(r["dataset"]) or {"name": r["dataset"]}
                task = {"type": hub.get("pipeline_tag", card.use_case), "name": card.use_case.replace("_", " ").title()}
                ds = {"name": dataset["name"], "type": dataset.get("hub_id", r["dataset"])}
                results.append({"task": task, "dataset": ds | ({"split": r["split"]} if "split" in r else {}), "metrics": metrics})
        if results:
            index.append({"name": vid, "results": results})
    if index:
        meta["model-index"] = index
    return meta


def dump_front_matter(meta: dict[str, Any]) -> str:
    text = yaml.dump(meta, Dumper=_HubDumper, sort_keys=False, allow_unicode=True, width=float("inf"), indent=2)
    return f"---\n{text}---\n"
