"""``zoo verify`` end to end: real files served from a local --mirror folder, offline, so nothing leaves the host."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from zoo.cli import main
from zoo.documents import load_yaml
from zoo.registry import load_registry
from zoo.rules.base import NEEDS_FILE
from zoo.resources import data_dir, load_schema
from zoo.verify_targets import select_targets, shard

from conftest import REAL_MOBILENETV2_A100, REAL_OSNET_A025, need

@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A mirror folder (<model id>/<file>) holding the two real files of ../shared."""
    root = tmp_path / "mirror"
    for model_id, real in (("osnet_a025", REAL_OSNET_A025), ("mobilenetv2_a100", REAL_MOBILENETV2_A100)):
        (root / model_id).mkdir(parents=True)
        (root / model_id / real.name).symlink_to(need(real))
    return root


def _verify(capsys, *args: str) -> tuple[int, dict]:
    code = main(["verify", *args, "--json"])
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, load_schema("verify-report"))
    return code, report


def _statuses(report: dict, subject: str) -> dict[str, str]:
    entry = next(e for e in report["entries"] if e["subject"] == subject)
    return {c["id"]: c["status"] for c in entry["checks"]}


def test_our_cards_verify_clean_and_unavailable_files_are_not_checked(mirror: Path, tmp_path: Path, capsys) -> None:
    junit = tmp_path / "verify.xml"
    code, report = _verify(capsys, "--mirror", str(mirror), "--offline", "--junit", str(junit), "--jobs", "2")
    assert code == 0 and report["passed"] and report["totals"]["fail"] == 0
    assert [e["subject"] for e in report["entries"] if e["kind"] == "model"] == list(load_registry().models)
    for model_id in ("osnet_a025", "mobilenetv2_a100"):
        statuses = _statuses(report, model_id)
        assert set(statuses.values()) == {"pass"}
        assert {"artifact.sha256", "golden", "io.output.meaning", "parameters.count"} <= set(statuses)
    for model_id in ("osnet_a100", "mobilenetv2_a035"):
        entry = next(e for e in report["entries"] if e["subject"] == model_id)
        skipped = [c for c in entry["checks"] if c["status"] == "not_checked"]
        ids = {c["id"] for c in skipped}
        assert ids == set(NEEDS_FILE)  # every rule that needs the file, each by its own id
        assert {"artifact.sha256", "io.output.meaning", "io.input.shape", "parameters.count", "golden"} <= ids
        assert all("offline" in c["message"] for c in skipped)
        assert _statuses(report, model_id)["card.variant"] == "pass"  # checks without the file still ran
    suites = ET.parse(junit).getroot()
    assert int(suites.get("failures")) == 0 and int(suites.get("skipped")) == report["totals"]["not_checked"] == 2 * len(NEEDS_FILE)
    assert len(suites.findall(".//testcase")) == sum(report["totals"].values())


def test_imported_published_card_is_flagged(published_osnet_card: Path, mirror: Path, tmp_path: Path, capsys) -> None:
    card = tmp_path / "published" / "card.yaml"
    card.parent.mkdir()
    assert main(["import-card", str(published_osnet_card), "-o", str(card)]) == 0
    capsys.readouterr()
    code, report = _verify(capsys, str(card), "--mirror", str(mirror), "--offline")
    assert code == 1 and not report["passed"]
    entry = next(e for e in report["entries"] if e["subject"] == "osnet_a025")
    failed = {c["id"]: c for c in entry["checks"] if c["status"] == "fail"}
    assert "embedding" in failed["io.output.meaning"]["message"]
    assert (failed["parameters.count"]["details"]["declared"], failed["parameters.count"]["details"]["counted"]) == (197000, 133938)
    assert failed["io.output.dtype"]["details"] == {"declared": "float32", "found": "int8"}


def _registry_copy(tmp_path: Path) -> Path:
    root = tmp_path / "release"
    for name in ("registry", "model_cards"):
        shutil.copytree(data_dir(name), root / name)
    return root / "registry"


