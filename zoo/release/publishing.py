"""``publish``: one model version to an OCI registry, a Hugging Face repo or a mirror folder, optionally
signed, and the place it went recorded back into the registry as a pinned source.

    from zoo.catalog.registry import load_registry
    from zoo.release.publishing import publish

    result = publish(load_registry("zoo/registry.yaml"), "my_net@2", "oci://registry.example/zoo/my_net",
                     sign_key=Path("release.key"))
    result.sources   # ['oci://registry.example/zoo/my_net@sha256:...'] now in zoo/registry.yaml, one per file

Recorded sources are pinned: an OCI manifest digest, a Hugging Face commit, a folder. With ``sign_key``,
a registry entry that names no trusted key gets the signing key's public half (``keys/<id>.pub`` beside
the registry), so every later ``pull`` and ``verify`` checks the signatures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from zoo.catalog.registry import Registry
from zoo.core.errors import UsageError
from zoo.core.files import safe_name, write_atomic
from zoo.core.settings import Settings
from zoo.artifacts.partial import Progress
from zoo.release.gathering import gather


@dataclass
class Published:
    """What a publish did: where, which sources it recorded, which blobs it uploaded or found already there."""

    model_id: str
    version: str
    destination: str
    sources: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    trusted_key: str | None = None

    def to_json(self) -> dict:
        return {"model": self.model_id, "version": self.version, "destination": self.destination,
                "sources": self.sources, "uploaded": self.uploaded, "present": self.present,
                "signatures": self.signatures, "trusted_key": self.trusted_key}


def publish(registry: Registry, target: str, destination: str, *, sign_key: Path | None = None,
            settings: Settings, record: bool = True, progress: Progress | None = None) -> Published:
    """Publish ``target`` (``ID`` or ``ID@VERSION``) to ``destination`` and record where it went."""
    release = gather(registry, target, settings=settings, sign_key=sign_key, progress=progress)
    done = Published(release.model.id, release.version, destination)
    if destination.startswith("oci://"):
        from zoo.artifacts.oci import OciReference
        from zoo.release import oci

        pushed = oci.push(release, OciReference.parse(destination), settings)
        done.sources, done.uploaded, done.present = [str(pushed.reference)], pushed.uploaded, pushed.present
        done.signatures = [f"{pushed.reference.host}/{pushed.reference.repository}:{pushed.signatures}"] \
            if pushed.signatures else []
    elif destination.startswith("hf://"):
        from zoo.release import hub

        committed = hub.commit(release, destination, settings)
        done.sources = [committed.source]
        done.uploaded, done.present = committed.uploaded, []
        done.signatures = [name for name in committed.files if name.endswith(".sig")]
    elif "://" in destination and not destination.startswith("file://"):
        raise UsageError(f"cannot publish to {destination!r}: use oci://HOST/REPO[:TAG], hf://ORG/REPO[@BRANCH], "
                         "or a folder / file:// path")
    else:
        from zoo.release import mirror

        folder = Path(unquote(urlsplit(destination).path)) if destination.startswith("file://") else Path(destination)
        written, present = mirror.write(release, folder.expanduser())
        done.uploaded, done.present = [str(p) for p in written], [str(p) for p in present]
        done.signatures = [str(p) for p in [*written, *present] if p.name.endswith(".sig")]
        base = destination.rstrip("/") if destination.startswith("file://") else str(folder.expanduser().resolve())
        done.sources = [f"{base}/{release.artifacts[0].folder}/{{file}}"]
    from zoo.catalog.editing import expand

    templates = done.sources  # one per destination; ``{file}`` stands for each artifact's name
    done.sources = list(dict.fromkeys(expand(t, model_id=done.model_id, file=a.file, version=done.version)
                                      for t in templates for a in release.artifacts))
    if record:
        _record(registry, done, templates, release.public_key(), release.model.artifacts[0].trust is None)
    return done


def _record(registry: Registry, done: Published, templates: list[str], public_key: bytes | None,
            untrusted: bool) -> None:
    """Write the pinned sources (and, for a first signed release, the trusted key) into the registry file."""
    from zoo.catalog.editing import add_source, set_signature

    model_id = done.model_id
    for template in templates:
        add_source(registry.path, model_id, template, done.version)
    if public_key is not None and untrusted:
        relative = f"keys/{safe_name(model_id, 'model id')}.pub"
        write_atomic(registry.path.parent / relative, public_key)
        set_signature(registry.path, model_id, key=relative)
        done.trusted_key = relative
