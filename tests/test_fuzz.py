"""Fuzzing the image reader, the course-file reader, the image-folder loader and the run reader with mutated real
files, random bytes, random file names and random JSON: either a good answer comes back, or cnnapp's own error does,
in bounded time.

CNNAPP_FUZZ_EXAMPLES sets the examples per test (default 100); a long run by hand:
  CNNAPP_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py
"""

import io
import json
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
from cnnapp.data.folders import load_folder
from cnnapp.data.images import read_image
from cnnapp.errors import CnnappError, printable
from cnnapp.reports.listing import run_row
from cnnapp.runs import read_run

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


def load_or_refuse_folder(root: Path) -> None:
    """load_folder gives images, labels and names that agree, or raises CnnappError naming a path under root."""
    try:
        x, y, names, paths, _ = load_folder(root)
    except CnnappError as error:
        assert str(error).startswith(str(root))
        return
    assert x.shape == (len(y), 64, 64, 3) and len(paths) == len(y) and len(set(names)) == len(names) >= 2


file_names = st.binary(min_size=1, max_size=40).filter(lambda name: b"/" not in name and b"\0" not in name)


@FUZZ
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c\n\x1b"]), file_names, st.sampled_from([".jpg", ".png", ".txt"])),
        max_size=6,
    ),
    st.binary(max_size=512),
)
def test_folders_of_random_files_load_or_give_cnnapp_s_error(files, data):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "photos"
        for class_name, name, suffix in files:
            (root / class_name).mkdir(parents=True, exist_ok=True)
            (root / class_name / os.fsdecode(name + suffix.encode())).write_bytes(data)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CNNAPP_CACHE", str(Path(folder) / "cache"))
            load_or_refuse_folder(root)


def test_mutated_real_photos_in_a_folder_load_or_give_cnnapp_s_error(photos):
    @FUZZ
    @given(st.sampled_from(sorted(photos)).flatmap(lambda suffix: st.tuples(st.just(suffix), mutated(photos[suffix]))))
    def check(case):
        suffix, data = case
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder) / "photos"
            for class_name in ("a", "b"):
                (root / class_name).mkdir(parents=True)
                (root / class_name / f"real{suffix}").write_bytes(photos[suffix])
            (root / "b" / f"fuzzed{suffix}").write_bytes(data)
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("CNNAPP_CACHE", str(Path(folder) / "cache"))
                load_or_refuse_folder(root)

    check()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
configs = st.fixed_dictionaries(
    {},
    optional={
        "model": json_values | st.just("happy"),
        "data": json_values | st.fixed_dictionaries({"class_names": json_values | st.just(["a", "b"])}),
        "hyperparameters": json_values
        | st.fixed_dictionaries({}, optional={"crop": json_values | st.just("face"), "colour": json_values}),
        "created": json_values,
    },
)
metrics = st.fixed_dictionaries(
    {}, optional={key: json_values for key in ("test_accuracy", "epochs_run", "train_seconds")}
)


def read_or_refuse_run(folder: Path) -> None:
    """A run folder gives its run and its row of `cnnapp runs`, or CnnappError naming the folder."""
    try:
        run = read_run(folder)
        row = run_row(folder)
    except CnnappError as error:
        assert str(error).startswith(str(folder))
        return
    assert len(set(run.class_names)) == len(run.class_names) >= 2 and row.model == printable(run.config["model"])


def as_file(values: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    """The JSON of values, or now and then random bytes."""
    return values.map(lambda value: json.dumps(value).encode()) | st.binary(max_size=64)


@FUZZ
@given(as_file(configs | json_values), as_file(metrics | json_values))
def test_run_folders_of_random_json_read_or_give_cnnapp_s_error(config, metric):
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        run.mkdir()
        (run / "model.keras").write_bytes(b"")
        (run / "config.json").write_bytes(config)
        (run / "metrics.json").write_bytes(metric)
        read_or_refuse_run(run)
