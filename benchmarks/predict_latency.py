"""How fast `cnnapp predict` answers: ONNX Runtime against Keras on the same run.

Measures, for each path, the time from starting a fresh process to its printed answer for one photo (median
of --repeats processes, run alternately) and photos per second over a folder of --photos real photos.
Without --run it first trains the signs model briefly on sign-digits 0-5; everything goes to a temporary
folder that is removed at the end.

    CNNAPP_DATA=~/datasets .venv/bin/python benchmarks/predict_latency.py
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cnnapp.data.images import is_image_file
from cnnapp.settings import data_dir

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def cnnapp(*args: str) -> subprocess.CompletedProcess:
    """The finished `cnnapp ARGS` process; stops the benchmark if it failed."""
    result = subprocess.run([sys.executable, "-m", "cnnapp", *args], env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"cnnapp {' '.join(args)} failed:\n{result.stderr}")
    return result


def seconds_to_answer(run: Path, photo: Path) -> float:
    """Wall time from starting `cnnapp predict RUN PHOTO` to reading its answer line."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "cnnapp", "predict", str(run), str(photo)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.stdout.read()
    if process.wait() != 0 or not line.startswith(str(photo)):
        sys.exit(f"cnnapp predict {run} {photo} failed (exit {process.returncode})")
    return elapsed


def folder_run(run: Path, folder: Path) -> tuple[float, list[str]]:
    """Wall time of `cnnapp predict RUN FOLDER` and its answer lines."""
    start = time.perf_counter()
    result = cnnapp("predict", str(run), str(folder), "--batch-size", "256")
    return time.perf_counter() - start, result.stdout.splitlines()


def sample_photos(source: Path, n: int, into: Path) -> Path:
    """n photos spread evenly over source's image files, linked into a new folder."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and is_image_file(p))
    if len(files) < n:
        sys.exit(f"{source}: {len(files)} photos, fewer than {n}")
    into.mkdir()
    for i in range(n):
        chosen = files[i * len(files) // n]
        (into / f"{i:04d}-{chosen.name}").symlink_to(chosen.resolve())
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="A trained run to measure (copied, not changed).")
    parser.add_argument("--repeats", type=int, default=10, help="Fresh processes per path for the latency.")
    parser.add_argument("--photos", type=int, default=1000, help="Photos in the throughput folder.")
    parser.add_argument(
        "--source", type=Path, help="Where the photos come from. Default: sign-language-digits in the data folder."
    )
    args = parser.parse_args()
    source = args.source or data_dir() / "sign-language-digits"

    with tempfile.TemporaryDirectory(prefix="cnnapp-bench-") as tmp:
        tmp = Path(tmp)
        run = args.run
        if run is None:
            print("training signs on sign-digits 0-5 for 10 epochs ...", file=sys.stderr)
            run = tmp / "trained"
            cnnapp("train", "signs", "--data", "sign-digits", "--classes", "0-5", "--epochs", "10", "--out", str(run))
        keras_run, onnx_run = tmp / "keras", tmp / "onnx"
        shutil.copytree(run, keras_run, ignore=shutil.ignore_patterns("model.onnx"))
        shutil.copytree(run, onnx_run)
        print(cnnapp("export", str(onnx_run)).stdout.strip(), file=sys.stderr)
        folder = sample_photos(source, args.photos, tmp / "photos")
        photo = next(folder.iterdir())

        latency: dict[str, list[float]] = {"onnx": [], "keras": []}
        for _ in range(args.repeats):
            latency["onnx"].append(seconds_to_answer(onnx_run, photo))
            latency["keras"].append(seconds_to_answer(keras_run, photo))
        throughput, answers = {}, {}
        for name, path in (("onnx", onnx_run), ("keras", keras_run)):
            seconds, answers[name] = folder_run(path, folder)
            throughput[name] = args.photos / seconds

    median = {name: statistics.median(times) for name, times in latency.items()}
    same = sum(a.split("\t")[1] == b.split("\t")[1] for a, b in zip(answers["onnx"], answers["keras"], strict=True))
    print(f"run: {args.run or 'signs, 10 epochs on sign-digits 0-5'}; photos: {args.photos} from {source}")
    print(f"{'path':<8}{'start to answer, median (min-max)':>36}{'photos/s':>12}")
    for name in ("onnx", "keras"):
        times = latency[name]
        spread = f"{median[name]:.3f} s ({min(times):.3f}-{max(times):.3f})"
        print(f"{name:<8}{spread:>36}{throughput[name]:>12.0f}")
    print(
        f"keras / onnx: {median['keras'] / median['onnx']:.1f}x start to answer, "
        f"{throughput['onnx'] / throughput['keras']:.1f}x photos/s; same labels for {same} of {args.photos} photos"
    )


if __name__ == "__main__":
    main()
