"""``zoo evaluate`` and ``zoo.reid.evaluation.evaluate`` on the bundled osnet_demo and synthetic people it has not seen.

The real osnet_a025 on the CUHK03 sample: tests/test_real_artifacts.py.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from zoo.reid import synthetic
from zoo.cards.card import load_card
from zoo.cli import main
from zoo.reid.datasets import load_dataset
from zoo.demo import DEMO_MODEL, bundled_mirror
from zoo.core.errors import ConfigError, DatasetError, UsageError
from zoo.reid.evaluation import evaluate
from zoo.reid.features import extract_features
from zoo.reid.preprocessing import Preprocessing
from zoo.catalog.registry import load_registry
from zoo.model.runtime import load_model
from helpers import recipe_figure

DEMO = bundled_mirror() / DEMO_MODEL / load_registry().get(DEMO_MODEL).artifact("tflite").file
PREPROCESSING = load_card(load_registry().get(DEMO_MODEL).card).preprocessing
IDENTITIES = 25


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    """Synthetic people drawn at 150x70, so the model's resize to its own input size is part of the path."""
    return synthetic.write_test_set(tmp_path_factory.mktemp("people"), identities=IDENTITIES, gallery_per_identity=4,
                                    size=(150, 70)).root


def test_evaluate_cli_gives_the_recipe_figure(people, capsys):
    argv = ["evaluate", str(DEMO), "--dataset", str(people), "--json", "--protocol", "market1501"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == DEMO_MODEL and report["card"].endswith("osnet_demo/card.yaml")  # found by sha256
    assert (report["protocol"], report["kernels"]) == ("market1501", "optimized")
    assert (report["layout"], report["distance"]) == ("deepsportradar", "cosine")
    assert (report["num_queries"], report["num_valid_queries"], report["num_gallery"]) == (IDENTITIES, IDENTITIES,
                                                                                             4 * IDENTITIES)
    expected = recipe_figure(DEMO, people)
    assert 0 < expected["mAP"] < 1  # a figure that can be wrong, not a perfect score
    for key, value in expected.items():
        assert report[key] == pytest.approx(value, abs=1e-6), key
    assert report["rank1"] > 4 / IDENTITIES  # far above chance
    assert report["percent"]["mAP"] == round(100 * report["mAP"], 2)


def test_a_manifest_gives_the_same_figure_as_the_file_names(people, tmp_path):
    """The same people listed in a manifest (other camera numbers): the layouts differ, the figure does not."""
    shutil.copytree(people, tmp_path, dirs_exist_ok=True)
    named = load_dataset(people)
    rows = ["path,pid,camid,split"] + [f"{i.path.relative_to(people)},{i.pid},{camid},{split}"
                                       for split, camid, items in (("query", 5, named.query), ("gallery", 6, named.gallery))
                                       for i in items]
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    a = evaluate(DEMO, tmp_path, preprocessing=PREPROCESSING, limit_queries=10)
    b = evaluate(DEMO, tmp_path, preprocessing=PREPROCESSING, limit_queries=10, layout="deepsportradar")
    assert (a.layout, b.layout) == ("manifest", "deepsportradar")
    assert a.mAP == b.mAP and np.array_equal(a.cmc, b.cmc) and a.num_queries == 10


def test_evaluate_by_id_pulls_from_a_mirror(people, tmp_path, capsys):
    mirror = tmp_path / "mirror" / DEMO_MODEL
    mirror.mkdir(parents=True)
    shutil.copy(DEMO, mirror / DEMO.name)
    argv = ["evaluate", DEMO_MODEL, "--dataset", str(people), "--limit-queries", "10",
            "--mirror", str(tmp_path / "mirror"), "--offline", "--distance", "euclidean"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"{DEMO_MODEL} on" in out and "10 queries" in out and "euclidean distance" in out
    # the default protocol is the card's (evaluation.protocol); market1501's figures include mINP
    protocol = load_card(load_registry().get(DEMO_MODEL).card).data["evaluation"]["protocol"]
    figures = [line for line in out.splitlines() if line.endswith(f"({protocol} protocol, optimized kernels)")]
    assert [line.split()[0] for line in figures] == ["mAP", "rank-1", "rank-5", "rank-10", "mINP"]


def test_a_file_outside_the_registry_needs_a_card(tmp_path, capsys):
    stray = tmp_path / "model.tflite"
    stray.write_bytes(b"\0" * 64)
    assert main(["evaluate", str(stray), "--dataset", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"zoo: error: {stray} is not in the registry: pass --card CARD.yaml to say how to preprocess its images"]


def test_bad_dataset_is_one_line_exit_2(tmp_path, capsys):
    assert main(["evaluate", str(DEMO), "--dataset", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == f"zoo: error: {tmp_path / 'nowhere'}: no such dataset folder"


def test_no_query_with_a_match_is_an_error(people, tmp_path):
    rows = ["path,pid,camid,split"]
    rows += [f"{p.relative_to(people)},{k},1,query" for k, p in enumerate(sorted(people.rglob("query/*.jpeg"))[:2])]
    rows += [f"{p.relative_to(people)},99,2,gallery" for p in sorted(people.rglob("gallery/*.jpeg"))[:2]]
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    for row in rows[1:]:
        (tmp_path / row.split(",")[0]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(people / row.split(",")[0], tmp_path / row.split(",")[0])
    with pytest.raises(DatasetError, match="no query identity has a match"):
        evaluate(DEMO, tmp_path, preprocessing=PREPROCESSING)


def test_card_and_model_must_agree(people):
    wrong = {**PREPROCESSING, "resize": {"height": 256, "width": 128}}
    with pytest.raises(ConfigError, match=r"input shape \[1, 128, 64, 3\] does not match"):
        evaluate(DEMO, people, preprocessing=wrong)
    with pytest.raises(UsageError, match="unknown distance"):
        evaluate(DEMO, people, preprocessing=PREPROCESSING, distance="hamming")


def test_features_are_dequantized_and_independent_of_worker_count(people):
    paths = sorted(people.rglob("*.jpeg"))[:12]
    prep = Preprocessing.from_card(PREPROCESSING)
    one = extract_features(DEMO, paths, prep, workers=1)
    two = extract_features(DEMO, paths, prep, workers=2)
    (out,) = load_model(DEMO).outputs
    assert one.shape == (12, out.shape[-1]) and one.dtype == np.float32
    np.testing.assert_array_equal(one, two)
    steps = one / out.scale + out.zero_point  # back on the int8 grid
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-3)
    assert steps.min() >= -128 and steps.max() <= 127
