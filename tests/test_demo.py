"""The bundled demo: the committed model is what its registry entry and card say, and ``zoo demo`` works."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from zoo.reid import synthetic
from zoo.cards.card import load_card
from zoo.demo import DEMO_MODEL, STEPS, bundled_mirror, run_demo
from zoo.reid.evaluation import evaluate
from zoo.model.inspection import inspect_model
from zoo.catalog.registry import load_registry
from zoo.core.resources import data_dir
from zoo.model.runtime import load_model
from helpers import zoo


@pytest.fixture(scope="module")
def demo_file() -> Path:
    artifact = load_registry().get(DEMO_MODEL).artifact("tflite")
    return bundled_mirror() / DEMO_MODEL / artifact.file


def test_committed_model_matches_its_registry_entry(demo_file: Path) -> None:
    artifact = load_registry().get(DEMO_MODEL).artifact("tflite")
    data = demo_file.read_bytes()
    assert len(data) == artifact.size < 1_000_000
    assert hashlib.sha256(data).hexdigest() == artifact.sha256


def test_demo_model_is_an_int8_osnet_embedding_like_the_real_ones(demo_file: Path) -> None:
    model = load_model(demo_file)
    (image,), (embedding,) = model.inputs, model.outputs
    assert image.dtype == "uint8" and image.shape == (1, *synthetic.DEFAULT_SIZE, 3)
    assert image.scale == pytest.approx(1 / 127.5) and image.zero_point == 127
    assert embedding.dtype == "int8" and len(embedding.shape) == 2 and embedding.shape[1] >= 32
    info = inspect_model(demo_file, load_registry())
    assert info.output_producers == ("MEAN",) and info.output_meaning(0) == "embedding"  # no classifier head
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "LOGISTIC", "MUL"} <= set(info.ops)  # lite 3x3 and the gate


def test_demo_model_separates_synthetic_identities(demo_file: Path, tmp_path: Path) -> None:
    """On unseen synthetic people the model ranks a true match first far above chance (1 in 30)."""
    synthetic.write_test_set(tmp_path, identities=30, gallery_per_identity=5, seed=99)
    card = load_card(load_registry().get(DEMO_MODEL).card)
    result = evaluate(demo_file, tmp_path, preprocessing=card.preprocessing)
    assert result.num_valid_queries == 30
    assert result.cmc[0] > 0.6 and result.mAP > 0.5


def test_demo_catches_a_card_that_claims_more_than_the_file_delivers(tmp_path: Path) -> None:
    """A copy of the mini zoo whose card inflates mAP: evaluate fails, the README no longer matches, the rest holds."""
    for name in ("registry", "model_cards"):
        shutil.copytree(data_dir(name), tmp_path / name)
    card = tmp_path / "model_cards" / DEMO_MODEL / "card.yaml"
    text = card.read_text()
    assert "mAP: {value: 88.91," in text
    card.write_text(text.replace("mAP: {value: 88.91,", "mAP: {value: 95.0,"))
    report = run_demo(registry=load_registry(tmp_path / "registry"), workdir=tmp_path / "work")
    steps = {step.name: step for step in report.steps}
    assert not report.ok
    assert [name for name in STEPS if not steps[name].ok] == ["evaluate", "readme"]
    assert steps["evaluate"].details["metrics"]["mAP"] == {"claimed": 95.0, "measured": 88.91, "ok": False}
    assert sorted(p.name for p in (tmp_path / "work" / "synthetic_reid" / "reid_test").iterdir()) == ["gallery", "query"]





def test_zoo_demo_runs_every_step_offline_and_passes(tmp_path: Path) -> None:
    done = zoo("demo", "--json", ZOO_CACHE_DIR=str(tmp_path / "cache"))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] and report["model"] == DEMO_MODEL
    assert [s["name"] for s in report["steps"]] == list(STEPS) and all(s["ok"] for s in report["steps"])
    pulled = report["steps"][0]["details"]
    assert pulled["offline"] and Path(pulled["path"]).is_relative_to(tmp_path / "cache")
    assert pulled["sha256"] == load_registry().get(DEMO_MODEL).artifact("tflite").sha256
    metrics = report["steps"][STEPS.index("evaluate")]["details"]["metrics"]
    assert set(metrics) == {"mAP", "rank1", "rank5", "rank10"}

    text = zoo("demo", ZOO_CACHE_DIR=str(tmp_path / "cache"))  # warm cache this time
    assert text.returncode == 0, text.stderr
    for name in STEPS:
        assert f"ok   {name}" in text.stdout
    assert "demo passed" in text.stdout
