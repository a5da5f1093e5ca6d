"""Card data -> Hugging Face model-card metadata that the Hub and ``huggingface_hub`` read as zoo meant it.

- ``model-index`` has one entry, as ``huggingface_hub.ModelCard`` keeps only one: named after the card's
  family (or the one variant a repo holds). Each metric says whose figure it is in ``args``
  (``variant``, ``format``, zoo's own metric name, unit) and in its display ``name``, so a family's
  figures stay with their variant through ``ModelCard.load``/``save``, and a float row is never confused
  with its int8 row.
- ``task.type`` is a Hub pipeline tag (``image-classification``, ``audio-classification``), metric types
  are Hub metric ids (``accuracy``, ``mean_average_precision``), percentages are named as percentages;
  zoo's names stay in the card data (``task.name``, ``args``).
- Licence ids the Hub knows pass through; a licence zoo does not know (``NOASSERTION``) is ``unknown``;
  any other is ``other`` with its name and link.
- ``eval_results`` gives the ``.eval_results/*.yaml`` files huggingface_hub now reads (``EvalResultEntry``).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from zoo.cards.card import Card
from zoo.cards.units import METRICS, quantity_of

# The Hub's licence ids (huggingface.co/docs/hub/repositories-licenses), lowercase.
HUB_LICENSES = frozenset((
    "apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 "
    "bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc "
    "cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 "
    "cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 "
    "cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 "
    "eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 odc-by odbl "
    "openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr unknown other"
).split())
_UNKNOWN_LICENSES = {"noassertion", "unknown", "none", ""}

# zoo use cases -> Hub pipeline tags (huggingface.co/tasks); a card's hub.pipeline_tag wins.
PIPELINE_TAGS = {
    "image_classification": "image-classification",
    "object_detection": "object-detection",
    "face_detection": "object-detection",
    "pose_estimation": "keypoint-detection",
    "semantic_segmentation": "image-segmentation",
    "instance_segmentation": "image-segmentation",
    "depth_estimation": "depth-estimation",
    "hand_posture": "image-classification",
    "hand_posture_recognition": "image-classification",
    "re_identification": "image-feature-extraction",
    "face_recognition": "image-feature-extraction",
    "audio_event_detection": "audio-classification",
    "aed": "audio-classification",
    "speech_enhancement": "audio-to-audio",
    "human_activity_recognition": "time-series-forecasting",
    "arc_fault_detection": "tabular-classification",
}

# zoo metric names -> Hub metric ids (huggingface.co/metrics); the k of a top-k or rank-k goes in args.
HUB_METRICS = {
    "top1": "accuracy", "top5": "accuracy", "rank1": "accuracy", "rank5": "accuracy", "rank10": "accuracy",
    "clip_level_accuracy": "accuracy", "accuracy": "accuracy",
    "mAP": "mean_average_precision", "AP": "mean_average_precision", "AP50": "mean_average_precision",
    "AP50_95": "mean_average_precision", "OKS_AP": "mean_average_precision",
    "mIoU": "mean_iou", "f1": "f1", "mINP": "mean_inverse_negative_penalty",
    "PESQ": "pesq", "STOI": "stoi", "SI_SNR": "si_snr", "OKS": "oks", "PCK": "pck",
}


class _HubDumper(yaml.SafeDumper):
    """Indent sequences under their key, as mdformat's front-matter plugin re-dumps them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def pipeline_tag(card: Card) -> str:
    """The Hub pipeline tag of the card's task (``hub.pipeline_tag``, else its use case's, else ``other``)."""
    return card.data.get("hub", {}).get("pipeline_tag") or PIPELINE_TAGS.get(card.use_case, "other")


def hub_metric(name: str) -> str:
    """A Hub metric id for a zoo metric name.

    >>> hub_metric("top1"), hub_metric("mAP"), hub_metric("Clip level accuracy"), hub_metric("Segment F-score")
    ('accuracy', 'mean_average_precision', 'accuracy', 'segment_f_score')
    """
    snake = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return HUB_METRICS.get(name) or HUB_METRICS.get(snake) or snake


def hub_license(license: dict[str, Any]) -> dict[str, str]:
    """The Hub's licence fields for the card's licence.

    >>> hub_license({"id": "MIT"}), hub_license({"id": "NOASSERTION"})
    ({'license': 'mit'}, {'license': 'unknown'})
    >>> hub_license({"id": "SLA0044", "link": "https://www.st.com/SLA0044"})
    {'license': 'other', 'license_name': 'sla0044', 'license_link': 'https://www.st.com/SLA0044'}
    """
    lid = str(license["id"]).strip().lower()
    if lid in _UNKNOWN_LICENSES:
        return {"license": "unknown"}
    if lid in HUB_LICENSES:
        return {"license": lid}
    meta = {"license": "other", "license_name": re.sub(r"[^a-z0-9.-]+", "-", lid).strip("-") or "other"}
    if "link" in license:
        meta["license_link"] = license["link"]
    return meta


