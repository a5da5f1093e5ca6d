from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zoo.cli import main
from zoo.core.errors import InvalidDataError, UsageError
from zoo.catalog.registry import default_registry_path, load_registry

EXPECTED = {
    "osnet_a025": ("osnet_a025_256_128_tfs_int8.tflite", 377504, "e9713dbba5f843477a0dd639bb35bae88cfe51b8d8b15bc9e0f1133ff2a26375"),
    "osnet_a100": ("osnet_a100_256_128_tfs_int8.tflite", 2502288, "beb5f8e1692b865340fb280b41eb352bc1763ed26d23d70af317d18fd1be66f9"),
    "mobilenetv2_a035": ("mobilenetv2_a035_256_128_fft_int8.tflite", 615328, "823ca220f94229f73acfc7c047b2b48cd5255e22da2fc3f73a8196445f09b825"),
    "mobilenetv2_a100": ("mobilenetv2_a100_256_128_fft_int8.tflite", 2703488, "e5868008331411fa909afb42f12d8be2ccdda66ca44b0a572d34a515cd7ec2cf"),
}


def test_shipped_registry_holds_the_real_upstream_int8_files() -> None:
    registry = load_registry()
    for model_id, (name, size, sha) in EXPECTED.items():
        art = registry.get(model_id).artifact("tflite")
        assert (art.file, art.size, art.sha256) == (name, size, sha)
        assert all("7f3764d58ef8c7bca36116c4d6c12434d2682af7" in s for s in art.sources)
        assert registry.get(model_id).artifact("keras").precision == "float32"
        assert registry.get(model_id).card.is_file()


def test_unknown_id_suggests_close_matches() -> None:
    with pytest.raises(UsageError, match="did you mean osnet_a025"):
        load_registry().get("osnet_a25")


def _copy_registry(tmp_path: Path, text_edit) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_text(text_edit(default_registry_path().read_text()))
    return path


def test_every_schema_violation_is_reported_with_line_and_pointer(tmp_path: Path) -> None:
    bad = _copy_registry(
        tmp_path,
        lambda t: t.replace("size: 377504", "size: -1", 1).replace("sha256: beb5f8e1", "sha256: XYZ", 1),
    )
    with pytest.raises(InvalidDataError) as info:
        load_registry(bad)
    lines = info.value.lines()
    assert len(lines) == 2
    assert any("/models/osnet_a025/artifacts/0/size" in line for line in lines)
    assert any("/models/osnet_a100/artifacts/0/sha256" in line for line in lines)
    assert all(line.startswith(f"{bad}:") and line.split(":")[1].strip().isdigit() for line in lines)


@pytest.mark.parametrize("name", ["../evil.tflite", "/etc/passwd", "a/b.tflite", ".hidden", "x\\..\\y"])
def test_traversal_file_names_are_rejected(tmp_path: Path, name: str) -> None:
    bad = _copy_registry(tmp_path, lambda t: t.replace("file: osnet_a025_256_128_tfs_int8.tflite", f"file: '{name}'"))
    with pytest.raises(InvalidDataError, match="/models/osnet_a025/artifacts/0/file"):
        load_registry(bad)


def test_broken_yaml_is_one_line_with_its_line_number(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "registry.yaml"
    bad.write_text("schema_version: 1\nmodels: [unclosed\n")
    assert main(["list", "--registry", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"zoo: error: {bad}:") and "invalid YAML" in err[0]


def test_relative_sources_resolve_against_the_registry_file(tmp_path: Path) -> None:
    reg = _copy_registry(tmp_path, lambda t: t.replace(
        "          - https://media.githubusercontent.com/media/STMicroelectronics/stm32ai-modelzoo/7f3764d58ef8c7bca36116c4d6c12434d2682af7/re_identification/osnet/ST_pretrainedmodel_public_dataset/DeepSportradar/osnet_a025_256_128_tfs/osnet_a025_256_128_tfs_int8.tflite",
        "          - mirror/osnet_a025_256_128_tfs_int8.tflite", 1))
    shutil.copy(default_registry_path(), tmp_path / "unused.yaml")
    art = load_registry(reg).get("osnet_a025").artifact("tflite")
    assert art.sources[0] == str(tmp_path / "mirror" / "osnet_a025_256_128_tfs_int8.tflite")
