"""Which file, where: serve an artifact from the cache, else try each source in order until one delivers.

This is the API other parts of zoo call::

    from zoo.artifacts.fetching import fetch
    from zoo.catalog.registry import load_registry

    art = load_registry().get("osnet_a025").artifact("tflite")
    path = fetch(art, mirrors=["http://127.0.0.1:8000/zoo"])   # verified file in the cache

Order: mirrors given by the caller, then ``ZOO_MIRROR``, then the artifact's own sources. A warm cache
answers without any network request. Wrong bytes from one source are refused and the next is tried.
The ``zoo.artifacts.fetching`` logger says which source delivered (INFO) and which served wrong bytes (WARNING).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from zoo.artifacts.cache import Cache
from zoo.core.errors import (ConfigError, FileAccessError, IntegrityError, NetworkError, OfflineError, SignatureError,
                        SourceError, SourceUnavailableError, ZooError)
from zoo.core.files import copy_atomic, read_bytes, safe_name, write_atomic
from zoo.artifacts.partial import Progress
from zoo.catalog.registry import Artifact, Model, Registry, unsafe_source
from zoo.core.settings import Settings
from zoo.artifacts.sources import LocalSource, Source, mirror_location, open_source, redact

MAX_SIGNATURE = 1 << 20  # a Sigstore bundle of one file is a few kB

log = logging.getLogger(__name__)


def fetch(
    artifact: Artifact,
    *,
    settings: Settings | None = None,
    mirrors: Sequence[str] = (),
    offline: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Return the path of ``artifact`` in the cache, verified by size and sha256, downloading it if needed.

    ``mirrors`` and ``offline`` add to ``settings`` as the command-line flags do (``Settings.with_flags``).

    Raises ``OfflineError`` when offline and not cached, ``IntegrityError`` when any source sent wrong
    bytes, ``SourceUnavailableError`` (one line, each source's reason) when no source delivered.
    """
    safe_name(artifact.model_id, "model id"), safe_name(artifact.version, "version"), safe_name(artifact.file)
    settings = (settings or Settings.from_env()).with_flags(mirrors=mirrors, offline=offline)
    cache = Cache(settings.cache_dir, lock_timeout=settings.lock_timeout)
    for _ in range(2):
        path = _fetch_once(artifact, settings, cache, progress)
        cache.hold(artifact.sha256)  # from here another process's `zoo cache clean` leaves the entry alone
        if path.exists():
            return path
        cache.release(artifact.sha256)  # cleaned between the check and the hold: once more
    raise SourceUnavailableError(f"{artifact.model_id}/{artifact.file} was removed from the cache (by zoo cache "
                                 "clean?) each time it was fetched; try again")


def _fetch_once(artifact: Artifact, settings: Settings, cache: Cache, progress: Progress | None) -> Path:
    """The cached, verified file, downloaded under the artifact's lock when it is not cached yet."""
    offline = settings.offline
    cached = cache.lookup(artifact)
    if cached is not None and artifact.trust is None:
        return cached
    for location in artifact.sources:  # registries arrive in pull requests; the user's own mirrors may say ../
        if problem := unsafe_source(location):
            raise ConfigError(f"{artifact.model_id}/{artifact.file}: unsafe source {redact(location)!r}: {problem}")
    # a version's own folder first; then <id>/<file>, where a mirror made before the model had versions keeps it
    folders = dict.fromkeys((artifact.folder, artifact.model_id))
    locations = [mirror_location(m, folder, artifact.file) for m in settings.mirrors for folder in folders]
    locations += artifact.sources
    if cached is not None:
        return _signed(artifact, cached, locations, settings, cache)
    with cache.lock(artifact.sha256):
        cached = cache.lookup(artifact)  # another process may have fetched it while we waited for the lock
        if cached is not None:
            return _signed(artifact, cached, locations, settings, cache)
        failures: list[tuple[str, ZooError]] = []
        for location in locations:
            try:
                source = open_source(location, settings)
                if offline and source.network:
                    continue
                if source.network:  # on a terminal: no silent wait while a host is tried and retried
                    log.info("%s/%s: trying %s", artifact.model_id, artifact.file, _short(location))
                path = cache.receive(artifact, source, progress)
            except (SourceError, IntegrityError) as exc:
                failures.append((location, exc))
                continue
            _delivered(artifact, location, failures)
            return _signed(artifact, path, [location, *(loc for loc in locations if loc != location)], settings, cache)
    raise _failure(artifact, failures, offline)


