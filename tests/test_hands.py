"""The hand step: MediaPipe's landmarks on real sign photos, the features that ignore a hand's place, size, angle and
side, the cache, and the model file (built from the registry package here; fetched from a mirror like a dataset)."""

import functools
import hashlib
import os
import shutil
import threading
import zipfile
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from cnnapp.data.datasets import Dataset, load_dataset
from cnnapp.data.fetch import content_checksum, fetch_dataset
from cnnapp.data.hands import (
    BORDERS,
    FEATURES,
    MIDDLE_KNUCKLE,
    MODEL,
    WRIST,
    dataset_hands,
    find_hands,
    hand_cropped,
    hand_crops,
)
from cnnapp.data.images import fit_square
from cnnapp.data.model_files import WHEEL_MEMBERS, build_wheel_copies, model_file, wheel_copy
from cnnapp.data.sources import SOURCES

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared

TOLERANCE = 0.2
"""The largest mean difference allowed between the features of a photo and of the same photo mirrored or turned
(the features are in wrist-to-middle-knuckle lengths)."""


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """The hand model file built from the mediapipe 0.10.21 wheel, in the cache the tests share (needs PyPI the
    first time)."""
    cache = os.environ.get("CNNAPP_CACHE") or str(tmp_path_factory.getbasetemp() / "cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNAPP_CACHE", cache)
        return build_wheel_copies()[MODEL]


@pytest.fixture(scope="module")
def photos(shared) -> dict[str, list[Path]]:
    """Three real photos of each hand source, of different signs."""
    need_shared("sign-language-digits", "signs-photos")
    digits = [sorted((shared / "sign-language-digits" / sign).iterdir())[0] for sign in "135"]
    signs = {
        part: [sorted((shared / "signs-photos" / part / sign).iterdir())[0] for sign in "024"]
        for part in ("train", "test")
    }
    return {"digits": digits, "signs train": signs["train"], "signs test": signs["test"]}


def read(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def test_the_registry_copy_holds_the_two_hand_models_stored_and_is_built_once(model):
    with zipfile.ZipFile(model) as task:
        assert sorted(task.namelist()) == sorted(WHEEL_MEMBERS[MODEL])
        assert all(info.compress_type == zipfile.ZIP_STORED for info in task.infolist())
    assert content_checksum(model) != SOURCES[MODEL].checksum  # not the publisher's file
    built = model.stat().st_mtime_ns
    assert build_wheel_copies()[MODEL] == model and model.stat().st_mtime_ns == built
    assert model_file(MODEL) == model


def test_a_hand_and_its_21_landmarks_are_found_in_real_photos_of_each_source(model, photos):
    for source, paths in photos.items():
        images = [read(path) for path in paths]
        hands = find_hands(images)
        assert hands.found.all(), source
        for image, points in zip(images, hands.points, strict=True):
            assert points.shape == (21, 2)
            assert (points >= -1).all() and (points <= np.array(image.size) + 1).all(), (source, points)


def test_hands_cut_by_the_photo_s_edges_are_found_in_the_wider_border(model, shared, monkeypatch):
    need_shared("sign-language-digits")
    names = ("IMG_4604.JPG", "IMG_4694.JPG", "IMG_4776.JPG")  # sign-digits 0s the quarter border misses
    images = [read(shared / "sign-language-digits" / "0" / name) for name in names]
    hands = find_hands(images)
    assert hands.found.all()
    assert all((points >= -1).all() and (points <= 101).all() for points in hands.points)  # in the 100x100 photo
    monkeypatch.setattr("cnnapp.data.hands.BORDERS", BORDERS[:1])
    assert not find_hands(images).found.any()


@pytest.mark.parametrize("kind", list(FEATURES))
def test_the_features_of_landmarks_moved_scaled_turned_or_mirrored_are_the_same(model, photos, kind):
    points = find_hands([read(paths[0]) for paths in photos.values()]).points
    angle = np.radians(37)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], dtype=np.float32)
    for matrix in (2.5 * turn, np.diag([-1.0, 1.0]).astype(np.float32) @ turn):
        moved = points @ matrix.T + np.array([40.0, -7.0], dtype=np.float32)
        np.testing.assert_allclose(FEATURES[kind](moved), FEATURES[kind](points), atol=1e-4)


