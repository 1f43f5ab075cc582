"""`cnnapp data get` of the photo sets with an index or label file, from a mirror in each upstream's own layout.

Each mirror is built at test time from the shared copy and the upstream index files in its upstream/ folder,
served from 127.0.0.1 by a plain static file server, as GitHub would serve the pinned archive and raw files.
"""

import csv
import hashlib
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cnnapp.data import layouts
from cnnapp.data.fetch import content_checksum
from cnnapp.data.layouts import SMILE_CLASSES
from cnnapp.data.sources import GITHUB, SOURCES, pinned_photos
from cnnapp.errors import CnnappError

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path) -> Iterator[tuple[str, Path]]:
    """(base URL, folder it serves): files put under the folder at a URL's path below github.com are served."""
    root = tmp_path / "mirror"
    root.mkdir()
    served = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    threading.Thread(target=served.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{served.server_address[1]}", root
    served.shutdown()
    served.server_close()


def github_zip(root: Path, name: str, files: dict[str, Path | bytes]) -> None:
    """The source's archive, as GitHub lays it out (one top folder `<repository>-<commit>`), saved in the
    mirror: stored, not compressed, since photos do not shrink."""
    url = SOURCES[name].url
    repository, commit = url.split("/")[4], url.rsplit("/", 1)[-1].removesuffix(".zip")
    path = root / url.removeprefix(GITHUB + "/")
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for inside, content in files.items():
            name_inside = f"{repository}-{commit}/{inside}"
            if isinstance(content, Path):
                archive.write(content, name_inside)
            else:
                archive.writestr(name_inside, content)


def photos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.jpg"))


def signs_photos(shared: Path, root: Path) -> None:
    """Every fifth training photo goes to val_signs, as CS230's script split its training photos; names get
    back their ' (1)'."""
    files: dict[str, Path | bytes] = {"data/64x64_SIGNS/.DS_Store": b"\0\0\0\1Bud1"}
    for split in ("train", "test"):
        for i, photo in enumerate(photos(shared / "signs-photos" / split)):
            part = "test_signs" if split == "test" else ("val_signs" if i % 5 == 0 else "train_signs")
            files[f"data/64x64_SIGNS/{part}/{photo.name.replace('_1.jpg', ' (1).jpg')}"] = photo
    github_zip(root, "signs-photos", files)


def genki4k(shared: Path, root: Path) -> None:
    """The photos of the shared copy under their upstream names (line N of GENKI-4K_Images.txt is fileNNNN),
    with both index files whole: the lines kept back for evaluation name photos the mirror lacks."""
    upstream = shared / "upstream"
    names = (upstream / "GENKI-4K_Images.txt").read_text().split()
    files: dict[str, Path | bytes] = {
        f"dataset/GENKI-R2009a/Subsets/GENKI-4K/{index}": upstream / index
        for index in ("GENKI-4K_Images.txt", "GENKI-4K_Labels.txt")
    }
    for photo in photos(shared / "genki4k"):
        files[f"dataset/GENKI-R2009a/files/{names[int(photo.stem.removeprefix('file')) - 1]}"] = photo
    files["dataset/GENKI-R2009a/files/._file0000000000000001.jpg"] = b"\0\5\26\7"  # a macOS resource fork
    github_zip(root, "genki4k", files)


def celeba_10k(shared: Path, root: Path) -> None:
    github_zip(root, "celeba-10k", {f"celebA/{photo.name}": photo for photo in photos(shared / "celeba-10k")})
    labels = root / SOURCES["celeba-10k"].labels_url.removeprefix(GITHUB + "/")
    labels.parent.mkdir(parents=True, exist_ok=True)
    labels.symlink_to(shared / "upstream" / "list_attr_celeba_first20000.txt")


def mtfl_net(shared: Path, root: Path) -> None:
    files: dict[str, Path | bytes] = {f"MTFL/net_7876/{photo.name}": photo for photo in photos(shared / "mtfl-net")}
    files["MTFL/training.txt"] = shared / "upstream" / "MTFL_training.txt"
    github_zip(root, "mtfl-net", files)


MIRRORS = {"signs-photos": signs_photos, "genki4k": genki4k, "celeba-10k": celeba_10k, "mtfl-net": mtfl_net}


def get(tmp_path: Path, base: str, *names: str):
    env = {"CNNAPP_DATA": str(tmp_path / "data"), "CNNAPP_CACHE": str(tmp_path / "cache"), "CNNAPP_MIRROR": base}
    return cnnapp("data", "get", *names, env=env, timeout=300)


@pytest.mark.parametrize("name", list(MIRRORS))
def test_data_get_from_a_mirror_in_the_upstream_layout_lays_out_the_shared_copy(mirror, tmp_path, name):
    base, root = mirror
    target = SOURCES[name].target
    shared = need_shared(target, "upstream")
    MIRRORS[name](shared, root)
    result = get(tmp_path, base, name)
    assert result.returncode == 0, result.stderr
    got = tmp_path / "data" / target
    assert content_checksum(got, "files") == content_checksum(shared / target, "files")
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [target]
    assert f"{name}: licence: {SOURCES[name].licence}" in result.stdout
    if name == "genki4k":
        assert "genki4k: 1198 of the 3986 photos the catalog pins are not in the download; the 2788" in result.stdout


def changed_index(shared: Path, index: str, line: str) -> bytes:
    """An upstream GENKI-4K index file with its first line replaced."""
    return "\n".join([line, *(shared / "upstream" / index).read_text().splitlines()[1:]]).encode() + b"\n"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("photo", ["smiling/file0001.jpg: content differs from its pin"]),
        ("label", ["GENKI-4K_Labels.txt line 1: smile label '0' where the catalog pins smiling/file0001.jpg"]),
    ],
)
def test_a_genki4k_mirror_with_a_changed_photo_or_label_is_refused(mirror, tmp_path, change, words):
    base, root = mirror
    shared = need_shared("genki4k", "upstream")
    genki4k(shared, root)
    first = (shared / "upstream" / "GENKI-4K_Images.txt").read_text().split()[0]
    inside, content = {
        "photo": (f"/files/{first}", b"JFIF"),
        "label": ("/GENKI-4K_Labels.txt", changed_index(shared, "GENKI-4K_Labels.txt", "0 0 0 0")),
    }[change]
    with zipfile.ZipFile(next(root.rglob("*.zip")), "a") as changed, pytest.warns(UserWarning, match="Duplicate"):
        changed.writestr(next(n for n in changed.namelist() if n.endswith(inside)), content)  # the last one is read
    result = get(tmp_path, base, "genki4k")
    assert_one_line_error(result, *words, "the download was deleted")
    assert not (tmp_path / "data" / "genki4k").exists()


