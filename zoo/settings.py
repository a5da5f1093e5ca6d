"""Settings read from the environment, in one place, once.

The CLI builds one ``Settings`` per run (environment, then its flags, ``with_flags``) and passes it down;
library callers may pass their own. No other module reads the environment.

- ``ZOO_CACHE_DIR``: cache root (default: the platform's user cache dir for ``zoo``).
- ``ZOO_REGISTRY``: registry file or folder to use instead of the shipped one.
- ``ZOO_MIRROR``: comma-separated mirrors (URL or folder) tried before the registry's sources.
- ``ZOO_OFFLINE``: ``1``/``true`` forbids all network access.
- ``ZOO_HTTP_TIMEOUT``: seconds to wait for a connection or for the next bytes (default 30).
- ``ZOO_HTTP_RETRIES``: retries on connection errors and 5xx answers, with backoff (default 3).
- ``HF_TOKEN`` / ``HF_ENDPOINT``: read by huggingface_hub itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from zoo.errors import ConfigError

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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        cache = env.get("ZOO_CACHE_DIR")
        registry = env.get("ZOO_REGISTRY")
        mirrors = tuple(m.strip() for m in env.get("ZOO_MIRROR", "").split(",") if m.strip())
        return cls(
            cache_dir=Path(cache).expanduser() if cache else default_cache_dir(),
            registry=Path(registry).expanduser() if registry else None,
            mirrors=mirrors,
            offline=_flag(env, "ZOO_OFFLINE"),
            http_timeout=_number(env, "ZOO_HTTP_TIMEOUT", 30.0),
            http_retries=int(_number(env, "ZOO_HTTP_RETRIES", 3, int)),
        )

    def with_flags(self, *, mirrors: Sequence[str] = (), offline: bool = False,
                   registry: str | Path | None = None) -> "Settings":
        """These settings with command-line flags on top: ``--mirror`` goes first, ``--offline`` can only add.

        >>> s = Settings(cache_dir=Path("c"), mirrors=("m2",)).with_flags(mirrors=["m1"], offline=True)
        >>> s.mirrors, s.offline
        (('m1', 'm2'), True)
        """
        return replace(self, mirrors=(*mirrors, *self.mirrors), offline=self.offline or offline,
                       registry=Path(registry).expanduser() if registry else self.registry)

