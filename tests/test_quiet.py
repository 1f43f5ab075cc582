"""A quiet, clear tool: no TensorFlow or absl line on stderr, one line per epoch and the epoch kept, bad
arguments refused before TensorFlow loads, the help grouped by task."""

import os
import pty
import re
import subprocess
import sys

import numpy as np
import pytest

from cnnapp.cli.main import cli
from cnnapp.data.course import read_course_file
from cnnapp.data.datasets import load_dataset
from cnnapp.data.faces import cropped_dataset
from cnnapp.progress import Progress, duration, time_left
from cnnapp.runs import read_history, read_json

from clirun import assert_one_line_error
from conftest import need_shared, write_course_file
from test_predict import linked_subset

EPOCHS = 2


def quiet_env(tmp_path) -> dict:
    """The environment of a user who set nothing to silence TensorFlow, with a fresh cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
    return {**env, "CNNAPP_CACHE": str(tmp_path / "cache")}


def run(*args: str, env: dict, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`cnnapp train happy` for EPOCHS epochs on 30 smiling and 30 other real photos: the process and its run."""
    shared = need_shared("smiles")
    root = tmp_path_factory.mktemp("quiet")
    data = linked_subset(shared / "smiles", ["negatives", "positives"], 30, root / "smiles")
    out = root / "run"
    args = ("train", "happy", "--data", str(data), "--epochs", str(EPOCHS), "--out", str(out))
    return run("-m", "cnnapp", *args, env=quiet_env(root)), out, data


def test_training_prints_one_line_an_epoch_and_the_epoch_kept(trained):
    result, out, _ = trained
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epochs] == [f"epoch {n}/{EPOCHS}" for n in range(1, EPOCHS + 1)]
    assert "epoch_seconds" not in result.stdout and "step" not in result.stdout
    kept = [line for line in lines if line.startswith("kept epoch ")]
    assert len(kept) == 1
    number = int(re.match(rf"kept epoch (\d+) of {EPOCHS} \(lowest validation loss\)", kept[0]).group(1))
    history = read_history(out / "history.csv")
    assert number == history["val_loss"].index(min(history["val_loss"])) + 1
    assert read_json(out / "metrics.json")["best_epoch"] == number
    figures = kept[0].split(": ", 1)[1]
    assert epochs[number - 1].split(": ", 1)[1].startswith(figures)  # the kept figures are the ones shown
    assert f"validation accuracy {history['val_accuracy'][number - 1]:.4f}" in figures


