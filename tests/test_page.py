"""The page at / in a real headless Chromium (Debian's, driven by Playwright): photos, the smile gate, the webcam."""

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from clirun import cnnapp
from servers import Server

CHROMIUM = Path("/usr/bin/chromium")
QUIET = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def playwright():
    if not CHROMIUM.is_file() or not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=QUIET)
    yield browser
    browser.close()


def percent(p: float) -> str:
    """A probability as the page writes it."""
    return f"{100 * p:.1f}%"


def opened(browser, server: Server, url: str | None = None, **context) -> Iterator:
    page = browser.new_page(**context)
    page.goto(url or server.url)
    page.wait_for_selector("body[data-ready=true]")
    return page


@pytest.fixture(scope="module")
def confident(server: Server) -> tuple[Path, dict]:
    """The held-out sign photo the model answers right with the highest probability, and the API's answer."""
    rows = []
    for digit, photos in server.signs_photos.items():
        for photo, row in zip(photos[:4], server.predict("signs", photos[:4]).json(), strict=True):
            if row["label"] == digit:
                rows.append((row["probability"], photo, row))
    assert rows, "the test model reads none of the held-out photos right"
    _, photo, row = max(rows, key=lambda r: r[0])
    return photo, row


def assert_card_shows(card, row: dict) -> None:
    """The card gives the API's label and every class's probability."""
    assert card.locator(".label").inner_text() == row["label"]
    assert card.locator(".probability").inner_text() == percent(row["probability"])
    for name, p in row["probabilities"].items():
        bar = card.locator(f'.bar[data-class="{name}"]')
        assert bar.locator(".value").inner_text() == percent(p)
        assert float(bar.get_attribute("data-probability")) == pytest.approx(p, abs=1e-6)


def test_a_chosen_photo_gets_its_label_and_bars(browser, server: Server, confident, tmp_path):
    photo, row = confident
    page = opened(browser, server)
    page.select_option("#model", "signs")
    page.set_input_files("#files", str(photo))
    card = page.locator(f'.card[data-path="{photo.name}"]')
    card.locator(".label").wait_for()
    assert row["label"] == photo.parent.name
    assert_card_shows(card, row)
    assert card.locator("img").get_attribute("src").startswith("data:image/png;base64,")
    assert card.locator("img").evaluate("img => [img.naturalWidth, img.naturalHeight]") == [64, 64]
    assert page.locator("#door").is_hidden()  # a sign reader is no door
    assert "Happy House" not in page.locator("h1").inner_text() + page.title()
    assert page.locator("#status").inner_text() == "signs answered 1 photo"
    page.screenshot(path=str(tmp_path / "signs.png"))


def test_a_dropped_photo_is_answered(browser, server: Server, confident):
    photo, row = confident
    page = opened(browser, server)
    page.select_option("#model", "signs")
    content = base64.b64encode(photo.read_bytes()).decode("ascii")
    dropped = page.evaluate_handle(
        """([name, content]) => {
            const bytes = Uint8Array.from(atob(content), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
            return transfer;
        }""",
        [photo.name, content],
    )
    page.dispatch_event("#drop", "drop", {"dataTransfer": dropped})
    card = page.locator(f'.card[data-path="{photo.name}"]')
    card.locator(".label").wait_for()
    assert_card_shows(card, row)


def test_the_smile_gate_opens_only_for_its_class(browser, server: Server):
    rows = server.predict("door", server.happy_photos).json()
    page = opened(browser, server)
    page.select_option("#model", "door")
    assert "happy on" in page.locator("#model-info").inner_text()
    page.set_input_files("#files", [str(p) for p in server.happy_photos])
    page.locator(".card").nth(len(rows) - 1).locator(".label").wait_for()
    for photo, row in zip(server.happy_photos, rows, strict=True):
        card = page.locator(f'.card[data-path="{photo.name}"]')
        assert_card_shows(card, row)
        door = "door opens" if row["label"] == "smiling" else "door stays shut"
        assert card.locator(".verdict").inner_text() == door
    banner = page.locator("#door")
    assert banner.is_visible()
    opened_for = sum(row["label"] == "smiling" for row in rows)
    kind = {0: "shut", len(rows): "open"}.get(opened_for, "mixed")
    assert banner.get_attribute("class") == f"door {kind}"
    if kind == "mixed":
        assert banner.inner_text() == f"The door opens for {opened_for} of {len(rows)} photos."
    assert page.locator("h1").inner_text() == "The Happy House door"
    assert page.locator("#status").inner_text() == f"door answered {len(rows)} photos"


