"""Every kind of bad input through the real command: exit code 2, one line naming the file, nothing written."""

import h5py
import numpy as np
import pytest
from PIL import Image

from clirun import assert_one_line_error, cnnapp
from conftest import random_course_arrays, write_course_file


def photo_folder(root, classes=("a", "b"), per_class=3):
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (40, 40), (60 * i, 100, 0)).save(root / name / f"{i}.jpg")
    return root


def course_folder(root, **changes):
    """A happy-house pair of the course's schema; changes replace x, y, classes or keys of the test file."""
    root.mkdir()
    rng = np.random.default_rng(0)
    write_course_file(root / "train_happy.h5", "train", *random_course_arrays(rng, 8, 2))
    x, y = random_course_arrays(rng, 4, 2)
    x, y = changes.get("x", x), changes.get("y", y)
    if "keys" in changes:
        with h5py.File(root / "test_happy.h5", "w") as f:
            for key in changes["keys"]:
                f.create_dataset(key, data=y)
    else:
        write_course_file(root / "test_happy.h5", "test", x, y)
    return root


def bad_inputs(tmp_path):
    """(case id, data path, file the error must name, words it must hold)."""
    cases = [("missing folder", tmp_path / "nope", tmp_path / "nope", "not a known dataset")]
    rng = np.random.default_rng(1)
    x, y = random_course_arrays(rng, 4, 2)
    for case, change, words in [
        ("wrong keys", {"keys": ["test_set_y"]}, "missing HDF5 dataset"),
        ("wrong dtype", {"x": x.astype(np.float32)}, "expected uint8"),
        ("wrong shape", {"x": x[:, :, :10]}, "expected uint8"),
        ("count mismatch", {"y": y[:2]}, "4 images but"),
        ("label outside list_classes", {"y": y + 3}, "not in list_classes"),
    ]:
        root = course_folder(tmp_path / case.replace(" ", "-"), **change)
        cases.append((case, root, root / "test_happy.h5", words))
    truncated = photo_folder(tmp_path / "truncated")
    Image.new("RGB", (300, 300), (200, 10, 10)).save(truncated / "b" / "cut.jpg", quality=95)
    (truncated / "b" / "cut.jpg").write_bytes((truncated / "b" / "cut.jpg").read_bytes()[:600])
    cases.append(("truncated image", truncated, truncated / "b" / "cut.jpg", "unreadable image"))
    unreadable = photo_folder(tmp_path / "unreadable")
    (unreadable / "a" / "text.png").write_text("hello")
    cases.append(("unreadable image", unreadable, unreadable / "a" / "text.png", "not an image"))
    empty = photo_folder(tmp_path / "empty-class")
    (empty / "c").mkdir()
    cases.append(("empty class folder", empty, empty / "c", "holds no images"))
    single = photo_folder(tmp_path / "one-class", classes=("a",))
    cases.append(("one class", single, single, "at least two class"))
    return cases


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return bad_inputs(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("index", range(10))
def test_train_refuses_bad_data(cases, tmp_path, index):
    case, data, named, words = cases[index]
    result = cnnapp("train", "signs", "--data", str(data), "--out", str(tmp_path / "runs" / "r"), cwd=tmp_path)
    line = assert_one_line_error(result, str(named), words)
    assert line.startswith("cnnapp: error:"), case
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unknown_model_writes_nothing(tmp_path):
    data = photo_folder(tmp_path / "photos")
    result = cnnapp("train", "resnet", "--data", str(data), "--out", str(tmp_path / "runs" / "r"), cwd=tmp_path)
    assert_one_line_error(result, "resnet", "no such model", "happy, signs")
    assert not any((tmp_path / "runs").glob("*")) if (tmp_path / "runs").exists() else True


def test_binary_model_refuses_ten_classes(tmp_path):
    data = photo_folder(tmp_path / "photos", classes=tuple("abc"))
    result = cnnapp("train", "happy", "--data", str(data), "--out", str(tmp_path / "runs" / "r"), cwd=tmp_path)
    assert_one_line_error(result, "binary", "3 classes")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unknown_class_choice(tmp_path):
    data = photo_folder(tmp_path / "photos")
    result = cnnapp("train", "signs", "--data", str(data), "--classes", "a,z")
    assert_one_line_error(result, str(data), "no class z")


def test_an_unknown_class_of_a_course_file_names_the_file(tmp_path):
    path = write_course_file(tmp_path / "test_happy.h5", "test", *random_course_arrays(np.random.default_rng(0), 4, 2))
    result = cnnapp("show", str(path), "--class", "7", "--out", str(tmp_path / "grid.png"))
    assert_one_line_error(result, str(path), "no class 7")
    assert not (tmp_path / "grid.png").exists()


def test_training_on_a_test_file_only_is_refused(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    write_course_file(root / "test_happy.h5", "test", *random_course_arrays(np.random.default_rng(0), 4, 2))
    result = cnnapp("train", "happy", "--data", str(root), "--out", str(tmp_path / "r"))
    assert_one_line_error(result, str(root), "no training images")
    assert not (tmp_path / "r").exists()


def test_bad_usage_exits_2(tmp_path):
    result = cnnapp("train", "signs")
    assert result.returncode == 2 and "--data" in result.stderr and "Traceback" not in result.stderr
    result = cnnapp("train", "signs", "--data", "x", "--epochs", "0")
    assert result.returncode == 2 and "--epochs" in result.stderr


def test_evaluate_on_something_that_is_not_a_run(tmp_path):
    result = cnnapp("evaluate", str(tmp_path), "--data", "smiles")
    assert_one_line_error(result, str(tmp_path), "not a complete run folder")


def test_every_command_has_help_with_an_example():
    for command in (["train"], ["evaluate"], ["summary"], ["demo"], ["data", "list"], ["data", "info"]):
        result = cnnapp(*command, "--help")
        assert result.returncode == 0, command
        assert "Example:" in result.stdout and "cnnapp " in result.stdout.split("Example:")[1], command


def test_a_seed_given_twice_is_an_error_about_seeds():
    result = cnnapp("seeds", "signs", "--data", "sign-digits", "--seeds", "1,1")
    assert_one_line_error(result, "--seeds 1,1", "1 given twice")
