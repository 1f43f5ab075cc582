"""The runs a server answers for: each under a name, loaded once with ONNX Runtime."""

import re
from dataclasses import dataclass
from pathlib import Path

from cnnapp.errors import CnnappError
from cnnapp.inference import Predictor, load
from cnnapp.inference.predictor import ONNX_FILE
from cnnapp.training.rundir import read_run

SMILE_GATES = ("happy", "smile-net")
"""Runs of these binary models are smile gates: the Happy House door opens on their second (positive) class."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""What a model's name in the URL may look like."""


@dataclass(frozen=True)
class ServedModel:
    """One run as the server shows it."""

    name: str
    predictor: Predictor

    def describe(self) -> dict:
        """What GET /api/models says about this run."""
        run = self.predictor.run
        return {
            "name": self.name,
            "classes": run.class_names,
            "model": run.config["model"],
            "data": run.config["data"].get("name"),
            "test_accuracy": run.metrics.get("test_accuracy"),
            "engine": self.predictor.engine,
            "crop": self.predictor.crop,
            "colour": self.predictor.colour,
            "opens_door_on": run.class_names[1] if run.config["model"] in SMILE_GATES else None,
        }


def split_spec(spec: str) -> tuple[str, Path]:
    """NAME=RUN or RUN as (name, run folder); the name defaults to the folder's name."""
    name, sep, path = spec.partition("=")
    if not sep:
        name, path = Path(spec).resolve().name, spec
    if not NAME.fullmatch(name) or not path:
        raise CnnappError(f"{spec}: give a run folder, or NAME=RUN with a NAME of letters, digits, '.', '_' or '-'")
    return name, Path(path)


def load_served(specs: list[str]) -> dict[str, ServedModel]:
    """The runs named by specs (see split_spec), each loaded with ONNX Runtime; CnnappError if one cannot be.

    Each ONNX Runtime call uses one thread: the server's concurrency comes from answering requests side by side.
    """
    served: dict[str, ServedModel] = {}
    for spec in specs:
        name, path = split_spec(spec)
        if name in served:
            raise CnnappError(f"{spec}: a second run named {name}; name one of them with NAME=RUN")
        if not (read_run(path).path / ONNX_FILE).is_file():
            raise CnnappError(f"{path}: no {ONNX_FILE}; write it with `cnnapp export {path}`")
        served[name] = ServedModel(name, load(path, threads=1))
    return served
