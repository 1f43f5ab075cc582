"""Hostile input through the real command and the real readers: each case gets one line naming the file or option
(exit code 2, nothing half-written), or a correct answer; never a hang, a traceback, nan or a raw terminal code."""

import json
import math
import os
import resource
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image
from test_cli_errors import course_folder, photo_folder

from cnnapp.data.datasets import load_course, parse_classes
from cnnapp.data.faces import cropped_dataset
from cnnapp.data.folders import fingerprint_files, load_folder
from cnnapp.errors import CnnappError, printable
from cnnapp.evaluation.reuse import checked_probabilities, load_model
from cnnapp.files import writing_folder
from cnnapp.runs import Run, read_run, write_json

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared, random_course_arrays, write_course_file


def onnx_model(path: Path, outputs: str = "sigmoid", side: int = 64) -> Path:
    """A real ONNX model of (n, side, side, 3) pixels to one column: the sigmoid of their mean, or (outputs="nan")
    the log of minus their mean, which is nan for every photo."""
    pixels = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["n", side, side, 3])
    score = helper.make_tensor_value_info("score", TensorProto.FLOAT, ["n", 1])
    axes = helper.make_tensor("axes", TensorProto.INT64, [3], [1, 2, 3])
    nodes = [helper.make_node("ReduceMean", ["pixels", "axes"], ["mean"], keepdims=1)]
    nodes += [helper.make_node("Reshape", ["mean", "shape"], ["column"])]
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 1])
    if outputs == "nan":
        nodes += [helper.make_node("Neg", ["column"], ["minus"]), helper.make_node("Log", ["minus"], ["score"])]
    else:
        nodes += [helper.make_node("Sigmoid", ["column"], ["score"])]
    graph = helper.make_graph(nodes, "mean", [pixels], [score], initializer=[axes, shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, path)
    return path


def onnx_run(folder: Path, outputs: str = "sigmoid", side: int = 64, **hyperparameters) -> Path:
    """A run folder whose model.onnx is made by onnx_model; its model.keras is never opened."""
    folder.mkdir(parents=True)
    config = {"model": "happy", "data": {"name": "faces", "class_names": ["frown", "smile"]}}
    write_json(folder / "config.json", config | {"hyperparameters": hyperparameters})
    write_json(folder / "metrics.json", {"test_accuracy": 0.5, "epochs_run": 1, "train_seconds": 1.0})
    (folder / "model.keras").write_bytes(b"")
    onnx_model(folder / "model.onnx", outputs, side)
    return folder


def photo(path: Path, shade: int = 90) -> Path:
    Image.new("RGB", (30, 30), (shade, 40, 200)).save(path, "JPEG")
    return path


# Silent wrong results


def test_a_course_file_listing_a_class_twice_is_refused(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    x, _ = random_course_arrays(np.random.default_rng(0), 8, 2)
    ones = np.ones(8, dtype=np.int64)
    write_course_file(root / "train_happy.h5", "train", x, ones, classes=(1, 1))
    write_course_file(root / "test_happy.h5", "test", x[:4], ones[:4], classes=(1, 1))
    result = cnnapp("train", "happy", "--data", str(root), "--out", str(tmp_path / "r"))
    assert_one_line_error(result, str(root / "test_happy.h5"), "list_classes", "1 more than once")
    assert not (tmp_path / "r").exists()


def test_a_listed_class_without_images_is_refused(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    x, y = random_course_arrays(np.random.default_rng(0), 4, 2)
    write_course_file(root / "test_happy.h5", "test", x, y, classes=(0, 1, 2))
    result = cnnapp("data", "info", str(root))
    assert_one_line_error(result, str(root / "test_happy.h5"), "no image is labelled with class 2")


@pytest.mark.parametrize(
    "args, option",
    [
        (["train", "happy", "--data", "x", "--learning-rate", "nan"], "--learning-rate"),
        (["train", "happy", "--data", "x", "--learning-rate", "inf"], "--learning-rate"),
        (["train", "happy", "--data", "x", "--learning-rate", "-1"], "--learning-rate"),
        (["tune", "happy", "--data", "x", "--max-minutes", "nan"], "--max-minutes"),
        (["tune", "happy", "--data", "x", "--wait", "inf"], "--wait"),
        (["serve", "runs/r", "--max-photo-mb", "inf"], "--max-photo-mb"),
        (["train", "happy", "--data", "x", "--seed", "-1"], "--seed"),
        (["seeds", "happy", "--data", "x", "--seeds", "-1"], "--seeds"),
    ],
)
def test_numbers_out_of_range_or_not_finite_are_refused_by_name(tmp_path, args, option):
    start = time.monotonic()
    result = cnnapp(*args, cwd=tmp_path, timeout=60)
    assert_one_line_error(result, option)
    assert time.monotonic() - start < 30


def test_a_range_of_classes_is_bounded_before_it_is_expanded(tmp_path):
    data = photo_folder(tmp_path / "photos")
    result = cnnapp("train", "happy", "--data", str(data), "--classes", "0-99999999", timeout=60)
    assert_one_line_error(result, "--classes 0-99999999", "more than 1000")
    start = time.monotonic()
    with pytest.raises(CnnappError, match="`classes` 0-99999999: more than 1000 values"):
        parse_classes("0-99999999")
    with pytest.raises(CnnappError, match="more than 1000"):
        parse_classes(",".join(str(i) for i in range(40_000)))
    assert time.monotonic() - start < 1
    assert parse_classes("0-2,7") == ["0", "1", "2", "7"]


def test_json_is_never_written_with_nan(tmp_path):
    with pytest.raises(CnnappError, match="not finite") as error:
        write_json(tmp_path / "metrics.json", {"test_loss": math.nan})
    assert str(error.value).startswith(str(tmp_path / "metrics.json"))
    assert list(tmp_path.iterdir()) == []


def test_a_training_that_diverges_stops_in_one_line_and_leaves_nothing(tmp_path):
    data = photo_folder(tmp_path / "photos", per_class=10)
    out = tmp_path / "runs" / "r"
    result = cnnapp("train", "happy", "--data", str(data), "--learning-rate", "3e38", "--epochs", "2", "--out", out)
    assert_one_line_error(result, "--learning-rate 3e+38", "diverged in epoch 1", "nan")
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_model_that_answers_nan_is_named(tmp_path):
    run = onnx_run(tmp_path / "run", outputs="nan")
    result = cnnapp("predict", str(run), str(photo(tmp_path / "a.jpg")))
    assert_one_line_error(result, str(run / "model.onnx"), "not probabilities")
    assert result.stdout == ""


def test_a_keras_model_that_answers_nan_is_named_before_its_scores_are_reported(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Flatten(), keras.layers.Dense(1, "sigmoid")])
    model.layers[-1].set_weights([np.full((64 * 64 * 3, 1), np.nan), np.zeros(1)])
    with pytest.raises(CnnappError, match="not probabilities") as error:
        checked_probabilities(Run(tmp_path, {}, {}), model, np.zeros((2, 64, 64, 3), dtype=np.uint8))
    assert str(error.value).startswith(str(tmp_path / "model.keras"))


def test_an_unknown_crop_in_config_json_is_refused_by_name(tmp_path):
    run = onnx_run(tmp_path / "run", crop="xyz")
    result = cnnapp("predict", str(run), str(photo(tmp_path / "a.jpg")))
    assert_one_line_error(result, str(run / "config.json"), "crop 'xyz' is not known to this version")
    broken = onnx_run(tmp_path / "grey", colour="sepia")
    with pytest.raises(CnnappError, match="colour 'sepia' is not known"):
        read_run(broken)


# Hangs


def test_predict_refuses_a_fifo_at_once(tmp_path):
    run = onnx_run(tmp_path / "run")
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)
    result = cnnapp("predict", str(run), str(fifo), str(photo(tmp_path / "a.jpg")), timeout=60)
    assert_one_line_error(result, str(fifo), "not a regular file")
    assert result.stdout.splitlines()[0].startswith(f"{tmp_path / 'a.jpg'}\tsmile\t")


def test_a_course_file_declaring_gigabytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "test_happy.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("test_set_x", shape=(400_000, 64, 64, 3), dtype=np.uint8, chunks=(1, 64, 64, 3))
        f.create_dataset("test_set_y", shape=(400_000,), dtype=np.int64, chunks=(1000,))
        f.create_dataset("list_classes", data=np.array([0, 1]))
    assert path.stat().st_size < 100_000
    start = time.monotonic()
    result = cnnapp("data", "info", str(path), timeout=60)
    assert_one_line_error(result, str(path), "400,000 images")
    assert time.monotonic() - start < 30


# Names, permissions, places to write


def test_a_photo_name_that_is_not_utf8_is_read_and_shown_escaped(tmp_path):
    folder = photo_folder(tmp_path / "photos")
    odd = photo(Path(os.fsdecode(bytes(folder / "a") + b"/\xff\x1b[31m\n.jpg")))
    result = cnnapp("data", "info", str(folder))
    assert result.returncode == 0, result.stderr
    assert "images: 7" in result.stdout
    run = onnx_run(tmp_path / "run")
    result = cnnapp("predict", str(run), str(folder / "a"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and "\x1b" not in result.stdout
    assert any(line.startswith(f"{folder / 'a'}/\\xff\\x1b[31m\\n.jpg\tsmile\t0.") for line in lines), lines
    assert odd.is_file()


def test_escape_codes_in_a_name_never_reach_the_terminal(tmp_path):
    bad = tmp_path / "\x1b]0;owned\x07\x1b[2J.png"
    bad.write_text("not a photo")
    run = onnx_run(tmp_path / "run")
    result = cnnapp("predict", str(run), str(bad))
    line = assert_one_line_error(result, "not an image")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert printable(str(bad)) in line


def test_a_photo_that_cannot_be_read_is_named(tmp_path):
    # run as root, a file without read permission is still read: a folder and a dangling link named as photos
    # fail in the same call (read_bytes), as an unreadable file does for another user
    folder = photo_folder(tmp_path / "photos")
    (folder / "a" / "x.jpg").mkdir()
    (folder / "b" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    for path in (folder / "a" / "x.jpg", folder / "b" / "gone.jpg"):
        with pytest.raises(CnnappError) as error:
            fingerprint_files(folder, [folder / "a" / "0.jpg", path])
        assert str(error.value).startswith(f"{path}: cannot be read")
    assert load_folder(folder)[0].shape == (6, 64, 64, 3)  # the folder itself stays usable: neither is a photo


def test_an_out_under_a_regular_file_is_named(tmp_path):
    data = course_folder(tmp_path / "course")
    (tmp_path / "file").write_text("in the way")
    out = tmp_path / "file" / "sub" / "grid.png"
    result = cnnapp("show", str(data), "--out", str(out))
    assert_one_line_error(result, str(out))
    with pytest.raises(CnnappError, match="cannot be written") as error, writing_folder(tmp_path / "file" / "r"):
        pass
    assert str(error.value).startswith(str(tmp_path / "file" / "r"))


def test_a_cache_that_is_a_file_is_named(tmp_path):
    cache = tmp_path / "cache"
    cache.write_text("not a folder")
    folder = photo_folder(tmp_path / "photos")
    result = cnnapp("data", "info", str(folder), env={"CNNAPP_CACHE": str(cache)})
    assert_one_line_error(result, str(cache), "CNNAPP_CACHE")


def test_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNAPP_CACHE", str(tmp_path / "cache"))
    folder = photo_folder(tmp_path / "photos")
    first = load_folder(folder)
    for entry in (tmp_path / "cache").iterdir():
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    again = load_folder(folder)
    assert np.array_equal(first[0], again[0]) and first[4] == again[4]
    (npz,) = (tmp_path / "cache").glob("folder-*.npz")
    np.savez(npz, x=np.zeros((2, 64, 64, 3), dtype=np.uint8))  # whole, but not these photos
    assert np.array_equal(load_folder(folder)[0], first[0])


def test_a_damaged_face_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNAPP_CACHE", str(tmp_path / "cache"))
    happy = load_course(need_shared("test_happy.h5"), "happy", "happy-house")
    two = replace(happy, x=happy.x[:2], y=happy.y[:2], train=None, test=None)
    first = cropped_dataset(two)
    (cached,) = (tmp_path / "cache").glob("faces-*.npz")
    cached.write_bytes(cached.read_bytes()[:100])
    again = cropped_dataset(two)
    assert np.array_equal(first.x, again.x) and np.array_equal(first.faces, again.faces)


def test_a_full_disk_names_the_file(tmp_path):
    # a file size limit (RLIMIT_FSIZE) fails a write as a full disk does: an OSError from write
    data = course_folder(tmp_path / "course")
    out = tmp_path / "grid.png"

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = subprocess.run(
        [sys.executable, "-m", "cnnapp", "show", str(data), "--out", str(out)],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limited,
    )
    assert_one_line_error(result, str(out), "cannot be written", "File too large")
    assert list(tmp_path.iterdir()) == [tmp_path / "course"]


# Models from elsewhere


def test_a_model_saved_by_a_newer_keras_is_refused_by_name(tmp_path):
    import keras

    path = tmp_path / "model.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]).save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["metadata.json"] = json.dumps({"keras_version": "99.0.0"}).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(CnnappError, match=r"saved by Keras 99\.0\.0, newer than") as error:
        load_model(Run(tmp_path, {}, {}))
    assert str(error.value).startswith(str(path))


def test_an_onnx_model_of_another_input_shape_is_named(tmp_path):
    run = onnx_run(tmp_path / "run", side=32)
    result = cnnapp("predict", str(run), str(photo(tmp_path / "a.jpg")))
    assert_one_line_error(result, str(run / "model.onnx"), "(n, 64, 64, 3)")


def test_runs_lists_the_others_when_one_config_is_broken(tmp_path):
    good = onnx_run(tmp_path / "runs" / "good")
    config = json.loads((good / "config.json").read_text())
    config["created"] = "2026-01-02T03:04:05+00:00"
    write_json(good / "config.json", config)
    broken = onnx_run(tmp_path / "runs" / "broken")
    write_json(broken / "config.json", config | {"data": 5})
    result = cnnapp("runs", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    (problem,) = result.stderr.splitlines()
    assert str(broken) in problem and "data.class_names" in problem
    assert str(good) in result.stdout and str(broken) not in result.stdout
