"""Training a model by name on a dataset split, recorded as a complete run folder."""

import math
import platform
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from cnnapp.data.datasets import Dataset
from cnnapp.data.images import scale
from cnnapp.data.splits import Split
from cnnapp.errors import CnnappError
from cnnapp.models.augment import without_augmentation
from cnnapp.models.catalog import build_model, recipe
from cnnapp.training.curves import plot_history
from cnnapp.training.evaluate import metrics_of, probabilities, targets
from cnnapp.training.reuse import load_model
from cnnapp.training.rundir import read_run, write_json, writing_run


@dataclass(frozen=True)
class Settings:
    """The hyperparameters of one training."""

    epochs: int
    batch_size: int
    learning_rate: float
    seed: int
    augment: bool = False  # train behind the recipe's random augmentation layers
    schedule: str = "constant"  # or "cosine": the learning rate decays to zero over the epochs
    init_from: str | None = None  # a run folder whose weights the model starts from


def default_settings(model: str, seed: int = 1, **overrides) -> Settings:
    """The model's own protocol, with any given value (not None) taking its place."""
    chosen = recipe(model)
    values = {
        "epochs": chosen.epochs,
        "batch_size": chosen.batch_size,
        "learning_rate": chosen.learning_rate,
        "augment": chosen.augment,
        "schedule": chosen.schedule,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(seed=seed, **values)


def seed_everything(seed: int) -> None:
    """Make weights, shuffling and TensorFlow's kernels repeatable for this seed."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class EpochSeconds(keras.callbacks.Callback):
    """Adds each epoch's wall seconds (training and validation, no start-up) to its logs as epoch_seconds."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs["epoch_seconds"] = time.perf_counter() - self.start


def fit(
    model: keras.Model, binary: bool, dataset: Dataset, split: Split, settings: Settings, folder: Path, verbose: int
) -> dict[str, list[float]]:
    """Compile and train model, validating every epoch; writes best.keras, last.keras and history.csv
    (with each epoch's seconds)."""
    classes = len(dataset.class_names)
    learning_rate = settings.learning_rate
    if settings.schedule == "cosine":
        steps = settings.epochs * math.ceil(len(split.train) / settings.batch_size)
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="binary_crossentropy" if binary else "categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = [
        EpochSeconds(),
        keras.callbacks.ModelCheckpoint(folder / "best.keras", monitor="val_loss", save_best_only=True),
        keras.callbacks.CSVLogger(folder / "history.csv"),
    ]
    history = model.fit(
        scale(dataset.x[split.train]),
        targets(dataset.y[split.train], classes, binary),
        validation_data=(scale(dataset.x[split.val]), targets(dataset.y[split.val], classes, binary)),
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    model.save(folder / "last.keras")
    return history.history


def load_matching_weights(
    model: keras.Model, run_dir: str, model_name: str, class_names: tuple[str, ...] | list[str]
) -> dict:
    """Start model from a run's trained weights, layer by layer, wherever the shapes match; the classifier
    (the last layer with weights) keeps its fresh weights unless the run's classes are these classes.

    Returns what was loaded, for the run's config.
    """
    run = read_run(run_dir)
    if run.config["model"] != model_name:
        raise CnnappError(f"{run_dir}: a run of model {run.config['model']}, not {model_name}")
    source, target = load_model(run), without_augmentation(model)
    pairs = [(old, new) for old, new in zip(source.layers, target.layers, strict=False) if new.weights]
    if run.class_names != list(class_names):
        pairs = pairs[:-1]
    loaded = 0
    for old, new in pairs:
        if [w.shape for w in old.weights] == [w.shape for w in new.weights]:
            new.set_weights(old.get_weights())
            loaded += 1
    return {
        "run": str(run_dir),
        "model": run.config["model"],
        "data": run.config["data"]["name"],
        "class_names": run.class_names,
        "layers_loaded": loaded,
        "layers_with_weights": sum(1 for layer in target.layers if layer.weights),
    }


def versions() -> dict[str, str]:
    """Versions of Python and the packages a run depends on."""
    packages = ("cnnapp", "keras", "tensorflow-cpu", "numpy", "h5py", "pillow", "scikit-learn")
    return {"python": platform.python_version(), **{name: version(name) for name in packages}}


def train_run(
    model_name: str,
    dataset: Dataset,
    split: Split,
    settings: Settings,
    out: Path,
    verbose: int = 1,
    replace: bool = False,
) -> dict:
    """Build, train and test a model; write the whole run folder at out atomically; return its metrics.

    The run's model.keras is the epoch with the lowest validation loss (best.keras), unless the validation
    images are the test images: then it is the last epoch (last.keras), so the test set chooses nothing.
    """
    chosen = recipe(model_name)
    seed_everything(settings.seed)
    model = build_model(model_name, dataset.class_names, settings.augment)
    initial = None
    if settings.init_from:
        initial = load_matching_weights(model, settings.init_from, model_name, dataset.class_names)
    with writing_run(out, replace) as folder:
        start = time.perf_counter()
        history = fit(model, chosen.binary, dataset, split, settings, folder, verbose)
        seconds = time.perf_counter() - start
        kept = "last" if split.validates_on_test else "best"
        model = without_augmentation(keras.models.load_model(folder / f"{kept}.keras"))
        model.save(folder / "model.keras")
        tested = metrics_of(probabilities(model, dataset.x[split.test]), dataset.y[split.test], dataset.class_names)
        metrics = {
            "test_accuracy": tested["accuracy"],
            "test_loss": tested["loss"],
            "n_test": tested["n"],
            **{k: tested[k] for k in ("per_class_accuracy", "confusion_matrix", "class_names")},
            "train_seconds": round(seconds, 2),
            "epochs_run": len(history["loss"]),
            "final": {k: v[-1] for k, v in history.items()},
            "best_epoch": int(np.argmin(history["val_loss"])) + 1,
            "kept": kept,
        }
        write_json(folder / "metrics.json", metrics)
        write_json(folder / "config.json", config_of(model_name, model, dataset, split, settings, initial))
        plot_history(history, folder, f"{model_name} on {dataset.name}")
    return metrics


def config_of(
    model_name: str, model: keras.Model, dataset: Dataset, split: Split, settings: Settings, initial: dict | None
) -> dict:
    """Everything needed to run a training again; initial says where the starting weights came from, if a run."""
    binary = recipe(model_name).binary
    return {
        "model": model_name,
        "parameters": model.count_params(),
        "data": {
            "name": dataset.name,
            "source": dataset.source,
            "fingerprint": dataset.fingerprint,
            "class_names": list(dataset.class_names),
            "counts": dataset.counts(),
        },
        "split": {
            "described": split.described,
            "seed": split.seed,
            "fractions": split.fractions,
            "groups": split.groups,
            "n_train": len(split.train),
            "n_val": len(split.val),
            "n_test": len(split.test),
        },
        "hyperparameters": {
            **asdict(settings),
            "optimizer": "adam",
            "loss": "binary_crossentropy" if binary else "categorical_crossentropy",
        },
        "initial_weights": initial,
        "seed": settings.seed,
        "versions": versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
    }
