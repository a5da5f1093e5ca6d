"""Cards as the Hub and huggingface_hub read them: each variant's figures survive ModelCard.load/save, task
types are pipeline tags, metric types Hub metric ids, and .eval_results parse with huggingface_hub's reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from zoo.cards.card import read_card
from zoo.render.front_matter import HUB_LICENSES, dump_yaml, eval_results, front_matter, results

from conftest import REPO, ST_ZOO_CARDS, need

SHIPPED = sorted((REPO / "model_cards").glob("*/README.md"))


@pytest.fixture(scope="module")
def imported_cards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The 7 published ST cards of ../shared, each imported by zoo (README rendered with its front matter)."""
    from zoo.importer.writing import import_card

    out = tmp_path_factory.mktemp("imported")
    for source in sorted(p for p in need(ST_ZOO_CARDS).glob("*.md") if p.name != "SOURCES.md"):
        import_card(source, out / source.stem / "card.yaml", None)
    return sorted(out.glob("*/README.md"))


def figures_after_round_trip(readme: Path, tmp_path: Path) -> dict[tuple, object]:
    """(variant, format, resolution, dataset, split, zoo metric) -> value, as huggingface_hub reads the README
    after saving it again."""
    from huggingface_hub import ModelCard

    saved = tmp_path / f"{readme.parent.name}-saved.md"
    ModelCard.load(readme).save(saved)
    card = ModelCard.load(saved)
    figures: dict[tuple, object] = {}
    for result in card.data.eval_results or []:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", result.task_type), result.task_type  # a pipeline tag
        assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", result.metric_type), result.metric_type  # a metric id
        args = result.metric_args
        key = (args["variant"], args.get("format"), args.get("resolution"), result.dataset_type, result.dataset_split,
               args["metric"])
        assert key not in figures, f"{readme}: two figures for {key}"
        figures[key] = result.metric_value
    assert card.data.license in HUB_LICENSES
    return figures


def expected_figures(readme: Path) -> dict[tuple, object]:
    card = read_card(readme.parent / "card.yaml")
    hub_id = {d["id"]: d.get("hub_id", d["id"]) for d in card.datasets}
    return {(r["variant"], r["format"], r["resolution"], hub_id.get(r["dataset"], r["dataset"]), r["split"], r["metric"]):
            r["value"] for r in results(card)}


@pytest.mark.parametrize("readme", SHIPPED, ids=lambda p: p.parent.name)
def test_shipped_cards_keep_each_variants_figures_through_model_card(readme: Path, tmp_path: Path) -> None:
    expected = expected_figures(readme)
    assert expected, "every shipped card publishes accuracy figures"
    assert figures_after_round_trip(readme, tmp_path) == expected


def test_imported_cards_keep_each_variants_figures_through_model_card(imported_cards: list[Path], tmp_path: Path) -> None:
    readmes = imported_cards
    assert len(readmes) == 7
    with_figures = 0
    for readme in readmes:
        expected = expected_figures(readme)
        assert figures_after_round_trip(readme, tmp_path) == expected, readme
        with_figures += bool(expected)
        meta = yaml.safe_load(readme.read_text(encoding="utf-8").split("---\n")[1])
        assert meta["license"] == "unknown"  # the ST cards state no licence: the Hub's id for that
        assert "_" not in meta["pipeline_tag"]
    assert with_figures >= 5


def test_float_and_int8_rows_of_one_variant_stay_apart(imported_cards: list[Path], tmp_path: Path) -> None:
    readme = next(p for p in imported_cards if "mnist" in p.parent.name)
    figures = figures_after_round_trip(readme, tmp_path)
    formats = {key[1] for key in figures if key[-1] == "top1"}
    assert len(formats) == 2, figures  # float and int8 top-1 on the same dataset: two figures, each named


@pytest.mark.parametrize("readme", SHIPPED, ids=lambda p: p.parent.name)
def test_eval_results_parse_with_huggingface_hubs_reader(readme: Path) -> None:
    from huggingface_hub import EvalResultEntry
    from huggingface_hub._eval_results import parse_eval_result_entries

    card = read_card(readme.parent / "card.yaml")
    files = eval_results(card)
    assert set(files) == {f"{vid}.yaml" for vid in card.variant_ids if results(card, vid)}
    for name, entries in files.items():
        parsed = parse_eval_result_entries(yaml.safe_load(dump_yaml(entries)))
        assert all(isinstance(e, EvalResultEntry) for e in parsed)
        want = [(r["metric"], r["value"]) for r in results(card, name.removesuffix(".yaml"))]
        assert [(e.task_id, e.value) for e in parsed] == want
        assert all(name.removesuffix(".yaml") in e.notes for e in parsed)


def test_one_variants_front_matter_holds_only_its_figures() -> None:
    card = read_card(REPO / "model_cards" / "osnet" / "card.yaml")
    meta = front_matter(card, "osnet_a100")
    assert [entry["name"] for entry in meta["model-index"]] == ["osnet_a100"]
    variants = {m["args"]["variant"] for r in meta["model-index"][0]["results"] for m in r["metrics"]}
    assert variants == {"osnet_a100"}
