"""Real trainings stopped by Ctrl-C and by kill -9, then resumed; two trainings racing for one --out."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnapp.files import partial_folder

from clirun import assert_one_line_error, cnnapp
from conftest import need_shared

EPOCHS = 8


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return {"CNNAPP_DATA": str(need_shared("sign-language-digits")), "TF_CPP_MIN_LOG_LEVEL": "3"}


def training(out: Path, *extra: str, epochs: int = EPOCHS) -> list[str]:
    return [
        "train", "signs", "--data", "sign-digits", "--classes", "0-2", "--epochs", str(epochs),
        "--batch-size", "16", "--seed", "3", "--out", str(out), *extra,
    ]  # fmt: skip


def at_a_terminal() -> None:
    """Ctrl-C as at a terminal: a run started in the background of a script inherits SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as f:
        return subprocess.Popen(
            [sys.executable, "-m", "cnnapp", *args],
            env={**os.environ, **env},
            stdout=f,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=at_a_terminal,
        )


def epochs_logged(out: Path) -> int:
    history = partial_folder(out) / "history.csv"
    return max(len(history.read_text().splitlines()) - 1, 0) if history.is_file() else 0


def wait_for_epochs(process: subprocess.Popen, out: Path, count: int) -> int:
    """Wait until the training being written at out has logged count epochs; how many it has."""
    deadline = time.monotonic() + 300
    while epochs_logged(out) < count:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return epochs_logged(out)


def test_ctrl_c_and_kill_9_mid_training_then_resume_loses_at_most_one_epoch(env, tmp_path):
    out = tmp_path / "runs" / "signs"
    first = start(training(out), env, tmp_path / "first.log")
    wait_for_epochs(first, out, 2)
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=120) == 130
    assert first.stderr.read().strip().splitlines() == ["cnnapp: interrupted"]
    assert not out.exists() and partial_folder(out).is_dir()

    refused = cnnapp(*training(out), env=env)
    assert_one_line_error(refused, str(out), "--resume")

    second = start(training(out, "--resume"), env, tmp_path / "second.log")
    before = epochs_logged(out)
    logged = wait_for_epochs(second, out, before + 2)
    second.send_signal(signal.SIGKILL)
    second.wait(timeout=60)
    assert not out.exists(), "a killed training must leave nothing at out"

    last = cnnapp(*training(out, "--resume"), env=env)
    assert last.returncode == 0, last.stderr
    resumed_at = int(re.search(r"^epoch (\d+)/", last.stdout, re.MULTILINE).group(1)) - 1
    assert resumed_at >= logged - 1  # at most the epoch in progress is lost
    history = (out / "history.csv").read_text().splitlines()
    assert [int(line.split(",")[0]) for line in history[1:]] == list(range(EPOCHS))
    assert sorted(p.name for p in out.parent.iterdir()) == ["signs"]
    assert not (out / "backup").exists() and not (out / ".lock").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == EPOCHS
    evaluated = json.loads(cnnapp("evaluate", str(out), "--data", "sign-digits", "--json", env=env).stdout)
    assert (evaluated["accuracy"], evaluated["loss"]) == (metrics["test_accuracy"], metrics["test_loss"])


def test_two_trainings_given_the_same_out_never_overwrite_each_other(env, tmp_path):
    out = tmp_path / "runs" / "same"
    racers = [start(training(out, epochs=3), env, tmp_path / f"{i}.log") for i in range(2)]
    codes = [r.wait(timeout=300) for r in racers]
    errors = [r.stderr.read() for r in racers]
    assert sorted(codes) == [0, 2], errors
    loser = errors[codes.index(2)].strip().splitlines()
    assert len(loser) == 1 and str(out) in loser[0]
    assert "another cnnapp process is writing it" in loser[0] or "already exists" in loser[0]
    winner_log = (tmp_path / f"{codes.index(0)}.log").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"test accuracy {metrics['test_accuracy']:.4f}" in winner_log
    assert sorted(p.name for p in out.parent.iterdir()) == ["same"]
