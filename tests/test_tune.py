"""`cnnapp tune`: real searches of tiny trials on real photos, on their own and with a chief and two workers."""

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras_tuner
import pytest
from click.testing import CliRunner

from cnnapp.cli.main import cli
from cnnapp.runs import read_json, read_run
from cnnapp.training.tune import Trials, make_oracle

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared

LIMIT = 240  # seconds any process of a search may take before the test fails


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Every 8th real photo of sign digits 0, 1 and 2 (78 photos), linked into a folder of their own."""
    source = need_shared("sign-language-digits") / "sign-language-digits"
    root = tmp_path_factory.mktemp("tune") / "digits"
    for digit in ("0", "1", "2"):
        (root / digit).mkdir(parents=True)
        for photo in sorted((source / digit).iterdir())[::8]:
            (root / digit / photo.name).symlink_to(photo)
    return root


@pytest.fixture
def processes():
    """Started processes of cnnapp, each killed at the end of the test if still running."""
    started: list[subprocess.Popen] = []

    def start(*args: str, log: Path) -> subprocess.Popen:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "cnnapp", *args], stdout=out, stderr=subprocess.STDOUT, env=env
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def trial_table(folder: Path) -> list[dict]:
    with (folder / "trials.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def trials_run_in(folder: Path) -> set[str]:
    """The trials whose training a worker's folder holds (finished or not)."""
    return {p.name for p in (folder / "trials").iterdir() if (p / "history.csv").is_file()}


def wait_for_line(log: Path, text: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + LIMIT
    while text not in log.read_text():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def search_args(photos: Path, out: Path, epochs: int = 1) -> list[str]:
    return ["tune", "signs", "--data", str(photos), "--epochs", str(epochs), "--out", str(out)]


DIES_AS_TRIAL_0_ENDS = """
import os, sys
import click
from cnnapp.cli.main import cli
echo = click.echo
def echo_then_die(message=None, *args, **kwargs):
    echo(message, *args, **kwargs)
    if str(message).startswith("trial 0:"):
        os._exit(9)  # no clean-up, as under SIGKILL
click.echo = echo_then_die
cli(sys.argv[1:])
"""
"""cnnapp's command line in a process that dies the moment it has reported that trial 0 ended."""


def test_a_stopped_search_continues_and_trains_the_best_trial_as_a_run(photos, tmp_path):
    out = tmp_path / "search"
    command = [sys.executable, "-c", DIES_AS_TRIAL_0_ENDS, *search_args(photos, out), "--trials", "3"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=LIMIT)
    assert first.returncode == 9 and "trial 0:" in first.stdout, first.stdout + first.stderr
    assert not out.exists()

    again = cnnapp(*search_args(photos, out), "--trials", "3", timeout=LIMIT)
    assert again.returncode == 0, again.stderr
    assert "continuing the search" in again.stdout
    assert "trial 0 begins" not in again.stdout  # its result was kept
    rows = trial_table(out)
    assert [row["trial"] for row in rows] == ["0", "1", "2"]
    assert {row["status"] for row in rows} == {"COMPLETED"}
    assert len({row["learning_rate"] for row in rows}) == 3
    assert all(0 <= float(row["val_accuracy"]) <= 1 and float(row["seconds"]) > 0 for row in rows)
    assert (out / "search.png").stat().st_size > 10_000

    best = max(rows, key=lambda row: float(row["val_accuracy"]))
    run = read_run(out / "best")
    chosen = run.config["hyperparameters"]
    assert chosen["learning_rate"] == pytest.approx(float(best["learning_rate"]))
    assert chosen["epochs"] == 1
    assert [str(chosen[key]) for key in ("batch_size", "augment", "schedule")] == [
        best[key] for key in ("batch_size", "augment", "schedule")
    ]
    search = read_json(out / "search.json")
    assert search["model"] == "signs" and search["tuner"] == "random"
    assert run.metrics["n_test"] == run.config["split"]["n_test"] == 12


def test_the_search_files_are_replaced_whole_never_rewritten_in_place(tmp_path):
    space = keras_tuner.HyperParameters()
    space.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    oracle = make_oracle("random", space, trials=3, seed=1, deadline=None, report=print)
    tuner = Trials(oracle, tmp_path, "signs", None, None, report=print)
    project = tmp_path / "keras-tuner"
    tuner.save()
    oracle.create_trial("tuner0")
    files = [project / "oracle.json", project / "tuner0.json", project / "trial_0" / "trial.json"]
    before = {path: path.stat().st_ino for path in files}
    tuner.save()
    oracle.update_trial("0", {"val_accuracy": 0.5})
    # A file written in place keeps its inode, and a process killed while writing it leaves it empty.
    assert all(path.stat().st_ino != before[path] for path in files)
    assert not list(project.rglob(".*"))  # no temporary file left behind
    again = Trials(make_oracle("random", space, 3, 1, None, print), tmp_path, "signs", None, None, print)
    assert again.oracle.trials["0"].metrics.get_last_value("val_accuracy") == 0.5


def test_two_workers_wait_for_their_chief_which_runs_every_trial_once(photos, tmp_path, processes):
    address = f"127.0.0.1:{free_port()}"
    out, workers = tmp_path / "search", [tmp_path / "w1", tmp_path / "w2"]
    started = [
        processes(*search_args(photos, w), "--worker", address, "--id", w.name, log=tmp_path / f"{w.name}.log")
        for w in workers
    ]
    for folder, worker in zip(workers, started, strict=True):
        wait_for_line(tmp_path / f"{folder.name}.log", f"waiting up to 300 s for the chief at {address}", worker)
    chief = processes(*search_args(photos, out), "--trials", "4", "--chief", address, log=tmp_path / "chief.log")
    for process in (chief, *started):
        assert process.wait(timeout=LIMIT) == 0, (tmp_path / "chief.log").read_text()
    rows = trial_table(out)
    assert [row["status"] for row in rows] == ["COMPLETED"] * 4
    ran = [trials_run_in(folder) for folder in workers]
    assert ran[0] | ran[1] == {"0", "1", "2", "3"}
    assert not ran[0] & ran[1]
    said = re.findall(r"^trial (\d+) by (w\d):", (tmp_path / "chief.log").read_text(), re.MULTILINE)
    assert sorted(said) == sorted(
        (trial, folder.name) for folder, trials in zip(workers, ran, strict=True) for trial in trials
    )
    assert read_run(out / "best").metrics["n_test"] == 12


def test_a_worker_killed_mid_trial_leaves_its_trial_to_the_other(photos, tmp_path, processes):
    address = f"127.0.0.1:{free_port()}"
    out, workers = tmp_path / "search", [tmp_path / "w1", tmp_path / "w2"]
    epochs = 20  # enough for the kill to land after the first epoch and before the last, on a fast machine too
    chief = processes(
        *search_args(photos, out, epochs), "--trials", "2", "--chief", address, log=tmp_path / "chief.log"
    )
    started = {
        folder.name: processes(
            *search_args(photos, folder, epochs),
            "--worker",
            address,
            "--id",
            folder.name,
            log=tmp_path / f"{folder.name}.log",
        )
        for folder in workers
    }
    deadline = time.monotonic() + LIMIT
    victim = None
    while victim is None:
        assert time.monotonic() < deadline and chief.poll() is None
        for name in started:
            for history in (tmp_path / f".{name}.partial" / "trials").glob("*/history.csv"):
                if len(history.read_text().splitlines()) >= 2:  # at least one epoch done, most to do
                    victim, trial = name, history.parent.name
        time.sleep(0.05)
    started[victim].send_signal(signal.SIGKILL)
    survivor = next(name for name in started if name != victim)
    assert chief.wait(timeout=LIMIT) == 0, (tmp_path / "chief.log").read_text()
    assert started[survivor].wait(timeout=30) == 0
    log = (tmp_path / "chief.log").read_text()
    assert f"worker {victim}: not heard from" in log and f"trial {trial} goes to another worker" in log
    assert [row["status"] for row in trial_table(out)] == ["COMPLETED"] * 2
    assert trials_run_in(tmp_path / survivor) == {"0", "1"}
    assert f"trial {trial} by {survivor}:" in log and f"trial {trial} by {victim}:" not in log


def run_quietly(*args: str):
    """The command run in this process (no start-up to wait for), its stdout and stderr apart."""
    return CliRunner().invoke(cli, list(args))


def assert_one_line(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("cnnapp: error: "), result.stderr
    assert all(word in result.stderr for word in words), result.stderr


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--trials", "0"], ["--trials 0", "at least one trial"]),
        (["--worker", "127.0.0.1:1", "--id", "chief-1"], ["--id chief-1", "must not contain"]),
        (["--chief", "localhost"], ["--chief localhost", "HOST:PORT"]),
    ],
)
def test_bad_arguments_get_one_line(photos, tmp_path, extra, words):
    assert_one_line(run_quietly(*search_args(photos, tmp_path / "out"), *extra), *words)
    assert not list(tmp_path.iterdir())


