"""`cnnapp data get`: real archives built from the shared photos, served over HTTP from 127.0.0.1."""

import hashlib
import io
import re
import socket
import tarfile
import threading
import time
import zipfile
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cnnapp.data.fetch import content_checksum, downloaded_path, fetch_dataset, verify
from cnnapp.data.folders import fingerprint_files, scan_folder
from cnnapp.data.sources import GITHUB, SOURCES, Source, mirrored, pinned_photos
from cnnapp.errors import CnnappError

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared

SIGN_COMMIT = "4b09433ef9d5c60602e8805bb54b8aa2428527f8"
TOP = f"Sign-Language-Digits-Dataset-{SIGN_COMMIT}"


class Server(ThreadingHTTPServer):
    """Serves files from memory, with Range requests, and misbehaves on request: fails, cuts off or hangs."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, bytes] = {}
        self.failures: dict[str, int] = {}  # path -> how many 503 answers before a good one
        self.cut: dict[str, int] = {}  # path -> bytes sent by the next answer before the connection drops
        self.hang: set[str] = set()  # paths answered by silence
        self.drip: set[str] = set()  # paths answered one byte every 2 s
        self.length: dict[str, str] = {}  # path -> the Content-Length sent instead of the true one ("": none)
        self.log: list[tuple[str, str | None]] = []  # (path, Range header) of every request

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self):
        served = self.server
        served.log.append((self.path, self.headers.get("Range")))
        if self.path in served.hang:
            time.sleep(3)
            return
        if self.path in served.drip:
            self.drip(served.files[self.path])
            return
        if served.failures.get(self.path):
            served.failures[self.path] -= 1
            self.send_error(503)
            return
        if self.path not in served.files:
            self.send_error(404)
            return
        body = served.files[self.path]
        start = int(re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "bytes=0-").group(1))
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        length = served.length.get(self.path, str(len(body) - start))
        if length:
            self.send_header("Content-Length", length)
        self.end_headers()
        self.wfile.write(body[start : start + served.cut.pop(self.path, len(body))])

    def drip(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for i in range(len(body)):
            try:
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
            except OSError:
                return
            time.sleep(2)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    served = Server()
    thread = threading.Thread(target=served.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()


def sample_photos(per_class: int = 3) -> dict[str, Path]:
    """A few real photos of digits 0 and 1: path under the dataset folder -> shared file."""
    shared = need_shared("sign-language-digits")
    return {
        f"{digit}/{photo.name}": photo
        for digit in ("0", "1")
        for photo in sorted((shared / "sign-language-digits" / digit).iterdir())[:per_class]
    }


def github_archive(photos: dict[str, Path], kind: str = "zip", extra: dict[str, bytes] | None = None) -> bytes:
    """An archive (zip, tar or tar.gz) laid out as GitHub builds it for the Sign Language Digits repository."""
    entries = {f"{TOP}/Dataset/{inside}": photo.read_bytes() for inside, photo in photos.items()}
    entries |= {f"{TOP}/LICENSE": b"Apache License 2.0\n", f"{TOP}/README.md": b"# Sign Language Digits\n"}
    entries |= extra or {}
    buffer = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
    else:
        with tarfile.open(fileobj=buffer, mode=f"w:{kind.removeprefix('tar').strip('.')}") as archive:
            for name, data in entries.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def listing_checksum(photos: dict[str, Path]) -> str:
    """What `sha256sum` over the sorted photo paths, piped into `sha256sum`, prints for sign-language-digits/."""
    lines = [
        f"{hashlib.sha256(photos[inside].read_bytes()).hexdigest()}  sign-language-digits/{inside}\n"
        for inside in sorted(photos)
    ]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def local_source(served: Server, archive: bytes, checksum: str, name: str = "sign.zip") -> Source:
    """The real sign-digits entry of the catalog, pointed at the local server and its small archive."""
    served.files[f"/{name}"] = archive
    return replace(SOURCES["sign-digits"], url=f"{served.base}/{name}", checksum=checksum)


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "tar"])
def test_a_good_download_is_unpacked_verified_and_placed(server, tmp_path, kind):
    photos = sample_photos()
    source = local_source(server, github_archive(photos, kind), listing_checksum(photos), f"sign.{kind}")
    placed, missing = fetch_dataset(source, tmp_path / "data")
    assert (placed, missing) == (tmp_path / "data" / "sign-language-digits", 0)
    assert leftovers(tmp_path / "data") == ["sign-language-digits"]
    assert sorted(p.relative_to(placed).as_posix() for p in placed.rglob("*.JPG")) == sorted(photos)
    assert (placed / "LICENSE").read_bytes() == b"Apache License 2.0\n"
    assert (placed / "README.upstream.md").is_file()
    assert downloaded_path(source.url).read_bytes() == server.files[f"/sign.{kind}"]


def test_a_checksum_mismatch_deletes_the_download_and_places_nothing(server, tmp_path):
    photos = sample_photos()
    source = local_source(server, github_archive(photos), "0" * 64)
    with pytest.raises(CnnappError, match=r"checksum mismatch.*the download was deleted"):
        fetch_dataset(source, tmp_path / "data")
    assert leftovers(tmp_path / "data") == []
    assert not downloaded_path(source.url).exists()


def test_a_truncated_download_is_resumed_where_it_broke_off(server, tmp_path):
    photos = sample_photos()
    archive = github_archive(photos)
    source = local_source(server, archive, listing_checksum(photos))
    server.cut["/sign.zip"] = len(archive) * 2 // 3
    fetch_dataset(source, tmp_path / "data")
    (first, no_range), (second, resumed_at) = server.log
    assert first == second == "/sign.zip" and no_range is None
    assert 0 < int(re.fullmatch(r"bytes=(\d+)-", resumed_at).group(1)) <= len(archive) * 2 // 3
    assert content_checksum(tmp_path / "data" / "sign-language-digits") == listing_checksum(photos)


def test_a_server_that_fails_twice_is_retried(server, tmp_path):
    photos = sample_photos(per_class=1)
    source = local_source(server, github_archive(photos), listing_checksum(photos))
    server.failures["/sign.zip"] = 2
    fetch_dataset(source, tmp_path / "data")
    assert len(server.log) == 3
    assert leftovers(tmp_path / "data") == ["sign-language-digits"]


def test_a_silent_server_times_out(server, tmp_path):
    source = local_source(server, b"", "0" * 64)
    server.hang.add("/sign.zip")
    started = time.monotonic()
    with pytest.raises(CnnappError, match=r"no answer within 0.2 s, 4 tries"):
        fetch_dataset(source, tmp_path / "data", timeout=0.2)
    assert time.monotonic() - started < 8
    assert len(server.log) == 4
    assert leftovers(tmp_path / "data") == []


def hostile_tar(photos: dict[str, Path], name: str, link: str | None = None) -> bytes:
    """A tar of the real layout with one more member: a file named name, or a symbolic link to link."""
    buffer = io.BytesIO(github_archive(photos, "tar"))
    with tarfile.open(fileobj=buffer, mode="a") as archive:
        info = tarfile.TarInfo(name)
        if link:
            info.type, info.linkname = tarfile.SYMTYPE, link
            archive.addfile(info)
        else:
            info.size = 4
            archive.addfile(info, io.BytesIO(b"evil"))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("archive", "reason"),
    [
        (lambda photos: github_archive(photos, extra={"../../evil.txt": b"evil"}), "climbs out of the target"),
        (lambda photos: github_archive(photos, extra={"/tmp/evil.txt": b"evil"}), "is an absolute path"),
        (lambda photos: hostile_tar(photos, f"{TOP}/../../evil"), "climbs out of the target"),
        (lambda photos: hostile_tar(photos, f"{TOP}/Dataset/0/evil.JPG", link="/etc/passwd"), "is a link"),
    ],
    ids=["zip climbing out", "zip absolute", "tar climbing out", "tar link"],
)
def test_a_hostile_archive_is_refused_and_deleted(server, tmp_path, archive, reason):
    photos = sample_photos(per_class=1)
    source = local_source(server, archive(photos), listing_checksum(photos))
    with pytest.raises(CnnappError, match=rf"archive refused, its member \S+ {reason}.*; the download was deleted"):
        fetch_dataset(source, tmp_path / "data")
    assert leftovers(tmp_path / "data") == []
    assert not list(tmp_path.rglob("evil*"))
    assert not downloaded_path(source.url).exists()


def test_a_download_that_is_no_archive_is_deleted(server, tmp_path):
    shared = need_shared("test_happy.h5")
    source = local_source(server, (shared / "test_happy.h5").read_bytes(), "0" * 64)
    with pytest.raises(CnnappError, match=r"neither a zip nor a tar archive; the download was deleted"):
        fetch_dataset(source, tmp_path / "data")
    assert leftovers(tmp_path / "data") == []
    assert not downloaded_path(source.url).exists()


def test_a_data_directory_that_cannot_be_written_is_named(server, tmp_path):
    photos = sample_photos(per_class=1)
    source = local_source(server, github_archive(photos), listing_checksum(photos))
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(CnnappError, match=re.escape(str(tmp_path / "a-file" / "data")) + r": cannot write there"):
        fetch_dataset(source, tmp_path / "a-file" / "data")


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_no_network_fails_with_the_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/sign.zip"
    source = replace(SOURCES["sign-digits"], url=url, checksum="0" * 64)
    with pytest.raises(CnnappError, match=re.escape(url) + r": cannot connect"):
        fetch_dataset(source, tmp_path / "data")
    assert leftovers(tmp_path / "data") == []


def test_the_catalog_pins_github_commits_and_the_shared_data_checksums():
    datasets = {name: source for name, source in SOURCES.items() if not source.model}
    shared = need_shared(*(source.target for source in datasets.values()))
    pinned = re.compile(rf"{GITHUB}/[\w.-]+/[\w.-]+/(archive/[0-9a-f]{{40}}\.zip|raw/[0-9a-f]{{40}}/[\w./-]+)")
    for name, source in datasets.items():
        assert source.name == name
        for url in filter(None, (source.url, source.labels_url)):
            assert pinned.fullmatch(url), url
        if not source.layout:
            assert all(placed.split("/")[0] == source.target for placed in source.members.values())
        if source.pins:  # the shared copy holds part of the set: every photo matches its pin
            assert verify(source, shared / source.target) == len(pinned_photos(source)) - 2788, name
        else:
            assert content_checksum(shared / source.target, source.rule) == source.checksum, name
    versioned = (
        r"https://storage\.googleapis\.com/"
        r"(mediapipe-models/[\w/]+/float16/\d+/\w+\.task|mediapipe-assets/\w+\.tflite\?generation=\d+)"
    )
    for model in (source for source in SOURCES.values() if source.model):  # the publisher's files, at a version
        assert re.fullmatch(versioned, model.url), model.url
        assert re.fullmatch(r"[0-9a-f]{64}", model.checksum) and not model.members


def test_a_mirror_replaces_the_host_in_every_url():
    for source in SOURCES.values():
        url = mirrored(source.url, "http://127.0.0.1:8000/")
        host = "https://storage.googleapis.com" if source.model else GITHUB
        assert url == "http://127.0.0.1:8000" + source.url.removeprefix(host)
    with pytest.raises(CnnappError, match="not a base URL"):
        mirrored(SOURCES["smiles"].url, "127.0.0.1:8000")


def real_path(name: str) -> str:
    """The path of a real source's URL below https://github.com, as a mirror holds it."""
    return SOURCES[name].url.removeprefix(GITHUB)


