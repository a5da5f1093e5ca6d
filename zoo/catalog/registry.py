"""The catalog: which models exist, which artifacts belong to them, and where those bytes live.

A registry is one YAML file validated by ``schemas/registry.schema.json``. The shipped one describes the
STM32 model zoo re-ID family; ``--registry`` / ``ZOO_REGISTRY`` selects a release team's own.

A model holds one version (``artifacts:``, named by ``version:``, default ``"1"``) or several (``versions:``,
oldest first, each with its own artifacts and sources), so a retrained model is released next to the bytes
pipelines pinned instead of over them. ``ID@V`` names a version or an alias (``aliases: {stable: "1"}``);
plain ``ID`` names ``default:`` when given, else the last version listed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from zoo.core.documents import Document, load_yaml, own_stamp, read_yaml_text, schema_problems, schema_stamp, write_stamp
from zoo.core.errors import InvalidDataError, UsageError
from zoo.core.resources import data_dir, load_schema

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True)
class Trust:
    """Whose signatures a model's files must carry: an EC public key (PEM file), or a Sigstore identity."""

    key: Path | None = None
    identity: str | None = None
    issuer: str | None = None


@dataclass(frozen=True)
class Artifact:
    """One released file: what it is, what its bytes must hash to, and where to get them (in order)."""

    model_id: str
    file: str
    format: str
    precision: str
    size: int
    sha256: str
    sources: tuple[str, ...]
    golden: Path | None = None
    version: str = "1"
    versioned: bool = False  # listed under ``versions:``; files then live under ``<id>/<version>/``
    trust: Trust | None = None  # whose signature the file must carry (the model's ``signature:``)

    @property
    def folder(self) -> str:
        """Where a mirror and the cache's view keep this file: ``<id>``, or ``<id>/<version>`` for a model
        with ``versions:`` (two versions may ship a file of the same name).

        >>> Artifact("m", "m.tflite", "tflite", "int8", 1, "0" * 64, (), version="2", versioned=True).folder
        'm/2'
        """
        return f"{self.model_id}/{self.version}" if self.versioned else self.model_id

    @property
    def ref(self) -> str:
        """``ID@VERSION``: what ``zoo pull`` and friends accept to get exactly this artifact's version."""
        return f"{self.model_id}@{self.version}"


RUNNABLE = ("tflite", "onnx")  # the formats zoo reads and runs (zoo.model.formats)


@dataclass(frozen=True)
class Model:
    id: str
    family: str
    title: str
    task: str
    card: Path | None
    license: str | None
    artifacts: tuple[Artifact, ...]
    version: str = "1"
    versions: tuple[str, ...] = ("1",)  # every version of this model, oldest first
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> version
    released: str | None = None
    notes: str | None = None

    @property
    def ref(self) -> str:
        """``ID@VERSION`` of this version."""
        return f"{self.id}@{self.version}"

    def runnable(self) -> Artifact:
        """The artifact zoo reads and runs for this model: its first TFLite or ONNX file (``RUNNABLE``)."""
        for art in self.artifacts:
            if art.format in RUNNABLE:
                return art
        have = ", ".join(a.format for a in self.artifacts)
        raise UsageError(f"model {self.id!r} has no tflite or onnx artifact (it has: {have})")

    def artifact(self, fmt: str) -> Artifact:
        """The artifact of format ``fmt`` (``tflite``, ``keras``, ...)."""
        for art in self.artifacts:
            if art.format == fmt:
                return art
        have = ", ".join(a.format for a in self.artifacts)
        raise UsageError(f"model {self.id!r} has no {fmt} artifact (it has: {have})")


