"""How bytes arrive: one small class per kind of source, behind one call, chosen by the location's scheme.

Every source has ``download(part)``: it writes the artifact's bytes into a ``zoo.artifacts.partial.PartialFile``
(which hashes and counts them) or raises ``SourceError`` with a one-line reason. Sources never decide
where files go or whether bytes are right; ``zoo.artifacts.fetching`` and ``zoo.artifacts.cache`` do.

- ``https://`` / ``http://``: requests with urllib3 ``Retry`` (backoff on connection errors and 5xx),
  redirects followed, connect/read timeouts, and an HTTP ``Range`` request to resume a partial file.
- ``hf://<org>/<repo>/<path>@<revision>``: the hub's resolve URL (``huggingface_hub.hf_hub_url`` against
  ``Settings.hf_endpoint``), downloaded like any https URL, so timeouts, retries and resuming apply; the
  token huggingface_hub finds (``HF_TOKEN``) is only ever sent to an https endpoint.
- ``file://`` URLs and plain paths: read from disk.

A new kind of location is one class and one ``register_source(scheme, cls)`` call, here or in a caller's
code (``s3://`` for a company bucket, say). Every HTTP request goes through one session factory that a
caller can replace (``configure_http_session``: a company CA bundle, proxies, auth).

>>> class Bucket:
...     network = True
...     def __init__(self, location, settings):
...         self.location = location
...     def download(self, part):
...         part.write(b"...")
>>> register_source("bucket", Bucket)
>>> type(open_source("bucket://models/x.tflite", Settings(cache_dir=Path("c")))).__name__
'Bucket'
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from zoo import __version__
from zoo.core.errors import FileAccessError, NetworkError, SourceError
from zoo.core.files import describe, open_regular
from zoo.core.settings import Settings

if TYPE_CHECKING:
    import requests

    from zoo.artifacts.partial import PartialFile



class Source(Protocol):
    location: str
    network: ClassVar[bool]

    def download(self, part: PartialFile) -> None: ...


class HttpSource:
    """An http(s) URL. Resumes with ``Range`` from whatever the partial file already holds."""

    network = True

    def __init__(self, location: str, settings: Settings) -> None:
        self.location = self.url = location
        self.settings = settings
        self.headers: dict[str, str] = {}

    def status_error(self, response: requests.Response) -> SourceError:
        """A one-line reason for an answer that is neither 200 nor 206."""
        return SourceError(f"HTTP {response.status_code} {response.reason}".strip(), url=redact(self.location),
                           status=response.status_code)

    def _session(self) -> requests.Session:
        return http_session(self.settings)

    def _error(self, exc: Exception) -> SourceError:
        return _request_error(exc, redact(self.location))

    def download(self, part: PartialFile) -> None:
        """Fill ``part``: in byte ranges over several connections when the server takes them and the artifact
        is large enough (``zoo.artifacts.ranges``), else one stream resumed from ``part.offset``."""
        from zoo.artifacts.ranges import SEGMENT_MIN, download_in_ranges, slot

        connections = self.settings.http_connections
        with slot(connections), self._session() as session:
            if connections > 1 and part.artifact.size - part.offset >= 2 * SEGMENT_MIN:
                download_in_ranges(self._transfer, self._session, session, part, connections)
            else:
                self._transfer(session, part, None, None)

    def _transfer(self, session: requests.Session, sink: Any, end: int | None,
                  answered: Callable[[int], None] | None) -> int:
        """Bytes ``[sink.position, end)`` (``end`` None: to the end) into ``sink``, resumed while a cut body
        brings progress; returns the status of the last answer (206: the server honours ranges).

        ``sink`` is the ``PartialFile`` or one byte range of it (``zoo.artifacts.ranges.Segment``): ``restart`` when
        the server answers a range with the whole file, ``expect_remaining`` and ``pour`` for the body.
        ``answered(status)`` hears each accepted answer before its body is read.
        """
        import http.client

        import requests

        timeout = self.settings.http_timeout
        stalls = self.settings.http_retries  # resumes that brought no new bytes; progress is always resumed
        while True:
            start, streaming = sink.position, False
            last = "" if end is None else str(end - 1)
            headers = {**self.headers, "Range": f"bytes={start}-{last}"} if start or last else self.headers
            try:
                with session.get(self.url, headers=headers, stream=True, timeout=(timeout, timeout)) as r:
                    if r.status_code == 416 and start and end is None:  # the partial file already holds every byte
                        return r.status_code
                    if r.status_code == 200 and (start or last):  # no range support: start again from zero
                        sink.restart()
                        end = None
                    elif r.status_code == 206 and not r.headers.get("Content-Range", "").startswith(
                        f"bytes {start}-"
                    ):
                        raise SourceError(f"unexpected Content-Range {r.headers.get('Content-Range')!r}",
                                          url=redact(self.location), status=206)
                    elif r.status_code not in (200, 206):
                        raise self.status_error(r)
                    body = _body_reader(r)  # a compressed body is refused before its length is judged
                    length = r.headers.get("Content-Length")
                    length = int(length) if length and length.isdigit() else None
                    if end is not None and r.status_code == 206 and length != end - start:
                        end = None  # more (or less) than was asked for: judged as the rest of the file
                    if end is None or r.status_code != 206:
                        sink.expect_remaining(length)
                    stop = sink.position + length if length is not None else None
                    if answered is not None:
                        answered(r.status_code if end is not None else 200)  # 206 only for the range asked
                    streaming = True
                    sink.pour(body)
                    if stop is not None and sink.position < stop:  # http.client reads a cut body as EOF
                        raise http.client.IncompleteRead(b"", stop - sink.position)
                return r.status_code
            except FileAccessError:  # our disk, not the source: a full disk must not look like a dead server
                raise
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    OSError, http.client.HTTPException) as exc:
                # urllib3 already retried the request itself; a body cut short is resumed from here.
                if streaming and (sink.position > start or stalls > 0):
                    stalls -= sink.position == start
                    continue
                raise self._error(exc) from None
            except requests.RequestException as exc:
                raise self._error(exc) from None


    def get_small(self, limit: int) -> bytes | None:
        """A small file at this URL (a signature beside an artifact): its bytes, or None when there is none."""
        import requests

        timeout = self.settings.http_timeout
        with self._session() as session:
            try:
                with session.get(self.url, headers=self.headers, stream=True, timeout=(timeout, timeout)) as r:
                    if r.status_code == 404:
                        return None
                    if r.status_code != 200:
                        raise self.status_error(r)
                    body = r.raw.read(limit + 1, decode_content=True)
            except requests.RequestException as exc:
                raise SourceError(_describe(exc)) from None
        if len(body) > limit:
            raise SourceError(f"larger than {limit} bytes")
        return body


def _body_reader(response: requests.Response) -> Callable[[memoryview], int]:
    """``readinto`` for the response body, straight from the socket when urllib3 wraps a plain
    ``http.client`` response (its own ``readinto`` allocates and copies every read).

    Only an identity body is read: we asked for one, and a compressed body is not the file's bytes.
    """
    import http.client

    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise SourceError(f"the server sent a {encoding}-encoded body although identity was asked for")
    raw = getattr(response.raw, "_fp", None)
    return raw.readinto if isinstance(raw, http.client.HTTPResponse) else response.raw.readinto


def default_session(settings: Settings) -> requests.Session:
    """zoo's own HTTP session: urllib3 retries with backoff on connection errors and 5xx, zoo's User-Agent,
    and ``Accept-Encoding: identity`` (byte ranges and Content-Length must describe the file itself)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retries = settings.http_retries
    retry = Retry(
        total=retries, connect=retries, read=retries, status=retries, backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET",), raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"User-Agent": f"zoo/{__version__}", "Accept-Encoding": "identity"})
    return session


SessionFactory = Callable[[Settings], "requests.Session"]
_session_factory: SessionFactory = default_session


def configure_http_session(factory: SessionFactory | None) -> None:
    """Make every HTTP request zoo sends use sessions from ``factory(settings)``; ``None`` restores zoo's own.

    Start from ``default_session`` to keep retries and headers, then add what your network needs:

    >>> def company(settings):
    ...     session = default_session(settings)
    ...     session.verify = "/etc/ssl/certs/company-ca.pem"      # a company CA bundle
    ...     session.proxies = {"https": "http://proxy.corp:3128"}
    ...     return session
    >>> configure_http_session(company)
    >>> http_session(Settings(cache_dir=Path("c"))).verify
    '/etc/ssl/certs/company-ca.pem'
    >>> configure_http_session(None)
    """
    global _session_factory
    _session_factory = factory or default_session


def http_session(settings: Settings) -> requests.Session:
    """A session from the configured factory: the only way zoo's sources open HTTP connections."""
    return _session_factory(settings)


def _request_error(exc: Exception, url: str) -> SourceError:
    """A failed request as a one-line error: a ``NetworkError`` when the connection itself failed."""
    import requests

    reason = _describe(exc)
    network = isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)) or reason in (
        "timed out", "connection failed", "connection dropped mid-transfer", "proxy refused the connection")
    return (NetworkError if network else SourceError)(reason, url=url)


