"""Starting the real servers the tests talk to on 127.0.0.1 (olah as a local hub, docker-registry): a free
port, a child process, and a bounded wait until it listens."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

GIT_ENV = {"GIT_AUTHOR_NAME": "zoo", "GIT_AUTHOR_EMAIL": "zoo@invalid", "GIT_COMMITTER_NAME": "zoo",
           "GIT_COMMITTER_EMAIL": "zoo@invalid"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True,
                          text=True).stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(proc: subprocess.Popen, port: int, what: str, seconds: float = 30) -> None:
    """Return once ``proc`` accepts connections on ``port``; fail the test if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{what} did not start")


def need_olah() -> Path:
    """olah's command (skip the test when olah or git is missing)."""
    olah_cli = Path(sys.executable).with_name("olah-cli")
    if not olah_cli.exists() or shutil.which("git") is None:
        pytest.skip("olah (the test extra) or git is not installed")
    return olah_cli


def olah(root: Path) -> Iterator[str]:
    """olah, offline, serving the git repositories under ``<root>/mirrors/models/<org>/<repo>``; yields its URL."""
    olah_cli = need_olah()
    (root / "mirrors" / "models").mkdir(parents=True, exist_ok=True)
    port = free_port()
    (root / "olah.toml").write_text(
        f'[basic]\nhost = "127.0.0.1"\nport = {port}\nrepos-path = "{root / "repos"}"\n'
        f'mirrors-path = ["{root / "mirrors"}"]\nmirror-netloc = "127.0.0.1:{port}"\n'
        f'mirror-lfs-netloc = "127.0.0.1:{port}"\n[accessibility]\noffline = true\n',
        encoding="utf-8",
    )
    proc = subprocess.Popen([str(olah_cli), "-c", "olah.toml"], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(proc, port, "olah")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
