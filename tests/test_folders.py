"""Image folders: the real shared photos, the split, the class choice and the decode cache."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnapp.data.datasets import load_dataset, load_image_folder, parse_classes, select_classes
from cnnapp.data.folders import load_folder, scan_folder
from cnnapp.data.splits import split_dataset
from cnnapp.errors import CnnappError

from conftest import need_shared

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def sign_digits():
    return load_image_folder(need_shared("sign-language-digits") / "sign-language-digits", "sign-digits")


def test_sign_digits_counts_per_class(sign_digits):
    assert sign_digits.class_names == tuple(str(i) for i in range(10))
    assert list(sign_digits.counts().values()) == [205, 206, 206, 206, 207, 207, 207, 206, 208, 204]
    assert sign_digits.x.shape == (2062, 64, 64, 3)
    assert len(sign_digits.paths) == 2062 and sign_digits.paths[0].startswith("0/")


def test_smiles_counts_and_readable_names(monkeypatch):
    monkeypatch.setenv("CNNAPP_DATA", str(need_shared("smiles")))
    smiles = load_dataset("smiles")
    assert smiles.counts() == {"not smiling": 9475, "smiling": 3690}


def test_split_is_stratified_disjoint_and_reproducible(sign_digits):
    split = split_dataset(sign_digits, seed=7)
    parts = [split.train, split.val, split.test]
    assert sum(len(p) for p in parts) == 2062
    assert len(np.intersect1d(split.train, split.test)) == 0 and len(np.intersect1d(split.val, split.test)) == 0
    assert abs(len(split.test) - 0.15 * 2062) <= 2
    for part in parts:
        shares = np.bincount(sign_digits.y[part], minlength=10) / len(part)
        assert np.abs(shares - 0.1).max() < 0.01
    again = split_dataset(sign_digits, seed=7)
    assert (again.test == split.test).all() and (again.train == split.train).all()
    other = split_dataset(sign_digits, seed=8)
    assert not np.array_equal(other.test, split.test)


def test_choosing_classes_renumbers_them(sign_digits):
    six = select_classes(sign_digits, parse_classes("0-5"))
    assert six.class_names == ("0", "1", "2", "3", "4", "5")
    assert len(six.y) == 205 + 206 * 3 + 207 * 2
    assert set(six.y.tolist()) == set(range(6))
    two = select_classes(sign_digits, ["7", "3"])
    assert two.counts() == {"7": 206, "3": 206}
    assert (two.x[two.y == 0] == sign_digits.x[sign_digits.y == 7]).all()


def test_parse_classes():
    assert parse_classes("0-2,7") == ["0", "1", "2", "7"]
    assert parse_classes("not smiling,smiling") == ["not smiling", "smiling"]
    with pytest.raises(CnnappError, match="backwards"):
        parse_classes("5-0")
    with pytest.raises(CnnappError, match="twice"):
        parse_classes("1,1")


def test_unknown_class_is_refused(sign_digits):
    with pytest.raises(CnnappError, match="no class 12"):
        select_classes(sign_digits, ["1", "12"])


def make_folder(root, counts):
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", (20 + i, 30), (40 * i % 256, 0, 0)).save(root / name / f"{i}.png")
    return root


def test_second_load_comes_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNAPP_CACHE", str(tmp_path / "cache"))
    root = make_folder(tmp_path / "data", {"a": 3, "b": 2})
    first = load_folder(root)
    cached = list((tmp_path / "cache").glob("*.npz"))
    assert len(cached) == 1 and not any(p.suffix == ".npz" for p in root.rglob("*"))
    # Pixels changed in the cache only come back: the second load reads the cache, not the photos.
    marked = first[0].copy()
    marked[0, 0, 0] = (0, 0, 77)
    np.savez(cached[0], x=marked)
    second = load_folder(root)
    assert second[0][0, 0, 0].tolist() == [0, 0, 77] and first[4] == second[4]
    # Changing one image's content changes the fingerprint, so nothing stale is reused.
    Image.new("RGB", (20, 30), (0, 255, 0)).save(root / "a" / "0.png")
    third = load_folder(root)
    assert third[4] != first[4] and third[0][0, 0, 0, 1] == 255


def test_a_photo_rewritten_with_the_same_size_and_time_is_noticed(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNAPP_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "data"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (20, 30), (255, 0, 0)).save(root / name / f"{i}.bmp")
    photo = root / "a" / "1.bmp"
    first = load_folder(root)
    before = photo.stat()
    blue = tmp_path / "blue.bmp"
    Image.new("RGB", (20, 30), (0, 0, 255)).save(blue)
    with photo.open("r+b") as f:  # rewritten in place: same inode, same size
        f.write(blue.read_bytes())
    os.utime(photo, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same modification time
    assert (photo.stat().st_size, photo.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    again = load_folder(root)
    assert again[4] != first[4]
    assert again[0][1, 10, 10].tolist() == [0, 0, 255] and first[0][1, 10, 10].tolist() == [255, 0, 0]


FILL_CACHE = """
import sys
import numpy as np
from cnnapp.data.folders import load_folder
x, *_, fingerprint = load_folder(sys.argv[1])
np.save(sys.argv[2], x)
"""


def test_two_processes_filling_the_cache_at_once_agree(tmp_path):
    root = make_folder(tmp_path / "data", {"a": 40, "b": 40})
    env = {**os.environ, "CNNAPP_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(SRC)}
    fillers = [
        subprocess.Popen([sys.executable, "-c", FILL_CACHE, str(root), str(tmp_path / f"{i}.npy")], env=env)
        for i in range(3)
    ]
    assert [p.wait(timeout=120) for p in fillers] == [0, 0, 0]
    decoded = [np.load(tmp_path / f"{i}.npy") for i in range(3)]
    assert all(np.array_equal(decoded[0], d) for d in decoded[1:])
    assert sorted(p.suffix for p in (tmp_path / "cache").iterdir()) == [".npz", ".txt"]
    with np.load(next((tmp_path / "cache").glob("*.npz"))) as cached:
        assert np.array_equal(cached["x"], decoded[0])
    assert np.array_equal(load_folder(root)[0], decoded[0])


def test_the_real_smiles_folder_loads_whole_then_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNAPP_CACHE", str(tmp_path / "cache"))
    root = need_shared("smiles") / "smiles"
    x, y, names, _, _ = load_folder(root)
    assert x.shape == (13165, 64, 64, 3) and names == ["negatives", "positives"]
    assert np.bincount(y).tolist() == [9475, 3690]
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    again, *_ = load_folder(root)
    assert (again == x).all()


@pytest.mark.parametrize(
    ("layout", "words"),
    [
        ({"a": 2}, "needs at least two class subfolders"),
        ({"a": 2, "b": 0}, "class folder holds no images"),
    ],
)
def test_bad_folders(tmp_path, layout, words):
    root = tmp_path / "data"
    make_folder(root, {k: v for k, v in layout.items() if v})
    for name, n in layout.items():
        (root / name).mkdir(exist_ok=True)
        if n == 0:
            (root / name / "notes.txt").write_text("no photos here")
    with pytest.raises(CnnappError, match=words):
        scan_folder(root)


def test_a_broken_image_is_named_not_skipped(tmp_path):
    root = make_folder(tmp_path / "data", {"a": 2, "b": 2})
    (root / "b" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(CnnappError) as caught:
        load_folder(root)
    assert str(caught.value).startswith(str(root / "b" / "broken.jpg"))
