"""zoo publish to a Hugging Face repo: one create_commit by the real huggingface_hub client against the upload
stand-in (tests/hub_standin.py), then the recorded hf://...@<commit> source pulled back through olah, the local
hub the read tests use, signature included."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import hub_standin
import oci_registry
import servers
from conftest import REPO
from helpers import ec_key, zoo

MODEL, FILE = "osnet_demo", "osnet_demo_int8.tflite"


@pytest.fixture
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[hub_standin.HubStandIn, str]]:
    """The upload stand-in and olah serving what it committed: (stand-in, olah url)."""
    oci_registry.need_module("model_signing", "sign")
    root = tmp_path_factory.mktemp("hub")
    reads = servers.olah(root)
    olah_url = next(reads)
    standin = hub_standin.serve(root)
    try:
        yield next(standin), olah_url
    finally:
        standin.close()
        reads.close()


def test_one_commit_with_hub_correct_card_then_pulled_back_pinned(hubs, tmp_path: Path, monkeypatch) -> None:
    from huggingface_hub import ModelCard
    from huggingface_hub._eval_results import parse_eval_result_entries

    from zoo.catalog.registry import load_registry
    from zoo.cards.card import read_card
    from zoo.render.front_matter import results

    standin, olah = hubs
    for name in ("registry", "model_cards"):
        shutil.copytree(REPO / name, tmp_path / name)
    monkeypatch.setenv("ZOO_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    key = ec_key(tmp_path / "release.key")
    done = zoo("publish", MODEL, "hf://zoo-org/osnet-demo", "--sign", str(key), "--json", HF_ENDPOINT=standin.url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    [commit] = standin.commits
    assert result["sources"] == [f"hf://zoo-org/osnet-demo/{FILE}@{commit['oid']}"]
    assert set(commit["paths"]) == {FILE, f"{FILE}.sig", "card.yaml", "README.md", f".eval_results/{MODEL}.yaml"}
    art = load_registry(tmp_path / "registry").get(MODEL).artifacts[0]
    assert standin.lfs_puts == [art.sha256]  # the model went through the LFS batch upload, checked by its oid
    assert f"hf://zoo-org/osnet-demo/{FILE}@{commit['oid']}" in art.sources and art.trust is not None

    repo = standin.repo("zoo-org/osnet-demo")
    assert hashlib.sha256((repo / FILE).read_bytes()).hexdigest() == art.sha256
    card = read_card(REPO / "model_cards" / MODEL / "card.yaml")
    hub_card = ModelCard.load(repo / "README.md")
    assert hub_card.data.model_name == MODEL and hub_card.data.pipeline_tag == "image-feature-extraction"
    assert {(r.metric_args["metric"], r.metric_value) for r in hub_card.data.eval_results} == \
        {(r["metric"], r["value"]) for r in results(card, MODEL)}
    entries = parse_eval_result_entries(yaml.safe_load((repo / ".eval_results" / f"{MODEL}.yaml").read_text()))
    assert [(e.task_id, e.value) for e in entries] == [(r["metric"], r["value"]) for r in results(card, MODEL)]

    path = tmp_path / "registry" / "registry.yaml"
    data = yaml.safe_load(path.read_text())
    sources = data["models"][MODEL]["artifacts"][0]["sources"]
    data["models"][MODEL]["artifacts"][0]["sources"] = [s for s in sources if s.startswith("hf://")]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    pulled = zoo("pull", MODEL, "--json", HF_ENDPOINT=olah, ZOO_CACHE_DIR=str(tmp_path / "empty-cache"))
    assert pulled.returncode == 0, pulled.stderr
    got = json.loads(pulled.stdout)["artifacts"][0]
    assert got["source"].startswith("hf://zoo-org/osnet-demo/") and got["sha256"] == art.sha256
    assert (tmp_path / "empty-cache" / "signatures" / f"{art.sha256}.sig").is_file()  # fetched from the commit


def test_a_hub_that_refuses_the_commit_is_one_line(hubs, tmp_path: Path, monkeypatch) -> None:
    standin, _ = hubs
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    done = zoo("publish", MODEL, "hf://zoo-org/osnet-demo", "--no-record", HF_ENDPOINT=standin.url + "/nowhere")
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zoo: error: ") and "Traceback" not in done.stderr
    bad = zoo("publish", MODEL, "hf://not a repo", "--no-record")
    assert bad.returncode == 2 and "expected hf://ORG/REPO[@BRANCH]" in bad.stderr
