"""zoo publish to a real OCI registry (Debian's docker-registry on 127.0.0.1, htpasswd auth), signed with
model-signing, then pulled back into an empty cache with the oci:// source alone; a changed layer, a changed
signature, a signature over other bytes and the wrong key are each refused in one line with exit 1; a second
publish uploads no blob."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

import oci_registry
from conftest import REPO
from helpers import ec_key, zoo


@pytest.fixture(autouse=True)
def _extras() -> None:
    oci_registry.need_module("oras", "publish")
    oci_registry.need_module("model_signing", "sign")

MODEL = "osnet_demo"
FILE = "osnet_demo_int8.tflite"


@pytest.fixture
def oci(tmp_path_factory: pytest.TempPathFactory) -> Iterator[oci_registry.OciRegistry]:
    yield from oci_registry.start(tmp_path_factory.mktemp("oci"))


@pytest.fixture
def zoo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, oci: oci_registry.OciRegistry) -> Path:
    """A release team's checkout: the shipped registry, goldens, mirror and cards, and registry credentials."""
    for name in ("registry", "model_cards"):
        shutil.copytree(REPO / name, tmp_path / name)
    monkeypatch.setenv("ZOO_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("ZOO_OCI_USERNAME", oci_registry.USER)
    monkeypatch.setenv("ZOO_OCI_PASSWORD", oci_registry.PASSWORD)
    return tmp_path


def publish(oci: oci_registry.OciRegistry, key: Path) -> dict:
    done = zoo("publish", MODEL, f"oci://{oci.host}/zoo/{MODEL}", "--sign", str(key), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def oci_only(zoo_dir: Path) -> None:
    """Drop every source of osnet_demo but the recorded oci:// one (the bundled mirror among them)."""
    path = zoo_dir / "registry" / "registry.yaml"
    data = yaml.safe_load(path.read_text())
    art = data["models"][MODEL]["artifacts"][0]
    art["sources"] = [s for s in art["sources"] if s.startswith("oci://")]
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def storage_blob(oci_root: Path, digest: str) -> Path:
    hexdigest = digest.removeprefix("sha256:")
    return next(oci_root.rglob(f"blobs/sha256/{hexdigest[:2]}/{hexdigest}/data"))


def refused(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zoo: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_published_signed_then_pulled_into_an_empty_cache_from_oci_alone(
        oci: oci_registry.OciRegistry, zoo_dir: Path, tmp_path: Path) -> None:
    from zoo.catalog.registry import load_registry

    key = ec_key(tmp_path / "release.key")
    first = publish(oci, key)
    source = first["sources"][0]
    assert source.startswith(f"oci://{oci.host}/zoo/{MODEL}@sha256:") and len(source.rpartition(":")[2]) == 64
    assert first["trusted_key"] == f"keys/{MODEL}.pub" and first["uploaded"]
    registry = load_registry(zoo_dir / "registry")
    art = registry.get(MODEL).artifacts[0]
    assert source in art.sources and art.trust.key == zoo_dir / "registry" / "keys" / f"{MODEL}.pub"

    oci_only(zoo_dir)
    empty = tmp_path / "empty-cache"
    pulled = zoo("pull", MODEL, "--json", ZOO_CACHE_DIR=str(empty))
    assert pulled.returncode == 0, pulled.stderr
    got = json.loads(pulled.stdout)["artifacts"][0]
    assert got["source"] == source and got["sha256"] == art.sha256
    from zoo.core.files import sha256_file

    assert sha256_file(Path(got["path"])) == art.sha256
    verified = zoo("verify", MODEL, "--json", ZOO_CACHE_DIR=str(empty))
    report = json.loads(verified.stdout)
    signature = [c for e in report["entries"] for c in e["checks"] if c["id"] == "artifact.signature"]
    assert [c["status"] for c in signature] == ["pass"], signature

    posts, puts = oci.requests("POST", "/blobs/uploads/"), oci.requests("PUT", "/blobs/uploads/")
    again = publish(oci, key)
    assert again["sources"] == [source]  # the same release: the same manifest digest
    assert again["uploaded"] == [] and set(again["present"]) <= set(first["uploaded"])
    assert oci.requests("POST", "/blobs/uploads/") == posts and oci.requests("PUT", "/blobs/uploads/") == puts


def test_a_tag_is_resolved_to_its_digest(oci: oci_registry.OciRegistry, zoo_dir: Path, tmp_path: Path) -> None:
    from zoo.catalog.registry import load_registry
    from zoo.core.settings import Settings
    from zoo.artifacts.fetching import fetch

    done = zoo("publish", MODEL, f"oci://{oci.host}/zoo/{MODEL}:v1", "--no-record", "--json")
    assert done.returncode == 0, done.stderr
    art = load_registry(zoo_dir / "registry").get(MODEL).artifacts[0]
    by_tag = replace(art, sources=(f"oci://{oci.host}/zoo/{MODEL}:v1",))
    settings = replace(Settings.from_env(), cache_dir=tmp_path / "empty-cache")
    path = fetch(by_tag, settings=settings)
    from zoo.artifacts.cache import Cache
    from zoo.core.files import sha256_file

    assert sha256_file(path) == art.sha256
    pinned = json.loads(done.stdout)["sources"][0]
    assert Cache(settings.cache_dir).source(art.sha256) == pinned  # the tag is recorded as the digest it named


def test_a_changed_layer_is_refused(oci: oci_registry.OciRegistry, zoo_dir: Path, tmp_path: Path) -> None:
    from zoo.catalog.registry import load_registry

    publish(oci, ec_key(tmp_path / "release.key"))
    oci_only(zoo_dir)
    art = load_registry(zoo_dir / "registry").get(MODEL).artifacts[0]
    blob = storage_blob(oci.log.parent, f"sha256:{art.sha256}")
    data = bytearray(blob.read_bytes())
    data[1000] ^= 0xFF  # the registry's storage changed behind its back
    blob.write_bytes(bytes(data))
    line = refused(zoo("pull", MODEL, ZOO_CACHE_DIR=str(tmp_path / "cache")), "refused wrong bytes", FILE)
    assert art.sha256 in line
    assert not any((tmp_path / "cache").rglob(FILE))  # nothing handed out, nothing kept


def _sign_other(path: Path, key: Path, tmp_path: Path) -> bytes:
    from zoo.artifacts.signatures import sign_file

    return sign_file(path, FILE, key, tmp_path / "work")


def _replace_signature(oci: oci_registry.OciRegistry, digest: str, bundle: bytes, tmp_path: Path) -> None:
    """Push another ``<file>.sig`` under the release's signature tag, as anyone with push rights could."""
    from zoo.core.settings import Settings
    from zoo.artifacts.oci import OciReference, signature_tag
    from zoo.release.oci import EMPTY_TYPE, MANIFEST_TYPE, Pushed, _Client
    from zoo.release.gathering import SIGNATURE_MEDIA_TYPE

    ref = OciReference.parse(f"oci://{oci.host}/zoo/{MODEL}")
    client = _Client(ref, Settings.from_env())
    pushed = Pushed(ref, "x")
    sig = tmp_path / f"{FILE}.sig"
    sig.write_bytes(bundle)
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"{}")
    client.manifest({"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "artifactType": SIGNATURE_MEDIA_TYPE,
                     "config": client.blob(empty, EMPTY_TYPE, None, pushed),
                     "layers": [client.blob(sig, SIGNATURE_MEDIA_TYPE, sig.name, pushed)]}, signature_tag(digest))


def test_a_changed_signature_is_refused(oci: oci_registry.OciRegistry, zoo_dir: Path, tmp_path: Path) -> None:
    import base64

    key = ec_key(tmp_path / "release.key")
    digest = publish(oci, key)["sources"][0].rpartition("@")[2]
    oci_only(zoo_dir)
    bundle = json.loads(_sign_other(REPO / "registry" / "mirror" / MODEL / FILE, key, tmp_path))
    raw = bytearray(base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"]))
    raw[-1] ^= 0x01
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    _replace_signature(oci, digest, json.dumps(bundle).encode(), tmp_path)
    refused(zoo("pull", MODEL, ZOO_CACHE_DIR=str(tmp_path / "cache")), "signature of osnet_demo/osnet_demo_int8.tflite refused",
            "not signed by the trusted key")


def test_a_signature_over_other_bytes_is_refused(oci: oci_registry.OciRegistry, zoo_dir: Path, tmp_path: Path) -> None:
    key = ec_key(tmp_path / "release.key")
    digest = publish(oci, key)["sources"][0].rpartition("@")[2]
    oci_only(zoo_dir)
    other = tmp_path / "other" / FILE
    other.parent.mkdir()
    other.write_bytes(b"another model altogether")
    _replace_signature(oci, digest, _sign_other(other, key, tmp_path), tmp_path)  # the right key, other bytes
    refused(zoo("pull", MODEL, ZOO_CACHE_DIR=str(tmp_path / "cache")), "signed over other bytes")


def test_the_wrong_key_is_refused(oci: oci_registry.OciRegistry, zoo_dir: Path, tmp_path: Path) -> None:
    from zoo.artifacts.signatures import public_key_pem

    publish(oci, ec_key(tmp_path / "release.key"))
    oci_only(zoo_dir)
    assert zoo("pull", MODEL, ZOO_CACHE_DIR=str(tmp_path / "cache")).returncode == 0  # verified, and remembered as verified
    trusted = zoo_dir / "registry" / "keys" / f"{MODEL}.pub"
    trusted.write_bytes(public_key_pem(ec_key(tmp_path / "someone-else.key")))  # the same cache: checked again
    refused(zoo("pull", MODEL, ZOO_CACHE_DIR=str(tmp_path / "cache")), "not signed by the trusted key osnet_demo.pub")
    verified = zoo("verify", MODEL, "--json", ZOO_CACHE_DIR=str(tmp_path / "cache"))
    assert verified.returncode == 1
    checks = [c for e in json.loads(verified.stdout)["entries"] for c in e["checks"] if c["id"] == "artifact.signature"]
    assert [c["status"] for c in checks] == ["fail"]


def test_a_trusted_key_that_is_a_fifo_is_one_line_not_a_hang(oci: oci_registry.OciRegistry, zoo_dir: Path,
                                                               tmp_path: Path) -> None:
    publish(oci, ec_key(tmp_path / "release.key"))
    oci_only(zoo_dir)
    trusted = zoo_dir / "registry" / "keys" / f"{MODEL}.pub"
    trusted.unlink()
    os.mkfifo(trusted)  # a registry in a pull request names a FIFO as its key
    result = zoo("pull", MODEL, ZOO_CACHE_DIR=str(tmp_path / "cache"))
    assert result.returncode == 2 and "not a regular file" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unsigned_release_is_refused_once_a_key_is_trusted(oci: oci_registry.OciRegistry, zoo_dir: Path,
                                                              tmp_path: Path) -> None:
    plain = zoo("publish", MODEL, f"oci://{oci.host}/zoo/unsigned", "--json")  # before any key: no signatures
    assert plain.returncode == 0, plain.stderr
    publish(oci, ec_key(tmp_path / "release.key"))  # records the key
    path = zoo_dir / "registry" / "registry.yaml"
    data = yaml.safe_load(path.read_text())
    data["models"][MODEL]["artifacts"][0]["sources"] = json.loads(plain.stdout)["sources"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    refused(zoo("pull", MODEL, ZOO_CACHE_DIR=str(tmp_path / "cache")), "is unsigned")


def test_a_registry_that_never_answers_is_given_up_in_one_line(tmp_path: Path) -> None:
    import socket
    import time

    with socket.socket() as silent:  # the kernel accepts the connection; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        result = zoo("publish", MODEL, f"oci://127.0.0.1:{silent.getsockname()[1]}/zoo/{MODEL}", "--no-record",
                     ZOO_HTTP_TIMEOUT="1", ZOO_HTTP_RETRIES="0")
    assert time.monotonic() - started < 30
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the registry" in lines[0], result.stderr


def test_wrong_registry_credentials_are_one_line(oci: oci_registry.OciRegistry, zoo_dir: Path) -> None:
    result = zoo("publish", MODEL, f"oci://{oci.host}/zoo/{MODEL}", "--no-record", ZOO_OCI_PASSWORD="wrong")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ZOO_OCI_PASSWORD" in lines[0] and "wrong" not in lines[0], result.stderr
    anonymous = zoo("publish", MODEL, f"oci://{oci.host}/zoo/{MODEL}", "--no-record", ZOO_OCI_USERNAME="")
    assert anonymous.returncode == 2 and "asks for credentials" in anonymous.stderr
