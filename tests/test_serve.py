"""`cnnapp serve` over real HTTP: the API's answers against `cnnapp predict`, every bad request, the limits."""

import base64
import io
import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

import cnnapp
from cnnapp.data.images import read_image

from clirun import assert_one_line_error
from clirun import cnnapp as run_cnnapp
from servers import Server
from test_predict import write_huge_png


def test_server_exported_the_runs_at_start_and_says_so(server: Server):
    for run in server.runs.values():
        assert (run / "model.onnx").is_file()
        assert f"{run}: no model.onnx yet; exporting it first" in server.stderr.read_text()
    assert "serving signs, door at http://localhost:" in server.stderr.read_text()


def test_healthz_and_models(server: Server):
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok", "models": ["signs", "door"]}
    models = {m["name"]: m for m in httpx.get(f"{server.url}/api/models").json()}
    assert list(models) == ["signs", "door"]
    for name, run in server.runs.items():
        metrics = json.loads((run / "metrics.json").read_text())
        config = json.loads((run / "config.json").read_text())
        assert (models[name]["model"], models[name]["data"]) == (config["model"], config["data"]["name"])
        assert models[name]["classes"] == metrics["class_names"]
        assert models[name]["test_accuracy"] == metrics["test_accuracy"]
        assert models[name]["engine"] == "onnx"
    assert (models["door"]["model"], models["door"]["opens_door_on"]) == ("happy", "smiling")
    assert models["signs"]["opens_door_on"] is None


def test_answers_are_those_of_cnnapp_predict_json(server: Server):
    photos = [*server.signs_photos["0"][:2], *server.signs_photos["5"][:2]]
    response = server.predict("signs", photos)
    assert response.status_code == 200, response.text
    result = run_cnnapp("predict", str(server.runs["signs"]), *map(str, photos), "--json")
    assert result.returncode == 0, result.stderr
    expected = [json.loads(line) for line in result.stdout.splitlines()]
    got = response.json()
    assert [row["path"] for row in got] == [p.name for p in photos]
    assert [row["label"] for row in got] == [row["label"] for row in expected]
    for row, want in zip(got, expected, strict=True):
        assert set(row) == set(want)
        assert list(row["probabilities"]) == list(want["probabilities"]) == ["0", "5"]
        assert row["probabilities"] == pytest.approx(want["probabilities"], abs=1e-6)


def test_the_model_reads_held_out_signs(server: Server):
    labels = {
        digit: [row["label"] for row in server.predict("signs", server.signs_photos[digit][:4]).json()]
        for digit in ("0", "5")
    }
    right = sum(label == digit for digit, answers in labels.items() for label in answers)
    assert right >= 7, labels


def test_picture_is_the_64x64_image_the_model_saw(server: Server):
    photo = server.happy_photos[0]
    (row,) = server.predict("door", [photo], picture=True).json()
    prefix = "data:image/png;base64,"
    assert row["picture"].startswith(prefix)
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(row["picture"][len(prefix) :]))))
    assert picture.shape == (64, 64, 3)
    assert np.array_equal(picture, read_image(photo))
    assert row["label"] == cnnapp.load(server.runs["door"]).predict(photo)[0].label