def test_an_unknown_model_and_a_chief_that_never_comes_get_one_line(photos, tmp_path):
    assert_one_line(
        run_quietly("tune", "resnet", "--data", str(photos), "--out", str(tmp_path / "a")), "resnet: no such"
    )
    address = f"127.0.0.1:{free_port()}"
    start = time.monotonic()
    result = run_quietly(*search_args(photos, tmp_path / "c"), "--worker", address, "--id", "w1", "--wait", "2")
    assert_one_line(result, f"--worker {address}: no chief answered within 2 s")
    assert f"waiting up to 2 s for the chief at {address}" in result.stdout
    assert 2 <= time.monotonic() - start < 30
    assert not list(tmp_path.iterdir())


def test_a_port_in_use_gets_one_line(photos, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        result = cnnapp(*search_args(photos, tmp_path / "out"), "--chief", address, timeout=LIMIT)
    assert_one_line_error(result, f"--chief {address}: cannot listen there", "port is in use")
    assert not list(tmp_path.iterdir())


def test_max_minutes_stops_starting_trials_and_trains_the_best_of_those_finished(photos, tmp_path):
    out = tmp_path / "search"
    args = ("--trials", "50", "--max-minutes", "0.05", "--colour", "grey", "--balance")
    result = run_quietly(*search_args(photos, out), *args)
    assert result.exit_code == 0, result.output
    rows = trial_table(out)
    assert 1 <= len(rows) < 50 and {row["status"] for row in rows} == {"COMPLETED"}
    assert f"{len(rows)} of 50 trials finished within --max-minutes 0.05" in result.stdout
    assert {(row["crop"], row["colour"], row["balance"]) for row in rows} == {("none", "grey", "True")}
    best = read_run(out / "best")
    assert best.metrics["n_test"] == 12
    assert [best.config["hyperparameters"][key] for key in ("crop", "colour", "balance")] == ["none", "grey", True]
