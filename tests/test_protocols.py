"""Cross-validation folds and repeated seeds: the splits, and the real commands on real data."""

import json

import numpy as np
import pytest

from cnnapp.data.datasets import load_course
from cnnapp.data.splits import fold_splits
from cnnapp.errors import CnnappError
from cnnapp.training.protocols import summarise

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared


@pytest.fixture(scope="module")
def happy_house():
    return load_course(need_shared("test_happy.h5"), "happy", "happy-house")


def test_folds_are_stratified_disjoint_and_cover_everything(happy_house):
    splits = fold_splits(happy_house, folds=5, seed=3)
    tests = np.concatenate([s.test for s in splits])
    assert sorted(tests.tolist()) == list(range(150))
    overall = np.bincount(happy_house.y) / 150
    for split in splits:
        assert len(split.test) == 30
        parts = [split.train, split.val, split.test]
        assert sum(len(p) for p in parts) == 150
        for a in range(3):
            for b in range(a + 1, 3):
                assert len(np.intersect1d(parts[a], parts[b])) == 0
        shares = np.bincount(happy_house.y[split.test], minlength=2) / 30
        assert np.abs(shares - overall).max() < 0.04
    again = fold_splits(happy_house, folds=5, seed=3)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(splits, again, strict=True))


def test_too_many_folds_for_a_class_is_refused(happy_house):
    with pytest.raises(CnnappError, match="200 folds need at least 200 images per class"):
        fold_splits(happy_house, folds=200, seed=1)


def test_summary_mean_and_sample_std():
    members = {
        f"r{i}": {"test_accuracy": a, "test_loss": 1.0, "n_test": 10, "train_seconds": 2.0}
        for i, a in enumerate((0.8, 0.9, 1.0))
    }
    summary = summarise(members)
    assert summary["accuracy_mean"] == pytest.approx(0.9)
    assert summary["accuracy_std"] == pytest.approx(0.1)
    assert summary["n"] == 3


def test_cv_command_on_the_real_happy_house_file(tmp_path):
    env = {"CNNAPP_DATA": str(need_shared("test_happy.h5"))}
    out = tmp_path / "cv"
    result = cnnapp(
        "cv",
        "signs",
        "--data",
        "happy-house",
        "--folds",
        "3",
        "--epochs",
        "20",
        "--learning-rate",
        "0.01",
        "--out",
        str(out),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["members"]) == ["fold-1", "fold-2", "fold-3"]
    assert sum(m["n_test"] for m in summary["members"].values()) == 150
    accuracies = [m["test_accuracy"] for m in summary["members"].values()]
    assert summary["accuracy_mean"] == pytest.approx(np.mean(accuracies))
    assert f"{summary['accuracy_mean']:.4f} ± {summary['accuracy_std']:.4f}" in result.stdout
    assert all((out / f"fold-{i}" / "model.keras").is_file() for i in (1, 2, 3))


def test_seeds_command_gives_one_run_per_seed(tmp_path):
    env = {"CNNAPP_DATA": str(need_shared("sign-language-digits"))}
    out = tmp_path / "seeds"
    result = cnnapp(
        "seeds",
        "signs",
        "--data",
        "sign-digits",
        "--classes",
        "0-2",
        "--seeds",
        "4,5",
        "--epochs",
        "2",
        "--out",
        str(out),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["members"]) == ["seed-4", "seed-5"]
    configs = [json.loads((out / f"seed-{s}" / "config.json").read_text()) for s in (4, 5)]
    assert [c["seed"] for c in configs] == [4, 5]
    assert configs[0]["split"]["described"] != configs[1]["split"]["described"]


def test_bad_seeds_and_existing_out(tmp_path):
    result = cnnapp("seeds", "signs", "--data", "sign-digits", "--seeds", "a-b")
    assert_one_line_error(result, "--seeds a-b")
    result = cnnapp("cv", "signs", "--data", str(need_shared("test_happy.h5")), "--out", str(tmp_path))
    assert_one_line_error(result, str(tmp_path), "already exists")