def test_a_bad_photo_shows_its_error(browser, server: Server, tmp_path):
    letter = tmp_path / "letter.jpg"
    letter.write_text("not a photo")
    page = opened(browser, server)
    page.set_input_files("#files", str(letter))
    message = page.locator('.card.error[data-path="letter.jpg"] .message')
    message.wait_for()
    assert message.inner_text().startswith("letter.jpg: not an image")
    assert page.locator("#status").inner_text() == "signs could not read 1 photo"
    page.set_input_files("#files", [str(letter), str(server.signs_photos["0"][0])])
    page.locator(".card .label").wait_for()
    assert page.locator("#status").inner_text() == "signs answered 1 photo; 1 photo could not be read"


def test_an_example_photo_from_the_test_split_is_answered_on_a_click(browser, server: Server):
    (signs,) = [model for model in httpx.get(f"{server.url}/api/models").json() if model["name"] == "signs"]
    page = opened(browser, server)
    page.select_option("#model", "signs")
    buttons = page.locator("#examples .example")
    assert buttons.count() == len(signs["examples"]) == 6
    assert page.locator("#examples-credit").inner_text() == f"Example photos to try, {signs['examples_credit']}."
    example = signs["examples"][-1]
    buttons.nth(5).click()
    card = page.locator(f'.card[data-path="{example["name"]}"]')
    card.locator(".label").wait_for()
    content = httpx.get(f"{server.url}{example['url']}").content
    assert_card_shows(card, server.predict("signs", [(example["name"], content)]).json()[0])


def test_the_api_docs_render_with_no_network_beyond_the_server(browser, server: Server):
    page = browser.new_page()
    elsewhere = []

    def only_the_server(route) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_server)
    page.goto(f"{server.url}/docs")
    page.locator(".opblock-summary-path", has_text="/api/models/{name}/predict").wait_for(timeout=15_000)
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("cnnapp")
    assert elsewhere == []


def test_on_a_phone_screen_nothing_spills_sideways(browser, server: Server, confident):
    page = opened(browser, server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.set_input_files("#files", str(confident[0]))
    page.locator(".card .label").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for selector in ("#model", "label[for=files]", "#camera", ".card"):
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, selector


def write_y4m(photo: Path, path: Path, side: int = 240) -> Path:
    """A two-frame YUV4MPEG2 (4:2:0) video of the photo, square, for Chromium's fake camera."""
    ycbcr = Image.open(photo).convert("RGB").resize((side, side), Image.Resampling.BICUBIC).convert("YCbCr")
    y, cb, cr = ycbcr.split()
    half = (side // 2, side // 2)
    frame = (
        y.tobytes() + cb.resize(half, Image.Resampling.BOX).tobytes() + cr.resize(half, Image.Resampling.BOX).tobytes()
    )
    path.write_bytes(f"YUV4MPEG2 W{side} H{side} F10:1 Ip A1:1 C420jpeg\n".encode() + (b"FRAME\n" + frame) * 2)
    return path


def test_the_webcam_sends_frames_and_shows_each_answer(playwright, server: Server, confident, tmp_path):
    photo, row = confident
    video = write_y4m(photo, tmp_path / "hand.y4m")
    camera = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*QUIET, *camera, f"--use-file-for-fake-video-capture={video}"]
    )
    try:
        page = opened(browser, server)
        page.select_option("#model", "signs")
        frames = []
        page.on("request", lambda request: frames.append(request.url) if "/predict" in request.url else None)
        page.click("#camera")
        label = page.locator('.card[data-path="webcam.jpg"] .label')
        label.wait_for(timeout=15_000)
        assert label.inner_text() == row["label"] == photo.parent.name
        page.wait_for_function("() => document.querySelectorAll('.card').length > 0", timeout=5_000)
        page.wait_for_timeout(1_000)
        assert len(frames) >= 2  # live: a frame every few hundred ms
        assert page.locator("#camera").inner_text() == "Stop the webcam"
        page.click("#camera")
        assert page.locator("#video").is_hidden()
        page.screenshot(path=str(tmp_path / "webcam.png"))
    finally:
        browser.close()


def test_a_report_reads_on_a_phone_screen(browser, server: Server, tmp_path):
    out = tmp_path / "report"
    env = {"CNNAPP_CACHE": str(tmp_path / "cache")}
    result = cnnapp("report", str(server.runs["door"]), "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    page = browser.new_page(viewport={"width": 390, "height": 800}, is_mobile=True)
    page.goto((out / "report.html").as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tables = page.locator("table")
    assert tables.count() >= 4
    for i in range(tables.count()):
        box = tables.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, tables.nth(i).get_attribute("id")
    title = np.asarray(Image.open(out / "confusion.png").convert("L"))[:60] < 128  # the title's dark pixels
    columns = np.flatnonzero(title.any(axis=0))
    assert columns.size and columns[0] > 2 and columns[-1] < title.shape[1] - 3, "the title touches an edge"
