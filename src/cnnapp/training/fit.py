"""Training a model by name on a dataset split, recorded as a complete run folder."""

import json
import math
import platform
import shutil
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import h5py
import keras
import numpy as np
import tensorflow as tf

from cnnapp.data.datasets import Dataset, part_of
from cnnapp.data.faces import RULE as FACE_RULE
from cnnapp.data.images import model_inputs
from cnnapp.data.splits import Split
from cnnapp.data.views import seen_dataset
from cnnapp.errors import CnnappError
from cnnapp.files import writing_file, writing_folder
from cnnapp.models.augment import without_augmentation
from cnnapp.models.catalog import build_model, recipe
from cnnapp.models.fused import keras_batch_norm
from cnnapp.progress import Progress, duration, time_left
from cnnapp.runs import (
    Run,
    TrainConfig,
    read_history,
    read_run,
    same_training,
    write_config,
    write_metrics,
    written_result,
)
from cnnapp.training.curves import plot_history
from cnnapp.training.evaluate import Result, probabilities, result_of, targets
from cnnapp.training.reuse import load_model, unseen_by

BACKUP = "backup"
"""The folder of a run being written where Keras's BackupAndRestore keeps the last finished epoch."""


def seed_everything(seed: int) -> None:
    """Make weights, shuffling and TensorFlow's kernels repeatable for this seed."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def use_threads(threads: int) -> None:
    """Run TensorFlow's operations on this many threads, one operation at a time, so that several processes
    on one machine share its cores instead of fighting over them; before TensorFlow runs anything."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


class EpochSeconds(keras.callbacks.Callback):
    """Adds each epoch's wall seconds (training and validation, no start-up) to its logs as epoch_seconds."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs["epoch_seconds"] = time.perf_counter() - self.start


def epoch_figures(logs: dict) -> str:
    """An epoch's training and validation figures in one line."""
    return (
        f"loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.4f}, "
        f"validation loss {logs['val_loss']:.4f}, validation accuracy {logs['val_accuracy']:.4f}"
    )


class EpochLines(keras.callbacks.Callback):
    """Prints one line for each finished epoch: its figures, its seconds and the time left (after EpochSeconds).
    On a terminal, the line of the epoch under way shows its batches meanwhile, rewritten in place."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs, self.seconds, self.ran = epochs, 0.0, 0
        self.terminal = sys.stdout.isatty()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch, self.start = epoch, time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.terminal:
            steps, elapsed = self.params["steps"], time.perf_counter() - self.start
            left = time_left(elapsed, batch + 1, steps)
            print(
                f"\repoch {self.epoch + 1}/{self.epochs}: batch {batch + 1}/{steps}, {left} in this epoch\033[K",
                end="",
                flush=True,
            )

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds, self.ran = self.seconds + logs["epoch_seconds"], self.ran + 1
        left = time_left(self.seconds, self.ran, self.ran + self.epochs - epoch - 1) if epoch + 1 < self.epochs else ""
        line = f"epoch {epoch + 1}/{self.epochs}: {epoch_figures(logs)}, {duration(logs['epoch_seconds'])}"
        start, end = ("\r", "\033[K") if self.terminal else ("", "")
        print(start + line + (f", {left}" if left else "") + end, flush=True)


class EpochProgress(keras.callbacks.Callback):
    """Shows the epochs done on a Progress, with the last validation accuracy."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.progress.update(epoch + 1, f"validation accuracy {logs['val_accuracy']:.4f}")


class StopOnDivergence(keras.callbacks.Callback):
    """Stops a training whose loss has become nan or infinite, with one line saying so, before the epoch is kept."""

    def __init__(self, learning_rate: float) -> None:
        super().__init__()
        self.learning_rate = learning_rate

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        diverged = {key: value for key, value in (logs or {}).items() if not math.isfinite(float(value))}
        if diverged:
            raise CnnappError(
                f"--learning-rate {self.learning_rate:g}: the training diverged in epoch "
                f"{epoch + 1} ({', '.join(f'{k} {v}' for k, v in diverged.items())}); choose a lower learning rate"
            )


def class_weights(labels: np.ndarray, classes: int) -> dict[int, float]:
    """A weight for each class's photos that gives every class present the same total weight, the mean weight of a
    photo being 1."""
    counts = np.bincount(labels, minlength=classes)
    present = np.count_nonzero(counts)
    return {c: len(labels) / (present * n) for c, n in enumerate(counts) if n}


