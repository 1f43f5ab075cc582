"""Predicting with trained runs: ONNX export parity, `cnnapp predict` against the evaluate path, bad photos."""

import json
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cnnapp
from cnnapp.data.datasets import load_dataset
from cnnapp.data.images import read_image
from cnnapp.data.splits import split_dataset
from cnnapp.evaluation.evaluate import probabilities
from cnnapp.evaluation.reuse import load_model
from cnnapp.inference.export import export_onnx
from cnnapp.runs import TrainConfig, read_run
from cnnapp.training.fit import train_run

from clirun import assert_one_line_error
from clirun import cnnapp as run_cnnapp
from conftest import need_shared

HEAVY = {"tensorflow", "keras", "matplotlib", "sklearn", "h5py"}


@dataclass(frozen=True)
class Trained:
    """One trained run twice: as written by training (Keras only) and with model.onnx exported into it."""

    keras: Path
    onnx: Path
    test_images: np.ndarray
    photos: list[Path]  # real photo files of the kind the model was trained on, not decoded yet


def linked_subset(source: Path, classes: list[str], per_class: int, into: Path) -> Path:
    """A class-subfolder dataset of per_class photos of each class, spread over source's files, as symlinks."""
    for name in classes:
        files = sorted((source / name).iterdir())
        (into / name).mkdir(parents=True)
        for i in range(per_class):
            chosen = files[i * len(files) // per_class]
            (into / name / chosen.name).symlink_to(chosen)
    return into


def train_and_export(model: str, data: Path, settings: TrainConfig, folder: Path, by_command: bool) -> Path:
    """Train model on the folder, copy the run and export the copy (with `cnnapp export` or export_onnx)."""
    dataset = load_dataset(str(data))
    split = split_dataset(dataset, settings.seed)
    train_run(model, dataset, split, settings, folder / "keras", verbose=0)
    shutil.copytree(folder / "keras", folder / "onnx")
    if by_command:
        result = run_cnnapp("export", str(folder / "onnx"))
        assert result.returncode == 0, result.stderr
        assert f"{folder / 'onnx' / 'model.onnx'}" in result.stdout
    else:
        export_onnx(folder / "onnx")
    return dataset.x[split.test]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Trained]:
    shared = need_shared("sign-language-digits", "smiles")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNAPP_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        root = tmp_path_factory.mktemp("runs")
        digits = [str(i) for i in range(6)]
        signs_data = linked_subset(shared / "sign-language-digits", digits, 60, root / "signs-data")
        happy_data = linked_subset(shared / "smiles", ["negatives", "positives"], 100, root / "happy-data")
        signs_test = train_and_export("signs", signs_data, TrainConfig(10, 32, 0.01, 1), root / "signs", True)
        happy_test = train_and_export("happy", happy_data, TrainConfig(3, 16, 0.001, 1), root / "happy", False)
    signs_photos = [sorted((shared / "sign-language-digits" / d).iterdir())[-1] for d in digits]
    big = sorted((shared / "sign-language-digits" / "7").glob("IMG_5874.JPG"))  # a 3024x3024 original
    happy_photos = [
        sorted((shared / "smiles" / c).iterdir())[-k] for c in ("negatives", "positives") for k in (1, 2, 3)
    ]
    return {
        "signs": Trained(root / "signs" / "keras", root / "signs" / "onnx", signs_test, signs_photos + big),
        "happy": Trained(root / "happy" / "keras", root / "happy" / "onnx", happy_test, happy_photos),
    }


def answers(result) -> dict[str, tuple[str, float]]:
    """path -> (label, probability) from `cnnapp predict`'s tab-separated lines."""
    assert "Traceback" not in result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    return {path: (label, float(probability)) for path, label, probability in rows}


def evaluated(run: Path, photos: list[Path]) -> dict[str, tuple[str, float]]:
    """path -> (label, probability) through the evaluate path: the Keras model and evaluate.probabilities."""
    info = read_run(run)
    probs = probabilities(load_model(info), np.stack([read_image(p) for p in photos]))
    names = info.class_names
    return {str(p): (names[int(row.argmax())], float(row.max())) for p, row in zip(photos, probs, strict=True)}


