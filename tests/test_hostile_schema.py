"""Issue 23, kinds 1-3 and 10: strings and numbers that pass a schema but not the code, arguments the OS
refuses, untrusted names printed raw, and a remembered registry verdict planted in a shared cache.

Each kind is tested as a family: every pattern of every schema, every number of the shipped card, registry
and targets, every command that takes ``FILE|ID``, and every control character class."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from zoo.catalog.registry import default_registry_path, load_registry
from zoo.catalog.targets import load_targets
from zoo.cards.card import read_card
from zoo.core.documents import Document, schema_problems
from zoo.core.errors import InvalidDataError
from zoo.core.resources import data_dir, load_schema
from zoo.core.text import printable, printable_lines
from helpers import zoo

SCHEMAS = ("registry", "card", "targets")
REGISTRY = default_registry_path()
DEMO_CARD = data_dir("model_cards") / "osnet_demo" / "card.yaml"
TARGETS = data_dir("registry") / "targets.yaml"


def _patterns(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.add(node["pattern"])
        for value in node.values():
            found |= _patterns(value)
    elif isinstance(node, list):
        for value in node:
            found |= _patterns(value)
    return found


ALL_PATTERNS = sorted(set().union(*(_patterns(load_schema(name)) for name in SCHEMAS)))
# Anchored patterns of one-line values (a text field that takes line breaks may end in one).
ENDED = [p for p in ALL_PATTERNS if p.endswith("$") and not re.search(p.replace("$", r"\Z"), "a\nb")]


def _problems(schema: dict, value: object) -> list[str]:
    return schema_problems(Document(Path("x.yaml"), value, {}), {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema})


@pytest.mark.parametrize("pattern", ENDED)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data(), tail=st.sampled_from(["\n", "\r\n", "\n\n"]))
def test_no_anchored_schema_string_may_end_in_a_newline(pattern: str, data: st.DataObject, tail: str) -> None:
    """``$`` in a schema means the end of the string (ECMA-262), not "before a final newline" (Python)."""
    value = data.draw(st.from_regex(re.compile(pattern.replace("$", r"\Z")), fullmatch=True))
    schema = {"type": "string", "pattern": pattern}
    assert _problems(schema, value) == []
    assert _problems(schema, value + tail), f"{value + tail!r} passed {pattern!r}"


def test_every_id_name_and_hash_of_the_schemas_is_anchored() -> None:
    """An id, name or hash pattern that is not anchored at both ends would let anything around it through."""
    for name in ("registry", "targets"):
        defs = load_schema(name)["$defs"]
        for key in ("id", "sha256", "file_name", "name"):
            if key in defs:
                assert defs[key]["pattern"].startswith("^") and defs[key]["pattern"].endswith("$"), (name, key)


@pytest.mark.parametrize("tail", ["\n", "\r", "\x1b[2J", "\x85", "\x07"])
def test_a_card_name_label_or_board_with_a_control_character_is_a_problem(tail, tmp_path) -> None:
    """Seeded over the card's one-line fields (title, labels, boards, names, tags): each is a schema problem."""
    rng = random.Random(hash(tail) % 1000)
    data = yaml.safe_load(DEMO_CARD.read_text())
    fields = [("title",), ("variants", 0, "label"), ("datasets", 0, "name")]
    for parts in rng.sample(fields, len(fields)):
        bad = yaml.safe_load(DEMO_CARD.read_text())
        node = bad
        for key in parts[:-1]:
            node = node[key]
        node[parts[-1]] = str(node[parts[-1]]) + tail
        problems = read_card(tmp_path / "card.yaml", text=json.dumps(bad)).problems  # JSON is YAML, escapes kept
        assert any("/".join(map(str, parts)) in p for p in problems), (parts, problems)


