"""hf:// sources through huggingface_hub, against olah serving a local git repository as a hub repo."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from httpserver import generated, write_registry
from servers import git, need_olah, olah

from zoo.core.errors import IntegrityError, SourceUnavailableError
from zoo.artifacts.fetching import fetch
from zoo.catalog.registry import Artifact
from zoo.core.settings import Settings

pytestmark = pytest.mark.usefixtures("no_internet")

V1 = generated(120_000, seed=11)
V2 = generated(120_000, seed=12)
FILE = "weights/gen_int8.tflite"


@pytest.fixture(scope="module")
def olah_hub(tmp_path_factory: pytest.TempPathFactory):
    """olah, offline, serving ``testorg/reid`` from a git repo with two commits of one file: (url, first sha)."""
    need_olah()
    root = tmp_path_factory.mktemp("olah")
    repo = root / "mirrors" / "models" / "testorg" / "reid"
    (repo / "weights").mkdir(parents=True)
    (repo / "gen").mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / FILE).write_bytes(V1)
    (repo / "gen" / "gen_int8.tflite").write_bytes(V1)  # a mirror layout: <model id>/<file>
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    first = git(repo, "rev-parse", "HEAD")
    (repo / FILE).write_bytes(V2)
    git(repo, "commit", "-qam", "v2")
    for url in olah(root):
        yield url, first


@pytest.fixture
def hub_env(olah_hub, monkeypatch, tmp_path):
    endpoint, first = olah_hub
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # never the user's hub cache or token
    return first


def art(source: str, data: bytes = V1) -> Artifact:
    return Artifact("gen", "gen_int8.tflite", "tflite", "int8", len(data), hashlib.sha256(data).hexdigest(), (source,))


def test_pinned_revision_is_pulled_and_verified(hub_env, tmp_path):
    registry = write_registry(tmp_path / "r.yaml", {"gen": [
        {"file": "gen_int8.tflite", "data": V1, "sources": [f"hf://testorg/reid/{FILE}@{hub_env}"]},
    ]})
    result = subprocess.run([sys.executable, "-m", "zoo", "pull", "gen", "--registry", str(registry)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(Path(result.stdout.strip()).read_bytes()).hexdigest() == hashlib.sha256(V1).hexdigest()
    assert list((Path(os.environ["ZOO_CACHE_DIR"]) / "partial").iterdir()) == []  # scratch dir removed


def test_branch_that_moved_on_is_refused_by_hash(hub_env):
    """main now holds V2; a registry that trusted the branch instead of a commit gets caught."""
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        fetch(art("hf://testorg/reid/weights/gen_int8.tflite@main"))
    assert fetch(art("hf://testorg/reid/weights/gen_int8.tflite@main", V2)).read_bytes() == V2


def test_missing_file_and_repo_are_source_errors(hub_env):
    with pytest.raises(SourceUnavailableError) as info:
        fetch(art(f"hf://testorg/reid/weights/nope.tflite@{hub_env}"))
    assert "not found" in info.value.message
    with pytest.raises(SourceUnavailableError, match="not found"):
        fetch(art(f"hf://testorg/absent/{FILE}@{hub_env}"))


def test_hf_repo_as_a_mirror(hub_env):
    """An hf:// mirror holds <model id>/<file> in a repo, like a folder or URL mirror."""
    assert fetch(art("/nonexistent/source"), mirrors=[f"hf://testorg/reid@{hub_env}"]).read_bytes() == V1


def test_token_is_never_sent_over_plain_http_nor_printed(http_server, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_ENDPOINT", http_server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    secret = "hf_secretTOKENvalue1234567890"
    registry = write_registry(tmp_path / "r.yaml", {"gen": [
        {"file": "gen_int8.tflite", "data": V1, "sources": [f"hf://testorg/reid/{FILE}@main"]},
    ]})
    result = subprocess.run([sys.executable, "-m", "zoo", "pull", "gen", "--registry", str(registry)],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "HF_TOKEN": secret})
    assert result.returncode == 3
    assert http_server.log, "the hub endpoint was never asked"
    assert all(r.authorization is None for r in http_server.log)
    assert secret not in result.stdout + result.stderr


def test_the_endpoint_comes_from_settings_not_from_the_environment(olah_hub, monkeypatch, tmp_path):
    endpoint, first = olah_hub
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    settings = Settings(cache_dir=tmp_path / "cache", hf_endpoint=endpoint)
    assert fetch(art(f"hf://testorg/reid/{FILE}@{first}"), settings=settings).read_bytes() == V1


def test_a_stalling_hub_is_given_up_after_the_http_timeout(http_server, monkeypatch, tmp_path):
    """hf:// sources honour ZOO_HTTP_TIMEOUT and ZOO_HTTP_RETRIES like any URL (a stall once took 385 s)."""
    monkeypatch.setenv("HF_ENDPOINT", http_server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("ZOO_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("ZOO_HTTP_RETRIES", "0")
    http_server.delay = 20
    http_server.add(f"testorg/reid/resolve/main/{FILE}", V1, "slow")
    started = time.monotonic()
    with pytest.raises(SourceUnavailableError, match="timed out"):
        fetch(art(f"hf://testorg/reid/{FILE}@main"))
    assert time.monotonic() - started < 10
