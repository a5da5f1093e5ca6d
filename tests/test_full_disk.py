"""Issue 23, kind 8: a full disk. Each case runs zoo on a real 1 MiB tmpfs, mounted in a private mount namespace
(``unshare -m``, or ``unshare -rm`` for a user who is not root) that vanishes with the process.

What a user checks afterwards: one error line, no ``.NAME.PID.N.tmp`` left behind, the old file untouched, and a
card never without its README."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.core.resources import data_dir
from zoo.demo import bundled_mirror

PAGE = 4096


def _unshare() -> list[str] | None:
    """The command prefix that gives a private mount namespace where tmpfs can be mounted, or None."""
    if shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    probe = subprocess.run([*prefix, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt || mount -t tmpfs -o size=64k "
                            "tmpfs /tmp"], capture_output=True, timeout=30)
    return prefix if probe.returncode == 0 else None


UNSHARE = _unshare()
if UNSHARE is None:
    if os.environ.get("CI", "").lower() == "true":  # CI must run these: .ci/run runs as root, which can mount
        pytest.fail("full-disk tests need a tmpfs: run as root or allow unprivileged user namespaces", pytrace=False)
    pytest.skip("full-disk tests need `unshare` and permission to mount a tmpfs (root, or unprivileged user "
                "namespaces); run as root to include them", allow_module_level=True)

# Runs inside the namespace with the tmpfs mounted at argv[1]: prepares, fills the disk, runs zoo, reports.
_CHILD = r"""
import json, os, subprocess, sys
from pathlib import Path

disk, case, setup, command, leave = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]), int(sys.argv[5])
env = {**os.environ, **setup.get("env", {})}
for name, text in setup.get("files", {}).items():
    (disk / name).parent.mkdir(parents=True, exist_ok=True)
    (disk / name).write_text(text)
for argv in setup.get("before", []):
    subprocess.run([sys.executable, "-m", "zoo", *argv], env=env, check=True, capture_output=True, cwd=disk)
fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
block = b"\0" * 65536
try:
    while True:
        os.write(fd, block[: max(1, min(len(block), os.fstatvfs(fd).f_bavail * os.fstatvfs(fd).f_frsize))])
except OSError:
    pass
if leave:
    os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
os.close(fd)
before = {str(p.relative_to(disk)): p.read_bytes() for p in disk.rglob("*") if p.is_file() and p.name != "filler"}
done = subprocess.run([sys.executable, *setup.get("python", ["-m", "zoo"]), *command], env=env, capture_output=True, text=True, cwd=disk,
                      timeout=300)
after = {str(p.relative_to(disk)): p.read_bytes() for p in disk.rglob("*") if p.is_file() and p.name != "filler"}
print(json.dumps({"rc": done.returncode, "stderr": done.stderr, "stdout": done.stdout,
                  "files": sorted(after), "changed": sorted(k for k in after if before.get(k) != after[k])}))
"""


def _on_full_disk(tmp_path: Path, command: list[str], *, setup: dict | None = None, leave: int = 0) -> dict:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run([*UNSHARE, "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"', str(mount),
                           sys.executable, "-c", _CHILD, str(mount), "case", json.dumps(setup or {}),
                           json.dumps(command), str(leave)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "Traceback" not in result["stderr"], result["stderr"]
    assert not [f for f in result["files"] if f.endswith(".tmp") or ".tmp" in Path(f).name], result["files"]
    return result


def _one_line(result: dict, code: int = 2) -> str:
    assert result["rc"] == code, result
    lines = result["stderr"].strip().splitlines()
    assert len([line for line in lines if line.startswith("zoo: error:")]) >= 1
    return lines[-1]


MIRROR = str(bundled_mirror())


def test_verify_junit_on_a_full_disk_is_one_line_and_leaves_no_temporary(tmp_path: Path) -> None:
    result = _on_full_disk(tmp_path, ["verify", "osnet_demo", "--offline", "--mirror", MIRROR, "--junit", "v.xml"],
                           setup={"env": {"ZOO_CACHE_DIR": str(tmp_path / "cache")}})
    assert "No space left on device" in _one_line(result) and "v.xml" not in result["files"]


def test_card_writing_on_a_full_disk_leaves_the_card_as_it_was(tmp_path: Path) -> None:
    """What ``verify --write`` does with its measurements, on a disk with no room for the new card."""
    card = (data_dir("model_cards") / "osnet_demo" / "card.yaml").read_text()
    script = ("import sys\n"
              "from zoo.cards.card import read_card\n"
              "from zoo.cards.writing import write_records\n"
              "from zoo.core.errors import ZooError\n"
              "r = read_card('card.yaml').performance[0]\n"
              "try:\n"
              "    write_records(read_card('card.yaml'), [{**r, 'origin': 'measured', 'measured_on': {'kind': 'host', "
              "'runtime': 'x', 'cpu': 'y', 'threads': 1}}])\n"
              "except ZooError as exc:\n"
              "    sys.exit('zoo: error: ' + exc.lines()[0])\n")
    result = _on_full_disk(tmp_path, ["w.py"], setup={"files": {"card.yaml": card, "w.py": script}, "python": []})
    assert "No space left on device" in _one_line(result, 1) and result["changed"] == []


def test_cache_verify_on_a_full_disk_leaves_no_temporary(tmp_path: Path) -> None:
    env = {"ZOO_CACHE_DIR": "cache"}
    result = _on_full_disk(tmp_path, ["cache", "verify"],
                           setup={"env": env, "before": [["pull", "osnet_demo", "--offline", "--mirror", MIRROR]]})
    assert result["rc"] == 0, result  # every blob intact: a record that cannot be refreshed only costs speed
    assert "osnet_demo" in result["stdout"]


@pytest.mark.parametrize("room", ["none", "the card only"])
def test_import_card_on_a_full_disk_writes_both_files_or_neither(room: str, tmp_path: Path, capsys) -> None:
    from zoo.cli import main

    readme = (data_dir("model_cards") / "osnet_demo" / "README.md").read_text()
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "README.md").write_text(readme)
    assert main(["import-card", str(probe / "README.md"), "-o", str(tmp_path / "sizes")]) == 0
    capsys.readouterr()
    card_bytes = (tmp_path / "sizes" / "probe" / "card.yaml").stat().st_size
    leave = 0 if room == "none" else -(-card_bytes // PAGE) * PAGE
    result = _on_full_disk(tmp_path, ["import-card", "src/README.md", "-o", "out"],
                           setup={"files": {"src/README.md": readme}}, leave=leave)
    assert "No space left on device" in _one_line(result)
    assert not [f for f in result["files"] if f.startswith("out/")], result["files"]  # neither file
    assert result["changed"] == []
