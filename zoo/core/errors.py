"""One hierarchy of errors, each carrying the exit code the CLI maps it to.

Library callers catch these by type, or by the built-in they refine: a ``FileAccessError`` is an
``OSError``, a ``NetworkError`` a ``ConnectionError``, a ``UsageError`` or ``ConfigError`` a
``ValueError``. Each carries its facts as fields (``path``, ``url``, expected and actual sha256 and size),
so nobody parses a message. ``zoo.cli`` is the only place that turns them into exit codes and one-line
messages. Exit codes: 0 ok, 1 verification or integrity failure, 2 usage or configuration error,
3 network or source unavailable.

>>> err = IntegrityError("sha256 mismatch", expected_sha256="ab" * 32, actual_sha256="cd" * 32)
>>> err.exit_code, err.expected_sha256[:4], err.actual_sha256[:4]
(1, 'abab', 'cdcd')
>>> isinstance(FileAccessError("read-only", path="/tmp/x"), OSError)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


class ZooError(Exception):
    """Base class: a problem a user can act on, described in one line.

    ``reported`` marks an error whose report was already printed (a verify report, a validate listing):
    the CLI then only maps it to its exit code.
    """

    exit_code: ClassVar[int] = EXIT_USAGE

    def __init__(self, message: str, *, path: str | Path | None = None, reported: bool = False) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.reported = reported
        super().__init__(self.lines()[0] if self.lines() else message)

    def lines(self) -> list[str]:
        """The message as the lines a person should read, each naming the file when there is one."""
        return [f"{self.path}: {self.message}" if self.path else self.message]

    def __str__(self) -> str:  # the first line, also for the built-ins mixed in (OSError would print errno)
        return str(self.args[0]) if self.args else self.message


class UsageError(ZooError, ValueError):
    """The command was asked for something that cannot be done (unknown model id, bad option)."""


class ConfigError(ZooError, ValueError):
    """A configuration file or setting is unusable (registry, card, environment variable)."""


class InvalidDataError(ConfigError):
    """A data file breaks its schema or its own rules; carries every problem, not just the first."""

    def __init__(self, problems: Sequence[str], *, path: str | Path | None = None, reported: bool = False) -> None:
        self.problems = list(problems)
        super().__init__(self.problems[0] if self.problems else "invalid", path=path, reported=reported)

    def lines(self) -> list[str]:
        """``file:line: pointer: message`` (the form editors jump to) when a problem starts with its line."""
        if not self.path:
            return list(self.problems)
        return [f"{self.path}:{p}" if p[:1].isdigit() else f"{self.path}: {p}" for p in self.problems]


class FileAccessError(ZooError, OSError):
    """A file or folder zoo must read or write is unusable: read-only, not a folder, a special file, disk full."""

    def __init__(self, message: str, *, path: str | Path | None = None, reported: bool = False) -> None:
        super().__init__(message, path=path, reported=reported)
        self.filename = self.path  # what OSError handlers read


class RuntimeMissingError(ConfigError):
    """No interpreter for the model's format is installed."""


class ModelFileError(ConfigError):
    """A model file is malformed, truncated or not a model zoo can read."""


class IntegrityError(ZooError):
    """Bytes do not match what the registry promises (sha256 or size); the expected and actual facts are fields."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, path: str | Path | None = None, url: str | None = None,
                 expected_sha256: str | None = None, actual_sha256: str | None = None,
                 expected_size: int | None = None, actual_size: int | None = None, reported: bool = False) -> None:
        super().__init__(message, path=path, reported=reported)
        self.url = url
        self.expected_sha256, self.actual_sha256 = expected_sha256, actual_sha256
        self.expected_size, self.actual_size = expected_size, actual_size


class SignatureError(IntegrityError):
    """A file the registry wants signed is unsigned, signed by another key, or its signature covers other bytes."""


class VerificationFailed(ZooError):
    """One or more checks failed; the report says which (``VerifyReport.raise_for_status`` raises it)."""

    exit_code = EXIT_FAILED


class SourceUnavailableError(ZooError):
    """No source could deliver an artifact (network down, 404, offline mode)."""

    exit_code = EXIT_UNAVAILABLE


class OfflineError(SourceUnavailableError):
    """The artifact is not cached and the network is off (``--offline`` / ``ZOO_OFFLINE``)."""


class SourceError(SourceUnavailableError):
    """One source could not deliver (HTTP 404, timeout, missing file); ``fetch`` tries the next one."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url, self.status = url, status


class NetworkError(SourceError, ConnectionError):
    """The connection itself failed: refused, timed out, dropped mid-transfer, a proxy that said no."""


class DatasetError(InvalidDataError):
    """A re-ID dataset folder is unusable: unknown layout, no images, unparseable names, a bad manifest."""
