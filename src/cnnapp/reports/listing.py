"""The runs under a folder as one aligned table, sortable by any of its columns."""

from dataclasses import dataclass
from pathlib import Path

from cnnapp.errors import CnnappError, printable
from cnnapp.training.rundir import read_run


@dataclass(frozen=True)
class RunRow:
    """What the table shows of one run."""

    path: str
    model: str
    data: str
    accuracy: float
    epochs: int
    seconds: float
    date: str  # UTC, "YYYY-MM-DD HH:MM"


SORT_KEYS = {
    "path": lambda row: row.path,
    "model": lambda row: row.model,
    "data": lambda row: row.data,
    "accuracy": lambda row: row.accuracy,
    "epochs": lambda row: row.epochs,
    "time": lambda row: row.seconds,
    "date": lambda row: row.date,
}


def run_folders(root: Path) -> list[Path]:
    """Folders under root holding both config.json and metrics.json, skipping hidden (unfinished) ones."""
    root = Path(root)
    if not root.is_dir():
        raise CnnappError(f"{root}: no such folder")
    found = []
    for config in sorted(root.rglob("config.json")):
        folder = config.parent
        hidden = any(part.startswith(".") for part in folder.relative_to(root).parts)
        if not hidden and (folder / "metrics.json").is_file():
            found.append(folder)
    return found


def run_row(folder: Path) -> RunRow:
    """One run's table row; CnnappError naming the folder when the run is incomplete or its files lack a value."""
    run = read_run(folder)
    try:
        return RunRow(
            path=printable(str(folder)),
            model=printable(run.config["model"]),
            data=printable(str(run.config["data"]["name"])),
            accuracy=float(run.metrics["test_accuracy"]),
            epochs=int(run.metrics["epochs_run"]),
            seconds=float(run.metrics["train_seconds"]),
            date=printable(str(run.config["created"])[:16].replace("T", " ")),
        )
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise CnnappError(f"{folder}: config.json or metrics.json lacks a usable value ({error})") from None


def list_runs(root: Path) -> tuple[list[RunRow], list[str]]:
    """The readable runs under root, and one line for each run folder that could not be read."""
    rows, problems = [], []
    for folder in run_folders(root):
        try:
            rows.append(run_row(folder))
        except CnnappError as error:
            problems.append(str(error))
    return rows, problems


def run_table(rows: list[RunRow]) -> list[str]:
    """The rows as aligned text lines under a header: text columns left, figures right."""
    header = ["run", "model", "data", "test accuracy", "epochs", "train time", "date (UTC)"]
    cells = [[r.path, r.model, r.data, f"{r.accuracy:.4f}", str(r.epochs), f"{r.seconds:.0f} s", r.date] for r in rows]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    right = {3, 4, 5}
    return [
        "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in [header, *cells]
    ]
