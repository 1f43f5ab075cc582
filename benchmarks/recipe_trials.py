"""One trial of a training recipe, timed to accuracy: the candidates that docs/what-was-tried.md compares when
choosing sign-net's and smile-net's recipes (resolution, widths, augmentation, learning rate, schedule, batch, epochs).

Like benchmarks/time_to_accuracy.py, it prints the seconds from the process's start (the test scoring taken off)
and the held-out test accuracy after each epoch, and the first epoch at the task's target; it trains on arrays of
the same split, with cnnapp's conv blocks, fused batch normalisation and augmentation layers, but writes no run.
Settings are given as name=value:

    CNNAPP_DATA=~/datasets .venv/bin/python benchmarks/recipe_trials.py task=sign-digits side=32 augment=light
    CNNAPP_DATA=~/datasets .venv/bin/python benchmarks/recipe_trials.py task=smiles side=32 augment=faces epochs=6

task: sign-digits (0-5, target 0.98) or smiles (0.93); side: 64, or 32 (the photo halved first);
widths / convs: each conv block's filters and convolutions; stem: the filters of a 3x3 convolution of stride 2 in
front of the blocks (0, the default: none); augment: hands, faces or light (cnnapp's kinds),
or flip (a mirror image only); schedule: constant, cosine (straight down) or one-cycle (up over the first tenth of
the steps, then down; training/fit.py's learning_rate); learning_rate, batch, epochs, seed.
"""

import json
import sys
import time

START = time.time()

import cnnapp  # noqa: E402, F401  (first, as in every cnnapp process: it switches TensorFlow's oneDNN kernels on)

# isort: split
import keras  # noqa: E402
from keras import layers  # noqa: E402

from cnnapp.data.datasets import load_dataset, parse_classes, select_classes  # noqa: E402
from cnnapp.data.images import scale  # noqa: E402
from cnnapp.data.leaks import without_leaks  # noqa: E402
from cnnapp.data.splits import split_dataset  # noqa: E402
from cnnapp.evaluation.evaluate import targets  # noqa: E402
from cnnapp.models.augment import augmentation  # noqa: E402
from cnnapp.models.fused import fused_batch_norm  # noqa: E402
from cnnapp.models.nets import conv_block, halved  # noqa: E402
from cnnapp.runs import TrainConfig  # noqa: E402
from cnnapp.training.fit import learning_rate, seed_everything  # noqa: E402

DEFAULTS = {
    "task": "sign-digits",
    "side": 64,
    "widths": "32,64,128,192",
    "convs": "1,1,2,2",
    "stem": 0,
    "augment": "hands",
    "schedule": "cosine",
    "learning_rate": 0.001,
    "batch": 32,
    "epochs": 20,
    "seed": 1,
}
TARGETS = {"sign-digits": 0.98, "smiles": 0.93}


def settings(args: list[str]) -> dict:
    """DEFAULTS with each name=value given in its place, as the default's type."""
    chosen = dict(DEFAULTS)
    for arg in args:
        name, _, value = arg.partition("=")
        if name not in DEFAULTS:
            sys.exit(f"{name}: not a setting; choose among {', '.join(DEFAULTS)}")
        chosen[name] = type(DEFAULTS[name])(value)
    return chosen


def changes(kind: str) -> keras.Sequential:
    """The augmentation layers of a kind."""
    if kind == "flip":
        return keras.Sequential([layers.RandomFlip("horizontal")], name="augmentation")
    return augmentation(kind)


def schedule_of(s: dict) -> TrainConfig:
    """The trial's settings as far as its learning rate goes, for training/fit.py's learning_rate."""
    return TrainConfig(s["epochs"], s["batch"], s["learning_rate"], s["seed"], schedule=s["schedule"])


def network(s: dict, classes: int) -> keras.Model:
    """The trial's network behind its augmentation."""
    inputs = keras.Input(shape=(64, 64, 3))
    x = halved(inputs) if s["side"] == 32 else inputs
    if s["stem"]:  # a learned halving: a 3x3 convolution with a stride of 2
        x = layers.Conv2D(s["stem"], 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))
    for filters, convs in zip(s["widths"].split(","), s["convs"].split(","), strict=True):
        x = conv_block(x, int(filters), int(convs))
    x = layers.Dropout(0.3)(layers.GlobalAveragePooling2D()(x))
    outputs = layers.Dense(1, activation="sigmoid")(x) if classes == 2 else layers.Dense(classes, "softmax")(x)
    model = fused_batch_norm(keras.Model(inputs, outputs))
    return keras.Model(inputs, model(changes(s["augment"])(inputs)))


def main() -> None:
    s = settings(sys.argv[1:])
    dataset = load_dataset(s["task"])
    dataset = select_classes(dataset, parse_classes("0-5")) if s["task"] == "sign-digits" else dataset
    split = without_leaks(dataset, split_dataset(dataset, s["seed"]), "drop")
    classes, binary = len(dataset.class_names), len(dataset.class_names) == 2
    seed_everything(s["seed"])
    model = network(s, classes)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate(schedule_of(s), len(split.train))),
        loss="binary_crossentropy" if binary else "categorical_crossentropy",
        metrics=["accuracy"],
    )
    test_x, test_y = scale(dataset.x[split.test]), dataset.y[split.test]
    timeline, scoring = [], [0.0]

    def score(epoch: int, logs: dict) -> None:
        now = time.time()
        scores = model.predict(test_x, batch_size=256, verbose=0)
        answers = (scores[:, 0] > 0.5).astype(int) if binary else scores.argmax(axis=1)
        timeline.append((epoch + 1, round(now - START - scoring[0], 1), round(float((answers == test_y).mean()), 3)))
        scoring[0] += time.time() - now
        print(f"epoch {timeline[-1][0]}: {timeline[-1][1]} s, test accuracy {timeline[-1][2]}", flush=True)

    model.fit(
        scale(dataset.x[split.train]),
        targets(dataset.y[split.train], classes, binary),
        validation_data=(scale(dataset.x[split.val]), targets(dataset.y[split.val], classes, binary)),
        batch_size=s["batch"],
        epochs=s["epochs"],
        callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=score)],
        verbose=0,
    )
    first = next((t for t in timeline if t[2] >= TARGETS[s["task"]]), None)
    print(json.dumps({"settings": s, "first at target": first, "best": max(t[2] for t in timeline)}))


if __name__ == "__main__":
    main()
