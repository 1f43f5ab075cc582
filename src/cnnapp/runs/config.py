"""One training's settings: the model's recipe with any choice of the user in its place, recorded whole in the run's
config.json (as its "hyperparameters") and read back from there to continue, repeat or re-run it."""

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from cnnapp.data.views import VIEW_CHOICES, View
from cnnapp.errors import CnnappError
from cnnapp.models.catalog import AUGMENTATIONS, SCHEDULES, recipe

CHOICES = {"schedule": SCHEDULES, "mix": ("size", "balanced"), **VIEW_CHOICES}
"""The settings that take one of a few names, and those names."""
RECORDED_BESIDE = ("optimizer", "loss")
"""What config.json's hyperparameters hold beside a TrainConfig: fixed by the model, not chosen."""
RECIPE_ONLY = ("schedule", "marks", "most_per_source", "vote_weight")
"""Settings that only a model's recipe (models/catalog.py) chooses: the command line has no option for them."""


@dataclass(frozen=True)
class TrainConfig:
    """The settings of one training; CnnappError naming the setting when a value is out of its range."""

    epochs: int
    batch_size: int
    learning_rate: float
    seed: int
    augment: bool = False  # train behind random augmentation layers
    augmentation: str | None = None  # their kind (models/augment.py); None, in a run recorded before it: the model's
    schedule: str = "constant"  # or "cosine", "one-cycle": see training/fit.py's learning_rate
    init_from: str | None = None  # a run folder whose weights the model starts from
    crop: str = "none"  # or "face", "hand": the model sees the face or hand found in each photo (data/views.py)
    colour: str = "colour"  # or "grey", "equalised": the model sees only the grey levels (spread evenly)
    balance: bool = False  # weigh each class's training photos so that every class counts as much in the loss
    mix: str = "size"  # or "balanced": each source of mixed data weighs the same in the loss, whatever its size
    marks: str = "none"  # or "face", "hand": the model also reads the landmarks of each photo (see data/views.py)
    most_per_source: int | None = None  # each source is drawn down to at most this many photos (data.sampled)
    vote_weight: float = 0.5  # with marks: the landmark vote's share of the answer (training/vote.py)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise CnnappError(f"{name} {getattr(self, name)!r}: must be a whole number of 1 or more")
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not (math.isfinite(rate) and rate > 0):
            raise CnnappError(f"learning_rate {rate!r}: must be a positive number")
        share = self.vote_weight
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise CnnappError(f"vote_weight {share!r}: must be a number from 0 to 1")
        for name, known in CHOICES.items():
            if getattr(self, name) not in known:
                raise CnnappError(f"{name} {getattr(self, name)!r}: not known to this version ({', '.join(known)})")
        if self.augmentation is not None and self.augmentation not in AUGMENTATIONS:
            raise CnnappError(
                f"augmentation {self.augmentation!r}: not known to this version ({', '.join(AUGMENTATIONS)})"
            )

    def changes(self, model: str) -> str | None:
        """The kind of random changes the model trains behind, or None when it trains without."""
        return (self.augmentation or recipe(model).augmentation) if self.augment else None

    @property
    def view(self) -> View:
        """How the model sees a photo."""
        return View(self.crop, self.colour, self.marks)

    @classmethod
    def from_recipe(cls, model: str, seed: int = 1, **overrides) -> "TrainConfig":
        """The model's own protocol, with any given value (not None) taking its place."""
        chosen = recipe(model)
        values = {f.name: getattr(chosen, f.name) for f in fields(cls) if hasattr(chosen, f.name)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(seed=seed, **values)

    @classmethod
    def from_record(cls, record: dict, path: Path) -> "TrainConfig":
        """The settings config.json records in its hyperparameters; CnnappError naming path and the setting when
        one is missing, unknown to this version or out of its range."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(record) - known - set(RECORDED_BESIDE))
        if unknown:
            raise CnnappError(
                f"{path}: hyperparameters {', '.join(unknown)}: not settings of a training known to this version"
            )
        try:
            return cls(**{key: value for key, value in record.items() if key in known})
        except TypeError as error:
            raise CnnappError(f"{path}: hyperparameters lack a setting ({error})") from None
        except CnnappError as error:
            raise CnnappError(f"{path}: hyperparameters {error}") from None

    def record(self) -> dict:
        """The settings as config.json records them."""
        return asdict(self)
