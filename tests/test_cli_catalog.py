from __future__ import annotations

import json

import pytest

from zoo.cli import main


def test_list_json_has_a_stable_shape(capsys: pytest.CaptureFixture) -> None:
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [m["id"] for m in data["models"]] == ["osnet_a025", "osnet_a100", "mobilenetv2_a035", "mobilenetv2_a100", "osnet_demo",
                                                     "osnet_demo_qdq"]
    assert set(data["models"][0]) == {"id", "family", "title", "task", "license", "card", "version", "artifacts"}


def test_list_filters_by_task(capsys: pytest.CaptureFixture) -> None:
    assert main(["list", "--task", "image_classification", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["models"] == []


def test_info_unknown_id_is_a_usage_error_with_json(capsys: pytest.CaptureFixture) -> None:
    assert main(["info", "nope", "--json"]) == 2
    out = capsys.readouterr()
    assert json.loads(out.out)["error"]["exit_code"] == 2
    assert out.err.count("\n") == 1


def test_info_shows_hash_and_size(capsys: pytest.CaptureFixture) -> None:
    assert main(["info", "osnet_a025"]) == 0
    out = capsys.readouterr().out
    assert "e9713dbba5f843477a0dd639bb35bae88cfe51b8d8b15bc9e0f1133ff2a26375" in out and "377,504" in out


def test_list_says_when_a_task_has_no_model_and_info_shows_versions_and_claims(capsys) -> None:
    """Finding 9: `list --task detection` printed an empty table; `info` showed a card path but none of its claims."""
    assert main(["list", "--task", "detection"]) == 0
    out = capsys.readouterr()
    assert out.out == "" and "no model of task detection" in out.err and "re_identification" in out.err
    assert main(["info", "osnet_demo"]) == 0
    text = capsys.readouterr().out
    assert "versions 1 (plain osnet_demo: 1)" in text and "claims synthetic_reid" in text and "mAP 88.91 %" in text
    assert main(["info", "osnet_demo@1", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["versions"][0]["version"] == "1" and info["claims"]
