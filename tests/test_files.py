"""The file layer: what a user sees of a file zoo replaced (mode, owner, link, BOM) and of one it must not."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from zoo.core.errors import FileAccessError
from zoo.core.files import copy_atomic, read_text, sha256_file, write_atomic


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "README.md", "hello\n")
        copy_atomic(tmp_path / "README.md", tmp_path / "copy.md")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "README.md").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "copy.md").stat().st_mode) == 0o640


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "card.yaml"
    path.write_text("old\n")
    path.chmod(0o664)
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n" and stat.S_IMODE(path.stat().st_mode) == 0o664
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_a_replaced_file_keeps_its_owner(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("old\n")
    os.chown(path, 1234, 4321)
    write_atomic(path, "new\n")
    assert (path.stat().st_uid, path.stat().st_gid) == (1234, 4321)


def test_a_symlink_stays_a_link_and_its_real_file_is_written(tmp_path):
    real = tmp_path / "shared" / "README.md"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "README.md"
    link.symlink_to(os.path.relpath(real, tmp_path))
    write_atomic(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"
    copy_atomic(tmp_path / "shared" / "README.md", tmp_path / "other.md")
    other = tmp_path / "other.md"
    assert not other.is_symlink() and other.read_text() == "new\n"


def test_a_read_only_file_is_refused_in_one_line_and_left_alone(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("mine\n")
    path.chmod(0o444)
    with pytest.raises(FileAccessError) as info:
        write_atomic(path, "theirs\n")
    assert info.value.exit_code == 2 and "read-only" in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(FileAccessError, match="read-only"):
        copy_atomic(tmp_path / "README.md", path)
    assert path.read_text() == "mine\n" and leftovers(tmp_path) == []


def test_a_bom_is_kept_and_reported(tmp_path):
    path = tmp_path / "README.md"
    path.write_bytes(b"\xef\xbb\xbf---\ntitle: x\n---\n")
    text, bom = read_text(path)
    assert (text, bom) == ("---\ntitle: x\n---\n", True)
    write_atomic(path, text + "more\n")
    assert path.read_bytes() == b"\xef\xbb\xbf---\ntitle: x\n---\nmore\n"
    write_atomic(path, "\ufeffonce\n")  # a caller that kept the BOM itself does not get two
    assert path.read_bytes() == b"\xef\xbb\xbfonce\n"
    plain = tmp_path / "plain.md"
    write_atomic(plain, "x\n")
    assert read_text(plain) == ("x\n", False) and plain.read_bytes() == b"x\n"


def test_a_folder_that_is_a_file_is_a_one_line_error(tmp_path):
    (tmp_path / "cache").write_text("not a folder")
    with pytest.raises(FileAccessError, match="cannot write: Not a directory"):
        write_atomic(tmp_path / "cache" / "x.json", "{}")
    with pytest.raises(FileAccessError, match="is a folder"):
        write_atomic(tmp_path, "x")


def test_a_full_disk_leaves_the_old_file_and_no_temporary(tmp_path):
    """RLIMIT_FSIZE makes writes fail with EFBIG as a full disk fails with ENOSPC (Python ignores SIGXFSZ)."""
    path = tmp_path / "README.md"
    path.write_text("old\n")
    script = textwrap.dedent(f"""
        import resource, sys
        from zoo.core.errors import FileAccessError
        from zoo.core.files import write_atomic
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        try:
            write_atomic({str(path)!r}, "x" * 1_000_000)
        except FileAccessError as exc:
            print(exc)
            sys.exit(2)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stdout.startswith(f"{path}: cannot write: File too large")
    assert path.read_text() == "old\n" and leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_special_files_are_refused_instead_of_read_forever(tmp_path):
    fifo = tmp_path / "model.tflite"
    os.mkfifo(fifo)  # nobody writes: reading it would block forever
    with pytest.raises(FileAccessError, match="not a regular file"):
        sha256_file(fifo)
    with pytest.raises(FileAccessError, match="not a regular file"):
        copy_atomic(fifo, tmp_path / "copy.tflite")
    if os.path.exists("/dev/zero"):
        with pytest.raises(FileAccessError, match="not a regular file"):
            sha256_file("/dev/zero")
    assert not (tmp_path / "copy.tflite").exists()
