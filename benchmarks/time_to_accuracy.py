"""Time to accuracy: how long a user waits for a good model, from the command's start to the first epoch whose
held-out test accuracy reaches the task's target (as DAWNBench measures training).

In one run: the fp32 matmul peak, then for each task and seed, in turn and each in a fresh process,
(a) the course's way: the course's model for the task, compiled with Adam and fitted on NumPy arrays of the same
    split with the course's batch size, TensorFlow's defaults and nothing else;
(b) an older checkout's `cnnapp train` (--base SRC, its src folder: the recipe at commit 058aaac);
(c) this checkout's `cnnapp train`, with no option beyond the data and seed.
Each is timed from the moment its process starts (Python, TensorFlow, reading the photos, building the model:
everything the user waits for). At the end of each epoch a callback added to Keras's fit scores the test photos
of the seed's split (the 15% that `cnnapp train` holds out, leaks dropped, the same photos for a, b and c) and the
seconds it spends doing so are taken off the clock. The first epoch at the target stops the process. Ratios are
(b) / (c) and (a) / (c), within one seed.

    git worktree add --detach ../base-058aaac 058aaac
    CNNAPP_DATA=~/datasets .venv/bin/python benchmarks/time_to_accuracy.py --base ../base-058aaac/src

A way that never reaches the target within its recipe's epochs is shown with its best accuracy and its whole
time, marked "not reached".
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import train_speed

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


@dataclass(frozen=True)
class Task:
    """A dataset, its classes, the accuracy to reach, the course's model for it and cnnapp's."""

    data: str
    classes: str | None
    target: float
    course: str
    model: str


TASKS = {
    "sign-digits": Task("sign-digits", "0-5", 0.98, "signs", "sign-net"),
    "smiles": Task("smiles", None, 0.93, "happy", "smile-net"),
}

# Put in front of every timed process: a callback added to Keras's fit scores the test photos after each epoch,
# writes the timeline to a file, and ends the process once the target is reached.
WATCH = """
import json, os, sys, time
import numpy as np
import keras

START = float(os.environ["TTA_START"])
timeline, scoring, fit = [], [0.0], keras.Model.fit
where, test, target = sys.argv.pop(1), np.load(sys.argv.pop(1)), float(sys.argv.pop(1))


def accuracy(model):
    scores = model.predict(test["x"], batch_size=256, verbose=0)
    answers = (scores[:, 0] > 0.5).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)
    return float((answers == test["y"]).mean())


class Watch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        now = time.time()
        seconds = now - START - scoring[0]
        reached = accuracy(self.model)
        scoring[0] += time.time() - now
        timeline.append([epoch + 1, seconds, reached])
        with open(where, "w") as f:
            json.dump(timeline, f)
        if reached >= target:
            os._exit(0)


def watched_fit(self, *args, callbacks=(), **kwargs):
    return fit(self, *args, callbacks=[*callbacks, Watch()], **kwargs)


keras.Model.fit = watched_fit
"""

COMMAND = (
    "import cnnapp  # first, as in every cnnapp process: it switches TensorFlow's oneDNN kernels on\n"
    + WATCH
    + """
from cnnapp.cli.main import main

main()
"""
)

COURSE_WAY = WATCH + train_speed.COURSE_WAY  # the course's way as train_speed.py times it, watched


def test_photos(task: Task, seed: int, where: Path) -> Path:
    """The seed's held-out test photos and labels of the task, as `cnnapp train` holds them out, in an .npz."""
    from cnnapp.data.datasets import load_dataset, parse_classes, select_classes
    from cnnapp.data.images import scale
    from cnnapp.data.leaks import without_leaks
    from cnnapp.data.splits import split_dataset

    dataset = load_dataset(task.data)
    dataset = select_classes(dataset, parse_classes(task.classes)) if task.classes else dataset
    split = without_leaks(dataset, split_dataset(dataset, seed), "drop")
    path = where / f"test-{task.data}-{seed}.npz"
    np.savez(path, x=scale(dataset.x[split.test]), y=dataset.y[split.test])
    return path