def run_get(tmp_path: Path, *args: str):
    env = {"CNNAPP_DATA": str(tmp_path / "data"), "CNNAPP_CACHE": str(tmp_path / "cache"), "CNNAPP_MIRROR": ""}
    return cnnapp("data", "get", *args, env=env, timeout=120)


def test_data_get_through_a_mirror_places_the_file_and_names_what_has_no_source(server, tmp_path):
    shared = need_shared("test_happy.h5")
    server.files[real_path("happy-house")] = (shared / "test_happy.h5").read_bytes()
    first = run_get(tmp_path, "happy-house", "--mirror", server.base)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "data" / "test_happy.h5").read_bytes() == (shared / "test_happy.h5").read_bytes()
    assert "happy-house: checksum verified" in first.stdout
    assert "train_happy.h5: no known public source" in first.stdout
    again = run_get(tmp_path, "happy-house", "--mirror", server.base)
    assert "already in" in again.stdout and "(matches the pinned checksum)" in again.stdout
    assert len(server.log) == 1


@pytest.mark.parametrize(
    ("args", "serve", "words"),
    [
        (["sign-digits"], "small archive", ["checksum mismatch", "the download was deleted"]),
        (["sign-digits"], "hostile archive", ["archive refused", "climbs out of the target"]),
        (["smiles"], "nothing", ["404 Not Found", real_path("smiles")]),
        (["smiles"], "no network", ["cannot connect", real_path("smiles")]),
        (["sign-digits", "signs"], "nothing", ["signs: train_signs.h5 and test_signs.h5: no known public source"]),
        (["faces"], "nothing", ["faces: not a known dataset"]),
    ],
    ids=["wrong checksum", "hostile archive", "not on the mirror", "no network", "no source", "unknown name"],
)
def test_data_get_failures_are_one_line_and_leave_no_data(server, tmp_path, args, serve, words):
    photos = sample_photos(per_class=1)
    if serve == "small archive":
        server.files[real_path("sign-digits")] = github_archive(photos)
    if serve == "hostile archive":
        server.files[real_path("sign-digits")] = github_archive(photos, extra={"../evil.txt": b"evil"})
    base = f"http://127.0.0.1:{free_port()}" if serve == "no network" else server.base
    result = run_get(tmp_path, *args, "--mirror", base)
    assert_one_line_error(result, *words)
    assert leftovers(tmp_path / "data") == []


