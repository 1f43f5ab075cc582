"""Datasets by name or path: the course's HDF5 pairs and image folders, as one Dataset type."""

import hashlib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cnnapp.data.course import COURSE_FILES, read_course_file
from cnnapp.data.folders import fingerprint_files, load_folder
from cnnapp.errors import CnnappError
from cnnapp.settings import data_dir


@dataclass(frozen=True)
class Named:
    """A dataset cnnapp knows by name: where it lives under the data directory and where it comes from."""

    name: str
    kind: str  # "course" or "folder"
    location: str  # course prefix ("happy", "signs") or folder name
    origin: str
    labels: dict[str, str]  # stored class name -> readable class name


NAMED = {
    "happy-house": Named(
        "happy-house",
        "course",
        "happy",
        "the Happy House files of the deep-learning course (Convolutional Neural Networks, week 2); "
        "test_happy.h5 is also at github.com/cristian904/happy-house-dataset",
        {"0": "not smiling", "1": "smiling"},
    ),
    "signs": Named(
        "signs",
        "course",
        "signs",
        "the SIGNS files of the deep-learning course (Convolutional Neural Networks, week 1)",
        {},
    ),
    "sign-digits": Named(
        "sign-digits",
        "folder",
        "sign-language-digits",
        "the Sign Language Digits Dataset, github.com/ardamavi/Sign-Language-Digits-Dataset (folder Dataset/)",
        {},
    ),
    "signs-photos": Named(
        "signs-photos",
        "folder",
        "signs-photos",
        "the SIGNS photos of the deep-learning course as JPEG files in their own train/test split, "
        "github.com/littlecapa/pytorch_template (folder data/64x64_SIGNS)",
        {},
    ),
    "smiles": Named(
        "smiles",
        "folder",
        "smiles",
        "SMILEsmileD, github.com/hromi/SMILEsmileD (SMILEs/negatives/negatives7 and SMILEs/positives/positives7)",
        {"negatives": "not smiling", "positives": "smiling"},
    ),
    "genki4k": Named(
        "genki4k",
        "folder",
        "genki4k",
        "GENKI-4K of the MPLab, UC San Diego, github.com/miikatiikeri/AML-project (dataset/GENKI-R2009a)",
        {},
    ),
    "celeba-10k": Named(
        "celeba-10k",
        "folder",
        "celeba-10k",
        "CelebA's aligned photos 000001-010000, github.com/karthikSingireddy/cs389-hw4 (celebA/), labelled by "
        "CelebA's Smiling attribute, github.com/zgjsxx/face-property-detection-pytorch (list_attr_celeba.txt)",
        {},
    ),
    "mtfl-net": Named(
        "mtfl-net",
        "folder",
        "mtfl-net",
        "MTFL (CUHK), its web photos net_7876 with their smile labels, github.com/nieag/deepl18_project (MTFL/)",
        {},
    ),
}


@dataclass(frozen=True)
class Part:
    """One source of a mixed dataset: its images are x[start:stop] of the whole, train and test its own split
    (indices within the source) when it ships one."""

    name: str
    source: str
    fingerprint: str
    start: int
    stop: int
    train: np.ndarray | None = None
    test: np.ndarray | None = None


@dataclass(frozen=True)
class Dataset:
    """Images of one dataset with their class indices.

    For course files and folders laid out as train/ and test/, `train` and `test` are the index arrays of the
    two parts (train is empty when only a course test file is there); for other image folders both are None and a
    seeded split is made later. A dataset mixed from several sources lists them in `parts`.
    """

    name: str
    source: str
    class_names: tuple[str, ...]
    x: np.ndarray  # (n, 64, 64, 3) uint8
    y: np.ndarray  # (n,) int64 indices into class_names
    fingerprint: str
    paths: tuple[str, ...] | None = None
    train: np.ndarray | None = None
    test: np.ndarray | None = None
    faces: np.ndarray | None = None  # (n,) bool, whether a face was found in each image, once cropped to faces
    hands: np.ndarray | None = None  # (n,) bool, whether a hand was found in each image, once cropped to hands
    marks: np.ndarray | None = None  # (n, k) float32, each image's landmark features, once seen with marks
    parts: tuple[Part, ...] = ()

    def counts(self) -> dict[str, int]:
        """Images per class."""
        counts = np.bincount(self.y, minlength=len(self.class_names))
        return {name: int(n) for name, n in zip(self.class_names, counts, strict=True)}


