"""The page's teach view: sessions of named classes of photos over real HTTP, and in Chromium with its fake camera
showing real photos, a run adapted from a served run that answers the page at once and downloads as a run."""

import json
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import HTTPException
from PIL import Image
from playwright.sync_api import expect
from test_page import CHROMIUM, QUIET, browser, opened, playwright, write_y4m  # noqa: F401

from cnnapp.web.teach import CLASS_PHOTOS, Workspace

from clirun import assert_one_line_error, cnnapp
from servers import Server

CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def new_session(server: Server) -> str:
    response = httpx.post(f"{server.url}/api/teach")
    assert response.status_code == 200, response.text
    return response.json()["session"]


def add(server: Server, session: str, name: str, files: list) -> httpx.Response:
    """POST the files (paths, or (name, bytes) pairs) as photos of the session's class."""
    parts = [("photos", (f.name, f.read_bytes()) if isinstance(f, Path) else f) for f in files]
    return httpx.post(f"{server.url}/api/teach/{session}/classes/{name}/photos", files=parts, timeout=60)


def state(server: Server, session: str) -> dict:
    response = httpx.get(f"{server.url}/api/teach/{session}")
    assert response.status_code == 200, response.text
    return response.json()


def test_photos_land_whole_in_their_own_sessions_folder(server: Server):
    first, second = new_session(server), new_session(server)
    assert first != second
    photos = server.signs_photos["0"][:3]
    response = add(server, first, "thumbs up", photos)
    assert response.status_code == 200, response.text
    assert response.json()["classes"] == {"thumbs up": 3}
    assert state(server, second)["classes"] == {}
    kept = sorted((server.workspace / first / "photos" / "thumbs up").iterdir())
    assert len(kept) == 3 and all(p.suffix == ".jpg" and not p.name.startswith(".") for p in kept)
    for path in kept:
        with Image.open(path) as image:
            assert image.format == "JPEG" and max(image.size) <= 512
    assert not (server.workspace / second / "photos" / "thumbs up").exists()
    assert httpx.delete(f"{server.url}/api/teach/{first}/classes/thumbs up").json()["classes"] == {}


