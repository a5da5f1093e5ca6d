"""zoo publish to a mirror folder: the <mirror>/<id>/<file> layout --mirror reads, signatures beside the files,
a SHA256SUMS that sha256sum -c accepts, the folder recorded as a source and pulled back, signature checked."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import yaml

import oci_registry
from conftest import REPO
from helpers import ec_key, zoo

MODEL, FILE = "osnet_demo", "osnet_demo_int8.tflite"


def test_mirror_release_is_checksummed_signed_and_pulled_back(tmp_path: Path, monkeypatch) -> None:
    oci_registry.need_module("model_signing", "sign")
    for name in ("registry", "model_cards"):
        shutil.copytree(REPO / name, tmp_path / name)
    monkeypatch.setenv("ZOO_REGISTRY", str(tmp_path / "registry"))
    mirror = tmp_path / "public"
    done = zoo("publish", MODEL, f"file://{mirror}", "--sign", str(ec_key(tmp_path / "k.pem")), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sources"] == [f"file://{mirror}/{MODEL}/{FILE}"]
    folder = mirror / MODEL
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [FILE, f"{FILE}.sig", "card.yaml", "README.md", "SHA256SUMS"])
    sums = dict(line.split("  ")[::-1] for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {FILE, "card.yaml", "README.md"}
    assert all(hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest for name, digest in sums.items())
    if shutil.which("sha256sum"):
        assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder).returncode == 0

    path = tmp_path / "registry" / "registry.yaml"
    data = yaml.safe_load(path.read_text())
    art = data["models"][MODEL]["artifacts"][0]
    assert art["sources"][-1] == f"file://{mirror}/{MODEL}/{FILE}" and data["models"][MODEL]["signature"]
    art["sources"] = [art["sources"][-1]]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    pulled = zoo("pull", MODEL, "--json", ZOO_CACHE_DIR=str(tmp_path / "cache"))
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["artifacts"][0]["source"] == f"file://{mirror}/{MODEL}/{FILE}"

    carried = zoo("publish", MODEL, str(tmp_path / "second"), "--no-record", ZOO_CACHE_DIR=str(tmp_path / "cache"))
    assert carried.returncode == 0, carried.stderr  # no --sign: the verified signature travels to the new place
    assert (tmp_path / "second" / MODEL / f"{FILE}.sig").read_bytes() == (folder / f"{FILE}.sig").read_bytes()
    again = zoo("publish", MODEL, f"file://{mirror}", "--sign", str(tmp_path / "k.pem"), "--json")
    assert json.loads(again.stdout)["uploaded"] == []  # the same version again: nothing written, signature kept

    (folder / f"{FILE}.sig").write_bytes(b"{}")  # a mirror that lost its signature
    again = zoo("pull", MODEL, ZOO_CACHE_DIR=str(tmp_path / "cache2"))
    assert again.returncode == 1 and "signature of osnet_demo/osnet_demo_int8.tflite refused" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_a_released_file_is_never_replaced_by_other_bytes(tmp_path: Path, monkeypatch) -> None:
    for name in ("registry", "model_cards"):
        shutil.copytree(REPO / name, tmp_path / name)
    monkeypatch.setenv("ZOO_REGISTRY", str(tmp_path / "registry"))
    (tmp_path / "public" / MODEL).mkdir(parents=True)
    (tmp_path / "public" / MODEL / FILE).write_bytes(b"an older, different release")
    done = zoo("publish", MODEL, str(tmp_path / "public"), "--no-record")
    assert done.returncode == 1 and "a released file is never replaced" in done.stderr
    assert (tmp_path / "public" / MODEL / FILE).read_bytes() == b"an older, different release"