def checked_classes(where: Path, names: list[str], y: np.ndarray) -> tuple[str, ...]:
    """The class names of data read from where, once checked against its labels: each name once, each class with
    images; CnnappError naming where otherwise."""
    twice = sorted(name for name, n in Counter(names).items() if n > 1)
    if twice:
        raise CnnappError(f"{where}: class {', '.join(twice)} is named more than once")
    empty = [name for name, n in zip(names, np.bincount(y, minlength=len(names)), strict=True) if n == 0]
    if empty:
        raise CnnappError(f"{where}: no image is labelled with class {', '.join(empty)}")
    return tuple(names)


def load_course(folder: Path, prefix: str, name: str, labels: dict[str, str] | None = None) -> Dataset:
    """A course pair from folder: the train file if present and the test file, which must be there."""
    train_name, test_name = COURSE_FILES[prefix]
    train_path, test_path = folder / train_name, folder / test_name
    if not test_path.is_file():
        raise CnnappError(f"{test_path}: no such file (the {name} dataset needs at least its test file)")
    x, y, classes = read_course_file(test_path, "test")
    files, n_train = [test_path], 0
    if train_path.is_file():
        x_train, y_train, train_classes = read_course_file(train_path, "train")
        if train_classes.tolist() != classes.tolist():
            raise CnnappError(f"{train_path}: list_classes differs from the one in {test_path}")
        x, y, files, n_train = (
            np.concatenate([x_train, x]),
            np.concatenate([y_train, y]),
            [train_path, test_path],
            len(x_train),
        )
    index = {value: i for i, value in enumerate(classes.tolist())}
    y = np.array([index[v] for v in y.tolist()], dtype=np.int64)
    stored = [c.decode(errors="replace") if isinstance(c, bytes) else str(c) for c in classes.tolist()]
    return Dataset(
        name=name,
        source=str(folder),
        class_names=checked_classes(files[-1], [(labels or {}).get(c, c) for c in stored], y),
        x=x,
        y=y,
        fingerprint=fingerprint_files(folder, files),
        train=np.arange(n_train),
        test=np.arange(n_train, len(x)),
    )


def load_image_folder(folder: Path, name: str, labels: dict[str, str] | None = None) -> Dataset:
    """An image folder, one subfolder per class."""
    x, y, names, paths, fingerprint = load_folder(folder)
    return Dataset(
        name=name,
        source=str(folder),
        class_names=checked_classes(folder, [(labels or {}).get(c, c) for c in names], y),
        x=x,
        y=y,
        fingerprint=fingerprint,
        paths=tuple(paths),
    )


def load_split_folder(folder: Path, name: str, labels: dict[str, str] | None = None) -> Dataset:
    """A folder that ships its own split: train/ and test/, each with the same class subfolders."""
    x_train, y_train, names, train_paths, train_print = load_folder(folder / "train")
    x_test, y_test, test_names, test_paths, test_print = load_folder(folder / "test")
    if test_names != names:
        raise CnnappError(f"{folder}: test/ has classes {', '.join(test_names)}, train/ has {', '.join(names)}")
    n_train = len(y_train)
    return Dataset(
        name=name,
        source=str(folder),
        class_names=tuple((labels or {}).get(c, c) for c in names),
        x=np.concatenate([x_train, x_test]),
        y=np.concatenate([y_train, y_test]),
        fingerprint=hashlib.sha256(f"{train_print} {test_print}".encode()).hexdigest(),
        paths=tuple(f"train/{p}" for p in train_paths) + tuple(f"test/{p}" for p in test_paths),
        train=np.arange(n_train),
        test=np.arange(n_train, n_train + len(y_test)),
    )


def ships_split(folder: Path) -> bool:
    """Whether a folder is laid out as train/ and test/ class folders."""
    return (folder / "train").is_dir() and (folder / "test").is_dir()


