"""`cnnapp data`: which datasets are there, and what is in one."""

from collections import Counter
from pathlib import Path

import click
from PIL import Image

from cnnapp.data.course import COURSE_FILES
from cnnapp.data.datasets import NAMED, Named, load_dataset
from cnnapp.settings import IMAGE_SIZE, data_dir


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


@click.group()
def data() -> None:
    """What data is there: `cnnapp data list`, `cnnapp data info NAME`."""


@data.command("list")
def list_datasets() -> None:
    """The named datasets under the data directory ($CNNAPP_DATA, else ./datasets).

    \b
    Example:
      CNNAPP_DATA=../shared/datasets cnnapp data list
    """
    click.echo(f"data directory: {data_dir().resolve()}")
    for named in NAMED.values():
        where = ", ".join(p.name for p in expected_files(named))
        click.echo(f"  {named.name:<12} {status(named):<15} {where}")


def source_sizes(root: Path, paths: tuple[str, ...]) -> str:
    """The most common original sizes and modes of a folder's images, read from their headers."""
    seen: Counter = Counter()
    for relative in paths:
        with Image.open(root / relative) as image:
            seen[f"{image.width}x{image.height} {image.mode}"] += 1
    return ", ".join(f"{kind} ({n})" for kind, n in seen.most_common(4)) + (" ..." if len(seen) > 4 else "")


@data.command()
@click.argument("name")
def info(name: str) -> None:
    """Counts per class, image size and source of a dataset (a name from `data list`, or a path).

    \b
    Example:
      cnnapp data info sign-digits
    """
    named = NAMED.get(name)
    if named and status(named) == "missing":
        click.echo(f"{name}: not found. Expected:", err=True)
        for path in expected_files(named):
            click.echo(f"  {path}{'' if path.exists() else '  (missing)'}", err=True)
        click.echo(f"It comes from {named.origin}.", err=True)
        click.echo("Set CNNAPP_DATA to the folder that holds it.", err=True)
        raise SystemExit(2)
    dataset = load_dataset(name)
    click.echo(f"{name}: {dataset.source}")
    if named:
        click.echo(f"  from: {named.origin}")
    click.echo(f"  images: {len(dataset.y)}, decoded to {IMAGE_SIZE}x{IMAGE_SIZE}x3")
    if dataset.train is not None:
        click.echo(f"  course files: {len(dataset.train)} train, {len(dataset.test)} test")
    else:
        click.echo(f"  original sizes: {source_sizes(Path(dataset.source), dataset.paths)}")
    click.echo(f"  fingerprint: {dataset.fingerprint[:16]}")
    click.echo("  classes:")
    for index, (label, count) in enumerate(dataset.counts().items()):
        click.echo(f"    {index}  {label:<14} {count}")