@pytest.mark.parametrize("model", ["signs", "happy"])
def test_exported_model_matches_keras_on_the_run_test_images(runs, model):
    trained = runs[model]
    keras_probs = probabilities(load_model(read_run(trained.keras)), trained.test_images)
    onnx = cnnapp.load(trained.onnx)
    assert onnx.engine == "onnx" and cnnapp.load(trained.keras).engine == "keras"
    onnx_probs = onnx.probabilities(trained.test_images)
    assert onnx_probs.shape == keras_probs.shape == (len(trained.test_images), len(onnx.class_names))
    assert np.abs(onnx_probs - keras_probs).max() < 1e-5
    assert np.allclose(onnx_probs.sum(axis=1), 1.0, atol=1e-5)


def test_export_adds_only_model_onnx(runs):
    for trained in runs.values():
        before = {p.name for p in trained.keras.iterdir()}
        after = {p.name for p in trained.onnx.iterdir()}
        assert after - before == {"model.onnx"} and before <= after


@pytest.mark.parametrize("model", ["signs", "happy"])
@pytest.mark.parametrize("engine", ["onnx", "keras"])
def test_predict_command_agrees_with_evaluate(runs, model, engine):
    trained = runs[model]
    run = getattr(trained, engine)
    expected = evaluated(trained.keras, trained.photos)
    result = run_cnnapp("predict", str(run), *map(str, trained.photos))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    got = answers(result)
    assert list(got) == [str(p) for p in trained.photos]
    assert {path: label for path, (label, _) in got.items()} == {path: label for path, (label, _) in expected.items()}
    for path, (_, probability) in got.items():
        assert probability == pytest.approx(expected[path][1], abs=1e-4)


def test_json_lines_give_every_class(runs, tmp_path):
    trained = runs["signs"]
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    for i, photo in enumerate(trained.photos[:4]):
        (folder / ("nested" if i % 2 else "") / photo.name).symlink_to(photo)
    (folder / "notes.txt").write_text("not a photo, and not looked at")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "x.jpg").write_text("hidden folders are skipped")
    result = run_cnnapp("predict", str(trained.onnx), str(folder), "--json", "--batch-size", "3")
    assert result.returncode == 0 and result.stderr == "predicting 4 photos\n", result.stderr  # progress, off stdout
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    class_names = cnnapp.load(trained.onnx).class_names
    assert sorted(Path(row["path"]).name for row in rows) == sorted(p.name for p in trained.photos[:4])
    for row in rows:
        assert set(row) == {"path", "label", "probability", "probabilities"}
        assert list(row["probabilities"]) == class_names
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert row["label"] == max(row["probabilities"], key=row["probabilities"].get)
        assert row["probability"] == row["probabilities"][row["label"]]


@pytest.mark.parametrize("model", ["signs", "happy"])
def test_load_takes_paths_pil_images_and_arrays(runs, model):
    trained = runs[model]
    photos = [p for p in trained.photos if Image.open(p).size[0] <= 128]  # no JPEG draft decoding: same pixels
    predictor = cnnapp.load(trained.onnx)
    from_paths = predictor.predict(photos)
    from_pil = predictor.predict([Image.open(p) for p in photos])
    from_arrays = predictor.predict([np.asarray(Image.open(p)) for p in photos])
    from_batch = predictor.predict(np.stack([read_image(p) for p in photos]))
    assert len(from_paths) == len(photos)
    for other in (from_pil, from_arrays, from_batch, cnnapp.load(trained.keras).predict(photos)):
        assert [p.label for p in other] == [p.label for p in from_paths]
        for a, b in zip(other, from_paths, strict=True):
            assert list(a.probabilities) == predictor.class_names
            assert np.allclose(list(a.probabilities.values()), list(b.probabilities.values()), atol=1e-5)
    single = predictor.predict(str(photos[0]))
    assert len(single) == 1 and single[0] == from_paths[0]


