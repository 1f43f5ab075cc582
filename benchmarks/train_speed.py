"""How fast models train: the course's own way against `cnnapp train`, as a fraction of the machine's matmul peak.

For happy (smiles), signs (sign-digits 0-5), smile-net (smiles) and sign-net (sign-digits 0-5), in one run:
(a) the course's way: the same model built, compiled with Adam and fitted on NumPy arrays of the same split,
    batch size and epochs, validating on the same images, with TensorFlow's defaults and nothing else;
(b) the real `cnnapp train` command in a subprocess, its epoch times read from the run's history.csv;
and, with --base SRC (the src folder of an older checkout), that checkout's `cnnapp train` for smile-net and
sign-net, its epochs timed by a callback added to Keras's fit. a, b and base run in turn, model by model.

Seconds per epoch are the median over the epochs after the first (the first traces the graph); an epoch
includes its validation pass. Training FLOPs per image are 3x the forward FLOPs of the convolution and dense
layers (the forward pass, the gradient of the inputs and the gradient of the weights each cost about one
forward pass); batch normalisation, activations and pooling are left out, so the GFLOP/s are a slight
undercount. The peak is the best of repeated fp32 2048x2048 matrix products, measured at start and end.

    CNNAPP_DATA=~/datasets .venv/bin/python benchmarks/train_speed.py --epochs 3

With --compare VARIANT[=VALUE],... and one model in --models, it times instead short trainings of that model on
the first --images training images, cnnapp's own (reference) and each variant (see train_variant.py) in turn,
round after round, each in a fresh process, and prints the process CPU milliseconds per training image of the
epochs after the first (validation included), per round and as the median ratio to the reference in the same
round. CPU time is what other jobs on a shared machine disturb least; for thread settings read the wall figures,
from a quiet machine only.

    CNNAPP_DATA=~/datasets .venv/bin/python benchmarks/train_speed.py --models happy --compare threads=2/1
"""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
CASES = [  # model, data, classes
    ("happy", "smiles", None),
    ("signs", "sign-digits", "0-5"),
    ("smile-net", "smiles", None),
    ("sign-net", "sign-digits", "0-5"),
]
SEED = 1

# The course's way, run in a fresh process: TensorFlow is imported before cnnapp, so it keeps its own defaults;
# cnnapp only builds the model and draws the split, as `cnnapp train` does.
COURSE_WAY = """
import json, sys, time
import keras
from cnnapp.data.datasets import load_dataset, parse_classes, select_classes
from cnnapp.data.images import scale
from cnnapp.data.splits import split_dataset
from cnnapp.models.catalog import recipe
from cnnapp.evaluation.evaluate import targets

name, data, classes, epochs, seed = json.loads(sys.argv[1])
dataset = load_dataset(data)
dataset = select_classes(dataset, parse_classes(classes)) if classes else dataset
split = split_dataset(dataset, seed)
chosen = recipe(name)
n = len(dataset.class_names)
keras.utils.set_random_seed(seed)
model = chosen.build(n)
model.compile(
    optimizer="adam", loss="binary_crossentropy" if chosen.binary else "categorical_crossentropy", metrics=["accuracy"]
)
times = []
timer = keras.callbacks.LambdaCallback(
    on_epoch_begin=lambda epoch, logs: times.append(time.perf_counter()),
    on_epoch_end=lambda epoch, logs: times.append(time.perf_counter() - times.pop()),
)
model.fit(
    scale(dataset.x[split.train]),
    targets(dataset.y[split.train], n, chosen.binary),
    validation_data=(scale(dataset.x[split.val]), targets(dataset.y[split.val], n, chosen.binary)),
    batch_size=chosen.batch_size,
    epochs=epochs,
    callbacks=[timer],
    verbose=0,
)
print(json.dumps(times))
"""

# An older checkout's `cnnapp train`, unchanged but for a callback that times its epochs into a file.
TIMED_COMMAND = """
import json, sys, time
import keras

times, fit, where = [], keras.Model.fit, sys.argv.pop(1)


def timed_fit(self, *args, callbacks=(), **kwargs):
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: times.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: times.append(time.perf_counter() - times.pop()),
    )
    try:
        return fit(self, *args, callbacks=[*callbacks, timer], **kwargs)
    finally:
        with open(where, "w") as f:
            json.dump(times, f)


keras.Model.fit = timed_fit
from cnnapp.cli.main import main

main()
"""


