"""``zoo pull`` / ``mirror`` / ``cache`` against hostile or broken surroundings, as a user runs them (real
processes, a real loopback server): never a traceback, never a corrupt byte, never a lost download."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from httpserver import generated, write_registry
from helpers import one_line_error, zoo

pytestmark = pytest.mark.usefixtures("no_internet")

DATA = generated(200_000, seed=21)
SHA = hashlib.sha256(DATA).hexdigest()
REPO = Path(__file__).resolve().parent.parent








def local_registry(tmp_path: Path, data: bytes = DATA, sources: list[str] | None = None) -> Path:
    src = tmp_path / "upstream" / "g.tflite"
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(data)
    return write_registry(tmp_path / "r.yaml", {"gen": [{"file": "g.tflite", "data": data,
                                                           "sources": sources or [str(src)]}]})


def cache_dir() -> Path:
    return Path(os.environ["ZOO_CACHE_DIR"])


def flip_in_place(path: Path) -> None:
    """One byte flipped, size and mtime kept: what bit rot or a careless tool leaves behind."""
    st = path.stat()
    path.chmod(0o644)
    with open(path, "r+b") as fh:
        fh.seek(1234)
        byte = fh.read(1)
        fh.seek(1234)
        fh.write(bytes([byte[0] ^ 0x01]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@contextlib.contextmanager
def read_only(folder: Path):
    """Nobody may write under ``folder``. Root ignores modes, so there the immutable flag does it."""
    if os.geteuid() != 0:
        dirs = [folder, *(p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink())]
        for d in dirs:
            d.chmod(0o555)
        try:
            yield
        finally:
            for d in dirs:
                d.chmod(0o755)
        return
    paths = [str(p) for p in (folder, *folder.rglob("*")) if not p.is_symlink()]  # chattr refuses links
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", *paths], capture_output=True).returncode:
        pytest.skip("running as root without chattr: cannot make a folder read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *paths], check=True)


# ---- finding 3: a blob flipped in place is never handed out --------------------------------------------

def test_a_blob_flipped_in_place_with_size_and_mtime_kept_is_never_served(tmp_path):
    registry = local_registry(tmp_path)
    first = zoo("pull", "gen", "--registry", str(registry))
    assert first.returncode == 0, first.stderr
    flip_in_place(Path(first.stdout.strip()).resolve())
    again = zoo("pull", "gen", "--registry", str(registry), "--to", str(tmp_path / "out"))
    assert again.returncode == 0, again.stderr
    assert hashlib.sha256((tmp_path / "out" / "g.tflite").read_bytes()).hexdigest() == SHA
    assert hashlib.sha256(Path(first.stdout.strip()).read_bytes()).hexdigest() == SHA  # fetched again


def test_a_blob_flipped_between_the_check_and_the_copy_is_not_copied(tmp_path):
    from zoo.core.errors import IntegrityError
    from zoo.core.files import copy_atomic

    blob = tmp_path / "blob"
    blob.write_bytes(DATA)
    flip_in_place(blob)
    with pytest.raises(IntegrityError, match="changed since it was verified"):
        copy_atomic(blob, tmp_path / "out" / "g.tflite", sha256=SHA)
    assert not (tmp_path / "out" / "g.tflite").exists()


# ---- finding 6: OS errors are one line and exit 2 --------------------------------------------------------

def test_a_read_only_cache_serves_what_it_holds_and_refuses_to_download_in_one_line(tmp_path):
    registry = local_registry(tmp_path)
    assert zoo("pull", "gen", "--registry", str(registry)).returncode == 0
    other = write_registry(tmp_path / "o.yaml", {"other": [{"file": "o.tflite", "data": DATA[:1000],
                                                            "sources": [str(tmp_path / "o.tflite")]}]})
    (tmp_path / "o.tflite").write_bytes(DATA[:1000])
    with read_only(cache_dir()):
        warm = zoo("pull", "gen", "--registry", str(registry))
        cold = zoo("pull", "other", "--registry", str(other))
    assert warm.returncode == 0, warm.stderr
    assert hashlib.sha256(Path(warm.stdout.strip()).read_bytes()).hexdigest() == SHA
    assert str(cache_dir()) in one_line_error(cold, 2)


def test_a_read_only_target_folder_is_one_line(tmp_path):
    registry = local_registry(tmp_path)
    (tmp_path / "out").mkdir()
    with read_only(tmp_path / "out"):
        result = zoo("pull", "gen", "--registry", str(registry), "--to", str(tmp_path / "out"))
    assert str(tmp_path / "out") in one_line_error(result, 2)


def test_a_cache_dir_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "cache").write_text("not a folder")
    result = zoo("pull", "gen", "--registry", str(local_registry(tmp_path)), ZOO_CACHE_DIR=str(tmp_path / "cache"))
    assert "Not a directory" in one_line_error(result, 2)
    assert (tmp_path / "cache").read_text() == "not a folder"


def test_to_a_file_is_one_line_and_leaves_it_alone(tmp_path):
    (tmp_path / "target").write_text("mine")
    result = zoo("pull", "gen", "--registry", str(local_registry(tmp_path)), "--to", str(tmp_path / "target"))
    assert "not a folder" in one_line_error(result, 2)
    assert (tmp_path / "target").read_text() == "mine"


def _file_size_limit(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_full_disk_while_downloading_or_copying_is_one_line(tmp_path):
    """RLIMIT_FSIZE fails writes with EFBIG the way a full disk fails them with ENOSPC."""
    registry = local_registry(tmp_path)
    downloading = zoo("pull", "gen", "--registry", str(registry), preexec=_file_size_limit(50_000))
    assert "File too large" in one_line_error(downloading, 2)
    assert not list((cache_dir() / "blobs").rglob("*.tflite")) and not (cache_dir() / "models" / "gen").exists()
    assert zoo("pull", "gen", "--registry", str(registry)).returncode == 0  # resumes once there is room
    copying = zoo("pull", "gen", "--registry", str(registry), "--to", str(tmp_path / "out"),
                  preexec=_file_size_limit(50_000))
    assert "File too large" in one_line_error(copying, 2)
    assert not (tmp_path / "out" / "g.tflite").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []  # no temporary left behind


def test_cache_clean_during_a_pull_does_not_lose_the_download(http_server, tmp_path):
    from zoo.artifacts.partial import BUFFER

    data = generated(3 * BUFFER, seed=22)  # several reads, so the partial file grows while the pull runs
    sha = hashlib.sha256(data).hexdigest()
    http_server.delay = 3.0  # the body trickles in for three seconds
    url = http_server.add("gen/g.tflite", data, "slow_body")
    registry = write_registry(tmp_path / "r.yaml", {"gen": [{"file": "g.tflite", "data": data, "sources": [url]}]})
    with subprocess.Popen([sys.executable, "-m", "zoo", "pull", "gen", "--registry", str(registry)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as pull:
        partial = cache_dir() / "partial" / f"{sha}.part"
        deadline = time.monotonic() + 30
        while not (partial.exists() and partial.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.05)
        cleaned = zoo("cache", "clean")
        out, err = pull.communicate(timeout=60)
    assert cleaned.returncode == 0, cleaned.stderr
    assert pull.returncode == 0, err
    assert partial.exists() is False and hashlib.sha256(Path(out.strip()).read_bytes()).hexdigest() == sha
    assert len(http_server.gets("gen/g.tflite")) == 1


@pytest.mark.parametrize("value", ["0", "nan", "inf", "-1"])
def test_an_unusable_http_timeout_is_one_line(tmp_path, value):
    result = zoo("pull", "gen", "--registry", str(local_registry(tmp_path)), ZOO_HTTP_TIMEOUT=value)
    assert "ZOO_HTTP_TIMEOUT" in one_line_error(result, 2)


@pytest.mark.parametrize("source", ["/tmp/\\0evil.tflite", "../../../../etc/passwd", "http://127.0.0.1:9/a/../b"])
def test_a_nul_byte_or_dotdot_in_a_registry_source_is_one_line(tmp_path, source):
    registry = tmp_path / "r.yaml"
    registry.write_text(
        "schema_version: 1\nname: x\nmodels:\n  gen:\n    family: f\n    title: t\n    task: re_identification\n"
        "    artifacts:\n      - {file: g.tflite, format: tflite, precision: int8, size: 10,"
        f" sha256: '{'0' * 64}', sources: [\"{source}\"]}}\n", encoding="utf-8")
    result = zoo("pull", "gen", "--registry", str(registry))
    assert "source" in one_line_error(result, 2)


def test_junk_inside_blobs_is_ignored_by_every_cache_command(tmp_path):
    registry = local_registry(tmp_path)
    assert zoo("pull", "gen", "--registry", str(registry)).returncode == 0
    store = cache_dir() / "blobs" / "sha256"
    (store / "zz").mkdir()
    (store / "zz" / "notes.txt").write_text("junk")
    (store / SHA[:2] / ("f" * 64)).mkdir()  # a folder named like a blob, in the wrong place too
    (store / "stray-file").write_text("junk")
    listed = zoo("cache", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [e["sha256"] for e in json.loads(listed.stdout)["entries"]] == [SHA]
    verified = zoo("cache", "verify")
    assert verified.returncode == 0 and "Traceback" not in verified.stderr, verified.stderr
    cleaned = zoo("cache", "clean", "--json")
    assert cleaned.returncode == 0 and [e["sha256"] for e in json.loads(cleaned.stdout)["removed"]] == [SHA]


# ---- finding 7: credentials, special files ---------------------------------------------------------------

def test_a_password_in_a_mirror_url_is_never_printed_nor_stored(http_server, tmp_path):
    http_server.add("gen/g.tflite", DATA)
    mirror = http_server.url.replace("http://", "http://ci:hunter2secret@")
    dead = "http://127.0.0.1:9/g.tflite"  # never reached: the mirror comes first
    registry = write_registry(tmp_path / "r.yaml", {"gen": [{"file": "g.tflite", "data": DATA, "sources": [dead]}]})
    pulled = zoo("pull", "gen", "--registry", str(registry), "--mirror", mirror, "--json")
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["artifacts"][0]["source"].startswith("http://***@127.0.0.1:")
    outputs = [pulled.stdout + pulled.stderr]
    for args in (("cache", "list"), ("cache", "list", "--json"), ("cache", "verify")):
        result = zoo(*args)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    records = [p.read_text() for p in cache_dir().rglob("*.json")]
    assert records and all("hunter2secret" not in text for text in outputs + records)
    assert "***@127.0.0.1" in outputs[1]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_in_a_local_mirror_is_skipped_not_read_forever(tmp_path):
    registry = local_registry(tmp_path)
    (tmp_path / "site" / "gen").mkdir(parents=True)
    os.mkfifo(tmp_path / "site" / "gen" / "g.tflite")
    result = zoo("pull", "gen", "--registry", str(registry), "--mirror", str(tmp_path / "site"), timeout=30)
    assert result.returncode == 0, result.stderr
    remote = write_registry(tmp_path / "remote.yaml", {"gen": [{"file": "g.tflite", "data": DATA,
                                                                  "sources": ["http://127.0.0.1:9/g.tflite"]}]})
    alone = zoo("pull", "gen", "--registry", str(remote), "--mirror", str(tmp_path / "site"), "--offline",
                ZOO_CACHE_DIR=str(tmp_path / "fresh"), timeout=30)
    assert "not a regular file" in one_line_error(alone, 3)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "folder"])
def test_inspect_refuses_special_files(tmp_path, special):
    target = {"fifo": tmp_path / "m.tflite", "folder": tmp_path, "/dev/zero": Path("/dev/zero")}[special]
    if special == "fifo":
        os.mkfifo(target)
    if not target.exists():
        pytest.skip(f"{target} does not exist here")
    result = zoo("inspect", str(target), timeout=30)
    assert "not a regular file" in one_line_error(result, 2)


# ---- finding 8: say where bytes came from; one default ---------------------------------------------------

def test_pull_warns_about_a_source_that_served_wrong_bytes_and_names_the_one_that_delivered(http_server, tmp_path):
    http_server.add("gen/g.tflite", generated(len(DATA), seed=99))  # the mirror is wrong
    good = http_server.add("upstream/g.tflite", DATA)
    registry = write_registry(tmp_path / "r.yaml", {"gen": [{"file": "g.tflite", "data": DATA, "sources": [good]}]})
    result = zoo("pull", "gen", "--registry", str(registry), "--mirror", http_server.url, "--json")
    assert result.returncode == 0, result.stderr
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"zoo: warning: {http_server.url}/gen/g.tflite served wrong bytes for gen/g.tflite")
    assert f"{good} delivered the right ones" in warning
    assert json.loads(result.stdout)["artifacts"][0]["source"] == good


def test_mirror_and_pull_select_the_same_files_by_default(tmp_path):
    """The README's air-gap recipe: pull (tflite), then mirror offline from that cache."""
    keras = generated(1000, seed=5)
    (tmp_path / "k.keras").write_bytes(keras)
    src = tmp_path / "g.tflite"
    src.write_bytes(DATA)
    registry = write_registry(tmp_path / "r.yaml", {"gen": [
        {"file": "g.tflite", "data": DATA, "sources": [str(src)]},
        {"file": "g.keras", "format": "keras", "data": keras, "sources": [str(tmp_path / "k.keras")]},
    ]})
    assert zoo("pull", "gen", "--registry", str(registry)).returncode == 0
    src.unlink(), (tmp_path / "k.keras").unlink()
    result = zoo("mirror", str(tmp_path / "site"), "gen", "--registry", str(registry), "--offline")
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (tmp_path / "site" / "gen").iterdir()] == ["g.tflite"]


