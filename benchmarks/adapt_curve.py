"""How well `cnnapp adapt` does with k labelled photos a class: accuracy against k, mean +- std over seeded draws.

happy: k photos a class drawn from Happy House's 150 (test_happy.h5), the base run adapted to them (its features,
a new logistic-regression readout averaged with the base's own answer where the classes are the base's, as `cnnapp
adapt` makes it) and, for comparison, the course's happy model trained
from scratch on the same photos (its protocol); both scored on the rest of the 150.
signs: k photos a class drawn from signs-photos' training split, the base run adapted to them, scored on the
split's 120 test photos.
source: k photos a class drawn from a source the base never saw (--data; drawn down as the base's recipe draws
its sources, the smile gate's to 4,000; its training split when it ships one), scored on the rest of them. This is
where the way of adapting is chosen; Happy House and the SIGNS test photos only report it.

Where the adapted run keeps the base's answer, the readout alone is scored too. Each draw d (0, 1, ...) takes its
photos with seed d; the base's features of every photo are computed once. Prints one line per k and curve and
writes the curves as a PNG.

  CNNAPP_DATA=~/datasets python benchmarks/adapt_curve.py happy runs/smile-gate --png adapt-happy.png
  CNNAPP_DATA=~/datasets python benchmarks/adapt_curve.py signs runs/sign-reader --png adapt-signs.png
  CNNAPP_DATA=~/datasets python benchmarks/adapt_curve.py source runs/loso/smile-gate-without-mtfl-net --data mtfl-net
"""

import argparse
import json
from pathlib import Path

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from cnnapp.data.datasets import load_dataset, sampled
from cnnapp.data.images import scale
from cnnapp.data.views import seen_dataset
from cnnapp.evaluation.evaluate import probabilities, targets
from cnnapp.evaluation.reuse import load_model
from cnnapp.models.catalog import build_model, recipe
from cnnapp.runs import TrainConfig, read_run
from cnnapp.settings import data_dir
from cnnapp.training.adapt import (
    blended,
    body_of,
    features_of,
    fit_readout,
    keeps_base_answer,
    readout_probabilities,
)
from cnnapp.training.fit import seed_everything


def drawn(labels: np.ndarray, pool: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k indices of each class, drawn with seed from the indices in pool."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(pool[labels[pool] == c], k, replace=False) for c in np.unique(labels[pool])])


def from_scratch(images: np.ndarray, labels: np.ndarray, scored: np.ndarray, chosen: np.ndarray, seed: int) -> float:
    """Accuracy on scored of the course's happy model trained from scratch on chosen, by its protocol."""
    settings = TrainConfig.from_recipe("happy", seed)
    seed_everything(seed)
    model = build_model("happy", ["0", "1"])
    model.compile(keras.optimizers.Adam(settings.learning_rate), "binary_crossentropy")
    x, y = scale(images[chosen]), targets(labels[chosen], 2, True)
    model.fit(x, y, batch_size=settings.batch_size, epochs=settings.epochs, verbose=0)
    return float((probabilities(model, images[scored]).argmax(axis=1) == labels[scored]).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["happy", "signs", "source"])
    parser.add_argument("base_run")
    parser.add_argument("--k", type=int, nargs="+", default=[1, 2, 5, 10, 20], help="photos a class")
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--png", default="adapt-curve.png")
    parser.add_argument("--data", help="the source, for the task source")
    args = parser.parse_args()
    base = read_run(args.base_run)
    if args.task == "happy":
        dataset = load_dataset(str(data_dir() / "test_happy.h5"))
        pool, test = np.arange(len(dataset.y)), None
    elif args.task == "signs":
        dataset = load_dataset("signs-photos")
        pool, test = dataset.train, dataset.test
    else:
        most = recipe(base.model).most_per_source  # drawn down as the base's recipe draws its sources
        dataset = sampled(load_dataset(args.data), most) if most else load_dataset(args.data)
        pool, test = (np.arange(len(dataset.y)) if dataset.train is None else dataset.train), None
    seen = seen_dataset(dataset, base.view)
    model = load_model(base)
    features = features_of(body_of(model), seen.x, seen.marks)
    base_probs = probabilities(model, seen.x, seen.marks) if keeps_base_answer(base, dataset) else None
    classes = len(dataset.class_names)
    curves: dict[str, dict[int, list[float]]] = {"adapted": {}, "readout alone": {}, "happy from scratch": {}}
    for k in args.k:
        for draw in range(args.draws):
            chosen = drawn(dataset.y, pool, k, draw)
            scored = np.setdiff1d(pool, chosen) if test is None else test
            readout = fit_readout(features[chosen], dataset.y[chosen], classes)
            alone = readout_probabilities(readout, features[scored])
            theirs = None if base_probs is None else base_probs[scored]
            right = blended(alone, theirs).argmax(axis=1) == dataset.y[scored]
            curves["adapted"].setdefault(k, []).append(float(right.mean()))
            if theirs is not None:
                curves["readout alone"].setdefault(k, []).append(
                    float(np.mean(alone.argmax(axis=1) == dataset.y[scored]))
                )
            if args.task == "happy":  # the course's model sees the whole photo in colour, as Happy House is
                score = from_scratch(dataset.x, dataset.y, scored, chosen, draw)
                curves["happy from scratch"].setdefault(k, []).append(score)
        for name, curve in curves.items():
            if k in curve:
                print(f"k={k:<3} {name:<19} {np.mean(curve[k]):.4f} +- {np.std(curve[k]):.4f} ({args.draws} draws)")
    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    for name, curve in curves.items():
        if curve:
            ks = sorted(curve)
            means, stds = [np.mean(curve[k]) for k in ks], [np.std(curve[k]) for k in ks]
            axes.errorbar(ks, means, yerr=stds, marker="o", capsize=3, label=name)
    axes.set_xscale("log")
    axes.set_xticks(args.k, [str(k) for k in args.k])
    axes.minorticks_off()
    axes.set_xlabel("labelled photos a class")
    axes.set_ylabel("accuracy on the photos not drawn" if test is None else "accuracy on the 120 test photos")
    axes.set_title(f"{args.task}: {Path(args.base_run).name} adapted ({args.draws} draws a k)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(args.png)
    print(json.dumps({name: {k: [round(v, 4) for v in c[k]] for k in c} for name, c in curves.items() if c}))


if __name__ == "__main__":
    main()