def test_latency_write_records_a_host_figure_then_compares_against_it(mirror: Path, tmp_path: Path, capsys) -> None:
    registry = _registry_copy(tmp_path)
    card = registry.parent / "model_cards" / "osnet" / "card.yaml"
    args = ("osnet_a025", "--registry", str(registry), "--mirror", str(mirror), "--offline", "--latency")
    code, report = _verify(capsys, *args, "--write")
    check = next(c for c in report["entries"][-1]["checks"] if c["id"] == "latency.host")
    assert code == 0 and "no host record" in check["message"] and check["details"]["count"] >= 50
    records = [r for r in load_yaml(card).data["performance"] if r["origin"] == "measured"]
    assert len(records) == 1 and records[0]["measured_on"]["kind"] == "host"
    assert records[0]["measured_on"]["cpu"] == check["details"]["cpu"] and records[0]["measured_on"]["threads"] == 1
    code, report = _verify(capsys, *args)
    check = next(c for c in report["entries"][-1]["checks"] if c["id"] == "latency.host")
    # the written record passes the card schema, and is what the second run compares against
    assert code == 0 and "card records" in check["message"]
    assert check["details"]["recorded"] == records[0]["values"]["inference_time"]["value"]


def test_shards_split_the_models_deterministically_and_completely() -> None:
    targets = select_targets(load_registry(), [])
    parts = [shard(targets, f"{i}/3") for i in (1, 2, 3)]
    assert sorted(t.model_id for p in parts for t in p) == sorted(t.model_id for t in targets)
    assert parts == [shard(list(reversed(targets)), f"{i}/3") for i in (1, 2, 3)]


@pytest.mark.parametrize("spec", ["0/2", "3/2", "x", "1/0"])
def test_bad_shard_is_a_usage_error(spec: str, capsys) -> None:
    assert main(["verify", "--shard", spec]) == 2
    assert "--shard" in capsys.readouterr().err


def test_accuracy_claim_contradicted_by_the_dataset_fails(mirror: Path, cuhk03_sample: Path, capsys) -> None:
    """The published 70.27 % mAP is a DeepSportradar figure; measured on other people it cannot hold."""
    code, report = _verify(capsys, "osnet_a025", "--mirror", str(mirror), "--offline",
                           "--dataset", str(cuhk03_sample), "--dataset-id", "deepsportradar")
    entry = next(e for e in report["entries"] if e["subject"] == "osnet_a025")
    accuracy = {c["id"]: c for c in entry["checks"] if c["id"].startswith("accuracy.")}
    assert code == 1 and accuracy["accuracy.mAP"]["status"] == "fail"
    assert accuracy["accuracy.mAP"]["details"]["claimed"] == 70.27
    assert accuracy["accuracy.mAP"]["details"]["measured"] < 70.27 - 1.0
    assert {"accuracy.rank1", "accuracy.rank5", "accuracy.rank10"} <= set(accuracy)


def test_accuracy_write_then_verify_compares_within_tolerance(mirror: Path, cuhk03_sample: Path, tmp_path: Path,
                                                              capsys) -> None:
    registry = _registry_copy(tmp_path)
    card_path = registry.parent / "model_cards" / "osnet" / "card.yaml"
    text = card_path.read_text()
    card_path.write_text(text.replace("performance:\n", "  - id: cuhk03\n    name: CUHK03 sample\n"
                                      "    license: research use only\nperformance:\n", 1))
    args = ("osnet_a025", "--registry", str(registry), "--mirror", str(mirror), "--offline",
            "--dataset", str(cuhk03_sample), "--dataset-id", "cuhk03")
    code, report = _verify(capsys, *args, "--write")
    assert code == 0
    written = [r for r in load_yaml(card_path).data["performance"] if r.get("dataset") == "cuhk03"]
    assert len(written) == 1 and written[0]["origin"] == "measured"
    code, report = _verify(capsys, *args, "--tolerance-pp", "0.01")
    entry = next(e for e in report["entries"] if e["subject"] == "osnet_a025")
    accuracy = {c["id"]: c for c in entry["checks"] if c["id"].startswith("accuracy.")}
    assert code == 0 and accuracy["accuracy.mAP"]["status"] == "pass"
    assert accuracy["accuracy.mAP"]["details"]["claimed"] == written[0]["values"]["mAP"]["value"]
    assert main(["render-card", str(card_path.parent), "--registry", str(registry)]) == 0
    assert "cuhk03" in (card_path.parent / "README.md").read_text().lower()