@dataclass(frozen=True)
class Registry:
    path: Path
    name: str
    description: str
    models: dict[str, Model]  # id -> the version a plain id selects
    versions: dict[str, dict[str, Model]] = field(default_factory=dict)  # id -> version -> model, oldest first

    def get(self, ref: str) -> Model:
        """The model ``ID`` or ``ID@VERSION`` (a version or an alias); an unknown one is a usage error that
        suggests close matches."""
        model_id, at, version = ref.partition("@")
        if model_id not in self.models:
            close = difflib.get_close_matches(model_id, self.models, n=3)
            hint = (f" (did you mean {', '.join(close)}?)" if close else
                    f" (known: {', '.join(self.models)})" if self.models else " (it has no models yet: see zoo add)")
            raise UsageError(f"unknown model id {model_id!r} in registry {self.path}{hint}")
        if not at:
            return self.models[model_id]
        model = self.models[model_id]
        found = self.versions.get(model_id, {}).get(model.aliases.get(version, version))
        if found is None:
            names = ", ".join([*model.versions, *model.aliases])
            raise UsageError(f"model {model_id!r} has no version {version!r} in registry {self.path} (it has: {names})")
        return found

    def find(self, ref: str) -> Model | None:
        """``get`` for a string that may not be a model reference at all (a file name, say)."""
        model_id, _, version = ref.partition("@")
        if model_id not in self.models:
            return None
        return self.get(ref) if not version or version in self.models[model_id].aliases or \
            version in self.versions.get(model_id, {}) else None

    def by_sha256(self, sha256: str) -> Artifact | None:
        """The registry artifact whose bytes hash to ``sha256``, if any (any version; the newest wins)."""
        for by_version in self.versions.values():
            for model in reversed(by_version.values()):
                for art in model.artifacts:
                    if art.sha256 == sha256:
                        return art
        return None

    def card_paths(self) -> list[Path]:
        """Every card of this zoo: the ones its models name (any version), then ``model_cards/*/card.yaml``
        beside the registry file (a card not linked yet). What ``validate`` and ``render-card`` act on
        without paths: the selected zoo's cards, never another zoo's."""
        named = [m.card for by_version in self.versions.values() for m in by_version.values() if m.card is not None]
        beside = sorted((self.path.resolve().parent / "model_cards").glob("*/card.yaml"))
        return list(dict.fromkeys([*named, *(p.resolve() for p in beside)]))

    def by_task(self, task: str | None) -> list[Model]:
        return [m for m in self.models.values() if task is None or m.task == task]


def default_registry_path() -> Path:
    """The registry shipped with zoo."""
    return data_dir("registry") / "registry.yaml"


def unsafe_source(location: str) -> str | None:
    """Why a source must not be used, or None: a NUL byte, or a ``..`` segment that climbs out of the
    registry's folder or a server's tree (registries arrive in untrusted pull requests).

    >>> unsafe_source("../../etc/passwd")
    "a '..' path segment"
    """
    if "\0" in location:
        return "a NUL byte"
    path = urlsplit(location).path if "://" in location else location
    if ".." in unquote(path).replace("\\", "/").split("/"):
        return "a '..' path segment"
    return None


def _resolve_source(source: str, base: Path) -> str:
    """Relative local paths are relative to the registry file, so a registry can ship its own mirror."""
    if _SCHEME.match(source):
        return source
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def load_registry(path: str | Path | None = None, *, verdicts: Path | None = None, text: str | None = None) -> Registry:
    """Load and validate a registry (a YAML file, or a folder holding ``registry.yaml``).

    Raises ``InvalidDataError`` listing every schema violation with its line and JSON pointer.
    ``verdicts`` is a folder that remembers registry bytes which already passed the schema: jsonschema
    costs about 0.1 s per run, most of a warm ``zoo pull``. A remembered verdict is checked, not trusted
    (``zoo.core.documents.own_stamp``), and a registry that does not build as one that passed would is checked after all.
    ``text`` checks what is about to be written to ``path`` (``zoo.catalog.editing``) instead of reading it.
    """
    path = Path(path) if path is not None else default_registry_path()
    if path.is_dir():
        path = path / "registry.yaml"
    text = read_yaml_text(path) if text is None else text
    doc = load_yaml(path, text=text)
    stamp = schema_stamp(verdicts, "registry", text, load_schema("registry")) if verdicts is not None else None
    if stamp is not None and own_stamp(stamp):
        try:
            if not _entry_problems(doc):
                return _build(path, doc)
        except (KeyError, TypeError, AttributeError, ValueError):
            pass  # a stamp that lies: the schema says what is wrong below
    problems = _unquoted_versions(doc) or schema_problems(doc, load_schema("registry"))
    problems += [] if problems else _entry_problems(doc)
    if problems:
        raise InvalidDataError(problems, path=path)
    if stamp is not None:
        write_stamp(stamp)
    return _build(path, doc)


def _build(path: Path, doc: Document) -> Registry:
    """The registry a document that passed its checks describes."""
    base = path.resolve().parent
    models: dict[str, Model] = {}
    versions: dict[str, dict[str, Model]] = {}
    for mid, entry in doc.data["models"].items():
        versions[mid] = _versions(mid, entry, base)
        models[mid] = versions[mid][_default_version(entry)]
    return Registry(path=path, name=doc.data["name"], description=doc.data.get("description", ""), models=models,
                    versions=versions)


def _version_entries(entry: dict) -> dict[str, dict]:
    """``version name -> {artifacts, ...}`` of one model entry, whichever of the two forms it uses."""
    if "versions" in entry:
        return entry["versions"]
    return {entry.get("version", "1"): {"artifacts": entry["artifacts"]}}


