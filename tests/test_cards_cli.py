"""zoo validate: every card and the registry, every problem on its own line, exit 1 if any."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zoo.cli import main

REPO = Path(__file__).resolve().parent.parent
OSNET = REPO / "model_cards" / "osnet" / "card.yaml"


def test_shipped_cards_and_registry_validate(capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert sorted(f["kind"] for f in data["files"]) == ["card", "card", "card", "registry", "targets"]


def test_every_problem_of_every_card_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad" / "card.yaml"
    bad.parent.mkdir()
    bad.write_text(OSNET.read_text().replace("title: OSNet\n", "title: OSNet\ncolour: blue\n").replace("family: osnet", "family: OSNet"))
    units = tmp_path / "units.yaml"
    units.write_text(OSNET.read_text().replace("{value: 404.94, unit: KiB}", "{value: 404.94, unit: parsecs}"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("family: osnet\ntitle: [\n")
    line = next(n for n, text in enumerate(OSNET.read_text().splitlines(), 1) if "404.94" in text)
    paths = [bad.parent, units, broken, tmp_path / "missing.yaml", OSNET]
    assert main(["validate", *map(str, paths)]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        f"{bad}:4: /family: 'OSNet' does not match '^[a-z0-9][a-z0-9_.-]{{0,63}}$'",
        f"{bad}:6: /colour: unknown key",
        f"{units}:{line}: /performance/0/values/weights_flash/unit: unit 'parsecs' does not fit weights_flash (memory: KiB, B, MiB)",
        f"{broken}:3: invalid YAML: did not find expected node content",
        f"{tmp_path / 'missing.yaml'}: no such file",
    ]
    assert out.err == "5 problem(s) in 5 file(s)\n"


def test_a_broken_registry_is_reported_and_cards_still_checked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    registry = tmp_path / "registry.yaml"
    registry.write_text("schema_version: 1\nname: x\nmodels: []\n")
    card = tmp_path / "model_cards" / "demo" / "card.yaml"
    card.parent.mkdir(parents=True)
    card.write_bytes((REPO / "model_cards" / "osnet_demo" / "card.yaml").read_bytes())
    assert main(["validate", "--registry", str(registry), "--json"]) == 1
    files = json.loads(capsys.readouterr().out)["files"]
    assert files[0]["kind"] == "registry" and "/models" in files[0]["problems"][0]
    # the cards of that zoo, never the shipped ones
    assert [(f["kind"], f["path"], f["problems"]) for f in files[1:]] == [("targets", files[1]["path"], []),
                                                                          ("card", str(card), [])]
