"""What a run's config.json says of its data, its split and its view, as typed records read from the file."""

from dataclasses import dataclass

from cnnapp.data.views import VIEW_CHOICES, View


@dataclass(frozen=True)
class SplitRecord:
    """How a run split its photos (None where an older run does not record a value): in words, how it was drawn
    (fractions, groups; the seed is the run's), the counts of each side, and its test photos exactly (indices into
    the data as loaded with the run's classes, of which there were n_images, and their file names for photo
    folders)."""

    described: str | None
    fractions: list[float] | None
    groups: str | None
    n_images: int | None
    n_train: int | None
    n_val: int | None
    n_test: int | None
    test_indices: list[int] | None
    test_files: list[str] | None
    validates_on_test: bool
    leaks: dict | None

    @classmethod
    def of(cls, record: dict) -> "SplitRecord":
        """The split of a config.json's "split" object, or of one source's record in mixed data."""
        return cls(
            record.get("described"),
            record.get("fractions"),
            record.get("groups"),
            record.get("n_images"),
            record.get("n_train"),
            record.get("n_val"),
            record.get("n_test"),
            record.get("test_indices"),
            record.get("test_files"),
            bool(record.get("validates_on_test")),
            record.get("leaks"),
        )


@dataclass(frozen=True)
class DataRecord:
    """The data a run trained on (or one source of mixed data): its name, place, fingerprint, the photos of each
    class, and how it was split."""

    name: str
    source: str | None
    fingerprint: str | None
    counts: dict[str, int]
    split: SplitRecord

    @classmethod
    def of(cls, record: dict, split: dict) -> "DataRecord":
        """The data of a config.json's "data" object (or of one of its sources) and its split; KeyError when it
        has no name."""
        return cls(
            record["name"],
            record.get("source"),
            record.get("fingerprint"),
            record.get("counts") or {},
            SplitRecord.of(split),
        )


@dataclass(frozen=True)
class Provenance:
    """How a run was made (None where an older run does not record a value): its model's parameters, where its
    starting weights came from, when it was created, the command and the package versions."""

    parameters: int | None
    initial_weights: dict | None
    created: str | None
    command: list[str] | None
    versions: dict[str, str]

    @classmethod
    def of(cls, config: dict) -> "Provenance":
        """The provenance a config.json records."""
        keys = ("parameters", "initial_weights", "created", "command")
        return cls(*(config.get(key) for key in keys), config.get("versions") or {})


def view_of(config: dict) -> View:
    """The view a run's config.json records (checked when the run was read, see check_config); a run from before a
    choice existed took its first value."""
    hyperparameters = config.get("hyperparameters", {})
    return View(*(hyperparameters.get(key, known[0]) for key, known in VIEW_CHOICES.items()))
