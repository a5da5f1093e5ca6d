"""Shared fixtures. Real data from ../shared is used when present and skipped cleanly when absent.

Only tests/test_real_artifacts.py takes the real inputs (one scenario per input); every other test runs on the
bundled osnet_demo or on data it makes, so a plain clone tests every rule and mechanism."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ("httpserver",)  # the loopback HTTP server fixtures (http_server, no_internet)

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ZOO_SHARED_DIR", REPO.parent / "shared"))
REAL_ARTIFACTS = SHARED / "artifacts" / "stm32ai-modelzoo"
REAL_OSNET_A025 = REAL_ARTIFACTS / "osnet_a025_256_128_tfs_int8.tflite"
REAL_MOBILENETV2_A100 = REAL_ARTIFACTS / "mobilenetv2_a100_256_128_fft_int8.tflite"
CUHK03_SAMPLE = SHARED / "datasets" / "cuhk03-reid-sample"
PUBLISHED_OSNET_CARD = SHARED / "cards" / "osnet-published-card.md"
ST_ZOO_CARDS = SHARED / "cards" / "st-zoo"


def need(path: Path) -> Path:
    """Skip the calling test when a ../shared file is absent (a user's clone has no ../shared)."""
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture
def real_osnet() -> Path:
    return need(REAL_OSNET_A025)


@pytest.fixture
def real_mobilenetv2() -> Path:
    return need(REAL_MOBILENETV2_A100)


@pytest.fixture
def cuhk03_sample() -> Path:
    return need(CUHK03_SAMPLE)


@pytest.fixture
def published_osnet_card() -> Path:
    return need(PUBLISHED_OSNET_CARD)


@pytest.fixture
def st_zoo_cards() -> Path:
    return need(ST_ZOO_CARDS)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's cache or registry settings, and none may touch the network by accident."""
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    for name in ("ZOO_REGISTRY", "ZOO_MIRROR", "ZOO_OFFLINE", "ZOO_STRICT", "CI", "HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")  # the Hub upload stand-in (tests/hub_standin.py) speaks LFS only


@pytest.fixture(scope="session")
def demo_test_split(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo card's test split, regenerated from the generator settings its dataset entry records."""
    from zoo.core.documents import load_yaml
    from zoo.core.resources import data_dir
    from zoo.reid import synthetic

    card = load_yaml(data_dir("model_cards") / "osnet_demo" / "card.yaml").data
    gen = next(d for d in card["datasets"] if d["id"] == "synthetic_reid")["generator"]
    root = tmp_path_factory.mktemp("demo-test-split")
    synthetic.write_test_set(root, identities=gen["identities"], gallery_per_identity=gen["gallery_per_identity"],
                             seed=gen["seed"], size=tuple(gen["size"]))
    return root
