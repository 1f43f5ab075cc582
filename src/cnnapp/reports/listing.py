"""The runs under a folder as one aligned table, sortable by any of its columns."""

from dataclasses import dataclass
from pathlib import Path

from cnnapp.errors import CnnappError, printable
from cnnapp.runs import read_run, run_folders


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


def run_row(folder: Path) -> RunRow:
    """One run's table row; CnnappError naming the folder when the run is incomplete or its files lack a value."""
    run = read_run(folder)
    try:
        if run.provenance.created is None:
            raise ValueError("no date it was created")
        return RunRow(
            path=printable(str(folder)),
            model=printable(run.model),
            data=printable(str(run.data.name)),
            accuracy=float(run.test_accuracy),
            epochs=int(run.training.epochs_run),
            seconds=float(run.training.seconds),
            date=printable(str(run.provenance.created)[:16].replace("T", " ")),
        )
    except (TypeError, ValueError, OverflowError) as error:
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
