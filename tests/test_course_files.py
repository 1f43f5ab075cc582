"""The course's HDF5 files: loaders on files of the exact schema, on the real test_happy.h5, and bad files."""

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnapp.data.course import convert_to_one_hot, load_happy_dataset, load_signs_dataset, read_course_file
from cnnapp.data.datasets import load_course, load_dataset
from cnnapp.errors import CnnappError

from conftest import need_shared, random_course_arrays, write_course_file


def test_happy_loader_returns_the_course_shapes(tmp_path):
    rng = np.random.default_rng(0)
    write_course_file(tmp_path / "train_happy.h5", "train", *random_course_arrays(rng, 12, 2))
    write_course_file(tmp_path / "test_happy.h5", "test", *random_course_arrays(rng, 5, 2))
    x_train, y_train, x_test, y_test, classes = load_happy_dataset(tmp_path)
    assert x_train.shape == (12, 64, 64, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (1, 12) and y_test.shape == (1, 5)
    assert x_test.shape == (5, 64, 64, 3)
    assert classes.tolist() == [0, 1]


def test_signs_loader_and_one_hot(tmp_path):
    rng = np.random.default_rng(1)
    classes = list(range(6))
    write_course_file(tmp_path / "train_signs.h5", "train", *random_course_arrays(rng, 18, 6), classes)
    write_course_file(tmp_path / "test_signs.h5", "test", *random_course_arrays(rng, 6, 6), classes)
    x_train, y_train, _, y_test, found = load_signs_dataset(tmp_path)
    assert found.tolist() == classes
    assert x_train.shape == (18, 64, 64, 3) and y_test.shape == (1, 6)
    one_hot = convert_to_one_hot(y_train, 6).T
    assert one_hot.shape == (18, 6)
    assert (one_hot.argmax(axis=1) == y_train.ravel()).all()


@given(st.lists(st.integers(0, 9), min_size=1, max_size=50), st.integers(10, 12))
def test_convert_to_one_hot_has_one_one_per_column(labels, classes):
    matrix = convert_to_one_hot(np.array(labels).reshape(1, -1), classes)
    assert matrix.shape == (classes, len(labels))
    assert (matrix.sum(axis=0) == 1).all()
    assert matrix.argmax(axis=0).tolist() == labels


def test_the_real_happy_house_test_file():
    shared = need_shared("test_happy.h5")
    x, y, classes = read_course_file(shared / "test_happy.h5", "test")
    assert x.shape == (150, 64, 64, 3) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [66, 84]
    assert classes.tolist() == [0, 1]


def test_a_folder_with_only_the_test_file_is_a_dataset_to_evaluate_on():
    shared = need_shared("test_happy.h5")
    dataset = load_course(shared, "happy", "happy-house")
    assert len(dataset.train) == 0 and len(dataset.test) == 150
    assert dataset.class_names == ("0", "1")


def test_named_happy_house_uses_readable_class_names(monkeypatch):
    shared = need_shared("test_happy.h5")
    monkeypatch.setenv("CNNAPP_DATA", str(shared))
    dataset = load_dataset("happy-house")
    assert dataset.class_names == ("not smiling", "smiling")
    assert dataset.counts() == {"not smiling": 66, "smiling": 84}


def test_a_course_pair_keeps_train_before_test(tmp_path):
    rng = np.random.default_rng(2)
    x_train, y_train = random_course_arrays(rng, 8, 2)
    x_test, y_test = random_course_arrays(rng, 4, 2)
    write_course_file(tmp_path / "train_happy.h5", "train", x_train, y_train)
    write_course_file(tmp_path / "test_happy.h5", "test", x_test, y_test)
    dataset = load_dataset(str(tmp_path))
    assert (dataset.x[dataset.train] == x_train).all()
    assert (dataset.x[dataset.test] == x_test).all()
    assert (dataset.y[dataset.test] == y_test).all()


def bad_files(tmp_path):
    """(description, path, expected words in the error) for each way a course file can be wrong."""
    rng = np.random.default_rng(3)
    x, y = random_course_arrays(rng, 4, 2)
    cases = []
    path = tmp_path / "keys" / "test_happy.h5"
    path.parent.mkdir()
    with h5py.File(path, "w") as f:
        f.create_dataset("test_x", data=x)
        f.create_dataset("test_set_y", data=y)
    cases.append(("wrong keys", path, "missing HDF5 dataset(s) test_set_x, list_classes"))
    cases.append(("float images", write_course_file(_at(tmp_path, "dtype"), "test", x.astype(float), y), "uint8"))
    cases.append(
        ("wrong image size", write_course_file(_at(tmp_path, "shape"), "test", x[:, :32], y), "(4, 32, 64, 3)")
    )
    cases.append(("count mismatch", write_course_file(_at(tmp_path, "count"), "test", x, y[:3]), "4 images but"))
    cases.append(("label outside", write_course_file(_at(tmp_path, "label"), "test", x, y + 5), "not in list_classes"))
    text = _at(tmp_path, "text")
    text.write_text("not hdf5")
    cases.append(("not HDF5", text, "not a readable HDF5 file"))
    cases.append(("missing", tmp_path / "nowhere" / "test_happy.h5", "no such file"))
    return cases


def _at(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    return folder / "test_happy.h5"


def test_every_bad_course_file_is_named_with_its_fault(tmp_path):
    for description, path, words in bad_files(tmp_path):
        with pytest.raises(CnnappError) as caught:
            read_course_file(path, "test")
        message = str(caught.value)
        assert message.startswith(str(path)), description
        assert words in message, (description, message)
        assert "\n" not in message
