"""fetch() against a real HTTP server on 127.0.0.1: each way a download goes right or wrong."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from httpserver import generated

from zoo.artifacts.cache import Cache
from zoo.core.errors import IntegrityError, OfflineError, SourceUnavailableError, UsageError
from zoo.artifacts.fetching import fetch
from zoo.catalog.registry import Artifact, load_registry
from zoo.core.resources import data_dir
from zoo.core.settings import Settings

pytestmark = pytest.mark.usefixtures("no_internet")

DATA = generated(300_000, seed=1)


def artifact(*sources: str, data: bytes = DATA, model_id: str = "gen", file: str = "gen_int8.tflite") -> Artifact:
    return Artifact(model_id, file, "tflite", "int8", len(data), hashlib.sha256(data).hexdigest(), tuple(sources))


def cache_files() -> list[Path]:
    """Blobs, views and partial downloads in the cache (locks and verdicts do not count)."""
    root = Settings.from_env().cache_dir
    return [p for d in ("blobs", "models", "partial") for p in (root / d).rglob("*") if not p.is_dir()]


def test_download_is_verified_cached_and_served_warm_without_requests(http_server):
    url = http_server.add("gen/gen_int8.tflite", DATA)
    path = fetch(artifact(url))
    assert path.read_bytes() == DATA
    assert path.name == "gen_int8.tflite" and path.parent.name == "gen"  # the browsable view
    assert path.resolve().name == hashlib.sha256(DATA).hexdigest()  # ... of the content-addressed blob
    requests_before = len(http_server.log)
    assert fetch(artifact(url)) == path
    assert len(http_server.log) == requests_before  # warm cache: not a single request


def test_a_registry_artifact_from_a_loopback_mirror(http_server):
    demo = load_registry().get("osnet_demo").artifact("tflite")
    data = (data_dir("registry") / demo.sources[0]).read_bytes()
    http_server.add(f"osnet_demo/{demo.file}", data)
    path = fetch(dataclasses.replace(demo, sources=()), mirrors=[http_server.url])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == demo.sha256 and path.stat().st_size == demo.size


def test_wrong_bytes_are_refused_and_the_next_source_is_tried(http_server):
    bad = http_server.add("bad/gen_int8.tflite", generated(len(DATA), seed=2))
    good = http_server.add("good/gen_int8.tflite", DATA)
    path = fetch(artifact(bad, good))
    assert path.read_bytes() == DATA
    assert len(http_server.gets("bad/gen_int8.tflite")) == 1


def test_only_wrong_bytes_is_an_integrity_error_naming_both_hashes(http_server):
    wrong = generated(len(DATA), seed=2)
    art = artifact(http_server.add("bad/gen_int8.tflite", wrong))
    with pytest.raises(IntegrityError) as info:
        fetch(art)
    assert art.sha256 in info.value.message
    assert hashlib.sha256(wrong).hexdigest() in info.value.message
    assert (info.value.expected_sha256, info.value.actual_sha256) == (art.sha256, hashlib.sha256(wrong).hexdigest())
    assert info.value.url.endswith("bad/gen_int8.tflite")
    assert cache_files() == []


def test_truncated_body_is_refused(http_server):
    with pytest.raises(IntegrityError, match="expected 300000"):
        fetch(artifact(http_server.add("t/gen_int8.tflite", DATA, "truncate")))
    assert cache_files() == []


def test_connection_dropped_mid_stream_resumes_with_range(http_server):
    path = fetch(artifact(http_server.add("d/gen_int8.tflite", DATA, "drop_once")))
    assert path.read_bytes() == DATA
    first, second = http_server.gets("d/gen_int8.tflite")
    assert first.range is None
    assert second.range is not None and int(second.range.removeprefix("bytes=").rstrip("-")) > 0


def test_partial_file_from_an_earlier_run_is_resumed(http_server):
    art = artifact(http_server.add("p/gen_int8.tflite", DATA))
    part = Cache(Settings.from_env().cache_dir).partial(art)
    part.write(DATA[:100_000])
    part.close()
    assert fetch(art).read_bytes() == DATA
    (request,) = http_server.gets("p/gen_int8.tflite")
    assert request.range == "bytes=100000-"


def test_server_ignoring_range_restarts_cleanly(http_server):
    art = artifact(http_server.add("n/gen_int8.tflite", DATA, "no_range"))
    part = Cache(Settings.from_env().cache_dir).partial(art)
    part.write(DATA[:100_000])
    part.close()
    assert fetch(art).read_bytes() == DATA


def test_stale_wrong_partial_does_not_fail_a_good_source(http_server):
    art = artifact(http_server.add("s/gen_int8.tflite", DATA))
    part = Cache(Settings.from_env().cache_dir).partial(art)
    part.write(b"\xff" * 100_000)  # garbage left by something else
    part.close()
    assert fetch(art).read_bytes() == DATA
    assert [r.range for r in http_server.gets("s/gen_int8.tflite")] == ["bytes=100000-", None]


def test_server_error_then_success_is_retried(http_server):
    assert fetch(artifact(http_server.add("e/gen_int8.tflite", DATA, "error_once"))).read_bytes() == DATA
    assert len(http_server.gets("e/gen_int8.tflite")) == 2


def test_404_everywhere_is_source_unavailable_listing_each_source(http_server, tmp_path):
    art = artifact(f"{http_server.url}/missing/gen_int8.tflite", str(tmp_path / "nothing.tflite"))
    with pytest.raises(SourceUnavailableError) as info:
        fetch(art)
    message = info.value.message
    assert info.value.exit_code == 3
    assert "HTTP 404" in message and "no such file" in message and "\n" not in message


def test_slow_server_times_out(http_server, monkeypatch):
    monkeypatch.setenv("ZOO_HTTP_TIMEOUT", "0.3")
    monkeypatch.setenv("ZOO_HTTP_RETRIES", "0")
    with pytest.raises(SourceUnavailableError, match="timed out"):
        fetch(artifact(http_server.add("slow/gen_int8.tflite", DATA, "slow")))


def test_redirect_is_followed(http_server):
    """Like github.com/<repo>/raw/<commit>/<path> answering with media.githubusercontent.com for LFS files."""
    http_server.add("media/gen_int8.tflite", DATA)
    http_server.redirects["/raw/gen_int8.tflite"] = "/media/gen_int8.tflite"
    assert fetch(artifact(f"{http_server.url}/raw/gen_int8.tflite")).read_bytes() == DATA
    assert [r.path for r in http_server.log] == ["/raw/gen_int8.tflite", "/media/gen_int8.tflite"]


def test_mirrors_come_first_in_order_then_zoo_mirror_then_sources(http_server, monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_MIRROR", f"{http_server.url}/env")
    source = http_server.add("upstream/gen_int8.tflite", DATA)
    fetch(artifact(source), mirrors=[f"{http_server.url}/first", str(tmp_path / "folder")])
    assert [r.path for r in http_server.log] == [
        "/first/gen/gen_int8.tflite",
        "/env/gen/gen_int8.tflite",
        "/upstream/gen_int8.tflite",
    ]


def test_folder_and_file_url_mirrors(tmp_path):
    (tmp_path / "mirror" / "gen").mkdir(parents=True)
    (tmp_path / "mirror" / "gen" / "gen_int8.tflite").write_bytes(DATA)
    assert fetch(artifact(), mirrors=[str(tmp_path / "mirror")]).read_bytes() == DATA
    other = Settings(cache_dir=tmp_path / "other-cache")
    assert fetch(artifact(), settings=other, mirrors=[(tmp_path / "mirror").as_uri()]).read_bytes() == DATA


def test_offline_serves_the_cache_and_never_touches_the_network(http_server):
    url = http_server.add("o/gen_int8.tflite", DATA)
    with pytest.raises(OfflineError, match="offline"):
        fetch(artifact(url), offline=True)
    assert http_server.log == []
    path = fetch(artifact(url))
    assert fetch(artifact(url), offline=True) == path
    assert len(http_server.log) == 1


@pytest.mark.parametrize("field", ["file", "model_id"])
@pytest.mark.parametrize("name", ["../escape.tflite", "/tmp/abs.tflite", "a/b.tflite", "..", "a\\b.tflite"])
def test_names_that_could_escape_the_cache_are_refused(tmp_path, field, name):
    (tmp_path / "src.tflite").write_bytes(DATA)
    kwargs = {"model_id": "gen", "file": "gen_int8.tflite", field: name}
    with pytest.raises(UsageError, match="unsafe"):
        fetch(artifact(str(tmp_path / "src.tflite"), **kwargs))
    assert not (tmp_path / "escape.tflite").exists() and not Path("/tmp/abs.tflite").exists()


def test_a_compressed_body_is_refused_not_taken_for_the_file(http_server):
    """We ask for identity; a server that gzips anyway is not serving the file's bytes."""
    with pytest.raises(SourceUnavailableError, match="gzip-encoded body"):
        fetch(artifact(http_server.add("z/gen_int8.tflite", DATA, "gzip")))
    assert cache_files() == []


