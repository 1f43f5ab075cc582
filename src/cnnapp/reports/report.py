"""A run's report: figures and one self-contained HTML page about how it was trained and how it does."""

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import classification_report

from cnnapp.data.datasets import Dataset
from cnnapp.errors import CnnappError
from cnnapp.evaluation.curves import plot_history
from cnnapp.evaluation.evaluate import result_of
from cnnapp.evaluation.reuse import checked_probabilities, images_to_evaluate, load_model
from cnnapp.evaluation.variants import VARIANTS_FILE
from cnnapp.files import writing_folder
from cnnapp.models.summary import parameter_counts, summary
from cnnapp.progress import Progress
from cnnapp.reports.figures import Tile, confusion_figure, in_rows, save_png, tile_grid
from cnnapp.reports.page import report_page
from cnnapp.runs import Result, Run, read_history, read_json

COLUMNS = 7
"""Tiles a row in the report's grids: 1,040 pixels, the page's width."""
SHOWN = 6 * COLUMNS
"""Test photos in the predictions grid."""
MISTAKES = 3 * COLUMNS
"""Most confident mistakes shown."""


@dataclass(frozen=True)
class Tested:
    """A run's model on some images: what it predicted and how it scores."""

    photos: np.ndarray  # (n, 64, 64, 3) uint8, as taken
    seen: np.ndarray  # (n, 64, 64, 3) uint8, as the model took them in (the face crop, grey, if the run trained so)
    labels: np.ndarray  # (n,) true class indices
    probs: np.ndarray  # (n, classes)
    class_names: list[str]
    described: str

    @property
    def predicted(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    def guess(self, i: int) -> str:
        """The predicted class and its probability, one a line."""
        guess = self.predicted[i]
        return f"pred {self.class_names[guess]}\np = {self.probs[i, guess]:.2f}"

    def title(self, i: int) -> str:
        """The true class, the predicted class and its probability, one a line."""
        return f"true {self.class_names[self.labels[i]]}\n{self.guess(i)}"

    def tile(self, i: int) -> Tile:
        return Tile(self.photos[i], self.title(i), bool(self.predicted[i] != self.labels[i]))


def tested_on(run: Run, model: keras.Model, dataset: Dataset) -> Tested:
    """The model's predictions on the run's test images of the dataset (all its images if it is other data)."""
    photos, seen, marks, labels, described = images_to_evaluate(run, dataset)
    return Tested(photos, seen, labels, checked_probabilities(run, model, seen, marks), run.class_names, described)


def architecture(model: keras.Model) -> tuple[list[list], dict[str, int]]:
    """The model's summary rows and its total, trainable and non-trainable parameter counts."""
    total, trainable, frozen = parameter_counts(model)
    return summary(model), {"total": total, "trainable": trainable, "non-trainable": frozen}


def spread(n: int, count: int) -> np.ndarray:
    """Up to count positions spaced evenly over range(n)."""
    return np.unique(np.linspace(0, n - 1, min(n, count)).round().astype(int))


def confident_mistakes(tested: Tested, count: int) -> np.ndarray:
    """Positions of the wrong predictions made with the highest probability, most confident first."""
    wrong = np.flatnonzero(tested.predicted != tested.labels)
    confidence = tested.probs[wrong, tested.predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


def mistakes_figure(tested: Tested, mistakes: np.ndarray) -> Figure:
    """The mistakes in rows of photos, each above what the model saw of it with its guess."""
    total = int(np.count_nonzero(tested.predicted != tested.labels))
    which = f"The {len(mistakes)} most confident of the {total}" if total > len(mistakes) else f"All {total}"
    rows, labels = [], []
    for start in range(0, len(mistakes), COLUMNS):
        chunk = mistakes[start : start + COLUMNS]
        rows.append([Tile(tested.photos[i], f"true {tested.class_names[tested.labels[i]]}") for i in chunk])
        rows.append([Tile(tested.seen[i], tested.guess(i), True) for i in chunk])
        labels += ["photo", "the model\nsaw"]
    return tile_grid(rows, f"{which} mistakes, most confident first", labels)


def draw_figures(run: Run, tested: Tested, result: Result, folder: Path) -> dict[str, Path]:
    """The report's PNGs in folder, by role: confusion, mistakes (if any), predictions, loss and accuracy (if the
    run has a training history)."""
    n = len(tested.labels)
    heading = f"{n} images\n(rows: true class, columns: predicted)"
    figures = {
        "confusion": save_png(
            confusion_figure(result.confusion_matrix, tested.class_names, heading), folder / "confusion.png"
        )
    }
    mistakes = confident_mistakes(tested, MISTAKES)
    if len(mistakes):
        figures["mistakes"] = save_png(mistakes_figure(tested, mistakes), folder / "mistakes.png")
    shown = spread(n, SHOWN)
    wrong = int(np.count_nonzero(tested.predicted[shown] != tested.labels[shown]))
    grid = tile_grid(
        in_rows([tested.tile(i) for i in shown], COLUMNS),
        f"{len(shown)} of the {n} images, evenly spaced: {wrong} wrong (red)",
    )
    figures["predictions"] = save_png(grid, folder / "predictions.png")
    title = f"{run.model} on {run.data.name}"
    if (run.path / "history.csv").is_file():  # an adapted run learnt no epochs
        figures["loss"], figures["accuracy"] = plot_history(read_history(run.path / "history.csv"), folder, title)
    return figures


def write_report(run: Run, dataset: Dataset, out: Path) -> Path:
    """RUN's report folder at out (report.html and its PNGs), replacing an older report; returns the page's path.
    Its progress goes to stderr when it takes a while."""
    out = Path(out)
    if out.exists() and not (out / "report.html").is_file():
        raise CnnappError(f"{out}: exists and is not a report folder; choose another `out`", parameter="out")
    with Progress(f"report of {run.path}", 3) as progress:
        model = load_model(run)
        progress.update(1, "predicting its images")
        tested = tested_on(run, model, dataset)
        result = result_of(tested.probs, tested.labels, tested.class_names, tested.described)
        per_class = classification_report(
            tested.labels,
            tested.predicted,
            labels=range(len(tested.class_names)),
            target_names=tested.class_names,
            output_dict=True,
            zero_division=0,
        )
        rows, totals = architecture(model)
        progress.update(2, "drawing the figures")
        with writing_folder(out, replace=True) as folder:
            figures = draw_figures(run, tested, result, folder)
            variants = read_json(run.path / VARIANTS_FILE) if (run.path / VARIANTS_FILE).is_file() else None
            page = report_page(run, result, per_class, rows, totals, figures, variants)
            (folder / "report.html").write_text(page, encoding="utf-8")
    return out / "report.html"
