"""No green without a check: --strict, runs that would compare nothing, tolerances, and what the summary counts.

Everything runs on the bundled osnet_demo (its file served from the bundled mirror), so a plain clone tests it.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from zoo.cli import main
from zoo.demo import bundled_mirror, run_demo
from zoo.core.resources import load_schema


def _verify(capsys, *args: str) -> tuple[int, dict, str]:
    code = main(["verify", *args, "--json"])
    out = capsys.readouterr()
    report = json.loads(out.out) if out.out.strip() else {}
    if report and "error" not in report:
        jsonschema.validate(report, load_schema("verify-report"))
    return code, report, out.err


@pytest.fixture(scope="module")
def demo_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's synthetic test set, kept where ``zoo demo --keep`` puts it (named as the card's dataset id)."""
    work = tmp_path_factory.mktemp("demo")
    assert run_demo(workdir=work).ok
    return work / "synthetic_reid"


def test_offline_with_an_empty_cache_is_not_green_when_strict(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    code, report, _ = _verify(capsys, "osnet_a025", "--offline")
    assert code == 0 and report["totals"]["not_checked"] > 0 and not report["strict"]
    code, report, _ = _verify(capsys, "osnet_a025", "--offline", "--strict")
    assert code == 1 and not report["passed"] and report["strict"] and report["totals"]["not_checked"] == 0
    failed = [c for e in report["entries"] for c in e["checks"] if c["status"] == "fail"]
    assert failed and all(c["message"].startswith("not checked (strict):") for c in failed)
    monkeypatch.setenv("ZOO_STRICT", "1")
    assert _verify(capsys, "osnet_a025", "--offline")[0] == 1


def test_an_offline_run_with_an_empty_cache_never_says_passed(capsys) -> None:
    """Finding 7: 21 checks not run used to print PASSED (exit 0), also under CI=true."""
    assert main(["verify", "osnet_a025", "--offline"]) == 0  # lenient outside CI, but not green
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("INCOMPLETE: ") and "PASSED" not in last
    assert "not checked (" in last and "artifact" in last and "golden" in last  # says what did not run
    code, report, _ = _verify(capsys, "osnet_a025", "--offline")
    assert report["verdict"] == "INCOMPLETE" and code == 0
    assert main(["verify", "osnet_demo", "--mirror", str(bundled_mirror()), "--offline"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("PASSED: ")


def test_ci_fails_what_it_did_not_check_unless_no_strict(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    code, report, _ = _verify(capsys, "osnet_a025", "--offline")
    assert code == 1 and report["strict"] and report["verdict"] == "FAILED"
    assert main(["verify", "osnet_a025", "--offline", "--no-strict"]) == 0
    out = capsys.readouterr()
    assert out.out.strip().splitlines()[-1].startswith("INCOMPLETE: ")
    assert "not checked" in out.err.strip().splitlines()[-1]  # the last line a CI log shows
    monkeypatch.setenv("ZOO_STRICT", "0")
    assert main(["verify", "osnet_a025", "--offline"]) == 0
    capsys.readouterr()
    assert main(["verify", "osnet_demo", "--mirror", str(bundled_mirror()), "--offline"]) == 0
    assert capsys.readouterr().err.strip() == ""  # everything checked: nothing to confess


def test_the_summary_counts_only_what_was_compared(capsys) -> None:
    code, report, _ = _verify(capsys, "osnet_demo", "--mirror", str(bundled_mirror()), "--offline", "--latency")
    assert code == 0 and report["totals"]["not_checked"] == 0
    latency = next(c for e in report["entries"] for c in e["checks"] if c["id"] == "latency.host")
    assert latency["severity"] == "info"  # the card has no host record for this CPU: nothing compared
    assert report["totals"]["info"] >= 1
    compared = sum(1 for e in report["entries"] for c in e["checks"] if c["status"] == "pass" and c["severity"] != "info")
    assert report["totals"]["pass"] == compared


@pytest.mark.parametrize("args", [["--dataset-id", "nope"], ["--tolerance-pp", "-1"], ["--tolerance-pp", "nan"],
                                  ["--tolerance-pp", "inf"]])
def test_bad_dataset_ids_and_tolerances_are_usage_errors(args: list[str], demo_dataset: Path, capsys) -> None:
    code = main(["verify", "osnet_demo", "--mirror", str(bundled_mirror()), "--offline", "--dataset",
                 str(demo_dataset), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("zoo: error: --")


def test_a_dataset_no_card_claims_anything_on_is_a_usage_error(demo_dataset: Path, tmp_path: Path, capsys) -> None:
    elsewhere = tmp_path / "unnamed"
    elsewhere.symlink_to(demo_dataset)
    code = main(["verify", "osnet_demo", "--mirror", str(bundled_mirror()), "--offline", "--dataset", str(elsewhere)])
    assert code == 2 and "names no dataset" in capsys.readouterr().err


def test_demo_keep_then_verify_compares_the_claims(demo_dataset: Path, capsys) -> None:
    code, report, _ = _verify(capsys, "osnet_demo", "--mirror", str(bundled_mirror()), "--offline", "--dataset",
                              str(demo_dataset), "--tolerance-pp", "0", "--strict")
    accuracy = {c["id"]: c["status"] for e in report["entries"] for c in e["checks"] if c["id"].startswith("accuracy")}
    assert code == 0, report
    assert accuracy == {"accuracy.mAP": "pass", "accuracy.rank1": "pass", "accuracy.rank5": "pass",
                        "accuracy.rank10": "pass"}


def test_demo_refuses_a_negative_tolerance(capsys) -> None:
    assert main(["demo", "--tolerance", "-0.5"]) == 2
    assert capsys.readouterr().err.strip().startswith("zoo: error: --tolerance -0.5")
