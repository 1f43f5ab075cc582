"""Dense face landmarks: the model file built from the mediapipe wheel or fetched from its pinned URL, the 468 points
on real photos, their cache, and smile features that neither a mirror image nor the face's size changes."""

import hashlib
import os
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from test_download import Server

from cnnapp.data.course import read_course_file
from cnnapp.data.datasets import load_dataset
from cnnapp.data.landmarks import (
    EYE_LEFT,
    EYE_RIGHT,
    FEATURES,
    MODEL,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    POINTS,
    dataset_landmarks,
    face_landmarks,
    smile_features,
)
from cnnapp.data.model_files import build_wheel_copies, model_file, wheel_copy
from cnnapp.data.sources import SOURCES

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared

PHOTOS = {"genki4k": "smiling", "celeba-10k": "smiling", "mtfl-net": "not smiling", "smiles": "positives"}
"""A real photo of each face source is the first file of this folder."""


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """The cache the tests share, holding the model file built from the mediapipe wheel on PyPI (needs PyPI the
    first time)."""
    folder = Path(os.environ.get("CNNAPP_CACHE") or tmp_path_factory.getbasetemp() / "cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNAPP_CACHE", str(folder))
        build_wheel_copies()
    return folder


@pytest.fixture
def cached(cache, monkeypatch) -> Path:
    monkeypatch.setenv("CNNAPP_CACHE", str(cache))
    return cache


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    """One real photo of each face source, and two Happy House photos (64x64)."""
    shared = need_shared(*PHOTOS, "test_happy.h5")
    files = [sorted((shared / source / folder).iterdir())[0] for source, folder in PHOTOS.items()]
    x, _, _ = read_course_file(shared / "test_happy.h5", "test")
    return [Image.open(f).convert("RGB") for f in files] + [Image.fromarray(image) for image in x[:2]]