def _course_prefix(folder: Path) -> str | None:
    for prefix, (train_name, test_name) in COURSE_FILES.items():
        if (folder / test_name).is_file() or (folder / train_name).is_file():
            return prefix
    return None


def labels_for(kind: str, location: str) -> dict[str, str]:
    """The readable class names of the named dataset of this kind at this location (course prefix or folder),
    so that a dataset given by path is named as when given by name."""
    for named in NAMED.values():
        if named.kind == kind and (
            named.location == location
            if kind == "course"
            else Path(location) == (data_dir() / named.location).resolve()
        ):
            return named.labels
    return {}


def load_dataset(name: str) -> Dataset:
    """A dataset by name (see NAMED, found under the data directory) or by path (folder or course pair)."""
    if name in NAMED:
        named = NAMED[name]
        where = data_dir() / named.location if named.kind == "folder" else data_dir()
        if named.kind == "course":
            return load_course(where, named.location, name, named.labels)
        if ships_split(where):
            return load_split_folder(where, name, named.labels)
        return load_image_folder(where, name, named.labels)
    path = Path(name)
    if not path.exists():
        known = ", ".join(NAMED)
        raise CnnappError(f"{name}: not a known dataset ({known}) nor an existing folder or file")
    if path.is_file():
        if path.suffix.lower() not in (".h5", ".hdf5"):
            raise CnnappError(f"{path}: a dataset file must be a course HDF5 file (.h5)")
        for prefix, (_, test_name) in COURSE_FILES.items():
            if path.name == test_name:
                return load_course(path.parent, prefix, name, labels_for("course", prefix))
        raise CnnappError(f"{path}: course files are named {', '.join(n for p in COURSE_FILES.values() for n in p)}")
    prefix = _course_prefix(path)
    if prefix:
        return load_course(path, prefix, name, labels_for("course", prefix))
    if ships_split(path):
        return load_split_folder(path, name, labels_for("folder", str(path.resolve())))
    return load_image_folder(path, name, labels_for("folder", str(path.resolve())))


def mixed(datasets: list[Dataset]) -> Dataset:
    """Several sources as one dataset, in the order given; they must have the same classes in the same order."""
    first = datasets[0]
    for other in datasets[1:]:
        if other.class_names != first.class_names:
            raise CnnappError(
                f"{other.name}: its classes ({', '.join(other.class_names)}) differ from those of {first.name} "
                f"({', '.join(first.class_names)}); mixed sources need the same classes in the same order"
            )
    names = [d.name for d in datasets]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CnnappError(f"`data` {','.join(names)}: {', '.join(twice)} given twice", parameter="data")
    stops = np.cumsum([len(d.y) for d in datasets])
    parts = tuple(
        Part(d.name, d.source, d.fingerprint, int(stop - len(d.y)), int(stop), d.train, d.test)
        for d, stop in zip(datasets, stops, strict=True)
    )
    everywhere = all(d.paths is not None for d in datasets)

    def joined(field: str) -> np.ndarray | None:
        arrays = [getattr(d, field) for d in datasets]
        return None if any(a is None for a in arrays) else np.concatenate(arrays)

    return Dataset(
        name=",".join(names),
        source=", ".join(d.source for d in datasets),
        class_names=first.class_names,
        x=np.concatenate([d.x for d in datasets]),
        y=np.concatenate([d.y for d in datasets]),
        fingerprint=hashlib.sha256(" ".join(d.fingerprint for d in datasets).encode()).hexdigest(),
        paths=tuple(p for d in datasets for p in d.paths) if everywhere else None,
        faces=joined("faces"),
        hands=joined("hands"),
        marks=joined("marks"),
        parts=parts,
    )


def part_of(dataset: Dataset, part: Part) -> Dataset:
    """One source of a mixed dataset on its own, as it was loaded."""
    within = slice(part.start, part.stop)
    return replace(
        dataset,
        name=part.name,
        source=part.source,
        fingerprint=part.fingerprint,
        x=dataset.x[within],
        y=dataset.y[within],
        paths=None if dataset.paths is None else dataset.paths[within],
        faces=None if dataset.faces is None else dataset.faces[within],
        hands=None if dataset.hands is None else dataset.hands[within],
        marks=None if dataset.marks is None else dataset.marks[within],
        train=part.train,
        test=part.test,
        parts=(),
    )