def _signed(artifact: Artifact, path: Path, locations: Sequence[str], settings: Settings, cache: Cache) -> Path:
    """``path`` once its signature verifies with the key or identity the registry trusts (when it names one).

    The signature is looked for where the bytes came from first, then at the other sources; one that
    verified is kept in the cache and, with an HMAC verdict (``zoo.core.verdicts``) naming the file's
    sha256, the bundle's and the trusted key's, not verified again while all three stay the same: a
    registry that starts trusting another key takes effect at once. Unsigned, signed by another key or over other bytes: ``SignatureError``
    (an ``IntegrityError``, exit 1).
    """
    if artifact.trust is None:
        return path
    from zoo.artifacts.signatures import verify_file

    kept = kept_signature(artifact, settings)
    workdir = cache.root / "tmp"
    if kept.is_file():
        bundle = read_bytes(kept, limit=MAX_SIGNATURE)
        if _verified_before(artifact, bundle):  # these bytes, this bundle, this key: proven in an earlier run
            return path
        with contextlib.suppress(SignatureError):
            verify_file(bundle, artifact, path, artifact.trust, workdir)
            _remember_verified(artifact, bundle)
            return path
    refusals: list[str] = []
    for location in locations:
        try:
            source = open_source(location, settings)
            if settings.offline and source.network:
                continue
            bundle = _signature_at(source, artifact, settings)
        except SourceError:
            continue
        if bundle is None:
            continue
        try:
            verify_file(bundle, artifact, path, artifact.trust, workdir)
        except SignatureError as exc:
            refusals.append(f"{redact(location)}: {exc.message}")
            continue
        with contextlib.suppress(FileAccessError):  # a read-only cache verifies again next time
            write_atomic(kept, bundle)
        _remember_verified(artifact, bundle)
        return path
    name = f"{artifact.model_id}/{artifact.file}"
    if refusals:
        raise SignatureError("; ".join(refusals))
    raise SignatureError(f"{name} is unsigned: no source carries {artifact.file}.sig, and the registry trusts only "
                         "signed files (publish it with zoo publish --sign KEY)")


def _signature_facts(artifact: Artifact, bundle: bytes) -> tuple[str, ...]:
    """What a signature verdict vouches for: the file's sha256, the bundle's, and whom the registry trusts (the
    key file's bytes, or the identity): any of them changed and the signature is verified again."""
    import hashlib

    trust = artifact.trust
    who = hashlib.sha256(read_bytes(trust.key, limit=1 << 16)).hexdigest() if trust.key is not None else \
        f"{trust.identity}\n{trust.issuer}"
    return ("signature-verified", artifact.sha256, hashlib.sha256(bundle).hexdigest(), who)


def _verified_before(artifact: Artifact, bundle: bytes) -> bool:
    from zoo.core.verdicts import current

    verdicts = current()
    try:
        return verdicts is not None and verdicts.holds(f"signature-{artifact.sha256}",
                                                       _signature_facts(artifact, bundle))
    except (FileNotFoundError, FileAccessError):  # the trusted key is missing: model-signing will say so
        return False


def _remember_verified(artifact: Artifact, bundle: bytes) -> None:
    from zoo.core.verdicts import current

    verdicts = current()
    if verdicts is not None:
        verdicts.remember(f"signature-{artifact.sha256}", _signature_facts(artifact, bundle))


def kept_signature(artifact: Artifact, settings: Settings) -> Path:
    """Where the cache keeps the signature of ``artifact`` that verified (present once a fetch checked it)."""
    return Path(settings.cache_dir) / "signatures" / f"{artifact.sha256}.sig"


