"""Models by name, each with the training protocol it gets unless the user overrides it.

Reading a recipe imports no Keras: a command checks a model's name and classes before TensorFlow loads, which
happens when a model is first built.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cnnapp import lazy
from cnnapp.errors import CnnappError

if TYPE_CHECKING:
    import keras

# The course's architecture check: the rows models/summary.py gives of each course model.
HAPPY_ROWS = [
    ["ZeroPadding2D", (None, 70, 70, 3), 0, ((3, 3), (3, 3))],
    ["Conv2D", (None, 64, 64, 32), 4736, "valid", "linear", "GlorotUniform"],
    ["BatchNormalization", (None, 64, 64, 32), 128],
    ["ReLU", (None, 64, 64, 32), 0],
    ["MaxPooling2D", (None, 32, 32, 32), 0, (2, 2), (2, 2), "valid"],
    ["Flatten", (None, 32768), 0],
    ["Dense", (None, 1), 32769, "sigmoid"],
]

SIGNS_ROWS = [
    ["InputLayer", [(None, 64, 64, 3)], 0],
    ["Conv2D", (None, 64, 64, 8), 392, "same", "linear", "GlorotUniform"],
    ["ReLU", (None, 64, 64, 8), 0],
    ["MaxPooling2D", (None, 8, 8, 8), 0, (8, 8), (8, 8), "same"],
    ["Conv2D", (None, 8, 8, 16), 528, "same", "linear", "GlorotUniform"],
    ["ReLU", (None, 8, 8, 16), 0],
    ["MaxPooling2D", (None, 2, 2, 16), 0, (4, 4), (4, 4), "same"],
    ["Flatten", (None, 64), 0],
    ["Dense", (None, 6), 390, "softmax"],
]


def build_happy(classes: int) -> "keras.Model":
    """The course's happy model (binary: one sigmoid unit whatever classes is)."""
    return lazy.happy_model()


def build_signs(classes: int) -> "keras.Model":
    """The course's signs model, one softmax unit per class."""
    return lazy.convolutional_model(lazy.INPUT_SHAPE, classes)


def build_smile_net(classes: int) -> "keras.Model":
    """smile-net (binary: one sigmoid unit whatever classes is)."""
    return lazy.smile_net()


def build_sign_net(classes: int) -> "keras.Model":
    """sign-net, one softmax unit per class."""
    return lazy.sign_net(classes)


def build_smile_gate(classes: int) -> "keras.Model":
    """The smile gate (binary: one sigmoid unit whatever classes is), reading the face's landmarks too."""
    return lazy.smile_gate(lazy.marks_width("face"))


def build_sign_reader(classes: int) -> "keras.Model":
    """The sign reader, one softmax unit per class, reading the hand's landmarks too."""
    return lazy.sign_reader(classes, lazy.marks_width("hand"))


AUGMENTATIONS = ("hands", "faces", "light")
"""The kinds of random changes a model may train behind (see models/augment.py)."""
SCHEDULES = ("constant", "cosine", "one-cycle")
"""How a training's learning rate may change over its steps (see training/fit.py's learning_rate)."""


@dataclass(frozen=True)
class Space:
    """The settings a hyperparameter search may choose from for a model: a range for the learning rate
    (searched on a log scale) and the choices for the others."""

    learning_rate: tuple[float, float]
    batch_size: tuple[int, ...]
    epochs: tuple[int, ...]
    augment: tuple[bool, ...] = (False, True)
    schedule: tuple[str, ...] = SCHEDULES


@dataclass(frozen=True)
class Recipe:
    """How to build a model for a number of classes, and how to train it by default."""

    name: str
    build: Callable[[int], "keras.Model"]
    binary: bool  # one sigmoid unit for two classes, else one softmax unit per class
    batch_size: int
    epochs: int
    augmentation: str  # the kind of random changes it trains with when augmenting (see models/augment.py)
    space: Space  # what `cnnapp tune` searches
    augment: bool = False  # whether it augments unless told
    learning_rate: float = 0.001  # Adam's default
    schedule: str = "constant"  # or "cosine", "one-cycle": how the learning rate changes (training/fit.py)
    crop: str = "none"  # or "face": what of a photo the model sees (see data/faces.py)
    colour: str = "colour"  # or "grey": the photo's colours or only its grey levels
    balance: bool = False  # every class weighs the same in the loss, however many photos it has
    marks: str = "none"  # or "face", "hand": the landmarks it reads beside the pixels (see data/views.py)
    data: str | None = None  # the sources it trains on when no --data is given (comma-separated)
    classes: str | None = None  # the classes it keeps of them when no --classes is given
    groups: str | None = None  # the groups pattern of its splits when no --groups is given
    most_per_source: int | None = None  # each source drawn down to at most this many photos (data.sampled)
    vote_weight: float = 0.5  # with marks: the landmark vote's share of the answer where one is found
    expected_rows: list | None = None  # the course's architecture check, for the course models


