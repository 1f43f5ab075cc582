"""Files and folders written whole: failures inside the writer, a second writer, replacing, stopped writers."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnapp.errors import CnnappError
from cnnapp.files import LOCK, partial_folder, writing_file, writing_folder

SRC = Path(__file__).resolve().parents[1] / "src"


def test_a_failure_inside_the_folder_writer_leaves_nothing(tmp_path):
    out = tmp_path / "runs" / "r"
    with pytest.raises(CnnappError, match="broken on purpose"), writing_folder(out, resumable=True) as folder:
        (folder / "model.keras").write_bytes(b"half a model")
        (folder / "metrics.json").write_text("{}")
        raise CnnappError("broken on purpose")
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_failure_inside_the_file_writer_keeps_the_old_file(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text("old")
    with pytest.raises(ValueError), writing_file(path) as tmp:
        tmp.write_text("half")
        raise ValueError("broken on purpose")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_a_second_writer_of_the_same_folder_fails_at_once(tmp_path):
    out = tmp_path / "r"
    with writing_folder(out) as folder:
        (folder / "a.txt").write_text("first")
        with pytest.raises(CnnappError, match="another cnnapp process is writing it"), writing_folder(out):
            pass
        assert not out.exists()
    assert (out / "a.txt").read_text() == "first" and not (out / LOCK).exists()
    with pytest.raises(CnnappError, match="already exists"), writing_folder(out):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


REPLACER = """
import sys
from pathlib import Path
from cnnapp.files import writing_folder

out = Path(sys.argv[1])
for n in range(int(sys.argv[2])):
    with writing_folder(out, replace=True) as folder:
        (folder / "marker").write_text(str(n))
"""


def test_replacing_never_leaves_the_folder_missing(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "marker").write_text("old")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    replacer = subprocess.Popen([sys.executable, "-c", REPLACER, str(out), "300"], env=env)
    missing = checks = 0
    while replacer.poll() is None:
        checks += 1
        missing += not (out / "marker").is_file()
    assert replacer.returncode == 0
    assert checks > 1000 and missing == 0
    assert (out / "marker").read_text() == "299"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


HOLDER = """
import sys, time
from pathlib import Path
from cnnapp.files import writing_folder

with writing_folder(Path(sys.argv[1]), resumable=True) as folder:
    (folder / "epoch-1").write_text("done")
    print("writing", flush=True)
    time.sleep(60)
"""


def test_a_killed_writer_s_folder_is_refused_then_continued(tmp_path):
    out = tmp_path / "r"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], env=env, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "writing\n"
    with pytest.raises(CnnappError, match="another cnnapp process is writing it"), writing_folder(out, resumable=True):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    time.sleep(0.1)
    assert not out.exists() and (partial_folder(out) / "epoch-1").is_file()
    with pytest.raises(CnnappError, match="add `resume`"), writing_folder(out, resumable=True):
        pass
    with writing_folder(out, resumable=True, resume=True) as folder:
        assert (folder / "epoch-1").read_text() == "done"
        (folder / "epoch-2").write_text("done")
    assert sorted(p.name for p in out.iterdir()) == ["epoch-1", "epoch-2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
