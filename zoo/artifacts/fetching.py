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

import logging
from collections.abc import Sequence
from pathlib import Path

from zoo.artifacts.cache import Cache
from zoo.core.errors import (ConfigError, FileAccessError, IntegrityError, NetworkError, OfflineError, SourceError,
                        SourceUnavailableError, ZooError)
from zoo.core.files import copy_atomic, safe_name
from zoo.artifacts.partial import Progress
from zoo.catalog.registry import Artifact, Model, Registry, unsafe_source
from zoo.core.settings import Settings
from zoo.artifacts.sources import mirror_location, open_source, redact

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
    offline = settings.offline
    cache = Cache(settings.cache_dir)
    cached = cache.lookup(artifact)
    if cached is not None:
        return cached
    for location in artifact.sources:  # registries arrive in pull requests; the user's own mirrors may say ../
        if problem := unsafe_source(location):
            raise ConfigError(f"{artifact.model_id}/{artifact.file}: unsafe source {redact(location)!r}: {problem}")
    locations = [mirror_location(m, artifact.folder, artifact.file) for m in settings.mirrors]
    locations += artifact.sources
    with cache.lock(artifact.sha256):
        cached = cache.lookup(artifact)  # another process may have fetched it while we waited for the lock
        if cached is not None:
            return cached
        failures: list[tuple[str, ZooError]] = []
        for location in locations:
            try:
                source = open_source(location, settings)
                if offline and source.network:
                    continue
                path = cache.receive(artifact, source, progress)
            except (SourceError, IntegrityError) as exc:
                failures.append((location, exc))
                continue
            _delivered(artifact, location, failures)
            return path
    raise _failure(artifact, failures, offline)


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
    message = f"no source could deliver {name}: {reasons or 'no sources'}"
    if failures and all(isinstance(exc, NetworkError) for _, exc in failures):  # the network itself, every time
        return NetworkError(message, url=redact(failures[0][0]))
    return SourceUnavailableError(message)


def select(model: Model, formats: Sequence[str]) -> list[Artifact]:
    """The model's artifacts of ``formats`` (``all`` selects every artifact)."""
    if "all" in formats:
        return list(model.artifacts)
    return [model.artifact(fmt) for fmt in dict.fromkeys(formats)]


def pull(
    registry: Registry,
    model_id: str,
    *,
    formats: Sequence[str] = ("tflite",),
    to: Path | None = None,
    settings: Settings | None = None,
    mirrors: Sequence[str] = (),
    offline: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Fetch a model's artifacts; with ``to``, copy the verified files there (copies, so editing them can
    never corrupt the cache). Returns the paths the user should use."""
    if to is not None and Path(to).exists() and not Path(to).is_dir():
        raise FileAccessError("not a folder: --to takes the folder to copy the files into", path=to)
    paths = []
    for art in select(registry.get(model_id), formats):
        path = fetch(art, settings=settings, mirrors=mirrors, offline=offline, progress=progress)
        paths.append(copy_atomic(path, Path(to) / safe_name(art.file), sha256=art.sha256) if to is not None else path)
    return paths


def write_mirror(
    registry: Registry,
    directory: Path,
    model_ids: Sequence[str] | None = None,
    *,
    formats: Sequence[str] = ("tflite",),
    settings: Settings | None = None,
    mirrors: Sequence[str] = (),
    offline: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Write ``<directory>/<model id>/<file>`` (``<model id>/<version>/<file>`` for a model with
    ``versions:``) for the models (``ID`` or ``ID@V``; default: all), from the cache (fetching what
    is missing unless offline), so an air-gapped site can serve it with ``--mirror``."""
    written = []
    for model_id in model_ids or list(registry.models):
        model = registry.get(model_id)
        target = Path(directory) / safe_name(model.id, "model id")
        target = target / safe_name(model.version, "version") if model.artifacts[0].versioned else target
        written += pull(registry, model_id, formats=formats, to=target, settings=settings, mirrors=mirrors,
                        offline=offline, progress=progress)
    return written
