"""A trained run adapted to a few labelled photos: the base model's body with a new readout of its features.

The base model up to its last layer turns each photo, seen as the base sees photos (its crop, colours, marks), into
features, computed once; a logistic regression of the standardised features becomes the new last layer (a
softmax Dense layer over the photos' classes). When the photos' classes are the base's own, the adapted run keeps
the base's answer too and averages the two: a readout of a few photos alone reads photos of a source the base never
saw less well than that average. With so few photos its figures are cross-validated on them.
"""

import hashlib
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from cnnapp.data.datasets import Dataset
from cnnapp.data.images import model_inputs
from cnnapp.data.views import seen_dataset
from cnnapp.evaluation.evaluate import probabilities, result_of
from cnnapp.evaluation.reuse import load_model
from cnnapp.files import writing_folder
from cnnapp.models.nets import without_vote
from cnnapp.runs import Result, Run, read_run, write_config, write_metrics
from cnnapp.training.record import data_record, provenance

STRENGTH = 1.0
"""The readout's inverse L2 penalty (scikit-learn's C) on standardised features, fixed beforehand."""
FOLDS = 5
"""Cross-validation folds, fewer when a class has fewer photos (every fold holds each class once at least)."""


def body_of(model: keras.Model) -> keras.Model:
    """The model up to its last layer: photos (scaled) in, the features its last layer reads out (of the network
    inside a model with a landmark vote)."""
    network = without_vote(model)
    return keras.Model(network.inputs, network.layers[-1].input)


def features_of(body: keras.Model, seen: np.ndarray, marks: np.ndarray | None = None) -> np.ndarray:
    """One row of features for each uint8 image (n, 64, 64, 3) as the base sees it (and its marks, for a base
    that reads them)."""
    return body.predict(model_inputs(seen, marks), batch_size=256, verbose=0).reshape(len(seen), -1)


def span_of(rows: np.ndarray) -> np.ndarray:
    """Orthonormal columns (features, rank) spanning the rows, from the eigenvectors of their small Gram matrix."""
    values, vectors = np.linalg.eigh(rows @ rows.T)
    kept = values > values.max(initial=0) * 1e-10
    return rows.T @ vectors[:, kept] / np.sqrt(values[kept])


