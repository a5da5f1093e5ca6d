"""The real inputs of ../shared, one scenario each: what only real data can show.

The published weight bytes and MACs of the real files, their tensors and goldens, the CUHK03 sample's figures
under each protocol, the published OSNet card's false claims, the st-zoo cards' round trips. Every rule and
mechanism these go through is tested on the bundled osnet_demo (or data the tests make) in every clone; here
the same mechanisms meet the real inputs. A scenario skips as a whole when its input is absent (a user's clone
has no ../shared): at most these five tests skip for lack of it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import (BLOCK, IN_SCALE, IN_ZERO, all_checks, assert_damaged_copies_are_one_line_errors,
                     assert_reference_equals_micro, by_id, cache_files, golden_like_inputs, import_round_trip,
                     recipe_figure, shipped_card, st_input_tf, verify_json, zoo)

import tf_protocols
from zoo.cards.checks import file_problems
from zoo.cards.card import load_card, read_card
from zoo.cli import main
from zoo.reid.datasets import load_dataset
from zoo.core.documents import load_yaml
from zoo.core.errors import ConfigError
from zoo.reid.evaluation import evaluate
from zoo.reid.features import extract_features
from zoo.artifacts.fetching import fetch
from zoo.model.footprint import compute_footprint
from zoo.model.goldens import check_golden, load_golden, make_golden
from zoo.model.inspection import inspect_model
from zoo.model.latency import cpu_model
from zoo.reid.preprocessing import Preprocessing, decode
from zoo.reid.protocols import PROTOCOLS
from zoo.catalog.registry import load_registry
from zoo.core.resources import data_dir
from zoo.verification.rules.base import Severity, Status
from zoo.model.runtime import load_model
from zoo.model.tflm import available as tflm_available

FIGURES = ("mAP", "rank1", "rank5", "rank10")
OSNET_SHA = "e9713dbba5f843477a0dd639bb35bae88cfe51b8d8b15bc9e0f1133ff2a26375"  # the upstream LFS object's


def _tf():
    """TensorFlow (the test extra) for the comparisons with the reference pipeline, or None where it has no wheel."""
    try:
        import tensorflow
    except ImportError:
        return None
    return tensorflow


def _published(card: str, variant: str, series: str, metric: str) -> float:
    """A figure of a shipped card's board record, in the card's unit (KiB or ms)."""
    data = load_yaml(data_dir("model_cards") / card / "card.yaml").data
    (record,) = [r for r in data["performance"] if r["variant"] == variant
                 and (r.get("measured_on") or {}).get("series") == series]
    return float(record["values"][metric]["value"])


def _tflm_runtime():
    """TFLM's Python runtime (the mcu extra, in the test extra where tflite-micro has wheels), or None."""
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        return None
    return runtime


def _mirror(tmp_path: Path, model_id: str, real: Path) -> Path:
    """A local mirror folder (<model id>/<file>) holding one real file."""
    root = tmp_path / "mirror"
    (root / model_id).mkdir(parents=True)
    (root / model_id / real.name).symlink_to(real)
    return root





def _checks(report: dict, subject: str) -> list[dict]:
    return next(e for e in report["entries"] if e["subject"] == subject)["checks"]


def _assert_shipped_card_verifies_clean(capsys, model_id: str, mirror: Path) -> None:
    """Our card passes every check on the real file, the footprint checks of its board figures included."""
    code, report = verify_json(capsys, model_id, "--mirror", str(mirror), "--offline")
    checks = _checks(report, model_id)
    assert code == 0 and report["passed"] and report["totals"]["fail"] == 0
    assert {c["status"] for c in checks} == {"pass"}, [c["message"] for c in checks if c["status"] != "pass"]
    assert {"artifact.sha256", "golden", "io.output.meaning", "parameters.count", "footprint.weights_flash",
            "footprint.ram", "footprint.time"} <= {c["id"] for c in checks}