def test_the_example_ci_workflow_never_installs_pypis_unrelated_zoo():
    import yaml

    workflow = yaml.safe_load((REPO / "examples" / "ci" / "zoo-cards.yml").read_text(encoding="utf-8"))
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    installs = [line for run in runs for line in run.splitlines() if "pip install" in line]
    assert installs
    for line in installs:
        words = line.split("#")[0].split()
        assert "zoo" not in words and "zoo[test]" not in words, line  # a bare name resolves to PyPI's "zoo"


def test_building_the_cli_imports_no_interpreter_nor_numpy():
    """A warm pull is a registry read and a stat: numpy and LiteRT would add ~0.2 s to every command."""
    code = ("import sys, zoo.cli; zoo.cli.build_parser(); "
            "print(sorted(m for m in ('numpy', 'zoo.model.runtime', 'requests', 'filelock') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr
    from zoo.cli.common import KERNELS
    from zoo.model.runtime import KERNELS as RUNTIME_KERNELS

    assert KERNELS == RUNTIME_KERNELS


def test_a_command_builds_only_its_own_group_and_every_group_is_listed():
    """`zoo pull` imports and builds only the fetch group; `zoo --help` still lists every command."""
    import argparse

    import zoo.cli

    def commands(parser: argparse.ArgumentParser) -> set[str]:
        return {name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
                for name in action.choices}

    assert commands(zoo.cli.build_parser()) == set(zoo.cli.COMMANDS)
    for command, group in zoo.cli.COMMANDS.items():
        assert command in commands(zoo.cli.build_parser(command)), (command, group)
    code = ("import sys, zoo.cli; zoo.cli.build_parser('pull'); "
            "print(sorted(m for m in ('zoo.reid.protocols', 'zoo.cli.reid', 'zoo.cli.verify') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr
    shown = subprocess.run([sys.executable, "-m", "zoo", "--help"], capture_output=True, text=True, timeout=60).stdout
    assert all(command in shown for command in zoo.cli.COMMANDS), shown


def test_on_a_terminal_pull_says_which_source_delivered(tmp_path):
    from helpers import on_a_terminal

    registry = local_registry(tmp_path)
    shown = on_a_terminal("pull", "gen", "--registry", str(registry))
    assert f"gen/g.tflite: {len(DATA):,} bytes from {tmp_path / 'upstream' / 'g.tflite'}".encode() in shown


def test_a_read_only_cache_whose_records_are_stale_still_serves(tmp_path):
    """Records only save a re-hash: a read-only cache whose blob was touched (mtime moved) still serves it."""
    registry = local_registry(tmp_path)
    path = Path(zoo("pull", "gen", "--registry", str(registry)).stdout.strip())
    os.utime(path.resolve(), ns=(0, 10**18))  # the record no longer matches: a re-hash is needed
    for record in cache_dir().rglob("*.json"):
        record.write_text(record.read_text().replace('"gen/g.tflite"', '"gen/other.tflite"'))
    with read_only(cache_dir()):
        warm = zoo("pull", "gen", "--registry", str(registry))
        verified = zoo("cache", "verify")
    assert warm.returncode == 0, warm.stderr
    assert hashlib.sha256(Path(warm.stdout.strip()).read_bytes()).hexdigest() == SHA
    assert verified.returncode == 0 and "ok" in verified.stdout, verified.stderr
