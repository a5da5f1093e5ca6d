"""``zoo verify`` with protocols and kernel sets: a claim is compared only with a measurement made the same way,
and every figure says how it was made (text, JSON, JUnit, the records --write stores, the rendered card).

On the demo model (the real osnet_a025's published figures: test_real_artifacts.py).
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from zoo.reid import synthetic
from zoo.cli import main
from zoo.core.documents import load_yaml
from zoo.core.resources import data_dir, load_schema

DEMO = ("osnet_demo", "--offline")


def verify_json(capsys, *args: str) -> tuple[int, dict, list[dict]]:
    code = main(["verify", *args, "--json"])
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, load_schema("verify-report"))
    model = next(e for e in report["entries"] if e["kind"] == "model")
    return code, model, model["checks"]


def test_both_kernel_sets_agreement_and_accuracy_under_each(demo_test_split, capsys, tmp_path):
    junit = tmp_path / "verify.xml"
    args = (*DEMO, "--dataset", str(demo_test_split), "--dataset-id", "synthetic_reid", "--kernels", "both")
    code, model, checks = verify_json(capsys, *args, "--junit", str(junit))
    agreement = next(c for c in checks if c["id"] == "kernels.agreement")["details"]
    assert agreement["cases"] == 3 and agreement["max_steps"] >= 1 and 0 < agreement["differing_share"] < 1
    accuracy = [c for c in checks if c["id"].startswith("accuracy")]
    compared = [c for c in accuracy if c["id"] != "accuracy"]
    # the card's record was measured with the optimized kernels, so only that measurement is compared with it
    assert code == 0 and compared and {(c["details"]["protocol"], c["details"]["kernels"]) for c in compared} \
        == {("market1501", "optimized")}
    assert all(c["status"] == "pass" for c in compared)
    shown = next(c for c in accuracy if c["id"] == "accuracy")  # the reference figures, shown with nothing compared
    assert shown["details"]["kernels"] == "reference" and "no claim under these" in shown["message"]
    records = model["measured"]
    assert [r["measured_on"]["kernels"] for r in records] == ["optimized", "reference"]
    assert all("protocol" not in r for r in records)  # the card's own protocol: not repeated in the record

    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    assert "accuracy.mAP[0] (market1501 protocol, optimized kernels)" in cases
    shown = cases["accuracy (market1501 protocol, reference kernels)"].find("system-out").text
    assert "mAP" in shown and "reference kernels" in shown


def test_a_claim_is_not_compared_across_protocols(demo_test_split, capsys):
    code, _, checks = verify_json(capsys, *DEMO, "--dataset", str(demo_test_split), "--dataset-id", "synthetic_reid",
                                  "--protocol", "st-modelzoo")
    accuracy = [c for c in checks if c["id"].startswith("accuracy")]
    assert code == 0 and not [c for c in accuracy if c["id"] != "accuracy"]  # no figure compared
    skipped = [c for c in accuracy if c["status"] == "not_checked"]
    assert len(skipped) == 1 and "under the market1501 protocol; measured under st-modelzoo only" in skipped[0]["message"]
    shown = next(c for c in accuracy if c["severity"] == "info")
    assert shown["details"]["protocol"] == "st-modelzoo" and "mINP" not in shown["details"]["measured"]
    with pytest.raises(SystemExit) as bad:  # argparse's choices: exit 2 with the list
        main(["verify", *DEMO, "--dataset", str(demo_test_split), "--dataset-id", "synthetic_reid", "--protocol", "st"])
    assert bad.value.code == 2 and "st-modelzoo-dequantized" in capsys.readouterr().err
    assert main(["verify", *DEMO, "--dataset", str(demo_test_split), "--dataset-id", "synthetic_reid", "-v"]) == 0
    figures = [line for line in capsys.readouterr().out.splitlines() if "accuracy" in line and "measured" in line]
    assert figures and all("(market1501 protocol, optimized kernels)" in line or
                           "; market1501 protocol, optimized kernels)" in line for line in figures)


def test_write_records_protocol_and_kernels_and_the_card_shows_them(capsys, tmp_path):
    people = synthetic.write_test_set(tmp_path / "few", identities=8, gallery_per_identity=3).root  # any split
    root = tmp_path / "release"
    for name in ("registry", "model_cards"):
        shutil.copytree(data_dir(name), root / name)
    card = root / "model_cards" / "osnet_demo" / "card.yaml"
    args = (*DEMO, "--registry", str(root / "registry"), "--dataset", str(people), "--dataset-id", "synthetic_reid",
            "--protocol", "st-modelzoo-dequantized", "--kernels", "reference", "--write")
    assert main(["verify", *args]) == 0
    capsys.readouterr()
    written = [r for r in load_yaml(card).data["performance"] if r.get("protocol") == "st-modelzoo-dequantized"]
    assert len(written) == 1 and written[0]["measured_on"]["kernels"] == "reference"
    assert "mINP" not in written[0]["values"]  # the ST protocols have none
    assert main(["render-card", str(card.parent), "--registry", str(root / "registry")]) == 0
    capsys.readouterr()
    table = [line for line in (card.parent / "README.md").read_text().splitlines() if "st-modelzoo-dequantized" in line]
    assert len(table) == 1 and "| reference " in table[0]
    code, _, checks = verify_json(capsys, *args[:-1])  # re-measured the same way: compared, and it holds
    compared = [c for c in checks if c["id"].startswith("accuracy.")]
    assert code == 0 and compared and all(c["status"] == "pass" for c in compared)
