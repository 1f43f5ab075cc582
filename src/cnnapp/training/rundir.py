"""Run folders on disk: their JSON files and history written whole, read back checked.

This module does not import Keras, so that light readers (inference, listings) can use it.
"""

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from cnnapp.data.views import VIEW_CHOICES
from cnnapp.errors import CnnappError
from cnnapp.files import writing_file

REQUIRED_FILES = ("model.keras", "config.json", "metrics.json")


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
class RunInfo:
    """A finished run folder: where it is, how it was made and what it measured."""

    path: Path
    config: dict
    metrics: dict

    @property
    def class_names(self) -> list[str]:
        return self.config["data"]["class_names"]


def read_json(path: Path) -> dict:
    """A JSON object from a file; CnnappError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise CnnappError(f"{path}: unreadable JSON ({error})") from None
    if not isinstance(data, dict):
        raise CnnappError(f"{path}: expected a JSON object")
    return data


def read_run(path: Path | str) -> RunInfo:
    """A run folder's configuration and metrics; CnnappError if it is not a complete run."""
    path = Path(path)
    if not path.is_dir():
        raise CnnappError(f"{path}: no such run folder")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise CnnappError(f"{path}: not a complete run folder (missing {', '.join(missing)})")
    config = read_json(path / "config.json")
    check_config(path / "config.json", config)
    return RunInfo(path, config, read_json(path / "metrics.json"))


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


def read_history(path: Path) -> dict[str, list[float]]:
    """A history.csv as metric name -> one value per epoch."""
    try:
        with Path(path).open(newline="") as f:
            rows = list(csv.DictReader(f))
        return {key: [float(row[key]) for row in rows] for key in rows[0] if key != "epoch"}
    except (OSError, IndexError, KeyError, TypeError, ValueError) as error:
        raise CnnappError(f"{path}: unreadable training history ({error})") from None
