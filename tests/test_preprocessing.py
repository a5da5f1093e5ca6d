"""Preprocessing: the card's block is read strictly, and images come out exactly as TensorFlow makes them.

The TensorFlow comparisons run when TensorFlow is installed and are skipped otherwise.
"""

from __future__ import annotations


import numpy as np
import pytest
from PIL import Image

from zoo.core.errors import ConfigError, DatasetError
from zoo.reid.preprocessing import Preprocessing, decode, resize, to_aspect

CARD = {
    "resize": {"height": 256, "width": 128, "interpolation": "nearest", "aspect_ratio": "fit"},
    "color_mode": "rgb",
    "rescale": {"scale": 1 / 127.5, "offset": -1},
}
SIZES = [((128, 64), (256, 128)), ((37, 23), (256, 128)), ((300, 200), (100, 77)), ((7, 5), (3, 9)), ((1, 1), (4, 2))]


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def random_image(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


def test_nearest_by_hand():
    row = np.arange(4, dtype=np.uint8).reshape(1, 4, 1)
    # half-pixel centres: output column j samples input floor((j + 0.5) * in / out)
    assert resize(row, 1, 8, "nearest").ravel().tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert resize(row, 1, 2, "nearest").ravel().tolist() == [1, 3]
    assert resize(row, 1, 3, "nearest").ravel().tolist() == [0, 2, 3]


def test_bilinear_by_hand():
    row = np.array([0, 100], np.uint8).reshape(1, 2, 1)
    # source x = (j + 0.5) * 2/4 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> clamped at the edges
    assert resize(row, 1, 4, "bilinear").ravel().tolist() == [0.0, 25.0, 75.0, 100.0]


@pytest.mark.parametrize("method", ["nearest", "bilinear"])
def test_resize_equals_tf_image_resize(tf, method):
    for seed, (shape, (height, width)) in enumerate(SIZES):
        image = random_image(shape, seed)
        ours = resize(image, height, width, method)
        theirs = tf.image.resize(image, (height, width), method=method).numpy()
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("method", ["nearest", "bilinear"])
def test_crop_and_pad_equal_keras(tf, method):
    import keras

    for seed, (shape, (height, width)) in enumerate(SIZES):
        image = random_image(shape, seed).astype(np.float32)
        crop = keras.preprocessing.image.smart_resize(image, (height, width), interpolation=method)
        np.testing.assert_array_equal(resize(to_aspect(image, height, width, "crop"), height, width, method), crop)
        pad = keras.ops.image.resize(image, (height, width), interpolation=method, pad_to_aspect_ratio=True)
        np.testing.assert_array_equal(resize(to_aspect(image, height, width, "pad"), height, width, method), pad)


def test_jpeg_decodes_like_tensorflow(tf, tmp_path):
    path = tmp_path / "a.jpg"
    Image.fromarray(random_image((64, 32), 3)).save(path, quality=80)
    np.testing.assert_array_equal(decode(path, "rgb"), tf.io.decode_image(path.read_bytes(), channels=3).numpy())
    np.testing.assert_array_equal(decode(path, "grayscale"), tf.io.decode_image(path.read_bytes(), channels=1).numpy())


def test_colour_modes(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(np.array([[[10, 20, 30]]], np.uint8)).save(path)
    assert decode(path, "rgb").ravel().tolist() == [10, 20, 30]
    assert decode(path, "bgr").ravel().tolist() == [30, 20, 10]
    assert decode(path, "grayscale").shape == (1, 1, 1)


def test_model_input_per_dtype(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(np.array([[[0, 127, 255]]], np.uint8)).save(path)
    prep = Preprocessing.from_card({**CARD, "resize": {"height": 1, "width": 1}})
    raw = prep.model_input(path, "uint8", 1 / 127.5, 127)
    assert raw.dtype == np.uint8 and raw.ravel().tolist() == [0, 127, 255]  # uint8: raw pixels
    floats = prep.model_input(path, "float32", None, None)
    np.testing.assert_allclose(floats.ravel(), [-1.0, 127 / 127.5 - 1, 1.0], atol=1e-6)
    q = prep.model_input(path, "int8", 1 / 128, 0)  # rescaled -1, -0.0039, 1 -> -128, -0.502, 128
    assert q.dtype == np.int8 and q.ravel().tolist() == [-128, -1, 127]  # rounded, then clipped


def test_normalization_after_rescale(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(np.array([[[100, 100, 100]]], np.uint8)).save(path)
    block = {**CARD, "resize": {"height": 1, "width": 1}, "rescale": {"scale": 0.01, "offset": 0},
             "normalization": {"mean": [0.5, 1.0, 0.0], "std": [0.5, 1.0, 2.0]}}
    out = Preprocessing.from_card(block).model_input(path, "float32", None, None)
    np.testing.assert_allclose(out.ravel(), [1.0, 0.0, 0.5], atol=1e-6)


@pytest.mark.parametrize(
    "block, message",
    [
        ({}, "resize"),
        ({"resize": {"height": 2}}, "width"),
        ({"resize": {"height": 2, "width": 2, "interpolation": "bicubic"}}, "interpolation 'bicubic'"),
        ({"resize": {"height": 2, "width": 2}, "color_mode": "cmyk"}, "color_mode 'cmyk'"),
    ],
)
def test_bad_blocks_are_config_errors(block, message):
    with pytest.raises(ConfigError, match=message):
        Preprocessing.from_card(block, source="card.yaml")


def test_undecodable_image_names_the_file(tmp_path):
    for name in ("broken.jpg", "broken.png"):
        path = tmp_path / name
        path.write_bytes(b"not an image")
        with pytest.raises(DatasetError) as info:
            decode(path, "rgb")
        assert info.value.lines()[0].startswith(f"{path}: cannot decode image")