@pytest.mark.parametrize("kind", list(FEATURES))
def test_the_features_barely_change_when_the_real_photo_is_mirrored_or_turned_a_quarter(model, photos, kind):
    images = [read(path) for paths in photos.values() for path in paths]
    seen = [images, [ImageOps.mirror(i) for i in images], [i.rotate(90, expand=True) for i in images]]
    hands = [find_hands(batch) for batch in seen]
    assert all(h.found.all() for h in hands)
    features = [FEATURES[kind](h.points) for h in hands]
    for changed in features[1:]:
        # the landmarker itself is not exactly mirror- or turn-proof: on a few photos it places the fingers
        # elsewhere (up to a sixth of the photo's width measured), so most photos, not all, must agree
        differences = np.abs(changed - features[0]).mean(axis=1)
        assert np.median(differences) < TOLERANCE / 2 and (differences < TOLERANCE).mean() >= 2 / 3, differences
    # the features do tell signs apart: photos of different signs differ by more than the tolerance
    assert np.abs(features[0][0] - features[0][2]).mean() > TOLERANCE
    width = np.array([image.width for image in images], dtype=np.float32)
    mirrored_back = np.stack([width[:, None] - hands[1].points[..., 0], hands[1].points[..., 1]], axis=-1)
    assert np.median(np.abs(mirrored_back - hands[0].points).mean(axis=(1, 2)) / width) < 0.03


def test_a_photo_without_a_hand_is_counted_in_place_not_dropped(model, photos):
    images = [read(photos["signs test"][0]), Image.new("RGB", (64, 64), (128, 128, 128))]
    hands = find_hands(images)
    assert hands.found.tolist() == [True, False]
    assert np.isnan(hands.points[1]).all() and not np.isnan(hands.points[0]).any()


def framed_in_grey(crop: np.ndarray) -> Image.Image:
    """A 64x64 crop in the middle of a grey 192x192 photo: the landmarker finds a hand that fills its photo less
    often than one with room around it."""
    frame = Image.new("RGB", (192, 192), (128, 128, 128))
    frame.paste(Image.fromarray(crop), (64, 64))
    return frame


def test_a_hand_crop_stands_the_hand_upright_whatever_the_photo_s_angle(model, photos):
    images = [read(path) for paths in photos.values() for path in paths]
    turned = [image.rotate(angle, expand=True, fillcolor=(128, 128, 128)) for image in images for angle in (90, -60)]
    crops = [crop for batch in (images, turned) for crop in hand_crops(batch, find_hands(batch).points)]
    seen = find_hands([framed_in_grey(crop) for crop in crops])
    assert seen.found.mean() >= 0.9
    up = seen.points[seen.found, MIDDLE_KNUCKLE] - seen.points[seen.found, WRIST]
    leaning = np.degrees(np.abs(np.arctan2(up[:, 0], -up[:, 1])))
    # the landmarker places the hand a little differently in the crop than in the photo: most stand within 15 degrees
    assert np.median(leaning) < 10 and (leaning < 25).mean() >= 0.85, leaning.round()
    # the hand fills the crop: its landmarks span most of it
    span = seen.points[seen.found].max(axis=1) - seen.points[seen.found].min(axis=1)
    assert np.median(span.max(axis=1)) > 0.6 * 64, span


def test_a_photo_without_a_hand_is_cropped_to_its_centre_square(model, photos):
    photo = read(photos["signs test"][0])
    blank = Image.new("RGB", (90, 60), (200, 30, 30))
    points = find_hands([photo, blank]).points
    crops = hand_crops([photo, blank], points)
    np.testing.assert_array_equal(crops[1], fit_square(blank))
    assert not np.array_equal(crops[0], fit_square(photo))


