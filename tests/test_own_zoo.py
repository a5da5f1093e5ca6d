"""A maintainer's own zoo, as a new maintainer runs it: init, add, import-card, golden, verify, render, versions.

The journey of issue 19's "Done means" runs in an empty temporary folder with documented commands only, the
files served from a loopback mirror. Real .tflite files: the bundled osnet_demo and copies of it with other
weights (same architecture, new bytes), written with LiteRT's own schema bindings (tests/tflite_builder.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import tflite_builder
import zoo as zoo_package
from zoo.cli import main
from zoo.core.errors import FileAccessError
from zoo.core.files import write_atomic
from zoo.core.resources import data_dir

REPO = Path(__file__).resolve().parent.parent
DEMO = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"

UPSTREAM = """\
# Net

## **Use case** : `Re-Identification`

# Model description

Net is a small OSNet-style person re-identification network quantized in int8.

## Network information

| Network Information     |  Value          |
|-------------------------|-----------------|
|  Framework              | TensorFlow Lite |
|  Quantization           | int8            |
|  Provenance             | https://kaiyangzhou.github.io/deep-person-reid/ |

## Network inputs / outputs

| Input Shape | Description |
| ----- | ----------- |
| (1, 128, 64, 3) | Single 128x64 RGB image with UINT8 values between 0 and 255 |

| Output Shape | Description |
| ----- | ----------- |
| (1, 64) | INT8 embedding of the person |

# Performances

### Reference **MCU** memory footprint

