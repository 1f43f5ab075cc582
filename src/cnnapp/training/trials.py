"""The trials of a search on disk: a CSV table with one row each, and a plot of the search."""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from cnnapp.files import writing_file


def write_trials(rows: list[dict], path: Path) -> None:
    """rows (dicts with the same keys) as a CSV table, written whole; an empty cell where a value is None."""
    with writing_file(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["trial"])
        writer.writeheader()
        writer.writerows(rows)


def plot_trials(rows: list[dict], path: Path, title: str) -> None:
    """Validation accuracy of every finished trial: in the order they were run, with the best so far, and
    against the learning rate (marker size: batch size; filled: trained with augmentation)."""
    done = [row for row in rows if row["val_accuracy"] is not None]
    accuracy = np.array([row["val_accuracy"] for row in done])
    fig, (by_trial, by_rate) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    numbers = [int(row["trial"]) for row in done]
    by_trial.plot(numbers, accuracy, "o", label="trial")
    if done:
        by_trial.step(numbers, np.maximum.accumulate(accuracy), where="post", label="best so far")
    by_trial.set_xlabel("trial")
    by_trial.set_ylabel("validation accuracy")
    by_trial.legend(loc="best")
    for augment in (False, True):
        chosen = [row for row in done if row["augment"] == augment]
        if not chosen:
            continue
        by_rate.scatter(
            [row["learning_rate"] for row in chosen],
            [row["val_accuracy"] for row in chosen],
            s=[row["batch_size"] * 2 for row in chosen],
            facecolors="tab:orange" if augment else "none",
            edgecolors="tab:orange",
            label="augmentation on" if augment else "augmentation off",
        )
    by_rate.set_xscale("log")
    by_rate.set_xlabel("learning rate (marker size: batch size)")
    by_rate.legend(loc="best")
    for ax in (by_trial, by_rate):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    with writing_file(path) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
