from __future__ import annotations

import copy
from pathlib import Path

import pytest

from zoo.documents import load_yaml
from zoo.inspection import inspect_model
from zoo.registry import load_registry
from zoo.resources import data_dir
from zoo.rules.artifact import artifact_checks
from zoo.rules.base import FAIL, PASS
from zoo.rules.card import record_checks

DATA = Path(__file__).parent / "data"


def _card(name: str) -> dict:
    return load_yaml(data_dir("model_cards") / name / "card.yaml").data


def _by_id(checks) -> dict[str, list]:
    out: dict[str, list] = {}
    for c in checks:
        out.setdefault(c.id, []).append(c)
    return out


@pytest.mark.parametrize(("family", "fixture"), [("osnet", "real_osnet"), ("mobilenetv2_reid", "real_mobilenetv2")])
def test_our_cards_pass_every_rule_on_the_real_files(family: str, fixture: str, request) -> None:
    registry = load_registry()
    info = inspect_model(request.getfixturevalue(fixture), registry)
    card = _card(family)
    checks = list(artifact_checks(card, info.artifact.model_id, info)) + list(record_checks(card, registry))
    assert [c for c in checks if c.status != PASS] == []
    ids = set(_by_id(checks))
    assert {"io.input.shape", "io.output.meaning", "io.output.quantization", "preprocessing.rescale",
            "parameters.count", "records.resolution", "records.variant", "quantization.precision"} <= ids


def test_published_card_claims_are_flagged_against_the_real_file(real_osnet: Path) -> None:
    registry = load_registry()
    info = inspect_model(real_osnet, registry)
    card = load_yaml(DATA / "published_osnet_card.yaml").data
    checks = _by_id(artifact_checks(card, "osnet_a025", info))
    meaning = checks["io.output.meaning"][0]
    assert meaning.status == FAIL and meaning.severity == "error"
    assert "128-dim embedding" in meaning.message and "class_scores" in meaning.message
    params = checks["parameters.count"][0]
    assert params.status == FAIL
    assert (params.details["declared"], params.details["counted"]) == (197000, 133938)
    assert params.details["relative_difference"] == pytest.approx(0.4708, abs=1e-4)
    assert checks["io.output.dtype"][0].status == FAIL  # FLOAT32 claimed, int8 in the file
    assert checks["io.output.shape"][0].status == "warn"  # (1, P) is vague rather than false
    assert checks["preprocessing.rescale"][0].status == PASS
    records = _by_id(record_checks(card, registry))
    assert records["records.artifact"][0].status == PASS and records["records.derived"][0].status == PASS


def test_each_rule_catches_its_own_contradiction(real_osnet: Path) -> None:
    registry = load_registry()
    info = inspect_model(real_osnet, registry)
    card = copy.deepcopy(_card("osnet"))
    card["preprocessing"]["rescale"] = {"scale": 1 / 255, "offset": 0}
    card["quantization"]["precision"] = "float16"
    card["inputs"][0]["quantization"]["zero_point"] = 128
    card["performance"][0]["resolution"] = "224x224x3"
    card["performance"][0]["values"]["fps"] = {"value": 300.0, "unit": "inf/s"}  # 1000 / 3.53 = 283.3
    card["performance"][1]["variant"] = "osnet_a999"
    failed = {c.id for c in list(artifact_checks(card, "osnet_a025", info)) + list(record_checks(card, registry))
              if c.status == FAIL}
    assert failed == {"preprocessing.rescale", "quantization.precision", "io.input.quantization",
                      "records.resolution", "records.derived", "records.variant"}