def photo_weights(dataset: Dataset, train: np.ndarray, settings: TrainConfig) -> np.ndarray | None:
    """Each training photo's weight in the loss (a mean of 1): balanced classes, balanced sources or both; None
    when every photo weighs the same."""
    weights = np.ones(len(train))
    if settings.balance:
        by_class = class_weights(dataset.y[train], len(dataset.class_names))
        weights *= np.array([by_class[c] for c in dataset.y[train]])
    if settings.mix == "balanced" and dataset.parts:
        owner = np.searchsorted([p.stop for p in dataset.parts], train, side="right")
        counts = np.bincount(owner, minlength=len(dataset.parts))
        weights *= len(train) / (np.count_nonzero(counts) * counts[owner])
    if not settings.balance and not (settings.mix == "balanced" and dataset.parts):
        return None
    return weights / weights.mean()


def fit(
    model: keras.Model,
    binary: bool,
    dataset: Dataset,
    split: Split,
    settings: TrainConfig,
    folder: Path,
    shown: keras.callbacks.Callback | None,
    best_loss: float | None = None,
) -> dict[str, list[float]]:
    """Compile and train model, validating every epoch, the epochs shown by the callback shown (if any); writes
    best.keras, last.keras and history.csv (with each epoch's seconds).

    Every finished epoch is backed up in folder/backup, and a training stopped in folder continues from
    there; best_loss is the lowest validation loss of the epochs it had finished.
    """
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
        StopOnDivergence(settings.learning_rate),
        EpochSeconds(),
        keras.callbacks.ModelCheckpoint(
            folder / "best.keras", monitor="val_loss", save_best_only=True, initial_value_threshold=best_loss
        ),
        keras.callbacks.CSVLogger(folder / "history.csv", append=True),
        keras.callbacks.BackupAndRestore(folder / BACKUP, double_checkpoint=True, delete_checkpoint=False),
        *([shown] if shown else []),
    ]

    def inputs(which: np.ndarray):
        return model_inputs(dataset.x[which], None if dataset.marks is None else dataset.marks[which])

    history = model.fit(
        inputs(split.train),
        targets(dataset.y[split.train], classes, binary),
        validation_data=(inputs(split.val), targets(dataset.y[split.val], classes, binary)),
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        callbacks=callbacks,
        sample_weight=photo_weights(dataset, split.train, settings),
        verbose=0,
    )
    model.save(folder / "last.keras")
    return history.history


def start_run(run_dir: str | Path, model_name: str) -> Run:
    """The run a training of model_name starts from; CnnappError when it is a run of another model."""
    run = read_run(run_dir)
    if run.model != model_name:
        raise CnnappError(f"{run_dir}: a run of model {run.model}, not {model_name}")
    return run


def check_start(run_dir: str | Path, model_name: str, dataset: Dataset, split: Split) -> None:
    """Refuse to start a training from a run of another model, or from one that trained or validated on the
    split's test images."""
    unseen_by(start_run(run_dir, model_name), dataset, split.test)


def load_matching_weights(
    model: keras.Model, run_dir: str, model_name: str, class_names: tuple[str, ...] | list[str]
) -> dict:
    """Start model from a run's trained weights, layer by layer, wherever the shapes match; the classifier
    (the last layer with weights) keeps its fresh weights unless the run's classes are these classes.

    Returns what was loaded, for the run's config.
    """
    run = start_run(run_dir, model_name)
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
        "model": run.model,
        "data": run.data.name,
        "class_names": run.class_names,
        "layers_loaded": loaded,
        "layers_with_weights": sum(1 for layer in target.layers if layer.weights),
    }


def versions() -> dict[str, str]:
    """Versions of Python and the packages a run depends on."""
    packages = ("cnnapp", "keras", "tensorflow-cpu", "numpy", "h5py", "pillow", "scikit-learn", "mtcnn")
    return {"python": platform.python_version(), **{name: version(name) for name in packages}}


