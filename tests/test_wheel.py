"""The wheel carries its data: built, installed into a fresh venv, ``zoo list`` works from another folder."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_ships_its_data(tmp_path):
    pytest.importorskip("hatchling", reason="hatchling (the test extra) builds the wheel without network")
    dist = tmp_path / "dist"
    # --no-build-isolation: hatchling comes from the test extra, so the build needs no index.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(dist), str(REPO)], check=True, capture_output=True)
    (wheel,) = dist.glob("zoo-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)  # pip below is the outer one, pointed at this interpreter
    python = env_dir / "bin" / "python"
    # A real install with dependencies; --no-compile only skips byte-compiling numpy & co (half the time).
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile",
                    str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([str(env_dir / "bin" / "zoo"), "list", "--json"], cwd=elsewhere,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {m["id"] for m in doc["models"]} == {"osnet_a025", "osnet_a100", "mobilenetv2_a035", "mobilenetv2_a100", "osnet_demo",
                                                 "osnet_demo_qdq"}
    assert Path(doc["registry"]).is_relative_to(env_dir)  # the shipped copy, not this checkout
    assert "zoo/_data/registry" in Path(doc["registry"]).as_posix()
    # The README's first command works from the wheel: the bundled mirror, card and README ship in it.
    demo = subprocess.run([str(env_dir / "bin" / "zoo"), "demo", "--json"], cwd=elsewhere,
                          capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    steps = json.loads(demo.stdout)["steps"]
    assert Path(steps[0]["details"]["mirror"]).is_relative_to(env_dir) and all(s["ok"] for s in steps)
    # The base install has no tflite-micro: --tflm says how to get it (exit 2, one line); the rest works.
    tflm = subprocess.run([str(env_dir / "bin" / "zoo"), "footprint", "osnet_demo", "--tflm", "--offline"],
                          cwd=elsewhere, capture_output=True, text=True, timeout=60)
    assert tflm.returncode == 2 and tflm.stderr.strip().splitlines() == [
        "zoo: error: TFLM figures need the tflite-micro package: pip install 'zoo[mcu]'"], tflm.stderr
    footprint = subprocess.run([str(env_dir / "bin" / "zoo"), "footprint", "osnet_demo", "--json", "--offline"],
                               cwd=elsewhere, capture_output=True, text=True, timeout=60)
    assert footprint.returncode == 0 and json.loads(footprint.stdout)["weights_bytes"] > 0, footprint.stderr
