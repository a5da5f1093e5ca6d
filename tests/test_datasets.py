"""Dataset layouts: detection, ids and cameras, and one-line errors that name the path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from zoo.reid.datasets import load_dataset
from zoo.core.errors import DatasetError


def write_images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.fromarray(np.full((8, 4, 3), 128, np.uint8)).save(folder / name)


def test_deepsportradar_layout_gives_queries_camera_0_and_gallery_camera_1(tmp_path):
    write_images(tmp_path / "reid_test" / "query", ["12_3_1.jpeg", "7_1_1.jpeg"])
    write_images(tmp_path / "reid_test" / "gallery", ["7_1_2.jpeg", "12_3_5.jpeg", "12_3_4.jpeg"])
    data = load_dataset(tmp_path)
    assert data.layout == "deepsportradar"
    assert [(i.path.name, i.pid, i.camid) for i in data.query] == [("12_3_1.jpeg", 12, 0), ("7_1_1.jpeg", 7, 0)]
    assert [i.path.name for i in data.gallery] == ["12_3_4.jpeg", "12_3_5.jpeg", "7_1_2.jpeg"]  # sorted
    assert {i.camid for i in data.gallery} == {1}


def test_market1501_drops_junk_keeps_distractors(tmp_path):
    write_images(tmp_path / "query", ["0002_c1s1_000451_03.jpg"])
    write_images(
        tmp_path / "bounding_box_test",
        ["-1_c1s1_000401_03.jpg", "0000_c2s1_000001_01.jpg", "0002_c3s2_000123_02.jpg"],
    )
    (tmp_path / "bounding_box_test" / "Thumbs.db").write_bytes(b"not an image, ignored")
    data = load_dataset(tmp_path)
    assert data.layout == "market1501"
    assert [(i.pid, i.camid) for i in data.query] == [(2, 1)]
    assert [(i.pid, i.camid) for i in data.gallery] == [(0, 2), (2, 3)]


def test_manifest_wins_and_carries_the_true_cameras(tmp_path):
    write_images(tmp_path / "reid_test" / "query", ["0001_1_00.jpg"])
    write_images(tmp_path / "reid_test" / "gallery", ["0001_2_05.jpg"])
    (tmp_path / "manifest.csv").write_text(
        "path,pid,camid,split,extra\n"
        "reid_test/query/0001_1_00.jpg,1,1,query,x\n"
        "reid_test/gallery/0001_2_05.jpg,1,2,gallery,y\n"
        "reid_test/gallery/0001_2_05.jpg,1,2,train,ignored\n"
    )
    data = load_dataset(tmp_path)
    assert data.layout == "manifest"
    assert [(i.pid, i.camid) for i in data.query + data.gallery] == [(1, 1), (1, 2)]
    assert [(i.pid, i.camid) for i in load_dataset(tmp_path, "deepsportradar").gallery] == [(1, 1)]


def test_a_manifest_saved_by_a_spreadsheet_with_a_bom_reads_the_same(tmp_path):
    write_images(tmp_path / "q", ["a.jpg"])
    write_images(tmp_path / "g", ["b.jpg"])
    rows = "path,pid,camid,split\r\nq/a.jpg,1,1,query\r\ng/b.jpg,1,2,gallery\r\n"
    (tmp_path / "manifest.csv").write_bytes(b"\xef\xbb\xbf" + rows.encode())  # Excel's "CSV UTF-8"
    data = load_dataset(tmp_path)
    assert [(i.path.name, i.pid, i.camid) for i in data.query + data.gallery] == [("a.jpg", 1, 1), ("b.jpg", 1, 2)]


@pytest.mark.parametrize(
    "setup, layout, message",
    [
        (lambda root: None, None, "unknown layout"),
        (lambda root: write_images(root / "reid_test" / "query", ["1_1_1.jpg"]), None, "gallery: no such folder"),
        (lambda root: (root / "reid_test" / "query").mkdir(parents=True), "deepsportradar", "query: no images"),
        (lambda root: write_images(root / "reid_test" / "query", ["person-1.jpg"]), None,
         "not of the form <pid>_<sequence>_<frame>: person-1.jpg"),
        (lambda root: (root / "manifest.csv").write_text("path,pid\n"), None, "missing column(s) camid, split"),
        (lambda root: (root / "manifest.csv").write_text("path,pid,camid,split\nmissing.jpg,1,1,query\n"), None,
         "2: no such image 'missing.jpg'"),
        (lambda root: (root / "manifest.csv").write_text("path,pid,camid,split\n"), None,
         "no rows with split 'query'"),
        (lambda root: None, "imagenet", "unknown layout 'imagenet'"),
    ],
)
def test_bad_datasets_give_one_line_naming_the_path(tmp_path, setup, layout, message):
    setup(tmp_path)
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path, layout)
    assert any(message in line and str(tmp_path) in line for line in info.value.lines()), info.value.lines()


def test_manifest_reports_every_bad_row(tmp_path):
    (tmp_path / "manifest.csv").write_text("path,pid,camid,split\na.jpg,x,1,query\nb.jpg,1,1,gallery\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path)
    lines = info.value.lines()
    assert any("2: pid and camid must be integers" in line for line in lines)
    assert any("3: no such image 'b.jpg'" in line for line in lines)
