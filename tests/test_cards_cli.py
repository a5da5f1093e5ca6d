"""zoo validate: every card and the registry, every problem on its own line, exit 1 if any."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import DEMO_FILE

from zoo.cli import main

REPO = Path(__file__).resolve().parent.parent
OSNET = REPO / "model_cards" / "osnet" / "card.yaml"


def test_shipped_cards_and_registry_validate(capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"findings": []}
    assert main(["validate"]) == 0
    assert capsys.readouterr().err == "0 error(s), 0 other finding(s) in 5 file(s)\n"  # 3 cards, registry, targets


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
        f"{bad}:4: error: /family: 'OSNet' does not match '^[a-z0-9][a-z0-9_.-]{{0,63}}$' [card.schema]",
        f"{bad}:6: error: /colour: unknown key [card.schema]",
        f"{units}:{line}: error: /performance/0/values/weights_flash/unit: unit 'parsecs' does not fit weights_flash "
        "(memory: KiB, B, MiB, kB, KB) [card.schema]",
        f"{broken}:3: error: invalid YAML: did not find expected node content [card.schema]",
        f"{tmp_path / 'missing.yaml'}:1: error: no such file [card.schema]",
    ]
    assert out.err == "5 error(s), 0 other finding(s) in 5 file(s)\n"


def test_a_broken_registry_is_reported_and_cards_still_checked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    registry = tmp_path / "registry.yaml"
    registry.write_text("schema_version: 1\nname: x\nmodels: []\n")
    card = tmp_path / "model_cards" / "demo" / "card.yaml"
    card.parent.mkdir(parents=True)
    card.write_bytes((REPO / "model_cards" / "osnet_demo" / "card.yaml").read_bytes())
    assert main(["validate", "--registry", str(registry), "--json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    # the registry's problem only: the cards of that zoo (never the shipped ones) and its targets are fine
    assert [(f["file"], f["rule"], f["severity"]) for f in findings] == [(str(registry), "registry.schema", "error")]
    assert "/models" in findings[0]["message"] and findings[0]["line"] >= 1
    assert main(["validate", "--registry", str(registry)]) == 1
    assert capsys.readouterr().err.endswith(" in 3 file(s)\n")  # registry, targets and the zoo's one card


def test_render_check_skips_other_readmes_and_reports_every_card(tmp_path: Path, capsys) -> None:
    """Finding 10: the pre-commit hook failed on docs/README.md (no card.yaml beside it, exit 2, "no such file"),
    and that error hid a stale card of the same run. Finding 6: --diff exited 0 on a stale README."""
    docs = tmp_path / "docs" / "README.md"
    docs.parent.mkdir()
    docs.write_text("# Documentation\n")
    assert main(["render-card", "--check", str(docs)]) == 0
    stale = tmp_path / "stale"
    shutil.copytree(REPO / "model_cards" / "osnet_demo", stale)
    readme = stale / "README.md"
    readme.write_text(readme.read_text().replace("| 25,678 (", "| 25,679 (", 1))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "README.md").write_text("<!-- zoo:begin name=io -->\n<!-- zoo:end name=io -->\n")
    capsys.readouterr()
    assert main(["render-card", "--check", str(docs), str(readme), str(broken / "README.md")]) == 2
    err = capsys.readouterr().err
    assert f"stale: {readme}" in err and f"{broken / 'card.yaml'}: no such file" in err
    assert main(["render-card", "--diff", str(readme)]) == 1
    assert "25,679" in capsys.readouterr().out  # the diff shows the stale figure


def _demo_card_without(tmp_path: Path, region: str) -> Path:
    """A copy of the demo card whose README lacks the generated region ``region``."""
    card = tmp_path / "demo"
    shutil.copytree(REPO / "model_cards" / "osnet_demo", card)
    readme = card / "README.md"
    text = readme.read_text()
    begin, end = f"<!-- zoo:begin name={region} -->", f"<!-- zoo:end name={region} -->"
    readme.write_text(text[:text.index(begin)] + text[text.index(end) + len(end):])
    return card


def test_a_region_the_readme_does_not_show_is_a_warning_naming_it(tmp_path: Path, capsys) -> None:
    """Finding 6: records without a region in the README were skipped silently."""
    card = _demo_card_without(tmp_path, "io")
    assert main(["render-card", "--check", str(card)]) == 0
    err = capsys.readouterr().err
    assert "region 'io' that the README does not show; add <!-- zoo:begin name=io -->" in err


def test_a_card_claiming_accuracy_without_what_evaluate_needs_is_a_warning_naming_it(tmp_path: Path, capsys) -> None:
    """Finding 5: evaluate failed with "preprocessing: missing or malformed 'resize'", naming no file, and
    neither validate nor verify --strict had said the card lacks it."""
    import yaml

    card = tmp_path / "demo" / "card.yaml"
    shutil.copytree(REPO / "model_cards" / "osnet_demo", card.parent)
    data = yaml.safe_load(card.read_text())
    del data["preprocessing"]["resize"]
    card.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(card)]) == 0  # a warning, not an error
    out = capsys.readouterr().out
    assert f"{card}:" in out and "warning" in out and "no preprocessing resize" in out and "height: 128, width: 64" in out
    dataset = tmp_path / "empty"
    dataset.mkdir()
    assert main(["evaluate", str(DEMO_FILE), "--card", str(card), "--dataset", str(dataset)]) == 2
    assert f"{card}: preprocessing: missing or malformed 'resize'" in capsys.readouterr().err


def test_render_footprint_on_a_readme_without_its_region_says_so(tmp_path: Path, capsys) -> None:
    """Finding 6: `render-card --footprint` on a card whose README has no footprint region was skipped silently."""
    from zoo.demo import bundled_mirror

    card = _demo_card_without(tmp_path, "footprint")
    assert main(["render-card", "--footprint", str(card), "--mirror", str(bundled_mirror()), "--offline"]) == 0
    assert "region 'footprint' that the README does not show" in capsys.readouterr().err


def test_only_accuracy_figures_must_name_their_dataset(tmp_path: Path, capsys) -> None:
    import yaml

    card = tmp_path / "demo" / "card.yaml"
    shutil.copytree(REPO / "model_cards" / "osnet_demo", card.parent)
    data = yaml.safe_load(card.read_text())
    del data["performance"][0]["dataset"]
    card.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(card)]) == 1
    assert "an accuracy figure names the dataset it was measured on" in capsys.readouterr().out