def write_huge_png(path: Path, side: int) -> Path:
    """A valid black PNG of side x side one-bit pixels: a few hundred kilobytes that decode to far more."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))
    return path


@pytest.fixture
def bad_photos(runs, tmp_path) -> dict[str, tuple[Path, str]]:
    """name -> (path, words of its error) for photos that cannot be answered."""
    text = tmp_path / "letter.jpg"
    text.write_text("Dear reader, this is not a JPEG.\n")
    empty = tmp_path / "empty.jpg"
    empty.touch()
    truncated = tmp_path / "truncated.jpg"
    whole = runs["signs"].photos[0].read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    no_photos = tmp_path / "no-photos"
    no_photos.mkdir()
    (no_photos / "readme.txt").write_text("nothing to see")
    return {
        "text": (text, "not an image"),
        "empty": (empty, "not an image"),
        "truncated": (truncated, "unreadable image"),
        "bomb": (write_huge_png(tmp_path / "bomb.png", 30_000), "too large"),
        "folder": (no_photos, "no photos"),
        "missing": (tmp_path / "missing.jpg", "no such file"),
    }


@pytest.mark.parametrize("case", ["text", "empty", "truncated", "bomb", "folder", "missing"])
def test_one_bad_photo_is_one_line_and_exit_2(runs, bad_photos, case):
    path, words = bad_photos[case]
    result = run_cnnapp("predict", str(runs["happy"].onnx), str(path))
    assert_one_line_error(result, str(path), words)
    assert result.stdout == ""


def test_bad_photos_in_a_batch_leave_the_good_ones_answered(runs, bad_photos):
    trained = runs["signs"]
    good = trained.photos[:2]
    bad = [path for path, _ in bad_photos.values()]
    result = run_cnnapp("predict", str(trained.onnx), str(good[0]), *map(str, bad), str(good[1]))
    assert result.returncode == 2
    assert list(answers(result)) == [str(p) for p in good]
    errors = result.stderr.strip().splitlines()
    assert all(line.startswith("cnnapp: error: ") for line in errors)
    assert sorted(line.split(": ")[2] for line in errors) == sorted(map(str, bad))


def test_predict_on_a_folder_that_is_not_a_run(runs, tmp_path):
    result = run_cnnapp("predict", str(tmp_path), str(runs["signs"].photos[0]))
    assert_one_line_error(result, str(tmp_path), "not a complete run folder")


def test_help_of_export_and_predict():
    for command in ("export", "predict"):
        result = run_cnnapp(command, "--help")
        assert result.returncode == 0
        assert "cnnapp " in result.stdout.split("Example:")[1]
    assert "2 when any could not be read" in " ".join(result.stdout.split())


def test_onnx_path_imports_no_tensorflow_nor_keras(runs):
    trained = runs["happy"]
    script = (
        "import sys, cnnapp\n"
        "light = 'cnnapp.inference' not in sys.modules and 'numpy' not in sys.modules\n"
        "heavy = lambda: sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[4:]))\n"
        "print(light, cnnapp.load(sys.argv[1]).predict(sys.argv[3])[0].label, heavy())\n"
        "print(cnnapp.load(sys.argv[2]).predict(sys.argv[3])[0].label, heavy())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(trained.onnx), str(trained.keras), str(trained.photos[0]), *HEAVY],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    light, label, heavy = first.split(" ", 2)
    assert light == "True" and heavy == "[]"
    assert second.startswith(label) and "keras" in second and "tensorflow" in second  # the Keras path does import them


def test_predict_command_on_onnx_imports_nothing_heavy(runs):
    trained = runs["signs"]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cnnapp", "predict", str(trained.onnx), str(trained.photos[0])],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stdout.startswith(str(trained.photos[0]))
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert {"cnnapp", "onnxruntime", "PIL", "click"} <= imported
    assert imported.isdisjoint(HEAVY), imported & HEAVY