def test_real_osnet_a025(real_osnet: Path, tmp_path: Path, capsys, monkeypatch, http_server, no_internet) -> None:
    # downloads first, into an empty cache: the registry's size and sha256 are the published bytes', a corrupted
    # mirror leaves nothing, and a pull with the server stopped is served from the cache
    artifact = load_registry().get("osnet_a025").artifact("tflite")
    http_server.add(f"osnet_a025/{real_osnet.name}", real_osnet.read_bytes())
    corrupted = bytearray(real_osnet.read_bytes())
    corrupted[1000] ^= 0xFF
    http_server.add(f"bad/osnet_a025/{real_osnet.name}", bytes(corrupted))
    bad = zoo("pull", "osnet_a025", "--mirror", f"{http_server.url}/bad")
    assert bad.returncode == 1  # integrity failure, even though the upstream sources were unreachable too
    (message,) = bad.stderr.splitlines()
    assert f"expected {OSNET_SHA}, got {hashlib.sha256(corrupted).hexdigest()}" in message
    assert cache_files(Path(os.environ["ZOO_CACHE_DIR"])) == []
    first = zoo("pull", "osnet_a025", "--mirror", http_server.url)
    assert first.returncode == 0 and first.stderr == "", first.stderr
    (line,) = first.stdout.splitlines()
    assert hashlib.sha256(Path(line).read_bytes()).hexdigest() == OSNET_SHA
    cache = os.environ["ZOO_CACHE_DIR"]
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "other-cache"))  # the library call downloads too
    path = fetch(dataclasses.replace(artifact, sources=()), mirrors=[http_server.url])
    assert (artifact.size, artifact.sha256) == (377_504, OSNET_SHA)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == OSNET_SHA
    assert len(http_server.gets(f"osnet_a025/{real_osnet.name}")) == 2
    monkeypatch.setenv("ZOO_CACHE_DIR", cache)
    http_server.stop()
    second = zoo("pull", "osnet_a025", "--mirror", http_server.url)
    assert second.returncode == 0 and second.stdout == first.stdout, second.stderr

    # inspect: its true tensors, ops and parameters
    assert main(["inspect", str(real_osnet), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    (inp,), (out,) = info["inputs"], info["outputs"]
    assert (inp["shape"], inp["dtype"], inp["zero_point"]) == ([1, 256, 128, 3], "uint8", 127)
    assert inp["scale"] == pytest.approx(1 / 127.5, rel=1e-6)
    assert (out["shape"], out["dtype"], out["zero_point"], out["per_channel"]) == ([1, 128], "int8", -128, False)
    assert out["scale"] == pytest.approx(0.019770296, rel=1e-6)
    assert (out["producer"], out["meaning"]) == ("MEAN", "embedding")
    assert info["parameters"] == 133_938
    assert info["parameters_by_dtype"] == {"int8": 129_136, "int32": 4_802}
    assert info["op_count"] == 288  # counted in the flatbuffer; ../shared/REFERENCE.md's 291 does not add up
    assert {k: info["ops"][k] for k in ("CONV_2D", "DEPTHWISE_CONV_2D", "MEAN", "LOGISTIC", "MUL", "ADD")} == {
        "CONV_2D": 127, "DEPTHWISE_CONV_2D": 60, "MEAN": 25, "LOGISTIC": 24, "MUL": 24, "ADD": 24}
    assert info["artifact"] == {"model_id": "osnet_a025", "file": real_osnet.name, "format": "tflite"}
    assert (info["size"], info["sha256"][:8]) == (377_504, "e9713dbb")
    assert inspect_model(real_osnet).op_count > 0  # passes validation

    # damaged copies of it are one-line errors, never crashes
    (tmp_path / "damaged").mkdir()
    assert_damaged_copies_are_one_line_errors(real_osnet, tmp_path / "damaged", capsys)

    # footprint: the weights are the published MCU flash, the MACs the published count, TFLM's head as measured
    fp = compute_footprint(real_osnet, tflm=tflm_available())
    assert fp.weights_bytes == 142_872 and fp.weights_bytes_by_dtype == {"int8": 129_136, "int32": 13_736}
    assert round(fp.weights_bytes / 1024, 2) == _published("osnet", "osnet_a025", "STM32H7", "weights_flash")
    assert fp.macs == pytest.approx(82.2e6, rel=0.005) and set(fp.macs_by_op) == {"CONV_2D", "DEPTHWISE_CONV_2D"}
    assert fp.precision == "int8" and fp.notes == ()
    # Any runtime holds at least the bound; ST's planner (in-place element-wise ops) published 331.45 KiB.
    assert fp.activation_lower_bound_bytes <= _published("osnet", "osnet_a025", "STM32H7", "internal_ram") * 1024
    assert fp.activation_lower_bound_bytes <= fp.arena_estimate_bytes
    if tflm_available():  # the mcu extra, part of the test extra where tflite-micro has wheels
        assert fp.tflm_activation_bytes == pytest.approx(393_216, rel=0.03)
        assert fp.tflm_arena_bytes > fp.tflm_activation_bytes
        assert fp.arena_estimate_bytes == pytest.approx(fp.tflm_activation_bytes, rel=0.03)

    # the shipped golden reproduces, and catches outputs two steps off
    golden = load_golden(artifact.golden)
    assert golden["sha256"] == artifact.sha256 and golden["file"] == artifact.file
    result = check_golden(real_osnet, golden)
    assert result.passed and result.cases == 3 and result.max_diff <= 1
    made = make_golden(real_osnet, seed="test", cases=1)
    values = made["expected"][0][0]["values"]
    values[:5] = [v + 2 if v < 120 else v - 2 for v in values[:5]]
    result = check_golden(real_osnet, made)
    assert not result.passed and result.mismatches == 5 and result.max_diff == 2

    # bench
    assert main(["bench", str(real_osnet), "--json", "--warmup", "0", "--min-runs", "5", "--min-seconds", "0"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["count"] == 5 and r["threads"] == 1 and r["cpu"] == cpu_model() != ""
    assert 0 < r["min_ms"] <= r["p50_ms"] <= r["max_ms"] and r["runtime"].startswith("ai-edge-litert")

    # rules: our card passes every one; the published card's claims (tests/data) are flagged against the file
    checks = all_checks(shipped_card("osnet"), "osnet_a025", real_osnet)
    assert [c for c in checks if c.status is not Status.PASS] == []
    published = read_card(Path(__file__).parent / "data" / "published_osnet_card.yaml")
    checks = by_id(all_checks(published, "osnet_a025", real_osnet))
    meaning = checks["io.output.meaning"][0]
    assert meaning.status is Status.FAIL and meaning.severity is Severity.ERROR
    assert "128-dim embedding" in meaning.message and "class_scores" in meaning.message
    params = checks["parameters.count"][0]
    assert params.status is Status.FAIL
    assert (params.details["declared"], params.details["counted"]) == (197000, 133938)
    assert params.details["relative_difference"] == pytest.approx(0.4708, abs=1e-4)
    assert checks["io.output.dtype"][0].status is Status.FAIL  # FLOAT32 claimed, int8 in the file
    assert checks["io.output.shape"][0].status is Status.WARN  # (1, P) is vague rather than false
    assert checks["preprocessing.rescale"][0].status is Status.PASS
    assert checks["records.artifact"][0].status is Status.PASS and checks["records.derived"][0].status is Status.PASS

    # zoo verify from a local mirror: clean, footprint included; an impossible H7 figure fails naming its bound
    mirror = _mirror(tmp_path, "osnet_a025", real_osnet)
    _assert_shipped_card_verifies_clean(capsys, "osnet_a025", mirror)
    text = (data_dir("model_cards") / "osnet" / "card.yaml").read_text()
    for old, new, bound in (("inference_time: {value: 495.13, unit: ms}", "inference_time: {value: 0.05, unit: ms}",
                             "physical bound 85.7 ms"),
                            ("weights_flash: {value: 139.52, unit: KiB}", "weights_flash: {value: 13.95, unit: KiB}",
                             "should be 139.52 KiB")):
        assert old in text
        folder = tmp_path / "impossible" / bound.split()[0]
        folder.mkdir(parents=True)
        (folder / "card.yaml").write_text(text.replace(old, new))
        (folder / "README.md").write_text("# OSNet\n")
        code, report = verify_json(capsys, str(folder / "card.yaml"), "--mirror", str(mirror), "--offline")
        failed = [c for e in report["entries"] for c in e["checks"]
                  if c["id"].startswith("footprint.") and c["status"] == "fail"]
        assert code == 1 and len(failed) == 1 and bound in failed[0]["message"], failed


def test_real_mobilenetv2_a100(real_mobilenetv2: Path, tmp_path: Path, capsys) -> None:
    info = inspect_model(real_mobilenetv2, load_registry())
    assert (info.parameters, info.op_count, info.outputs[0].shape) == (2_206_818, 64, (1, 1280))
    assert info.output_meaning(0) == "embedding" and info.artifact.model_id == "mobilenetv2_a100"
    assert main(["inspect", str(real_mobilenetv2)]) == 0
    text = capsys.readouterr().out
    assert "2,206,818" in text and "mobilenetv2_a100" in text and "1x1280" in text

    fp = compute_footprint(real_mobilenetv2, tflm=tflm_available())
    assert fp.weights_bytes == 2_257_992
    assert fp.weights_bytes / 1024 == pytest.approx(_published("mobilenetv2_reid", "mobilenetv2_a100", "STM32H7",
                                                                 "weights_flash"), abs=0.02)
    assert fp.macs == pytest.approx(195.6e6, rel=0.005)
    ram = sum(_published("mobilenetv2_reid", "mobilenetv2_a100", "STM32H7", m) for m in ("internal_ram", "external_ram"))
    assert fp.activation_lower_bound_bytes <= ram * 1024
    if tflm_available():  # the mcu extra, part of the test extra where tflite-micro has wheels
        assert fp.tflm_activation_bytes == pytest.approx(983_040, rel=0.03)
        assert fp.tflm_arena_bytes > fp.tflm_activation_bytes
        assert fp.arena_estimate_bytes == pytest.approx(fp.tflm_activation_bytes, rel=0.03)

    registry = load_registry()
    artifact = registry.get("mobilenetv2_a100").artifact("tflite")
    golden = load_golden(artifact.golden)
    assert golden["sha256"] == artifact.sha256 and golden["file"] == artifact.file
    result = check_golden(real_mobilenetv2, golden)
    assert result.passed and result.cases == 3 and result.max_diff <= 1
    assert not check_golden(real_mobilenetv2, load_golden(registry.get("osnet_a025").artifact("tflite").golden)).passed

    checks = all_checks(shipped_card("mobilenetv2_reid"), "mobilenetv2_a100", real_mobilenetv2)
    assert [c for c in checks if c.status is not Status.PASS] == []
    _assert_shipped_card_verifies_clean(capsys, "mobilenetv2_a100", _mirror(tmp_path, "mobilenetv2_a100", real_mobilenetv2))


def test_cuhk03_sample(real_osnet: Path, cuhk03_sample: Path, tmp_path: Path, capsys) -> None:
    """The real osnet_a025 on the CUHK03 sample: its layout, its decoding, its figures under each protocol."""
    data = load_dataset(cuhk03_sample)
    assert data.layout == "manifest"
    assert (len(data.query), len(data.gallery)) == (200, 200)
    assert {i.camid for i in data.query} == {1} and {i.camid for i in data.gallery} == {2}
    assert len({i.pid for i in data.query}) == 40
    by_name = load_dataset(cuhk03_sample, "deepsportradar")
    assert [(i.path, i.pid) for i in by_name.query] == [(i.path, i.pid) for i in data.query]

    tf = _tf()
    card_prep = load_card(load_registry().get("osnet_a025").card).preprocessing
    if tf is not None:  # TensorFlow is the test extra's, where it has wheels; the comparisons need it
        for path in sorted((cuhk03_sample / "reid_test" / "query").glob("*.jpg"))[:20]:
            np.testing.assert_array_equal(decode(path, "rgb"), tf.io.decode_image(path.read_bytes(), channels=3).numpy())
        prep, changed = Preprocessing.from_card(BLOCK), 0
        for path in sorted((cuhk03_sample / "reid_test" / "gallery").glob("*.jpg"))[:25]:
            ours = prep.model_input(path, "uint8", IN_SCALE, IN_ZERO, requantize=True)[0]
            np.testing.assert_array_equal(ours, st_input_tf(tf, path, BLOCK, IN_SCALE, IN_ZERO))
            changed += np.count_nonzero(ours != prep.model_input(path, "uint8", IN_SCALE, IN_ZERO)[0])
        assert changed > 0  # the two protocols really feed different inputs
        for protocol in PROTOCOLS:  # each protocol's figures are an independent TensorFlow implementation's
            expected = tf_protocols.protocol_figures(tf, protocol, real_osnet, cuhk03_sample, card_prep)
            argv = ["evaluate", str(real_osnet), "--dataset", str(cuhk03_sample), "--protocol", protocol, "--json"]
            assert main(argv) == 0
            report = json.loads(capsys.readouterr().out)
            assert (report["protocol"], report["kernels"]) == (protocol, "optimized")
            assert {k: report["percent"][k] for k in FIGURES} == expected, protocol

    # zoo evaluate gives the recipe's figure, written out plainly
    argv = ["evaluate", str(real_osnet), "--dataset", str(cuhk03_sample), "--json", "--protocol", "market1501"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "osnet_a025" and report["card"].endswith("osnet/card.yaml")  # found by sha256
    assert (report["layout"], report["distance"]) == ("manifest", "cosine")
    assert (report["num_queries"], report["num_valid_queries"], report["num_gallery"]) == (200, 200, 200)
    for key, value in recipe_figure(real_osnet, cuhk03_sample).items():
        assert report[key] == pytest.approx(value, abs=1e-6), key
    # campus crops, basketball-trained model: modest, but far above chance (rank-1 by luck: 5/200)
    assert report["rank1"] > 4 * 5 / 200 and report["mAP"] > 0.07
    assert report["percent"]["mAP"] == round(100 * report["mAP"], 2)

    # the manifest says cameras 1/2, the DeepSportradar rule says 0/1: different either way, nothing removed
    a = evaluate(real_osnet, cuhk03_sample, preprocessing=card_prep, limit_queries=30)
    b = evaluate(real_osnet, cuhk03_sample, preprocessing=card_prep, limit_queries=30, layout="deepsportradar")
    assert (a.layout, b.layout) == ("manifest", "deepsportradar")
    assert a.mAP == b.mAP and np.array_equal(a.cmc, b.cmc) and a.num_queries == 30
    with pytest.raises(ConfigError, match=r"input shape \[1, 256, 128, 3\] does not match"):
        evaluate(real_osnet, cuhk03_sample, preprocessing={**card_prep, "resize": {"height": 128, "width": 64}})

    # features: dequantized int8 steps, the same with one or two workers
    paths = sorted(cuhk03_sample.rglob("*.jpg"))[:12]
    one = extract_features(real_osnet, paths, Preprocessing.from_card(card_prep), workers=1)
    np.testing.assert_array_equal(one, extract_features(real_osnet, paths, Preprocessing.from_card(card_prep),
                                                         workers=2))
    (out,) = load_model(real_osnet).outputs
    steps = one / out.scale + out.zero_point
    assert one.shape == (12, 128) and one.dtype == np.float32
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-3)
    assert steps.min() >= -128 and steps.max() <= 127

    # by id, from a mirror: the card's figures are the ST services' (evaluation.protocol), which has no mINP
    mirror = _mirror(tmp_path, "osnet_a025", real_osnet)
    argv = ["evaluate", "osnet_a025", "--dataset", str(cuhk03_sample), "--limit-queries", "10",
            "--mirror", str(mirror), "--offline", "--distance", "euclidean"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "osnet_a025 on" in text and "10 queries" in text and "euclidean distance" in text
    figures = [line for line in text.splitlines() if line.endswith("(st-modelzoo protocol, optimized kernels)")]
    assert [line.split()[0] for line in figures] == ["mAP", "rank-1", "rank-5", "rank-10"]

    tflm = _tflm_runtime()
    if tflm is not None:  # the reference kernels compute what an MCU computes, on real crops too
        (info,) = load_model(real_osnet).inputs
        prep = Preprocessing.from_card(card_prep)
        crops = [prep.model_input(p, info.dtype, info.scale, info.zero_point, requantize=True) for p in paths[:2]]
        assert_reference_equals_micro(tflm, real_osnet, golden_like_inputs(real_osnet, 2) + crops)

    # the published 70.27 % mAP is a DeepSportradar figure under the ST protocol; on other people it cannot hold
    code, report = verify_json(capsys, "osnet_a025", "--mirror", str(mirror), "--offline",
                           "--dataset", str(cuhk03_sample), "--dataset-id", "deepsportradar")
    accuracy = {c["id"]: c for c in _checks(report, "osnet_a025") if c["id"].startswith("accuracy.")}
    assert code == 1 and accuracy["accuracy.mAP"]["status"] == "fail"
    assert accuracy["accuracy.mAP"]["details"]["claimed"] == 70.27
    assert accuracy["accuracy.mAP"]["details"]["measured"] < 70.27 - 1.0
    assert set(accuracy) == {"accuracy.mAP", "accuracy.rank1", "accuracy.rank5", "accuracy.rank10"}
    assert {c["details"]["protocol"] for c in accuracy.values()} == {"st-modelzoo"}

    # --write records the CUHK03 figures in a copy of the card; verify then compares with them; the card shows them
    root = tmp_path / "release"
    for name in ("registry", "model_cards"):
        shutil.copytree(data_dir(name), root / name)
    card_path = root / "model_cards" / "osnet" / "card.yaml"
    card_path.write_text(card_path.read_text().replace("performance:\n", "  - id: cuhk03\n    name: CUHK03 sample\n"
                                                      "    license: research use only\nperformance:\n", 1))
    args = ("osnet_a025", "--registry", str(root / "registry"), "--mirror", str(mirror), "--offline",
            "--dataset", str(cuhk03_sample), "--dataset-id", "cuhk03")
    code, report = verify_json(capsys, *args, "--write")
    assert code == 0
    written = [r for r in load_yaml(card_path).data["performance"] if r.get("dataset") == "cuhk03"]
    assert len(written) == 1 and written[0]["origin"] == "measured"
    code, report = verify_json(capsys, *args, "--tolerance-pp", "0.01")
    accuracy = {c["id"]: c for c in _checks(report, "osnet_a025") if c["id"].startswith("accuracy.")}
    assert code == 0 and accuracy["accuracy.mAP"]["status"] == "pass"
    assert accuracy["accuracy.mAP"]["details"]["claimed"] == written[0]["values"]["mAP"]["value"]
    assert main(["render-card", str(card_path.parent), "--registry", str(root / "registry")]) == 0
    assert "cuhk03" in (card_path.parent / "README.md").read_text().lower()


def test_published_osnet_card(published_osnet_card: Path, real_osnet: Path, tmp_path: Path, capsys) -> None:
    """The published card imports, round-trips and keeps its false claims as data; zoo verify flags them."""
    card, warnings = import_round_trip(published_osnet_card, tmp_path / "osnet", capsys)
    assert card.family == "osnet" and card.use_case == "re_identification"
    assert card.variant_ids == ["osnet_a025", "osnet_a100"]  # mapped through the artifact file names
    assert card.outputs("osnet_a025") == [
        {"shape": [1, "P"], "dtype": "float32", "meaning": "class_scores", "description": "Per-class confidence for P classes in FLOAT32"}
    ]
    assert card.inputs("osnet_a100")[0]["shape"] == [1, "N", "M", 3]
    assert card.variant("osnet_a025")["parameters"]["published"]["value"] == 197000
    # ... and so is its malformed paper link, which validation reports.
    assert "malformed arXiv id '1905.0095'" in warnings
    problems = file_problems(card.path, load_registry())
    assert len(problems) == 1 and "/paper: malformed arXiv id" in problems[0]
    memory, time = [r for r in card.records("osnet_a025", kind="board") if r["measured_on"]["target"] == "NPU"]
    # One record per published row, each saying which README table it is a row of.
    assert memory["table"] == "memory-npu" and memory["measured_on"] == {
        "kind": "board", "target": "NPU", "series": "STM32N6", "tool": "STEdgeAI Core", "tool_version": "3.0.0"}
    assert time["table"] == "time-npu" and time["measured_on"] == {
        "kind": "board", "target": "NPU", "board": "STM32N6570-DK", "engine": "NPU/MCU", "tool": "STEdgeAI Core",
        "tool_version": "3.0.0"}
    assert time["values"] == {"inference_time": {"value": 3.53, "unit": "ms"}}
    assert card.dataset("deepsportradar")["splits"]["test_gallery"] == {"images": 910}

    imported = tmp_path / "published" / "card.yaml"
    assert main(["import-card", str(published_osnet_card), "-o", str(imported)]) == 0
    capsys.readouterr()
    code, report = verify_json(capsys, str(imported), "--mirror", str(_mirror(tmp_path, "osnet_a025", real_osnet)),
                           "--offline")
    assert code == 1 and not report["passed"]
    failed = {c["id"]: c for c in _checks(report, "osnet_a025") if c["status"] == "fail"}
    assert "embedding" in failed["io.output.meaning"]["message"]
    assert (failed["parameters.count"]["details"]["declared"], failed["parameters.count"]["details"]["counted"]) == (197000, 133938)
    assert failed["io.output.dtype"]["details"] == {"declared": "float32", "found": "int8"}


def test_st_zoo_cards(st_zoo_cards: Path, tmp_path: Path, capsys) -> None:
    """Every published st-zoo card imports, renders every table number back and re-imports into the same card."""
    sources = sorted(st_zoo_cards.glob("*__*.md"))
    assert sources
    for source in sources:
        card, warnings = import_round_trip(source, tmp_path / source.stem, capsys)
        assert "kept verbatim" not in warnings or "is not understood" in warnings, source
        assert card.performance, f"{source.name}: every published card has performance tables"


# Scenario: the published cards reviewed as written (zoo validate README.md): every error a careful reviewer
# found that the card proves, on its line, and no other error.
PUBLISHED_ERRORS = {
    "st-zoo/hand_posture__st_cnn2d_handposture.md": {(59, "readme.total")},
    "st-zoo/object_detection__yolov11n.md": {(7, "readme.contradiction"), (67, "readme.rate"), (76, "readme.resolution"),
                                             (76, "readme.label")},
    "st-zoo/human_activity_recognition__st_ign.md": {(84, "readme.link")},
    "st-zoo/image_classification__st_mnistv1.md": {(78, "readme.contradiction")},
    "st-zoo/re_identification__mobilenetv2.md": {(31, "readme.parameters"), (50, "readme.io")},
    "st-zoo/audio_event_detection__miniresnetv1.md": set(),
    "st-zoo/pose_estimation__yolov11n_pose.md": set(),
    "osnet-published-card.md": {(17, "readme.format"), (25, "readme.parameters"), (28, "readme.arxiv"),
                                (44, "readme.io")},
}


def test_published_cards_reviewed_as_written(st_zoo_cards: Path, published_osnet_card: Path, capsys) -> None:
    from zoo.cli import main

    cards = st_zoo_cards.parent
    for name, expected in PUBLISHED_ERRORS.items():
        assert main(["validate", "--json", str(cards / name)]) == (1 if expected else 0)
        findings = json.loads(capsys.readouterr().out)["findings"]
        assert {(f["line"], f["rule"]) for f in findings if f["severity"] == "error"} == expected, name
        assert all(f["file"] == str(cards / name) and f["line"] >= 1 for f in findings)