def test_bad_teach_requests_get_one_line_and_keep_nothing(server: Server):
    session = new_session(server)
    url = f"{server.url}/api/teach/{session}"
    photo = server.signs_photos["5"][0]
    cases = [
        (httpx.get(f"{server.url}/api/teach/not-a-session"), 404, "no such session"),
        (add(server, "A" * 22, "x", [photo]), 404, "no such session"),
        (add(server, session, ".hidden", [photo]), 400, "class name '.hidden': use 1 to 32 letters"),
        (add(server, session, "x", [photo, ("letter.jpg", b"not a photo")]), 422, "letter.jpg: not an image"),
        (add(server, session, "x", [("big.png", b"\0" * (1024 * 1024 + 1))]), 413, "over the limit of 1 MB"),
        (httpx.post(f"{url}/train", params={"base": "nobody"}), 404, "no model named 'nobody'"),
        (httpx.post(f"{url}/train", params={"base": "signs"}), 400, "training needs 2 classes or more"),
        (httpx.get(f"{url}/runs/taught-1/run.zip"), 404, "no run named 'taught-1'"),
        (httpx.post(f"{url}/runs/taught-1/predict", files=[("photos", ("p.jpg", b""))]), 404, "no run named"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        assert words in detail and "\n" not in detail, detail
    assert state(server, session)["classes"] == {}  # the photo beside the letter was not kept
    add(server, session, "x", [photo])
    response = httpx.post(f"{url}/train", params={"base": "signs"})
    assert response.status_code == 400 and "the classes: x (1)" in response.json()["detail"]


def test_a_training_that_fails_says_why_in_one_line(server: Server):
    session = new_session(server)
    for name, digit in (("a", "0"), ("b", "5")):
        assert add(server, session, name, server.signs_photos[digit][:2]).status_code == 200
    (server.workspace / session / "photos" / "b" / "broken.jpg").write_bytes(b"not a photo")  # not through the API
    assert httpx.post(f"{server.url}/api/teach/{session}/train", params={"base": "signs"}).status_code == 200
    deadline = time.monotonic() + 60
    while (job := state(server, session)["job"])["state"] in ("waiting", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job["state"] == "failed", job
    assert job["message"] == "error: photos/b/broken.jpg: not an image cnnapp can read (JPEG, PNG, BMP or GIF)"
    assert state(server, session)["runs"] == []


def test_a_class_holds_at_most_its_photos_and_a_session_id_is_no_path(tmp_path: Path):
    workspace = Workspace(tmp_path)
    session = workspace.new_session()
    tiny = Image.new("RGB", (8, 8), "red")
    assert workspace.add_photos(session, "red", [tiny] * CLASS_PHOTOS) == CLASS_PHOTOS
    with pytest.raises(HTTPException) as over:
        workspace.add_photos(session, "red", [tiny])
    assert over.value.status_code == 413 and f"over the limit of {CLASS_PHOTOS}" in over.value.detail
    assert workspace.counts(session) == {"red": CLASS_PHOTOS}
    (tmp_path / "photos").mkdir()
    for bad in ("..", "photos", f"../{session}", session + "x"):
        with pytest.raises(HTTPException) as missing:
            workspace.folder(bad)
        assert missing.value.status_code == 404


def test_serve_refuses_a_workspace_that_is_a_file(server: Server, tmp_path: Path):
    taken = tmp_path / "taken"
    taken.write_text("")
    result = cnnapp("serve", str(server.runs["signs"]), "--workspace", str(taken))
    assert_one_line_error(result, f"--workspace {taken}: not a folder")


@contextmanager
def camera_on(playwright, photo: Path, folder: Path) -> Iterator:  # noqa: F811
    """A Chromium whose webcam shows the photo."""
    video = write_y4m(photo, folder / f"{photo.stem}.y4m")
    args = [*QUIET, *CAMERA, f"--use-file-for-fake-video-capture={video}"]
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
    try:
        yield chromium
    finally:
        chromium.close()


def hold_to_capture(page, name: str, ms: int = 1500) -> int:
    """Hold the class's capture button down for ms; the class's photo count once the burst's last one is in."""
    page.locator(f'li[data-class="{name}"] .burst').hover()
    page.mouse.down()
    page.wait_for_selector(f'#teach[data-capturing="{name}"]')
    page.wait_for_timeout(ms)
    page.mouse.up()
    page.wait_for_selector("#teach:not([data-capturing])")
    return int(page.locator(f'li[data-class="{name}"] .count').inner_text().split()[0])


def add_class(page, name: str) -> None:
    page.fill("#class-name", name)
    page.click("#new-class button")


def wait_for_answer(page, label: str) -> dict[str, float]:
    """Wait until the webcam's latest frame is answered with label; that answer's probabilities."""
    card = page.locator('.card[data-path="webcam.jpg"]')
    expect(card.locator(".label")).to_have_text(label, timeout=15_000)
    bars = card.locator(".bar")
    return {
        bars.nth(i).get_attribute("data-class"): float(bars.nth(i).get_attribute("data-probability"))
        for i in range(bars.count())
    }


def test_taught_from_the_webcam_the_page_answers_each_photo_with_its_class(playwright, server: Server, tmp_path):  # noqa: F811
    circle, open_hand = server.signs_photos["0"][0], server.signs_photos["5"][0]
    with camera_on(playwright, circle, tmp_path) as first, camera_on(playwright, open_hand, tmp_path) as second:
        page = opened(first, server)
        page.select_option("#model", "signs")
        add_class(page, "circle")
        assert hold_to_capture(page, "circle") >= 3
        session = page.url.partition("?session=")[2]
        assert state(server, session)["classes"] == {"circle": int(page.locator(".count").inner_text().split()[0])}

        other = opened(second, server, url=page.url)  # the same session, another camera
        other.select_option("#model", "signs")
        assert other.locator('li[data-class="circle"] .count').inner_text() == page.locator(".count").inner_text()
        add_class(other, "open hand")
        assert hold_to_capture(other, "open hand") >= 3
        other.click("#train")
        other.wait_for_selector("#teach[data-job=running]")
        seconds = []
        while state(server, session)["job"]["state"] == "running":  # other requests are answered meanwhile
            start = time.monotonic()
            assert server.predict("signs", [circle]).status_code == 200
            seconds.append(time.monotonic() - start)
            time.sleep(0.5)
        assert len(seconds) >= 3 and max(seconds) < 2.0, seconds
        other.wait_for_selector("#teach[data-job=done]")
        assert "cross-validated accuracy" in other.locator("#teach-status").inner_text()
        expect(other.locator("#model")).to_have_value("yours: taught-1")
        probabilities = wait_for_answer(other, "open hand")  # its webcam stayed on from the burst
        assert list(probabilities) == ["circle", "open hand"] and probabilities["open hand"] > 0.5

        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        page.select_option("#model", "yours: taught-1")
        page.click("#camera")
        assert wait_for_answer(page, "circle")["circle"] > 0.5

        with other.expect_download() as download:
            other.click("#download-zip")
        assert download.value.suggested_filename == "taught-1.zip"
        zipfile.ZipFile(download.value.path()).extractall(tmp_path / "downloaded")
        with other.expect_download() as onnx:
            other.click("#download-onnx")
        onnx_bytes = Path(onnx.value.path()).read_bytes()
    run = server.workspace / session / "runs" / "taught-1"
    assert onnx_bytes == (run / "model.onnx").read_bytes()
    downloaded = tmp_path / "downloaded" / "taught-1"
    assert sorted(p.name for p in downloaded.iterdir()) == sorted(p.name for p in run.iterdir())
    result = cnnapp("predict", str(downloaded), str(circle), str(open_hand), "--json")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["label"] for line in result.stdout.splitlines()] == ["circle", "open hand"]


def test_a_second_page_sees_none_of_the_first_pages_classes(browser, server: Server):  # noqa: F811
    first = opened(browser, server)
    add_class(first, "cats")
    first.locator('li[data-class="cats"] input[type=file]').set_input_files([str(p) for p in server.happy_photos[:2]])
    expect(first.locator('li[data-class="cats"] .count')).to_have_text("2 photos")
    second = opened(browser, server)  # the same browser and its cookies, another page
    add_class(second, "dogs")
    second.locator('li[data-class="dogs"] input[type=file]').set_input_files(str(server.happy_photos[2]))
    expect(second.locator('li[data-class="dogs"] .count')).to_have_text("1 photo")
    assert second.locator("#classes li").count() == 1
    first.reload()
    first.wait_for_selector("body[data-ready=true]")
    expect(first.locator("#classes li")).to_have_count(1)
    assert first.locator("#classes li").get_attribute("data-class") == "cats"
    sessions = [page.url.partition("?session=")[2] for page in (first, second)]
    assert sessions[0] != sessions[1]
    assert [state(server, s)["classes"] for s in sessions] == [{"cats": 2}, {"dogs": 1}]
