"""The face step: finding a face at any size, the crop a run trains and predicts with, the whole-photo fallback."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import cnnapp
from cnnapp.data.course import read_course_file
from cnnapp.data.faces import RULE, as_seen, face_crops, find_faces
from cnnapp.data.images import fit_square, read_image
from cnnapp.evaluation.evaluate import probabilities
from cnnapp.evaluation.reuse import load_model
from cnnapp.runs import TrainConfig, read_run, write_json
from cnnapp.web.app import create_app
from cnnapp.web.served import load_served

from clirun import assert_one_line_error
from clirun import cnnapp as run_cnnapp
from conftest import need_shared
from test_predict import linked_subset, train_and_export

SCALE, FRAME = 4, 512
"""A Happy House photo scaled up 4x (256 pixels) and laid in the middle of a black frame twice as large."""


def scaled_and_padded(photo: Image.Image) -> Image.Image:
    big = photo.resize((photo.width * SCALE, photo.height * SCALE), Image.Resampling.BICUBIC)
    frame = Image.new("RGB", (FRAME, FRAME))
    frame.paste(big, ((FRAME - big.width) // 2, (FRAME - big.height) // 2))
    return frame


@pytest.fixture(scope="module")
def happy_house() -> list[Image.Image]:
    x, _, _ = read_course_file(need_shared("test_happy.h5") / "test_happy.h5", "test")
    return [Image.fromarray(image) for image in x[:6]]


@pytest.fixture(scope="module")
def hand(shared) -> Path:
    return sorted((need_shared("sign-language-digits") / "sign-language-digits" / "3").iterdir())[0]


@pytest.fixture(scope="module")
def face_run(tmp_path_factory) -> Path:
    """A small happy run trained on smiles photos cropped to the face, in grey: folder/keras, and folder/onnx with
    model.onnx exported."""
    shared = need_shared("smiles")
    root = tmp_path_factory.mktemp("faces")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNAPP_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        data = linked_subset(shared / "smiles", ["negatives", "positives"], 40, root / "data")
        settings = TrainConfig(2, 16, 0.001, 1, crop="face", colour="grey")
        train_and_export("happy", data, settings, root / "run", False)
    return root / "run"


def test_a_face_is_found_and_framed_alike_at_64_pixels_and_scaled_4x_into_a_larger_frame(happy_house):
    padded = [scaled_and_padded(photo) for photo in happy_house]
    small, large = find_faces(happy_house), find_faces(padded)
    offset = (FRAME - SCALE * 64) / 2
    for at_64, at_512 in zip(small, large, strict=True):
        assert at_64 is not None and at_512 is not None
        for name in ("left_eye", "right_eye", "mouth_left", "mouth_right"):
            back = (np.asarray(getattr(at_512, name)) - offset) / SCALE
            assert np.abs(back - np.asarray(getattr(at_64, name))).max() < 2.0, name
    crops_64, found_64 = face_crops(happy_house)
    crops_512, found_512 = face_crops(padded)
    assert found_64.all() and found_512.all()
    difference = np.abs(crops_64.astype(int) - crops_512.astype(int)).mean(axis=(1, 2, 3))
    whole = np.abs(crops_64.astype(int) - np.stack([fit_square(p) for p in happy_house]).astype(int)).mean()
    assert difference.max() < 0.3 * whole, (difference, whole)


def test_a_photo_with_no_face_is_taken_whole(hand):
    photo = Image.open(hand).convert("RGB")
    crops, found = face_crops([photo])
    assert not found[0]
    assert np.array_equal(crops[0], fit_square(photo))


def test_the_run_records_its_crop_and_colour(face_run):
    config = read_run(face_run / "keras").config
    assert (config["hyperparameters"]["crop"], config["hyperparameters"]["colour"]) == ("face", "grey")
    assert config["face_rule"] == RULE


def test_predict_says_whether_a_face_was_found_and_a_bad_photo_is_one_line(face_run, happy_house, hand, tmp_path):
    face = tmp_path / "face.png"
    scaled_and_padded(happy_house[0]).save(face)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not a jpeg")
    result = run_cnnapp("predict", str(face_run / "onnx"), str(face), str(hand), str(broken), "--json")
    assert_one_line_error(result, str(broken))
    rows = {Path(row["path"]).name: row for row in map(json.loads, result.stdout.splitlines())}
    assert (rows["face.png"]["face"], rows[hand.name]["face"]) == (True, False)
    keras_answers = cnnapp.load(face_run / "keras").predict([face, hand])
    assert [a.face for a in keras_answers] == [True, False]
    for answer, name in zip(keras_answers, ("face.png", hand.name), strict=True):
        assert answer.probability == pytest.approx(rows[name]["probability"], abs=1e-4)


def test_the_served_answer_says_whether_a_face_was_found_and_shows_the_crop(face_run, happy_house, hand):
    client = TestClient(create_app(load_served([f"door={face_run / 'onnx'}"])), base_url="http://localhost")
    face = scaled_and_padded(happy_house[1])
    with client:
        response = client.post(
            "/api/models/door/predict",
            files=[("photos", ("face.png", png_bytes(face))), ("photos", ("hand.jpg", hand.read_bytes()))],
            params={"picture": True},
        )
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [row["face"] for row in rows] == [True, False]
    assert all(row["picture"].startswith("data:image/png;base64,") for row in rows)


def png_bytes(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_run_from_before_the_face_step_predicts_the_whole_photo_as_before(face_run, hand, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(face_run / "keras", old)
    config = read_run(old).config
    for key in ("crop", "colour"):
        del config["hyperparameters"][key]
    del config["face_rule"]
    write_json(old / "config.json", config)
    answer = cnnapp.load(old).predict(hand)[0]
    assert "face" not in answer.answer()
    expected = probabilities(load_model(read_run(old)), read_image(hand)[None])[0]
    assert answer.probability == pytest.approx(float(expected.max()), abs=1e-5)


@pytest.mark.parametrize("colour", ["colour", "grey", "equalised"])
def test_no_photos_are_seen_as_no_photos(colour):
    none = np.empty((0, 64, 64, 3), dtype=np.uint8)
    seen = as_seen(none, colour)
    assert seen.shape == none.shape and seen.dtype == np.uint8


def test_grey_photos_have_three_equal_channels_and_equalised_ones_reach_black_and_white(happy_house):
    dark = (np.stack([np.asarray(photo) for photo in happy_house]) // 3).astype(np.uint8)
    for colour in ("grey", "equalised"):
        seen = as_seen(dark, colour)
        assert seen.shape == dark.shape
        assert np.array_equal(seen[..., 0], seen[..., 1]) and np.array_equal(seen[..., 1], seen[..., 2])
    assert as_seen(dark, "grey").max() <= 86
    spread = as_seen(dark, "equalised")
    assert (spread.reshape(len(dark), -1).max(axis=1) == 255).all()
    assert (spread.reshape(len(dark), -1).min(axis=1) < 20).all()
    assert np.array_equal(as_seen(dark, "colour"), dark)
