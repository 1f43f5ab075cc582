"""`cnnapp adapt`."""

from pathlib import Path

import click

from cnnapp.cli import lazy
from cnnapp.cli.app import SEED, Command
from cnnapp.data.datasets import Dataset, load_dataset
from cnnapp.errors import CnnappError
from cnnapp.runs import read_run

MIN_PHOTOS = 2
"""Photos a class needs to be cross-validated: one to learn from and one to be scored on, in every fold."""


def check_photos(dataset: Dataset) -> None:
    """Refuse photos with a class of fewer than MIN_PHOTOS, naming the class."""
    few = {name: n for name, n in dataset.counts().items() if n < MIN_PHOTOS}
    if few:
        listed = ", ".join(f"{name} ({n})" for name, n in few.items())
        raise CnnappError(
            f"{dataset.source}: every class needs {MIN_PHOTOS} photos or more to be cross-validated; too few: {listed}"
        )


@click.command(cls=Command, short_help="A new run from a trained one and a few labelled photos of your own.")
@click.argument("base_run", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_name",
    required=True,
    help="A folder of your photos, one subfolder per class (2 or more photos each): the new run's classes, which "
    "may differ from the base run's.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The new run folder.")
@click.option("--seed", type=SEED, default=1, show_default=True, help="Seeds the cross-validation's folds.")
def adapt(base_run: Path, data_name: str, out: Path, seed: int) -> None:
    """Adapt BASE_RUN to a few labelled photos: its model up to the last layer, a new last layer learnt from the
    photos (seen as BASE_RUN sees photos), written as a run like any other.

    With few photos there is nothing to spare for a test: the figures are cross-validated on the photos
    themselves (5 folds, fewer when a class has fewer photos), and say how many photos and folds they rest on.

    \b
    Example:
      cnnapp adapt runs/demo/signs --data my-signs --out runs/my-signs
      cnnapp predict runs/my-signs photo.jpg
    """
    read_run(base_run)
    if out.exists():
        raise CnnappError(f"{out}: already exists; choose another --out or remove it")
    dataset = load_dataset(data_name)
    check_photos(dataset)
    counts = ", ".join(f"{name} {n}" for name, n in dataset.counts().items())
    click.echo(f"adapting {base_run} to {dataset.name}: {len(dataset.y)} photos ({counts})")
    result = lazy.adapt_run(base_run, dataset, out, seed)
    folds = result.training["cross_validation"]["folds"]
    click.echo(
        f"cross-validated accuracy {result.accuracy:.4f}, loss {result.loss:.4f} on {result.n} photos "
        f"({folds} folds), {result.training['train_seconds']:.1f} s"
    )
    for name, value in result.per_class_accuracy.items():
        click.echo(f"  {name:<14} {value:.4f}")
    click.echo(f"run folder: {out}")
