"""Short real trainings on each real dataset: learning happens, runs are complete, reloads and seeds agree."""

import json
import os
import subprocess
import sys

import hypothesis
import numpy as np
import pytest
from hypothesis import strategies

from cnnapp.data.datasets import load_course, load_dataset, select_classes
from cnnapp.data.splits import split_dataset
from cnnapp.evaluation.evaluate import probabilities, result_of
from cnnapp.evaluation.reuse import evaluate_run, load_model
from cnnapp.runs import TrainConfig, read_run
from cnnapp.training.fit import class_weights, train_run

from clirun import cnnapp
from conftest import every_nth, need_shared, write_course_file

RUN_FILES = {
    "model.keras",
    "best.keras",
    "last.keras",
    "history.csv",
    "metrics.json",
    "config.json",
    "loss.png",
    "accuracy.png",
}


@pytest.fixture(scope="module")
def signs_six(monkeypatch_module):
    monkeypatch_module.setenv("CNNAPP_DATA", str(need_shared("sign-language-digits")))
    return select_classes(load_dataset("sign-digits"), [str(i) for i in range(6)])


def history_of(run_dir):
    lines = (run_dir / "history.csv").read_text().splitlines()
    header = lines[0].split(",")
    return {key: [float(line.split(",")[i]) for line in lines[1:]] for i, key in enumerate(header)}


def test_signs_model_learns_sign_digits(signs_six, tmp_path):
    split = split_dataset(signs_six, seed=3)
    result = train_run("signs", signs_six, split, TrainConfig(30, 64, 0.003, 3), tmp_path / "run", verbose=0)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics == result.metrics()
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} == RUN_FILES
    history = history_of(run)
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    seconds = history["epoch_seconds"]
    assert len(seconds) == 30 and min(seconds) > 0 and sum(seconds) <= metrics["train_seconds"]
    assert metrics["test_accuracy"] > 0.5  # chance is 1/6
    assert metrics["n_test"] == len(split.test)
    assert set(metrics) >= {
        "test_accuracy",
        "test_loss",
        "per_class_accuracy",
        "confusion_matrix",
        "class_names",
        "n_test",
        "train_seconds",
    }
    assert np.array(metrics["confusion_matrix"]).sum() == len(split.test)
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "signs" and config["hyperparameters"]["seed"] == 3
    assert "seed" not in config and "seed" not in config["split"]  # the seed is recorded once
    assert config["data"]["fingerprint"] == signs_six.fingerprint
    assert config["hyperparameters"]["learning_rate"] == 0.003
    assert config["split"]["n_test"] == len(split.test) and config["split"]["fractions"] == [0.7, 0.15, 0.15]
    assert config["split"]["test_indices"] == split.test.tolist() and config["split"]["n_images"] == len(signs_six.y)
    assert config["split"]["test_files"] == [signs_six.paths[i] for i in split.test]
    assert "keras" in config["versions"] and "tensorflow-cpu" in config["versions"]


def test_a_reloaded_run_predicts_exactly_as_it_did_when_trained(signs_six, tmp_path):
    split = split_dataset(signs_six, seed=4)
    trained = train_run("signs", signs_six, split, TrainConfig(3, 64, 0.001, 4), tmp_path / "run", verbose=0)
    reloaded = load_model(read_run(tmp_path / "run"))
    again = result_of(probabilities(reloaded, signs_six.x[split.test]), signs_six.y[split.test], trained.class_names)
    assert (again.loss, again.confusion_matrix) == (trained.loss, trained.confusion_matrix)
    evaluation = evaluate_run(tmp_path / "run", signs_six)
    assert (evaluation.accuracy, evaluation.loss, evaluation.n) == (trained.accuracy, trained.loss, trained.n)
    assert evaluation.confusion_matrix == trained.confusion_matrix
    assert "the run's test images" in evaluation.images


