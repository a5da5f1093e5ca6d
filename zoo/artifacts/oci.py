"""``oci://HOST[:PORT]/REPO@sha256:<digest>`` (or ``:TAG``): an artifact inside an OCI registry, pulled
through the registry's HTTP API (the distribution spec), like every other source.

The manifest is fetched first and, when pinned by digest, must hash to that digest; the artifact is the
layer whose digest is ``sha256:<the registry's sha256 of the file>``, so an OCI blob is content-addressed
exactly as zoo's cache is. The blob is then streamed through ``HttpSource`` (retries, timeouts, resume,
the streaming sha256/size check). A tag is resolved to the digest the registry answers with, and that
digest is what zoo logs. A release's signatures live under the tag ``sha256-<manifest hex>.sig`` (cosign's
convention: Distribution 2.8 has no referrers API), one ``<file>.sig`` layer per signed file.

Auth: ``ZOO_OCI_USERNAME`` / ``ZOO_OCI_PASSWORD`` answer a ``Basic`` challenge (htpasswd, Artifactory) or
are exchanged for a ``Bearer`` token at the realm the registry names (GHCR, Harbor, ECR, Docker Hub);
anonymous tokens are asked for without them. Loopback hosts are spoken to over plain http, every other
host over https.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from zoo.core.errors import SourceError, UsageError
from zoo.core.settings import Settings
from zoo.artifacts.sources import HttpSource, _describe, register_source

if TYPE_CHECKING:
    import requests

    from zoo.artifacts.partial import PartialFile

log = logging.getLogger(__name__)

MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
MAX_MANIFEST = 4 << 20  # the distribution spec's own limit for a manifest
MAX_SIGNATURE = 1 << 20
_REPO = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?$")
_LOOPBACK = ("localhost", "127.", "[::1]")


@dataclass(frozen=True)
class OciReference:
    """``oci://HOST[:PORT]/REPO`` with a tag or a digest (at most one of them).

    >>> r = OciReference.parse("oci://127.0.0.1:5000/zoo/osnet_demo:1.0")
    >>> r.host, r.repository, r.tag, r.base_url
    ('127.0.0.1:5000', 'zoo/osnet_demo', '1.0', 'http://127.0.0.1:5000/v2/zoo/osnet_demo')
    >>> str(r.pinned("sha256:" + "0" * 64))[-20:]
    '00000000000000000000'
    """

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, location: str) -> OciReference:
        if not location.startswith("oci://"):
            raise UsageError(f"{location!r} is not an oci:// reference")
        host, _, rest = location[len("oci://"):].partition("/")
        tag = digest = None
        if "@" in rest:
            rest, _, digest = rest.partition("@")
        elif ":" in rest.rpartition("/")[2]:
            rest, _, tag = rest.rpartition(":")
        problem = ("expected oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]" if not (host and rest) else
                   f"bad host {host!r}" if not _HOST.match(host) else
                   f"bad repository {rest!r} (lowercase letters, digits, '.', '_', '-', '/')" if not _REPO.match(rest) else
                   f"bad tag {tag!r}" if tag is not None and not _TAG.match(tag) else
                   f"bad digest {digest!r} (sha256:<64 hex digits>)" if digest is not None and not _DIGEST.match(digest)
                   else None)
        if problem:
            raise UsageError(f"{location}: {problem}")
        return cls(host, rest, tag, digest)

    @property
    def reference(self) -> str:
        """What the manifests endpoint is asked for: the digest, else the tag, else ``latest``."""
        return self.digest or self.tag or "latest"

    @property
    def plain_http(self) -> bool:
        return self.host.startswith(_LOOPBACK)

    @property
    def base_url(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.host}/v2/{self.repository}"

    def pinned(self, digest: str) -> OciReference:
        return OciReference(self.host, self.repository, None, digest)

    def __str__(self) -> str:
        suffix = f"@{self.digest}" if self.digest else f":{self.tag}" if self.tag else ""
        return f"oci://{self.host}/{self.repository}{suffix}"


def signature_tag(manifest_digest: str) -> str:
    """The tag a release's signatures are pushed under (cosign's convention), ``sha256-<hex>.sig``.

    >>> signature_tag("sha256:" + "ab" * 32) == "sha256-" + "ab" * 32 + ".sig"
    True
    """
    return manifest_digest.replace(":", "-") + ".sig"


def layer_title(layer: dict[str, Any]) -> str | None:
    title = (layer.get("annotations") or {}).get("org.opencontainers.image.title")
    return title if isinstance(title, str) else None


class OciSource(HttpSource):
    """``oci://HOST[:PORT]/REPO@sha256:...`` or ``:TAG``; the layer is found by the artifact's sha256."""

    def __init__(self, location: str, settings: Settings) -> None:
        try:
            self.ref = OciReference.parse(location)
        except UsageError as exc:
            raise SourceError(exc.message) from None
        super().__init__(self.ref.base_url, settings)
        self.location = location
        self.credentials = (settings.oci_username, settings.oci_password) if settings.oci_username else None

    def _request(self, session: requests.Session, url: str, *, accept: str | None = None,
                 **kwargs: Any) -> requests.Response:
        """A GET answering the registry's auth challenge once (Basic, or a Bearer token from its realm)."""
        import requests

        timeout = self.settings.http_timeout
        extra = {"Accept": accept} if accept else {}
        try:
            response = session.get(url, headers={**self.headers, **extra}, timeout=(timeout, timeout), **kwargs)
            if response.status_code == 401 and "Authorization" not in self.headers:
                self.headers = {**self.headers, **self._authorization(session, response)}
                response.close()
                response = session.get(url, headers={**self.headers, **extra}, timeout=(timeout, timeout), **kwargs)
        except requests.RequestException as exc:
            raise SourceError(_describe(exc)) from None
        return response

    def _authorization(self, session: requests.Session, challenge: requests.Response) -> dict[str, str]:
        import requests

        header = challenge.headers.get("WWW-Authenticate", "")
        scheme, _, params = header.partition(" ")
        if scheme.lower() == "basic":
            if not self.credentials:
                raise SourceError("the registry asks for credentials: set ZOO_OCI_USERNAME and ZOO_OCI_PASSWORD")
            user, password = self.credentials
            return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
        if scheme.lower() != "bearer":
            raise SourceError(f"HTTP 401 with an unsupported challenge {scheme!r}")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        if not fields.get("realm", "").startswith(("https://", "http://")):
            raise SourceError("HTTP 401 without a token realm")
        timeout = self.settings.http_timeout
        query = {k: v for k, v in fields.items() if k in ("service", "scope")}
        realm = urlsplit(fields["realm"])
        # Credentials go to a token service over https, or to the registry's own host; never elsewhere in clear.
        trusted = realm.scheme == "https" or realm.netloc == self.ref.host
        try:
            answer = session.get(fields["realm"], params=query, auth=self.credentials if trusted else None,
                                 timeout=(timeout, timeout))
            token = answer.json().get("token") or answer.json().get("access_token") if answer.ok else None
        except (requests.RequestException, ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            who = "with ZOO_OCI_USERNAME" if self.credentials else "anonymously (set ZOO_OCI_USERNAME and ZOO_OCI_PASSWORD)"
            raise SourceError(f"the registry's token service refused a token {who}")
        return {"Authorization": f"Bearer {token}"}

    def manifest(self, session: requests.Session, reference: str | None = None) -> tuple[str, dict[str, Any]] | None:
        """``(digest, manifest)`` for ``reference`` (default: this source's tag or digest), None when there is none.

        A manifest asked for by digest must hash to it; one asked for by tag is pinned to the digest of the
        bytes received."""
        reference = reference or self.ref.reference
        response = self._request(session, f"{self.ref.base_url}/manifests/{reference}", stream=True,
                                 accept=MANIFEST_TYPES)
        with response:
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise self.status_error(response)
            body = response.raw.read(MAX_MANIFEST + 1, decode_content=True)
        if len(body) > MAX_MANIFEST:
            raise SourceError("manifest larger than 4 MiB")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if reference.startswith("sha256:") and digest != reference:
            raise SourceError(f"the registry's manifest hashes to {digest}, not the pinned {reference}")
        try:
            manifest = json.loads(body)
            layers = manifest["layers"]
            if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise SourceError("the manifest is not an OCI image manifest") from None
        return digest, manifest

    def status_error(self, response: requests.Response) -> SourceError:
        if response.status_code in (401, 403):
            return SourceError(f"HTTP {response.status_code}: access denied (check ZOO_OCI_USERNAME / ZOO_OCI_PASSWORD)")
        return super().status_error(response)

    def download(self, part: PartialFile) -> None:
        want = f"sha256:{part.artifact.sha256}"
        with self._session() as session:
            found = self.manifest(session)
            if found is None:
                raise SourceError(f"no manifest {self.ref.reference!r} in {self.ref.repository}")
            digest, manifest = found
            if self.ref.digest is None:  # a tag: what the cache records is the digest it stood for now
                log.info("%s is %s", self.location, self.ref.pinned(digest))
                self.location = str(self.ref.pinned(digest))
            if not any(layer.get("digest") == want for layer in manifest["layers"]):
                raise SourceError(f"the manifest {digest} has no layer {want} ({part.artifact.file})")
            # Auth headers found for the manifest serve the blob too; HttpSource streams and resumes it.
            self.url = f"{self.ref.base_url}/blobs/{want}"
        super().download(part)

    def signature(self, file: str) -> bytes | None:
        """The signature bundle of ``file`` pushed with this release (``<file>.sig`` under the signature tag),
        or None when the release carries none."""
        with self._session() as session:
            found = self.manifest(session)
            if found is None:
                raise SourceError(f"no manifest {self.ref.reference!r} in {self.ref.repository}")
            signatures = self.manifest(session, signature_tag(found[0]))
            if signatures is None:
                return None
            layer = next((la for la in signatures[1]["layers"] if layer_title(la) == f"{file}.sig"), None)
            if layer is None or not _DIGEST.match(str(layer.get("digest"))):
                return None
            response = self._request(session, f"{self.ref.base_url}/blobs/{layer['digest']}", stream=True)
            with response:
                if response.status_code != 200:
                    raise self.status_error(response)
                body = response.raw.read(MAX_SIGNATURE + 1, decode_content=True)
        if len(body) > MAX_SIGNATURE or "sha256:" + hashlib.sha256(body).hexdigest() != layer["digest"]:
            raise SourceError(f"the signature blob of {file} does not match its digest")
        return body


register_source("oci", OciSource)
