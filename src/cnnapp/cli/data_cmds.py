"""`cnnapp data`: which datasets and model files are there, what is in one, and getting them."""

import math
from collections import Counter
from pathlib import Path

import click
from PIL import Image

from cnnapp.cli import lazy
from cnnapp.cli.app import Command
from cnnapp.data.course import COURSE_FILES
from cnnapp.data.datasets import NAMED, Named, load_dataset
from cnnapp.data.images import is_image_file
from cnnapp.data.model_files import WHEEL, model_file, wheel_copy
from cnnapp.data.sources import DEADLINE, SOURCES, TIMEOUT, Source, mirrored, pinned_photos
from cnnapp.errors import CnnappError, printable
from cnnapp.settings import IMAGE_SIZE, data_dir, mirror


def expected_files(named: Named) -> list[Path]:
    """The files or folder a named dataset needs under the data directory."""
    if named.kind == "course":
        return [data_dir() / name for name in COURSE_FILES[named.location]]
    return [data_dir() / named.location]


def status(named: Named) -> str:
    """'ready', 'test file only' or 'missing'."""
    present = [path.exists() for path in expected_files(named)]
    if all(present):
        return "ready"
    if named.kind == "course" and present[1]:
        return "test file only"
    return "missing"


def model_status(source: Source) -> str:
    """'ready' (in the data directory), 'wheel copy' (only the copy built from the registry wheel, in the cache) or
    'missing'."""
    if (data_dir() / source.target).is_file():
        return "ready"
    return "wheel copy" if wheel_copy(source.name).is_file() else "missing"


@click.group(short_help="List, describe or download the datasets and model files.")
def data() -> None:
    """What data is there and getting it: `cnnapp data list`, `cnnapp data info NAME`, `cnnapp data get NAME`."""


@data.command("list", cls=Command)
def list_datasets() -> None:
    """The named datasets under the data directory ($CNNAPP_DATA, else ./datasets), then the pretrained model
    files the face and hand steps use.

    \b
    Example:
      CNNAPP_DATA=~/datasets cnnapp data list
    """
    click.echo(f"data directory: {data_dir().resolve()}")
    for named in NAMED.values():
        where = ", ".join(p.name for p in expected_files(named))
        photos = photo_count(named) if status(named) == "ready" and named.kind == "folder" else ""
        terms = SOURCES[named.name].licence.split(";")[0] if named.name in SOURCES else ""
        click.echo(f"  {named.name:<12} {status(named):<15} {photos:>6} {where:<32} {terms}".rstrip())
    click.echo("model files (pretrained, not datasets):")
    for source in SOURCES.values():
        if source.model:
            terms = source.licence.split(";")[0]
            click.echo(f"  {source.name:<16} {model_status(source):<11} {source.target:<22} {terms}")


def photo_count(named: Named) -> int:
    """The image files below a named image folder, in all its subfolders."""
    return sum(1 for path in (data_dir() / named.location).rglob("*") if path.is_file() and is_image_file(path))


def licence_line(name: str) -> str:
    """The terms of use and citation of a dataset's public source, on one line."""
    return f"{name}: licence: {SOURCES[name].licence}"


def source_sizes(root: Path, paths: tuple[str, ...]) -> str:
    """The most common original sizes and modes of a folder's images, read from their headers."""
    seen: Counter = Counter()
    for relative in paths:
        with Image.open(root / relative) as image:
            seen[f"{image.width}x{image.height} {image.mode}"] += 1
    return ", ".join(f"{kind} ({n})" for kind, n in seen.most_common(4)) + (" ..." if len(seen) > 4 else "")


@data.command(cls=Command)
@click.argument("name")
def info(name: str) -> None:
    """Counts per class, image size and source of a dataset (a name from `data list`, or a path); for a model
    file, which file is used, its source and its checksum.

    \b
    Example:
      cnnapp data info sign-digits
      cnnapp data info hand-landmarker
    """
    if name in SOURCES and SOURCES[name].model:
        model_info(SOURCES[name])
        return
    named = NAMED.get(name)
    if named and status(named) == "missing":
        click.echo(f"{name}: not found. Expected:", err=True)
        for path in expected_files(named):
            click.echo(f"  {path}{'' if path.exists() else '  (missing)'}", err=True)
        click.echo(f"It comes from {named.origin}.", err=True)
        if name in SOURCES:
            click.echo(licence_line(name), err=True)
        click.echo("Set CNNAPP_DATA to the folder that holds it.", err=True)
        if name in SOURCES:
            click.echo(f"Or download it there: cnnapp data get {name}", err=True)
        raise SystemExit(2)
    dataset = load_dataset(name)
    click.echo(printable(f"{name}: {dataset.source}"))
    if named:
        click.echo(f"  from: {named.origin}")
    if name in SOURCES:
        click.echo(f"  licence: {SOURCES[name].licence}")
    click.echo(f"  images: {len(dataset.y)}, decoded to {IMAGE_SIZE}x{IMAGE_SIZE}x3")
    if dataset.train is not None:
        kind = "course files" if dataset.paths is None else "its own split"
        click.echo(f"  {kind}: {len(dataset.train)} train, {len(dataset.test)} test")
    else:
        click.echo(f"  original sizes: {source_sizes(Path(dataset.source), dataset.paths)}")
    click.echo(f"  fingerprint: {dataset.fingerprint[:16]}")
    click.echo("  classes:")
    for index, (label, count) in enumerate(dataset.counts().items()):
        click.echo(f"    {index}  {printable(label):<14} {count}")


