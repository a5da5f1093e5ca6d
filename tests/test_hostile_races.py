"""Issue 23, kinds 9 and 10: `zoo cache clean` while other commands use the cache, a lock holder that never ends
(SIGSTOP), a FIFO where the lock file should be, and a sandbox child that cannot be started.

Processes are synchronised by pipes (a holder says it holds, a waiter says it waits), never by sleeping."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.catalog.registry import load_registry
from zoo.demo import bundled_mirror
from helpers import zoo

MIRROR = str(bundled_mirror())
DEMO = load_registry().get("osnet_demo").artifact("tflite")





def _python(script: str, env: dict) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})


@pytest.fixture
def cache(tmp_path: Path) -> dict:
    env = {"ZOO_CACHE_DIR": str(tmp_path / "cache")}
    assert zoo("pull", "osnet_demo", "--offline", "--mirror", MIRROR, **env).returncode == 0
    return env


USER = f"""
import sys
from zoo.artifacts.fetching import fetch
from zoo.catalog.registry import load_registry
from zoo.core.files import sha256_file
art = load_registry().get("osnet_demo").artifact("tflite")
path = fetch(art, mirrors=[{MIRROR!r}], offline=True)
print(path, flush=True)
sys.stdin.read()  # uses the file until the test closes stdin
print(sha256_file(path) == art.sha256, flush=True)
"""


def test_clean_leaves_an_entry_another_process_is_using(cache: dict) -> None:
    user = _python(USER, cache)
    path = Path(user.stdout.readline().strip())
    cleaned = zoo("cache", "clean", "--json", **cache)
    report = json.loads(cleaned.stdout)
    assert cleaned.returncode == 0 and report["removed"] == [], cleaned.stdout
    assert [e["sha256"] for e in report["kept"]] == [DEMO.sha256], report  # and the user is told why
    assert "another zoo process is using it" in cleaned.stderr
    assert path.exists()
    out, _ = user.communicate("", timeout=120)
    assert out.strip() == "True"  # the user read every byte it was handed
    again = zoo("cache", "clean", **cache)
    assert again.returncode == 0 and not path.exists()  # once nobody uses it, clean removes it


CLEANER = """
import sys
from pathlib import Path
from zoo.artifacts.cache import Cache
from zoo.core.errors import ZooError
cache = Cache(Path(sys.argv[1]))
print("cleaning", flush=True)
for _ in range(100_000):  # bounded; the test stops it long before
    cache.clean()
"""


@pytest.mark.parametrize("command", [
    ("verify", "osnet_demo", "--offline", "--mirror", MIRROR),
    ("bench", "osnet_demo", "--offline", "--mirror", MIRROR, "--min-seconds", "0.3", "--min-runs", "5"),
    ("cache", "verify"),
    ("cache", "list"),
    ("pull", "osnet_demo", "--offline", "--mirror", MIRROR),
])
def test_commands_run_while_the_cache_is_cleaned_over_and_over(command, cache: dict) -> None:
    """`zoo cache clean` during verify gave false FAILs and FileNotFoundError tracebacks; bench failed every time."""
    cleaner = subprocess.Popen([sys.executable, "-c", CLEANER, cache["ZOO_CACHE_DIR"]], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, **cache})
    try:
        assert cleaner.stdout.readline().strip() == "cleaning"
        for _ in range(3):
            done = zoo(*command, **cache)
            assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
            assert "FAIL" not in done.stdout and "not a loadable model" not in done.stdout
    finally:
        cleaner.kill()
        _, err = cleaner.communicate(timeout=60)
    assert "Traceback" not in err, err  # the cleaner never tripped over the commands either


HOLDER = f"""
import sys
from pathlib import Path
from zoo.artifacts.cache import Cache
with Cache(Path(sys.argv[1])).lock({DEMO.sha256!r}):
    print("held", flush=True)
    sys.stdin.read()
"""


def _holder(env: dict) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, env["ZOO_CACHE_DIR"]], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, **env})
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.mark.parametrize("how", ["option", "environment", "stopped holder"])
def test_a_lock_wait_says_whom_it_waits_for_and_gives_up_after_its_bound(how: str, tmp_path: Path) -> None:
    env = {"ZOO_CACHE_DIR": str(tmp_path / "cache")}
    holder = _holder(env)
    try:
        if how == "stopped holder":
            os.kill(holder.pid, signal.SIGSTOP)
        args = ["pull", "osnet_demo", "--offline", "--mirror", MIRROR]
        if how == "environment":
            done = zoo(*args, timeout=60, **env, ZOO_LOCK_TIMEOUT="0.5")
        else:
            done = zoo(*args, "--lock-timeout", "0.5", timeout=60, **env)
        assert done.returncode == 3, done.stderr
        lines = done.stderr.strip().splitlines()
        assert lines[0].startswith("zoo: waiting for pid") and f"pid {holder.pid}" in lines[0]
        assert lines[-1].startswith("zoo: error:") and f"pid {holder.pid}" in lines[-1] and "gave up" in lines[-1]
        assert "Traceback" not in done.stderr and len(lines) == 2
    finally:
        if how == "stopped holder":
            os.kill(holder.pid, signal.SIGCONT)
        holder.communicate("", timeout=60)


def test_a_waiting_pull_goes_on_the_moment_the_holder_lets_go(tmp_path: Path) -> None:
    env = {"ZOO_CACHE_DIR": str(tmp_path / "cache")}
    holder = _holder(env)
    pull = subprocess.Popen([sys.executable, "-m", "zoo", "pull", "osnet_demo", "--offline", "--mirror", MIRROR],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    assert "waiting for" in pull.stderr.readline()
    holder.communicate("", timeout=60)  # lets go
    out, err = pull.communicate(timeout=120)
    assert pull.returncode == 0 and out.strip().endswith(DEMO.file), err


@pytest.mark.parametrize("kind", ["fifo", "folder", "symlink"])
def test_a_lock_path_that_is_no_regular_file_is_refused_in_one_line(kind: str, tmp_path: Path) -> None:
    env = {"ZOO_CACHE_DIR": str(tmp_path / "cache")}
    lock = tmp_path / "cache" / "locks" / f"{DEMO.sha256}.lock"
    lock.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(lock)
    elif kind == "folder":
        lock.mkdir()
    else:
        (tmp_path / "elsewhere").write_text("someone else's file\n")
        lock.symlink_to(tmp_path / "elsewhere")
    done = zoo("pull", "osnet_demo", "--offline", "--mirror", MIRROR, timeout=60, **env)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"zoo: error: {lock}")
    if kind == "symlink":
        assert (tmp_path / "elsewhere").read_text() == "someone else's file\n"


def test_a_sandbox_child_that_cannot_start_is_one_line(tmp_path: Path, monkeypatch) -> None:
    """No permission to execute the interpreter: the PermissionError escaped as a traceback."""
    from zoo.core.errors import FileAccessError
    from zoo.model.sandbox import ensure_runs

    interpreter = tmp_path / "python3"
    interpreter.write_text("#!/bin/sh\n")
    interpreter.chmod(0o644)  # not executable, even for root
    model = tmp_path / "m.tflite"
    model.write_bytes(Path(MIRROR, "osnet_demo", DEMO.file).read_bytes())
    monkeypatch.setattr(sys, "executable", str(interpreter))
    with pytest.raises(FileAccessError) as refused:
        ensure_runs(model)
    (line,) = refused.value.lines()
    assert line.startswith(str(interpreter)) and "Permission denied" in line
