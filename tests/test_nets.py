"""The stronger small models, their augmentation layers, and starting a training from another run's weights."""

import json
import zipfile
from dataclasses import replace

import keras
import numpy as np
import onnxruntime
import pytest

from cnnapp.data.datasets import load_dataset, select_classes
from cnnapp.data.images import scale
from cnnapp.data.splits import split_dataset
from cnnapp.evaluation.reuse import load_model
from cnnapp.models.augment import AUGMENTATION, KINDS, augmentation, without_augmentation
from cnnapp.models.catalog import AUGMENTATIONS, RECIPES, build_model
from cnnapp.models.course import happy_model
from cnnapp.models.fused import BatchNormalization
from cnnapp.runs import TrainConfig, read_run
from cnnapp.training.fit import learning_rate, train_run
from cnnapp.training.warm import load_matching_weights

from clirun import assert_one_line_error, cnnapp
from conftest import every_nth, need_shared

NEW_MODELS = ("smile-net", "sign-net")


@pytest.fixture(scope="module")
def sign_digits(monkeypatch_module):
    monkeypatch_module.setenv("CNNAPP_DATA", str(need_shared("sign-language-digits")))
    return load_dataset("sign-digits")


@pytest.fixture(scope="module")
def signs_six(sign_digits):
    return select_classes(sign_digits, [str(i) for i in range(6)])


def first_losses(run_dir):
    lines = (run_dir / "history.csv").read_text().splitlines()
    column = lines[0].split(",").index("loss")
    return float(lines[1].split(",")[column])


@pytest.mark.parametrize("name", NEW_MODELS)
def test_new_models_are_small_and_give_probabilities(name):
    classes = ["a", "b"] if RECIPES[name].binary else [str(i) for i in range(10)]
    model = build_model(name, classes)
    assert model.count_params() < 1_000_000
    out = model.predict(np.random.default_rng(0).random((3, 64, 64, 3), dtype=np.float32), verbose=0)
    assert out.shape == ((3, 1) if RECIPES[name].binary else (3, 10))
    assert np.all((out >= 0) & (out <= 1))
    if not RECIPES[name].binary:
        assert np.allclose(out.sum(axis=1), 1, atol=1e-5)


def test_new_models_augment_by_default_and_course_models_do_not():
    assert TrainConfig.from_recipe("sign-net").augment and TrainConfig.from_recipe("smile-net").augment
    assert not TrainConfig.from_recipe("happy").augment and not TrainConfig.from_recipe("signs").augment


def test_sign_net_beats_the_course_signs_model_trained_the_same_short_way(signs_six, tmp_path):
    split = split_dataset(signs_six, seed=1)
    short = {"epochs": 4, "batch_size": 32, "augment": False}  # turns up to 90 degrees take longer than 4 epochs
    scores = {
        name: train_run(name, signs_six, split, TrainConfig.from_recipe(name, 1, **short), tmp_path / name, 0)
        for name in ("sign-net", "signs")
    }
    assert scores["sign-net"].accuracy > scores["signs"].accuracy + 0.2


