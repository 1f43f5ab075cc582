"""`cnnapp adapt`: a sign run adapted to a few photos of another source, with a class dropped and one added."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cnnapp.data.datasets import load_dataset
from cnnapp.data.images import read_image
from cnnapp.evaluation.evaluate import probabilities
from cnnapp.evaluation.reuse import load_model
from cnnapp.runs import read_run
from cnnapp.training.adapt import blended, body_of, features_of, fit_readout, readout_probabilities

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared

BASE_CLASSES = ["0", "1", "2"]
NEW_CLASSES = ["0", "1", "5"]  # 2 dropped, 5 added
PER_CLASS = 5
BEFORE_TENSORFLOW = """
import sys
from cnnapp.cli.main import cli
try:
    cli(sys.argv[1:])
except SystemExit as end:
    print(end.code, sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'}))
    raise
"""


def copied(source: Path, classes: list[str], per_class: int | None, into: Path) -> Path:
    """A class-subfolder folder of copies of the first per_class photos (all when None) of each class of source."""
    for name in classes:
        (into / name).mkdir(parents=True)
        for photo in sorted((source / name).iterdir())[:per_class]:
            shutil.copy(photo, into / name / photo.name)
    return into


@pytest.fixture(scope="module")
def adapted(tmp_path_factory) -> dict[str, Path]:
    """A tiny sign run of sign-language-digits 0-2, adapted to 5 signs-photos training photos of 0, 1 and 5."""
    shared = need_shared("sign-language-digits", "signs-photos")
    root = tmp_path_factory.mktemp("adapt")
    digits = root / "digits"
    for name in BASE_CLASSES:
        (digits / name).mkdir(parents=True)
        for photo in sorted((shared / "sign-language-digits" / name).iterdir())[::5]:
            (digits / name / photo.name).symlink_to(photo)
    trained = cnnapp("train", "signs", "--data", str(digits), "--epochs", "2", "--out", str(root / "base"))
    assert trained.returncode == 0, trained.stderr
    mine = copied(shared / "signs-photos" / "train", NEW_CLASSES, PER_CLASS, root / "mine")
    test = copied(shared / "signs-photos" / "test", NEW_CLASSES, None, root / "test")
    done = cnnapp("adapt", str(root / "base"), "--data", str(mine), "--out", str(root / "run"), "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert "cross-validated accuracy" in done.stdout and f"on {3 * PER_CLASS} photos (5 folds)" in done.stdout
    return {"base": root / "base", "run": root / "run", "mine": mine, "test": test, "root": root}


def test_the_run_has_the_photos_classes_and_records_its_base_and_photos(adapted):
    config = json.loads((adapted["run"] / "config.json").read_text())
    assert config["data"]["class_names"] == NEW_CLASSES
    assert len(config["data"]["files"]) == 3 * PER_CLASS
    base = config["initial_weights"]
    assert Path(base["run"]) == adapted["base"]
    assert base["class_names"] == BASE_CLASSES
    base_config = json.loads((adapted["base"] / "config.json").read_text())
    assert base["data_fingerprint"] == base_config["data"]["fingerprint"]
    assert "test_indices" not in config["split"]  # every photo fit the readout: none is a test photo


def test_the_cross_validated_figure_is_recorded_with_its_photo_count(adapted):
    metrics = json.loads((adapted["run"] / "metrics.json").read_text())
    assert metrics["n_test"] == 3 * PER_CLASS
    assert metrics["cross_validation"] == {"folds": 5, "n_photos": 3 * PER_CLASS, "seed": 3}
    matrix = np.array(metrics["confusion_matrix"])
    assert matrix.sum() == 3 * PER_CLASS and matrix.sum(axis=1).tolist() == [PER_CLASS] * 3
    assert metrics["test_accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
    listed = cnnapp("runs", str(adapted["root"]))
    assert listed.returncode == 0, listed.stderr
    assert f"{metrics['test_accuracy']:.4f}" in listed.stdout


def confusion_of_predictions(run: Path, test: Path) -> list[list[int]]:
    """The confusion matrix of `cnnapp predict --json` on every photo of the test folder."""
    predicted = cnnapp("predict", str(run), str(test), "--json")
    assert predicted.returncode == 0, predicted.stderr
    matrix = np.zeros((3, 3), dtype=int)
    for line in predicted.stdout.splitlines():
        answer = json.loads(line)
        matrix[NEW_CLASSES.index(Path(answer["path"]).parent.name), NEW_CLASSES.index(answer["label"])] += 1
    return matrix.tolist()


def test_predict_agrees_with_evaluate_and_with_its_onnx_export(adapted):
    evaluated = cnnapp("evaluate", str(adapted["run"]), "--data", str(adapted["test"]), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout)
    assert result["n"] == 60 and result["class_names"] == NEW_CLASSES
    assert confusion_of_predictions(adapted["run"], adapted["test"]) == result["confusion_matrix"]
    exported = adapted["root"] / "exported"
    shutil.copytree(adapted["run"], exported)
    done = cnnapp("export", str(exported))
    assert done.returncode == 0, done.stderr
    assert (exported / "model.onnx").is_file()
    assert confusion_of_predictions(exported, adapted["test"]) == result["confusion_matrix"]


def test_adapted_to_the_base_s_own_classes_it_averages_the_base_s_answer_and_the_readout(adapted, tmp_path):
    import cnnapp as package

    shared = need_shared("signs-photos") / "signs-photos"
    mine = copied(shared / "train", BASE_CLASSES, PER_CLASS, tmp_path / "mine")
    done = cnnapp("adapt", str(adapted["base"]), "--data", str(mine), "--out", str(tmp_path / "run"), "--seed", "3")
    assert done.returncode == 0, done.stderr
    keeps = [
        json.loads((run / "config.json").read_text())["hyperparameters"]["keeps_base_answer"]
        for run in (tmp_path / "run", adapted["run"])
    ]
    assert keeps == [True, False]  # the fixture's run dropped a class and added one
    photos = [path for name in BASE_CLASSES for path in sorted((shared / "test" / name).iterdir())[:4]]
    base = load_model(read_run(adapted["base"]))
    learnt = load_dataset(str(mine))
    readout = fit_readout(features_of(body_of(base), learnt.x), learnt.y, len(BASE_CLASSES))
    images = np.stack([read_image(photo) for photo in photos])
    alone = readout_probabilities(readout, features_of(body_of(base), images))
    expected = blended(alone, probabilities(base, images))
    answers = package.load(tmp_path / "run").predict(photos)
    got = np.array([list(answer.probabilities.values()) for answer in answers])
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert np.abs(got - alone).max() > 0.01


def test_its_own_photos_are_not_taken_for_test_photos(adapted):
    refused = cnnapp("evaluate", str(adapted["run"]), "--data", str(adapted["mine"]))
    assert_one_line_error(refused, "config.json", "test images")


@pytest.mark.parametrize(("classes", "width"), [(2, 8), (3, 8), (2, 300), (3, 300)])
def test_the_readout_is_the_standardised_logistic_regression(classes, width):
    rng = np.random.default_rng(classes)
    labels = np.arange(30) % classes
    features = rng.normal(size=(30, width)) * rng.uniform(0.1, 50, size=width) + labels[:, None]
    features[:, 0] = 4.0  # a feature that never changes, as a unit that never fires
    expected = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(features, labels)
    got = readout_probabilities(fit_readout(features, labels, classes), features)
    assert got.shape == (30, classes)
    np.testing.assert_allclose(got, expected.predict_proba(features), atol=1e-3)  # up to the solver's tolerance


def test_bad_inputs_are_refused_in_one_line(adapted, tmp_path):
    lonely = copied(adapted["mine"], ["0"], None, tmp_path / "lonely")
    copied(adapted["mine"], ["1"], 1, lonely)
    refused = subprocess.run(
        [
            sys.executable,
            "-c",
            BEFORE_TENSORFLOW,
            "adapt",
            str(adapted["base"]),
            "--data",
            str(lonely),
            "--out",
            str(tmp_path / "a"),
        ],
        capture_output=True,
        text=True,
    )
    assert_one_line_error(refused, str(lonely), "1 (1)")
    assert refused.stdout == "2 []\n"  # refused before TensorFlow loads
    assert not (tmp_path / "a").exists()
    broken = copied(adapted["mine"], NEW_CLASSES, None, tmp_path / "broken")
    (broken / "5" / "torn.jpg").write_bytes((broken / "5").iterdir().__next__().read_bytes()[:300])
    refused = cnnapp("adapt", str(adapted["base"]), "--data", str(broken), "--out", str(tmp_path / "b"))
    assert_one_line_error(refused, "torn.jpg")
    assert not (tmp_path / "b").exists()
    refused = cnnapp("adapt", str(adapted["mine"]), "--data", str(broken), "--out", str(tmp_path / "c"))
    assert_one_line_error(refused, str(adapted["mine"]), "not a complete run folder")
    refused = cnnapp("adapt", str(adapted["base"]), "--data", str(adapted["mine"]), "--out", str(adapted["run"]))
    assert_one_line_error(refused, str(adapted["run"]), "already exists")


def test_its_report_on_other_photos_has_no_training_curves(adapted):
    out = adapted["root"] / "report"
    done = cnnapp("report", str(adapted["run"]), "--data", str(adapted["test"]), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert {"report.html", "confusion.png", "predictions.png"} <= {p.name for p in out.iterdir()}
    assert not (out / "loss.png").exists()
    page = (out / "report.html").read_text()
    assert "Training curves" not in page and "60 images right" in page
