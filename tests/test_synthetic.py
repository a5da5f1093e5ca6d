"""The synthetic re-ID set: reproducible, laid out like DeepSportradar, and identities that really differ."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from zoo.reid import synthetic


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.jpeg"))}


def test_same_seed_same_images_other_seed_other_images() -> None:
    a, labels_a = synthetic.training_arrays(6, 3, seed=7)
    b, labels_b = synthetic.training_arrays(6, 3, seed=7)
    c, _ = synthetic.training_arrays(6, 3, seed=8)
    assert np.array_equal(a, b) and np.array_equal(labels_a, labels_b)
    assert not np.array_equal(a, c)
    assert a.shape == (18, *synthetic.DEFAULT_SIZE, 3) and a.dtype == np.uint8
    assert labels_a.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]


def test_each_epoch_shows_new_views_of_the_same_people() -> None:
    first, _ = synthetic.training_arrays(3, 2, seed=1, epoch=0)
    second, _ = synthetic.training_arrays(3, 2, seed=1, epoch=1)
    assert not np.array_equal(first, second)
    assert synthetic.identity(synthetic.TRAIN_FIRST_PID, 1) == synthetic.identity(synthetic.TRAIN_FIRST_PID, 1)


def test_test_set_has_the_deepsportradar_layout_and_is_reproducible(tmp_path: Path) -> None:
    one = synthetic.write_test_set(tmp_path / "one", identities=5, gallery_per_identity=3, seed=3)
    synthetic.write_test_set(tmp_path / "two", identities=5, gallery_per_identity=3, seed=3)
    queries = sorted(p.name for p in (tmp_path / "one/reid_test/query").iterdir())
    gallery = sorted(p.name for p in (tmp_path / "one/reid_test/gallery").iterdir())
    assert queries == [f"{pid:04d}_00_1.jpeg" for pid in range(1, 6)]
    assert len(gallery) == one.gallery == 15
    assert {name.split("_")[0] for name in gallery} == {f"{pid:04d}" for pid in range(1, 6)}
    assert all(not name.endswith("_1.jpeg") for name in gallery)  # frame 1 is the query
    with Image.open(tmp_path / "one/reid_test/query" / queries[0]) as image:
        assert image.size == (synthetic.DEFAULT_SIZE[1], synthetic.DEFAULT_SIZE[0]) and image.mode == "RGB"
    assert _digests(tmp_path / "one") == _digests(tmp_path / "two")


def test_training_people_are_not_test_people() -> None:
    test_people = {synthetic.identity(pid).top for pid in range(1, 51)}
    train_people = {synthetic.identity(synthetic.TRAIN_FIRST_PID + i).top for i in range(300)}
    assert not test_people & train_people


def _colour_histogram(image: np.ndarray) -> np.ndarray:
    """Coarse RGB histogram of the crop's centre, where the person stands."""
    h, w, _ = image.shape
    centre = image[h // 8 : -h // 8, w // 4 : -w // 4].reshape(-1, 3) // 64
    hist = np.bincount(centre[:, 0] * 16 + centre[:, 1] * 4 + centre[:, 2], minlength=64)
    return hist / hist.sum()


def test_different_identities_look_different() -> None:
    """Colour statistics alone already match views of one person better than views of two people."""
    images, labels = synthetic.training_arrays(20, 4, seed=5)
    hists = np.stack([_colour_histogram(im) for im in images])
    dist = np.abs(hists[:, None] - hists[None]).sum(-1)
    same = labels[:, None] == labels[None]
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    assert dist[same & off_diagonal].mean() < 0.9 * dist[~same].mean()
    np.fill_diagonal(dist, np.inf)
    nearest_is_same = labels[dist.argmin(1)] == labels
    assert nearest_is_same.mean() > 0.4  # chance is 3/79; lighting and background blur the rest