def run(args: list[str], env: dict) -> str:
    """The standard output of a finished Python process; stops the benchmark if it failed."""
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        shown = [arg for arg in args if "\n" not in arg]
        sys.exit(f"python {' '.join(shown)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def train_args(model: str, data: str, classes: str | None, epochs: int, out: Path) -> list[str]:
    """The arguments of `cnnapp train` for one case."""
    chosen = ["--classes", classes] if classes else []
    return ["train", model, "--data", data, *chosen, "--epochs", str(epochs), "--seed", str(SEED), "--out", str(out)]


def course_way(model: str, data: str, classes: str | None, epochs: int) -> list[float]:
    """Epoch seconds of (a), the course's way."""
    return json.loads(run(["-c", COURSE_WAY, json.dumps([model, data, classes, epochs, SEED])], ENV))


def cnnapp_way(model: str, data: str, classes: str | None, epochs: int, out: Path) -> list[float]:
    """Epoch seconds of (b), the real `cnnapp train`, from its run's history.csv."""
    run(["-m", "cnnapp", *train_args(model, data, classes, epochs, out)], ENV)
    with open(out / "history.csv", newline="") as f:
        return [float(row["epoch_seconds"]) for row in csv.DictReader(f)]


def base_way(src: Path, model: str, data: str, classes: str | None, epochs: int, out: Path) -> list[float]:
    """Epoch seconds of an older checkout's `cnnapp train`, with PYTHONPATH at its src folder."""
    times = out.with_suffix(".json")
    env = {**ENV, "PYTHONPATH": str(src.resolve())}
    run(["-c", TIMED_COMMAND, str(times), *train_args(model, data, classes, epochs, out)], env)
    return json.loads(times.read_text())


def variant_run(model: str, data: str, classes: str | None, variant: str, epochs: int, images: int) -> dict:
    """One short training of train_variant.py: CPU and wall ms per training image of the epochs after the first."""
    from train_variant import ENVIRONMENT

    name, _, value = variant.partition("=")
    worker = str(Path(__file__).with_name("train_variant.py"))
    spec = json.dumps([model, data, classes, name, value, epochs, images, SEED])
    times = json.loads(run([worker, spec], {**ENV, **ENVIRONMENT.get(name, {})}).splitlines()[-1])
    return {key: 1000 * per_epoch(times[key]) / times["images"] for key in ("cpu", "wall")}


def compare(model: str, variants: list[str], epochs: int, images: int, rounds: int) -> None:
    """Print cnnapp's training of model against each variant, round by round, in CPU and wall ms per image."""
    from train_variant import VARIANTS

    for variant in variants:
        if variant.partition("=")[0] not in VARIANTS:
            sys.exit(f"--compare {variant}: no such variant; choose among {', '.join(VARIANTS)}")
    _, data, classes = next(case for case in CASES if case[0] == model)
    ways = ["reference", *variants]
    figures = {way: [] for way in ways}
    for number in range(1, rounds + 1):
        for way in ways:
            figures[way].append(variant_run(model, data, classes, way, epochs, images))
            cpu, wall = figures[way][-1]["cpu"], figures[way][-1]["wall"]
            print(f"round {number}: {way}: {cpu:.2f} CPU ms/image, {wall:.2f} wall ms/image", flush=True)
    load = os.getloadavg()[0]
    print(f"\n{model}, first {images} training images, {epochs} epochs a run, {rounds} rounds; load now {load:.2f}\n")
    print("| variant | CPU ms/image, each round | CPU, variant / reference (median) | wall, variant / reference |")
    print("|---|---|---:|---:|")
    for way in ways:
        ratios = {
            key: statistics.median(f[key] / r[key] for f, r in zip(figures[way], figures["reference"], strict=True))
            for key in ("cpu", "wall")
        }
        each = ", ".join(f"{f['cpu']:.2f}" for f in figures[way])
        print(f"| {way} | {each} | {ratios['cpu']:.2f} | {ratios['wall']:.2f} |")


def per_epoch(times: list[float]) -> float:
    """Median seconds of the epochs after the first (all of them if there is only one)."""
    return statistics.median(times[1:] or times)


def matmul_peak(repeats: int = 20) -> float:
    """The best GFLOP/s of fp32 2048x2048 matrix products."""
    import tensorflow as tf

    a = tf.random.stateless_uniform((2048, 2048), seed=(1, 2))
    product = tf.function(lambda: tf.linalg.matmul(a, a)[0, 0])
    product().numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        product().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * 2048**3 / best / 1e9


def forward_flops(model) -> int:
    """Multiply-adds x 2 of the convolution and dense layers for one image."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kh, kw = layer.kernel_size
            total += 2 * height * width * filters * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * layer.input.shape[-1] * layer.units
    return total


def training_flops(model: str, classes: int) -> int:
    """Training FLOPs per image: forward, input gradients and weight gradients, 3x the forward FLOPs."""
    from cnnapp.models.catalog import build_model

    return 3 * forward_flops(build_model(model, [str(i) for i in range(classes)]))


def train_images(data: str, classes: str | None) -> int:
    """How many training images the seed's split holds."""
    from cnnapp.data.datasets import load_dataset, parse_classes, select_classes
    from cnnapp.data.splits import split_dataset

    dataset = load_dataset(data)
    dataset = select_classes(dataset, parse_classes(classes)) if classes else dataset
    return len(split_dataset(dataset, SEED).train)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="Epochs of every training (at least 2). Default: each protocol's.")
    parser.add_argument("--models", default=",".join(case[0] for case in CASES), help="Which models, comma-separated.")
    parser.add_argument(
        "--course-way", default=",".join(case[0] for case in CASES), help="Models for which (a) is timed too."
    )
    parser.add_argument("--base", type=Path, help="src folder of an older checkout, timed for smile-net and sign-net.")
    parser.add_argument("--compare", help="Variants to time against cnnapp's training, comma-separated.")
    parser.add_argument("--images", type=int, default=640, help="Training images of each --compare run.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of --compare.")
    args = parser.parse_args()
    if args.epochs is not None and args.epochs < 2:
        parser.error("--epochs must be 2 or more: the first epoch is not timed")
    if args.compare:
        if args.models not in {case[0] for case in CASES}:
            parser.error("--compare needs one model in --models")
        compare(args.models, args.compare.split(","), args.epochs or 3, args.images, args.rounds)
        return
    from cnnapp.models.catalog import recipe  # importing cnnapp keeps TensorFlow's start-up quiet

    peaks = [matmul_peak()]
    print(f"fp32 2048x2048 matmul peak: {peaks[0]:.1f} GFLOP/s; load {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model, data, classes in CASES:
            if model not in args.models.split(","):
                continue
            epochs = args.epochs or recipe(model).epochs
            n, flops = train_images(data, classes), training_flops(model, 2 if recipe(model).binary else 6)
            seconds = {}
            if model in args.course_way.split(","):
                seconds["a"] = per_epoch(course_way(model, data, classes, epochs))
            seconds["b"] = per_epoch(cnnapp_way(model, data, classes, epochs, Path(tmp) / f"{model}-b"))
            if args.base and model in ("smile-net", "sign-net"):
                seconds["base"] = per_epoch(base_way(args.base, model, data, classes, epochs, Path(tmp) / model))
            rows.append((model, data, epochs, n, flops, seconds))
            print(f"{model}: {', '.join(f'{k} {v:.2f} s/epoch' for k, v in seconds.items())}", flush=True)
    peaks.append(matmul_peak())
    peak = max(peaks)
    print(f"fp32 2048x2048 matmul peak: {peaks[1]:.1f} GFLOP/s at the end; load {os.getloadavg()[0]:.2f}")
    print_table(rows, peak)


def print_table(rows: list, peak: float) -> None:
    """One line per model and way, then the ratios."""
    print(f"\npeak {peak:.1f} GFLOP/s (fp32 2048x2048 matmul, best of start and end)\n")
    print("| model | data | epochs | train images | MFLOP/image | way | s/epoch | images/s | GFLOP/s | of peak |")
    print("|---|---|---:|---:|---:|---|---:|---:|---:|---:|")
    for model, data, epochs, n, flops, seconds in rows:
        for way, value in seconds.items():
            images = n / value
            gflops = images * flops / 1e9
            print(
                f"| {model} | {data} | {epochs} | {n} | {flops / 1e6:.0f} | {way} | {value:.2f} | {images:.0f} "
                f"| {gflops:.1f} | {gflops / peak:.0%} |"
            )
    print("\n| model | (b)/(a) speed | (b)/base speed |")
    print("|---|---:|---:|")
    for model, *_, seconds in rows:
        course = f"{seconds['a'] / seconds['b']:.2f}x" if "a" in seconds else "-"
        base = f"{seconds['base'] / seconds['b']:.2f}x" if "base" in seconds else "-"
        print(f"| {model} | {course} | {base} |")


if __name__ == "__main__":
    main()
