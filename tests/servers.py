"""Real runs trained for the server's tests, and `cnnapp serve` started on them on a free port of 127.0.0.1."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cnnapp.data.datasets import load_dataset
from cnnapp.data.splits import split_dataset
from cnnapp.runs import TrainConfig
from cnnapp.training.fit import train_run

from conftest import need_shared
from test_predict import linked_subset

SIGNS = ["0", "5"]


@dataclass(frozen=True)
class Server:
    """A running `cnnapp serve` and what it serves."""

    url: str
    runs: dict[str, Path]  # name -> run folder
    signs_photos: dict[str, list[Path]]  # digit -> real photo files, not used in training
    happy_photos: list[Path]
    stderr: Path  # where the server's messages go
    workspace: Path  # where the page's teach sessions keep their photos and runs

    def predict(self, model: str, files: list, picture: bool = False) -> httpx.Response:
        """POST the files (paths, or (name, bytes) pairs) to the model's predict endpoint."""
        parts = [("photos", (f.name, f.read_bytes()) if isinstance(f, Path) else f) for f in files]
        return httpx.post(
            f"{self.url}/api/models/{model}/predict", files=parts, params={"picture": picture}, timeout=60
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def train(model: str, data: Path, settings: TrainConfig, out: Path) -> Path:
    dataset = load_dataset(str(data))
    train_run(model, dataset, split_dataset(dataset, settings.seed), settings, out, verbose=0)
    return out


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    """Return once url answers 200; fail with the server's messages if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"cnnapp serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"cnnapp serve did not answer within {seconds} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """Two real Keras runs (signs on digits 0 and 5, happy on smiles), served with small limits (1 MB, 4 photos).

    The runs have no model.onnx: the server exports it at start.
    """
    shared = need_shared("sign-language-digits", "smiles")
    root = tmp_path_factory.mktemp("served")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNAPP_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        signs_data = linked_subset(shared / "sign-language-digits", SIGNS, 120, root / "signs-data")
        happy_data = linked_subset(shared / "smiles", ["negatives", "positives"], 100, root / "happy-data")
        for folder, smile in (("negatives", "not smiling"), ("positives", "smiling")):
            (happy_data / folder).rename(happy_data / smile)  # the class names of a smile gate
        runs = {
            "signs": train("signs", signs_data, TrainConfig(20, 32, 0.01, 1), root / "signs"),
            "door": train("happy", happy_data, TrainConfig(3, 16, 0.001, 1), root / "happy"),
        }
    used = {p.resolve().name for p in signs_data.rglob("*.*")}
    signs_photos = {
        d: [p for p in sorted((shared / "sign-language-digits" / d).iterdir()) if p.name not in used][-8:]
        for d in SIGNS
    }
    happy_photos = [sorted((shared / "smiles" / c).iterdir())[-k] for c in ("negatives", "positives") for k in (1, 2)]
    port = free_port()
    log = root / "serve.log"
    workspace = root / "workspace"
    with log.open("w") as stderr:
        command = [sys.executable, "-m", "cnnapp", "serve", str(runs["signs"]), f"door={runs['door']}"]
        process = subprocess.Popen(
            [*command, "--port", str(port), "--max-photo-mb", "1", "--max-photos", "4", "--workspace", str(workspace)],
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/healthz", process, log)
        yield Server(url, runs, signs_photos, happy_photos, log, workspace)
    finally:
        process.terminate()
        process.wait(timeout=30)