def small_signs_test() -> Dataset:
    """Every 20th of signs-photos' test photos."""
    signs = load_dataset("signs-photos")
    which = signs.test[::20]
    return Dataset(
        "signs test",
        signs.source,
        signs.class_names,
        signs.x[which],
        signs.y[which],
        signs.fingerprint,
        paths=tuple(signs.paths[i] for i in which),
    )


@pytest.fixture
def small(model, shared, tmp_path, monkeypatch) -> Dataset:
    """Every 20th of signs-photos' test photos, with an empty cache of this test's own (holding the model file)."""
    need_shared("signs-photos")
    monkeypatch.setenv("CNNAPP_CACHE", str(tmp_path / "cache"))
    wheel_copy(MODEL).parent.mkdir(parents=True)
    shutil.copyfile(model, wheel_copy(MODEL))
    return small_signs_test()


def test_a_dataset_s_hand_crops_are_cached_and_read_back_on_a_second_call(small, tmp_path):
    cropped = hand_cropped(small)
    first = cropped.x
    assert first.shape == small.x.shape and not np.array_equal(first, small.x)
    assert np.array_equal(cropped.hands, dataset_hands(small).found)
    cached = list((tmp_path / "cache").glob("hand-crops-*.npz"))
    assert len(cached) == 1
    np.savez(cached[0], x=255 - first)  # the second call must read this back, not crop again
    np.testing.assert_array_equal(hand_cropped(small).x, 255 - first)


def test_a_dataset_s_landmarks_are_cached_and_read_back_on_a_second_call(small, tmp_path):
    first = dataset_hands(small)
    assert first.found.sum() >= len(small.y) - 1
    cached = list((tmp_path / "cache").glob("hands-*.npz"))
    assert len(cached) == 1
    marked = first.points + 1000  # the second call must read this back, not find the hands again
    np.savez(cached[0], points=marked)
    second = dataset_hands(small)
    np.testing.assert_array_equal(second.points, marked)


@pytest.fixture
def mirror(tmp_path, model):
    """A web server on 127.0.0.1 holding the registry copy where the publisher's file is, below its host."""
    root = tmp_path / "mirror"
    url_path = SOURCES[MODEL].url.split("/", 3)[3]
    (root / url_path).parent.mkdir(parents=True)
    (root / url_path).write_bytes(model.read_bytes())
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_data_get_refuses_a_model_file_that_is_not_the_pinned_one_and_places_nothing(mirror, tmp_path):
    env = {"CNNAPP_DATA": str(tmp_path / "data"), "CNNAPP_CACHE": str(tmp_path / "cache")}
    result = cnnapp("data", "get", "hand-landmarker", "--mirror", mirror, env=env)
    assert_one_line_error(result, "checksum mismatch")
    assert not (tmp_path / "data" / "hand_landmarker.task").exists()


def test_a_fetched_model_file_in_the_data_directory_is_the_one_used(mirror, model, tmp_path, monkeypatch):
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    source = replace(SOURCES[MODEL], checksum=digest)
    placed, missing = fetch_dataset(source, tmp_path / "data", mirror)
    assert placed == tmp_path / "data" / "hand_landmarker.task" and missing == 0
    monkeypatch.setenv("CNNAPP_DATA", str(tmp_path / "data"))
    assert model_file(MODEL) == placed


def test_a_gallery_tile_says_no_hand_where_the_crop_found_none(small):
    from cnnapp.reports.gallery import caption

    cropped = hand_cropped(small)
    missing = replace(cropped, hands=np.arange(len(small.y)) != 0)  # as if no hand were found in the first photo
    assert caption(missing, 0) == "#0 no hand" and caption(missing, 1) == "#1"
    assert all(caption(cropped, i) == f"#{i}" for i in np.flatnonzero(cropped.hands))
