"""Dense face landmarks: the model file built from the mediapipe wheel or fetched from its pinned URL, the 468 points
on real photos, their cache, and smile features that neither a mirror image nor the face's size changes."""

import hashlib
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
    MOUTH_LEFT,
    MOUTH_RIGHT,
    POINTS,
    build_model_file,
    dataset_landmarks,
    face_landmarks,
    fetch_model_file,
    model_path,
    smile_features,
)
from cnnapp.data.sources import MODELS
from cnnapp.errors import CnnappError

from conftest import need_shared

PHOTOS = {"genki4k": "smiling", "celeba-10k": "smiling", "mtfl-net": "not smiling", "smiles": "positives"}
"""A real photo of each face source is the first file of this folder."""


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """A cache folder holding the model file, built from the mediapipe wheel on PyPI."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNAPP_CACHE", str(folder))
        build_model_file()
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


def test_model_file_is_the_pinned_one(cache):
    data = (cache / "models" / MODELS["face-landmarks"].target).read_bytes()
    assert hashlib.sha256(data).hexdigest() == MODELS["face-landmarks"].checksum


def test_model_file_fetched_from_its_url_and_checked(cache, tmp_path, monkeypatch):
    served = Server()
    threading.Thread(target=served.serve_forever, args=(0.05,), daemon=True).start()
    try:
        real = (cache / "models" / MODELS["face-landmarks"].target).read_bytes()
        served.files = {"/bad.tflite": bytes([real[0] ^ 1]) + real[1:]}
        monkeypatch.setenv("CNNAPP_CACHE", str(tmp_path))
        pinned = MODELS["face-landmarks"]
        monkeypatch.setitem(MODELS, "face-landmarks", replace(pinned, url=f"{served.base}/bad.tflite"))
        with pytest.raises(CnnappError, match="checksum mismatch"):
            fetch_model_file()
        assert not model_path().exists()
        good = "/good.tflite?generation=2"  # a versioned URL, as the publisher's
        served.files[good] = real
        monkeypatch.setitem(MODELS, "face-landmarks", replace(pinned, url=served.base + good))
        assert fetch_model_file().read_bytes() == real
        assert fetch_model_file() == model_path()
        assert [path for path, _ in served.log] == ["/bad.tflite", good]
        assert [path.name[17:] for path in (tmp_path / "downloads").iterdir()] == ["good.tflite"]
    finally:
        served.shutdown()
        served.server_close()


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


def test_dataset_landmarks_are_cached(cached, photos):
    dataset = load_dataset("happy-house")
    dataset = replace(dataset, x=dataset.x[:3], y=dataset.y[:3])
    first = dataset_landmarks(dataset)
    files = list(cached.glob("landmarks-*.npz"))
    assert len(files) == 1 and not np.isnan(first).any()
    np.savez(files[0], points=first + 1)  # what is read back must come from the cache, not a second look
    assert np.array_equal(dataset_landmarks(dataset), first + 1)
    other = replace(dataset, x=dataset.x[1:])
    assert np.allclose(dataset_landmarks(other), first[1:], atol=1e-3)
    assert len(list(cached.glob("landmarks-*.npz"))) == 2


def test_features_ignore_mirror_and_size(cached, photos):
    photo = photos[0]
    views = [photo, ImageOps.mirror(photo), photo.resize((photo.width * 3 // 2, photo.height * 3 // 2))]
    features = smile_features(face_landmarks(views))
    assert features.shape == (3, len(FEATURES))
    assert np.allclose(features[1:], features[0], rtol=0.1, atol=0.02)
    assert not np.allclose(smile_features(face_landmarks(photos[1:3])), features[0], rtol=0.1, atol=0.02)
