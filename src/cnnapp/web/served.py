"""The runs a server answers for: each under a name, loaded once with ONNX Runtime."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from cnnapp.data.datasets import labels_for
from cnnapp.data.images import is_image_file
from cnnapp.data.sources import SOURCES
from cnnapp.errors import CnnappError
from cnnapp.inference import Predictor, load
from cnnapp.runs import ONNX_FILE, Run, read_run

SMILE_CLASSES = ["not smiling", "smiling"]
"""A run with exactly these classes is a smile gate: the Happy House door opens on "smiling"."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""What a model's name in the URL may look like."""
EXAMPLES = 3
"""Example photos the page offers for each class of a run."""


@dataclass(frozen=True)
class Example:
    """A photo of a run's test split, which the run never trained on, and its true class."""

    path: Path
    label: str


def test_examples(run: Run, per_class: int = EXAMPLES) -> list[Example]:
    """The first per_class photo files of each class in the run's test split, where its data folder still holds
    them; none for course files, which have no photo files."""
    source = Path(run.data.source)
    readable = labels_for("folder", str(source.resolve()))  # class folder -> class name, as the run read them
    taken: dict[str, list[Example]] = {name: [] for name in run.class_names}
    for name in run.split.test_files or []:
        folder, path = Path(name).parts[0], source / name
        label = readable.get(folder, folder)
        if label in taken and len(taken[label]) < per_class and is_image_file(path) and path.is_file():
            taken[label].append(Example(path, label))
    return [example for examples in taken.values() for example in examples]


def examples_credit(run: Run) -> str:
    """Where a run's example photos come from and their licence, in a line."""
    data = run.data
    known = SOURCES.get(data.name)
    licence = known.licence if known else f"see the data folder {data.source}"
    return f"from the test split of {data.name}, which the model did not train on; licence: {licence}"


@dataclass(frozen=True)
class ServedModel:
    """One run as the server shows it."""

    name: str
    predictor: Predictor
    examples: list[Example] = field(default_factory=list)

    def describe(self) -> dict:
        """What GET /api/models says about this run."""
        run = self.predictor.run
        return {
            "name": self.name,
            "classes": run.class_names,
            "model": run.model,
            "data": run.data.name,
            "test_accuracy": run.test_accuracy,
            "engine": self.predictor.engine,
            "crop": self.predictor.view.crop,
            "colour": self.predictor.view.colour,
            "marks": self.predictor.view.marks,
            "opens_door_on": "smiling" if run.class_names == SMILE_CLASSES else None,
            "examples": [
                {"url": f"/api/models/{self.name}/examples/{i}", "name": example.path.name, "label": example.label}
                for i, example in enumerate(self.examples)
            ],
            "examples_credit": examples_credit(run),
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
        if not read_run(path).onnx_file.is_file():
            raise CnnappError(f"{path}: no {ONNX_FILE}; write it with `cnnapp export {path}`")
        predictor = load(path, threads=1)
        served[name] = ServedModel(name, predictor, test_examples(predictor.run))
    return served