def model_info(source: Source) -> None:
    """Which file of a model is used (see model_files.model_file), where it comes from, its terms, and whether it is
    the file the catalog pins."""
    path = model_file(source.name)
    checksum = lazy.content_checksum(path)
    verdict = "matches the pinned checksum" if checksum == source.checksum else "differs from the pinned checksum"
    if path == wheel_copy(source.name):
        verdict += f"; built from PyPI's {WHEEL[0]} {WHEEL[1]} wheel"
    click.echo(f"{source.name}: model file {path}")
    click.echo(f"  from: {source.url}")
    click.echo(f"  licence: {source.licence}")
    click.echo(f"  {path.stat().st_size} bytes, SHA-256 {checksum[:16]}... ({verdict})")


def without_source(name: str) -> list[str]:
    """The files of a named dataset that no public source provides (the course's own files)."""
    named, source = NAMED[name], SOURCES.get(name)
    return [p.name for p in expected_files(named) if source is None or p.name != source.target]


def get_one(name: str, base: str | None, timeout: float, deadline: float = DEADLINE) -> None:
    """Downloads one named dataset or model file into the data directory, or says it is there already, and where;
    either way says under which terms it may be used."""
    source = SOURCES[name]
    target = data_dir() / source.target
    if target.exists():
        try:
            missing = lazy.verify(source, target)
            verdict = f"matches the pinned photos, {missing} not there" if missing else "matches the pinned checksum"
        except CnnappError:
            verdict = "differs from the pinned checksum"
        click.echo(f"{name}: already in {target}, left as it is ({verdict})")
        click.echo(licence_line(name))
        return
    click.echo(f"{name}: downloading {mirrored(source.url, base)}")
    if source.labels_url:
        click.echo(f"{name}: and its labels from {mirrored(source.labels_url, base)}")
    _, missing = lazy.fetch_dataset(source, data_dir(), base, timeout, deadline)
    if missing:
        pinned = len(pinned_photos(source))
        click.echo(
            f"{name}: {missing} of the {pinned} photos the catalog pins are not in the download; "
            f"the {pinned - missing} there match their pins, now in {target}"
        )
    else:
        click.echo(f"{name}: checksum verified, now in {target}")
    click.echo(licence_line(name))


TIMEOUT_HELP = "Seconds to wait for the server to connect or send more."
DEADLINE_HELP = "Seconds one download may take in all."


def seconds(context: click.Context, option: click.Parameter, value: float) -> float:
    """The option's value, refused unless a finite number of seconds above 0."""
    if not (math.isfinite(value) and value > 0):
        raise CnnappError(f"--{option.name} {value:g}: must be a finite number of seconds above 0")
    return value


@data.command("get", cls=Command)
@click.argument("names", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every dataset and model file that has a public source.")
@click.option("--mirror", "base", metavar="BASE", help="Base URL standing in for every source's host [$CNNAPP_MIRROR].")
@click.option("--timeout", type=float, default=TIMEOUT, show_default=True, callback=seconds, help=TIMEOUT_HELP)
@click.option("--deadline", type=float, default=DEADLINE, show_default=True, callback=seconds, help=DEADLINE_HELP)
def get(names: tuple[str, ...], everything: bool, base: str | None, timeout: float, deadline: float) -> None:
    """Download datasets and model files from their pinned public sources into the data directory, verified by
    content.

    Each source's terms of use are printed with it: several are for research only, or not for commercial use.

    \b
    Example:
      cnnapp data get sign-digits smiles happy-house
      cnnapp data get hand-landmarker face-landmarks
      cnnapp data get --all --mirror http://127.0.0.1:8000
    """
    wanted = list(SOURCES) if everything else list(dict.fromkeys(names))
    if not wanted:
        raise click.UsageError("name at least one dataset, or give --all")
    for name in wanted:
        if name not in NAMED and name not in SOURCES:
            raise CnnappError(f"{name}: not a known dataset ({', '.join(dict.fromkeys([*NAMED, *SOURCES]))})")
        if name not in SOURCES:
            raise CnnappError(no_source_note(name))
    for name in wanted:
        get_one(name, base or mirror(), timeout, deadline)
    for name in NAMED if everything else wanted:
        if name in NAMED and without_source(name):
            click.echo(no_source_note(name))


def no_source_note(name: str) -> str:
    """What to do with the files of a dataset that no public source provides."""
    return (
        f"{name}: {' and '.join(without_source(name))}: no known public source (the course's own files); "
        f"if you have the files, put them in {data_dir()}"
    )
