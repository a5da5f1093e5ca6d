"""Several artifacts at once and one large artifact in byte ranges, on a loopback server that honours Range.

Every download still ends in one sha256 over every byte in order: the files are compared with what was served.
"""

from __future__ import annotations

import hashlib

import pytest
from httpserver import generated, write_registry

from zoo.catalog.registry import Artifact, load_registry
from zoo.cli import main
from zoo.core.errors import IntegrityError
from zoo.core.settings import Settings
from zoo.artifacts.cache import Cache
from zoo.artifacts.fetching import fetch, write_mirror
from zoo.artifacts.ranges import SEGMENT_MIN, segment_bounds

pytestmark = pytest.mark.usefixtures("no_internet")

BIG = generated(5 * SEGMENT_MIN + 12_345, seed=24)  # five full segments and a short one at 4 connections' minimum


def artifact(url: str, data: bytes = BIG, file: str = "big_int8.tflite") -> Artifact:
    return Artifact("big", file, "tflite", "int8", len(data), hashlib.sha256(data).hexdigest(), (url,))


def ranges(server, path: str) -> list[str | None]:
    return [r.range for r in server.gets(path)]


def settings(connections: int) -> Settings:
    return Settings.from_env().with_flags(connections=connections)


def test_a_large_artifact_arrives_in_ranges_over_several_connections(http_server):
    http_server.delay = 0.3  # each body takes that long, so the connections overlap
    path = fetch(artifact(http_server.add("big.tflite", BIG, "slow_body")), settings=settings(4))
    assert path.read_bytes() == BIG
    bounds = segment_bounds(len(BIG), 4)
    asked = ranges(http_server, "big.tflite")
    assert sorted(asked) == sorted(f"bytes={a}-{b - 1}" for a, b in bounds)  # each segment once, nothing twice
    assert asked[0] == f"bytes=0-{bounds[0][1] - 1}"  # the first answer decides whether ranges are used
    assert 2 <= http_server.most_in_flight <= 4
    assert not list((Settings.from_env().cache_dir / "partial").iterdir())  # no segment left behind


def test_each_range_cut_mid_body_is_resumed_on_its_own(http_server):
    path = fetch(artifact(http_server.add("cut.tflite", BIG, "drop_each_range_once")), settings=settings(3))
    assert path.read_bytes() == BIG
    asked = ranges(http_server, "cut.tflite")
    for start, end in segment_bounds(len(BIG), 3):
        mine = [r for r in asked if int(r.removeprefix("bytes=").split("-")[0]) in range(start, end)]
        assert mine[0] == f"bytes={start}-{end - 1}" and len(mine) == 2  # cut once, then only the rest of it
        resumed = int(mine[1].removeprefix("bytes=").split("-")[0])
        assert start < resumed < end and mine[1].endswith(f"-{end - 1}")


def test_a_server_that_refuses_ranges_gets_one_connection(http_server):
    path = fetch(artifact(http_server.add("whole.tflite", BIG, "no_range")), settings=settings(4))
    assert path.read_bytes() == BIG
    assert len(http_server.gets("whole.tflite")) == 1 and http_server.most_in_flight == 1


def test_one_connection_asks_for_no_range(http_server, monkeypatch):
    monkeypatch.setenv("ZOO_HTTP_CONNECTIONS", "1")
    assert fetch(artifact(http_server.add("one.tflite", BIG))).read_bytes() == BIG
    assert ranges(http_server, "one.tflite") == [None]


def test_a_resumed_ranged_download_keeps_the_prefix_and_the_fetched_segments(http_server):
    art = artifact(http_server.add("resume.tflite", BIG))
    bounds = segment_bounds(len(BIG), 4)
    part = Cache(Settings.from_env().cache_dir).partial(art)
    part.write(BIG[:1000])
    part.close()
    start, end = bounds[2]
    part.ranges_folder.mkdir(parents=True)
    (part.ranges_folder / f"{start}-{end}").write_bytes(BIG[start:end])  # a whole segment an earlier run fetched
    (part.ranges_folder / "7-9").write_bytes(b"xx")  # one of another plan: dropped
    assert fetch(art, settings=settings(4)).read_bytes() == BIG
    asked = ranges(http_server, "resume.tflite")
    assert asked[0] == f"bytes=1000-{bounds[0][1] - 1}" and f"bytes={start}-{end - 1}" not in asked


def test_wrong_bytes_over_ranges_are_refused_and_nothing_is_kept(http_server):
    wrong = bytearray(BIG)
    wrong[3 * SEGMENT_MIN + 5] ^= 1  # one bit in a segment a worker fetches
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        fetch(artifact(http_server.add("wrong.tflite", bytes(wrong))), settings=settings(4))
    assert not list((Settings.from_env().cache_dir / "partial").iterdir())


def test_a_mirror_fetches_several_artifacts_at_once_within_the_bound(http_server, tmp_path):
    http_server.delay = 0.4
    files = {f"m{i}": generated(50_000, seed=i) for i in range(5)}
    registry = write_registry(tmp_path / "registry.yaml", {
        mid: [{"file": f"{mid}.tflite", "data": data, "sources": [http_server.add(f"{mid}.tflite", data, "slow_body")]}]
        for mid, data in files.items()})
    paths = write_mirror(load_registry(registry), tmp_path / "airgap", settings=settings(2))
    assert [p.read_bytes() for p in paths] == list(files.values())
    assert http_server.most_in_flight == 2  # overlapping, and never more than --connections


def test_connections_option_and_variable_are_checked(tmp_path, monkeypatch, capsys):
    assert main(["pull", "osnet_demo", "--connections", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--connections='0' is not a number of connections from 1 to 32" in err[0]
    monkeypatch.setenv("ZOO_HTTP_CONNECTIONS", "many")
    assert main(["pull", "osnet_demo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ZOO_HTTP_CONNECTIONS='many'" in err[0]


def test_cache_clean_removes_ranges_left_by_an_interrupted_run(http_server):
    art = artifact(http_server.add("left.tflite", BIG))
    cache = Cache(Settings.from_env().cache_dir)
    part = cache.partial(art)
    part.write(BIG[:10])
    part.close()
    part.ranges_folder.mkdir(parents=True)
    (part.ranges_folder / "0-9").write_bytes(b"x" * 9)
    cache.clean()
    assert not list((cache.root / "partial").iterdir())
