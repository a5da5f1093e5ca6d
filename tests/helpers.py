"""What several test modules share: the demo model's paths, zoo run as a user runs it, and assertions.

``zoo(...)`` runs the command as a separate process, so a traceback, a crash or a hang is seen the way a
user would see it (an in-process ``main()`` would raise into the test instead). ``verify_json`` runs
``zoo verify --json`` in-process for tests that read the report.
"""

from __future__ import annotations

import fcntl
from collections import Counter
import json
import math
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

from zoo.cards.card import Card, load_card, read_card
from zoo.markdown.cells import clean_text, numbers_in
from zoo.markdown.tables import parse_tables
from zoo.catalog.registry import load_registry
from zoo.cli import main
from zoo.core.errors import ModelFileError
from zoo.core.resources import data_dir, load_schema
from zoo.demo import DEMO_MODEL
from zoo.model.inspection import inspect_model
from zoo.model.runtime import load_model, synthetic_input
from zoo.reid.datasets import load_dataset
from zoo.verification.rules.artifact import artifact_checks
from zoo.verification.rules.card import record_checks

DEMO_FILE = data_dir("registry") / "mirror" / DEMO_MODEL / load_registry().get(DEMO_MODEL).artifact("tflite").file
ARENA_BYTES = 4 << 20  # more than either real model plans for TFLM (osnet_a025: 492,048 bytes)
DEMO_CARD = data_dir("model_cards") / DEMO_MODEL / "card.yaml"