def train_run(
    model_name: str,
    dataset: Dataset,
    split: Split,
    settings: TrainConfig,
    out: Path,
    verbose: bool = False,
    replace: bool = False,
    resume: bool = False,
) -> Result:
    """Build, train and test a model into the run folder out, which appears only when complete; its test result.
    verbose: print a line for each epoch and, at the end, the epoch kept.

    out is reserved first (CnnappError if another training writes it). With resume, the folder a stopped
    training of the same settings left continues from its last finished epoch. The run's model.keras is the
    epoch with the lowest validation loss (best.keras), unless the validation images are the test images:
    then it is the last epoch (last.keras), so the test set chooses nothing.
    """
    chosen = recipe(model_name)
    if settings.init_from:
        check_start(settings.init_from, model_name, dataset, split)
    with writing_folder(out, replace, resumable=True, resume=resume) as folder:
        dataset = seen_dataset(dataset, settings.view)
        seed_everything(settings.seed)
        model = build_model(model_name, dataset.class_names, settings.augment)
        initial = None
        if settings.init_from:
            initial = load_matching_weights(model, settings.init_from, model_name, dataset.class_names)
        config = config_of(model_name, model, dataset, split, settings, initial)
        same_training(folder, config)
        write_config(folder, config)
        result = written_result(folder)  # a training stopped after its last file was written
        if result is None:
            result = trained(model, chosen.binary, dataset, split, settings, folder, verbose)
            plot_history(read_history(folder / "history.csv"), folder, f"{model_name} on {dataset.name}")
            write_metrics(folder, result)
        shutil.rmtree(folder / BACKUP, ignore_errors=True)
    return result


def _objects(path: Path) -> list[str] | None:
    """The names of everything in an HDF5 file, or None when it cannot be read."""
    try:
        with h5py.File(path, "r") as f:
            names: list[str] = []
            f.visit(names.append)
            return names
    except (OSError, RuntimeError, ValueError, KeyError):
        return None


