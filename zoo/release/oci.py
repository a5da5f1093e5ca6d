"""Push a release to an OCI registry as a CNCF ModelPack artifact, with ``oras`` (an extra: ``zoo[publish]``).

The manifest's ``artifactType`` is ``application/vnd.cncf.model.manifest.v1+json``; its config
(``application/vnd.cncf.model.config.v1+json``) names the model, version, format and precision; each
artifact is one raw weight layer annotated with its file name, and the card and README are doc layers.
Blobs are content-addressed, and oras asks the registry for each one before uploading it, so pushing the
same version again uploads nothing new. Everything pushed is deterministic (no timestamps), so the same
release has the same manifest digest. Signatures go under the tag ``sha256-<manifest hex>.sig`` (cosign's
convention; Distribution 2.8 has no referrers API); signatures already there that verify with the signing
key are kept, so a second signed publish uploads no blob either.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.core.errors import ConfigError, SourceError, SourceUnavailableError
from zoo.core.settings import Settings
from zoo.artifacts.oci import OciReference, OciSource, signature_tag
from zoo.release.gathering import SIGNATURE_MEDIA_TYPE, Release

ARTIFACT_TYPE = "application/vnd.cncf.model.manifest.v1+json"
CONFIG_TYPE = "application/vnd.cncf.model.config.v1+json"
WEIGHT_TYPE = "application/vnd.cncf.model.weight.v1.raw"
DOC_TYPE = "application/vnd.cncf.model.doc.v1.raw"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
TITLE = "org.opencontainers.image.title"
FILEPATH = "org.cncf.model.filepath"


@dataclass
class Pushed:
    """Where a release went: its pinned reference, and which blobs were uploaded or already there."""

    reference: OciReference
    tag: str
    uploaded: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    signatures: str | None = None


def model_config(release: Release) -> dict[str, Any]:
    """The ModelPack config: descriptor, format and precision of the weights, and the layers' diff ids."""
    model = release.model
    formats = sorted({a.format for a in release.artifacts})
    precisions = sorted({a.precision for a in release.artifacts})
    descriptor = {"name": model.id, "family": model.family, "title": model.title, "version": release.version}
    if model.license:
        descriptor["licenses"] = [model.license]
    return {
        "descriptor": descriptor,
        "config": {"format": ",".join(formats), "precision": ",".join(precisions)},
        "modelfs": {"type": "layers", "diffIds": [f"sha256:{a.sha256}" for a in release.artifacts]},
    }