def fit_readout(features: np.ndarray, labels: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Kernel (features, classes) and bias (classes,) of a softmax layer: a logistic regression of the standardised
    features, the standardisation folded into the weights. Two classes give logits (0, z), the binary regression.

    The L2-penalised weights lie in the span of the photos' feature rows, so the regression is fit on the photos'
    coordinates in that span (the same optimum): a few columns instead of tens of thousands."""
    mean, spread = features.mean(axis=0), features.std(axis=0)
    spread[spread == 0] = 1.0
    standard = ((features - mean) / spread).astype(np.float64)
    span = span_of(standard)
    fitted = LogisticRegression(C=STRENGTH, max_iter=5000).fit(standard @ span, labels)
    coef, intercept = fitted.coef_ @ span.T, fitted.intercept_
    if classes == 2:
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    kernel = (coef / spread).T
    return kernel.astype(np.float32), (intercept - kernel.T @ mean).astype(np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def readout_probabilities(readout: tuple[np.ndarray, np.ndarray], features: np.ndarray) -> np.ndarray:
    """Class probabilities (n, classes) a readout gives rows of features."""
    kernel, bias = readout
    return softmax(features @ kernel + bias)


def folds_for(labels: np.ndarray) -> int:
    """How many folds the photos allow: FOLDS, or the smallest class's photo count when that is fewer."""
    return int(min(FOLDS, np.bincount(labels).min()))


def keeps_base_answer(base: Run, dataset: Dataset) -> bool:
    """Whether an adaptation to the dataset keeps the base's answer: when its classes are the base's, in order."""
    return list(dataset.class_names) == list(base.class_names)


def blended(readout_probs: np.ndarray, base_probs: np.ndarray | None) -> np.ndarray:
    """The adapted run's class probabilities: the readout's, averaged with the base's where it keeps them."""
    return readout_probs if base_probs is None else (readout_probs + base_probs) / 2


def cross_validated(
    features: np.ndarray, labels: np.ndarray, classes: int, seed: int, base_probs: np.ndarray | None = None
) -> np.ndarray:
    """Each photo's class probabilities from a readout fit on the other folds (stratified, shuffled by seed),
    averaged with the base's own probabilities (n, classes) when they are given."""
    probs = np.zeros((len(labels), classes))
    folds = StratifiedKFold(folds_for(labels), shuffle=True, random_state=seed)
    for learn, score in folds.split(features, labels):
        readout = fit_readout(features[learn], labels[learn], classes)
        probs[score] = readout_probabilities(readout, features[score])
    return blended(probs, base_probs)


def adapted_model(base: keras.Model, readout: tuple[np.ndarray, np.ndarray], keep_base: bool) -> keras.Model:
    """The base model's body with the readout as its new last layer; if keep_base, its answer averaged with the
    base model's own (a binary base's one unit p read as the two classes 1 - p, p)."""
    body = body_of(base)
    layer = keras.layers.Dense(len(readout[1]), activation="softmax", name="adapted_readout")
    answer = layer(body.outputs[0])
    if keep_base:
        theirs = base(body.inputs if len(body.inputs) > 1 else body.inputs[0])
        if theirs.shape[-1] == 1:
            other = keras.layers.Rescaling(-1.0, offset=1.0, name="base_other_class")(theirs)
            theirs = keras.layers.Concatenate(name="base_by_class")([other, theirs])
        answer = keras.layers.Average(name="with_base_answer")([answer, theirs])
    model = keras.Model(body.inputs, answer)
    layer.set_weights(list(readout))
    return model


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def base_record(base: Run, model: keras.Model) -> dict:
    """What the adapted run records of the run it started from."""
    return {
        "run": str(base.path),
        "model": base.model,
        "model_sha256": file_sha256(base.keras_file),
        "data": base.data.name,
        "data_fingerprint": base.data.fingerprint,
        "class_names": base.class_names,
        "layers_loaded": sum(1 for layer in model.layers[:-1] if layer.weights),
        "layers_with_weights": sum(1 for layer in model.layers if layer.weights),
    }


def adapted_config(base: Run, model: keras.Model, dataset: Dataset, seed: int, keep_base: bool) -> dict:
    """The adapted run's config.json, in the schema of a trained run's: no test images (every photo fit the
    readout), the cross-validation in their place."""
    view = base.view
    folds = folds_for(dataset.y)
    return {
        "model": base.model,
        "parameters": model.count_params(),
        "data": {**data_record(dataset), "sources": None, "files": list(dataset.paths) if dataset.paths else None},
        "split": {
            "described": f"all {len(dataset.y)} photos fit the readout; its figures are {folds}-fold "
            f"cross-validated on them (stratified, seed {seed})",
            "n_train": len(dataset.y),
            "n_val": 0,
            "n_test": 0,
            "n_images": len(dataset.y),
            "validates_on_test": False,
            "cross_validation": {"folds": folds, "stratified": True, "n_photos": len(dataset.y)},
        },
        "hyperparameters": {
            "crop": view.crop,
            "colour": view.colour,
            "marks": view.marks,
            "readout": "logistic regression of the base's standardised features"
            + (", averaged with the base's own answer" if keep_base else ""),
            "keeps_base_answer": keep_base,
            "l2_inverse_strength": STRENGTH,
            "seed": seed,
        },
        "initial_weights": base_record(base, model),
        **provenance(),
    }


def adapt_run(base_dir: Path | str, dataset: Dataset, out: Path, seed: int = 1) -> Result:
    """Adapt the run at base_dir to the dataset's photos and classes into the run folder out (which appears only
    when complete); the readout's cross-validated result on the photos, of which every class needs two or more
    (one to learn from and one to be scored on, in every fold)."""
    base = read_run(base_dir)
    with writing_folder(out) as folder:
        start = time.perf_counter()
        seen = seen_dataset(dataset, base.view)
        model = load_model(base)
        features = features_of(body_of(model), seen.x, seen.marks)
        classes = len(dataset.class_names)
        keep = keeps_base_answer(base, dataset)
        base_probs = probabilities(model, seen.x, seen.marks) if keep else None
        probs = cross_validated(features, seen.y, classes, seed, base_probs)
        adapted = adapted_model(model, fit_readout(features, seen.y, classes), keep)
        adapted.save(folder / "model.keras")
        seconds = time.perf_counter() - start
        folds = folds_for(seen.y)
        described = f"its {len(seen.y)} photos, {folds}-fold cross-validated (stratified, seed {seed})"
        result = result_of(probs, seen.y, list(dataset.class_names), described)
        cross_validation = {"folds": folds, "n_photos": len(seen.y), "seed": seed}
        training = {"train_seconds": round(seconds, 2), "epochs_run": 0, "cross_validation": cross_validation}
        result = replace(result, training=training)
        write_config(folder, adapted_config(base, adapted, dataset, seed, keep))
        write_metrics(folder, result)
    return result
