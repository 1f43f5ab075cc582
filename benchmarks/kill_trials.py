"""kill -9 at random moments of a small real training: what each trial leaves at --out, and whether it resumes.

Each trial starts `cnnapp train signs` on sign-digits 0-2 and kills it (SIGKILL) at a moment drawn uniformly
between its start and a little after a whole training's time, measured first. What is left is classified:

  absent     nothing at --out (and no stopped training beside it to continue)
  resumable  nothing at --out, and a stopped training beside it that `--resume` continues
  complete   a run folder at --out that reads back whole: its files, metrics, every epoch, a loadable model
  corrupt    anything else at --out: a run folder that looks complete but is not

Every resumable trial is then resumed with `--resume` and must end complete, having lost at most the epoch
that was running.

  CNNAPP_DATA=~/datasets python benchmarks/kill_trials.py --trials 20
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import keras

from cnnapp.errors import CnnappError
from cnnapp.files import partial_folder
from cnnapp.runs import read_history, read_run

EPOCHS = 6


def command(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "cnnapp", "train", "signs", "--data", "sign-digits", "--classes", "0-2",
        "--epochs", str(EPOCHS), "--batch-size", "16", "--seed", "1", "--out", str(out), *extra,
    ]  # fmt: skip


def state(out: Path) -> str:
    """absent, resumable, complete or corrupt (see the module's docstring)."""
    if out.exists():
        try:
            run = read_run(out)
            history = read_history(out / "history.csv")
            keras.models.load_model(out / "model.keras")
            whole = len(history["loss"]) == EPOCHS and run.training.epochs_run == EPOCHS
            return "complete" if whole and run.test_accuracy is not None else "corrupt"
        except (CnnappError, OSError, ValueError, KeyError):
            return "corrupt"
    partial = partial_folder(out)
    return "resumable" if (partial / "config.json").is_file() else "absent"


def logged_epochs(out: Path) -> int:
    history = partial_folder(out) / "history.csv"
    return max(len(history.read_text().splitlines()) - 1, 0) if history.is_file() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="Seeds the kill moments.")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    root = Path(tempfile.mkdtemp(prefix="kill-trials-"))
    start = time.perf_counter()
    subprocess.run(command(root / "whole"), env=env, check=True, capture_output=True)
    whole = time.perf_counter() - start
    print(f"a whole training (process start to exit): {whole:.1f} s; kills drawn from 0 to {1.1 * whole:.1f} s")
    counts, resumed, lost = Counter(), Counter(), []
    for trial in range(args.trials):
        out = root / f"trial-{trial}"
        moment = rng.uniform(0, 1.1 * whole)
        process = subprocess.Popen(command(out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            process.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        found = state(out)
        counts[found] += 1
        line = f"trial {trial:2d}: killed at {moment:5.1f} s: {found}"
        if found == "resumable":
            before = logged_epochs(out)
            again = subprocess.run(command(out, "--resume"), env=env, capture_output=True, text=True)
            after = state(out) if again.returncode == 0 else f"failed ({again.stderr.strip()})"
            resumed[after] += 1
            first = re.search(r"Epoch (\d+)/", again.stdout)
            restarted = int(first.group(1)) - 1 if first else EPOCHS
            lost.append(max(before - restarted, 0))
            line += f"; {before} epochs logged, resumed from epoch {restarted + 1}: {after}"
        print(line, flush=True)
    print(json.dumps({"trials": args.trials, "states": dict(counts), "resumed": dict(resumed), "epochs_lost": lost}))
    print(f"trial folders: {root}")


if __name__ == "__main__":
    main()
