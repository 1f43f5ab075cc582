"""A stopped training continued: the backup Keras keeps of its last finished epoch made whole again, and its
history cut to match."""

import json
import shutil
from pathlib import Path

import h5py
import keras

from cnnapp.files import writing_file
from cnnapp.runs import read_history

BACKUP = "backup"
"""The folder of a run being written where Keras's BackupAndRestore keeps the last finished epoch."""


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
