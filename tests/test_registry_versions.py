"""Versions in a registry (``ID@V``, aliases, a default) and the round-trip editor that records them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from zoo.catalog.editing import add_model, add_source, add_version, set_alias, set_golden
from zoo.catalog.registry import default_registry_path, load_registry
from zoo.core.errors import InvalidDataError, UsageError
from zoo.core.settings import Settings
from zoo.artifacts.fetching import pull, write_mirror

HEAD = "# my zoo\nschema_version: 1\nname: mine\nmodels: {}  # filled by zoo add\n"


def _artifact(folder: Path, name: str, data: bytes, source: str = "{file}") -> dict:
    (folder / name).write_bytes(data)
    return {"file": name, "format": "tflite", "precision": "int8", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "sources": [source]}


def _zoo(tmp_path: Path) -> Path:
    registry = tmp_path / "registry.yaml"
    registry.write_text(HEAD)
    return registry


def test_an_empty_registry_is_valid(tmp_path: Path) -> None:
    registry = load_registry(_zoo(tmp_path))
    assert registry.models == {}
    with pytest.raises(UsageError, match="no models yet: see zoo add"):
        registry.get("anything")


def test_shipped_single_version_entries_are_version_1() -> None:
    registry = load_registry()
    model = registry.get("osnet_a025@1")
    assert model is registry.get("osnet_a025")
    assert model.versions == ("1",) and not model.artifacts[0].versioned
    with pytest.raises(UsageError, match=r"no version '2' .*\(it has: 1\)"):
        registry.get("osnet_a025@2")


def test_id_at_version_selects_its_own_bytes_and_plain_id_the_newest_or_default(tmp_path: Path) -> None:
    registry_path = _zoo(tmp_path)
    add_model(registry_path, "net", family="net", title="Net", task="image_classification",
              artifacts=[_artifact(tmp_path, "net.tflite", b"one")])
    (tmp_path / "v2").mkdir()
    add_version(registry_path, "net", "2", [_artifact(tmp_path / "v2", "net.tflite", b"two", "v2/{file}")],
                notes="retrained")
    registry = load_registry(registry_path)
    assert registry.get("net").version == "2" and registry.get("net@1").artifacts[0].size == 3
    assert registry.get("net@2").notes == "retrained"
    settings = Settings(cache_dir=tmp_path / "cache")
    one = pull(registry, "net@1", settings=settings)[0].path
    two = pull(registry, "net@2", settings=settings)[0].path
    assert (one.read_bytes(), two.read_bytes()) == (b"one", b"two")  # the first path still holds version 1
    assert one.parent.name == "1" and two.parent.name == "2"
    mirror = write_mirror(registry, tmp_path / "mirror", ["net@1", "net@2"], settings=settings)
    assert [p.relative_to(tmp_path / "mirror").as_posix() for p in mirror] == ["net/1/net.tflite", "net/2/net.tflite"]

    set_alias(registry_path, "net", "stable", "1")
    text = registry_path.read_text().replace("models:\n", "models:\n", 1)
    registry_path.write_text(text.replace("    aliases:", "    default: stable\n    aliases:"))
    registry = load_registry(registry_path)
    assert registry.get("net").version == "1" and registry.get("net@stable").version == "1"
    assert registry.by_sha256(hashlib.sha256(b"two").hexdigest()).ref == "net@2"


@pytest.mark.parametrize("edit, message", [
    ("    default: nope\n", "'nope' is neither a version nor an alias"),
    ("    aliases:\n      stable: '9'\n", "alias 'stable' names no version"),
    ("    aliases:\n      '1': '1'\n", "alias '1' is also a version name"),
    ("    aliases:\n      stable: 1.10\n", "version 1.1 must be quoted"),
])
def test_bad_aliases_and_defaults_are_one_line_each(tmp_path: Path, edit: str, message: str) -> None:
    registry_path = _zoo(tmp_path)
    add_model(registry_path, "net", family="net", title="Net", task="t", artifacts=[_artifact(tmp_path, "a.tflite", b"1")])
    add_version(registry_path, "net", "2", [_artifact(tmp_path, "b.tflite", b"2")])
    registry_path.write_text(registry_path.read_text() + edit)
    with pytest.raises(InvalidDataError, match=message) as info:
        load_registry(registry_path)
    assert len(info.value.lines()) == 1 and info.value.lines()[0].startswith(f"{registry_path}:")


def test_both_forms_at_once_is_refused(tmp_path: Path) -> None:
    registry_path = _zoo(tmp_path)
    art = "      - {file: a.tflite, format: tflite, precision: int8, size: 1, sha256: %s, sources: [a.tflite]}\n" % ("a" * 64)
    registry_path.write_text(HEAD.replace(" {}", "") + "  net:\n    family: net\n    title: Net\n    task: t\n"
                             "    artifacts:\n" + art + "    versions:\n      '2':\n        artifacts:\n  " + art)
    with pytest.raises(InvalidDataError, match="either 'artifacts' .* or 'versions'"):
        load_registry(registry_path)


def test_edits_keep_comments_layout_and_every_other_byte(tmp_path: Path) -> None:
    shipped = default_registry_path().read_text()
    registry_path = tmp_path / "registry.yaml"
    registry_path.write_text(shipped)
    add_version(registry_path, "osnet_demo", "2", [_artifact(tmp_path, "osnet_demo_v2.tflite", b"v2")])
    added = add_source(registry_path, "osnet_demo", "https://host/zoo/{id}/{version}/{file}")
    after = registry_path.read_text()
    assert added == ["https://host/zoo/osnet_demo/2/osnet_demo_v2.tflite"]
    # every comment survives, the demo's own included, and models before it are untouched byte for byte
    assert [line for line in shipped.splitlines() if line.lstrip().startswith("#")] == \
           [line.strip() and line for line in after.splitlines() if line.lstrip().startswith("#")]
    assert after.startswith(shipped.split("  osnet_demo:")[0])
    demo = load_registry(registry_path).get("osnet_demo@1")
    def facts(model):
        return [(a.file, a.size, a.sha256, a.golden.name, [Path(s).relative_to(s.rsplit("/mirror/")[0]).as_posix()
                                                         for s in a.sources]) for a in model.artifacts]
    assert facts(demo) == facts(load_registry().get("osnet_demo"))


def test_an_edit_that_breaks_the_registry_writes_nothing(tmp_path: Path) -> None:
    registry_path = _zoo(tmp_path)
    add_model(registry_path, "net", family="net", title="Net", task="t", artifacts=[_artifact(tmp_path, "a.tflite", b"1")])
    before = registry_path.read_bytes()
    with pytest.raises(InvalidDataError, match="unsafe source"):
        add_source(registry_path, "net", "../../{file}")
    with pytest.raises(UsageError, match="already has a version '1'"):
        add_version(registry_path, "net", "1", [_artifact(tmp_path, "b.tflite", b"2")])
    with pytest.raises(UsageError, match="already in"):
        add_model(registry_path, "net", family="net", title="Net", task="t", artifacts=[])
    with pytest.raises(UsageError, match="unknown placeholder {revision}"):
        add_source(registry_path, "net", "hf://org/repo/{file}@{revision}")
    with pytest.raises(UsageError, match="no file 'x.tflite'"):
        set_golden(registry_path, "net", "x.tflite", "goldens/x.json")
    assert registry_path.read_bytes() == before
    assert add_source(registry_path, "net", "a.tflite") == []  # already listed: nothing added, nothing written
