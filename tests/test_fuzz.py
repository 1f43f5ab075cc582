"""Fuzzing the image reader and the course-file reader with mutated real files and random bytes: either a
64x64 image or arrays come back, or cnnapp's own error does, in bounded time.

CNNAPP_FUZZ_EXAMPLES sets the examples per test (default 100); a long run by hand:
  CNNAPP_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py
"""

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cnnapp.data.course import read_course_file
from cnnapp.data.datasets import load_course
from cnnapp.data.images import read_image
from cnnapp.errors import CnnappError

from conftest import need_shared, write_course_file

FUZZ = settings(
    max_examples=int(os.environ.get("CNNAPP_FUZZ_EXAMPLES", "100")),
    deadline=2000,  # milliseconds an example may take
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("CI") == "true",
)


def real_photos() -> dict[str, bytes]:
    """A real sign-digit photo as its JPEG, and the same photo as PNG, GIF and BMP, as bytes."""
    jpeg = (need_shared("sign-language-digits") / "sign-language-digits" / "3" / "IMG_1121.JPG").read_bytes()
    photos = {".jpg": jpeg}
    image = Image.open(io.BytesIO(jpeg)).resize((40, 40))
    for suffix, kind in ((".png", "PNG"), (".gif", "GIF"), (".bmp", "BMP")):
        buffer = io.BytesIO()
        image.save(buffer, kind)
        photos[suffix] = buffer.getvalue()
    return photos


def real_course_file() -> bytes:
    """A course file of six real Happy House faces, as bytes."""
    happy = load_course(need_shared("test_happy.h5"), "happy", "happy-house")
    with tempfile.TemporaryDirectory() as folder:
        path = write_course_file(Path(folder) / "test_happy.h5", "test", happy.x[:6], happy.y[:6])
        return path.read_bytes()


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """original with some bytes changed, a run of bytes inserted or deleted, and possibly cut short."""
    data = bytearray(original)
    for _ in range(draw(st.integers(0, 12))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(max_size=64))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data) - 1))
        del data[at : at + draw(st.integers(1, 256))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def written(data: bytes, suffix: str, folder: str) -> Path:
    path = Path(folder) / f"fuzzed{suffix}"
    path.write_bytes(data)
    return path


def read_or_refuse(path: Path) -> None:
    """read_image gives a 64x64 RGB array or raises CnnappError naming the file; anything else fails the test."""
    try:
        image = read_image(path)
    except CnnappError as error:
        assert str(error).startswith(str(path))
        return
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    return real_photos()


@pytest.fixture(scope="module")
def course_bytes() -> bytes:
    return real_course_file()


def test_mutated_real_photos_read_or_give_cnnapp_s_error(photos):
    @FUZZ
    @given(st.sampled_from(sorted(photos)).flatmap(lambda suffix: st.tuples(st.just(suffix), mutated(photos[suffix]))))
    def check(case):
        suffix, data = case
        with tempfile.TemporaryDirectory() as folder:
            read_or_refuse(written(data, suffix, folder))

    check()


@FUZZ
@given(st.sampled_from([".jpg", ".png", ".gif", ".bmp"]), st.binary(max_size=4096))
def test_random_bytes_named_as_photos_give_cnnapp_s_error(suffix, data):
    with tempfile.TemporaryDirectory() as folder:
        read_or_refuse(written(data, suffix, folder))


def read_or_refuse_course(path: Path) -> None:
    """read_course_file gives checked arrays or raises CnnappError naming the file."""
    try:
        x, y, classes = read_course_file(path, "test")
    except CnnappError as error:
        assert str(error).startswith(str(path))
        return
    assert x.dtype == np.uint8 and x.shape[1:] == (64, 64, 3) and len(x) == len(y)
    assert set(y.tolist()) <= set(classes.tolist())


def test_mutated_real_course_files_read_or_give_cnnapp_s_error(course_bytes):
    @FUZZ
    @given(mutated(course_bytes))
    def check(data):
        with tempfile.TemporaryDirectory() as folder:
            read_or_refuse_course(written(data, ".h5", folder))

    check()


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_as_a_course_file_give_cnnapp_s_error(data):
    with tempfile.TemporaryDirectory() as folder:
        read_or_refuse_course(written(data, ".h5", folder))
