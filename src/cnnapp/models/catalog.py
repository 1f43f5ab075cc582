"""Models by name, each with the training protocol it gets unless the user overrides it."""

from collections.abc import Callable
from dataclasses import dataclass

import keras

from cnnapp.errors import CnnappError
from cnnapp.models.augment import augmented
from cnnapp.models.course import INPUT_SHAPE, convolutional_model, happy_model
from cnnapp.models.fused import fused_batch_norm
from cnnapp.models.nets import sign_net, smile_net
from cnnapp.models.summary import HAPPY_ROWS, SIGNS_ROWS


@dataclass(frozen=True)
class Space:
    """The settings a hyperparameter search may choose from for a model: a range for the learning rate
    (searched on a log scale) and the choices for the others."""

    learning_rate: tuple[float, float]
    batch_size: tuple[int, ...]
    epochs: tuple[int, ...]
    augment: tuple[bool, ...] = (False, True)
    schedule: tuple[str, ...] = ("constant", "cosine")


@dataclass(frozen=True)
class Recipe:
    """How to build a model for a number of classes, and how to train it by default."""

    name: str
    description: str
    build: Callable[[int], keras.Model]
    binary: bool  # one sigmoid unit for two classes, else one softmax unit per class
    batch_size: int
    epochs: int
    augmentation: str  # the kind of random changes it trains with when augmenting (see models/augment.py)
    space: Space  # what `cnnapp tune` searches
    augment: bool = False  # whether it augments unless told
    learning_rate: float = 0.001  # Adam's default
    schedule: str = "constant"  # or "cosine": the learning rate decays to zero over the epochs
    crop: str = "none"  # or "face": what of a photo the model sees (see data/faces.py)
    colour: str = "colour"  # or "grey": the photo's colours or only its grey levels
    balance: bool = False  # every class weighs the same in the loss, however many photos it has
    expected_rows: list | None = None  # the course's architecture check, for the course models


RECIPES = {
    "happy": Recipe(
        "happy",
        "the course's smile gate (Sequential API): binary, 37,633 parameters",
        lambda classes: happy_model(),
        binary=True,
        batch_size=16,
        epochs=10,
        augmentation="faces",
        space=Space(learning_rate=(1e-4, 1e-2), batch_size=(8, 16, 32), epochs=(10, 20, 40)),
        expected_rows=HAPPY_ROWS,
    ),
    "signs": Recipe(
        "signs",
        "the course's hand-sign reader (Functional API): one unit per class, 1,310 parameters for six",
        lambda classes: convolutional_model(INPUT_SHAPE, classes),
        binary=False,
        batch_size=64,
        epochs=100,
        augmentation="hands",
        # the 1,310 weights learn little from augmented photos in 100 epochs (0.45 validation accuracy after 33)
        space=Space(learning_rate=(5e-4, 2e-2), batch_size=(32, 64, 128), epochs=(30, 60, 100), augment=(False,)),
        expected_rows=SIGNS_ROWS,
    ),
    "smile-net": Recipe(
        "smile-net",
        "four conv blocks with batch normalisation, global average pooling: binary, trained with face augmentation",
        lambda classes: smile_net(),
        binary=True,
        batch_size=64,
        epochs=10,
        augmentation="faces",
        space=Space(learning_rate=(3e-4, 1e-2), batch_size=(32, 64, 128), epochs=(5, 10, 20)),
        augment=True,
        schedule="cosine",
    ),
    "sign-net": Recipe(
        "sign-net",
        "four conv blocks with batch normalisation, global average pooling: one unit per class, "
        "trained with hand augmentation",
        sign_net,
        binary=False,
        batch_size=32,
        epochs=80,  # hands turned up to 90 degrees either way take twice the 40 epochs upright ones did
        augmentation="hands",
        space=Space(learning_rate=(3e-4, 1e-2), batch_size=(16, 32, 64), epochs=(40, 60, 80)),
        augment=True,
        schedule="cosine",
    ),
}


def recipe(name: str) -> Recipe:
    """The recipe of a model name; CnnappError listing the names when it is unknown."""
    if name not in RECIPES:
        raise CnnappError(f"{name}: no such model; choose one of {', '.join(RECIPES)}")
    return RECIPES[name]


def check_classes(name: str, class_names: tuple[str, ...] | list[str]) -> Recipe:
    """The recipe of a model name, after checking it can take this many classes."""
    chosen = recipe(name)
    if chosen.binary and len(class_names) != 2:
        raise CnnappError(
            f"model {name} is binary but the data has {len(class_names)} classes ({', '.join(class_names)}); "
            "choose two with --classes"
        )
    return chosen


def build_model(name: str, class_names: tuple[str, ...] | list[str], augment: bool = False) -> keras.Model:
    """A fresh, untrained model for these classes, behind its recipe's augmentation if asked, its batch
    normalisation training through the fused kernel; refuses a binary model on data that is not binary."""
    chosen = check_classes(name, class_names)
    model = fused_batch_norm(chosen.build(len(class_names)))
    return augmented(model, chosen.augmentation) if augment else model
