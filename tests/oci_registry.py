"""Debian's ``docker-registry`` (CNCF Distribution 2.8) on 127.0.0.1 for the OCI tests: a temporary storage
folder, an htpasswd user, and its access log so a test can count what was uploaded.

Absent, the tests skip with one line saying how to get it; under ``CI=true`` they fail instead (``.ci/run``
installs it with apt).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import free_port, wait_listening

USER, PASSWORD = "zoo-ci", "s3cret-oci"
INSTALL = "Debian's docker-registry is not installed: apt-get install docker-registry apache2-utils (CI installs it)"


@dataclass
class OciRegistry:
    host: str
    log: Path

    def requests(self, method: str, path_part: str) -> int:
        """How many ``METHOD ...path_part...`` requests the registry has answered so far (its access log)."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return sum(1 for line in text.splitlines() if f'"{method} ' in line and path_part in line)


def _htpasswd_line() -> str:
    """A bcrypt htpasswd entry (Distribution reads only bcrypt): from htpasswd, else python's bcrypt."""
    if shutil.which("htpasswd"):
        out = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True, text=True)
        return out.stdout.strip()
    try:
        import bcrypt
    except ImportError:
        _missing()
    return f"{USER}:{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt()).decode()}"


# Read when the suite starts: conftest's isolation takes CI out of each test's environment.
UNDER_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _missing(why: str = INSTALL) -> None:
    if UNDER_CI:
        pytest.fail(why)
    pytest.skip(why)


def need_module(name: str, extra: str) -> None:
    """Skip (fail under CI) when an extra the release tests need is not installed."""
    try:
        __import__(name)
    except ImportError:
        _missing(f"{name} is not installed: pip install -e '.[{extra}]' (the test extra includes it)")


def start(root: Path) -> Iterator[OciRegistry]:
    """Run a registry storing under ``root`` until the generator is closed."""
    binary = shutil.which("docker-registry") or shutil.which("registry")
    if binary is None:
        _missing()
    (root / "htpasswd").write_text(_htpasswd_line() + "\n", encoding="utf-8")
    port = free_port()
    (root / "config.yml").write_text(
        "version: 0.1\n"
        "log: {level: info, accesslog: {disabled: false}}\n"
        f"storage: {{filesystem: {{rootdirectory: {root / 'storage'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
        f"auth: {{htpasswd: {{realm: zoo-tests, path: {root / 'htpasswd'}}}}}\n",
        encoding="utf-8",
    )
    log = root / "registry.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([binary, "serve", str(root / "config.yml")], stdout=out, stderr=subprocess.STDOUT)
    wait_listening(proc, port, "docker-registry")
    try:
        yield OciRegistry(f"127.0.0.1:{port}", log)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
