"""Laying out an unpacked upstream copy as cnnapp's folders: one subfolder per class, classes named alike across
sources ("not smiling" and "smiling" for faces, digits for hands).

Each layout reads the upstream files from one folder (the archive's members under their short names, beside a
downloaded label file if the source has one) and moves photos into a target folder that does not exist yet.
"""

from pathlib import Path

from cnnapp.data.archives import unsafe
from cnnapp.errors import CnnappError

SMILE_CLASSES = ("not smiling", "smiling")
SIGNS_PARTS = ("train_signs", "val_signs", "test_signs")
CELEBA_PHOTOS = 10_000
CELEBA_LABELS = "list_attr_celeba.txt"


def upstream_file(upstream: Path, name: str, listed_in: str) -> Path:
    """The file an index names (backslashes read as slashes), refused if the name could leave the folder."""
    name = name.replace("\\", "/")
    reason = unsafe(name, False)
    if reason:
        raise CnnappError(f"{listed_in} names {name}, which {reason}")
    return upstream / name


def place(photo: Path, placed: Path, listed_in: str) -> None:
    """Moves one photo to its place, refusing a photo the upstream lacks or a second photo of the same name."""
    if not photo.is_file():
        raise CnnappError(f"{listed_in} names {photo.name}, which the download lacks")
    if placed.exists():
        raise CnnappError(f"{listed_in}: two photos would be placed as {placed.parent.name}/{placed.name}")
    placed.parent.mkdir(parents=True, exist_ok=True)
    photo.rename(placed)


def signs_photos(upstream: Path, target: Path, pins: dict[str, str]) -> None:
    """CS230's SIGNS photos: train_signs and val_signs are the course's training photos, test_signs its test
    photos; the label is the name's first character, and ' (1)' in a name becomes '_1'."""
    for split, parts in (("train", SIGNS_PARTS[:2]), ("test", SIGNS_PARTS[2:])):
        for part in parts:
            for photo in sorted((upstream / part).glob("*.jpg")):
                label = photo.name[0]
                if not label.isdigit():
                    raise CnnappError(f"{part}/{photo.name}: the name does not start with a digit label")
                place(photo, target / split / label / photo.name.replace(" (1)", "_1"), part)


def genki4k(upstream: Path, target: Path, pins: dict[str, str]) -> None:
    """GENKI-4K: line N of GENKI-4K_Images.txt names the photo whose smile label (1 or 0) starts line N of
    GENKI-4K_Labels.txt; it becomes <class>/fileNNNN.jpg. Only the lines the catalog pins are laid out, and a
    pinned photo the download lacks is left out (the caller counts what is missing)."""
    names = (upstream / "GENKI-4K_Images.txt").read_text().split()
    labels = [(line.split() or [""])[0] for line in (upstream / "GENKI-4K_Labels.txt").read_text().splitlines()]
    if len(names) != len(labels):
        raise CnnappError(f"GENKI-4K_Images.txt has {len(names)} lines, GENKI-4K_Labels.txt {len(labels)}")
    wanted = {Path(path).name: path for path in pins}
    for line, (name, label) in enumerate(zip(names, labels, strict=True), start=1):
        pinned = wanted.get(f"file{line:04d}.jpg")
        if pinned is None:
            continue
        if label not in ("0", "1") or f"{SMILE_CLASSES[int(label)]}/{Path(pinned).name}" != pinned:
            raise CnnappError(f"GENKI-4K_Labels.txt line {line}: smile label {label!r} where the catalog pins {pinned}")
        photo = upstream_file(upstream / "files", name, "GENKI-4K_Images.txt")
        if photo.is_file():
            place(photo, target / pinned, "GENKI-4K_Images.txt")


def celeba_10k(upstream: Path, target: Path, pins: dict[str, str]) -> None:
    """CelebA's first aligned photos, labelled by the Smiling column (1 or -1) of list_attr_celeba.txt, whose
    first line is the photo count and second the attribute names."""
    with (upstream / CELEBA_LABELS).open() as rows:
        next(rows, "")
        attributes = next(rows, "").split()
        if "Smiling" not in attributes:
            raise CnnappError(f"{CELEBA_LABELS}: no Smiling attribute in its second line")
        column = attributes.index("Smiling") + 1
        for number in range(1, CELEBA_PHOTOS + 1):
            row = next(rows, "").split()
            name = f"{number:06d}.jpg"
            if len(row) <= column or row[0] != name or row[column] not in ("1", "-1"):
                raise CnnappError(f"{CELEBA_LABELS}: line {number + 2} should give {name} a Smiling of 1 or -1")
            place(upstream / "celebA" / name, target / SMILE_CLASSES[row[column] == "1"] / name, CELEBA_LABELS)


def mtfl_net(upstream: Path, target: Path, pins: dict[str, str]) -> None:
    """MTFL's net_7876 photos, each line of training.txt being `path x1..x5 y1..y5 gender smile glasses pose`
    with smile 1 for smiling and 2 for not; lines of other folders are skipped."""
    for number, line in enumerate((upstream / "training.txt").read_text().splitlines(), start=1):
        fields = line.split()
        if not fields or not fields[0].replace("\\", "/").startswith("net_7876/"):
            continue
        if len(fields) != 15 or fields[12] not in ("1", "2"):
            raise CnnappError(f"training.txt line {number}: not `path`, ten landmarks and four labels 1 or 2")
        photo = upstream_file(upstream, fields[0], "training.txt")
        place(photo, target / SMILE_CLASSES[fields[12] == "1"] / photo.name, "training.txt")
