"""Run folders on disk: their JSON files and history written whole, read back checked, and the one Run type every
reader of a run goes through.

This module does not import Keras, so that light readers (inference, listings) can use it.
"""

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from cnnapp.data.datasets import NAMED
from cnnapp.data.views import VIEW_CHOICES, View
from cnnapp.errors import CnnappError
from cnnapp.files import writing_file
from cnnapp.runs.config import TrainConfig
from cnnapp.runs.records import DataRecord, Provenance, SplitRecord, view_of
from cnnapp.runs.results import FIGURES, Result, Training

KERAS_FILE = "model.keras"
ONNX_FILE = "model.onnx"
"""Written into a run by `cnnapp export`; when present, predicting needs neither TensorFlow nor Keras."""
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
REQUIRED_FILES = (KERAS_FILE, CONFIG_FILE, METRICS_FILE)


def write_json(path: Path, data: dict) -> None:
    """data as indented JSON, written under a temporary name first; CnnappError naming the file when a number in
    it is not finite (nan or inf, which JSON cannot hold)."""
    try:
        text = json.dumps(data, indent=2, allow_nan=False)
    except ValueError as error:
        raise CnnappError(f"{path}: not written, it would hold a number that is not finite ({error})") from None
    with writing_file(path) as tmp:
        tmp.write_text(text + "\n")


@dataclass(frozen=True)
class Run:
    """A finished run folder, read once: where it is, how it was made (config.json) and what it measured
    (metrics.json). Its readers take what they need from its properties, never from the files' keys."""

    path: Path
    config: dict
    metrics: dict

    @property
    def model(self) -> str:
        """The name of the model the run trained (a recipe of models/catalog.py)."""
        return self.config["model"]

    @property
    def class_names(self) -> list[str]:
        """The run's classes, in the order of its model's outputs."""
        return self.config["data"]["class_names"]

    @property
    def view(self) -> View:
        """How the run's model sees a photo: crop, colour and marks."""
        return view_of(self.config)

    @property
    def data(self) -> DataRecord:
        """The data the run trained on and its split; CnnappError naming config.json when it names no data."""
        try:
            return DataRecord.of(self.config["data"], self.config.get("split") or {})
        except (KeyError, TypeError, AttributeError) as error:
            raise CnnappError(f"{self.path / CONFIG_FILE}: lacks a usable data record ({error})") from None

    @property
    def split(self) -> SplitRecord:
        """How the run split its data, and its test photos."""
        return self.data.split

    @property
    def sources(self) -> list[DataRecord]:
        """Each source of the run's mixed data with its share of the split, else the run's one dataset."""
        sources = self.config["data"].get("sources") or []
        return [DataRecord.of(source, source) for source in sources] or [self.data]

    @property
    def data_names(self) -> list[str]:
        """What names the run's data again, source by source, as `data` does: a named dataset's name, else the
        place it was read from."""
        return [source.name if source.name in NAMED else str(source.source) for source in self.sources]

    @property
    def leaks_action(self) -> str:
        """What the run did with leaked test photos: "drop" them (also what a run from before the check did) or
        "refuse" to train."""
        return (self.split.leaks or {}).get("action", "drop")

    @property
    def mixed(self) -> bool:
        """Whether the run trained on several sources mixed."""
        return bool(self.config["data"].get("sources"))

    @property
    def settings(self) -> dict:
        """The run's training settings as config.json records them (its "hyperparameters"), for display."""
        return self.config.get("hyperparameters", {})

    @property
    def seed(self) -> int | None:
        """The run's one seed: of its split, its weights and its shuffling (older runs also wrote it beside the
        settings, at the top of config.json, where a run from before the settings held it is read)."""
        return self.settings.get("seed", self.config.get("seed"))

    @property
    def train_config(self) -> TrainConfig:
        """The settings the run trained with, to continue or repeat it; CnnappError naming config.json when they
        are not those of a training this version knows (an adapted run's, say)."""
        return TrainConfig.from_record({**self.settings, "seed": self.seed}, self.path / CONFIG_FILE)

    @property
    def most_per_source(self) -> int | None:
        """How many photos of each source the run drew at most (None: all of them)."""
        return self.settings.get("most_per_source")

    @property
    def mix(self) -> str:
        """How the sources of mixed data weighed in the loss: "size" or "balanced"."""
        return self.settings.get("mix", "size")

    @property
    def provenance(self) -> Provenance:
        """How the run was made: parameters, initial weights, date, command and package versions."""
        return Provenance.of(self.config)

    @property
    def test_accuracy(self) -> float | None:
        """The accuracy on its test photos that metrics.json records (None if it records none)."""
        return self.metrics.get("test_accuracy")

    @property
    def result(self) -> Result:
        """The run's figures on its test photos, as metrics.json records them; CnnappError naming the file when it
        lacks one."""
        missing = [key for key in FIGURES if key not in self.metrics]
        if missing:
            raise CnnappError(f"{self.path / METRICS_FILE}: lacks {', '.join(missing)}")
        return Result.from_metrics(self.metrics)

    @property
    def training(self) -> Training:
        """The training's own figures in metrics.json: seconds, epochs run, best epoch, epoch kept."""
        return Training.from_metrics(self.metrics)

    @property
    def keras_file(self) -> Path:
        """The run's trained Keras model."""
        return self.path / KERAS_FILE

    @property
    def onnx_file(self) -> Path:
        """The run's model as ONNX, written by `cnnapp export` (it may not exist)."""
        return self.path / ONNX_FILE


