"""``zoo pull``, ``zoo mirror`` and ``zoo cache`` as a user runs them: real processes, a real loopback server."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from httpserver import generated, write_registry

from zoo.catalog.registry import load_registry
from zoo.core.resources import data_dir
from helpers import cache_files, on_a_terminal, zoo

pytestmark = pytest.mark.usefixtures("no_internet")

DATA = generated(200_000, seed=3)





def _demo_registry(tmp_path: Path) -> tuple[Path, bytes, str]:
    """A copy of the shipped registry without its bundled mirror folder: osnet_demo can only come from a mirror."""
    root = tmp_path / "release"
    shutil.copytree(data_dir("registry"), root / "registry", ignore=shutil.ignore_patterns("mirror"))
    shutil.copytree(data_dir("model_cards"), root / "model_cards")
    artifact = load_registry().get("osnet_demo").artifact("tflite")
    return root / "registry" / "registry.yaml", (data_dir("registry") / artifact.sources[0]).read_bytes(), artifact.file


def test_pull_from_a_loopback_mirror_then_from_the_cache_with_the_server_stopped(http_server, tmp_path):
    registry, data, file = _demo_registry(tmp_path)
    http_server.add(f"osnet_demo/{file}", data)
    first = zoo("pull", "osnet_demo", "--registry", str(registry), "--mirror", http_server.url)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""  # not a terminal: no progress bar
    (line,) = first.stdout.splitlines()
    assert Path(line).read_bytes() == data and len(http_server.gets(f"osnet_demo/{file}")) == 1
    http_server.stop()
    second = zoo("pull", "osnet_demo", "--registry", str(registry), "--mirror", http_server.url)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout


def test_pull_from_a_corrupted_mirror_fails_and_leaves_nothing_in_the_cache(http_server, tmp_path):
    registry, data, file = _demo_registry(tmp_path)
    corrupted = bytearray(data)
    corrupted[1000] ^= 0xFF
    http_server.add(f"osnet_demo/{file}", bytes(corrupted))
    result = zoo("pull", "osnet_demo", "--registry", str(registry), "--mirror", http_server.url)
    assert result.returncode == 1  # integrity failure, though the registry's own source is missing too
    (message,) = result.stderr.splitlines()
    assert f"expected {hashlib.sha256(data).hexdigest()}, got {hashlib.sha256(corrupted).hexdigest()}" in message
    assert cache_files(Path(os.environ["ZOO_CACHE_DIR"])) == []


def test_concurrent_pull_processes_download_once_and_all_succeed(http_server, tmp_path):
    http_server.delay = 1.5  # the body trickles in, so the processes overlap
    url = http_server.add("gen/gen_int8.tflite", DATA, "slow_body")
    registry = write_registry(tmp_path / "r.yaml", {"gen": [{"file": "gen_int8.tflite", "data": DATA, "sources": [url]}]})
    procs = [
        subprocess.Popen([sys.executable, "-m", "zoo", "pull", "gen", "--registry", str(registry)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    assert len({out for out, _ in outputs}) == 1
    assert len(http_server.gets("gen/gen_int8.tflite")) == 1


def test_pull_json_to_and_format_all(http_server, tmp_path):
    keras = generated(1000, seed=4)
    registry = write_registry(tmp_path / "r.yaml", {"gen": [
        {"file": "gen_int8.tflite", "data": DATA, "sources": [http_server.add("a", DATA)]},
        {"file": "gen.keras", "format": "keras", "data": keras, "sources": [http_server.add("b", keras)]},
    ]})
    result = zoo("pull", "gen", "--registry", str(registry), "--format", "all", "--to", str(tmp_path / "out"), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [(a["file"], a["format"]) for a in doc["artifacts"]] == [("gen_int8.tflite", "tflite"), ("gen.keras", "keras")]
    for art in doc["artifacts"]:
        path = Path(art["path"])
        assert path.parent == tmp_path / "out" and not path.is_symlink()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == art["sha256"]


def test_offline_pull_of_a_missing_artifact_is_a_clear_error_without_requests(http_server, tmp_path):
    registry = write_registry(tmp_path / "r.yaml", {"gen": [{"file": "g.tflite", "data": DATA, "sources": [http_server.add("g", DATA)]}]})
    result = zoo("pull", "gen", "--registry", str(registry), "--offline")
    assert result.returncode == 3
    assert result.stderr.startswith("zoo: error: gen/g.tflite is not in the cache and offline mode is on")
    assert zoo("pull", "gen", "--registry", str(registry), ZOO_OFFLINE="1").returncode == 3
    assert http_server.log == []


def test_mirror_writes_a_layout_that_serves_an_offline_site(http_server, tmp_path):
    registry = write_registry(tmp_path / "r.yaml", {"gen": [{"file": "g.tflite", "data": DATA, "sources": [http_server.add("g", DATA)]}]})
    written = zoo("mirror", str(tmp_path / "site"), "gen", "--registry", str(registry))
    assert written.returncode == 0, written.stderr
    assert written.stdout.strip() == str(tmp_path / "site" / "gen" / "g.tflite")
    http_server.stop()
    fresh = zoo("pull", "gen", "--registry", str(registry), "--offline",
                ZOO_CACHE_DIR=str(tmp_path / "fresh"), ZOO_MIRROR=str(tmp_path / "site"))
    assert fresh.returncode == 0, fresh.stderr
    assert Path(fresh.stdout.strip()).read_bytes() == DATA


def test_cache_list_verify_clean(tmp_path):
    src = tmp_path / "g.tflite"
    src.write_bytes(DATA)
    registry = write_registry(tmp_path / "r.yaml", {"gen": [{"file": "g.tflite", "data": DATA, "sources": [str(src)]}]})
    path = Path(zoo("pull", "gen", "--registry", str(registry)).stdout.strip())
    listed = json.loads(zoo("cache", "list", "--json").stdout)
    assert [(e["names"], e["size"]) for e in listed["entries"]] == [(["gen/g.tflite"], len(DATA))]
    assert json.loads(zoo("cache", "verify", "--json").stdout)["corrupt"] == 0
    blob = path.resolve()
    blob.chmod(0o644)
    blob.write_bytes(generated(len(DATA), seed=9))
    verified = zoo("cache", "verify")
    assert verified.returncode == 1 and "CORRUPT" in verified.stdout
    zoo("pull", "gen", "--registry", str(registry))
    cleaned = json.loads(zoo("cache", "clean", "--json").stdout)
    assert [e["names"] for e in cleaned["removed"]] == [["gen/g.tflite"]]
    assert json.loads(zoo("cache", "list", "--json").stdout)["entries"] == []


def test_progress_bar_on_a_terminal_only(tmp_path):
    src = tmp_path / "g.tflite"
    src.write_bytes(DATA)
    registry = write_registry(tmp_path / "r.yaml", {"gen": [{"file": "g.tflite", "data": DATA, "sources": [str(src)]}]})
    shown = on_a_terminal("pull", "gen", "--registry", str(registry))
    assert b"g.tflite" in shown and b"%" in shown


BAD_REGISTRIES = {
    "broken_yaml": ("schema_version: 1\nname: [unclosed\n", "invalid YAML"),
    "schema": ("schema_version: 1\nname: x\nmodels:\n  m:\n    family: f\n    title: t\n    task: re_identification\n"
               "    artifacts:\n      - {file: m.tflite, format: tflite, precision: int8, size: big, sha256: abc, sources: [x]}\n",
               "/models/m/artifacts/0/"),
    "traversal": ("schema_version: 1\nname: x\nmodels:\n  m:\n    family: f\n    title: t\n    task: re_identification\n"
                  "    artifacts:\n      - {file: ../../escape.tflite, format: tflite, precision: int8, size: 1,"
                  f" sha256: '{'0' * 64}', sources: [x]}}\n",
                  "/models/m/artifacts/0/file"),
}


@pytest.mark.parametrize("case", sorted(BAD_REGISTRIES))
def test_bad_registries_are_one_line_errors_with_exit_2(tmp_path, case):
    text, expected = BAD_REGISTRIES[case]
    path = tmp_path / "registry.yaml"
    path.write_text(text, encoding="utf-8")
    result = zoo("pull", "m", "--registry", str(path))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(f"zoo: error: {path}:") for line in lines)
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path.parent / "escape.tflite").exists()


def test_a_registry_edited_after_a_good_run_is_validated_again(tmp_path):
    """Warm runs skip jsonschema for registry bytes that already passed; new bytes are checked afresh."""
    src = tmp_path / "g.tflite"
    src.write_bytes(DATA)
    registry = write_registry(tmp_path / "r.yaml", {"gen": [{"file": "g.tflite", "data": DATA, "sources": [str(src)]}]})
    assert zoo("pull", "gen", "--registry", str(registry)).returncode == 0
    assert list((Path(os.environ["ZOO_CACHE_DIR"]) / "verdicts").glob("registry-*.ok"))
    registry.write_text(registry.read_text(encoding="utf-8").replace("precision: int8", "precision: int9"))
    result = zoo("pull", "gen", "--registry", str(registry))
    assert result.returncode == 2 and "/precision" in result.stderr


def test_the_first_pull_without_network_says_in_one_short_line_what_to_try(no_internet, capsys) -> None:
    """Finding 8: one ~600-character line naming two long URLs, and no hint of --mirror, ZOO_MIRROR or --offline."""
    from zoo.cli import main

    assert main(["pull", "osnet_a025"]) == 3
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert len(line) < 250 and "media.githubusercontent.com" in line
    assert all(hint in line for hint in ("--mirror", "ZOO_MIRROR", "--offline"))


def test_failed_pulls_and_mirrors_leave_nothing_behind_and_clean_refuses_a_typo(tmp_path, capsys) -> None:
    """Finding 9: `pull --format all --to` failed yet left the .tflite; `mirror --offline` stopped at the first
    uncached model leaving a partial mirror; `cache clean <typo>` exited 0 saying nothing."""
    from zoo.cli import main
    from zoo.demo import bundled_mirror

    to = tmp_path / "models"
    assert main(["pull", "osnet_a025", "--format", "all", "--to", str(to), "--offline"]) == 3
    assert not to.exists() or not any(to.iterdir())
    assert main(["pull", "osnet_demo", "--mirror", str(bundled_mirror()), "--offline"]) == 0
    capsys.readouterr()
    airgap = tmp_path / "airgap"
    assert main(["mirror", str(airgap), "osnet_demo", "osnet_a025", "mobilenetv2_a100", "--offline"]) == 3
    err = capsys.readouterr().err
    assert "osnet_a025@1" in err and "mobilenetv2_a100@1" in err and "osnet_demo" not in err.split("cache")[1]
    assert not airgap.exists() or not any(airgap.rglob("*.tflite"))
    assert main(["mirror", str(airgap), "osnet_demo", "--offline"]) == 0
    assert main(["cache", "clean", "osnet_dmeo"]) == 2
    assert "did you mean osnet_demo" in capsys.readouterr().err
    assert main(["cache", "clean", "osnet_a025"]) == 0  # known, merely not cached
