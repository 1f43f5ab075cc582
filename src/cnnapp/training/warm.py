"""A training started from another run's weights: the run checked (same model, none of the test photos here seen),
its weights copied layer by layer where they fit."""

from pathlib import Path

import keras

from cnnapp.data.datasets import Dataset
from cnnapp.data.splits import Split
from cnnapp.errors import CnnappError
from cnnapp.evaluation.reuse import load_model, unseen_by
from cnnapp.models.augment import without_augmentation
from cnnapp.runs import Run, read_run


def start_run(run_dir: str | Path, model_name: str) -> Run:
    """The run a training of model_name starts from; CnnappError when it is a run of another model."""
    run = read_run(run_dir)
    if run.model != model_name:
        raise CnnappError(f"{run_dir}: a run of model {run.model}, not {model_name}")
    return run


def check_start(run_dir: str | Path, model_name: str, dataset: Dataset, split: Split) -> None:
    """Refuse to start a training from a run of another model, or from one that trained or validated on the
    split's test images."""
    unseen_by(start_run(run_dir, model_name), dataset, split.test)


def load_matching_weights(
    model: keras.Model, run_dir: str, model_name: str, class_names: tuple[str, ...] | list[str]
) -> dict:
    """Start model from a run's trained weights, layer by layer, wherever the shapes match; the classifier
    (the last layer with weights) keeps its fresh weights unless the run's classes are these classes.

    Returns what was loaded, for the run's config.
    """
    run = start_run(run_dir, model_name)
    source, target = load_model(run), without_augmentation(model)
    pairs = [(old, new) for old, new in zip(source.layers, target.layers, strict=False) if new.weights]
    if run.class_names != list(class_names):
        pairs = pairs[:-1]
    loaded = 0
    for old, new in pairs:
        if [w.shape for w in old.weights] == [w.shape for w in new.weights]:
            new.set_weights(old.get_weights())
            loaded += 1
    return {
        "run": str(run_dir),
        "model": run.model,
        "data": run.data.name,
        "class_names": run.class_names,
        "layers_loaded": loaded,
        "layers_with_weights": sum(1 for layer in target.layers if layer.weights),
    }
