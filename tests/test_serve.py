"""`cnnapp serve` over real HTTP: the API's answers against `cnnapp predict`, every bad request, the limits."""

import base64
import io
import json
import subprocess
import sys
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
    assert (models["door"]["model"], models["door"]["opens_door_on"]) == ("happy", "positives")
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
    assert page.status_code == 200 and "<title>cnnapp: the Happy House door</title>" in page.text
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
    port = server.url.rsplit(":", 1)[1]
    result = run_cnnapp("serve", str(server.runs["door"]), "--port", port)
    assert_one_line_error(result, f"127.0.0.1:{port}: cannot listen there (Address already in use)")


def test_serve_help_gives_the_default_limits():
    result = subprocess.run([sys.executable, "-m", "cnnapp", "serve", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "cnnapp serve runs/demo/happy runs/demo/signs" in result.stdout
    text = " ".join(result.stdout.split())
    assert "--max-photo-mb FLOAT RANGE Largest photo accepted (413 beyond). [default: 10; x>0]" in text
    assert "--max-photos INTEGER RANGE Most photos in one request. [default: 64; x>=1]" in text
