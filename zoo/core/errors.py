"""One hierarchy of errors, each carrying the exit code the CLI maps it to.

Library callers catch these by type; ``zoo.cli`` is the only place that turns them into exit codes and
one-line messages. Exit codes: 0 ok, 1 verification or integrity failure, 2 usage or configuration
error, 3 network or source unavailable.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


class ZooError(Exception):
    """Base class: a problem a user can act on, described in one line."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        super().__init__(self.lines()[0] if self.lines() else message)

    def lines(self) -> list[str]:
        """The message as the lines a person should read, each naming the file when there is one."""
        return [f"{self.path}: {self.message}" if self.path else self.message]


class UsageError(ZooError):
    """The command was asked for something that cannot be done (unknown model id, bad option)."""


class ConfigError(ZooError):
    """A configuration file or setting is unusable (registry, card, environment variable)."""


class InvalidDataError(ConfigError):
    """A data file breaks its schema or its own rules; carries every problem, not just the first."""

    def __init__(self, problems: Sequence[str], *, path: str | Path | None = None) -> None:
        self.problems = list(problems)
        super().__init__(self.problems[0] if self.problems else "invalid", path=path)

    def lines(self) -> list[str]:
        """``file:line: pointer: message`` (the form editors jump to) when a problem starts with its line."""
        if not self.path:
            return list(self.problems)
        return [f"{self.path}:{p}" if p[:1].isdigit() else f"{self.path}: {p}" for p in self.problems]


class FileAccessError(ZooError):
    """A file or folder zoo must read or write is unusable: read-only, not a folder, a special file, disk full."""


class RuntimeMissingError(ConfigError):
    """No TFLite interpreter is installed."""


class ModelFileError(ConfigError):
    """A model file is malformed, truncated or not a TFLite flatbuffer."""


class IntegrityError(ZooError):
    """Bytes do not match what the registry promises (sha256 or size)."""

    exit_code = EXIT_FAILED


class VerificationFailed(ZooError):
    """One or more checks failed; the report says which."""

    exit_code = EXIT_FAILED


class SourceUnavailableError(ZooError):
    """No source could deliver an artifact (network down, 404, offline mode)."""

    exit_code = EXIT_UNAVAILABLE


class OfflineError(SourceUnavailableError):
    """The artifact is not cached and the network is off (``--offline`` / ``ZOO_OFFLINE``)."""


class SourceError(SourceUnavailableError):
    """One source could not deliver (HTTP 404, timeout, missing file); ``fetch`` tries the next one."""


class DatasetError(InvalidDataError):
    """A re-ID dataset folder is unusable: unknown layout, no images, unparseable names, a bad manifest."""
