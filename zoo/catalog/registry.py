"""The catalog: which models exist, which artifacts belong to them, and where those bytes live.

A registry is one YAML file validated by ``schemas/registry.schema.json``. The shipped one describes the
STM32 model zoo re-ID family; ``--registry`` / ``ZOO_REGISTRY`` selects a release team's own.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from zoo.core.documents import load_yaml, read_yaml_text, schema_problems
from zoo.core.errors import InvalidDataError, UsageError
from zoo.core.resources import data_dir, load_schema

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


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


@dataclass(frozen=True)
class Model:
    id: str
    family: str
    title: str
    task: str
    card: Path | None
    license: str | None
    artifacts: tuple[Artifact, ...]

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
    models: dict[str, Model]

    def get(self, model_id: str) -> Model:
        """The model ``model_id``; an unknown id is a usage error that suggests close matches."""
        try:
            return self.models[model_id]
        except KeyError:
            close = difflib.get_close_matches(model_id, self.models, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else f" (known: {', '.join(self.models)})"
            raise UsageError(f"unknown model id {model_id!r} in registry {self.path}{hint}") from None

    def by_sha256(self, sha256: str) -> Artifact | None:
        """The registry artifact whose bytes hash to ``sha256``, if any."""
        for model in self.models.values():
            for art in model.artifacts:
                if art.sha256 == sha256:
                    return art
        return None

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


def _verdict_stamp(verdicts: Path, text: str) -> Path:
    """A file whose existence says: this registry text passed this schema already. It names the text that
    was parsed, not the file read again later, so a file changed in between is never stamped unchecked."""
    digest = hashlib.sha256(text.encode("utf-8"))
    digest.update(json.dumps(load_schema("registry"), sort_keys=True).encode())
    return verdicts / f"registry-{digest.hexdigest()}.ok"


def load_registry(path: str | Path | None = None, *, verdicts: Path | None = None) -> Registry:
    """Load and validate a registry (a YAML file, or a folder holding ``registry.yaml``).

    Raises ``InvalidDataError`` listing every schema violation with its line and JSON pointer.
    ``verdicts`` is a folder that remembers registry bytes which already passed the schema: jsonschema
    costs about 0.1 s per run, most of a warm ``zoo pull``.
    """
    path = Path(path) if path is not None else default_registry_path()
    if path.is_dir():
        path = path / "registry.yaml"
    text = read_yaml_text(path)
    doc = load_yaml(path, text=text)
    stamp = _verdict_stamp(verdicts, text) if verdicts is not None else None
    problems = [] if stamp is not None and stamp.exists() else schema_problems(doc, load_schema("registry"))
    if not problems:
        for mid, entry in doc.data["models"].items():
            seen: set[str] = set()
            for i, art in enumerate(entry["artifacts"]):
                if art["file"] in seen:
                    problems.append(doc.problem(("models", mid, "artifacts", i, "file"), f"file {art['file']!r} listed twice"))
                seen.add(art["file"])
                problems += [doc.problem(("models", mid, "artifacts", i, "sources", j), f"unsafe source: {why}")
                             for j, source in enumerate(art["sources"]) if (why := unsafe_source(source))]
    if problems:
        raise InvalidDataError(problems, path=path)
    if stamp is not None:
        with contextlib.suppress(OSError):  # a read-only cache only costs speed
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
    base = path.resolve().parent
    models = {}
    for mid, entry in doc.data["models"].items():
        artifacts = tuple(
            Artifact(
                model_id=mid,
                file=a["file"],
                format=a["format"],
                precision=a["precision"],
                size=a["size"],
                sha256=a["sha256"],
                sources=tuple(_resolve_source(s, base) for s in a["sources"]),
                golden=(base / a["golden"]).resolve() if "golden" in a else None,
            )
            for a in entry["artifacts"]
        )
        models[mid] = Model(
            id=mid,
            family=entry["family"],
            title=entry["title"],
            task=entry["task"],
            card=(base / entry["card"]).resolve() if "card" in entry else None,
            license=entry.get("license"),
            artifacts=artifacts,
        )
    return Registry(path=path, name=doc.data["name"], description=doc.data.get("description", ""), models=models)