def _signature_at(source: Source, artifact: Artifact, settings: Settings) -> bytes | None:
    """The signature bundle that travels with ``source``'s copy: the OCI release's signature layer, else
    ``<location>.sig`` beside the file (a mirror, a URL, the same Hugging Face revision)."""
    if hasattr(source, "signature"):
        return source.signature(artifact.file)
    location = source.location
    if location.startswith("hf://") and "@" in location:
        base, _, revision = location.rpartition("@")
        sig = open_source(f"{base}.sig@{revision}", settings)
    else:
        sig = open_source(location + ".sig", settings)
    if isinstance(sig, LocalSource):
        try:
            return read_bytes(sig.path, limit=MAX_SIGNATURE)
        except FileNotFoundError:
            return None
        except FileAccessError as exc:
            raise SourceError(exc.message) from None
    return sig.get_small(MAX_SIGNATURE)


def _delivered(artifact: Artifact, location: str, failures: list[tuple[str, ZooError]]) -> None:
    """Say where the bytes came from, and warn about every source that served wrong ones on the way."""
    name = f"{artifact.model_id}/{artifact.file}"
    for where, exc in failures:
        if isinstance(exc, IntegrityError):
            log.warning("warning: %s served wrong bytes for %s (%s); %s delivered the right ones",
                        redact(where), name, exc.message, redact(location))
    log.info("%s: %s bytes from %s, sha256 verified", name, f"{artifact.size:,}", redact(location))


def _failure(artifact: Artifact, failures: list[tuple[str, ZooError]], offline: bool) -> ZooError:
    reasons = "; ".join(f"{redact(loc)}: {exc.message}" for loc, exc in failures)
    name = f"{artifact.model_id}/{artifact.file}"
    wrong = [(loc, exc) for loc, exc in failures if isinstance(exc, IntegrityError)]
    if wrong:
        # A source that served wrong bytes matters more than others being unreachable: exit 1, not 3.
        where, first = wrong[0]
        return IntegrityError(f"refused wrong bytes for {name}: {reasons}", url=redact(where),
                              expected_sha256=artifact.sha256, actual_sha256=first.actual_sha256,
                              expected_size=artifact.size, actual_size=first.actual_size)
    if offline:
        tried = f" (local sources: {reasons})" if reasons else ""
        return OfflineError(f"{name} is not in the cache and offline mode is on (--offline / ZOO_OFFLINE){tried}")
    if failures and all(isinstance(exc, NetworkError) for _, exc in failures):  # the network itself, every time
        hosts = ", ".join(dict.fromkeys(urlsplit(redact(loc)).netloc or _short(loc) for loc, _ in failures))
        return NetworkError(f"{name}: no source reachable ({hosts}: {failures[-1][1].message}); no network? "
                            "try --mirror URL|DIR (or ZOO_MIRROR), or --offline to use only the cache",
                            url=redact(failures[0][0]))
    reasons = "; ".join(f"{_short(loc)}: {exc.message}" for loc, exc in failures)
    return SourceUnavailableError(f"no source could deliver {name}: {reasons or 'no sources'}")


def _short(location: str) -> str:
    """A location as an error line shows it: ``https://host/.../file`` for a long URL (credentials removed).

    >>> _short("https://host/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/0/1/2/3/model.tflite")
    'https://host/.../model.tflite'
    """
    shown = redact(location)
    parts = urlsplit(shown)
    if parts.netloc and len(shown) > 60:
        return f"{parts.scheme}://{parts.netloc}/.../{parts.path.rsplit('/', 1)[-1]}"
    return shown


@dataclass(frozen=True)
class Pulled:
    """One pulled artifact: its verified file (usable wherever a path is) and the source that delivered it."""

    artifact: Artifact
    path: Path
    source: str | None  # the location the cached bytes came from, credentials removed (None: not recorded)

    def __fspath__(self) -> str:
        return str(self.path)


A = TypeVar("A")
R = TypeVar("R")


def fetch_all(artifacts: Sequence[Artifact], *, settings: Settings | None = None, mirrors: Sequence[str] = (),
              offline: bool = False, progress: Progress | None = None) -> list[Path]:
    """``fetch`` each artifact, several at once: a pool of ``settings.http_connections`` threads (each download
    holds one of the process's connection permits, ``zoo.artifacts.ranges``). Paths in the order given; the
    first artifact's error in that order is raised once every download has stopped."""
    settings = (settings or Settings.from_env()).with_flags(mirrors=mirrors, offline=offline)
    return _in_pool(lambda art: fetch(art, settings=settings, progress=progress), artifacts,
                    settings.http_connections)