def class_number(dataset: Dataset, class_name: str) -> int:
    """The number of the dataset's class of that name."""
    if class_name not in dataset.class_names:
        raise CnnappError(f"{dataset.name}: no class {class_name}; its classes are {', '.join(dataset.class_names)}")
    return dataset.class_names.index(class_name)


def within(keep: np.ndarray, part: np.ndarray | None) -> np.ndarray | None:
    """A part's indices (a shipped train or test split) among the kept images, renumbered in their order."""
    return None if part is None else np.flatnonzero(np.isin(keep, part))


def select_classes(dataset: Dataset, wanted: list[str]) -> Dataset:
    """The dataset restricted to the wanted classes, renumbered in their order in wanted."""
    if dataset.parts:
        return mixed([select_classes(part_of(dataset, p), wanted) for p in dataset.parts])
    old = [class_number(dataset, c) for c in wanted]
    if len(wanted) < 2:
        raise CnnappError(f"{dataset.name}: choose at least two classes, got {', '.join(wanted) or 'none'}")
    keep = np.flatnonzero(np.isin(dataset.y, old))
    remap = np.full(len(dataset.class_names), -1, dtype=np.int64)
    remap[old] = np.arange(len(old))
    return replace(
        dataset,
        class_names=tuple(wanted),
        x=dataset.x[keep],
        y=remap[dataset.y[keep]],
        paths=None if dataset.paths is None else tuple(dataset.paths[i] for i in keep),
        faces=None if dataset.faces is None else dataset.faces[keep],
        hands=None if dataset.hands is None else dataset.hands[keep],
        marks=None if dataset.marks is None else dataset.marks[keep],
        train=within(keep, dataset.train),
        test=within(keep, dataset.test),
    )


def sampled(dataset: Dataset, most: int) -> Dataset:
    """At most `most` of a single source's photos, the same ones every time (drawn with seed 0, kept in their
    order), so that what is worked out from them once (faces, landmarks) is found in the cache by every run."""
    if len(dataset.y) <= most:
        return dataset
    keep = np.sort(np.random.default_rng(0).choice(len(dataset.y), most, replace=False))
    return replace(
        dataset,
        x=dataset.x[keep],
        y=dataset.y[keep],
        paths=None if dataset.paths is None else tuple(dataset.paths[i] for i in keep),
        faces=None if dataset.faces is None else dataset.faces[keep],
        hands=None if dataset.hands is None else dataset.hands[keep],
        marks=None if dataset.marks is None else dataset.marks[keep],
        train=within(keep, dataset.train),
        test=within(keep, dataset.test),
    )


MAX_CHOSEN = 1000
"""The most classes (or seeds) one option may list; a range is measured against it before it is expanded."""


def parse_classes(text: str, parameter: str = "classes") -> list[str]:
    """'0-5' -> ['0', ..., '5']; 'a,b' -> ['a', 'b']; ranges and names may be mixed: '0-2,7'. parameter names
    the argument the text came from, in errors."""
    wanted: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        low, dash, high = part.partition("-")
        if dash and low.isdigit() and high.isdigit():
            if int(low) > int(high):
                raise CnnappError(f"`{parameter}` {text}: range {part} runs backwards", parameter=parameter)
            if len(wanted) + int(high) - int(low) + 1 > MAX_CHOSEN:
                raise CnnappError(f"`{parameter}` {text}: more than {MAX_CHOSEN} values", parameter=parameter)
            wanted += [str(i) for i in range(int(low), int(high) + 1)]
        elif part:
            wanted.append(part)
    if len(wanted) > MAX_CHOSEN:
        raise CnnappError(f"`{parameter}` {text}: more than {MAX_CHOSEN} values", parameter=parameter)
    twice = sorted(name for name, n in Counter(wanted).items() if n > 1)
    if twice:
        raise CnnappError(f"`{parameter}` {text}: {', '.join(twice)} given twice", parameter=parameter)
    return wanted