class _Client:
    """oras's registry client with zoo's credentials, errors and accounting of what was uploaded."""

    def __init__(self, ref: OciReference, settings: Settings) -> None:
        try:
            import oras.oci
            import oras.provider
        except ImportError:
            raise ConfigError("publishing to an OCI registry needs oras: pip install 'zoo[publish]'") from None
        import functools
        from http.cookiejar import DefaultCookiePolicy

        import requests

        from zoo.artifacts.sources import http_session

        self.ref, self.oci = ref, oras.oci
        # zoo's one HTTP session (a company CA bundle, proxies: configure_http_session), with zoo's timeout on
        # every request oras makes (it sets none), and no cookies kept, as oras keeps none.
        session = http_session(settings)
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        session.request = functools.partial(session.request, timeout=(settings.http_timeout, settings.http_timeout))
        try:
            probe = session.get(f"{ref.base_url.rsplit('/v2/', 1)[0]}/v2/")
        except requests.RequestException as exc:
            raise SourceUnavailableError(f"{ref.host}: cannot reach the registry ({type(exc).__name__})") from None
        basic = probe.headers.get("WWW-Authenticate", "").lower().startswith("basic")
        self.client = oras.provider.Registry(hostname=ref.host, insecure=ref.plain_http,
                                             auth_backend="basic" if basic else "token")
        self.client.session = self.client.auth.session = session
        if settings.oci_username:
            self.client.auth.set_basic_auth(settings.oci_username, settings.oci_password or "")
        elif probe.status_code == 401:
            raise ConfigError(f"{ref.host} asks for credentials: set ZOO_OCI_USERNAME and ZOO_OCI_PASSWORD")
        self.container = self.client.get_container(f"{ref.host}/{ref.repository}")

    def blob(self, path: Path, media_type: str, title: str | None, pushed: Pushed) -> dict[str, Any]:
        """Upload ``path`` unless the registry has it; its layer descriptor."""
        layer = self.oci.NewLayer(str(path), media_type=media_type)
        if title:
            layer["annotations"] = {TITLE: title, FILEPATH: title}
        response = self._call(lambda: self.client.upload_blob(str(path), self.container, layer))
        (pushed.uploaded if response.status_code == 201 else pushed.present).append(layer["digest"])
        return layer

    def manifest(self, manifest: dict[str, Any], tag: str) -> tuple[str, int]:
        """Put ``manifest`` under ``tag``; its digest (the registry's word, checked against the bytes sent) and size."""
        import oras.container

        container = oras.container.Container(f"{self.ref.repository}:{tag}", registry=self.ref.host)
        response = self._call(lambda: self.client.upload_manifest(manifest, container))
        body = json.dumps(manifest).encode()  # what requests sent for json=manifest
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        said = response.headers.get("Docker-Content-Digest", digest)
        if said != digest:
            raise SourceError(f"{self.ref.host} stored the manifest as {said}, expected {digest}")
        return digest, len(body)

    def _call(self, call):  # -> requests.Response
        import requests

        try:
            response = call()
        except requests.RequestException as exc:
            raise SourceUnavailableError(f"{self.ref.host}: {type(exc).__name__} while pushing") from None
        except ValueError as exc:  # oras: "Cannot respond to request for authentication." and manifest checks
            raise ConfigError(f"{self.ref.host}: {str(exc).splitlines()[0]} (check ZOO_OCI_USERNAME / "
                              "ZOO_OCI_PASSWORD)") from None
        if response.status_code in (401, 403):
            raise ConfigError(f"{self.ref.host}: HTTP {response.status_code}: not allowed to push to "
                              f"{self.ref.repository} (check ZOO_OCI_USERNAME / ZOO_OCI_PASSWORD)")
        if response.status_code not in (200, 201, 202):
            raise SourceError(f"{self.ref.host}: HTTP {response.status_code} while pushing: "
                              f"{response.text.strip()[:200]}")
        return response


def push(release: Release, ref: OciReference, settings: Settings) -> Pushed:
    """Push ``release`` to ``ref`` (tag: the reference's, else the release's version)."""
    tag = ref.tag or release.version
    client = _Client(ref, settings)
    pushed = Pushed(ref, tag)
    layers = [client.blob(release.files[a.file], WEIGHT_TYPE, a.file, pushed) for a in release.artifacts]
    layers += [client.blob(path, DOC_TYPE, name, pushed) for name, path in release.docs.items()]
    with tempfile.TemporaryDirectory(dir=_mkdir(release.workdir)) as tmp:
        config = Path(tmp) / "config.json"
        config.write_text(json.dumps(model_config(release), sort_keys=True, separators=(",", ":")))
        conf = client.blob(config, CONFIG_TYPE, None, pushed)
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "artifactType": ARTIFACT_TYPE, "config": conf,
                    "layers": layers, "annotations": {TITLE: release.model.id,
                                                      "org.opencontainers.image.version": release.version}}
        digest, size = client.manifest(manifest, tag)
        pushed.reference = ref.pinned(digest)
        if release.signed:
            subject = {"mediaType": MANIFEST_TYPE, "digest": digest, "size": size}
            pushed.signatures = _push_signatures(release, client, pushed, subject, Path(tmp), settings)
    return pushed


def _push_signatures(release: Release, client: _Client, pushed: Pushed, subject: dict[str, Any], tmp: Path,
                     settings: Settings) -> str:
    """Push the release's signatures under ``sha256-<hex>.sig``, unless the ones there verify with this key."""
    source = OciSource(str(pushed.reference), settings)
    tag = signature_tag(pushed.reference.digest)
    if all(release.already_signed(_existing(source, a.file), a) for a in release.artifacts):
        return tag
    layers = []
    for name, bundle in release.signatures().items():
        path = tmp / name
        path.write_bytes(bundle)
        layers.append(client.blob(path, SIGNATURE_MEDIA_TYPE, name, pushed))
    empty = tmp / "empty.json"
    empty.write_bytes(b"{}")
    conf = client.blob(empty, EMPTY_TYPE, None, pushed)
    client.manifest({"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "artifactType": SIGNATURE_MEDIA_TYPE,
                     "config": conf, "layers": layers, "subject": subject}, tag)
    return tag


def _existing(source: OciSource, file: str) -> bytes | None:
    try:
        return source.signature(file)
    except SourceError:
        return None


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
