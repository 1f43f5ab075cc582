"""Training a model by name on a dataset split, recorded as a complete run folder."""

import platform
import shutil
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
from cnnapp.models.catalog import build_model, recipe
from cnnapp.training.curves import plot_history
from cnnapp.training.evaluate import metrics_of, probabilities, targets
from cnnapp.training.rundir import write_json, writing_run


@dataclass(frozen=True)
class Settings:
    """The hyperparameters of one training."""

    epochs: int
    batch_size: int
    learning_rate: float
    seed: int


def default_settings(model: str, seed: int = 1, **overrides) -> Settings:
    """The model's own protocol, with any given value (not None) taking its place."""
    chosen = recipe(model)
    values = {"epochs": chosen.epochs, "batch_size": chosen.batch_size, "learning_rate": chosen.learning_rate}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(seed=seed, **values)


def seed_everything(seed: int) -> None:
    """Make weights, shuffling and TensorFlow's kernels repeatable for this seed."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def fit(
    model: keras.Model, binary: bool, dataset: Dataset, split: Split, settings: Settings, folder: Path, verbose: int
) -> dict[str, list[float]]:
    """Compile and train model, validating every epoch; writes best.keras, last.keras and history.csv."""
    classes = len(dataset.class_names)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=settings.learning_rate),
        loss="binary_crossentropy" if binary else "categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = [
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
    model = build_model(model_name, dataset.class_names)
    with writing_run(out, replace) as folder:
        start = time.perf_counter()
        history = fit(model, chosen.binary, dataset, split, settings, folder, verbose)
        seconds = time.perf_counter() - start
        kept = "last" if split.validates_on_test else "best"
        shutil.copyfile(folder / f"{kept}.keras", folder / "model.keras")
        model = keras.models.load_model(folder / "model.keras")
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
        write_json(folder / "config.json", config_of(model_name, model, dataset, split, settings))
        plot_history(history, folder, f"{model_name} on {dataset.name}")
    return metrics


def config_of(model_name: str, model: keras.Model, dataset: Dataset, split: Split, settings: Settings) -> dict:
    """Everything needed to run a training again."""
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
            "n_train": len(split.train),
            "n_val": len(split.val),
            "n_test": len(split.test),
        },
        "hyperparameters": {
            **asdict(settings),
            "optimizer": "adam",
            "loss": "binary_crossentropy" if binary else "categorical_crossentropy",
        },
        "seed": settings.seed,
        "versions": versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
    }
