"""Saved runs put to work again: reloading the model and evaluating it on any compatible dataset."""

import json
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np

from cnnapp.data.datasets import Dataset, sampled, select_classes
from cnnapp.data.views import seen_dataset
from cnnapp.errors import CnnappError
from cnnapp.evaluation.evaluate import probabilities, result_of
from cnnapp.models.outputs import checked
from cnnapp.runs import CONFIG_FILE, DataRecord, Result, Run, read_run


def saved_by(path: Path) -> str:
    """The Keras version a .keras file names in its metadata; CnnappError naming the file when it has none."""
    try:
        with zipfile.ZipFile(path) as archive:
            saved = json.loads(archive.read("metadata.json"))["keras_version"]
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as error:
        raise CnnappError(f"{path}: cannot be loaded as a Keras model ({error})") from None
    if not isinstance(saved, str):
        raise CnnappError(f"{path}: cannot be loaded as a Keras model (its metadata names no Keras version)")
    return saved


def release(text: str) -> tuple[int, ...]:
    """A version's first three numbers: '3.15.1' -> (3, 15, 1)."""
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def load_model(run: Run) -> keras.Model:
    """The trained model of a run; refused, naming the file, when a newer Keras than this one saved it."""
    path = run.keras_file
    saved = saved_by(path)
    if release(saved) > release(keras.__version__):
        raise CnnappError(f"{path}: saved by Keras {saved}, newer than this Keras {keras.__version__}; upgrade Keras")
    try:
        return keras.models.load_model(path)
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise CnnappError(f"{path}: cannot be loaded as a Keras model ({error})") from None


def checked_probabilities(
    run: Run, model: keras.Model, images: np.ndarray, marks: np.ndarray | None = None
) -> np.ndarray:
    """The run's model's class probabilities for uint8 images (and their marks, for a run that reads them);
    CnnappError naming its model file when they are not probabilities (nan, say)."""
    return checked(probabilities(model, images, marks), run.keras_file)


def matched(run: Run, dataset: Dataset) -> Dataset:
    """The dataset restricted to the run's classes, matched by name and numbered as the run numbers them, and
    drawn down as the run drew its sources (most_per_source) when it is one of them."""
    if run.most_per_source and dataset.fingerprint in [source.fingerprint for source in run.sources]:
        return sampled(matched_classes(run, dataset), run.most_per_source)
    return matched_classes(run, dataset)


def matched_classes(run: Run, dataset: Dataset) -> Dataset:
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


def recorded_test(run: Run, data: Dataset, record: DataRecord | None = None) -> np.ndarray:
    """The run's test images in the data it trained on (matched to its classes), exactly as its config records
    them (in record, one source of mixed data, else the run's data); CnnappError when they cannot be found
    again."""
    split, where = (record or run.data).split, run.path / CONFIG_FILE
    if split.test_indices is None:
        raise CnnappError(f"{where}: does not record its test images, so they cannot be told from its training images")
    which = np.asarray(split.test_indices, dtype=np.int64)
    files = split.test_files
    if (
        split.n_images != len(data.y)
        or list(data.class_names) != run.class_names
        or (files is not None and (data.paths is None or [data.paths[i] for i in which] != files))
    ):
        raise CnnappError(
            f"{where}: its {len(which)} test images cannot be found again in {data.source} "
            f"({len(data.y)} images of the run's classes; the run had {split.n_images})"
        )
    return which


def evaluation_images(run: Run, data: Dataset) -> tuple[np.ndarray, str]:
    """Which images of a matched dataset to evaluate on: exactly the run's test images when it is the data the run
    trained on (same fingerprint) or one of the sources it mixed, else a course pair's test file, else all of it."""
    if data.fingerprint == run.data.fingerprint:
        return recorded_test(run, data), f"the run's test images ({run.split.described})"
    for source in run.sources if run.mixed else []:
        if data.fingerprint == source.fingerprint:
            return recorded_test(run, data, source), "the run's test images of this source"
    if data.test is not None:
        return data.test, "its test file"
    return np.arange(len(data.y)), "all of its images"


def seen_images(run: Run, data: Dataset, which: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Images which of data as the run sees a photo (cropped to the face and grey if it trained so; the crops of
    the whole of data, which training cached), and their marks for a run that reads them (else None)."""
    seen = seen_dataset(data, run.view)
    return seen.x[which], None if seen.marks is None else seen.marks[which]


def unseen_by(start: Run, data: Dataset, test: np.ndarray) -> None:
    """Refuse test images of data that the start run trained or validated on (when it is the same data), or
    whose split cannot be compared with the start run's."""
    if data.fingerprint != start.data.fingerprint:
        return
    try:
        theirs = recorded_test(start, data)
    except CnnappError as error:
        raise CnnappError(
            f"`init_from` {start.path}: same data, but the splits cannot be compared ({error})", parameter="init_from"
        ) from None
    seen = np.ones(len(data.y), dtype=bool)
    if not start.split.validates_on_test:
        seen[theirs] = False
    overlap = int(seen[test].sum())
    if overlap:
        raise CnnappError(
            f"`init_from` {start.path}: {overlap} of the {len(test)} test images here trained or validated that run "
            "(same data); start from a run of other data or one whose test images are these",
            parameter="init_from",
        )


def images_to_evaluate(run: Run, dataset: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, str]:
    """The photos of a dataset a run is evaluated on (see evaluation_images) as taken and as the run sees them
    with their marks (see seen_images), their labels as the run numbers its classes, and which they are in words."""
    data = matched(run, dataset)
    which, described = evaluation_images(run, data)
    seen, marks = seen_images(run, data, which)
    return data.x[which], seen, marks, data.y[which], f"{dataset.name}, {described}"


def evaluate_run(run_dir: Path | str, dataset: Dataset) -> Result:
    """A saved run's result on a dataset whose classes it knows, each photo seen as the run saw its own."""
    run = read_run(run_dir)
    _, seen, marks, labels, described = images_to_evaluate(run, dataset)
    return result_of(checked_probabilities(run, load_model(run), seen, marks), labels, run.class_names, described)
