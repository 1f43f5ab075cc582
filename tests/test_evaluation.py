"""Evaluation that cannot leak: runs score exactly their recorded test images, starts from runs that saw the
test images are refused, and a dataset is named the same by name and by path."""

import json
from dataclasses import replace

import numpy as np
import pytest

from cnnapp.data.datasets import load_course, load_dataset, select_classes
from cnnapp.data.splits import split_dataset
from cnnapp.errors import CnnappError
from cnnapp.evaluation.reuse import evaluate_run
from cnnapp.runs import TrainConfig
from cnnapp.training.fit import train_run
from cnnapp.training.protocols import cross_validation_plan, run_group, seeds_plan, what_varies

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared, write_course_file

QUICK = TrainConfig(epochs=1, batch_size=32, learning_rate=0.003, seed=1)


def quietly(name, result):
    pass


@pytest.fixture(scope="module")
def digits(monkeypatch_module):
    monkeypatch_module.setenv("CNNAPP_DATA", str(need_shared("sign-language-digits")))
    return select_classes(load_dataset("sign-digits"), ["0", "1"])


@pytest.fixture(scope="module")
def happy_house():
    return load_course(need_shared("test_happy.h5"), "happy", "happy-house")


@pytest.fixture(scope="module")
def plain_run(digits, tmp_path_factory):
    out = tmp_path_factory.mktemp("plain") / "run"
    train_run("signs", digits, split_dataset(digits, 1), QUICK, out, verbose=0)
    return out


def assert_evaluates_to_its_metrics(run, dataset):
    stored = json.loads((run / "metrics.json").read_text())
    again = evaluate_run(run, dataset)
    assert (again.accuracy, again.loss, again.n) == (stored["test_accuracy"], stored["test_loss"], stored["n_test"])
    assert again.confusion_matrix == stored["confusion_matrix"]
    assert "the run's test images" in again.images


def test_a_cv_member_a_seeds_member_and_a_plain_run_evaluate_to_their_own_figures(
    happy_house, digits, plain_run, tmp_path
):
    plan = cross_validation_plan(happy_house, 3, [1], lambda seed: QUICK, None)
    run_group("signs", happy_house, plan, tmp_path / "cv", {"kind": "cv"}, 0, quietly)
    for member in ("seed-1-fold-1", "seed-1-fold-3"):
        assert_evaluates_to_its_metrics(tmp_path / "cv" / member, happy_house)
        assert evaluate_run(tmp_path / "cv" / member, happy_house).n == 50  # its fold, not all 150
    plan = seeds_plan(digits, [2], lambda seed: replace(QUICK, seed=seed), None)
    run_group("signs", digits, plan, tmp_path / "seeds", {"kind": "seeds"}, 0, quietly)
    assert_evaluates_to_its_metrics(tmp_path / "seeds" / "seed-2", digits)
    assert_evaluates_to_its_metrics(plain_run, digits)


def test_evaluation_refuses_when_the_test_images_cannot_be_found_again(plain_run, digits, tmp_path):
    config = json.loads((plain_run / "config.json").read_text())
    old = tmp_path / "old"
    old.mkdir()
    for name in ("model.keras", "metrics.json", "history.csv"):
        (old / name).write_bytes((plain_run / name).read_bytes())
    del config["split"]["test_indices"]
    (old / "config.json").write_text(json.dumps(config))
    with pytest.raises(CnnappError, match="does not record its test images"):
        evaluate_run(old, digits)
    with pytest.raises(CnnappError, match="cannot be found again"):
        evaluate_run(plain_run, replace(digits, x=digits.x[:-1], y=digits.y[:-1], paths=digits.paths[:-1]))
    renamed = replace(digits, paths=tuple(f"other/{p}" for p in digits.paths))
    with pytest.raises(CnnappError, match="cannot be found again"):
        evaluate_run(plain_run, renamed)


def test_init_from_a_run_that_trained_on_the_new_test_images_is_refused(plain_run, digits, tmp_path):
    start = replace(QUICK, init_from=str(plain_run))
    with pytest.raises(CnnappError, match=r"test images here trained or validated that run"):
        train_run("signs", digits, split_dataset(digits, 2), start, tmp_path / "leaky", verbose=0)
    three = select_classes(load_dataset("sign-digits"), ["0", "1", "2"])
    with pytest.raises(CnnappError, match="the splits cannot be compared"):
        train_run("signs", three, split_dataset(three, 1), start, tmp_path / "other-classes", verbose=0)
    assert not any(tmp_path.iterdir())
    same_test = train_run("signs", digits, split_dataset(digits, 1), start, tmp_path / "fine", verbose=0)
    assert same_test.n == len(split_dataset(digits, 1).test)


def test_seeds_on_course_files_say_the_split_is_the_files_own(happy_house, digits, tmp_path):
    x, y = happy_house.x, happy_house.y
    write_course_file(tmp_path / "train_happy.h5", "train", x[:100], y[:100])
    write_course_file(tmp_path / "test_happy.h5", "test", x[100:], y[100:])
    pair = load_dataset(str(tmp_path))
    splits = [split for _, split, _ in seeds_plan(pair, [1, 2], lambda seed: replace(QUICK, seed=seed), None)]
    assert np.array_equal(splits[0].test, splits[1].test)
    assert "keep their own split" in what_varies(pair) and "weights" in what_varies(pair)
    splits = [split for _, split, _ in seeds_plan(digits, [1, 2], lambda seed: replace(QUICK, seed=seed), None)]
    assert not np.array_equal(splits[0].test, splits[1].test)
    assert "its own split" in what_varies(digits)


def test_a_dataset_has_the_same_class_names_by_name_and_by_path(monkeypatch):
    shared = need_shared("smiles", "test_happy.h5")
    monkeypatch.setenv("CNNAPP_DATA", str(shared))
    by_name, by_path = load_dataset("smiles"), load_dataset(str(shared / "smiles"))
    assert by_name.class_names == by_path.class_names == ("not smiling", "smiling")
    assert by_name.fingerprint == by_path.fingerprint
    assert load_dataset(str(shared / "test_happy.h5")).class_names == load_dataset("happy-house").class_names


def test_a_failure_inside_the_run_writer_leaves_nothing(plain_run, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "metrics.json", "history.csv"):
        (broken / name).write_bytes((plain_run / name).read_bytes())
    (broken / "model.keras").write_bytes(b"not a model")
    config = json.loads((broken / "config.json").read_text())
    config["data"]["fingerprint"] = "other data"
    (broken / "config.json").write_text(json.dumps(config))
    env = {"CNNAPP_DATA": str(need_shared("sign-language-digits"))}
    out = tmp_path / "runs" / "r"
    args = (
        "train",
        "signs",
        "--data",
        "sign-digits",
        "--classes",
        "0,1",
        "--init-from",
        str(broken),
        "--out",
        str(out),
    )
    result = cnnapp(*args, env=env)
    assert_one_line_error(result, str(broken / "model.keras"), "cannot be loaded")
    assert list((tmp_path / "runs").iterdir()) == []