@pytest.fixture
def bad(server: Server, tmp_path: Path) -> dict[str, tuple[str, bytes]]:
    """name -> (file name, content) of uploads that cannot be answered."""
    whole = server.signs_photos["0"][0].read_bytes()
    return {
        "text": ("letter.jpg", b"Dear reader, this is not a JPEG.\n"),
        "empty": ("empty.png", b""),
        "truncated": ("cut.jpg", whole[: len(whole) // 2]),
        "bomb": ("bomb.png", write_huge_png(tmp_path / "bomb.png", 30_000).read_bytes()),
    }


WORDS = {"text": "not an image", "empty": "not an image", "truncated": "unreadable image", "bomb": "too large"}


def assert_still_serving(server: Server) -> None:
    response = server.predict("signs", [server.signs_photos["5"][0]])
    assert response.status_code == 200 and response.json()[0]["path"] == server.signs_photos["5"][0].name


@pytest.mark.parametrize("case", ["text", "empty", "truncated", "bomb"])
def test_a_photo_that_cannot_be_read_is_422_naming_it(server: Server, bad, case):
    name, content = bad[case]
    response = server.predict("signs", [(name, content)])
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith(f"{name}: ") and WORDS[case] in detail, detail
    assert_still_serving(server)


def test_bad_photos_leave_the_good_ones_answered_in_order(server: Server, bad):
    good = server.signs_photos["0"][:2]
    response = server.predict("signs", [good[0], bad["text"], bad["bomb"], good[1]])
    assert response.status_code == 200
    rows = response.json()
    assert [row["path"] for row in rows] == [good[0].name, "letter.jpg", "bomb.png", good[1].name]
    assert [set(row) for row in rows[1:3]] == [{"path", "error"}] * 2
    assert "not an image" in rows[1]["error"] and "too large" in rows[2]["error"]
    assert rows[0]["label"] in ("0", "5") and rows[3]["label"] in ("0", "5")


def test_limits_are_413(server: Server):
    big = ("big.bmp", b"BM" + bytes(1024 * 1024))
    response = server.predict("signs", [server.signs_photos["0"][0], big])
    assert response.status_code == 413
    assert response.json()["detail"].startswith("big.bmp: 1 MB, over the limit of 1 MB a photo")
    response = server.predict("signs", [server.signs_photos["0"][0]] * 5)
    assert (response.status_code, response.json()) == (413, {"detail": "more than 4 photos in one request"})
    huge = httpx.post(f"{server.url}/api/models/signs/predict", content=bytes(5 * 1024 * 1024))
    assert huge.status_code == 413 and "over the limit of 4 photos a request" in huge.json()["detail"]
    assert_still_serving(server)


def test_unknown_model_and_empty_requests(server: Server):
    response = server.predict("nobody", [server.signs_photos["0"][0]])
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "no model named 'nobody'; the models are signs, door"},
    )
    for empty in (
        httpx.post(f"{server.url}/api/models/signs/predict"),
        httpx.post(f"{server.url}/api/models/signs/predict", data={"note": "no file"}),
        httpx.post(f"{server.url}/api/models/signs/predict", json={"photos": []}),
    ):
        assert empty.status_code == 400
        assert empty.json()["detail"].startswith("no photos: send them as multipart/form-data files")
    assert_still_serving(server)


def test_nothing_a_client_sends_reaches_other_files(server: Server, tmp_path: Path):
    escape = tmp_path / "escaped.jpg"
    name = "../" * 12 + str(escape).lstrip("/")
    response = server.predict("signs", [(name, server.signs_photos["0"][0].read_bytes())])
    assert response.status_code == 200 and response.json()[0]["path"] == name
    assert not escape.exists()
    for path in ("/api/models/..%2F..%2Fetc/predict", "/static/..%2F..%2F__init__.py", "/static/../app.py"):
        response = httpx.post(f"{server.url}{path}") if path.startswith("/api") else httpx.get(f"{server.url}{path}")
        assert response.status_code == 404, (path, response.text)
    before = {p.name for run in server.runs.values() for p in run.iterdir()}
    server.predict("door", server.happy_photos)
    assert {p.name for run in server.runs.values() for p in run.iterdir()} == before


def test_page_and_api_docs_are_served(server: Server):
    page = httpx.get(server.url)
    assert page.status_code == 200 and "<title>cnnapp</title>" in page.text
    for asset in ("/static/style.css", "/static/page.js"):
        assert httpx.get(f"{server.url}{asset}").status_code == 200
    assert "swagger" in httpx.get(f"{server.url}/docs").text.lower()
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"/api/models", "/api/models/{name}/predict", "/healthz"} <= set(paths)
    body = paths["/api/models/{name}/predict"]["post"]["requestBody"]
    assert "multipart/form-data" in body["content"]


