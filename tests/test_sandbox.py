"""A file that crashes the native TFLite runtime becomes a one-line error, and verify still writes its report.

The crashing file is the bundled demo model with one byte changed (found by a seeded search over single-byte
mutations): it parses, and LiteRT dies with SIGSEGV when it builds the interpreter.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from zoo.demo import bundled_mirror
from zoo.core.errors import ModelFileError
from zoo.core.files import sha256_file
from zoo.core.resources import data_dir
from zoo.model.runtime import load_model

DEMO = bundled_mirror() / "osnet_demo" / "osnet_demo_int8.tflite"
MUTATION = (77050, 150)  # offset, new byte


@pytest.fixture(scope="module")
def crashing_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = bytearray(DEMO.read_bytes())
    offset, value = MUTATION
    data[offset] = value
    path = tmp_path_factory.mktemp("crash") / "osnet_demo_int8.tflite"
    path.write_bytes(bytes(data))
    raw = subprocess.run([sys.executable, "-c", "import sys; from ai_edge_litert.interpreter import Interpreter; "
                          "i = Interpreter(model_path=sys.argv[1]); i.allocate_tensors(); i.invoke()", str(path)],
                         capture_output=True, timeout=120)
    assert raw.returncode < 0, "the premise: this mutant must crash a bare interpreter by a signal"
    return path


def test_load_model_refuses_a_file_that_crashes_the_runtime(crashing_model: Path) -> None:
    with pytest.raises(ModelFileError) as refused:
        load_model(crashing_model)  # this process survives: the crash happened in a child
    (line,) = refused.value.lines()
    assert line.startswith(str(crashing_model)) and "crashed (SIGSEGV)" in line


def test_bench_says_so_in_one_line(crashing_model: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "zoo", "bench", str(crashing_model)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("zoo: error: ") and "Traceback" not in done.stderr


def test_verify_fails_the_file_and_still_writes_its_reports(crashing_model: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(data_dir("registry"), registry)
    text = (registry / "registry.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    artifact = data["models"]["osnet_demo"]["artifacts"][0]
    text = text.replace(artifact["sha256"], sha256_file(crashing_model))
    (registry / "registry.yaml").write_text(text, encoding="utf-8")
    shutil.copy(crashing_model, registry / "mirror" / "osnet_demo" / crashing_model.name)
    shutil.copytree(data_dir("model_cards"), tmp_path / "model_cards")
    junit = tmp_path / "verify.xml"
    done = subprocess.run([sys.executable, "-m", "zoo", "verify", "osnet_demo", "--registry", str(registry),
                           "--offline", "--json", "--junit", str(junit)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    failed = {c["id"]: c["message"] for e in report["entries"] for c in e["checks"] if c["status"] == "fail"}
    assert failed.keys() & {"artifact.runs", "artifact.readable"}, failed
    assert junit.read_text(encoding="utf-8").count("<failure") >= 1