def backed_up_epochs(backup: Path) -> int:
    """How many epochs the backup a stopped training left holds, after making it one Keras can restore.

    The backup is written in place, so a training stopped while writing it leaves it cut short; then the
    copy of the epoch before (kept beside it) takes its place, or the backup goes when there is none.
    """
    weights, metadata = backup / "latest.weights.h5", backup / "training_metadata.json"
    previous_weights, previous_metadata = Path(f"{weights}.bkp"), Path(f"{metadata}.bkp")

    def epoch_of(path: Path) -> int | None:
        try:
            return int(json.loads(path.read_text())["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    latest, previous = _objects(weights), _objects(previous_weights)
    whole = latest is not None and (previous is None or set(previous) <= set(latest))
    if whole and epoch_of(metadata) is not None:
        return epoch_of(metadata)
    if previous is not None and epoch_of(previous_metadata) is not None:
        shutil.copyfile(previous_weights, weights)
        shutil.copyfile(previous_metadata, metadata)
        return epoch_of(metadata)
    shutil.rmtree(backup, ignore_errors=True)
    return 0


def finished_epochs(folder: Path) -> float | None:
    """Make a stopped training's backup restorable and its history.csv hold exactly the epochs the backup holds;
    the lowest validation loss among them while best.keras is readable (else None, so the next epoch writes it)."""
    history = folder / "history.csv"
    if not history.is_file():
        return None
    epochs = backed_up_epochs(folder / BACKUP)
    lines = history.read_text().splitlines()[: 1 + epochs]
    with writing_file(history) as tmp:
        tmp.write_text("".join(f"{line}\n" for line in lines) if epochs else "")
    if not epochs:
        return None
    try:
        keras.models.load_model(folder / "best.keras")
    except (OSError, ValueError):
        return None
    return min(read_history(history)["val_loss"])


def validated(
    model_name: str, dataset: Dataset, split: Split, settings: TrainConfig, folder: Path, label: str
) -> dict[str, list[float]]:
    """Train a fresh model into folder as train_run does (continuing a stopped training there) and test nothing,
    its epochs' progress under label on stderr: the history of every epoch, training and validation."""
    dataset = seen_dataset(dataset, settings.view)
    seed_everything(settings.seed)
    model = build_model(model_name, dataset.class_names, settings.augment)
    best_loss = finished_epochs(folder)
    with Progress(label, settings.epochs) as progress:
        fit(model, recipe(model_name).binary, dataset, split, settings, folder, EpochProgress(progress), best_loss)
    return read_history(folder / "history.csv")


def trained(
    model: keras.Model, binary: bool, dataset: Dataset, split: Split, settings: TrainConfig, folder: Path, verbose: bool
) -> Result:
    """Train into folder (continuing a stopped training there), keep the chosen epoch as model.keras, test it;
    verbose: print a line for each epoch and the epoch kept."""
    start = time.perf_counter()
    fit(
        model,
        binary,
        dataset,
        split,
        settings,
        folder,
        EpochLines(settings.epochs) if verbose else None,
        finished_epochs(folder),
    )
    seconds = time.perf_counter() - start
    history = read_history(folder / "history.csv")
    kept = "last" if split.validates_on_test else "best"
    if verbose:
        print(kept_line(history, kept), flush=True)
    model = keras_batch_norm(without_augmentation(keras.models.load_model(folder / f"{kept}.keras")))
    model.save(folder / "model.keras")
    marks = None if dataset.marks is None else dataset.marks[split.test]
    probs = probabilities(model, dataset.x[split.test], marks)
    result = result_of(probs, dataset.y[split.test], dataset.class_names, "its test images")
    per_source = {}
    for part in dataset.parts:
        mine = (split.test >= part.start) & (split.test < part.stop)
        per_source[part.name] = result_of(
            probs[mine], dataset.y[split.test[mine]], dataset.class_names, f"{part.name}, its test images"
        )
    training = {
        "train_seconds": round(seconds, 2),
        "epochs_run": len(history["loss"]),
        "final": {k: v[-1] for k, v in history.items()},
        "best_epoch": int(np.argmin(history["val_loss"])) + 1,
        "kept": kept,
    }
    return replace(result, training=training, per_source=per_source)


def sources_of(dataset: Dataset, split: Split) -> list[dict]:
    """Each source of a mixed dataset as the run used it, its test photos recorded as a single-source run records
    them (indices within the source as loaded, and file names)."""
    records = []
    for part in dataset.parts:
        alone = part_of(dataset, part)
        sides = {side: getattr(split, side) for side in ("train", "val", "test")}
        mine = {side: ix[(ix >= part.start) & (ix < part.stop)] - part.start for side, ix in sides.items()}
        records.append(
            {
                "name": part.name,
                "source": part.source,
                "fingerprint": part.fingerprint,
                "counts": alone.counts(),
                "n_images": len(alone.y),
                "n_train": len(mine["train"]),
                "n_val": len(mine["val"]),
                "n_test": len(mine["test"]),
                "test_indices": mine["test"].tolist(),
                "test_files": None if alone.paths is None else [alone.paths[i] for i in mine["test"]],
            }
        )
    return records


def kept_line(history: dict[str, list[float]], kept: str) -> str:
    """Which epoch a run keeps as its model, and that epoch's figures."""
    epochs = len(history["loss"])
    index = epochs - 1 if kept == "last" else int(np.argmin(history["val_loss"]))
    why = "the last: the validation images are the test images" if kept == "last" else "lowest validation loss"
    return f"kept epoch {index + 1} of {epochs} ({why}): {epoch_figures({k: v[index] for k, v in history.items()})}"


def config_of(
    model_name: str, model: keras.Model, dataset: Dataset, split: Split, settings: TrainConfig, initial: dict | None
) -> dict:
    """Everything needed to run a training again; initial says where the starting weights came from, if a run.

    The split records its test images exactly: their indices into the dataset as loaded with the run's
    classes (n_images of them) and, for image folders, their file names; every other image trained or
    validated, and the test images validated too when validates_on_test.
    """
    binary = recipe(model_name).binary
    return {
        "model": model_name,
        "parameters": model.count_params(),
        "data": {**data_record(dataset), "sources": sources_of(dataset, split) if dataset.parts else None},
        "split": {
            "described": split.described,
            "fractions": split.fractions,
            "groups": split.groups,
            "n_train": len(split.train),
            "n_val": len(split.val),
            "n_test": len(split.test),
            "n_images": len(dataset.y),
            "validates_on_test": split.validates_on_test,
            "test_indices": split.test.tolist(),
            "test_files": None if dataset.paths is None else [dataset.paths[i] for i in split.test],
            "leaks": split.leaks,
        },
        "hyperparameters": {
            **settings.record(),
            "optimizer": "adam",
            "loss": "binary_crossentropy" if binary else "categorical_crossentropy",
        },
        "face_rule": FACE_RULE if settings.crop == "face" else None,
        "initial_weights": initial,
        **provenance(),
    }


def data_record(dataset: Dataset) -> dict:
    """What a run's config.json says of its data: name, place, fingerprint, classes and their counts."""
    return {
        "name": dataset.name,
        "source": dataset.source,
        "fingerprint": dataset.fingerprint,
        "class_names": list(dataset.class_names),
        "counts": dataset.counts(),
    }


def provenance() -> dict:
    """What a run's config.json says of how it was made: the package versions, the time and the command."""
    return {"versions": versions(), "created": datetime.now(UTC).isoformat(timespec="seconds"), "command": sys.argv}