def _in_pool(work: Callable[[A], R], items: Sequence[A], workers: int) -> list[R]:
    """``work`` on each item, up to ``workers`` at once; results in order, the first item's error raised once all
    have stopped (so no copy or download is left running behind an error)."""
    if len(items) < 2 or workers < 2:
        return [work(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor  # only for a pool: a one-file pull does not import it

    with ThreadPoolExecutor(min(workers, len(items)), thread_name_prefix="zoo-fetch") as pool:
        futures = [pool.submit(work, item) for item in items]
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    return [f.result() for f in futures]


def select(model: Model, formats: Sequence[str] = ()) -> list[Artifact]:
    """The model's artifacts of ``formats`` (``all`` selects every artifact; none: the file zoo runs, its TFLite or
    ONNX artifact)."""
    if not formats:
        return [model.runnable()]
    if "all" in formats:
        return list(model.artifacts)
    return [model.artifact(fmt) for fmt in dict.fromkeys(formats)]


def pull(
    registry: Registry,
    model_id: str,
    *,
    formats: Sequence[str] = (),
    to: Path | None = None,
    settings: Settings | None = None,
    mirrors: Sequence[str] = (),
    offline: bool = False,
    progress: Progress | None = None,
) -> list[Pulled]:
    """Fetch a model's artifacts; with ``to``, copy the verified files there (copies, so editing them can
    never corrupt the cache) once every one of them is in the cache: a pull that fails leaves nothing in
    ``to``. Says for each where it is and which source delivered it."""
    if to is not None and Path(to).exists() and not Path(to).is_dir():
        raise FileAccessError("not a folder: --to takes the folder to copy the files into", path=to)
    settings = (settings or Settings.from_env()).with_flags(mirrors=mirrors, offline=offline)
    arts = select(registry.get(model_id), formats)
    paths = fetch_all(arts, settings=settings, progress=progress)
    if to is not None:
        paths = _in_pool(lambda pair: copy_atomic(pair[1], Path(to) / safe_name(pair[0].file), sha256=pair[0].sha256),
                         list(zip(arts, paths)), settings.http_connections)
    return [Pulled(art, path, Cache(settings.cache_dir).source(art.sha256)) for art, path in zip(arts, paths)]


def write_mirror(
    registry: Registry,
    directory: Path,
    model_ids: Sequence[str] | None = None,
    *,
    formats: Sequence[str] = (),
    settings: Settings | None = None,
    mirrors: Sequence[str] = (),
    offline: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Write ``<directory>/<model id>/<file>`` (``<model id>/<version>/<file>`` for a model with
    ``versions:``) for the models (``ID`` or ``ID@V``; default: all), from the cache (fetching what
    is missing unless offline), so an air-gapped site can serve it with ``--mirror``. Nothing is written
    until every file is in the cache; offline, every file that is not is named in one error."""
    chosen = [(registry.get(model_id), art) for model_id in model_ids or list(registry.models)
              for art in select(registry.get(model_id), formats)]
    targets = []
    for model, art in chosen:  # every name is checked before anything is fetched or written
        folder = Path(directory) / safe_name(model.id, "model id")
        targets.append((folder / safe_name(model.version, "version") if art.versioned else folder) / safe_name(art.file))
    arts = [art for _, art in chosen]
    settings = (settings or Settings.from_env()).with_flags(mirrors=mirrors, offline=offline)
    if settings.offline and not settings.mirrors:
        cache = Cache(settings.cache_dir)
        missing = [f"{a.ref}/{a.file}" for a in arts if cache.lookup(a) is None]
        if missing:
            raise OfflineError(f"not in the cache, so no mirror was written: {', '.join(missing)}; pull them first "
                               "(zoo pull ID) or drop --offline")
    paths = fetch_all(arts, settings=settings, progress=progress)
    # the copies hash, write and fsync: several at once, as the downloads
    return _in_pool(lambda job: copy_atomic(job[1], job[2], sha256=job[0].sha256), list(zip(arts, paths, targets)),
                    settings.http_connections)
