"""Sources with their own split, several sources in one training, and test photos that training has seen."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from cnnapp.cli.model_cmds import chosen_data
from cnnapp.data.datasets import load_dataset, mixed
from cnnapp.data.images import read_image
from cnnapp.data.leaks import SAME, THRESHOLD, correlation, find_leaks, perceptual_hashes
from cnnapp.data.splits import split_dataset
from cnnapp.reports.report import write_report
from cnnapp.runs import TrainConfig, read_run
from cnnapp.training.fit import photo_weights

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared

RESAVED_IN_TRAINING = {
    "0_IMG_5969.jpg",
    "0_IMG_5975_1.jpg",
    "0_IMG_5976.jpg",
    "0_IMG_5980_1.jpg",
    "0_IMG_6237.jpg",
    "0_IMG_6240.jpg",
    "0_IMG_6250_1.jpg",
    "0_IMG_6252_1.jpg",
    "0_IMG_6253_1.jpg",
    "0_IMG_6276_1.jpg",
    "0_IMG_6278.jpg",
    "0_IMG_6280.jpg",
}
"""The class-0 test photos of signs-photos that its training split holds again, re-saved under another name."""


def copy_classes(source, target, per_class: int, skip: int = 0, names: dict | None = None) -> None:
    """per_class photos of each class folder of source (after the first skip) into target, renamed by names."""
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        into = target / (names or {}).get(folder.name, folder.name)
        into.mkdir(parents=True)
        for photo in sorted(folder.iterdir())[skip : skip + per_class]:
            shutil.copy(photo, into / photo.name)


SMILES_NAMES = {"negatives": "not smiling", "positives": "smiling"}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Two small smile sources of real photos, with the same class names: SMILEsmileD and GENKI-4K."""
    shared = need_shared("smiles", "genki4k")
    root = tmp_path_factory.mktemp("sources")
    copy_classes(shared / "smiles", root / "smiles", 60, names=SMILES_NAMES)
    copy_classes(shared / "genki4k", root / "genki", 40)
    return root


def test_the_leak_check_names_the_re_saved_class_0_photos_of_signs_photos():
    dataset = load_dataset(str(need_shared("signs-photos") / "signs-photos"))
    split = split_dataset(dataset, seed=1)
    assert (len(split.train) + len(split.val), len(split.test)) == (1080, 120)
    found = find_leaks(dataset, split)
    seen = {f["test"].split("/")[-1] for f in found if f["in"] in ("training", "validation")}
    assert seen >= RESAVED_IN_TRAINING
    assert all(f["test"].startswith("test/") and f["bits"] <= THRESHOLD for f in found)
    repeats = [(f["test"], f["matches"]) for f in found if f["in"] == "test"]
    assert repeats == [("test/0/0_IMG_5990_1.jpg", "test/0/0_IMG_5990.jpg")]
    assert len(found) < 20  # near duplicates, not every photo of a burst


def test_the_leak_check_finds_a_planted_copy_and_a_re_saved_one(tmp_path):
    shared = need_shared("smiles")
    folder = tmp_path / "planted"
    copy_classes(shared / "smiles", folder / "train", 30, names=SMILES_NAMES)
    copy_classes(shared / "smiles", folder / "test", 10, skip=30, names=SMILES_NAMES)
    copied = sorted((folder / "train" / "smiling").iterdir())[3]
    shutil.copy(copied, folder / "test" / "smiling" / "copy.jpg")
    resaved = sorted((folder / "train" / "not smiling").iterdir())[7]
    Image.open(resaved).resize((60, 60), Image.BILINEAR).save(
        folder / "test" / "not smiling" / "resaved.jpg", quality=80
    )
    dataset = load_dataset(str(folder))
    found = find_leaks(dataset, split_dataset(dataset, seed=1))
    named = {f["test"]: f["matches"].split("/")[-1] for f in found}
    assert named == {"test/smiling/copy.jpg": copied.name, "test/not smiling/resaved.jpg": resaved.name}

    refused = cnnapp("train", "happy", "--data", str(folder), "--leaks", "refuse", "--out", str(tmp_path / "run"))
    assert_one_line_error(refused, str(folder), "2 test photos", "--leaks drop")
    assert not (tmp_path / "run").exists()


def test_the_hash_moves_little_when_a_photo_is_re_saved_and_far_between_other_photos():
    shared = need_shared("smiles")
    photos = sorted((shared / "smiles" / "positives").iterdir())[:40]
    x = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in photos])
    darker = (x * 0.9).astype(np.uint8)
    hashes, again = perceptual_hashes(x), perceptual_hashes(darker)
    assert np.bitwise_count(hashes ^ again).max() <= THRESHOLD
    apart = np.bitwise_count(hashes[:, None] ^ hashes[None, :])
    assert apart[~np.eye(len(x), dtype=bool)].min() > THRESHOLD


