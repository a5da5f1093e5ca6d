"""zoo: pull verified model-zoo artifacts and keep model cards true to the files they link.

The ``zoo`` command is a thin layer over this API; a release script calls the same functions::

    import zoo

    report = zoo.verify(["osnet_a025"], strict=True)   # pull, then check the card against the file
    report.write_junit("verify.xml")
    report.raise_for_status()                          # VerificationFailed (exit code 1) if a check failed

Functions: ``pull``, ``fetch``, ``verify``, ``evaluate``, ``inspect``, ``footprint``, ``render_card``,
``import_card``, ``validate``, ``publish``, ``load_registry``, ``resolve``. Settings (``Settings.from_env()``)
default to the environment the command reads. Errors: ``ZooError`` and its subclasses, each with its ``exit_code``.
Extension points: ``register_source(scheme, factory)`` for a new kind of location and
``configure_http_session(factory)`` for every HTTP request (CA bundle, proxies, auth).

Names resolve on first use, so ``import zoo`` stays as cheap as a bare interpreter.
"""

from __future__ import annotations

__version__ = "0.1.0"

_HOMES = {
    **dict.fromkeys(("pull", "fetch", "verify", "evaluate", "inspect", "footprint", "render_card", "import_card",
                     "load_registry", "resolve", "validate", "publish"), "zoo.api"),
    **dict.fromkeys(("ZooError", "UsageError", "ConfigError", "InvalidDataError", "FileAccessError",
                     "RuntimeMissingError", "ModelFileError", "IntegrityError", "SignatureError", "VerificationFailed",
                     "SourceUnavailableError", "OfflineError", "SourceError", "NetworkError", "DatasetError"),
                    "zoo.core.errors"),
    "Settings": "zoo.core.settings",
    "VerifyReport": "zoo.verification.report",
    "Pulled": "zoo.artifacts.fetching",
    "register_source": "zoo.artifacts.sources",
    "configure_http_session": "zoo.artifacts.sources",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    value = getattr(__import__(home, fromlist=[name]), name)  # the builtin: importlib costs ~7 ms to import
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
