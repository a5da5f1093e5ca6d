"""Hostile inputs to evaluation: decompression bombs and a model whose output is NaN end in one line, exit 2."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import simplejpeg

from zoo.core.errors import DatasetError
from zoo.reid.preprocessing import MAX_PIXELS, decode
from zoo.core.resources import data_dir
from helpers import zoo

DEMO_CARD = data_dir("model_cards") / "osnet_demo" / "card.yaml"


def _jpeg(height: int, width: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return simplejpeg.encode_jpeg(pixels, quality=90)


def _jpeg_claiming(height: int, width: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) claims ``height`` x ``width``."""
    data = bytearray(_jpeg(16, 16, 0))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _png_claiming(height: int, width: int) -> bytes:
    """A PNG whose header (with a correct CRC) claims ``height`` x ``width`` and holds one row of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (3 * 16 + 1)))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize(("name", "data", "why"), [
    ("bomb.jpeg", _jpeg_claiming(60000, 60000), f"{MAX_PIXELS:,}"),
    ("bomb.png", _png_claiming(8000, 8000), f"{MAX_PIXELS:,}"),  # under Pillow's own limit: ours refuses it
    ("huge.png", _png_claiming(100000, 100000), "decompression bomb"),  # Pillow's limit, one line too
])
def test_decompression_bombs_are_refused_before_decoding(name: str, data: bytes, why: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DatasetError) as refused:
        decode(path, "rgb")
    (line,) = refused.value.lines()
    assert line.startswith(str(path)) and why in line


def _dataset(root: Path) -> Path:
    """A tiny DeepSportradar-layout set: 2 identities, 1 query and 2 gallery images each."""
    for split, frames in (("query", (1,)), ("gallery", (2, 3))):
        folder = root / "reid_test" / split
        folder.mkdir(parents=True)
        for pid in (1, 2):
            for frame in frames:
                (folder / f"{pid}_1_{frame}.jpeg").write_bytes(_jpeg(128, 64, pid * 10 + frame))
    return root


def _evaluate(model: str, dataset: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zoo", "evaluate", model, "--dataset", str(dataset), *extra],
                          capture_output=True, text=True, timeout=300)


def test_a_bomb_inside_a_dataset_stops_evaluate_in_one_line(tmp_path: Path) -> None:
    dataset = _dataset(tmp_path / "set")
    assert _evaluate("osnet_demo", dataset).returncode == 0
    bomb = dataset / "reid_test" / "gallery" / "2_1_3.jpeg"
    bomb.write_bytes(_jpeg_claiming(60000, 60000))
    done = _evaluate("osnet_demo", dataset)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and str(bomb) in done.stderr


def test_a_model_that_outputs_nan_is_refused_naming_the_image(tmp_path: Path) -> None:
    tf = pytest.importorskip("tensorflow")

    @tf.function(input_signature=[tf.TensorSpec([1, 128, 64, 3], tf.float32)])
    def embed(image):  # log of a negative mean: NaN for every image
        return tf.math.log(tf.reduce_mean(image, axis=[1, 2]) - 1000.0)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([embed.get_concrete_function()], embed)
    model = tmp_path / "nan.tflite"
    model.write_bytes(converter.convert())
    done = _evaluate(str(model), _dataset(tmp_path / "set"), "--card", str(DEMO_CARD))
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "not finite" in done.stderr and ".jpeg" in done.stderr


def test_a_gallery_too_small_for_st_ranks_gives_map_only(tmp_path: Path) -> None:
    root = tmp_path / "tiny"
    for split, name in (("query", "1_1_1.jpeg"), ("gallery", "1_1_2.jpeg")):
        (root / "reid_test" / split).mkdir(parents=True)
        (root / "reid_test" / split / name).write_bytes(_jpeg(128, 64, 1))
    done = _evaluate("osnet_demo", root, "--protocol", "st-modelzoo")
    assert done.returncode == 0, done.stderr
    assert "mAP" in done.stdout and "rank-1" not in done.stdout  # ST ranks k = 1..gallery // 2: none here





@pytest.mark.parametrize(("args", "code"), [
    (("list", "--registry", "{special}"), 2),
    (("validate", "{special}"), 1),  # validate reports every file's problems, then exits 1
    (("import-card", "{special}", "-o", "out"), 2),
    (("render-card", "--check", "{special}"), 2),
])
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_fifo_or_device_named_as_a_card_or_registry_is_refused_not_read_forever(args, code, special, tmp_path):
    """A pull request can name any path: reading a FIFO would hang CI, /dev/zero would fill memory."""
    os.mkfifo(tmp_path / "fifo")
    result = zoo(*(a.format(special=special) for a in args), cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert "not a regular file" in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_oversized_card_is_refused_from_its_size_without_reading_it(tmp_path):
    big = tmp_path / "card.yaml"
    with open(big, "wb") as fh:  # sparse: 6 GiB on paper, nothing on disk
        fh.truncate(6 << 30)
    result = zoo("validate", str(big), cwd=tmp_path, memory=2 << 30)  # reading it would need 6 GiB
    assert result.returncode == 1 and "larger than 4 MiB" in result.stdout + result.stderr, result


def test_a_file_that_reports_no_size_is_still_held_to_the_limit():
    """/proc files say st_size 0 whatever they hold: the limit is also applied to what a read brings."""
    from zoo.core.errors import FileAccessError
    from zoo.core.files import read_bytes

    assert read_bytes("/proc/self/status", limit=1 << 20).startswith(b"Name:")
    with pytest.raises(FileAccessError, match="larger than"):
        read_bytes("/proc/self/status", limit=64)


def test_demo_keep_onto_a_file_fails_its_step_in_one_line(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    result = zoo("demo", "--keep", "taken", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot write: Not a directory" in result.stdout


def test_a_golden_path_that_names_a_device_is_refused(tmp_path):
    from zoo.core.errors import ConfigError
    from zoo.model.goldens import load_golden

    with pytest.raises(ConfigError, match="not a regular file"):
        load_golden("/dev/zero")


def test_a_golden_nested_too_deeply_is_one_error_not_a_recursion_traceback(tmp_path):
    from zoo.core.errors import ConfigError
    from zoo.model.goldens import load_golden

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_golden(deep)


def test_import_card_into_a_file_and_verify_on_a_file_are_one_line_usage_errors(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# A card\n\n| Model | Format | Resolution |\n|---|---|---|\n| m | Int8 | 256x128x3 |\n")
    (tmp_path / "taken").write_text("a file, not a folder")
    imported = zoo("import-card", str(readme), "-o", "taken", cwd=tmp_path)
    assert imported.returncode == 2 and imported.stderr.count("\n") == 1, imported.stderr
    assert "Not a directory" in imported.stderr and (tmp_path / "taken").read_text() == "a file, not a folder"
    verified = zoo("verify", "osnet_demo", "--dataset", "taken", cwd=tmp_path)
    assert verified.returncode == 2 and "--dataset taken: not a folder" in verified.stderr