def _default_version(entry: dict) -> str:
    """The version a plain id selects: ``default`` (a version or an alias), else the last one listed."""
    names = list(_version_entries(entry))
    chosen = entry.get("default", names[-1])
    return entry.get("aliases", {}).get(chosen, chosen)


def _entry_problems(doc: Document) -> list[str]:
    """What the schema cannot say: one form of versions per model, aliases and default that name a version,
    no file twice in a version, no source that climbs out of its tree."""
    problems = []
    for mid, entry in doc.data["models"].items():
        where = ("models", mid)
        if ("artifacts" in entry) == ("versions" in entry):
            problems.append(doc.problem(where, "give either 'artifacts' (one version) or 'versions' (several), "
                                               "not both nor neither"))
            continue
        if "artifacts" in entry and ({"aliases", "default"} & entry.keys()):
            problems.append(doc.problem(where, "'aliases' and 'default' need 'versions'"))
            continue
        named = _version_entries(entry)
        for alias, target in entry.get("aliases", {}).items():
            if alias in named:
                problems.append(doc.problem((*where, "aliases", alias), f"alias {alias!r} is also a version name"))
            elif target not in named:
                problems.append(doc.problem((*where, "aliases", alias), f"alias {alias!r} names no version "
                                                                         f"(versions: {', '.join(named)})"))
        if "default" in entry and entry["default"] not in named and entry["default"] not in entry.get("aliases", {}):
            problems.append(doc.problem((*where, "default"), f"{entry['default']!r} is neither a version nor an alias"))
        for version, body in named.items():
            at = (*where, "versions", version, "artifacts") if "versions" in entry else (*where, "artifacts")
            seen: set[str] = set()
            for i, art in enumerate(body["artifacts"]):
                if art["file"] in seen:
                    problems.append(doc.problem((*at, i, "file"), f"file {art['file']!r} listed twice"))
                seen.add(art["file"])
                problems += [doc.problem((*at, i, "sources", j), f"unsafe source: {why}")
                             for j, source in enumerate(art["sources"]) if (why := unsafe_source(source))]
        key = entry.get("signature", {}).get("key")
        if key is not None and (why := unsafe_source(key)):
            problems.append(doc.problem((*where, "signature", "key"), f"unsafe key path: {why}"))
    return problems


def _unquoted_versions(doc: Document) -> list[str]:
    """Version names YAML read as numbers (``1.10`` is the float 1.1), said plainly before the schema's
    "is not of type 'string'"."""
    models = doc.data.get("models") if isinstance(doc.data, dict) else None
    found = []
    for mid, entry in (models.items() if isinstance(models, dict) else ()):
        entry = entry if isinstance(entry, dict) else {}
        names = [(("version",), entry.get("version")), (("default",), entry.get("default"))]
        for key in ("versions", "aliases"):
            named = entry.get(key) if isinstance(entry.get(key), dict) else {}
            names += [((key, name), name) for name in named]
            names += [((key, name), value) for name, value in named.items() if key == "aliases"]
        found += [(("models", mid, *parts), value) for parts, value in names]
    return [doc.problem(parts, f"version {value!r} must be quoted (\"{value}\"): YAML reads an unquoted version as "
                               "a number (1.10 becomes 1.1)")
            for parts, value in found if isinstance(value, (int, float)) and not isinstance(value, bool)]


def _versions(mid: str, entry: dict, base: Path) -> dict[str, Model]:
    """Every version of one model entry as a ``Model``, oldest first."""
    versioned = "versions" in entry
    named = _version_entries(entry)
    signature = entry.get("signature")
    trust = None if signature is None else Trust(
        key=(base / signature["key"]).resolve() if "key" in signature else None,
        identity=signature.get("identity"), issuer=signature.get("issuer"))
    out = {}
    for version, body in named.items():
        card = body.get("card", entry.get("card"))
        out[version] = Model(
            id=mid,
            family=entry["family"],
            title=entry["title"],
            task=entry["task"],
            card=(base / card).resolve() if card is not None else None,
            license=entry.get("license"),
            artifacts=tuple(
                Artifact(
                    model_id=mid,
                    file=a["file"],
                    format=a["format"],
                    precision=a["precision"],
                    size=a["size"],
                    sha256=a["sha256"],
                    sources=tuple(_resolve_source(s, base) for s in a["sources"]),
                    golden=(base / a["golden"]).resolve() if "golden" in a else None,
                    version=version,
                    versioned=versioned,
                    trust=trust,
                )
                for a in body["artifacts"]
            ),
            version=version,
            versions=tuple(named),
            aliases=dict(entry.get("aliases", {})),
            released=body.get("released"),
            notes=body.get("notes"),
        )
    return out
