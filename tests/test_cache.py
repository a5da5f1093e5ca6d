"""The cache: cheap checks on use catch a changed file, ``verify`` catches what they cannot, ``clean`` removes."""

from __future__ import annotations

import hashlib
import os

import pytest
from httpserver import generated

from zoo.artifacts.cache import Cache
from zoo.core.errors import IntegrityError
from zoo.artifacts.fetching import fetch
from zoo.catalog.registry import Artifact
from zoo.core.settings import Settings


def local_artifact(tmp_path, name: str, seed: int, model_id: str = "gen") -> Artifact:
    data = generated(50_000, seed)
    src = tmp_path / "src" / f"{model_id}-{name}"
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(data)
    return Artifact(model_id, name, "tflite", "int8", len(data), hashlib.sha256(data).hexdigest(), (str(src),))


def tamper(path, keep_mtime: bool) -> None:
    """Flip one byte in place, as disk rot or a stray editor would."""
    st = path.stat()
    os.chmod(path, 0o644)
    with open(path, "r+b") as fh:
        fh.seek(10)
        byte = fh.read(1)
        fh.seek(10)
        fh.write(bytes([byte[0] ^ 0xFF]))
    later = 0 if keep_mtime else 10**9  # filesystem clocks are coarse: make "changed later" explicit
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + later))


def test_a_changed_cached_file_is_noticed_on_use_and_fetched_again(tmp_path):
    art = local_artifact(tmp_path, "a.tflite", 1)
    path = fetch(art)
    tamper(path.resolve(), keep_mtime=False)
    again = fetch(art)
    assert hashlib.sha256(again.read_bytes()).hexdigest() == art.sha256


def test_verify_rehashes_and_removes_what_the_cheap_check_misses(tmp_path):
    good, bad = local_artifact(tmp_path, "good.tflite", 1), local_artifact(tmp_path, "bad.tflite", 2)
    fetch(good)
    bad_path = fetch(bad)
    tamper(bad_path.resolve(), keep_mtime=True)  # same size, same mtime: only a re-hash can tell
    cache = Cache(Settings.from_env().cache_dir)
    results = {entry.names: ok for entry, ok in cache.verify()}
    assert results == {("gen/good.tflite",): True, ("gen/bad.tflite",): False}
    assert not bad_path.exists() and [e.names for e in cache.entries()] == [("gen/good.tflite",)]
    assert hashlib.sha256(fetch(bad).read_bytes()).hexdigest() == bad.sha256


def test_clean_by_model_keeps_the_others(tmp_path):
    one, two = local_artifact(tmp_path, "x.tflite", 1, "one"), local_artifact(tmp_path, "x.tflite", 2, "two")
    fetch(one), fetch(two)
    cache = Cache(Settings.from_env().cache_dir)
    assert [e.names for e in cache.clean(["one"])] == [("one/x.tflite",)]
    assert [e.names for e in cache.entries()] == [("two/x.tflite",)]
    assert not (cache.root / "models" / "one").exists()
    cache.clean()
    assert cache.entries() == []


def test_one_blob_serves_every_name_with_the_same_bytes(tmp_path):
    art = local_artifact(tmp_path, "x.tflite", 1, "one")
    alias = Artifact("alias", "y.tflite", art.format, art.precision, art.size, art.sha256, art.sources)
    assert fetch(art).resolve() == fetch(alias).resolve()
    (entry,) = Cache(Settings.from_env().cache_dir).entries()
    assert entry.names == ("alias/y.tflite", "one/x.tflite")


def test_a_source_sending_too_much_is_cut_off(tmp_path):
    art = local_artifact(tmp_path, "x.tflite", 1)
    longer = tmp_path / "longer.tflite"
    longer.write_bytes(generated(art.size + 1, 1))
    with pytest.raises(IntegrityError, match="more than the expected"):
        fetch(Artifact(art.model_id, art.file, "tflite", "int8", art.size, art.sha256, (str(longer),)))


def test_progress_is_what_the_caller_passes_not_a_bar_of_the_cache(tmp_path):
    """Any tqdm-like class works; the cache calls it once per download and leaves drawing to it."""

    class Recorder:
        made: list = []

        def __init__(self, *, total: int, initial: int, desc: str) -> None:
            self.total, self.n, self.desc, self.closed = total, initial, desc, False
            Recorder.made.append(self)

        def update(self, n: int) -> None:
            self.n += n

        def reset(self, total: int | None = None) -> None:
            self.n = 0

        def close(self) -> None:
            self.closed = True

    art = local_artifact(tmp_path, "p.tflite", 3)
    fetch(art, progress=Recorder)
    (bar,) = Recorder.made
    assert (bar.desc, bar.n, bar.total, bar.closed) == ("p.tflite", art.size, art.size, True)
    fetch(art, progress=Recorder)  # warm: nothing to show
    assert len(Recorder.made) == 1


def test_clean_leaves_a_download_another_process_holds_and_a_killed_holder_frees_it(tmp_path):
    """The lock is held across processes: `cache clean` skips what a running pull holds, and a pull killed
    mid-download (no chance to unlock) does not block the next one."""
    import subprocess
    import sys

    cache = Cache(tmp_path / "cache")
    part = cache.root / "partial" / f"{'a' * 64}.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"half a download")
    hold = ("import time; from pathlib import Path; from zoo.artifacts.cache import Cache\n"
            f"with Cache(Path({str(cache.root)!r})).lock({'a' * 64!r}):\n"
            "    print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with cache.lock("a" * 64, wait=False) as free:
            assert not free
        cache.clean()
        assert part.exists()
    finally:
        holder.kill()
        holder.wait()
    with cache.lock("a" * 64, wait=False) as free:
        assert free
    cache.clean()
    assert not part.exists()
