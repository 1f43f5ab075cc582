"""What a run's config.json records of its training: the model, the data and its sources, the split with its
test photos, the settings, and how the run was made (package versions, time, command)."""

import platform
import sys
from datetime import UTC, datetime
from importlib.metadata import version

import keras

from cnnapp.data.datasets import Dataset, part_of
from cnnapp.data.faces import RULE as FACE_RULE
from cnnapp.data.hands import CROP_RULE as HAND_RULE
from cnnapp.data.splits import Split
from cnnapp.models.catalog import recipe
from cnnapp.runs import TrainConfig


def versions() -> dict[str, str]:
    """Versions of Python and the packages a run depends on."""
    packages = ("cnnapp", "keras", "tensorflow-cpu", "numpy", "h5py", "pillow", "scikit-learn", "mtcnn")
    return {"python": platform.python_version(), **{name: version(name) for name in packages}}


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
        "hand_rule": HAND_RULE if settings.crop == "hand" else None,
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
