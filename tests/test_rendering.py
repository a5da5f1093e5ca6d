"""zoo render-card: READMEs are regenerated from card.yaml, checked in CI, and never half-written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mdformat
import pytest

from zoo.cli import main
from zoo.cards.units import format_rate, inferences_per_second

REPO = Path(__file__).resolve().parent.parent
CARDS = REPO / "model_cards"


@pytest.fixture
def osnet(tmp_path: Path) -> Path:
    """A copy of the OSNet card folder, free to edit."""
    return Path(shutil.copytree(CARDS / "osnet", tmp_path / "osnet"))


def test_shipped_readmes_are_up_to_date(capsys: pytest.CaptureFixture) -> None:
    assert main(["render-card", "--check"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("family", ["osnet", "mobilenetv2_reid"])
def test_mdformat_leaves_rendered_readmes_alone(family: str) -> None:
    text = (CARDS / family / "README.md").read_text()
    assert mdformat.text(text, extensions={"frontmatter", "tables"}) == text


def test_changed_figure_is_stale_until_rendered(osnet: Path, capsys: pytest.CaptureFixture) -> None:
    card = osnet / "card.yaml"
    card.write_text(card.read_text().replace("inference_time: {value: 3.53, unit: ms}", "inference_time: {value: 4.0, unit: ms}"))
    before = (osnet / "README.md").read_bytes()
    assert main(["render-card", "--check", str(osnet)]) == 1
    assert capsys.readouterr().err.strip() == f"stale: {osnet / 'README.md'}"
    assert (osnet / "README.md").read_bytes() == before  # --check writes nothing

    assert main(["render-card", str(osnet)]) == 0
    readme = (osnet / "README.md").read_text()
    assert "| 4.0 " in readme and "| 250 " in readme and "| 3.53 " not in readme  # figure and derived inf/s
    assert main(["render-card", "--check", str(osnet)]) == 0
    capsys.readouterr()
    assert main(["render-card", str(osnet), "--json"]) == 0  # idempotent: a second run writes nothing
    assert json.loads(capsys.readouterr().out)["cards"][0]["written"] is False
    assert (osnet / "README.md").read_text() == readme


def test_json_reports_each_card(osnet: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["render-card", "--check", "--json", str(osnet / "card.yaml"), str(CARDS / "mobilenetv2_reid")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["check"] is True
    assert [(c["stale"], c["written"]) for c in data["cards"]] == [(False, False), (False, False)]
    assert set(data["cards"][0]) == {"card", "readme", "stale", "written"}


def test_diff_shows_the_change_and_writes_nothing(osnet: Path, capsys: pytest.CaptureFixture) -> None:
    card = osnet / "card.yaml"
    card.write_text(card.read_text().replace("mAP: {value: 70.27", "mAP: {value: 71.5"))
    before = (osnet / "README.md").read_bytes()
    assert main(["render-card", "--diff", str(osnet)]) == 1  # stale: a diff is a check that shows why
    diff = capsys.readouterr().out
    assert diff.startswith("--- a/") and "-| [OSNet 0.25 tfs]" in diff and "71.5 %" in diff
    assert "-            value: 70.27\n+            value: 71.5\n" in diff  # the front matter follows the card
    assert (osnet / "README.md").read_bytes() == before


def test_crlf_readme_is_not_stale_and_keeps_its_newlines(osnet: Path) -> None:
    readme = osnet / "README.md"
    readme.write_bytes(readme.read_bytes().replace(b"\n", b"\r\n"))
    assert main(["render-card", "--check", str(osnet)]) == 0
    card = osnet / "card.yaml"
    card.write_text(card.read_text().replace("{value: 480, unit: KiB}", "{value: 481, unit: KiB}", 1))
    assert main(["render-card", str(osnet)]) == 0
    raw = readme.read_bytes()
    assert b"| 481 " in raw and raw.count(b"\r\n") == raw.count(b"\n")


def test_readme_with_a_bom_keeps_one_front_matter_and_its_bom(osnet: Path) -> None:
    readme = osnet / "README.md"
    readme.write_bytes(b"\xef\xbb\xbf" + readme.read_bytes())  # as some Windows editors save it
    assert main(["render-card", "--check", str(osnet)]) == 0  # the BOM is not a change of content
    card = osnet / "card.yaml"
    card.write_text(card.read_text().replace("{value: 480, unit: KiB}", "{value: 481, unit: KiB}", 1))
    assert main(["render-card", str(osnet)]) == 0
    raw = readme.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf---\n") and raw.count(b"\xef\xbb\xbf") == 1 and b"| 481 " in raw
    assert raw.decode("utf-8-sig").count("\nlicense:") == 1  # one front matter, not a second one above the first
    assert main(["render-card", "--check", str(osnet)]) == 0


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("<!-- zoo:end name=platforms -->\n", "", 1), "region 'memory-npu' begins inside region 'platforms'"),
        (lambda t: t.replace("<!-- zoo:end name=time-mcu -->\n", "", 1), "region 'accuracy-deepsportradar' begins inside region 'time-mcu'"),
        (lambda t: t + "\n<!-- zoo:begin name=network -->\n<!-- zoo:end name=network -->\n", "region 'network' appears twice"),
        (lambda t: t + "\n<!-- zoo:end name=nowhere -->\n", "end of region 'nowhere' without its begin marker"),
        (lambda t: t + "\n<!-- zoo:begin name=tail -->\n", "region 'tail' has no end marker"),
        (lambda t: t + "\n<!-- zoo:begin  name=x-->\n", "malformed marker"),
        (lambda t: t + "\n<!-- zoo:begin name=speed -->\n<!-- zoo:end name=speed -->\n", "the card has no data for region 'speed'"),
    ],
)
def test_broken_markers_name_the_line_and_leave_the_file(osnet: Path, capsys: pytest.CaptureFixture, edit, expected: str) -> None:
    readme = osnet / "README.md"
    readme.write_text(edit(readme.read_text()))
    before = readme.read_bytes()
    assert main(["render-card", str(osnet)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(expected in line for line in err), err
    for line in err:
        assert line.startswith(f"zoo: error: {readme}:")
        line_no = int(line.split(f"{readme}:")[1].split(":")[0])
        assert 1 <= line_no <= before.count(b"\n") + 1
    assert readme.read_bytes() == before


def test_marker_line_numbers_are_lines_of_the_file(osnet: Path, capsys: pytest.CaptureFixture) -> None:
    readme = osnet / "README.md"
    lines = readme.read_text().splitlines(keepends=True)
    del lines[lines.index("<!-- zoo:end name=network -->\n")]
    readme.write_text("".join(lines))
    assert main(["render-card", str(osnet)]) == 2
    err = capsys.readouterr().err
    network = lines.index("<!-- zoo:begin name=network -->\n") + 1
    io = lines.index("<!-- zoo:begin name=io -->\n") + 1
    assert network > 20  # the front matter comes first and counts
    assert f"{readme}:{io}: region 'io' begins inside region 'network' (line {network})" in err
    assert f"{readme}:{network}: region 'network' has no end marker" in err


def test_front_matter_follows_hugging_face_conventions() -> None:
    import yaml

    text = (CARDS / "mobilenetv2_reid" / "README.md").read_text()
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["license"] == "other" and meta["license_name"] == "sla0044" and meta["license_link"].startswith("https://")
    assert meta["pipeline_tag"] == "image-feature-extraction"
    assert [entry["name"] for entry in meta["model-index"]] == ["mobilenetv2_reid"]  # one entry: the family
    result = meta["model-index"][0]["results"][0]
    assert result["task"]["type"] == "image-feature-extraction"
    assert result["dataset"] == {"name": "DeepSportradar", "type": "deepsportradar", "split": "test"}
    a035 = {m["args"]["metric"]: (m["type"], m["value"]) for m in result["metrics"] if m["args"]["variant"] == "mobilenetv2_a035"}
    assert a035 == {"mAP": ("mean_average_precision", 73.43), "rank1": ("accuracy", 96.0), "rank5": ("accuracy", 96.0),
                    "rank10": ("accuracy", 98.0)}
    assert all(m["name"].endswith("(%)") and m["args"]["unit"] == "percent" for m in result["metrics"])
    osnet = yaml.safe_load((CARDS / "osnet" / "README.md").read_text().split("---\n")[1])
    assert osnet["license"] == "mit" and "license_name" not in osnet


@pytest.mark.parametrize(
    ("ms", "published"),
    [(3.53, "283.3"), (13.44, "74.4"), (495.13, "2.02"), (3894.82, "0.26"), (4.15, "241"), (729.45, "1.37"), (13.37, "74.8")],
)
def test_rate_rounding_reproduces_published_figures(ms: float, published: str) -> None:
    assert format_rate(inferences_per_second(ms)) == published


def test_rate_rounding_differs_from_the_one_inconsistent_upstream_figure() -> None:
    # Upstream printed 5.3 for 190.3 ms (1 decimal), unlike its other sub-10 figures (2 decimals).
    assert format_rate(inferences_per_second(190.3)) == "5.25"
    assert format_rate(inferences_per_second(0.19, "s")) == "5.26"