|Model      | Format   | Resolution | Board    | Internal RAM (KiB) | External RAM (KiB) | Weights Flash (KiB) |  STEdgeAI Core version |
|----------|--------|-------------|------------------|------------------|---------------------|---------------|-------------------------|
| [Net A](https://zoo.example/zoo/net_a/net_a_int8.tflite) | Int8 | 128x64x3 | STM32H747I-DISCO | 40.5 | 0.0 | 27.91 | 3.0.0 |
| [Net B](https://zoo.example/zoo/net_b/net_b_int8.tflite) | Int8 | 128x64x3 | STM32H747I-DISCO | 40.5 | 0.0 | 27.91 | 3.0.0 |

### Reference **NPU** inference time

| Model | Format | Resolution | Board | Execution Engine | Inference time (ms) | STEdgeAI Core version |
|-------|--------|------------|-------|------------------|---------------------|-----------------------|
| [Net A](https://zoo.example/zoo/net_a/net_a_int8.tflite) | Int8 | 128x64x3 | STM32N6570-DK | NPU/MCU | 1.25 | 3.0.0 |
| [Net B](https://zoo.example/zoo/net_b/net_b_int8.tflite) | Int8 | 128x64x3 | STM32N6570-DK | NPU/MCU | 1.25 | 3.0.0 |
"""


def retrained(path: Path, seed: int) -> Path:
    """osnet_demo with 64 weight bytes changed: the same architecture, new bytes a real interpreter runs."""
    model = tflite_builder.read(DEMO)
    biggest = max((b for b in model.buffers if b.data is not None), key=lambda b: len(b.data))
    rng = np.random.default_rng(seed)
    data = biggest.data.copy()
    data[rng.integers(0, len(data), 64)] = rng.integers(0, 256, 64).astype(np.uint8)
    biggest.data = data
    return tflite_builder.write(model, path)


def shipped_bytes() -> dict[str, str]:
    """sha256 of every shipped registry, target, golden, card and README file."""
    files = [p for d in ("registry", "model_cards") for p in sorted((REPO / d).rglob("*")) if p.is_file()]
    return {str(p.relative_to(REPO)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def zoo(capsys: pytest.CaptureFixture, *args: str, code: int = 0) -> str:
    """Run one zoo command as a user types it; its stdout."""
    got = main(list(args))
    out = capsys.readouterr()
    assert got == code, f"zoo {' '.join(args)} exited {got}: {out.err}"
    return out.out


def test_the_journey_of_a_new_maintainer(tmp_path: Path, capsys: pytest.CaptureFixture, http_server,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    before = shipped_bytes()
    files = tmp_path / "release"
    files.mkdir()
    net_a = files / "net_a_int8.tflite"
    net_a.write_bytes(DEMO.read_bytes())
    net_b = retrained(files / "net_b_int8.tflite", 1)
    (files / "v2").mkdir()
    net_a2 = retrained(files / "v2" / "net_a_int8.tflite", 2)
    upstream = tmp_path / "upstream" / "README.md"
    upstream.parent.mkdir()
    upstream.write_text(UPSTREAM)
    for path, served in ((net_a, "zoo/net_a/net_a_int8.tflite"), (net_b, "zoo/net_b/net_b_int8.tflite"),
                         (net_a2, "zoo/net_a/2/net_a_int8.tflite")):
        http_server.add(served, path.read_bytes())
    mirror = f"{http_server.url}/zoo"

    zoo(capsys, "init", str(tmp_path / "myzoo"))
    monkeypatch.chdir(tmp_path / "myzoo" / "model_cards")  # commands find the zoo from below, as git does
    https, hf = "https://zoo.example/zoo/{id}/{file}", "hf://org/net/{file}@main"
    for path, model_id in ((net_a, "net_a"), (net_b, "net_b")):
        zoo(capsys, "add", str(path), "--id", model_id, "--task", "re_identification", "--family", "net",
            "--title", "Net", "--card", "net/card.yaml", "--source", https, "--source", hf)
    zoo(capsys, "import-card", str(upstream), "-o", "net/card.yaml", "--force")
    zoo(capsys, "golden", "net_a", "--mirror", mirror)
    report = json.loads(zoo(capsys, "verify", "--strict", "--mirror", mirror, "--json"))
    assert report["verdict"] == "PASSED" and report["totals"]["not_checked"] == 0
    ran = {c["id"] for e in report["entries"] for c in e["checks"]}
    assert {"artifact.sha256", "golden", "io.input.shape", "parameters.count", "footprint.file",
            "footprint.weights_flash", "footprint.time"} <= ran  # the NPU time on STM32N6570-DK is checked: the board gives its series
    zoo(capsys, "render-card", "--check")

    zoo(capsys, "add", str(net_a2), "--id", "net_a", "--version", "2",
        "--source", "https://zoo.example/zoo/{id}/{version}/{file}")
    one = Path(zoo(capsys, "pull", "net_a@1", "--mirror", mirror).strip())
    two = Path(zoo(capsys, "pull", "net_a@2", "--mirror", mirror).strip())
    assert one.read_bytes() == net_a.read_bytes() and two.read_bytes() == net_a2.read_bytes()
    assert Path(zoo(capsys, "pull", "net_a", "--mirror", mirror).strip()).read_bytes() == net_a2.read_bytes()
    for ref in ("net_a@1", "net_a@2"):  # each version checked against its own bytes, golden and the shared card
        report = json.loads(zoo(capsys, "verify", ref, "--strict", "--mirror", mirror, "--json"))
        assert report["verdict"] == "PASSED" and report["entries"][-1]["subject"] == ref
    info = json.loads(zoo(capsys, "info", "net_a", "--json"))
    assert [v["version"] for v in info["versions"]] == ["1", "2"] and info["version"] == "2"

    registry = (tmp_path / "myzoo" / "registry.yaml").read_text()
    assert registry.startswith("# The zoo's catalog")  # zoo init's comments survive every edit
    assert "hf://org/net/net_b_int8.tflite@main" in registry and "goldens/net_a/2/net_a_int8.json" in registry
    assert shipped_bytes() == before


def test_a_new_zoo_is_usable_before_its_first_model(tmp_path: Path, capsys, monkeypatch) -> None:
    """Finding 1: an empty registry was refused, so even `zoo inspect FILE` failed in a new zoo."""
    zoo(capsys, "init", str(tmp_path / "z"))
    monkeypatch.chdir(tmp_path / "z")
    zoo(capsys, "validate")
    assert "osnet_demo" not in zoo(capsys, "list")  # this zoo's (empty) catalog, not the bundled one
    assert json.loads(zoo(capsys, "inspect", str(DEMO), "--json"))["parameters"] == 25678
    zoo(capsys, "init", str(tmp_path / "z"), code=2)  # never twice
    assert main(["add", str(DEMO), "--id", "demo", "--task", "re_identification"]) == 2
    assert "--source TEMPLATE" in capsys.readouterr().err  # the file lies outside the zoo: say where it will live


def test_add_records_what_the_file_proves(tmp_path: Path, capsys, monkeypatch) -> None:
    zoo(capsys, "init", str(tmp_path / "z"))
    monkeypatch.chdir(tmp_path / "z")
    added = json.loads(zoo(capsys, "add", str(DEMO), "--id", "demo", "--task", "re_identification",
                           "--source", "https://host/zoo/{id}/{file}", "--json"))
    (art,) = added["artifacts"]
    assert (art["size"], art["sha256"], art["precision"]) == (139344, hashlib.sha256(DEMO.read_bytes()).hexdigest(),
                                                               "int8")
    assert art["sources"] == ["https://host/zoo/demo/osnet_demo_int8.tflite"]
    card = (tmp_path / "z" / "model_cards" / "demo" / "card.yaml").read_text()
    for fact in ("count: 25678", "weights_bytes: 28576", "macs: 3916928", "meaning: embedding", "meaning: image",
                 "zero_point: -128"):
        assert fact in card
    # the same bytes again, a version with other I/O, and an id taken without --version are each one line
    assert main(["add", str(DEMO), "--id", "other", "--task", "t", "--source", "x/{file}"]) == 2
    assert "already registered as demo@1" in capsys.readouterr().err
    wide = tmp_path / "wide.tflite"
    tflite_builder.write(tflite_builder.float_model("FULLY_CONNECTED", [1, 8], np.ones((4, 8), np.float32), [1, 4]),
                         wide)
    assert main(["add", str(wide), "--id", "demo", "--version", "2", "--source", "x/{file}"]) == 2
    assert "differs from the card's variant demo" in capsys.readouterr().err
    assert main(["add", str(wide), "--id", "demo", "--source", "x/{file}"]) == 2
    assert "give --version V" in capsys.readouterr().err
    assert "'2'" not in (tmp_path / "z" / "registry.yaml").read_text()


def test_commands_act_on_the_zoo_in_use_not_the_shipped_one(tmp_path: Path, capsys, monkeypatch) -> None:
    """Finding 2: with ZOO_REGISTRY set, render-card without paths rewrote zoo's shipped READMEs and skipped the
    maintainer's card, and validate checked the shipped cards."""
    before = shipped_bytes()
    zoo(capsys, "init", str(tmp_path / "z"))
    monkeypatch.setenv("ZOO_REGISTRY", str(tmp_path / "z" / "registry.yaml"))
    zoo(capsys, "add", str(DEMO), "--id", "demo", "--task", "re_identification", "--source", "x/{file}")
    readme = tmp_path / "z" / "model_cards" / "demo" / "README.md"
    readme.write_text("# demo\n\n<!-- zoo:begin name=io -->\n<!-- zoo:end name=io -->\n")
    zoo(capsys, "render-card")
    assert "serving_default_image" in readme.read_text()  # the maintainer's card, rendered
    zoo(capsys, "validate")
    card = tmp_path / "z" / "model_cards" / "demo" / "card.yaml"
    card.write_text(card.read_text() + "colour: red\n")
    assert main(["validate"]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines() == [line for line in out.out.splitlines() if str(card) in line] != []
    assert out.err.strip().endswith("in 3 file(s)")  # its registry, its targets and its one card
    assert shipped_bytes() == before


def test_golden_works_for_any_registry_and_refreshes(tmp_path: Path, capsys, monkeypatch) -> None:
    """Finding 3: goldens were made by a script that ignored ZOO_REGISTRY, wrote into zoo's own registry/goldens
    and had to be linked by hand."""
    before = shipped_bytes()
    zoo(capsys, "init", str(tmp_path / "z"))
    shutil_copy = tmp_path / "z" / "files" / "demo.tflite"
    shutil_copy.parent.mkdir()
    shutil_copy.write_bytes(DEMO.read_bytes())
    monkeypatch.setenv("ZOO_REGISTRY", str(tmp_path / "z"))
    zoo(capsys, "add", str(shutil_copy), "--id", "demo", "--task", "re_identification")  # its own source, in the zoo
    golden = tmp_path / "z" / "goldens" / "demo" / "1" / "demo.json"
    golden.unlink()
    assert zoo(capsys, "golden", "demo@1").strip() == f"wrote {golden}"
    assert json.loads(golden.read_text())["sha256"] == hashlib.sha256(DEMO.read_bytes()).hexdigest()
    assert "golden: goldens/demo/1/demo.json" in (tmp_path / "z" / "registry.yaml").read_text()
    assert "pass" in zoo(capsys, "verify", "demo", "--strict")
    card = tmp_path / "z" / "model_cards" / "demo" / "card.yaml"
    card.write_text(card.read_text().replace("macs: 3916928", "macs: 3916929"))  # a figure the file no longer proves
    assert main(["verify", "demo"]) == 1
    assert "macs 3,916,929 (the file: 3,916,928)" in capsys.readouterr().out
    assert shipped_bytes() == before


def test_no_zoo_found_means_nothing_is_written(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    main(["add", str(DEMO), "--id", "demo", "--task", "t", "--source", "x/{file}"])
    assert "no zoo found" in capsys.readouterr().err
    installed = Path(zoo_package.__file__).parent / "_data" / "model_cards" / "x" / "card.yaml"  # as in a wheel
    with pytest.raises(FileAccessError, match="installed files"):
        write_atomic(installed, "x")
    assert not installed.parent.exists()


def test_an_add_the_registry_refuses_leaves_no_golden_and_no_card(tmp_path: Path, capsys, monkeypatch) -> None:
    """All or nothing: the goldens and the card variant are written before the registry edit is checked, so a
    refused edit (here a source with a control character) must take them back."""
    zoo(capsys, "init", str(tmp_path / "z"))
    monkeypatch.chdir(tmp_path / "z")
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "z").rglob("*"))
    assert main(["add", str(DEMO), "--id", "demo", "--task", "re_identification",
                 "--source", "https://host/zoo/{file}\x07"]) == 2
    assert "zoo: error:" in capsys.readouterr().err
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "z").rglob("*") if p.is_file()) == \
        [p for p in before if (tmp_path / p).is_file()]
