"""Training a model by name on a dataset split, recorded as a complete run folder."""

import math
import shutil
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from cnnapp.data.datasets import Dataset
from cnnapp.data.images import model_inputs
from cnnapp.data.splits import Split
from cnnapp.data.views import seen_dataset
from cnnapp.evaluation.curves import plot_history
from cnnapp.evaluation.evaluate import probabilities, result_of, targets
from cnnapp.files import writing_folder
from cnnapp.models.augment import without_augmentation
from cnnapp.models.catalog import build_model, recipe
from cnnapp.models.fused import keras_batch_norm
from cnnapp.progress import Progress
from cnnapp.runs import Result, TrainConfig, read_history, same_training, write_config, write_metrics, written_result
from cnnapp.training.callbacks import EpochLines, EpochProgress, EpochSeconds, StopOnDivergence, epoch_figures
from cnnapp.training.record import config_of
from cnnapp.training.resume import BACKUP, finished_epochs
from cnnapp.training.vote import voting
from cnnapp.training.warm import check_start, load_matching_weights


def seed_everything(seed: int) -> None:
    """Make weights, shuffling and TensorFlow's kernels repeatable for this seed."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def use_threads(threads: int) -> None:
    """Run TensorFlow's operations on this many threads, one operation at a time, so that several processes
    on one machine share its cores instead of fighting over them; before TensorFlow runs anything."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


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


WARM_UP = 0.1
"""The share of a one-cycle schedule's steps in which the learning rate climbs to its peak."""


def learning_rate(settings: TrainConfig, photos: int) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """Adam's learning rate for a training on this many photos: constant; or "cosine", from the settings' rate down to
    zero over the epochs along half a cosine wave; or "one-cycle", up from a tenth of it to it over the first tenth of
    the steps, then down to zero the same way."""
    steps = settings.epochs * math.ceil(photos / settings.batch_size)
    peak = settings.learning_rate
    if settings.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(peak, decay_steps=steps)
    if settings.schedule == "one-cycle":
        climb = int(WARM_UP * steps)
        return keras.optimizers.schedules.CosineDecay(
            peak / 10, decay_steps=steps - climb, warmup_target=peak, warmup_steps=climb
        )
    return peak


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
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate(settings, len(split.train))),
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
        model = build_model(model_name, dataset.class_names, settings.changes(model_name))
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


def validated(
    model_name: str, dataset: Dataset, split: Split, settings: TrainConfig, folder: Path, label: str
) -> dict[str, list[float]]:
    """Train a fresh model into folder as train_run does (continuing a stopped training there) and test nothing,
    its epochs' progress under label on stderr: the history of every epoch, training and validation."""
    dataset = seen_dataset(dataset, settings.view)
    seed_everything(settings.seed)
    model = build_model(model_name, dataset.class_names, settings.changes(model_name))
    best_loss = finished_epochs(folder)
    with Progress(label, settings.epochs) as progress:
        fit(model, recipe(model_name).binary, dataset, split, settings, folder, EpochProgress(progress), best_loss)
    return read_history(folder / "history.csv")


def trained(
    model: keras.Model, binary: bool, dataset: Dataset, split: Split, settings: TrainConfig, folder: Path, verbose: bool
) -> Result:
    """Train into folder (continuing a stopped training there), keep the chosen epoch as model.keras (with its
    landmark vote when it reads marks, see training/vote.py), test it; verbose: print a line for each epoch and the
    epoch kept."""
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
    if dataset.marks is not None:
        model = voting(model, dataset.marks[split.train], dataset.y[split.train], binary, settings.vote_weight)
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


def kept_line(history: dict[str, list[float]], kept: str) -> str:
    """Which epoch a run keeps as its model, and that epoch's figures."""
    epochs = len(history["loss"])
    index = epochs - 1 if kept == "last" else int(np.argmin(history["val_loss"]))
    why = "the last: the validation images are the test images" if kept == "last" else "lowest validation loss"
    return f"kept epoch {index + 1} of {epochs} ({why}): {epoch_figures({k: v[index] for k, v in history.items()})}"