def _registry_with(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(REGISTRY.read_text())
    edit(data)
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _artifact(data: dict) -> dict:
    return data["models"]["osnet_demo"]["artifacts"][0]


@pytest.mark.parametrize("tail", ["\n", "\r", "\x1b[31m", "\t", "\x85"])
@pytest.mark.parametrize("field", ["sha256", "file", "model id", "family", "task", "title", "license", "source",
                                   "registry name"])
def test_a_registry_id_name_or_hash_with_a_control_character_is_refused(field, tail, tmp_path) -> None:
    def edit(data: dict) -> None:
        if field == "model id":
            data["models"]["osnet_demo" + tail] = data["models"].pop("osnet_demo")
        elif field == "registry name":
            data["name"] += tail
        elif field == "source":
            _artifact(data)["sources"][0] += tail
        elif field in ("family", "task", "title", "license"):
            data["models"]["osnet_demo"][field] = data["models"]["osnet_demo"].get(field, "MIT") + tail
        else:
            _artifact(data)[field] += tail

    with pytest.raises(InvalidDataError) as refused:
        load_registry(_registry_with(tmp_path, edit))
    assert all("\n" not in line for line in refused.value.lines())


@pytest.mark.parametrize("value", [377504.0, 1e5, float("inf"), float("nan"), True, "377504"])
def test_a_registry_size_must_be_a_whole_number(value, tmp_path) -> None:
    """``size: 377504.0`` passed the schema (jsonschema counts 377504.0 as an integer) and broke pull."""
    path = _registry_with(tmp_path, lambda data: _artifact(data).update(size=value))
    with pytest.raises(InvalidDataError) as refused:
        load_registry(path)
    assert "/size" in refused.value.lines()[0]


def _number_paths(node: object, here: tuple = ()) -> list[tuple]:
    if isinstance(node, bool):
        return []
    if isinstance(node, (int, float)):
        return [here]
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    return [p for key, value in items for p in _number_paths(value, here + (key,))]


def _set(node: object, path: tuple, value: object) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@pytest.mark.parametrize("source", ["card", "targets", "registry"])
def test_no_figure_anywhere_may_be_nan_or_infinite(source, tmp_path) -> None:
    """Seeded: every number the shipped card, targets and registry hold, set to .nan, .inf or -.inf, is refused
    by the schema check each is loaded through (verify once compared a time with "nan ms")."""
    original = {"card": DEMO_CARD, "targets": TARGETS, "registry": REGISTRY}[source]
    data = yaml.safe_load(original.read_text())
    paths = _number_paths(data)
    assert len(paths) >= 3
    rng = random.Random(23)
    for path in rng.sample(paths, min(12, len(paths))):
        bad = yaml.safe_load(original.read_text())
        _set(bad, path, rng.choice([float("nan"), float("inf"), float("-inf")]))
        target = tmp_path / original.name
        target.write_text(yaml.safe_dump(bad, sort_keys=False))
        with pytest.raises(InvalidDataError) as refused:
            {"card": read_card, "targets": load_targets, "registry": load_registry}[source](target)
        assert "not a finite number" in refused.value.lines()[0], path





def _one_error_line(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("zoo: error:")]
    assert len(lines) == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "\x1b" not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.parametrize("command", [("footprint",), ("verify",), ("inspect",), ("validate",), ("render-card",),
                                     ("bench",), ("evaluate", "--dataset", "."), ("pull",)])
@pytest.mark.parametrize("shape", ["long name", "long segment", "long path"])
def test_a_path_the_os_refuses_is_one_line_not_a_traceback(command, shape, tmp_path) -> None:
    arg = {"long name": "x" * 300 + ".tflite", "long segment": f"a/{'y' * 256}/card.yaml",
           "long path": "/".join(["z" * 200] * 30) + "/m.tflite"}[shape]
    result = zoo(*command[:1], arg, *command[1:], cwd=tmp_path)
    assert result.returncode in (1, 2), result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


FORGED = ["a\nzoo: error: forged\x1b[31m.tflite", "b\rzoo: ok\x1b]0;title\x07.tflite", "c\u202eelifl\u202c.tflite",
          "d\x9b31m\u2028zoo: error: x.tflite"]


@pytest.mark.parametrize("name", FORGED)
def test_an_untrusted_file_name_is_printed_on_one_line_with_its_controls_escaped(name, tmp_path) -> None:
    (tmp_path / name).write_bytes(b"not a model")
    for command in ("inspect", "footprint", "bench"):
        line = _one_error_line(zoo(command, name, cwd=tmp_path))
        assert printable(name) in line
    for args in (("verify", name), ("verify", name, "--junit", "v.xml")):  # verify reports it as a failed check
        result = zoo(*args, cwd=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        out = result.stdout + result.stderr
        assert not set("\x1b\r\x9b\u2028\u202e") & set(out) and printable(name) in out
        assert not any(line.startswith("zoo: error: x") or line.startswith("zoo: ok") for line in out.splitlines())
    import xml.etree.ElementTree as ET

    assert ET.parse(tmp_path / "v.xml").getroot().tag == "testsuites"  # still XML: no control characters


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_printable_is_one_line_without_any_control_and_keeps_everything_else(text: str) -> None:
    shown = printable(text)
    assert not any(ch in shown for ch in "\n\r\x1b\x9b\u2028\u2029\u202e")
    assert all(ord(ch) >= 0x20 and not 0x7f <= ord(ch) <= 0x9f for ch in shown)
    plain = "".join(ch for ch in text if ch.isprintable() and ch != "\\")
    assert all(ch in shown for ch in plain)
    assert printable_lines(text).count("\n") == text.count("\n") - text.count("\r\n") + text.count("\r\n")


def test_a_custom_op_name_with_escape_sequences_is_escaped_in_footprint_notes(tmp_path) -> None:
    import tflite_builder as tb

    demo = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"
    path = tb.write(tb.with_custom_op(tb.read(demo), "Evil\x1b[2J\nzoo: error: forged"), tmp_path / "custom.tflite")
    result = zoo("footprint", str(path), cwd=tmp_path)
    assert "\x1b" not in result.stdout + result.stderr and "zoo: error: forged" not in result.stdout.splitlines()
    assert "Evil\\x1b[2J\\nzoo: error: forged" in result.stdout + result.stderr


def test_a_planted_verdict_for_a_registry_that_breaks_the_schema_is_not_trusted(tmp_path) -> None:
    """A shared cache is writable by others: a stamp there must not let a broken registry through."""
    broken = _registry_with(tmp_path, lambda data: data["models"]["osnet_demo"].pop("artifacts"))
    cache = tmp_path / "cache"
    env = {"ZOO_CACHE_DIR": str(cache), "ZOO_REGISTRY": str(broken)}
    first = zoo("list", cwd=tmp_path, **env)
    assert first.returncode == 2 and "artifacts" in first.stderr
    from zoo.core.documents import schema_stamp
    from zoo.core.resources import load_schema

    stamp = schema_stamp(cache / "verdicts", "registry", broken.read_text(), load_schema("registry"))
    stamp.parent.mkdir(parents=True, exist_ok=True)
    for mode in (0o644, 0o666):  # a stamp of this user's, and one anybody could have written
        stamp.touch()
        stamp.chmod(mode)
        for command in (("list",), ("pull", "osnet_demo")):
            line = _one_error_line(zoo(*command, cwd=tmp_path, **env))
            assert "artifacts" in line


def test_a_verdict_is_remembered_and_used_when_it_is_this_users_own(tmp_path) -> None:
    cache = tmp_path / "verdicts"
    load_registry(REGISTRY, verdicts=cache)
    (stamp,) = cache.glob("registry-*.ok")
    assert stamp.stat().st_uid == os.geteuid() and not stamp.stat().st_mode & 0o022
    assert load_registry(REGISTRY, verdicts=cache).models["osnet_demo"].artifacts[0].size > 0


def test_a_card_that_passed_is_not_checked_again_and_a_planted_stamp_is_not_trusted(tmp_path, monkeypatch) -> None:
    """Cards get the registry's schema verdicts: `zoo evaluate` then never imports jsonschema for an unchanged
    card; a stamp others could have written (or one for other text) only costs the check."""
    from zoo.cards import card as cards
    from zoo.core.documents import schema_stamp
    from zoo.core.resources import data_dir, load_schema

    verdicts = tmp_path / "verdicts"
    good = data_dir("model_cards") / "osnet_demo" / "card.yaml"
    assert cards.read_card(good, verdicts=verdicts).problems == ()
    (stamp,) = verdicts.glob("card-*.ok")
    monkeypatch.setattr(cards, "schema_problems", lambda *a: pytest.fail("checked again"))
    assert cards.read_card(good, verdicts=verdicts).problems == ()
    monkeypatch.undo()
    broken = tmp_path / "card.yaml"
    broken.write_text(good.read_text(encoding="utf-8") + "\nunknown_key: 1\n", encoding="utf-8")
    planted = schema_stamp(verdicts, "card", broken.read_text(encoding="utf-8"), load_schema("card"))
    planted.touch()
    planted.chmod(0o666)  # anybody could have written it
    assert any("unknown_key" in p for p in cards.read_card(broken, verdicts=verdicts).problems)