def test_on_a_terminal_the_epoch_under_way_shows_its_batches(trained, tmp_path):
    _, _, data = trained
    terminal, its_side = pty.openpty()
    args = ("train", "happy", "--data", str(data), "--epochs", "1", "--batch-size", "8", "--out", str(tmp_path / "r"))
    process = subprocess.Popen(
        [sys.executable, "-m", "cnnapp", *args], stdout=its_side, stderr=subprocess.PIPE, env=quiet_env(tmp_path)
    )
    os.close(its_side)
    shown = b""
    while chunk := read_or_nothing(terminal):
        shown += chunk
    os.close(terminal)
    assert process.wait(timeout=60) == 0 and process.stderr.read() == b""
    text = shown.decode()
    train = int(re.search(r"happy on \S+: (\d+) train", text).group(1))
    steps = -(-train // 8)
    batches = re.findall(r"\repoch 1/1: batch (\d+)/(\d+), about .+? left in this epoch", text)
    assert [int(done) for done, _ in batches] == list(range(1, steps + 1))
    assert {int(total) for _, total in batches} == {steps}
    assert re.search(r"\repoch 1/1: loss [\d.]+, accuracy", text)


def read_or_nothing(terminal: int) -> bytes:
    """What the process wrote on its terminal since the last read; b"" once it closed it."""
    try:
        return os.read(terminal, 65536)
    except OSError:  # EIO: the other side is closed
        return b""


def test_predict_with_keras_writes_nothing_on_stderr(trained, tmp_path):
    _, out, data = trained
    photo = next((data / "positives").iterdir())
    result = run("-m", "cnnapp", "predict", str(out), str(photo), env=quiet_env(tmp_path))
    assert result.returncode == 0 and result.stdout.startswith(str(photo))
    assert result.stderr == ""


def test_loading_a_run_from_python_writes_nothing_on_stderr(trained, tmp_path):
    _, out, _ = trained
    script = "import sys, cnnapp; model = cnnapp.load(sys.argv[1]); print('tensorflow' in sys.modules)"
    result = run("-c", script, str(out), env=quiet_env(tmp_path))
    assert result.returncode == 0 and result.stdout == "True\n", result.stderr  # Keras ran the run
    assert result.stderr == ""


def test_showing_face_crops_writes_nothing_on_stderr(trained, tmp_path):
    _, _, data = trained
    png = tmp_path / "faces.png"
    result = run("-m", "cnnapp", "show", str(data), "--crop", "face", "--out", str(png), env=quiet_env(tmp_path))
    assert result.returncode == 0 and png.is_file()
    assert result.stderr == ""
    assert list((tmp_path / "cache").glob("faces-*.npz"))  # MTCNN looked at the photos


CHECKS = """
import sys
from cnnapp.cli.main import cli
try:
    cli(sys.argv[1:])
except SystemExit as end:
    print(end.code, sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'sklearn'}))
    raise
"""


@pytest.mark.parametrize(
    "args",
    [
        ("train", "hapy", "--data", "smiles"),
        ("summary", "hapy"),
        ("cv", "hapy", "--data", "smiles"),
        ("tune", "hapy", "--data", "smiles"),
        ("train", "happy", "--data", "smiles", "--init-from", "no-such-run"),
    ],
)
def test_bad_arguments_are_refused_before_tensorflow_loads(args, tmp_path):
    result = run("-c", CHECKS, *args, env=quiet_env(tmp_path), cwd=tmp_path)
    assert result.stdout == "2 []\n", result.stdout
    assert_one_line_error(result, args[1] if args[1] == "hapy" else "no-such-run")
    if args[1] == "hapy":
        assert "happy, signs, smile-net, sign-net" in result.stderr


def test_help_lists_the_commands_by_task_in_full(tmp_path):
    result = run("-m", "cnnapp", "--help", env=quiet_env(tmp_path))
    assert result.returncode == 0
    sections = re.findall(r"^(\w[\w ]*):$", result.stdout, re.MULTILINE)
    assert sections == ["Options", "Data", "Train", "Check", "Use and serve"]
    commands = result.stdout.split("Data:")[1]
    assert "..." not in commands and "shared" not in result.stdout
    listed = re.findall(r"^  ([a-z]+)  ", commands, re.MULTILINE)
    assert sorted(listed) == sorted(cli.commands)  # each command once
    training = run("-m", "cnnapp", "train", "--help", env=quiet_env(tmp_path)).stdout
    assert "The model's protocol" in training and "happy       10 epochs, batch 16" in training


def course_pair(root, name: str, train, test) -> None:
    """train_NAME.h5 and test_NAME.h5 of the course's schema in root, from two datasets of real photos."""
    classes = range(len(train.class_names))
    write_course_file(root / f"train_{name}.h5", "train", train.x, train.y.astype("int64"), classes)
    write_course_file(root / f"test_{name}.h5", "test", test.x, test.y.astype("int64"), classes)


def test_the_demo_exports_both_runs_and_ends_with_their_table(tmp_path):
    """The demo on small course files made of real photos: quiet, one line an epoch, ONNX files, the table."""
    shared = need_shared("signs-photos", "smiles", "test_happy.h5")
    data = tmp_path / "data"
    data.mkdir()
    photos = shared / "signs-photos"
    signs = [load_dataset(str(linked_subset(photos / part, list("012345"), n, tmp_path / part))) for part, n in
             (("train", 8), ("test", 4))]  # fmt: skip
    course_pair(data, "signs", *signs)
    smiles = load_dataset(str(linked_subset(shared / "smiles", ["negatives", "positives"], 30, tmp_path / "smiles")))
    happy_test = read_course_file(shared / "test_happy.h5", "test")
    write_course_file(data / "train_happy.h5", "train", smiles.x, smiles.y.astype("int64"))
    write_course_file(data / "test_happy.h5", "test", *happy_test[:2])
    out = tmp_path / "runs"
    result = run("-m", "cnnapp", "demo", "--out", str(out), env={**quiet_env(tmp_path), "CNNAPP_DATA": str(data)})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len([line for line in lines if line.startswith("kept epoch ")]) == 2
    rows = [line.split(" | ") for line in lines if line.startswith("| signs |") or line.startswith("| happy |")]
    assert [row[0] for row in rows] == ["| signs", "| happy"]
    for row, model in zip(rows, ("signs", "happy"), strict=True):
        metrics = read_json(out / model / "metrics.json")
        assert (out / model / "model.onnx").is_file()
        assert row[3] == f"{metrics['test_accuracy']:.3f}" and row[-1] == f"{out / model} |"
        assert row[6] == f"{metrics['epochs_run']} of {metrics['epochs_run']}"  # course files keep the last epoch
        epochs = [line for line in lines if re.match(rf"epoch \d+/{metrics['epochs_run']}:", line)]
        assert len(epochs) >= metrics["epochs_run"]


def test_progress_says_how_far_and_the_time_left_in_plain_lines_off_a_terminal(monkeypatch, capsys):
    with Progress("counting", 4) as progress:
        progress.update(1)  # within QUIET_FOR seconds: nothing
        monkeypatch.setattr("cnnapp.progress.QUIET_FOR", 0.0)
        progress.update(2, "halfway")
        progress.update(3)  # within PLAIN_EVERY seconds of the last line: nothing
        monkeypatch.setattr("cnnapp.progress.PLAIN_EVERY", 0.0)
        progress.update(3)
        progress.update(4)  # the end is said by the closing line
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(", about")[0] for line in lines[:2]] == ["counting: 2/4, halfway", "counting: 3/4"]
    assert lines[0].endswith(" s left") and re.fullmatch(r"counting: done after \d\.\d s", lines[2])
    assert len(lines) == 3
    assert (duration(0.44), duration(42.4), duration(125), duration(3725)) == (
        "0.4 s",
        "42 s",
        "2 min 05 s",
        "1 h 02 min",
    )
    assert time_left(30, 3, 4) == "about 10 s left"


def test_the_first_face_crop_pass_shows_its_progress(monkeypatch, capsys, tmp_path):
    shared = need_shared("smiles")
    dataset = load_dataset(str(linked_subset(shared / "smiles", ["negatives", "positives"], 6, tmp_path / "smiles")))
    monkeypatch.setattr("cnnapp.progress.QUIET_FOR", 0.0)
    monkeypatch.setattr("cnnapp.progress.PLAIN_EVERY", 0.0)
    monkeypatch.setattr("cnnapp.data.faces.CHUNK", 4)
    found = cropped_dataset(dataset).faces
    lines = capsys.readouterr().err.splitlines()
    label = f"finding the faces of {dataset.name} (once; kept in the cache)"
    assert [line.split(" faces found")[0] for line in lines[:2]] == [
        f"{label}: 4/12, {np.count_nonzero(found[:4])}",
        f"{label}: 8/12, {np.count_nonzero(found[:8])}",
    ]
    assert lines[2].startswith(f"{label}: done after ") and len(lines) == 3
    cropped_dataset(dataset)  # from the cache: nothing to show
    assert capsys.readouterr().err == ""
