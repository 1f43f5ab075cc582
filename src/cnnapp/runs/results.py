"""What a run measured: the figures of its metrics.json, and of any evaluation, under one set of names."""

from dataclasses import dataclass, field

FIGURES = ("test_accuracy", "test_loss", "n_test", "per_class_accuracy", "confusion_matrix", "class_names")
"""The figures every metrics.json holds, in the order of Result's first fields."""


@dataclass(frozen=True)
class Result:
    """How a model scored on some images: what a training reports on its test images and what an evaluation
    reports, under one set of names. training holds a training's own figures (seconds, epochs), else nothing."""

    accuracy: float
    loss: float
    n: int
    per_class_accuracy: dict[str, float | None]
    confusion_matrix: list[list[int]]  # rows true, columns predicted
    class_names: list[str]
    images: str = ""  # which images, in words
    training: dict = field(default_factory=dict)
    per_source: dict[str, "Result"] = field(default_factory=dict)  # the same figures for each source of mixed data

    def metrics(self) -> dict:
        """The run's metrics.json: test_accuracy, test_loss, n_test, the per-class figures, the training's and,
        for mixed data, all of them per source."""
        per_source = {"per_source": {name: r.metrics() for name, r in self.per_source.items()}}
        return {
            "test_accuracy": self.accuracy,
            "test_loss": self.loss,
            "n_test": self.n,
            "per_class_accuracy": self.per_class_accuracy,
            "confusion_matrix": self.confusion_matrix,
            "class_names": self.class_names,
            **self.training,
            **(per_source if self.per_source else {}),
        }

    @classmethod
    def from_metrics(cls, metrics: dict) -> "Result":
        """A run's metrics.json read back."""
        return cls(
            *(metrics[key] for key in FIGURES),
            images="its test images",
            training={k: v for k, v in metrics.items() if k not in (*FIGURES, "per_source")},
            per_source={name: cls.from_metrics(m) for name, m in metrics.get("per_source", {}).items()},
        )


@dataclass(frozen=True)
class Training:
    """A training's own figures in its metrics.json (None where a run does not record one): its seconds, the epochs
    it ran, the epoch of lowest validation loss and which epoch it kept ("best" or "last")."""

    seconds: float | None
    epochs_run: int | None
    best_epoch: int | None
    kept: str | None

    @classmethod
    def from_metrics(cls, metrics: dict) -> "Training":
        """The training figures of a run's metrics.json."""
        return cls(
            metrics.get("train_seconds"), metrics.get("epochs_run"), metrics.get("best_epoch"), metrics.get("kept")
        )