def test_an_index_naming_a_file_outside_the_download_is_refused(tmp_path):
    upstream = tmp_path / "upstream"
    (upstream / "files").mkdir(parents=True)
    (upstream / "GENKI-4K_Images.txt").write_text("../../secret.jpg\n")
    (upstream / "GENKI-4K_Labels.txt").write_text("1 0 0 0\n")
    (tmp_path / "secret.jpg").write_bytes(b"JFIF")
    with pytest.raises(CnnappError, match=r"names \.\./\.\./secret\.jpg, which climbs out of the target with '\.\.'"):
        layouts.genki4k(upstream, tmp_path / "genki4k", {"smiling/file0001.jpg": "0" * 32})
    assert (tmp_path / "secret.jpg").is_file() and not (tmp_path / "genki4k").exists()


FACE_SETS = {"genki4k": 2788, "celeba-10k": 10000, "mtfl-net": 5849}


def test_data_list_gives_each_face_sets_photo_count_and_terms(shared):
    need_shared(*FACE_SETS)
    result = cnnapp("data", "list", env={"CNNAPP_DATA": str(shared)})
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    for name, count in FACE_SETS.items():
        assert rows[name].split()[1:3] == ["ready", str(count)]
        assert rows[name].endswith(SOURCES[name].licence.split(";")[0])


def test_data_info_of_genki4k_counts_the_shared_copy_and_cites_it(shared):
    need_shared("genki4k")
    result = cnnapp("data", "info", "genki4k", env={"CNNAPP_DATA": str(shared)})
    assert result.returncode == 0, result.stderr
    assert "images: 2788," in result.stdout
    assert "not smiling    1234" in result.stdout and "smiling        1554" in result.stdout
    assert 'licence: research use only; cite "http://mplab.ucsd.edu, The MPLab GENKI Dataset' in result.stdout


@pytest.mark.parametrize("name", list(FACE_SETS))
def test_data_info_of_a_missing_face_set_says_where_to_get_it_and_its_terms(tmp_path, name):
    result = cnnapp("data", "info", name, env={"CNNAPP_DATA": str(tmp_path / "data")})
    assert result.returncode == 2
    assert f"{name}: licence: {SOURCES[name].licence}" in result.stderr
    assert f"cnnapp data get {name}" in result.stderr


def test_the_genki4k_pins_and_whole_set_checksum_agree_with_the_upstream_table(shared):
    """Every pinned photo is a line of genki4k-all-4000.csv with its class and digest; the lines left out are
    byte-duplicates of kept lines with the same label; the whole-set checksum is that of the pinned lines."""
    need_shared("upstream")
    source = SOURCES["genki4k"]
    pins = pinned_photos(source)
    with (shared / "upstream" / "genki4k-all-4000.csv").open() as table:
        rows = {int(row["id"]): row for row in csv.DictReader(table)}
    placed = {f"{SMILE_CLASSES[int(row['label'])]}/file{n:04d}.jpg": row for n, row in rows.items()}
    assert set(pins) <= set(placed) and len(pins) == 3986
    assert all(placed[path]["sha256"].startswith(digest) for path, digest in pins.items())
    kept = {(row["sha256"], row["label"]) for path, row in placed.items() if path in pins}
    assert all((row["sha256"], row["label"]) in kept for path, row in placed.items() if path not in pins)
    listing = "".join(f"{placed[path]['sha256']}  ./{path}\n" for path in sorted(pins, key=str.encode))
    assert hashlib.sha256(listing.encode()).hexdigest() == source.checksum
