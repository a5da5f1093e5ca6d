"""``zoo verify`` end to end on the bundled osnet_demo, offline, so nothing leaves the host.

The real files and the published card: tests/test_real_artifacts.py."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from zoo.reid import synthetic
from zoo.cli import main
from zoo.demo import bundled_mirror
from zoo.core.documents import load_yaml
from zoo.catalog.registry import load_registry
from zoo.verification.rules.base import NEEDS_FILE
from zoo.core.resources import data_dir
from zoo.verification.targets import select_targets, shard
from helpers import verify_json


DEMO = "osnet_demo"


@pytest.fixture(scope="module")
def people(tmp_path_factory) -> Path:
    """A small synthetic re-ID split (other people than the card's test split), drawn larger than the model's input."""
    return synthetic.write_test_set(tmp_path_factory.mktemp("people"), identities=10, gallery_per_identity=3,
                                    size=(150, 70)).root





def _statuses(report: dict, subject: str) -> dict[str, str]:
    entry = next(e for e in report["entries"] if e["subject"] == subject)
    return {c["id"]: c["status"] for c in entry["checks"]}


def test_our_cards_verify_clean_and_unavailable_files_are_not_checked(tmp_path: Path, capsys) -> None:
    junit = tmp_path / "verify.xml"
    code, report = verify_json(capsys, "--mirror", str(bundled_mirror()), "--offline", "--junit", str(junit), "--jobs", "2")
    assert code == 0 and report["passed"] and report["totals"]["fail"] == 0
    assert [e["subject"] for e in report["entries"] if e["kind"] == "model"] == list(load_registry().models)
    for bundled in (DEMO, "osnet_demo_qdq"):  # the demo's TFLite and ONNX files ship in the bundled mirror
        statuses = _statuses(report, bundled)
        assert set(statuses.values()) == {"pass"}
        assert {"artifact.sha256", "golden", "io.output.meaning", "parameters.count", "records.format"} <= set(statuses)
    unavailable = [m for m in load_registry().models if m not in (DEMO, "osnet_demo_qdq")]  # offline: not mirrored
    assert unavailable
    for model_id in unavailable:
        entry = next(e for e in report["entries"] if e["subject"] == model_id)
        skipped = [c for c in entry["checks"] if c["status"] == "not_checked"]
        ids = {c["id"] for c in skipped}
        assert ids == set(NEEDS_FILE)  # every rule that needs the file, each by its own id
        assert {"artifact.sha256", "io.output.meaning", "io.input.shape", "parameters.count", "golden"} <= ids
        assert all("offline" in c["message"] for c in skipped)
        assert _statuses(report, model_id)["card.variant"] == "pass"  # checks without the file still ran
    suites = ET.parse(junit).getroot()
    assert int(suites.get("failures")) == 0
    assert int(suites.get("skipped")) == report["totals"]["not_checked"] == len(unavailable) * len(NEEDS_FILE)
    assert len(suites.findall(".//testcase")) == sum(report["totals"].values())


def _registry_copy(tmp_path: Path) -> Path:
    root = tmp_path / "release"
    for name in ("registry", "model_cards"):
        shutil.copytree(data_dir(name), root / name)
    return root / "registry"


def test_latency_write_records_a_host_figure_then_compares_against_it(tmp_path: Path, capsys) -> None:
    registry = _registry_copy(tmp_path)
    card = registry.parent / "model_cards" / "osnet_demo" / "card.yaml"
    args = (DEMO, "--registry", str(registry), "--offline", "--latency")  # the copy's mirror/ holds the file
    before = load_yaml(card).data["performance"]
    code, report = verify_json(capsys, *args, "--write")
    check = next(c for c in report["entries"][-1]["checks"] if c["id"] == "latency.host")
    assert code == 0 and "no host record" in check["message"] and check["details"]["count"] >= 50
    after = load_yaml(card).data["performance"]
    assert after[: len(before)] == before and len(after) == len(before) + 1  # one record added, none touched
    records = after[len(before):]
    assert records[0]["origin"] == "measured" and records[0]["measured_on"]["kind"] == "host"
    assert records[0]["measured_on"]["cpu"] == check["details"]["cpu"] and records[0]["measured_on"]["threads"] == 1
    code, report = verify_json(capsys, *args)
    check = next(c for c in report["entries"][-1]["checks"] if c["id"] == "latency.host")
    # the written record passes the card schema, and is what the second run compares against
    assert code == 0 and "card records" in check["message"]
    assert check["details"]["recorded"] == records[0]["values"]["inference_time"]["value"]
    # finding 6: timed on synthetic inputs, the record names no dataset of the card's; the README shows it once
    # its region is added, and says which region to add until then
    assert "dataset" not in records[0]
    assert main(["render-card", str(card.parent), "--registry", str(registry)]) == 0
    assert "region 'time-host' that the README does not show" in capsys.readouterr().err
    readme = card.parent / "README.md"
    readme.write_text(readme.read_text() + "\n<!-- zoo:begin name=time-host -->\n<!-- zoo:end name=time-host -->\n")
    assert main(["render-card", str(card.parent), "--registry", str(registry)]) == 0
    shown = readme.read_text().split("name=time-host -->")[1]
    assert f"{records[0]['values']['inference_time']['value']}" in shown and "Dataset" not in shown


def test_shards_split_the_models_deterministically_and_completely() -> None:
    targets = select_targets(load_registry(), [])
    parts = [shard(targets, f"{i}/3") for i in (1, 2, 3)]
    assert sorted(t.model_id for p in parts for t in p) == sorted(t.model_id for t in targets)
    assert parts == [shard(list(reversed(targets)), f"{i}/3") for i in (1, 2, 3)]


@pytest.mark.parametrize("spec", ["0/2", "3/2", "x", "1/0"])
def test_bad_shard_is_a_usage_error(spec: str, capsys) -> None:
    assert main(["verify", "--shard", spec]) == 2
    assert "--shard" in capsys.readouterr().err


def _measured_percent(capsys, dataset: Path) -> dict[str, float]:
    assert main(["evaluate", DEMO, "--offline", "--dataset", str(dataset), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["percent"]


def test_accuracy_claim_contradicted_by_the_dataset_fails(people: Path, tmp_path: Path, capsys) -> None:
    """A card claiming 10 points more (or less) mAP than the set gives fails, naming both figures."""
    measured = _measured_percent(capsys, people)
    claim = round(measured["mAP"] - 10 if measured["mAP"] > 50 else measured["mAP"] + 10, 2)
    registry = _registry_copy(tmp_path)
    card_path = registry.parent / "model_cards" / DEMO / "card.yaml"
    text = card_path.read_text()
    assert "mAP: {value: 88.91, unit: \"%\"}" in text
    card_path.write_text(text.replace("mAP: {value: 88.91,", f"mAP: {{value: {claim},"))
    code, report = verify_json(capsys, DEMO, "--registry", str(registry), "--offline",
                           "--dataset", str(people), "--dataset-id", "synthetic_reid")
    entry = next(e for e in report["entries"] if e["subject"] == DEMO)
    accuracy = {c["id"]: c for c in entry["checks"] if c["id"].startswith("accuracy.")}
    assert code == 1 and accuracy["accuracy.mAP"]["status"] == "fail"
    assert accuracy["accuracy.mAP"]["details"]["claimed"] == claim
    assert accuracy["accuracy.mAP"]["details"]["measured"] == pytest.approx(measured["mAP"], abs=0.005)
    assert {"accuracy.rank1", "accuracy.rank5", "accuracy.rank10"} <= set(accuracy)


def test_accuracy_write_then_verify_compares_within_tolerance(people: Path, tmp_path: Path, capsys) -> None:
    registry = _registry_copy(tmp_path)
    card_path = registry.parent / "model_cards" / DEMO / "card.yaml"
    text = card_path.read_text()
    card_path.write_text(text.replace("performance:\n", "  - id: synthetic_small\n    name: a small synthetic split\n"
                                      "    license: MIT\nperformance:\n", 1))
    args = (DEMO, "--registry", str(registry), "--offline", "--dataset", str(people), "--dataset-id", "synthetic_small")
    code, report = verify_json(capsys, *args, "--write")
    assert code == 0
    written = [r for r in load_yaml(card_path).data["performance"] if r.get("dataset") == "synthetic_small"]
    assert len(written) == 1 and written[0]["origin"] == "measured"
    assert written[0]["values"]["mAP"]["value"] == _measured_percent(capsys, people)["mAP"]
    code, report = verify_json(capsys, *args, "--tolerance-pp", "0.01")
    entry = next(e for e in report["entries"] if e["subject"] == DEMO)
    accuracy = {c["id"]: c for c in entry["checks"] if c["id"].startswith("accuracy.")}
    assert code == 0 and accuracy["accuracy.mAP"]["status"] == "pass"
    assert accuracy["accuracy.mAP"]["details"]["claimed"] == written[0]["values"]["mAP"]["value"]
    assert main(["render-card", str(card_path.parent), "--registry", str(registry)]) == 0
    assert "synthetic_small" in (card_path.parent / "README.md").read_text().lower()
