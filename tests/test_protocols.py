"""Cross-validation folds and repeated seeds: the splits, and the real commands on real data."""

import json

import numpy as np
import pytest

from cnnapp.data.datasets import load_course, load_image_folder
from cnnapp.data.splits import fold_splits, group_ids, split_dataset
from cnnapp.errors import CnnappError
from cnnapp.runs import Result
from cnnapp.training.protocols import summarise

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared

STUDENT = r"IMG_(\d+)\d"  # sign-digits: each student's ten photos share the number but its last digit


@pytest.fixture(scope="module")
def sign_digits():
    return load_image_folder(need_shared("sign-language-digits") / "sign-language-digits", "sign-digits")


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


def groups_apart(ids: np.ndarray, *parts: np.ndarray) -> bool:
    """No group has photos in two of the parts."""
    seen = [set(ids[part].tolist()) for part in parts]
    return all(not (seen[a] & seen[b]) for a in range(len(seen)) for b in range(a + 1, len(seen)))


def test_grouped_split_keeps_each_student_on_one_side(sign_digits):
    ids = group_ids(sign_digits, STUDENT)
    assert 200 <= len(np.unique(ids)) <= 230  # the dataset has 218 students
    assert ids[sign_digits.paths.index("0/IMG_1118.JPG")] == ids[sign_digits.paths.index("1/IMG_1119.JPG")]
    split = split_dataset(sign_digits, seed=2, groups=STUDENT)
    assert groups_apart(ids, split.train, split.val, split.test)
    assert sum(len(p) for p in (split.train, split.val, split.test)) == len(ids)
    assert abs(len(split.test) / len(ids) - 0.15) < 0.03
    assert np.bincount(sign_digits.y[split.test]).min() > 0.6 * len(split.test) / 10
    plain = split_dataset(sign_digits, seed=2)
    assert not groups_apart(ids, plain.train, plain.test)
    again = split_dataset(sign_digits, seed=2, groups=STUDENT)
    assert np.array_equal(again.test, split.test)


def test_grouped_folds_are_disjoint_by_group_and_stratified(sign_digits):
    ids = group_ids(sign_digits, STUDENT)
    splits = fold_splits(sign_digits, folds=4, seed=1, groups=STUDENT)
    assert sorted(np.concatenate([s.test for s in splits]).tolist()) == list(range(len(ids)))
    for split in splits:
        assert groups_apart(ids, split.train, split.val, split.test)
        shares = np.bincount(sign_digits.y[split.test], minlength=10) / len(split.test)
        assert np.abs(shares - 0.1).max() < 0.02


def test_bad_groups_are_refused(sign_digits, happy_house):
    with pytest.raises(CnnappError, match=r"`groups` IMG_\(: not a regular expression"):
        group_ids(sign_digits, "IMG_(")
    with pytest.raises(CnnappError, match=r"0/IMG_1118.JPG: its name does not match `groups` photo_"):
        group_ids(sign_digits, "photo_")
    with pytest.raises(CnnappError, match="needs an image folder"):
        split_dataset(happy_house, seed=1, groups=STUDENT)
    with pytest.raises(CnnappError, match="finds 1 groups; this split needs 3"):
        split_dataset(sign_digits, seed=1, groups="IMG")


def test_too_many_folds_for_a_class_is_refused(happy_house):
    with pytest.raises(CnnappError, match="200 folds need at least 200 images per class"):
        fold_splits(happy_house, folds=200, seed=1)


def test_summary_mean_and_sample_std():
    members = {
        f"r{i}": Result(a, 1.0, 10, {}, [], ["a", "b"], training={"train_seconds": 2.0})
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
        "--seeds",
        "1,2",
        "--epochs",
        "3",
        "--learning-rate",
        "0.01",
        "--out",
        str(out),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    names = [f"seed-{s}-fold-{f}" for s in (1, 2) for f in (1, 2, 3)]
    assert sorted(summary["members"]) == names
    assert sum(m["n_test"] for m in summary["members"].values()) == 300
    accuracies = [m["test_accuracy"] for m in summary["members"].values()]
    assert summary["accuracy_mean"] == pytest.approx(np.mean(accuracies))
    assert f"{summary['accuracy_mean']:.4f} ± {summary['accuracy_std']:.4f}" in result.stdout
    assert all((out / name / "model.keras").is_file() for name in names)
    configs = {name: json.loads((out / name / "config.json").read_text()) for name in names}
    first = configs["seed-1-fold-1"]["split"]
    assert first["described"].startswith("fold 1 of 3") and first["n_test"] != 0
    assert [configs[name]["hyperparameters"]["seed"] for name in names] == [1] * 3 + [2] * 3


def test_seeds_command_gives_one_run_per_seed_and_keeps_groups_whole(tmp_path):
    env = {"CNNAPP_DATA": str(need_shared("sign-language-digits"))}
    out = tmp_path / "seeds"
    result = cnnapp(
        "seeds",
        "signs",
        "--data",
        "sign-digits",
        "--classes",
        "0-2",
        "--groups",
        STUDENT,
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
    assert [c["hyperparameters"]["seed"] for c in configs] == [4, 5]
    assert configs[0]["split"]["described"] != configs[1]["split"]["described"]
    assert [c["split"]["groups"] for c in configs] == [STUDENT, STUDENT]
    evaluated = cnnapp("evaluate", str(out / "seed-4"), "--data", "sign-digits", "--json", env=env)
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["n"] == configs[0]["split"]["n_test"]
    assert STUDENT in report["evaluated_on"]


def test_bad_seeds_and_existing_out(tmp_path):
    result = cnnapp("seeds", "signs", "--data", "sign-digits", "--seeds", "a-b")
    assert_one_line_error(result, "--seeds a-b")
    data = str(need_shared("sign-language-digits") / "sign-language-digits")
    result = cnnapp("train", "signs", "--data", data, "--groups", "IMG_(", "--out", str(tmp_path / "never"))
    assert_one_line_error(result, "--groups IMG_(", "not a regular expression")
    assert not (tmp_path / "never").exists()
    result = cnnapp("cv", "signs", "--data", str(need_shared("test_happy.h5")), "--out", str(tmp_path))
    assert_one_line_error(result, str(tmp_path), "already exists")