def _describe(exc: Exception) -> str:
    """A one-line reason from a requests exception (they nest urllib3 errors several levels deep)."""
    import http.client

    import requests

    if isinstance(exc, (requests.Timeout, TimeoutError)) or "timed out" in str(exc).lower():
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection dropped mid-transfer"
    if isinstance(exc, requests.exceptions.ProxyError):
        return "proxy refused the connection"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    if isinstance(exc, requests.RequestException):  # an OSError too: ask before the socket errors below
        return type(exc).__name__
    if isinstance(exc, (http.client.HTTPException, OSError)):  # the body, read straight from the socket
        return "connection dropped mid-transfer"
    return type(exc).__name__


class HfSource(HttpSource):
    """``hf://<org>/<repo>/<path>@<revision>``: the hub's resolve URL for that file, fetched as an http(s) URL."""

    def __init__(self, location: str, settings: Settings) -> None:
        from huggingface_hub import get_token, hf_hub_url

        rest = location[len("hf://"):]
        rest, at, revision = rest.rpartition("@") if "@" in rest else (rest, "", "")
        parts = rest.split("/", 2)
        if len(parts) != 3 or not all(parts) or (at and not revision):
            raise SourceError("expected hf://<org>/<repo>/<path>@<revision>")
        endpoint = settings.hf_endpoint
        url = hf_hub_url(f"{parts[0]}/{parts[1]}", parts[2], revision=revision or None, endpoint=endpoint)
        super().__init__(url, settings)
        self.location = location
        token = get_token() if endpoint.startswith("https://") else None  # never over plain http
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def download(self, part: PartialFile) -> None:
        """Ask the hub first (a HEAD, as huggingface_hub does): only its answer to that says what is missing."""
        import requests

        timeout = self.settings.http_timeout
        with self._session() as session:
            try:
                head = session.head(self.url, headers=self.headers, timeout=(timeout, timeout), allow_redirects=False)
            except requests.RequestException as exc:
                raise self._error(exc) from None
        if head.status_code >= 400:
            raise self.status_error(head)
        super().download(part)

    def status_error(self, response: requests.Response) -> SourceError:
        """The hub says which part was missing in ``X-Error-Code``; a private repository also answers 401."""
        if response.status_code in (401, 403, 404):
            what = _HF_MISSING.get(response.headers.get("X-Error-Code", ""), _HF_MISSING["RepoNotFound"])
            return SourceError(f"{what} (HTTP {response.status_code})", url=redact(self.location),
                               status=response.status_code)
        return super().status_error(response)