def test_the_demo_without_data_or_network_names_what_is_missing_the_url_and_cnnapp_data(tmp_path):
    base = f"http://127.0.0.1:{free_port()}"
    env = {"CNNAPP_DATA": str(tmp_path / "data"), "CNNAPP_CACHE": str(tmp_path / "cache"), "CNNAPP_MIRROR": base}
    result = cnnapp("demo", "--out", str(tmp_path / "runs"), env=env, timeout=120)
    assert_one_line_error(result, "sign-digits is missing", base + real_path("sign-digits"), "CNNAPP_DATA")
    assert leftovers(tmp_path / "data") == []
    assert not (tmp_path / "runs").exists()


def full_archive(folder: Path, top: str, members: dict[str, str]) -> bytes:
    """A zip laid out like the real source's GitHub archive, holding every file of the shared copy."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for inside, placed in members.items():
            here = folder.parent / placed
            if here.is_file():
                archive.write(here, f"{top}/{inside}")
            for path in sorted(here.rglob("*")):
                archive.write(path, f"{top}/{inside}/{path.relative_to(here).as_posix()}")
    return buffer.getvalue()


def test_data_get_of_the_full_archives_gives_the_fingerprints_of_the_shared_data(server, tmp_path):
    shared = need_shared("sign-language-digits", "smiles", "test_happy.h5")
    for name, top in [("sign-digits", "Sign-Language-Digits-Dataset"), ("smiles", "SMILEsmileD")]:
        source = SOURCES[name]
        commit = source.url.rsplit("/", 1)[-1].removesuffix(".zip")
        server.files[real_path(name)] = full_archive(shared / source.target, f"{top}-{commit}", source.members)
    server.files[real_path("happy-house")] = (shared / "test_happy.h5").read_bytes()
    result = run_get(tmp_path, "sign-digits", "smiles", "happy-house", "--mirror", server.base)
    assert result.returncode == 0, result.stderr
    for name in ("sign-digits", "smiles"):
        got, want = tmp_path / "data" / SOURCES[name].target, shared / SOURCES[name].target
        assert fingerprint_files(got, folder_files(got)) == fingerprint_files(want, folder_files(want))
    assert (tmp_path / "data" / "test_happy.h5").read_bytes() == (shared / "test_happy.h5").read_bytes()


def folder_files(root: Path) -> list[Path]:
    """The image files of a class folder tree in the order cnnapp reads them."""
    return [path for files in scan_folder(root).values() for path in files]


def test_a_download_larger_than_the_sources_cap_is_refused_and_deleted(server, tmp_path):
    photos = sample_photos()
    archive = github_archive(photos)
    source = replace(local_source(server, archive, listing_checksum(photos)), max_download=len(archive) - 1)
    with pytest.raises(CnnappError, match=rf"{len(archive)} bytes, more than the [\d.e-]+ MB this source can be"):
        fetch_dataset(source, tmp_path / "data")
    server.length["/sign.zip"] = ""  # does not say its size: counted as it comes
    with pytest.raises(CnnappError, match=r"more than the [\d.e-]+ MB this source can be"):
        fetch_dataset(source, tmp_path / "data")
    assert leftovers(tmp_path / "data") == []
    assert not downloaded_path(source.url).with_name(downloaded_path(source.url).name + ".part").exists()


def zip_bomb(gigabytes: float) -> bytes:
    """A zip of the Sign Language Digits layout whose one photo is that many GB of zero bytes, deflated."""
    buffer, block = io.BytesIO(), bytes(1 << 20)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{TOP}/Dataset/0/bomb.JPG", "w", force_zip64=True) as photo:
            for _ in range(int(gigabytes * 1000)):
                photo.write(block)
        archive.writestr(f"{TOP}/LICENSE", b"Apache License 2.0\n")
        archive.writestr(f"{TOP}/README.md", b"# Sign Language Digits\n")
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(server, tmp_path):
    bomb = zip_bomb(0.3)
    source = local_source(server, bomb, "0" * 64)
    assert len(bomb) < source.max_download and source.max_unpacked < 0.3e9
    with pytest.raises(CnnappError, match=r"would unpack to 31\d{7} bytes, more than the 1\d+ expected"):
        fetch_dataset(source, tmp_path / "data")
    assert leftovers(tmp_path / "data") == []
    assert not downloaded_path(source.url).exists()


def test_a_server_dripping_bytes_is_cut_off_at_the_deadline(server, tmp_path):
    photos = sample_photos(per_class=1)
    source = local_source(server, github_archive(photos), listing_checksum(photos))
    server.drip.add("/sign.zip")
    started = time.monotonic()
    with pytest.raises(CnnappError, match=r"not complete within the deadline of 1 s \(`deadline`\), \d bytes so far"):
        fetch_dataset(source, tmp_path / "data", timeout=5, deadline=1)
    assert time.monotonic() - started < 5
    assert leftovers(tmp_path / "data") == []


def test_a_mirror_sending_a_content_length_that_is_no_number_is_named(server, tmp_path):
    photos = sample_photos(per_class=1)
    server.files[real_path("sign-digits")] = github_archive(photos)
    server.length[real_path("sign-digits")] = "abc"
    result = run_get(tmp_path, "sign-digits", "--mirror", server.base)
    assert_one_line_error(result, server.base + real_path("sign-digits"), "Content-Length", "(abc)")
    assert leftovers(tmp_path / "data") == []


@pytest.mark.parametrize("option", ["--timeout", "--deadline"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_data_get_refuses_seconds_that_are_not_a_finite_number_above_zero(tmp_path, option, value):
    result = run_get(tmp_path, "smiles", option, value, "--mirror", f"http://127.0.0.1:{free_port()}")
    assert_one_line_error(result, f"{option} {value}", "must be a finite number of seconds above 0")
    assert leftovers(tmp_path / "data") == []
