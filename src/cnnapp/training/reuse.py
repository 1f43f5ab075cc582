"""Saved runs put to work again: reloading the model and evaluating it on any compatible dataset."""

from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np

from cnnapp.data.datasets import Dataset, select_classes
from cnnapp.data.splits import split_dataset
from cnnapp.errors import CnnappError
from cnnapp.training.evaluate import metrics_of, probabilities
from cnnapp.training.rundir import RunInfo, read_run


def load_model(run: RunInfo) -> keras.Model:
    """The trained model of a run."""
    path = run.path / "model.keras"
    try:
        return keras.models.load_model(path)
    except (OSError, ValueError) as error:
        raise CnnappError(f"{path}: cannot be loaded as a Keras model ({error})") from None


def matched(run: RunInfo, dataset: Dataset) -> Dataset:
    """The dataset restricted to the run's classes, matched by name and numbered as the run numbers them."""
    if list(dataset.class_names) == run.class_names:
        return dataset
    shared = [name for name in run.class_names if name in dataset.class_names]
    if len(shared) < 2:
        raise CnnappError(
            f"{dataset.source}: its classes ({', '.join(dataset.class_names)}) share fewer than two "
            f"with the run's ({', '.join(run.class_names)})"
        )
    subset = select_classes(dataset, shared)
    index = np.array([run.class_names.index(name) for name in shared])
    return replace(subset, class_names=tuple(run.class_names), y=index[subset.y])


@dataclass(frozen=True)
class Evaluation:
    """Metrics of a run on some images, and which images they were."""

    metrics: dict
    described: str


def evaluation_images(run: RunInfo, dataset: Dataset) -> tuple[np.ndarray, str]:
    """Which images of a matched dataset to evaluate on: the test part when the run trained on this data."""
    if dataset.test is not None:
        return dataset.test, "its test file"
    split = run.config["split"]
    if dataset.fingerprint == run.config["data"]["fingerprint"] and split.get("seed") is not None:
        again = split_dataset(dataset, split["seed"], tuple(split["fractions"]), split.get("groups"))
        return again.test, f"the run's test split ({split['described']})"
    return np.arange(len(dataset.y)), "all of its images"


def evaluate_run(run_dir: Path | str, dataset: Dataset) -> Evaluation:
    """A saved run's metrics on a dataset whose classes it knows."""
    run = read_run(run_dir)
    data = matched(run, dataset)
    which, described = evaluation_images(run, data)
    model = load_model(run)
    probs = probabilities(model, data.x[which])
    return Evaluation(metrics_of(probs, data.y[which], run.class_names), f"{dataset.name}, {described}")
