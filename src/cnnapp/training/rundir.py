"""Run folders on disk: written under a temporary name and renamed when complete; read back checked.

This module does not import Keras, so that light readers (inference, listings) can use it.
"""

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cnnapp.errors import CnnappError

REQUIRED_FILES = ("model.keras", "config.json", "metrics.json")


@contextmanager
def writing_run(out: Path, replace: bool = False) -> Iterator[Path]:
    """A temporary folder beside out; when the block ends without error it becomes out, otherwise it is removed."""
    out = Path(out)
    if out.exists() and not replace:
        raise CnnappError(f"{out}: already exists; choose another --out or remove it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))
    tmp.chmod(0o755)
    try:
        yield tmp
        if out.exists():
            old = tmp.with_suffix(".old")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(path: Path, data: dict) -> None:
    """data as indented JSON."""
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


@dataclass(frozen=True)
class RunInfo:
    """A finished run folder: where it is, how it was made and what it measured."""

    path: Path
    config: dict
    metrics: dict

    @property
    def class_names(self) -> list[str]:
        return self.config["data"]["class_names"]


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CnnappError(f"{path}: unreadable JSON ({error})") from None
    if not isinstance(data, dict):
        raise CnnappError(f"{path}: expected a JSON object")
    return data


def read_run(path: Path | str) -> RunInfo:
    """A run folder's configuration and metrics; CnnappError if it is not a complete run."""
    path = Path(path)
    if not path.is_dir():
        raise CnnappError(f"{path}: no such run folder")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise CnnappError(f"{path}: not a complete run folder (missing {', '.join(missing)})")
    config = _read_json(path / "config.json")
    if "class_names" not in config.get("data", {}) or "model" not in config:
        raise CnnappError(f"{path / 'config.json'}: lacks the model name or data.class_names")
    return RunInfo(path, config, _read_json(path / "metrics.json"))