def results(card: Card, variant: str | None = None) -> list[dict[str, Any]]:
    """Accuracy figures as flat rows: variant, format, resolution, dataset, split, zoo metric, Hub metric, value, unit."""
    rows = []
    for vid in [variant] if variant else card.variant_ids:
        for r in card.records(vid):
            for m, v in r["values"].items():
                if quantity_of(m, v["unit"]) != "accuracy" or "value" not in v:  # ranges and text are no hub figures
                    continue
                label = METRICS[m].label if m in METRICS else v.get("label", m)
                rows.append({"variant": vid, "format": r.get("format"), "resolution": r.get("resolution"),
                             "dataset": r.get("dataset"), "split": r.get("split"), "metric": m, "label": label, "hub": hub_metric(m),
                             "value": v["value"], "unit": v["unit"]})
    return rows


def _metric(row: dict[str, Any], with_variant: bool) -> dict[str, Any]:
    who = " ".join(str(x) for x in (row["variant"] if with_variant else None, row["format"]) if x)
    percent = row["unit"] == "%"
    args = {"variant": row["variant"], "metric": row["metric"], "unit": "percent" if percent else row["unit"]}
    for key in ("format", "resolution"):
        if row[key]:
            args[key] = row[key]
    k = re.fullmatch(r"(?:top|rank)(\d+)", row["metric"])
    if k:
        args["k"] = int(k.group(1))
    name = f"{who}: {row['label']}" if who else row["label"]
    return {"type": row["hub"], "value": row["value"], "name": name + (" (%)" if percent else ""), "args": args}


def front_matter(card: Card, variant: str | None = None) -> dict[str, Any]:
    """Hugging Face model-card metadata for the card (or for one ``variant``, as a repo of its own holds)."""
    data, hub = card.data, card.data.get("hub", {})
    meta: dict[str, Any] = hub_license(data["license"])
    meta["pipeline_tag"] = pipeline_tag(card)
    for key in ("tags", "base_model"):
        if key in hub:
            meta[key] = hub[key]
    if data.get("datasets"):
        meta["datasets"] = [d.get("hub_id", d["id"]) for d in data["datasets"]]
    grouped: dict[tuple, list[dict[str, Any]]] = {}
    for row in results(card, variant):
        grouped.setdefault((row["dataset"], row["split"]), []).append(row)
    index = []
    for (dataset_id, split), rows in grouped.items():
        dataset = card.dataset(dataset_id) or {"name": dataset_id}
        ds = {"name": dataset["name"], "type": dataset.get("hub_id", dataset_id)} | ({"split": split} if split else {})
        index.append({"task": {"type": meta["pipeline_tag"], "name": card.use_case.replace("_", " ").title()},
                      "dataset": ds, "metrics": [_metric(row, variant is None) for row in rows]})
    if index:
        meta["model-index"] = [{"name": variant or str(data.get("family", "")), "results": index}]
    return meta


def eval_results(card: Card, variant: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """``.eval_results/<variant>.yaml`` contents (huggingface_hub's ``EvalResultEntry`` format), one file per
    variant: each figure with its Hub dataset id, zoo's metric as task id, and whose figure it is in notes."""
    files: dict[str, list[dict[str, Any]]] = {}
    for row in results(card, variant):
        dataset = card.dataset(row["dataset"]) or {}
        entry = {"dataset": {"id": dataset.get("hub_id", row["dataset"]), "task_id": row["metric"]},
                 "value": row["value"],
                 "notes": _metric(row, True)["name"] + (f", {row['split']} split" if row["split"] else "")}
        files.setdefault(f"{row['variant']}.yaml", []).append(entry)
    return files


def dump_front_matter(meta: dict[str, Any]) -> str:
    text = yaml.dump(meta, Dumper=_HubDumper, sort_keys=False, allow_unicode=True, width=float("inf"), indent=2)
    return f"---\n{text}---\n"


def dump_yaml(data: Any) -> str:
    """YAML in the same style as the front matter (for ``.eval_results`` files)."""
    return yaml.dump(data, Dumper=_HubDumper, sort_keys=False, allow_unicode=True, width=float("inf"), indent=2)