RECIPES = {
    # the course's smile gate (Sequential API): binary, 37,633 parameters
    "happy": Recipe(
        "happy",
        build_happy,
        binary=True,
        batch_size=16,
        epochs=10,
        augmentation="faces",
        space=Space(learning_rate=(1e-4, 1e-2), batch_size=(8, 16, 32), epochs=(10, 20, 40)),
        expected_rows=HAPPY_ROWS,
    ),
    # the course's hand-sign reader (Functional API): one unit per class, 1,310 parameters for six
    "signs": Recipe(
        "signs",
        build_signs,
        binary=False,
        batch_size=64,
        epochs=100,
        augmentation="hands",
        # the 1,310 weights learn little from augmented photos in 100 epochs (0.45 validation accuracy after 33)
        space=Space(learning_rate=(5e-4, 2e-2), batch_size=(32, 64, 128), epochs=(30, 60, 100), augment=(False,)),
        expected_rows=SIGNS_ROWS,
    ),
    # four conv blocks with batch normalisation, global average pooling: binary, trained with face augmentation (on
    # the photo at half its side it learns sooner but stops short of what it reads at full size: docs/speed.md)
    "smile-net": Recipe(
        "smile-net",
        build_smile_net,
        binary=True,
        batch_size=64,
        epochs=10,
        augmentation="faces",
        space=Space(learning_rate=(3e-4, 1e-2), batch_size=(32, 64, 128), epochs=(5, 10, 20)),
        augment=True,
        schedule="cosine",
    ),
    # four conv blocks with batch normalisation, global average pooling, on the photo at half its side: one unit
    # per class, a short one-cycle training behind light augmentation (the fastest to a good model of one
    # collection's hands: docs/speed.md); the sign reader is the recipe for hands from anywhere
    "sign-net": Recipe(
        "sign-net",
        build_sign_net,
        binary=False,
        batch_size=32,
        epochs=10,
        augmentation="light",
        space=Space(learning_rate=(5e-4, 5e-3), batch_size=(16, 32, 64), epochs=(5, 10, 20)),
        augment=True,
        learning_rate=0.002,
        schedule="one-cycle",
    ),
    # smile-net's conv blocks on the face crop beside the face's landmark features: binary, trained on every public
    # face source (at half the crop's side it trained five times sooner but read the sources left out a little less
    # well: docs/recipes.md)
    "smile-gate": Recipe(
        "smile-gate",
        build_smile_gate,
        binary=True,
        batch_size=64,
        epochs=10,
        augmentation="faces",
        space=Space(learning_rate=(3e-4, 1e-2), batch_size=(32, 64, 128), epochs=(5, 10, 20)),
        augment=True,
        schedule="cosine",
        crop="face",
        colour="equalised",
        balance=True,
        marks="face",
        data="smiles,genki4k,celeba-10k,mtfl-net",
        most_per_source=4000,  # the landmarks of 16,000 photos are found within a quarter of an hour on 2 cores
    ),
    # sign-net's conv blocks on the photo beside the hand's landmarks (upright): one unit per class, a short one-cycle
    # training on every public hand source (`crop="hand"` tied with it on sources left out, and read its own
    # validation photos less well: docs/recipes.md)
    "sign-reader": Recipe(
        "sign-reader",
        build_sign_reader,
        binary=False,
        batch_size=32,
        epochs=15,
        augmentation="light",
        space=Space(learning_rate=(5e-4, 5e-3), batch_size=(16, 32, 64), epochs=(10, 15, 30)),
        augment=True,
        learning_rate=0.002,
        schedule="one-cycle",
        marks="hand",
        data="sign-digits,signs-photos",
        classes="0-5",
        groups=r"IMG_(\d+)\d",  # sign-digits: one student's photos stay on one side of the split
        vote_weight=0.6,  # the landmarks carry over to other people better than the pixels (docs/recipes.md)
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
            "choose two with `classes`",
            parameter="classes",
        )
    return chosen


def build_model(name: str, class_names: tuple[str, ...] | list[str], augmentation: str | None = None) -> "keras.Model":
    """A fresh, untrained model for these classes, behind this kind of augmentation (one of AUGMENTATIONS) if one is
    given, its batch normalisation training through the fused kernel; refuses a binary model on data that is not
    binary."""
    chosen = check_classes(name, class_names)
    model = lazy.fused_batch_norm(chosen.build(len(class_names)))
    return lazy.augmented(model, augmentation) if augmentation else model