def test_two_faces_whose_hashes_are_close_are_told_apart_by_their_grey_levels():
    folder = need_shared("celeba-10k") / "celeba-10k" / "not smiling"
    photos = [folder / "006503.jpg", folder / "002943.jpg"]  # two people, both aligned, facing the camera
    x = np.stack([read_image(p) for p in photos])
    hashes = perceptual_hashes(x)
    assert np.bitwise_count(hashes[0] ^ hashes[1]) <= THRESHOLD
    assert correlation(x[0], x[1]) < SAME
    assert correlation(x[0], (x[0] * 0.8).astype(np.uint8)) > 0.99


def test_signs_photos_trains_on_its_own_split_and_the_run_records_it(tmp_path):
    folder = need_shared("signs-photos") / "signs-photos"
    out = tmp_path / "run"
    result = cnnapp("train", "signs", "--data", str(folder), "--epochs", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    split, leaks = config["split"], config["split"]["leaks"]
    assert split["n_train"] + split["n_val"] == 1080 and split["n_train"] > 850
    assert split["n_test"] == 120 - len(leaks["found"]) and "own split" in split["described"]
    assert all(name.startswith("test/") for name in split["test_files"])
    dropped = {f["test"] for f in leaks["found"]}
    assert leaks["action"] == "drop" and not dropped & set(split["test_files"])
    assert {f"test/0/{name}" for name in RESAVED_IN_TRAINING} <= dropped
    assert "0_IMG_6280.jpg = train/0/0_IMG_6280_1.jpg" in result.stdout
    assert json.loads((out / "metrics.json").read_text())["n_test"] == split["n_test"]


def test_a_mixed_runs_figures_per_source_are_what_evaluate_gives_on_each_source(sources, tmp_path):
    out = tmp_path / "mixed"
    data = f"{sources / 'smiles'},{sources / 'genki'}"
    trained = cnnapp("train", "happy", "--data", data, "--epochs", "1", "--mix", "balanced", "--out", str(out))
    assert trained.returncode == 0, trained.stderr
    config = json.loads((out / "config.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    assert [s["name"] for s in config["data"]["sources"]] == data.split(",")
    assert config["hyperparameters"]["mix"] == "balanced"
    assert [s["n_test"] for s in config["data"]["sources"]] == [18, 12]  # 15% of each source, stratified
    assert sum(m["n_test"] for m in metrics["per_source"].values()) == metrics["n_test"]
    for name, figures in metrics["per_source"].items():
        assert f"{name}: test accuracy {figures['test_accuracy']:.4f}" in trained.stdout

    listed = cnnapp("evaluate", str(out), "--data", data, "--json")
    assert listed.returncode == 0, listed.stderr
    for row in json.loads(listed.stdout):
        recorded = metrics["per_source"][row["data"]]
        assert row["evaluated_on"].endswith("the run's test images of this source")
        assert (row["n"], row["confusion_matrix"]) == (recorded["n_test"], recorded["confusion_matrix"])
        assert row["accuracy"] == recorded["test_accuracy"]
        assert row["loss"] == pytest.approx(recorded["test_loss"], abs=1e-6)
    own = cnnapp("evaluate", str(out))  # the run's own sources, one row each
    assert own.returncode == 0, own.stderr
    rows = own.stdout.strip().splitlines()[2:]
    assert [row.split()[:2] for row in rows] == [
        [name, f"{metrics['per_source'][name]['test_accuracy']:.4f}"] for name in data.split(",")
    ]
    page = write_report(read_run(out), chosen_data(data, None), tmp_path / "report").read_text()
    for name, figures in metrics["per_source"].items():
        assert f'<td>{name}</td><td class="num">{figures["test_accuracy"]:.4f}</td>' in page


def test_sources_with_other_classes_are_refused_in_one_line(sources, tmp_path):
    shared = need_shared("signs-photos")
    data = f"{sources / 'smiles'},{shared / 'signs-photos'}"
    refused = cnnapp("train", "happy", "--data", data, "--out", str(tmp_path / "run"))
    assert_one_line_error(refused, "signs-photos", "not smiling, smiling", "same classes")


def test_balanced_sources_weigh_the_same_and_a_photo_weighs_one_on_average(sources):
    both = mixed([load_dataset(str(sources / "smiles")), load_dataset(str(sources / "genki"))])
    train = split_dataset(both, seed=1).train
    settings = replace(TrainConfig.from_recipe("happy"), mix="balanced")
    weights = photo_weights(both, train, settings)
    first = train < both.parts[0].stop
    assert weights.mean() == pytest.approx(1)
    assert weights[first].sum() == pytest.approx(weights[~first].sum())
    assert photo_weights(both, train, TrainConfig.from_recipe("happy")) is None
