"""Figures of photos and results, laid out on a fixed grid so that every tile is readable at 100%."""

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

from cnnapp.errors import CnnappError
from cnnapp.files import writing_file

DPI = 100
TILE = 1.3  # inches a photo takes on a side (130 pixels: a 64x64 image about twice its size)
GAP = 0.15  # inches of white between tiles
TITLE_LINE = 0.17  # inches above a photo for each line of its title
HEADING = 0.55  # inches at the top for the figure's heading
MARGIN = 0.2
CHAR = 0.09  # inches a character of an 11-point row label takes, about
WRONG = "#c62828"


@dataclass(frozen=True)
class Tile:
    """One photo of a grid, with the text above it; wrong tiles get a red title and frame."""

    image: np.ndarray  # (64, 64, 3) uint8
    title: str = ""
    wrong: bool = False


def tile_grid(rows: list[list[Tile]], heading: str, row_labels: list[str] | None = None) -> Figure:
    """Rows of photos under a heading, each row optionally named at its left."""
    columns = max(len(row) for row in rows)
    lines = max((len(tile.title.splitlines()) for row in rows for tile in row), default=0)
    title_h = 0.08 + TITLE_LINE * lines if lines else 0
    cell_w, cell_h = TILE + GAP, TILE + GAP + title_h
    longest = max((len(line) for label in row_labels or [] for line in label.splitlines()), default=0)
    left = MARGIN + 0.2 + CHAR * longest if row_labels else MARGIN
    width = left + columns * cell_w - GAP + MARGIN
    height = HEADING + len(rows) * cell_h - GAP + MARGIN
    fig = plt.figure(figsize=(width, height), dpi=DPI)
    fig.text(MARGIN / width, 1 - 0.12 / height, heading, ha="left", va="top", fontsize=12, weight="bold")
    for r, row in enumerate(rows):
        top = HEADING + r * cell_h + title_h
        bottom = 1 - (top + TILE) / height
        if row_labels:
            fig.text(
                (left - 0.12) / width, bottom + TILE / 2 / height, row_labels[r], ha="right", va="center", fontsize=11
            )
        for c, tile in enumerate(row):
            ax = fig.add_axes(((left + c * cell_w) / width, bottom, TILE / width, TILE / height))
            ax.imshow(tile.image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(tile.wrong)
                spine.set_color(WRONG)
                spine.set_linewidth(3)
            if tile.title:
                color, weight = (WRONG, "bold") if tile.wrong else ("black", "normal")
                ax.set_title(tile.title, fontsize=9, color=color, weight=weight, pad=6, linespacing=1.15)
    return fig


def in_rows(tiles: list[Tile], columns: int) -> list[list[Tile]]:
    """A flat list of tiles cut into rows of at most `columns`."""
    return [tiles[i : i + columns] for i in range(0, len(tiles), columns)]


def single_image(image: np.ndarray, title: str, subtitle: str = "") -> Figure:
    """One photo shown large (six times its size), titled."""
    fig = plt.figure(figsize=(4.4, 5.0), dpi=DPI)
    ax = fig.add_axes((0.05, 0.04, 0.9, 0.79))
    ax.imshow(image, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.text(0.5, 0.97, title, ha="center", va="top", fontsize=13, weight="bold")
    if subtitle:
        fig.text(0.5, 0.905, subtitle, ha="center", va="top", fontsize=9, color="#555555")
    return fig


def confusion_figure(matrix: list[list[int]], class_names: list[str], heading: str) -> Figure:
    """The confusion matrix as a heat map with the count in every cell; rows true, columns predicted."""
    size = max(4.8, 0.5 * len(class_names) + 2.6)
    fig, ax = plt.subplots(figsize=(size, size), dpi=DPI)
    display = ConfusionMatrixDisplay(np.asarray(matrix), display_labels=class_names)
    display.plot(ax=ax, cmap="Blues", values_format="d", colorbar=False)
    long_names = max(len(name) for name in class_names) > 3
    ax.set_xticks(
        ax.get_xticks(), ax.get_xticklabels(), rotation=30 if long_names else 0, ha="right" if long_names else "center"
    )
    ax.set_xlabel("predicted class", fontsize=11)
    ax.set_ylabel("true class", fontsize=11)
    ax.set_title(heading, fontsize=11)
    fig.tight_layout()
    return fig


def save_png(fig: Figure, path: Path) -> Path:
    """The figure as a PNG at path, written under a temporary name first; the figure is closed."""
    path = Path(path)
    if not path.parent.is_dir():
        plt.close(fig)
        raise CnnappError(f"{path}: no such folder {path.parent}")
    try:
        with writing_file(path) as tmp:
            fig.savefig(tmp, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    return path
