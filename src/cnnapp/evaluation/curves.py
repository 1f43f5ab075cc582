"""The course's two training plots: loss and accuracy against the epoch, train vs validation."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from cnnapp.files import writing_file


def plot_curve(history: dict[str, list[float]], metric: str, title: str, path: Path) -> None:
    """One metric's train and validation curves over the epochs, saved as a PNG."""
    epochs = range(1, len(history[metric]) + 1)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(epochs, history[metric], marker=".", label="train")
    if f"val_{metric}" in history:
        ax.plot(epochs, history[f"val_{metric}"], marker=".", label="validation")
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with writing_file(path) as tmp:
        fig.savefig(tmp)
    plt.close(fig)


def plot_history(history: dict[str, list[float]], folder: Path, name: str) -> list[Path]:
    """loss.png and accuracy.png in folder; returns their paths."""
    paths = []
    for metric in ("loss", "accuracy"):
        path = Path(folder) / f"{metric}.png"
        plot_curve(history, metric, f"{name}: {metric}", path)
        paths.append(path)
    return paths
