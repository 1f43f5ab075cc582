"""cnnapp installed without extras, in a fresh venv: the datasets and prediction with an exported model.onnx work
without TensorFlow, and a command that needs an extra names it in one line. Needs PyPI (or pip's cache)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from test_hostile import onnx_run

import cnnapp

from clirun import assert_one_line_error
from conftest import need_shared

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def core(tmp_path_factory) -> Path:
    """The bin folder of a new venv with `pip install cnnapp` (no extras, the lock's versions) run on a copy of the
    project, so that no build files land in the source tree."""
    where = tmp_path_factory.mktemp("core")
    shutil.copytree(ROOT / "src", where / "project" / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, where / "project" / name)
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True, timeout=120)
    bin_folder = where / "venv" / "bin"
    install = [str(bin_folder / "pip"), "install", "--quiet", "--constraint", str(ROOT / "requirements.lock")]
    done = subprocess.run([*install, str(where / "project")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return bin_folder


def run(*command: str | Path, cwd: Path):
    """A finished process of the venv, run without this environment's Python path."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    args = [str(part) for part in command]
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_core_has_no_tensorflow_nor_any_extra_s_package(core, tmp_path):
    for module in ("tensorflow", "keras", "sklearn", "matplotlib", "mtcnn", "fastapi", "keras_tuner"):
        result = run(core / "python", "-c", f"import {module}", cwd=tmp_path)
        assert result.returncode == 1 and f"No module named '{module}'" in result.stderr, module


def test_the_core_predicts_with_an_onnx_run_as_the_full_install_does(core, tmp_path):
    folder = onnx_run(tmp_path / "run")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (80, 60), (200, 30, 90)).save(photo)
    result = run(core / "cnnapp", "predict", folder, photo, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = cnnapp.load(folder).predict(photo)[0].answer()  # this environment's cnnapp, with every extra
    assert json.loads(result.stdout) == {"path": str(photo), **expected}


def test_the_core_lists_describes_and_checks_the_datasets(core, tmp_path):
    need_shared("signs-photos")
    listed = run(core / "cnnapp", "data", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"signs-photos +ready +1200", listed.stdout), listed.stdout
    described = run(core / "cnnapp", "data", "info", "signs-photos", cwd=tmp_path)
    assert described.returncode == 0, described.stderr
    assert "images: 1200" in described.stdout and "1080 train, 120 test" in described.stdout
    checked = run(core / "cnnapp", "data", "get", "signs-photos", cwd=tmp_path)  # already there: its checksum
    assert checked.returncode == 0 and "matches the pinned checksum" in checked.stdout, checked.stderr


@pytest.mark.parametrize(
    ("command", "extra"),
    [(["summary", "happy"], "train"), (["serve", "RUN"], "serve"), (["export", "RUN"], "train")],
)
def test_a_command_of_an_extra_names_it(core, tmp_path, command, extra):
    folder = onnx_run(tmp_path / "run")
    config = json.loads((folder / "config.json").read_text())  # what serving a run reads besides the model
    config["data"]["source"], config["split"] = str(tmp_path), {"test_files": []}
    (folder / "config.json").write_text(json.dumps(config))
    result = run(core / "cnnapp", *[str(folder) if part == "RUN" else part for part in command], cwd=tmp_path)
    assert_one_line_error(result, f"cnnapp {command[0]} needs the {extra} extra: pip install 'cnnapp[{extra}]'")


def test_load_of_a_run_without_onnx_names_the_train_extra(core, tmp_path):
    folder = onnx_run(tmp_path / "run")
    (folder / "model.onnx").unlink()
    result = run(core / "python", "-c", "import sys, cnnapp; cnnapp.load(sys.argv[1])", folder, cwd=tmp_path)
    assert result.returncode == 1
    assert f"CnnappError: {folder}: a run without model.onnx needs the train extra" in result.stderr