def read_json(path: Path) -> dict:
    """A JSON object from a file; CnnappError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise CnnappError(f"{path}: unreadable JSON ({error})") from None
    if not isinstance(data, dict):
        raise CnnappError(f"{path}: expected a JSON object")
    return data


def read_run(path: Path | str) -> Run:
    """A run folder's configuration and metrics; CnnappError if it is not a complete run."""
    path = Path(path)
    if not path.is_dir():
        raise CnnappError(f"{path}: no such run folder")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise CnnappError(f"{path}: not a complete run folder (missing {', '.join(missing)})")
    config = read_json(path / CONFIG_FILE)
    check_config(path / CONFIG_FILE, config)
    return Run(path, config, read_json(path / METRICS_FILE))


def check_config(path: Path, config: dict) -> None:
    """Refuse a run's config.json without a model name and a list of distinct class names, or with a crop, colour
    or marks choice this version does not know (which it would otherwise take for the default)."""
    data, names = config.get("data"), None
    if isinstance(data, dict):
        names = data.get("class_names")
    if not isinstance(config.get("model"), str) or not isinstance(names, list):
        raise CnnappError(f"{path}: lacks the model name or data.class_names")
    if len(names) < 2 or not all(isinstance(name, str) for name in names) or len(set(names)) != len(names):
        raise CnnappError(f"{path}: data.class_names must be two or more distinct names")
    hyperparameters = config.get("hyperparameters", {})
    if not isinstance(hyperparameters, dict):
        raise CnnappError(f"{path}: hyperparameters is not a JSON object")
    for key, known in VIEW_CHOICES.items():
        value = hyperparameters.get(key, known[0])
        if value not in known:
            raise CnnappError(f"{path}: {key} {value!r} is not known to this version ({', '.join(known)})")


def write_config(folder: Path, config: dict) -> None:
    """A run's config.json: everything needed to make it again."""
    write_json(folder / CONFIG_FILE, config)


def write_metrics(folder: Path, result: Result) -> None:
    """A run's metrics.json: its result on its test photos."""
    write_json(folder / METRICS_FILE, result.metrics())


def written_result(folder: Path) -> Result | None:
    """The result a training stopped after writing its metrics.json left in folder, else None."""
    path = folder / METRICS_FILE
    return Result.from_metrics(read_json(path)) if path.is_file() else None


def same_training(folder: Path, config: dict) -> None:
    """Refuse to continue in folder what a training with other data, split or settings began there."""
    path = folder / CONFIG_FILE
    if not path.is_file():
        return
    before = read_json(path)
    keys = ("model", "data", "split", "hyperparameters")
    differing = [key for key in keys if before.get(key) != json.loads(json.dumps(config[key]))]
    if differing:
        raise CnnappError(
            f"{folder}: left by a stopped training whose {', '.join(differing)} differ from this one's; rerun "
            "its own command with `resume`, or remove that folder",
            parameter="resume",
        )


def run_folders(root: Path) -> list[Path]:
    """Folders under root holding both config.json and metrics.json, skipping hidden (unfinished) ones."""
    root = Path(root)
    if not root.is_dir():
        raise CnnappError(f"{root}: no such folder")
    found = []
    for config in sorted(root.rglob(CONFIG_FILE)):
        folder = config.parent
        hidden = any(part.startswith(".") for part in folder.relative_to(root).parts)
        if not hidden and (folder / METRICS_FILE).is_file():
            found.append(folder)
    return found


def read_history(path: Path) -> dict[str, list[float]]:
    """A history.csv as metric name -> one value per epoch."""
    try:
        with Path(path).open(newline="") as f:
            rows = list(csv.DictReader(f))
        return {key: [float(row[key]) for row in rows] for key in rows[0] if key != "epoch"}
    except (OSError, IndexError, KeyError, TypeError, ValueError) as error:
        raise CnnappError(f"{path}: unreadable training history ({error})") from None