def test_an_endless_body_is_cut_off_at_the_expected_size(http_server):
    with pytest.raises(IntegrityError, match="more than the expected 300000 bytes"):
        fetch(artifact(http_server.add("inf/gen_int8.tflite", DATA, "endless")))
    assert cache_files() == []


def test_a_redirect_loop_is_named_as_such(http_server):
    http_server.redirects["/loop/a"] = "/loop/b"
    http_server.redirects["/loop/b"] = "/loop/a"
    with pytest.raises(SourceUnavailableError, match="TooManyRedirects"):
        fetch(artifact(f"{http_server.url}/loop/a"))


def test_a_refused_connection_is_named_as_such(http_server):
    http_server.stop()
    with pytest.raises(SourceUnavailableError, match="connection failed"):
        fetch(artifact(f"{http_server.url}/gone/gen_int8.tflite"))


def test_a_refused_connection_is_a_connection_error_carrying_its_url(http_server):
    from zoo.core.errors import NetworkError

    http_server.stop()
    url = f"{http_server.url}/gone/gen_int8.tflite"
    with pytest.raises(ConnectionError) as info:  # a caller may catch the built-in
        fetch(artifact(url))
    assert isinstance(info.value, NetworkError) and info.value.url == url and info.value.exit_code == 3


def test_a_replaced_session_factory_carries_every_request(http_server):
    """A company proxy or CA bundle is one factory, not a patch to zoo: here it adds a header the server sees."""
    from zoo.artifacts.sources import configure_http_session, default_session

    def company(settings):
        session = default_session(settings)
        session.headers["Authorization"] = "Bearer corp-token"
        return session

    configure_http_session(company)
    try:
        path = fetch(artifact(http_server.add("corp/gen_int8.tflite", DATA)))
    finally:
        configure_http_session(None)
    assert path.read_bytes() == DATA
    assert [r.authorization for r in http_server.gets("corp/gen_int8.tflite")] == ["Bearer corp-token"]


def test_a_registered_scheme_delivers_through_the_same_verified_cache(tmp_path):
    """A new kind of location is one registration; hashing, size checks and the cache stay zoo's."""
    from zoo.artifacts.sources import register_source

    class Bucket:
        network = True

        def __init__(self, location, settings):
            self.location = location

        def download(self, part):
            part.write(DATA if "good" in self.location else DATA[::-1])

    register_source("bucket", Bucket)
    assert fetch(artifact("bucket://models/bad", "bucket://models/good")).read_bytes() == DATA
    with pytest.raises(IntegrityError):
        fetch(artifact("bucket://models/bad", data=DATA[:1000] + b"x"))
    with pytest.raises(ValueError, match="not a URL scheme"):
        register_source("Bad Scheme", Bucket)