def timed(args: list[str], env: dict, timeline: Path) -> dict:
    """Run a watched Python process; its timeline: the epoch, seconds and accuracy when the target was first
    reached (or the last epoch and the best accuracy when it never was)."""
    started = time.time()
    result = subprocess.run([sys.executable, *args], env={**env, "TTA_START": str(started)}, capture_output=True)
    if result.returncode != 0 or not timeline.is_file():
        shown = [arg for arg in args if "\n" not in arg]
        sys.exit(f"python {' '.join(shown)} failed:\n{result.stderr.decode()[-3000:]}")
    epochs = json.loads(timeline.read_text())
    best = max(accuracy for _, _, accuracy in epochs)
    return {"epoch": epochs[-1][0], "seconds": epochs[-1][1], "accuracy": epochs[-1][2], "best": best}


def ways(task: Task, seed: int, base: Path | None, test: Path, work: Path, course: bool) -> dict[str, dict]:
    """Each way's time to the task's target for one seed (the course's way only if course)."""
    # imported here, after ENV was taken: importing cnnapp sets TensorFlow options that the course's way must not get
    from cnnapp.models.catalog import recipe

    watch = [str(test), str(task.target)]
    train = ["train", task.model, "--data", task.data, "--seed", str(seed)]
    train += ["--classes", task.classes] if task.classes else []
    found = {}
    if course:
        line = work / f"a-{task.data}-{seed}.json"
        spec = json.dumps([task.course, task.data, task.classes, recipe(task.course).epochs, seed])
        found["a: course's way"] = timed(["-c", COURSE_WAY, str(line), *watch, spec], ENV, line)
    if base:
        line = work / f"b-{task.data}-{seed}.json"
        env = {**ENV, "PYTHONPATH": str(base.resolve())}
        found["b: 058aaac"] = timed(
            ["-c", COMMAND, str(line), *watch, *train, "--out", str(work / line.stem)], env, line
        )
    line = work / f"c-{task.data}-{seed}.json"
    found["c: cnnapp now"] = timed(
        ["-c", COMMAND, str(line), *watch, *train, "--out", str(work / line.stem)], ENV, line
    )
    for way, figures in found.items():
        reached = "" if figures["accuracy"] >= task.target else " (not reached; best {best:.3f})".format(**figures)
        print(
            f"{task.data} seed {seed}, {way}: {figures['accuracy']:.3f} after epoch {figures['epoch']}, "
            f"{figures['seconds']:.0f} s{reached}",
            flush=True,
        )
    return found


def print_table(task: Task, rows: dict[int, dict[str, dict]]) -> None:
    """One line per seed: each way's seconds to the target, and the ratios to this checkout's."""
    names = list(next(iter(rows.values())))
    print(f"\n{task.data} ({task.classes or 'all classes'}), target {task.target} on the held-out 15%\n")
    header = ["seed", *names, *(f"{name[0]} / c" for name in names[:-1])]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    for seed, found in rows.items():
        cells = []
        for name in names:
            f = found[name]
            mark = "" if f["accuracy"] >= task.target else f" (best {f['best']:.3f}, not reached)"
            cells.append(f"{f['seconds']:.0f} s, epoch {f['epoch']}{mark}")
        ratios = [f"{found[n]['seconds'] / found[names[-1]]['seconds']:.1f}x" for n in names[:-1]]
        print("| " + " | ".join([str(seed), *cells, *ratios]) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, help="the src folder of the checkout to compare with (058aaac)")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"of {', '.join(TASKS)}")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--no-course", action="store_true", help="leave out the course's way")
    args = parser.parse_args()
    tasks = [TASKS[name] for name in args.tasks.split(",")]
    seeds = [int(seed) for seed in args.seeds.split(",")]
    peak = train_speed.matmul_peak()
    print(f"fp32 2048x2048 matmul peak at the start: {peak:.1f} GFLOP/s; load {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        tables = {}
        for task in tasks:
            tables[task.data] = {
                seed: ways(task, seed, args.base, test_photos(task, seed, work), work, not args.no_course)
                for seed in seeds
            }
    end = train_speed.matmul_peak()
    print(f"\nfp32 matmul peak: {peak:.1f} GFLOP/s at the start, {end:.1f} at the end")
    for task in tasks:
        print_table(task, tables[task.data])


if __name__ == "__main__":
    main()
