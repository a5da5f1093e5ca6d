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


def _verdict_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from zoo.core import verdicts
    from zoo.model import sandbox

    folder = tmp_path / "verdicts"
    monkeypatch.setattr(verdicts, "_folder", folder)
    monkeypatch.setattr(sandbox, "_probed", set())  # a fresh process, as far as the sandbox knows
    return folder


def test_a_file_that_ran_once_starts_at_once_in_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.model import sandbox

    folder = _verdict_folder(tmp_path, monkeypatch)
    sandbox.ensure_runs(DEMO)
    (verdict,) = folder.glob("model-*.optimized.ok")
    assert verdict.name == f"model-{sha256_file(DEMO)}.optimized.ok" and (folder / "key").stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(sandbox, "_probed", set())  # the next run
    monkeypatch.setattr(sandbox, "run_python", lambda *a: pytest.fail("the verdict should have spared the child"))
    sandbox.ensure_runs(DEMO)
    monkeypatch.undo()


@pytest.mark.parametrize("how", ["copied from elsewhere", "stale runtime", "key others can read"])
def test_a_planted_or_stale_verdict_never_lets_a_crashing_file_into_this_process(
        crashing_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """Each verdict below claims the crashing file ran; none verifies, so the file runs in a child again, the child
    dies, and this process (which would have died loading it) only gets the one-line error."""
    from zoo.model.runtime import runtime_name
    from zoo.core.verdicts import Verdicts

    folder = _verdict_folder(tmp_path, monkeypatch)
    sha = sha256_file(crashing_model)
    if how == "copied from elsewhere":  # a verdict signed with another machine's key; ours is different
        Verdicts(tmp_path / "elsewhere").record(sha, "optimized", runtime_name())
        Verdicts(folder).record("0" * 64, "optimized", runtime_name())  # makes our own key
        shutil.copy(tmp_path / "elsewhere" / f"model-{sha}.optimized.ok", folder)
    elif how == "stale runtime":  # a true verdict, for a runtime version that is not the one installed now
        Verdicts(folder).record(sha, "optimized", "ai-edge-litert 0.0.1")
    else:  # whoever planted the verdict also planted the key, which anyone can read
        Verdicts(folder).record(sha, "optimized", runtime_name())
        (folder / "key").chmod(0o644)
    with pytest.raises(ModelFileError, match=r"crashed \(SIGSEGV\)"):
        load_model(crashing_model)


def test_a_planted_verdict_through_the_command_line(crashing_model: Path, tmp_path: Path) -> None:
    """The whole command with a planted verdict in its cache: one line, exit 2, never a signal."""
    env_cache = tmp_path / "cache"
    planted = env_cache / "verdicts"
    planted.mkdir(parents=True)
    (planted / "key").write_bytes(b"k" * 32)  # readable by others: not a key zoo trusts
    (planted / f"model-{sha256_file(crashing_model)}.optimized.ok").write_text("0" * 64)
    done = subprocess.run([sys.executable, "-m", "zoo", "bench", str(crashing_model)], capture_output=True, text=True,
                          timeout=120, env={**__import__("os").environ, "ZOO_CACHE_DIR": str(env_cache)})
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and done.stderr.startswith("zoo: error: "), done.stderr


def test_verdicts_name_the_installed_runtime_version() -> None:
    """A verdict is only as good as the runtime version it names: the fast path (the package's ``__version__``)
    must say what the installed distribution says."""
    from importlib.metadata import version

    from zoo.model.runtime import runtime_name

    name, _, number = runtime_name().rpartition(" ")
    assert number == version(name)
