"""Settings read from the environment, in one place, once.

The CLI builds one ``Settings`` per run (environment, then its flags, ``with_flags``) and passes it down;
library callers may pass their own. No other module reads the environment.

- ``ZOO_CACHE_DIR``: cache root (default: the platform's user cache dir for ``zoo``).
- ``ZOO_REGISTRY``: registry file or folder to use. Without it (and without ``--registry``) the zoo is found
  from the current directory upward, as git finds a repository: the nearest folder holding ``registry.yaml``
  beside ``model_cards/`` (what ``zoo init`` makes). The bundled re-ID zoo is used only when none is found.
- ``ZOO_MIRROR``: comma-separated mirrors (URL or folder) tried before the registry's sources.
- ``ZOO_OFFLINE``: ``1``/``true`` forbids all network access.
- ``ZOO_HTTP_TIMEOUT``: seconds to wait for a connection or for the next bytes (default 30).
- ``ZOO_HTTP_RETRIES``: retries on connection errors and 5xx answers, with backoff (default 3).
- ``ZOO_HTTP_CONNECTIONS``: HTTP connections one run opens at once, for several artifacts or byte ranges of
  one large artifact (default 8, huggingface_hub's own number of download workers; 1 downloads one artifact at
  a time over one connection; also ``--connections``).
- ``ZOO_LOCK_TIMEOUT``: seconds a command waits for another one's download of the same file (default 600).
- ``ZOO_STRICT``: ``1`` makes ``zoo verify`` fail every check it could not run (also ``--strict``); ``0``
  keeps it lenient even in CI.
- ``CI``: ``true`` (set by CI services) makes verify strict unless ``ZOO_STRICT=0`` or ``--no-strict``: a
  release gate must not pass what it did not check. A lenient run in CI says on its last line what it skipped.
- ``HF_ENDPOINT``: the hub that ``hf://`` sources resolve against (default https://huggingface.co).
- ``HF_TOKEN``: found by huggingface_hub itself; only ever sent to an https endpoint.
- ``ZOO_OCI_USERNAME``, ``ZOO_OCI_PASSWORD``: credentials for ``oci://`` registries (pull and publish).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from zoo.core.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={env[name]!r} is not a boolean (use 1 or 0)")


def _number(env: Mapping[str, str], name: str, default: float, kind: type = float) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = kind(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ConfigError(f"{name}={value!r} is not a non-negative {kind.__name__}")
    return number


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A timeout: 0 would fail every request, nan and inf would wait forever."""
    value = _number(env, name, default)
    if not 0 < value < math.inf:
        raise ConfigError(f"{name}={env[name]!r} is not a positive, finite number of seconds")
    return value


def find_zoo(start: Path) -> Path | None:
    """The registry of the nearest zoo at or above ``start``: a folder with ``registry.yaml`` and ``model_cards/``.

    >>> import tempfile; root = Path(tempfile.mkdtemp())
    >>> (root / "model_cards" / "net").mkdir(parents=True); _ = (root / "registry.yaml").write_text("models: {}")
    >>> find_zoo(root / "model_cards" / "net") == root / "registry.yaml", find_zoo(root.parent)
    (True, None)
    """
    start = Path(start).absolute()
    for folder in (start, *start.parents):
        if (folder / "registry.yaml").is_file() and (folder / "model_cards").is_dir():
            return folder / "registry.yaml"
    return None


MAX_CONNECTIONS = 32  # more parallel connections than this only gets a client throttled or banned


def connection_count(text: str, name: str = "--connections") -> int:
    """A number of HTTP connections, 1 to ``MAX_CONNECTIONS``; anything else is a ``ConfigError`` naming ``name``.

    >>> connection_count("8")
    8
    """
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_CONNECTIONS:
        raise ConfigError(f"{name}={text.strip()!r} is not a number of connections from 1 to {MAX_CONNECTIONS}")
    return value


def default_cache_dir() -> Path:
    """The platform's user cache dir for zoo (imported lazily: platformdirs is only needed here)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("zoo", appauthor=False))


@dataclass(frozen=True)
class Settings:
    cache_dir: Path
    registry: Path | None = None
    mirrors: tuple[str, ...] = field(default_factory=tuple)
    offline: bool = False
    http_timeout: float = 30.0
    http_retries: int = 3
    http_connections: int = 8
    strict: bool = False
    lock_timeout: float = 600.0
    ci: bool = False
    hf_endpoint: str = "https://huggingface.co"
    oci_username: str | None = field(default=None, repr=False)
    oci_password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> "Settings":
        """The environment's settings; the registry is ``ZOO_REGISTRY``, else the zoo found from ``cwd`` up."""
        env = os.environ if env is None else env
        cache = env.get("ZOO_CACHE_DIR")
        registry = env.get("ZOO_REGISTRY")
        mirrors = tuple(m.strip() for m in env.get("ZOO_MIRROR", "").split(",") if m.strip())
        ci = env.get("CI", "").strip().lower() in _TRUE  # CI services set it; any other value is not CI
        return cls(
            cache_dir=Path(cache).expanduser() if cache else default_cache_dir(),
            registry=Path(registry).expanduser() if registry else find_zoo(Path.cwd() if cwd is None else cwd),
            mirrors=mirrors,
            offline=_flag(env, "ZOO_OFFLINE"),
            http_timeout=_seconds(env, "ZOO_HTTP_TIMEOUT", 30.0),
            http_retries=int(_number(env, "ZOO_HTTP_RETRIES", 3, int)),
            http_connections=connection_count(env.get("ZOO_HTTP_CONNECTIONS", "") or "8", "ZOO_HTTP_CONNECTIONS"),
            strict=_flag(env, "ZOO_STRICT") if env.get("ZOO_STRICT", "").strip() else ci,
            lock_timeout=_seconds(env, "ZOO_LOCK_TIMEOUT", 600.0),
            ci=ci,
            hf_endpoint=env.get("HF_ENDPOINT", "").strip().rstrip("/") or cls.hf_endpoint,
            oci_username=env.get("ZOO_OCI_USERNAME") or None,
            oci_password=env.get("ZOO_OCI_PASSWORD") or None,
        )

    def with_flags(self, *, mirrors: Sequence[str] = (), offline: bool = False, registry: str | Path | None = None,
                   strict: bool | None = None, connections: int | None = None,
                   lock_timeout: float | None = None) -> "Settings":
        """These settings with command-line flags on top: ``--mirror`` goes first, ``--offline`` adds,
        ``--strict``/``--no-strict`` (True/False) replace what the environment said (None keeps it), ``--connections`` replaces.

        >>> s = Settings(cache_dir=Path("c"), mirrors=("m2",), strict=True).with_flags(mirrors=["m1"], offline=True)
        >>> s.mirrors, s.offline, s.strict, s.with_flags(strict=False).strict
        (('m1', 'm2'), True, True, False)
        """
        return replace(self, mirrors=(*mirrors, *self.mirrors), offline=self.offline or offline,
                       registry=Path(registry).expanduser() if registry else self.registry,
                       strict=self.strict if strict is None else strict,
                       http_connections=self.http_connections if connections is None else
                       connection_count(str(connections)),
                       lock_timeout=self.lock_timeout if lock_timeout is None else lock_timeout)

