"""Keras callbacks of a training: each epoch's seconds, one line or a progress bar per epoch, a stop when the
loss diverges."""

import math
import sys
import time

import keras

from cnnapp.errors import CnnappError
from cnnapp.progress import Progress, duration, time_left


class EpochSeconds(keras.callbacks.Callback):
    """Adds each epoch's wall seconds (training and validation, no start-up) to its logs as epoch_seconds."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs["epoch_seconds"] = time.perf_counter() - self.start


def epoch_figures(logs: dict) -> str:
    """An epoch's training and validation figures in one line."""
    return (
        f"loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.4f}, "
        f"validation loss {logs['val_loss']:.4f}, validation accuracy {logs['val_accuracy']:.4f}"
    )


class EpochLines(keras.callbacks.Callback):
    """Prints one line for each finished epoch: its figures, its seconds and the time left (after EpochSeconds).
    On a terminal, the line of the epoch under way shows its batches meanwhile, rewritten in place."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs, self.seconds, self.ran = epochs, 0.0, 0
        self.terminal = sys.stdout.isatty()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch, self.start = epoch, time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.terminal:
            steps, elapsed = self.params["steps"], time.perf_counter() - self.start
            left = time_left(elapsed, batch + 1, steps)
            print(
                f"\repoch {self.epoch + 1}/{self.epochs}: batch {batch + 1}/{steps}, {left} in this epoch\033[K",
                end="",
                flush=True,
            )

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds, self.ran = self.seconds + logs["epoch_seconds"], self.ran + 1
        left = time_left(self.seconds, self.ran, self.ran + self.epochs - epoch - 1) if epoch + 1 < self.epochs else ""
        line = f"epoch {epoch + 1}/{self.epochs}: {epoch_figures(logs)}, {duration(logs['epoch_seconds'])}"
        start, end = ("\r", "\033[K") if self.terminal else ("", "")
        print(start + line + (f", {left}" if left else "") + end, flush=True)


class EpochProgress(keras.callbacks.Callback):
    """Shows the epochs done on a Progress, with the last validation accuracy."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.progress.update(epoch + 1, f"validation accuracy {logs['val_accuracy']:.4f}")


class StopOnDivergence(keras.callbacks.Callback):
    """Stops a training whose loss has become nan or infinite, with one line saying so, before the epoch is kept."""

    def __init__(self, learning_rate: float) -> None:
        super().__init__()
        self.learning_rate = learning_rate

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        diverged = {key: value for key, value in (logs or {}).items() if not math.isfinite(float(value))}
        if diverged:
            raise CnnappError(
                f"`learning_rate` {self.learning_rate:g}: the training diverged in epoch "
                f"{epoch + 1} ({', '.join(f'{k} {v}' for k, v in diverged.items())}); choose a lower learning rate",
                parameter="learning_rate",
            )
