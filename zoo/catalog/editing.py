"""Edit a registry a person wrote, keeping their comments, key order, quoting and indentation.

``zoo add``, ``zoo golden`` and ``zoo publish`` record what they learned (hashes, versions, sources, goldens,
the key a release is signed with)
here. Every edit is a round trip through ruamel.yaml: the file is read, changed in memory, checked as a
whole (schema and registry rules, as ``load_registry`` checks it) and only then replaced in one step by the
file layer's atomic write (``zoo.core.roundtrip``). An edit that would make the registry invalid raises and
leaves the file as it was.

    from zoo.catalog.editing import add_model, add_version, add_source

    add_model("zoo/registry.yaml", "my_net", family="my_net", title="My net", task="image_classification",
              artifacts=[{"file": "my_net_int8.tflite", "format": "tflite", "precision": "int8",
                          "size": 1234, "sha256": "...", "sources": ["https://host/zoo/my_net/my_net_int8.tflite"]}])
    add_version("zoo/registry.yaml", "my_net", "2", artifacts=[...])          # the first becomes version "1"
    add_source("zoo/registry.yaml", "my_net", "hf://org/repo/{file}@abc123", version="2")
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zoo.core.errors import UsageError
from zoo.core.roundtrip import Edited, edit_yaml, mapping

#: Keys of an artifact in the order zoo writes them (a person's own order is kept for existing entries).
ARTIFACT_KEYS = ("file", "format", "precision", "size", "sha256", "golden", "sources")


def registry_file(path: str | Path) -> Path:
    """A registry named by its file or its folder (``<folder>/registry.yaml``)."""
    path = Path(path)
    return path / "registry.yaml" if path.is_dir() else path


def expand(template: str, *, model_id: str, file: str, version: str) -> str:
    """A source template with ``{id}``, ``{file}`` and ``{version}`` filled in; any other ``{name}`` is a
    usage error (a source nobody can fetch must not reach the registry).

    >>> expand("https://host/zoo/{id}/{version}/{file}", model_id="net", file="net.tflite", version="2")
    'https://host/zoo/net/2/net.tflite'
    >>> expand("hf://org/repo/{file}@{revision}", model_id="net", file="net.tflite", version="1")
    Traceback (most recent call last):
    zoo.core.errors.UsageError: source 'hf://org/repo/{file}@{revision}': unknown placeholder {revision} (use {id}, {file}, {version}; write the revision itself, e.g. @main or a commit)
    """
    values = {"id": model_id, "file": file, "version": version}
    if unknown := re.search(r"\{(?!(?:id|file|version)\})[^{}]*\}", template):
        raise UsageError(f"source {template!r}: unknown placeholder {unknown.group(0)} (use {{id}}, {{file}}, "
                         "{version}; write the revision itself, e.g. @main or a commit)")
    return re.sub(r"\{(id|file|version)\}", lambda m: values[m.group(1)], template)


def add_model(registry_path: str | Path, model_id: str, *, family: str, title: str, task: str,
              artifacts: Sequence[Mapping[str, Any]], card: str | None = None, license: str | None = None,
              version: str | None = None) -> None:
    """Append a new model with one version (``artifacts:``; ``version:`` only when not ``"1"``).

    Each artifact is a mapping of ``ARTIFACT_KEYS``; its ``sources`` may be templates (``expand``). ``card`` is a path relative to the registry file. Raises ``UsageError`` when the id is taken and
    ``InvalidDataError`` when the result would not be a valid registry.
    """
    with _editing(registry_path) as doc:
        models = _models(doc)
        if model_id in models:
            raise UsageError(f"model {model_id!r} is already in {doc.path}: add a version with --version, "
                             "or choose another --id")
        entry = mapping(family=family, title=title, task=task, card=card, license=license)
        if version is not None and version != "1":
            entry["version"] = version
        entry["artifacts"] = _artifacts(artifacts, model_id, version or "1")
        models[model_id] = entry


def add_version(registry_path: str | Path, model_id: str, version: str, artifacts: Sequence[Mapping[str, Any]], *,
                card: str | None = None, released: str | None = None, notes: str | None = None) -> None:
    """Add ``version`` to an existing model, after its others (so a plain id now selects it, unless the
    entry names a ``default``). A single-version entry is first turned into ``versions:`` with its
    artifacts, comments included, under its own version name (``version:``, default ``"1"``)."""
    with _editing(registry_path) as doc:
        entry = _entry(doc, model_id)
        versions = _versions(entry)
        if version in versions or version in (entry.get("aliases") or {}):
            raise UsageError(f"model {model_id!r} already has a version {version!r} in {doc.path}: "
                             "released bytes are never replaced; choose a new --version")
        versions[version] = mapping(artifacts=_artifacts(artifacts, model_id, version), card=card, released=released, notes=notes)


def add_source(registry_path: str | Path, model_id: str, source: str, version: str | None = None, *,
               file: str | None = None, first: bool = False) -> list[str]:
    """Record one more place the bytes of a version live (default: the version a plain id selects).

    ``source`` may be a template (``{id}``, ``{file}``, ``{version}``), expanded for each artifact; with
    ``file`` only that artifact gets it. It goes after the existing sources (``first=True``: before them).
    A source already listed is not added twice. Returns the sources added.
    """
    added: list[str] = []
    with _editing(registry_path) as doc:
        entry = _entry(doc, model_id)
        name, body = _version(entry, model_id, version, doc.path)
        arts = [a for a in body["artifacts"] if file is None or a["file"] == file]
        if not arts:
            raise UsageError(f"{model_id}@{name} has no file {file!r} in {doc.path}")
        for art in arts:
            location = expand(source, model_id=model_id, file=art["file"], version=name)
            if location not in art["sources"]:
                art["sources"].insert(0, location) if first else art["sources"].append(location)
                added.append(location)
    return added


def set_golden(registry_path: str | Path, model_id: str, file: str, golden: str, version: str | None = None) -> None:
    """Point an artifact's ``golden:`` at a reference-outputs file (a path relative to the registry)."""
    with _editing(registry_path) as doc:
        entry = _entry(doc, model_id)
        name, body = _version(entry, model_id, version, doc.path)
        art = next((a for a in body["artifacts"] if a["file"] == file), None)
        if art is None:
            raise UsageError(f"{model_id}@{name} has no file {file!r} in {doc.path}")
        if art.get("golden") != golden:
            if "golden" in art:
                art["golden"] = golden
            else:
                art.insert(list(art).index("sources") if "sources" in art else len(art), "golden", golden)