def zoo(*args: str, cwd: Path | None = None, timeout: float = 120, memory: int | None = None, preexec=None,
        **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``zoo ARGS`` as a process (``python -m zoo``), with the test's environment plus ``env``.

    ``memory`` caps the address space, so a command that reads a huge file whole fails instead of passing.
    """
    def limits() -> None:
        if memory:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if preexec:
            preexec()

    return subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env={**os.environ, **env}, preexec_fn=limits if memory or preexec else None)


def ec_key(path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def one_line_error(result: subprocess.CompletedProcess, code: int) -> str:
    """The failure a user should see: the documented exit code and one ``zoo: error:`` line, no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("zoo: error: ")
    return line


def verify_json(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, dict]:
    """``zoo verify ARGS --json`` in-process: the exit code and the report, checked against its schema."""
    code = main(["verify", *args, "--json"])
    out = capsys.readouterr().out
    report = json.loads(out) if out.strip() else {}
    if report and "error" not in report:
        jsonschema.validate(report, load_schema("verify-report"))
    return code, report


def shipped_card(name: str) -> Card:
    return read_card(data_dir("model_cards") / name / "card.yaml")


def by_id(checks) -> dict[str, list]:
    out: dict[str, list] = {}
    for c in checks:
        out.setdefault(c.id, []).append(c)
    return out


def all_checks(card: Card, variant: str, path: Path) -> list:
    registry = load_registry()
    info = inspect_model(path, registry)
    return list(artifact_checks(card, variant, info)) + list(record_checks(card, registry))


def on_a_terminal(*args: str) -> bytes:
    """What ``zoo ARGS`` shows on stderr when stderr is a terminal (a pty 100 columns wide)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    with subprocess.Popen([sys.executable, "-m", "zoo", *args], stdout=subprocess.PIPE, stderr=follower) as proc:
        os.close(follower)
        proc.communicate(timeout=60)
    shown = b""
    while select.select([leader], [], [], 1)[0]:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return shown


def cache_files(cache: Path) -> list[Path]:
    return [p for d in ("blobs", "models", "partial") for p in (cache / d).rglob("*") if not p.is_dir()]


IN_SCALE, IN_ZERO = float(np.float32(1 / 127.5)), 127  # the real files' input quantization (REFERENCE.md)
BLOCK = {
    "resize": {"height": 256, "width": 128, "interpolation": "nearest", "aspect_ratio": "fit"},
    "color_mode": "rgb",
    "rescale": {"scale": 1 / 127.5, "offset": -1},
}


def st_input_tf(tf, path, block, in_scale, in_zero, dtype=np.uint8):
    """The ST services' host input, with their own calls: TF decode, tf.image.resize, Keras Rescaling,
    tf.image.resize again (preprocess_input), then their numpy re-quantization."""
    import keras

    size = (block["resize"]["height"], block["resize"]["width"])
    image = tf.image.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
    image = tf.image.resize(image, size, method=block["resize"]["interpolation"], preserve_aspect_ratio=False)
    rescale = keras.layers.Rescaling(block["rescale"]["scale"], block["rescale"]["offset"])
    x = tf.image.resize(rescale(tf.cast(image, tf.float32)), size).numpy()
    info = np.iinfo(dtype)
    return np.clip(np.round(x / in_scale + in_zero), info.min, info.max).astype(dtype)


def micro_outputs(tflm, path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    micro = tflm.Interpreter.from_file(str(path), arena_size=ARENA_BYTES)
    outputs = []
    for array in inputs:
        micro.set_input(array, 0)
        micro.invoke()
        outputs.append(micro.get_output(0).copy())
    return outputs


def assert_reference_equals_micro(tflm, path: Path, inputs: list[np.ndarray]) -> None:
    reference, optimized = load_model(path, kernels="reference"), load_model(path)
    micro = micro_outputs(tflm, path, inputs)
    differs = False
    for array, expected in zip(inputs, micro, strict=True):
        got = reference.invoke(array)[0]
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
        differs |= not np.array_equal(optimized.invoke(array)[0], expected)
    assert differs, "the optimized kernels matched TFLM too: the kernel choice changed nothing"


def golden_like_inputs(path: Path, count: int) -> list[np.ndarray]:
    (info,) = load_model(path).inputs
    return [synthetic_input(info, f"kernels:{i}") for i in range(count)]


def damaged_copies(real: Path, tmp_path: Path) -> list[Path]:
    data = real.read_bytes()
    flipped = bytearray(data)
    flipped[8:24] = b"\xff" * 16  # corrupt the root table's offsets
    cases = {"empty": b"", "text": b"not a model at all\n" * 4, "header-only": data[:16],
             "half": data[: len(data) // 2], "one-byte-short": data[:-1], "flipped": bytes(flipped)}
    paths = []
    for name, content in cases.items():
        (tmp_path / f"{name}.tflite").write_bytes(content)
        paths.append(tmp_path / f"{name}.tflite")
    return paths


def assert_damaged_copies_are_one_line_errors(model: Path, folder: Path, capsys) -> None:
    """Truncated and corrupted copies of ``model`` (and a missing file): ModelFileError, one line, exit 2."""
    for path in damaged_copies(model, folder) + [folder / "missing.tflite"]:
        with pytest.raises(ModelFileError):
            inspect_model(path)
        for command in ("inspect", "bench"):
            assert main([command, str(path)]) == 2, path
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith(f"zoo: error: {path}: "), err


def import_round_trip(source: Path, folder: Path, capsys: pytest.CaptureFixture) -> tuple[Card, str]:
    """Import ``source`` into ``folder``; the README it writes must give back every table number, be up to
    date with the card, and import again into the same card. Returns the card and the warnings printed."""
    folder.mkdir()
    readme = folder / "README.md"
    shutil.copyfile(source, readme)
    assert main(["import-card", str(readme)]) == 0
    warnings = capsys.readouterr().err
    assert_same_table_numbers(source, readme)
    assert main(["render-card", "--check", str(folder)]) == 0
    again = folder.parent / f"{folder.name}-again"
    again.mkdir()
    shutil.copyfile(readme, again / "README.md")
    assert main(["import-card", str(again / "README.md")]) == 0
    capsys.readouterr()
    assert yaml.safe_load((again / "card.yaml").read_text()) == yaml.safe_load((folder / "card.yaml").read_text())
    return load_card(folder / "card.yaml"), warnings


def _tables(path: Path) -> list:
    tables, problems = parse_tables(path.read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n"))
    assert problems == []
    return tables


def assert_same_table_numbers(source: Path, rendered: Path) -> None:
    """As many tables come back, each with its rows and every number of its source table (as numbers: 24.0 ==
    24, 725,061 == 725061); a rendered table may add derived figures such as inferences/s."""
    before, after = _tables(source), _tables(rendered)
    assert len(before) == len(after)
    for old, new in zip(before, after):
        assert len(new.rows) >= len(old.rows), old.headers  # the network table may gain "Framework: unknown"
        want = Counter(n for row in old.rows for cell in row for n in numbers_in(clean_text(cell)))
        have = Counter(n for row in new.rows for cell in row for n in numbers_in(clean_text(cell)))
        assert not want - have, (old.headers, want - have)


def recipe_figure(model_file, dataset):
    """The recipe's steps written out plainly: TF-default JPEG decode, nearest resize with half-pixel
    centres to the model's input size, raw uint8 in, dequantize, L2-normalise, cosine, then AP / rank-k
    per query in a loop."""
    import simplejpeg

    data = load_dataset(dataset)
    model = load_model(model_file)
    (out,) = model.outputs
    _, height, width, _ = model.inputs[0].shape
    feats = []
    for item in data.query + data.gallery:
        pixels = simplejpeg.decode_jpeg(item.path.read_bytes(), colorspace="RGB", fastdct=True, fastupsample=False)
        h, w = pixels.shape[:2]
        rows = [min(math.floor((i + 0.5) * (h / height)), h - 1) for i in range(height)]
        cols = [min(math.floor((j + 0.5) * (w / width)), w - 1) for j in range(width)]
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


# A small upstream-style markdown card; {table} is where a test puts its performance table.
TINY_CARD = """# Tiny test model

## **Use case** : `Image classification`

## Network information

| Network Information | Value |
|---|---|
| Framework | TensorFlow Lite |
| Provenance | Trained in-house by the zoo tests, no public source |

## Network inputs / outputs

| Input Shape | Description |
| ----- | ----------- |
| (1, N, M, 3) | Single NxM RGB image with UINT8 values between 0 and 255 |

| Output Shape | Description |
| ----- | ----------- |
| (1, 4+K, F) | FLOAT values where F is the number of anchors and K of classes |

# Performances

### Reference **MCU** figures based on Tiny dataset

{table}

Some prose after the table.
"""