def test_the_same_seed_gives_the_same_metrics(signs_six, tmp_path):
    small = every_nth(signs_six, 2)
    runs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        split = split_dataset(small, seed)
        runs.append(train_run("signs", small, split, TrainConfig(4, 32, 0.003, seed), tmp_path / name, verbose=0))
    assert runs[0].loss == runs[1].loss
    assert runs[0].confusion_matrix == runs[1].confusion_matrix
    assert runs[0].loss != runs[2].loss


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("0", "0")])
def test_cnnapp_turns_on_tensorflows_onednn_kernels_unless_told(given, seen):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if given is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = given
    code = "import os, cnnapp.models.catalog; print(os.environ['TF_ENABLE_ONEDNN_OPTS'])"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == seen


def test_happy_model_learns_smiles(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNAPP_DATA", str(need_shared("smiles")))
    smiles = every_nth(load_dataset("smiles"), 4)
    split = split_dataset(smiles, seed=1)
    result = train_run(
        "happy", smiles, split, TrainConfig.from_recipe("happy", 1, epochs=4), tmp_path / "run", verbose=0
    )
    history = history_of(tmp_path / "run")
    assert history["loss"][-1] < history["loss"][0]
    majority = np.bincount(smiles.y[split.test]).max() / len(split.test)
    assert result.accuracy > majority + 0.05


def test_happy_model_on_course_files_made_from_the_real_test_file(tmp_path):
    real = load_course(need_shared("test_happy.h5"), "happy", "happy-house")
    order = np.random.default_rng(0).permutation(150)
    train, test = order[:110], order[110:]
    write_course_file(tmp_path / "train_happy.h5", "train", real.x[train], real.y[train])
    write_course_file(tmp_path / "test_happy.h5", "test", real.x[test], real.y[test])
    dataset = load_dataset(str(tmp_path))
    split = split_dataset(dataset, seed=1)
    assert len(split.train) == 110 and np.array_equal(split.val, split.test)
    result = train_run("happy", dataset, split, TrainConfig.from_recipe("happy", 1), tmp_path / "run", verbose=0)
    history = history_of(tmp_path / "run")
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] > 0.9
    assert result.n == 40 and result.accuracy > 0.6


def test_train_and_evaluate_through_the_command(tmp_path):
    data = need_shared("sign-language-digits")
    env = {"CNNAPP_DATA": str(data)}
    out = tmp_path / "runs" / "signs"
    result = cnnapp(
        "train",
        "signs",
        "--data",
        "sign-digits",
        "--classes",
        "0-2",
        "--epochs",
        "3",
        "--seed",
        "2",
        "--balance",
        "--out",
        str(out),
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout and str(out) in result.stdout
    assert json.loads((out / "config.json").read_text())["hyperparameters"]["balance"] is True
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert [p.name for p in out.parent.iterdir()] == ["signs"]
    result = cnnapp("evaluate", str(out), "--data", "sign-digits", "--json", env=env)
    assert result.returncode == 0, result.stderr
    evaluation = json.loads(result.stdout)
    stored = json.loads((out / "metrics.json").read_text())
    assert evaluation["accuracy"] == stored["test_accuracy"] and evaluation["n"] == stored["n_test"]
    assert set(evaluation["per_class_accuracy"]) == {"0", "1", "2"}

    again = tmp_path / "again"
    result = cnnapp("train", "--config", str(out / "config.json"), "--out", str(again), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first, second = (json.loads((run / "config.json").read_text()) for run in (out, again))
    assert {key for key in first if first[key] != second[key]} == {"created", "command"}
    assert json.loads((again / "metrics.json").read_text())["confusion_matrix"] == stored["confusion_matrix"]


@hypothesis.given(strategies.lists(strategies.integers(0, 5), min_size=1, max_size=200))
def test_balanced_classes_weigh_the_same_and_a_photo_weighs_one_on_average(labels):
    labels = np.array(labels)
    weights = class_weights(labels, 6)
    totals = {c: weights[c] * np.sum(labels == c) for c in weights}
    assert set(weights) == set(labels.tolist())
    assert np.allclose(list(totals.values()), len(labels) / len(weights))
    assert np.isclose(np.mean([weights[c] for c in labels]), 1)