def set_signature(registry_path: str | Path, model_id: str, *, key: str | None = None, identity: str | None = None,
                  issuer: str | None = None) -> None:
    """Name whose signatures every file of the model must carry: a public key file (relative to the registry)
    or a Sigstore identity and its OIDC issuer. ``signature:`` goes before the entry's artifacts."""
    with _editing(registry_path) as doc:
        entry = _entry(doc, model_id)
        value = mapping(key=key) if key is not None else mapping(identity=identity, issuer=issuer)
        if "signature" in entry:
            entry["signature"] = value
        else:
            keys = list(entry)
            at = min((keys.index(k) for k in ("version", "artifacts", "versions") if k in entry), default=len(keys))
            entry.insert(at, "signature", value)


def set_alias(registry_path: str | Path, model_id: str, alias: str, version: str) -> None:
    """Name a version (``stable`` -> ``"1"``); the model must have ``versions:``."""
    with _editing(registry_path) as doc:
        entry = _entry(doc, model_id)
        if "versions" not in entry:
            raise UsageError(f"model {model_id!r} has a single version in {doc.path}; add one before naming them")
        aliases = entry.setdefault("aliases", mapping())
        aliases[alias] = version


@contextmanager
def _editing(path: str | Path) -> Iterator[Edited]:
    """A round-trip edit of a registry; the result must load as a registry (schema and rules) to be written."""
    from zoo.catalog.registry import load_registry

    path = registry_file(path)
    with edit_yaml(path, lambda text: load_registry(path, text=text)) as doc:
        yield doc


def _artifacts(artifacts: Sequence[Mapping[str, Any]], model_id: str, version: str) -> Any:
    """Artifacts in zoo's key order, their source templates expanded."""
    from ruamel.yaml.comments import CommentedSeq

    out = CommentedSeq()
    for art in artifacts:
        keys = [k for k in ARTIFACT_KEYS if k in art] + [k for k in art if k not in ARTIFACT_KEYS]
        item = mapping(**{k: art[k] for k in keys})
        item["sources"] = CommentedSeq(dict.fromkeys(expand(s, model_id=model_id, file=art["file"], version=version)
                                                     for s in art.get("sources", ())))
        out.append(item)
    return out


def _models(doc: Edited) -> Any:
    if not isinstance(doc.data, dict) or "models" not in doc.data:
        raise UsageError(f"{doc.path} is not a zoo registry (no 'models:'); make one with zoo init")
    if doc.data["models"] is None:
        doc.data["models"] = mapping()
    doc.data["models"].fa.set_block_style()  # `models: {}` of a new zoo grows into a block
    return doc.data["models"]


def _entry(doc: Edited, model_id: str) -> Any:
    models = _models(doc)
    if model_id not in models:
        raise UsageError(f"unknown model id {model_id!r} in {doc.path}; add it first with zoo add")
    return models[model_id]


def _versions(entry: Any) -> Any:
    """The entry's ``versions:`` mapping, converting a single-version entry in place (comments kept)."""
    if "versions" not in entry:
        position = list(entry).index("artifacts")
        name = str(entry.get("version", "1"))
        body = mapping(artifacts=entry["artifacts"])
        del entry["artifacts"]
        if "version" in entry:
            del entry["version"]
            position -= 1
        entry.insert(position, "versions", mapping(**{name: body}))
    return entry["versions"]


def _version(entry: Any, model_id: str, version: str | None, path: Path) -> tuple[str, Any]:
    """(name, body) of ``version`` (a version or an alias; None: the one a plain id selects)."""
    if "versions" not in entry:
        name = str(entry.get("version", "1"))
        if version not in (None, name):
            raise UsageError(f"model {model_id!r} has no version {version!r} in {path} (it has: {name})")
        return name, entry
    aliases = entry.get("aliases") or {}
    wanted = version if version is not None else entry.get("default", list(entry["versions"])[-1])
    name = aliases.get(wanted, wanted)
    if name not in entry["versions"]:
        raise UsageError(f"model {model_id!r} has no version {version!r} in {path} "
                         f"(it has: {', '.join(map(str, entry['versions']))})")
    return name, entry["versions"][name]
