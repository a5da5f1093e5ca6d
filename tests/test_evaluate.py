"""``zoo evaluate`` and ``zoo.evaluation.evaluate`` on the real osnet_a025 and the real CUHK03 sample."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from zoo.cli import main
from zoo.datasets import load_dataset
from zoo.errors import ConfigError, DatasetError, UsageError
from zoo.evaluation import evaluate
from zoo.features import extract_features
from zoo.preprocessing import Preprocessing
from zoo.runtime import load_model

PREPROCESSING = {
    "resize": {"height": 256, "width": 128, "interpolation": "nearest", "aspect_ratio": "fit"},
    "color_mode": "rgb",
    "rescale": {"scale": 1 / 127.5, "offset": -1},
}


def recipe_figure(model_file, dataset):
    """The recipe's steps written out plainly: TF-default JPEG decode, nearest resize with half-pixel
    centres, raw uint8 in, dequantize, L2-normalise, cosine, then AP / rank-k per query in a loop."""
    import simplejpeg

    data = load_dataset(dataset)
    model = load_model(model_file)
    (out,) = model.outputs
    feats = []
    for item in data.query + data.gallery:
        pixels = simplejpeg.decode_jpeg(item.path.read_bytes(), colorspace="RGB", fastdct=True, fastupsample=False)
        h, w = pixels.shape[:2]
        rows = [min(math.floor((i + 0.5) * (h / 256)), h - 1) for i in range(256)]
        cols = [min(math.floor((j + 0.5) * (w / 128)), w - 1) for j in range(128)]
        raw = model.invoke(pixels[rows][:, cols][None])[0].ravel()
        f = (raw.astype(np.float64) - out.zero_point) * out.scale
        feats.append(f / np.linalg.norm(f))
    feats = np.array(feats)
    n = len(data.query)
    dist = 1 - feats[:n] @ feats[n:].T
    aps, first = [], []
    for i, q in enumerate(data.query):
        order = np.argsort(dist[i], kind="stable")
        hits = np.array([data.gallery[j].pid == q.pid for j in order])
        positions = np.flatnonzero(hits)
        aps.append(np.mean(np.arange(1, len(positions) + 1) / (positions + 1)))
        first.append(positions[0])
    first = np.array(first)
    return {"mAP": np.mean(aps), **{f"rank{k}": np.mean(first < k) for k in (1, 5, 10)}}


def test_evaluate_cli_gives_the_recipe_figure(real_osnet, cuhk03_sample, capsys):
    argv = ["evaluate", str(real_osnet), "--dataset", str(cuhk03_sample), "--json", "--protocol", "market1501"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "osnet_a025" and report["card"].endswith("osnet/card.yaml")  # found by sha256
    assert (report["protocol"], report["kernels"]) == ("market1501", "optimized")
    assert (report["layout"], report["distance"]) == ("manifest", "cosine")
    assert (report["num_queries"], report["num_valid_queries"], report["num_gallery"]) == (200, 200, 200)
    expected = recipe_figure(real_osnet, cuhk03_sample)
    for key, value in expected.items():
        assert report[key] == pytest.approx(value, abs=1e-6), key
    # campus crops, basketball-trained model: modest, but far above chance (rank-1 by luck: 5/200)
    assert report["rank1"] > 4 * 5 / 200 and report["mAP"] > 0.07
    assert report["percent"]["mAP"] == round(100 * report["mAP"], 2)


def test_deepsportradar_rule_gives_the_same_figure_on_the_sample(real_osnet, cuhk03_sample):
    # the manifest says cameras 1/2, the DeepSportradar rule says 0/1: different either way, nothing removed
    a = evaluate(real_osnet, cuhk03_sample, preprocessing=PREPROCESSING, limit_queries=30)
    b = evaluate(real_osnet, cuhk03_sample, preprocessing=PREPROCESSING, limit_queries=30, layout="deepsportradar")
    assert (a.layout, b.layout) == ("manifest", "deepsportradar")
    assert a.mAP == b.mAP and np.array_equal(a.cmc, b.cmc) and a.num_queries == 30


def test_evaluate_by_id_pulls_from_a_mirror(real_osnet, cuhk03_sample, tmp_path, capsys):
    mirror = tmp_path / "mirror" / "osnet_a025"
    mirror.mkdir(parents=True)
    shutil.copy(real_osnet, mirror / real_osnet.name)
    argv = ["evaluate", "osnet_a025", "--dataset", str(cuhk03_sample), "--limit-queries", "10",
            "--mirror", str(tmp_path / "mirror"), "--offline", "--distance", "euclidean"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "osnet_a025 on" in out and "10 queries" in out and "euclidean distance" in out
    # the card's figures are the ST services' (evaluation.protocol), so that is the default; it has no mINP
    figures = [line for line in out.splitlines() if line.endswith("(st-modelzoo protocol, optimized kernels)")]
    assert [line.split()[0] for line in figures] == ["mAP", "rank-1", "rank-5", "rank-10"]


def test_a_file_outside_the_registry_needs_a_card(tmp_path, capsys):
    stray = tmp_path / "model.tflite"
    stray.write_bytes(b"\0" * 64)
    assert main(["evaluate", str(stray), "--dataset", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"zoo: error: {stray} is not in the registry: pass --card CARD.yaml to say how to preprocess its images"]


def test_bad_dataset_is_one_line_exit_2(real_osnet, tmp_path, capsys):
    assert main(["evaluate", str(real_osnet), "--dataset", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == f"zoo: error: {tmp_path / 'nowhere'}: no such dataset folder"


def test_no_query_with_a_match_is_an_error(real_osnet, cuhk03_sample, tmp_path):
    rows = ["path,pid,camid,split"]
    rows += [f"{p.relative_to(cuhk03_sample)},{k},1,query" for k, p in enumerate(sorted(cuhk03_sample.rglob("query/*.jpg"))[:2])]
    rows += [f"{p.relative_to(cuhk03_sample)},99,2,gallery" for p in sorted(cuhk03_sample.rglob("gallery/*.jpg"))[:2]]
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    for row in rows[1:]:
        (tmp_path / row.split(",")[0]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(cuhk03_sample / row.split(",")[0], tmp_path / row.split(",")[0])
    with pytest.raises(DatasetError, match="no query identity has a match"):
        evaluate(real_osnet, tmp_path, preprocessing=PREPROCESSING)


def test_card_and_model_must_agree(real_osnet, cuhk03_sample):
    wrong = {**PREPROCESSING, "resize": {"height": 128, "width": 64}}
    with pytest.raises(ConfigError, match=r"input shape \[1, 256, 128, 3\] does not match"):
        evaluate(real_osnet, cuhk03_sample, preprocessing=wrong)
    with pytest.raises(UsageError, match="unknown distance"):
        evaluate(real_osnet, cuhk03_sample, preprocessing=PREPROCESSING, distance="hamming")


def test_features_are_dequantized_and_independent_of_worker_count(real_osnet, cuhk03_sample):
    paths = sorted(cuhk03_sample.rglob("*.jpg"))[:12]
    prep = Preprocessing.from_card(PREPROCESSING)
    one = extract_features(real_osnet, paths, prep, workers=1)
    two = extract_features(real_osnet, paths, prep, workers=2)
    assert one.shape == (12, 128) and one.dtype == np.float32
    np.testing.assert_array_equal(one, two)
    (out,) = load_model(real_osnet).outputs
    steps = one / out.scale + out.zero_point  # back on the int8 grid
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-3)
    assert steps.min() >= -128 and steps.max() <= 127
