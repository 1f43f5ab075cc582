"""`cnnapp show`, `cnnapp report` and `cnnapp runs`: looking at data and at finished runs."""

from pathlib import Path

import click

from cnnapp.cli import lazy
from cnnapp.cli.app import Command
from cnnapp.cli.model_cmds import chosen_data
from cnnapp.data.datasets import load_dataset
from cnnapp.data.views import CROPS, View, seen_dataset
from cnnapp.errors import CnnappError, printable
from cnnapp.reports.listing import SORT_KEYS, list_runs, run_table
from cnnapp.runs import read_run

SHOW_COUNT = 8


def show_out(name: str, what: str) -> Path:
    """The default PNG name in the current folder, e.g. sign-digits-class-3.png."""
    return Path(f"{Path(name).name}-{what}.png".replace(" ", "-"))


@click.command(cls=Command, short_help="Draw a dataset's photos with their labels into a PNG.")
@click.argument("name")
@click.option("--index", type=int, help="Show this one image large, with its label.")
@click.option("--class", "class_name", help="Show images of this class only.")
@click.option("--count", type=click.IntRange(min=1), help=f"Images of each class shown. Default: {SHOW_COUNT}.")
@click.option(
    "--crop",
    type=click.Choice(CROPS),
    default="none",
    show_default=True,
    help="Show each photo as a model that crops to the face or the hand sees it (none found: the whole photo).",
)
@click.option("--colour", type=click.Choice(["colour", "grey", "equalised"]), default="colour", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="The PNG to write. Default: NAME-WHAT.png here.")
def show(
    name: str, index: int | None, class_name: str | None, count: int | None, crop: str, colour: str, out: Path | None
) -> None:
    """A dataset's images with their labels as a PNG: a sample of every class, one class, or one image.

    NAME is a dataset name (see `cnnapp data list`) or a path. Each tile is titled with its index,
    which --index takes.

    \b
    Example:
      cnnapp show sign-digits --index 124
      cnnapp show smiles --class smiling --count 30 --out smiling.png
      cnnapp show happy-house --crop face --colour grey
    """
    if index is not None and (class_name is not None or count is not None):
        raise CnnappError("--index shows one image; it does not go with --class or --count")
    dataset = seen_dataset(load_dataset(name), View(crop, colour))
    count = count or SHOW_COUNT
    if index is not None:
        figure, what = lazy.one_image(dataset, index), str(index)
        label = dataset.class_names[dataset.y[index]]
        click.echo(f"{dataset.name} #{index}: {label}")
    elif class_name is not None:
        figure, what = lazy.one_class(dataset, class_name, count), f"class-{class_name}"
    else:
        figure, what = lazy.every_class(dataset, count), "grid"
    if crop != "none":
        what += f"-{crop}s"
    click.echo(f"image: {lazy.save_png(figure, out or show_out(name, what))}")


@click.command(cls=Command, short_help="A run's report: one HTML page of figures, scores and mistakes.")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--data", "data_name", help="A dataset name or path. Default: the data the run trained on.")
@click.option("--out", type=click.Path(path_type=Path), help="The report folder. Default: RUN/report.")
def report(run: Path, data_name: str | None, out: Path | None) -> None:
    """A run's figures and one self-contained HTML page: configuration, curves, confusion matrix,
    per-class scores, test photos with predictions, the most confident mistakes and the architecture.

    The images are the run's own test images, exactly as its config.json records them, in the data it
    trained on (refused when they cannot be found there again). With --data of other data: a course
    pair's test file, else all of its images.

    \b
    Example:
      cnnapp report runs/demo/signs
      cnnapp report runs/demo/happy --data happy-house --out happy-house-report
    """
    info = read_run(run)
    try:
        if data_name:
            dataset = chosen_data(data_name, None)
        else:  # the run's own sources, with its classes and drawn down as it drew them
            classes = ",".join(info.class_names) if info.mixed else None
            dataset = chosen_data(info.data.name, classes, info.most_per_source)
    except CnnappError as error:
        if data_name:
            raise
        raise CnnappError(f"{error} (the run's own data; point --data at it)", parameter=error.parameter) from None
    page = lazy.write_report(info, dataset, out or run / "report")
    click.echo(f"report: {page}")


@click.command(cls=Command, short_help="List the runs under a folder as one table, sorted as asked.")
@click.argument("folder", type=click.Path(path_type=Path), default=Path("runs"))
@click.option(
    "--sort",
    "key",
    type=click.Choice(list(SORT_KEYS)),
    default="path",
    show_default=True,
)
@click.option("--reverse", is_flag=True, help="Largest, latest or last in the alphabet first.")
def runs(folder: Path, key: str, reverse: bool) -> None:
    """The runs under FOLDER (default: runs), searched through its subfolders, as one table.

    A run folder that cannot be read is named on stderr, one line each; the others are still listed.

    \b
    Example:
      cnnapp runs runs --sort accuracy --reverse
    """
    rows, problems = list_runs(folder)
    for problem in problems:
        click.echo(f"cnnapp: skipped {printable(problem)}", err=True)
    if not rows:
        click.echo(f"{folder}: no runs found", err=True)
        return
    for line in run_table(sorted(rows, key=SORT_KEYS[key], reverse=reverse)):
        click.echo(line)