def test_smile_net_beats_the_course_happy_model_trained_the_same_short_way(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNAPP_DATA", str(need_shared("smiles")))
    smiles = every_nth(load_dataset("smiles"), 8)
    split = split_dataset(smiles, seed=1)
    scores = {
        name: train_run(
            name, smiles, split, TrainConfig.from_recipe(name, 1, epochs=4, batch_size=32), tmp_path / name, 0
        )
        for name in ("smile-net", "happy")
    }
    assert scores["smile-net"].accuracy > scores["happy"].accuracy + 0.03


def test_a_one_cycle_rate_climbs_to_its_peak_in_a_tenth_of_the_steps_then_falls_to_zero():
    settings = TrainConfig.from_recipe("sign-net", 1, epochs=10, batch_size=10, learning_rate=0.002)
    schedule = learning_rate(replace(settings, schedule="one-cycle"), photos=95)  # 10 steps an epoch, 100 in all
    rates = [float(schedule(step)) for step in (0, 5, 10, 55, 100)]
    assert rates[0] == pytest.approx(0.0002)
    assert rates[0] < rates[1] < rates[2] == pytest.approx(0.002)
    assert rates[2] > rates[3] > rates[4] == pytest.approx(0.0, abs=1e-7)
    assert learning_rate(replace(settings, schedule="constant"), photos=95) == 0.002


def test_the_kinds_a_setting_may_name_are_the_kinds_of_augmentation_there_are():
    assert tuple(KINDS) == AUGMENTATIONS
    assert all(recipe.augmentation in AUGMENTATIONS for recipe in RECIPES.values())


def test_augmentation_changes_photos_in_training_only(signs_six):
    model = build_model("sign-net", signs_six.class_names, "hands")
    layer = model.get_layer(AUGMENTATION)
    x = scale(signs_six.x[:16])
    first, second = layer(x, training=True), layer(x, training=True)
    assert np.abs(np.asarray(first) - x).mean() > 0.01
    assert np.abs(np.asarray(first) - np.asarray(second)).mean() > 0.01
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    predicted = model.predict(x, verbose=0)
    assert np.array_equal(predicted, model.predict(x, verbose=0))
    assert np.array_equal(predicted, np.asarray(model(x, training=False)))
    bare = without_augmentation(model)
    assert AUGMENTATION not in [layer.name for layer in bare.layers]
    assert np.array_equal(predicted, bare.predict(x, verbose=0))


def sharpness(photos) -> float:
    """The mean size of each grey pixel's difference from its four neighbours."""
    grey = np.asarray(photos).mean(axis=-1)
    centre = grey[:, 1:-1, 1:-1]
    around = grey[:, :-2, 1:-1] + grey[:, 2:, 1:-1] + grey[:, 1:-1, :-2] + grey[:, 1:-1, 2:]
    return float(np.abs(4 * centre - around).mean())


def test_face_augmentation_softens_faces_as_a_small_face_enlarged_would_be(monkeypatch):
    monkeypatch.setenv("CNNAPP_DATA", str(need_shared("smiles")))
    faces = scale(every_nth(load_dataset("smiles"), 800).x)
    keras.utils.set_random_seed(1)
    layer = augmentation("faces")
    softened = np.mean([sharpness(layer(faces, training=True)) for _ in range(8)])
    assert softened < 0.75 * sharpness(faces)  # flips, shifts, zoom and contrast alone keep about 0.8 of it
    assert sharpness(layer(faces, training=False)) == sharpness(faces)


@pytest.fixture(scope="module")
def augmented_run(signs_six, tmp_path_factory):
    """A short real sign-net run with augmentation on sign digits 0-5."""
    out = tmp_path_factory.mktemp("runs") / "sign-net"
    split = split_dataset(signs_six, seed=2)
    train_run("sign-net", signs_six, split, TrainConfig.from_recipe("sign-net", 2, epochs=2), out, verbose=0)
    return out


def test_a_run_keeps_the_model_without_its_augmentation(augmented_run, signs_six):
    config = json.loads((augmented_run / "config.json").read_text())
    assert config["hyperparameters"]["augment"] is True and config["hyperparameters"]["schedule"] == "one-cycle"
    assert config["initial_weights"] is None
    model = load_model(read_run(augmented_run))
    assert AUGMENTATION not in [layer.name for layer in model.layers]
    trained = keras.models.load_model(augmented_run / "best.keras")
    assert AUGMENTATION in [layer.name for layer in trained.layers]
    x = scale(signs_six.x[:8])
    assert np.array_equal(model.predict(x, verbose=0), trained.predict(x, verbose=0))
    assert np.allclose(np.asarray(model(x)), np.asarray(trained(x, training=False)), atol=1e-6)


def test_fused_batch_normalisation_trains_as_keras_does(signs_six):
    fused, plain = build_model("happy", ["no", "yes"]), happy_model()
    plain.set_weights(fused.get_weights())
    assert [type(layer) for layer in fused.layers].count(BatchNormalization) == 1
    x = scale(signs_six.x[:32])
    assert np.allclose(np.asarray(fused(x, training=True)), np.asarray(plain(x, training=True)), atol=1e-5)
    for moved, expected in zip(fused.non_trainable_weights, plain.non_trainable_weights, strict=True):
        assert not np.allclose(np.asarray(expected), [0.0, 1.0][expected.path.endswith("variance")])
        assert np.allclose(np.asarray(moved), np.asarray(expected), atol=1e-6)


def test_a_runs_model_file_has_only_keras_layers(augmented_run):
    assert b"cnnapp" not in zipfile.ZipFile(augmented_run / "model.keras").read("config.json")
    assert b"cnnapp>BatchNormalization" in zipfile.ZipFile(augmented_run / "best.keras").read("config.json")


def test_the_kept_model_exports_to_onnx_and_matches(augmented_run, signs_six, tmp_path):
    model = load_model(read_run(augmented_run))
    x = scale(signs_six.x[:8])
    expected = model.predict(x, verbose=0)
    model.export(str(tmp_path / "model.onnx"), format="onnx", verbose=False)
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert np.abs(got - expected).max() < 1e-5


def test_init_from_loads_every_matching_layer_and_a_fresh_classifier(augmented_run, sign_digits):
    source = load_model(read_run(augmented_run))
    same = build_model("sign-net", [str(i) for i in range(6)], "light")
    loaded = load_matching_weights(same, str(augmented_run), "sign-net", [str(i) for i in range(6)])
    weighted = [layer for layer in without_augmentation(same).layers if layer.weights]
    assert loaded["layers_loaded"] == loaded["layers_with_weights"] == len(weighted)
    for old, new in zip(source.layers, without_augmentation(same).layers, strict=True):
        for a, b in zip(old.get_weights(), new.get_weights(), strict=True):
            assert np.array_equal(a, b)

    other = build_model("sign-net", ["6", "7", "8", "9", "0", "1"])
    loaded = load_matching_weights(other, str(augmented_run), "sign-net", ["6", "7", "8", "9", "0", "1"])
    assert loaded["layers_loaded"] == loaded["layers_with_weights"] - 1
    first_conv = next(index for index, layer in enumerate(source.layers) if layer.weights)
    assert np.array_equal(other.layers[first_conv].get_weights()[0], source.layers[first_conv].get_weights()[0])
    assert not np.array_equal(other.layers[-1].get_weights()[0], source.layers[-1].get_weights()[0])


def test_init_from_starts_lower_than_from_scratch_and_is_recorded(augmented_run, signs_six, tmp_path):
    split = split_dataset(signs_six, seed=2)
    scratch = TrainConfig.from_recipe("sign-net", 2, epochs=1)
    train_run("sign-net", signs_six, split, scratch, tmp_path / "scratch", verbose=0)
    warm = replace(scratch, init_from=str(augmented_run))
    train_run("sign-net", signs_six, split, warm, tmp_path / "warm", verbose=0)
    assert first_losses(tmp_path / "warm") < first_losses(tmp_path / "scratch")
    config = json.loads((tmp_path / "warm" / "config.json").read_text())
    assert config["hyperparameters"]["init_from"] == str(augmented_run)
    assert config["initial_weights"]["run"] == str(augmented_run)
    assert config["initial_weights"]["layers_loaded"] == config["initial_weights"]["layers_with_weights"]


def test_init_from_refuses_a_run_of_another_model(augmented_run, tmp_path):
    result = cnnapp(
        "train", "signs", "--data", "sign-digits", "--classes", "0-5", "--init-from", str(augmented_run),
        "--out", str(tmp_path / "run"),
        env={"CNNAPP_DATA": str(need_shared("sign-language-digits"))},
    )  # fmt: skip
    assert_one_line_error(result, str(augmented_run), "sign-net", "signs")
    assert not (tmp_path / "run").exists()
    result = cnnapp(
        "train", "sign-net", "--data", "sign-digits", "--init-from", str(tmp_path / "none"),
        env={"CNNAPP_DATA": str(need_shared("sign-language-digits"))},
    )  # fmt: skip
    assert_one_line_error(result, str(tmp_path / "none"))