def test_serve_refuses_bad_runs_in_one_line(server: Server, tmp_path: Path):
    result = run_cnnapp("serve", str(tmp_path))
    assert_one_line_error(result, str(tmp_path), "not a complete run folder")
    result = run_cnnapp("serve", str(server.runs["signs"]), f"signs={server.runs['door']}")
    assert_one_line_error(result, "a second run named signs")
    result = run_cnnapp("serve", f"../x={server.runs['door']}")
    assert_one_line_error(result, "NAME=RUN")
    result = run_cnnapp("serve", str(server.runs["door"]), "--allowed-host", "http://door.local:8000")
    assert_one_line_error(result, "--allowed-host http://door.local:8000: not a host name or IP address")
    port = server.url.rsplit(":", 1)[1]
    result = run_cnnapp("serve", str(server.runs["door"]), "--port", port)
    assert_one_line_error(result, f"127.0.0.1:{port}: cannot listen there (Address already in use)")


def test_serve_help_gives_the_default_limits():
    result = subprocess.run([sys.executable, "-m", "cnnapp", "serve", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "cnnapp serve runs/demo/happy runs/demo/signs" in result.stdout
    text = " ".join(result.stdout.split())
    assert "--max-photo-mb FLOAT RANGE Largest photo accepted (413 beyond). [default: 10; x>0]" in text
    assert "--max-photos INTEGER RANGE Most photos in one request. [default: 64; x>=1]" in text
    assert "--allowed-host NAME A Host name to answer besides localhost, 127.0.0.1, ::1 and --host" in text


def encoded(image: Image.Image, format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def test_only_the_four_formats_are_decoded_and_others_are_named(server: Server):
    tiff = ("scan.jpg", encoded(Image.new("RGB", (64, 64)), "TIFF"))
    eps = ("drawing.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nshowpage\n")
    response = server.predict("signs", [tiff, eps])
    assert response.status_code == 422
    rows = response.json()["results"]
    assert rows[0]["error"] == "scan.jpg: a TIFF image; cnnapp reads only JPEG, PNG, BMP or GIF"
    assert rows[1]["error"] == "drawing.eps: a PostScript (EPS) image; cnnapp reads only JPEG, PNG, BMP or GIF"


def test_a_png_over_the_decode_cap_is_refused_before_its_pixels_are_read(server: Server):
    big = ("wide.png", encoded(Image.new("1", (6000, 4200)), "PNG"))
    start = time.perf_counter()
    response = server.predict("signs", [big])
    assert response.status_code == 422
    assert response.json()["detail"] == "wide.png: image too large to decode (6000x4200 pixels, over 25,000,000)"
    assert time.perf_counter() - start < 1
    under = ("tall.png", encoded(Image.new("1", (4000, 6000)), "PNG"))
    assert server.predict("signs", [under]).status_code == 200


def test_only_the_allowed_hosts_are_answered(server: Server):
    port = server.url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST"):
        assert httpx.get(f"{server.url}/healthz", headers={"Host": host}).status_code == 200, host
    for host in (f"rebound.example:{port}", "localhost.rebound.example", "127.0.0.2"):
        response = httpx.get(f"{server.url}/api/models", headers={"Host": host})
        assert response.status_code == 400, host
        assert response.json()["detail"].startswith(f"Host {host.split(':')[0]!r} is not one this server answers to")


def seconds_until_closed(sock: socket.socket, trickle: bytes, limit: float = 20) -> tuple[float, bytes]:
    """Send trickle a byte every 0.5 s until the server closes the connection: how long that took and what the
    server answered."""
    start = time.monotonic()
    answer = b""
    sock.settimeout(0.5)
    for byte in trickle:
        try:
            sock.sendall(bytes([byte]))
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            break
        answer += chunk
        if not chunk or time.monotonic() - start > limit:
            break
    return time.monotonic() - start, answer


def test_slow_and_idle_connections_are_closed_within_seconds(server: Server):
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as idle:
        idle.settimeout(10)
        start = time.monotonic()
        assert idle.recv(100) == b""
        assert 4 < time.monotonic() - start < 7
    with socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        seconds, answer = seconds_until_closed(slow, b"a" * 100)
        assert answer == b"" and 4 < seconds < 7
    with socket.create_connection(("127.0.0.1", port)) as slow:
        head = "POST /api/models/signs/predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: 50000\r\n"
        slow.sendall(f"{head}Content-Type: multipart/form-data; boundary=b\r\n\r\n--b\r\n".encode())
        seconds, answer = seconds_until_closed(slow, b"b" * 100)
        assert answer.startswith(b"HTTP/1.1 408 ") and b"arrived slower than 16 KB a second" in answer
        assert 4 < seconds < 8
    with socket.create_connection(("127.0.0.1", port)) as gone:  # leaves halfway through its body
        gone.sendall(f"{head}Content-Type: multipart/form-data; boundary=b\r\n\r\n--b\r\n".encode())
    time.sleep(0.5)
    assert_still_serving(server)
    assert "Traceback" not in server.stderr.read_text()


def test_a_small_photo_is_answered_while_large_ones_wait_their_turn(server: Server):
    large = [(f"large{i}.png", encoded(Image.new("RGB", (4900, 4900), (90, 160, 30)), "PNG")) for i in range(4)]
    with ThreadPoolExecutor(2) as pool:
        attacks = [pool.submit(server.predict, "signs", large) for _ in range(2)]
        time.sleep(0.5)
        latencies = []
        for _ in range(3):
            start = time.perf_counter()
            assert_still_serving(server)
            latencies.append(time.perf_counter() - start)
        busy = sum(not attack.done() for attack in attacks)
        assert all(attack.result().status_code == 200 for attack in attacks)
    assert busy > 0, "the large requests ended before the small ones were sent"
    assert min(latencies) < 1, latencies


def test_the_documented_error_answers_are_the_real_ones(server: Server):
    schema = httpx.get(f"{server.url}/openapi.json").json()
    responses = schema["paths"]["/api/models/{name}/predict"]["post"]["responses"]
    components = schema["components"]["schemas"]

    def fields(status: str) -> set[str]:
        name = responses[status]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        return set(components[name]["properties"])

    unread = server.predict("signs", [("letter.jpg", b"not a photo")])
    assert unread.status_code == 422 and set(unread.json()) == fields("422") == {"detail", "results"}
    for response in (
        httpx.post(f"{server.url}/api/models/signs/predict"),
        httpx.post(f"{server.url}/api/models/signs/predict?picture=maybe", files=[("photos", b"x")]),
        server.predict("nobody", [server.signs_photos["0"][0]]),
    ):
        assert set(response.json()) == fields(str(response.status_code)) == {"detail"}, response.text
        assert isinstance(response.json()["detail"], str)
    assert "HTTPValidationError" not in components


def test_example_photos_are_test_photos_of_their_class(server: Server):
    for model in httpx.get(f"{server.url}/api/models").json():
        config = json.loads((server.runs[model["name"]] / "config.json").read_text())
        test_files = config["split"]["test_files"]
        assert len(model["examples"]) == 3 * len(model["classes"])
        for example in model["examples"]:
            (name,) = [f for f in test_files if Path(f).name == example["name"]]
            assert Path(name).parts[0] == example["label"]
            response = httpx.get(f"{server.url}{example['url']}")
            assert response.status_code == 200
            assert response.content == (Path(config["data"]["source"]) / name).read_bytes()
        assert model["examples_credit"].startswith(f"from the test split of {config['data']['name']}")
        assert "licence: see the data folder" in model["examples_credit"]
    missing = httpx.get(f"{server.url}/api/models/signs/examples/6")
    assert (missing.status_code, missing.json()) == (404, {"detail": "no example photo 6 of a model named 'signs'"})
    wrong = httpx.get(f"{server.url}/api/models/signs/examples/first")
    assert wrong.status_code == 400 and wrong.json()["detail"].startswith("number: ")