def test_model_file_is_the_pinned_one(cached, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNAPP_DATA", str(tmp_path))
    data = wheel_copy(MODEL).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SOURCES[MODEL].checksum
    assert model_file(MODEL) == wheel_copy(MODEL)


def test_model_file_fetched_from_its_url_and_checked(cached, tmp_path, monkeypatch):
    served = Server()
    threading.Thread(target=served.serve_forever, args=(0.05,), daemon=True).start()
    try:
        real = wheel_copy(MODEL).read_bytes()
        path = SOURCES[MODEL].url.split("/", 3)[3]  # below the host, with the publisher's version query
        served.files["/" + path] = bytes([real[0] ^ 1]) + real[1:]
        env = {"CNNAPP_DATA": str(tmp_path / "data"), "CNNAPP_CACHE": str(tmp_path / "cache")}
        bad = cnnapp("data", "get", MODEL, "--mirror", served.base, env=env)
        assert_one_line_error(bad, "checksum mismatch", "the download was deleted")
        assert not (tmp_path / "data" / SOURCES[MODEL].target).exists()
        served.files["/" + path] = real
        good = cnnapp("data", "get", MODEL, "--mirror", served.base, env=env)
        assert good.returncode == 0, good.stderr
        assert f"{MODEL}: licence: {SOURCES[MODEL].licence}" in good.stdout
        assert (tmp_path / "data" / SOURCES[MODEL].target).read_bytes() == real
        assert [logged for logged, _ in served.log] == ["/" + path] * 2
        assert [saved.name[17:] for saved in (tmp_path / "cache" / "downloads").iterdir()] == ["face_landmark.tflite"]
    finally:
        served.shutdown()
        served.server_close()
    monkeypatch.setenv("CNNAPP_DATA", str(tmp_path / "data"))  # the data directory's file comes first
    assert model_file(MODEL) == tmp_path / "data" / SOURCES[MODEL].target


def test_landmarks_lie_on_the_face(cached, photos):
    points = face_landmarks(photos)
    assert points.shape == (len(photos), POINTS, 3)
    assert not np.isnan(points).any()
    for photo, face in zip(photos, points, strict=True):
        inner = face[[*EYE_LEFT, *EYE_RIGHT, MOUTH_LEFT, MOUTH_RIGHT], :2]  # the face's outline may leave a tight crop
        assert (inner >= 0).all() and (inner < photo.size).all()
        middle = (face[:, 1].min() + face[:, 1].max()) / 2
        eyes = face[[*EYE_LEFT, *EYE_RIGHT], 1]
        mouth = face[[MOUTH_LEFT, MOUTH_RIGHT], 1]
        assert (eyes < middle).all() and (mouth > middle).all()
        assert face[list(EYE_LEFT), 0].max() < face[list(EYE_RIGHT), 0].min()
        assert face[MOUTH_LEFT, 0] < face[MOUTH_RIGHT, 0]


def test_no_face_gives_nan(cached):
    hand = sorted((need_shared("sign-language-digits") / "sign-language-digits" / "3").iterdir())[0]
    assert np.isnan(face_landmarks([Image.open(hand).convert("RGB")])).all()


def test_dataset_landmarks_are_cached(cached, photos, tmp_path, monkeypatch):
    own = tmp_path / "cache"  # a cache of its own, with the shared model files, that no other test writes to
    own.mkdir()
    (own / "models").symlink_to(cached / "models")
    monkeypatch.setenv("CNNAPP_CACHE", str(own))
    dataset = load_dataset("happy-house")
    dataset = replace(dataset, x=dataset.x[:3], y=dataset.y[:3])
    first = dataset_landmarks(dataset)
    files = list(own.glob("landmarks-*.npz"))
    assert len(files) == 1 and not np.isnan(first).any()
    np.savez(files[0], points=first + 1)  # what is read back must come from the cache, not a second look
    assert np.array_equal(dataset_landmarks(dataset), first + 1)
    other = replace(dataset, x=dataset.x[1:])
    assert np.allclose(dataset_landmarks(other), first[1:], atol=1e-3)
    assert len(list(own.glob("landmarks-*.npz"))) == 2


def test_features_ignore_mirror_and_size(cached, photos):
    photo = photos[0]
    views = [photo, ImageOps.mirror(photo), photo.resize((photo.width * 3 // 2, photo.height * 3 // 2))]
    features = smile_features(face_landmarks(views))
    assert features.shape == (3, len(FEATURES))
    assert np.abs(features[1:] - features[0]).max() < 0.04  # eye distances
    others = smile_features(face_landmarks(photos[1:4]))
    assert (np.abs(others - features[0]).max(axis=1) > 0.08).all()


def test_data_list_and_info_say_which_model_file_is_there(cached, tmp_path):
    env = {"CNNAPP_DATA": str(tmp_path / "data"), "CNNAPP_CACHE": str(tmp_path / "cache")}

    def models() -> dict[str, list[str]]:
        listed = cnnapp("data", "list", env=env)
        assert listed.returncode == 0, listed.stderr
        rows = listed.stdout.split("model files (pretrained, not datasets):\n")[1].splitlines()
        return {row.split()[0]: row.split() for row in rows}

    assert models() == {
        name: [name, "missing", source.target, source.licence.split(";")[0]]
        for name, source in SOURCES.items()
        if source.model
    }
    assert_one_line_error(cnnapp("data", "info", MODEL, env=env), "no face-landmarks model file", "data get")
    placed = tmp_path / "data" / SOURCES[MODEL].target
    placed.parent.mkdir()
    placed.write_bytes(wheel_copy(MODEL).read_bytes())
    hand = "hand-landmarker"
    copy = tmp_path / "cache" / wheel_copy(hand).relative_to(cached)
    copy.parent.mkdir(parents=True)
    copy.write_bytes(wheel_copy(hand).read_bytes())
    assert models()[MODEL][1] == "ready" and models()[hand][1:3] == ["wheel", "copy"]
    info = cnnapp("data", "info", MODEL, env=env)
    assert info.returncode == 0, info.stderr
    assert info.stdout.splitlines()[0] == f"{MODEL}: model file {placed}"
    assert f"licence: {SOURCES[MODEL].licence}" in info.stdout and "(matches the pinned checksum)" in info.stdout
    info = cnnapp("data", "info", hand, env=env)
    assert f"{hand}: model file {copy}" in info.stdout
    assert "(differs from the pinned checksum; built from PyPI's mediapipe 0.10.21 wheel)" in info.stdout
