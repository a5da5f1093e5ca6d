"""Evaluation protocols: the ST services' input path equals TensorFlow's, labels and outputs are theirs.

The TensorFlow comparisons run when TensorFlow is installed (the test extra) and are skipped otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from zoo.reid import synthetic
from zoo.cards.card import load_card
from zoo.demo import DEMO_MODEL, bundled_mirror
from zoo.core.errors import ConfigError, UsageError
from zoo.reid.features import extract_features
from zoo.reid.preprocessing import Preprocessing
from zoo.reid.protocols import PROTOCOLS, file_name_labels, get_protocol
from zoo.catalog.registry import load_registry
from zoo.model.runtime import load_model
from helpers import BLOCK, IN_SCALE, IN_ZERO, st_input_tf



@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def demo_model() -> Path:
    return bundled_mirror() / DEMO_MODEL / load_registry().get(DEMO_MODEL).artifact("tflite").file


@pytest.fixture(scope="module")
def demo_prep() -> Preprocessing:
    return Preprocessing.from_card(load_card(load_registry().get(DEMO_MODEL).card).preprocessing)


@pytest.fixture(scope="module")
def demo_images(tmp_path_factory) -> list[Path]:
    root = synthetic.write_test_set(tmp_path_factory.mktemp("people"), identities=4, gallery_per_identity=2).root
    return sorted(root.rglob("*.jpeg"))


def test_every_protocol_describes_every_step():
    steps = {"decoding", "input quantization", "output", "cameras", "ranking", "mAP"}
    for protocol in PROTOCOLS.values():
        assert set(protocol.steps) == steps, protocol.name
    assert (PROTOCOLS["st-modelzoo"].dequantize_output, PROTOCOLS["st-modelzoo-dequantized"].dequantize_output) \
        == (False, True)
    with pytest.raises(UsageError, match="unknown evaluation protocol 'st'.*market1501, st-modelzoo"):
        get_protocol("st")


def test_requantization_by_hand(tmp_path):
    # 0 * s - 1 = -1 -> -1 / s + 127 = -0.5 -> 0 (half to even); 255 * s - 1 = 1 -> 127.5 + 127 = 254.5 -> 254
    path = tmp_path / "a.png"
    Image.fromarray(np.array([[[0, 254, 255]]], np.uint8)).save(path)
    prep = Preprocessing.from_card({**BLOCK, "resize": {"height": 1, "width": 1}})
    st = prep.model_input(path, "uint8", IN_SCALE, IN_ZERO, requantize=True)
    assert st.dtype == np.uint8 and st.ravel().tolist() == [0, 254, 254]
    assert prep.model_input(path, "uint8", IN_SCALE, IN_ZERO).ravel().tolist() == [0, 254, 255]  # market1501: raw
    with pytest.raises(ConfigError, match="no quantization scale"):
        prep.model_input(path, "int8", None, None, requantize=True)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_st_input_equals_tensorflow_on_made_images(tf, tmp_path, interpolation):
    block = {**BLOCK, "resize": {**BLOCK["resize"], "interpolation": interpolation}}
    prep = Preprocessing.from_card(block)
    rng = np.random.default_rng(7)
    for i, (shape, suffix) in enumerate((((64, 32), ".jpg"), ((300, 97), ".png"), ((5, 3), ".jpg"))):
        path = tmp_path / f"{i}{suffix}"
        Image.fromarray(rng.integers(0, 256, (*shape, 3), dtype=np.uint8)).save(path)
        for dtype, zero in ((np.uint8, IN_ZERO), (np.int8, -1)):
            ours = prep.model_input(path, np.dtype(dtype).name, IN_SCALE, zero, requantize=True)[0]
            np.testing.assert_array_equal(ours, st_input_tf(tf, path, block, IN_SCALE, zero, dtype))


def test_file_name_labels_follow_the_query_folder():
    q, g = file_name_labels(["b/12_1_0.jpg", "b/5_1_3.jpg", "b/12_1_9.jpg"], ["5_2_1.jpg", "012_2_0.jpg", "x.jpg"])
    assert q == [0, 1, 0]  # "12" < "5" as text
    assert g == [1, -1, -1]  # "012" is not "12"; no query has "x.jpg"


def test_st_features_are_the_raw_integer_outputs(demo_model, demo_prep, demo_images):
    raw = extract_features(demo_model, demo_images, demo_prep, protocol=get_protocol("st-modelzoo"), workers=2)
    deq = extract_features(demo_model, demo_images, demo_prep, protocol=get_protocol("st-modelzoo-dequantized"))
    (out,) = load_model(demo_model).outputs
    np.testing.assert_array_equal(raw, np.round(raw))
    assert raw.min() >= -128 and raw.max() <= 127
    np.testing.assert_allclose(deq, (raw - out.zero_point) * np.float32(out.scale), rtol=1e-6)
    market = extract_features(demo_model, demo_images, demo_prep)
    assert not np.array_equal(market, deq)  # same output handling, different input quantization


def test_the_card_schema_knows_every_protocol_and_kernel_set():
    import json

    from zoo.core.resources import data_dir
    from zoo.model.runtime import KERNELS

    schema = json.loads((data_dir("schemas") / "card.schema.json").read_text())
    assert schema["$defs"]["protocol"]["enum"] == list(PROTOCOLS)
    kernels = schema["$defs"]["record"]["properties"]["measured_on"]["properties"]["kernels"]
    assert kernels["enum"] == list(KERNELS)


def test_shipped_cards_name_the_protocol_of_their_figures():
    from zoo.cards.card import default_card_paths

    cards = {path.parent.name: load_card(path) for path in default_card_paths()}
    assert cards["osnet_demo"].evaluation["protocol"] == "market1501"  # measured here with zoo evaluate
    assert cards["osnet"].evaluation["protocol"] == cards["mobilenetv2_reid"].evaluation["protocol"] == "st-modelzoo"


@pytest.mark.parametrize("method", ["nearest", "bilinear"])
def test_resize_to_the_same_size_is_tensorflows_identity(tf, method):
    from zoo.reid.preprocessing import resize

    values = np.random.default_rng(3).normal(0, 50, (256, 128, 3)).astype(np.float32)
    np.testing.assert_array_equal(resize(values, 256, 128, method), tf.image.resize(values, (256, 128), method).numpy())
    pixels = values.astype(np.uint8)
    theirs = tf.image.resize(pixels, (256, 128), method).numpy()
    ours = resize(pixels, 256, 128, method)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