_HF_MISSING = {
    "RepoNotFound": "repository, revision or file not found, or private",
    "RevisionNotFound": "revision not found",
    "EntryNotFound": "file not found at that revision",
    "GatedRepo": "gated repository: accept its terms on the hub and set HF_TOKEN",
}


class LocalSource:
    """A path or ``file://`` URL (a mirror folder on disk or a share). Not network: allowed offline."""

    network = False

    def __init__(self, location: str, settings: Settings) -> None:
        self.location = location
        self.path = Path(unquote(urlsplit(location).path)) if location.startswith("file://") else Path(location)

    def download(self, part: PartialFile) -> None:
        """Copy from ``part.offset``; a FIFO or device is refused instead of read forever."""
        try:
            fh = open_regular(self.path)
        except FileNotFoundError:
            raise SourceError("no such file") from None
        except FileAccessError as exc:
            raise SourceError(exc.message) from None
        with fh:
            try:
                fh.seek(part.offset)
                part.pour(fh.readinto)  # a write error (disk full) is ours, not the source's: it propagates
            except FileAccessError:
                raise
            except OSError as exc:
                raise SourceError(describe(exc)) from None


SourceFactory = Callable[[str, Settings], Source]
_KINDS: dict[str, SourceFactory] = {"https": HttpSource, "http": HttpSource, "hf": HfSource, "file": LocalSource,
                                    "": LocalSource}
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
# Kinds zoo ships in modules of their own, imported (and so registered) only when a location needs one.
_LAZY_KINDS = {"oci": "zoo.artifacts.oci"}


def register_source(scheme: str, factory: SourceFactory) -> None:
    """Make ``scheme://...`` locations (in registries and ``--mirror``) open with ``factory(location, settings)``.

    The factory returns an object with ``location``, ``network`` (False: allowed offline) and
    ``download(part)``, which writes the bytes into the ``PartialFile`` it is given (hashing, size checks,
    resuming and the cache are zoo's) or raises ``SourceError``. A scheme registered again is replaced.
    """
    if not _SCHEME.fullmatch(scheme):
        raise ValueError(f"not a URL scheme: {scheme!r} (lower-case letters, digits, '+', '-', '.')")
    _KINDS[scheme] = factory


def open_source(location: str, settings: Settings) -> Source:
    """The source object for ``location``, chosen by its scheme (none: a local path)."""
    scheme = location.split("://", 1)[0].lower() if "://" in location else ""
    if scheme not in _KINDS and scheme in _LAZY_KINDS:
        importlib.import_module(_LAZY_KINDS[scheme])
    kind = _KINDS.get(scheme)
    if kind is None:
        raise SourceError(f"unsupported scheme {scheme!r}", url=redact(location))
    return kind(location, settings)


def redact(location: str) -> str:
    """A location fit to print or store: credentials in a URL become ``***``.

    >>> redact("https://ci:s3cret@mirror.example/zoo/x.tflite")
    'https://***@mirror.example/zoo/x.tflite'
    """
    parts = urlsplit(location)
    if "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
    return location


def mirror_location(mirror: str, model_id: str, file: str) -> str:
    """Where a mirror holds an artifact: ``<mirror>/<model id>/<file>`` (a URL, an hf:// repo or a folder)."""
    if mirror.startswith("hf://"):
        base, at, revision = mirror.rpartition("@") if "@" in mirror else (mirror, "", "")
        return f"{base.rstrip('/')}/{model_id}/{file}{at}{revision}"
    if "://" in mirror:
        return f"{mirror.rstrip('/')}/{quote(model_id)}/{quote(file)}"
    return str(Path(mirror).expanduser() / model_id / file)
