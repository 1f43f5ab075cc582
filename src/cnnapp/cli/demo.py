"""`cnnapp demo`: the main job, from architecture check to a results table."""

from pathlib import Path

import click

from cnnapp.cli import lazy
from cnnapp.cli.app import EXIT_CHECK_FAILED, SEED, Command
from cnnapp.cli.data_cmds import get_one
from cnnapp.cli.model_cmds import architecture_check, echo_leaks
from cnnapp.data.datasets import Dataset, load_dataset, select_classes
from cnnapp.data.sources import SOURCES, TIMEOUT
from cnnapp.errors import CnnappError
from cnnapp.progress import duration
from cnnapp.runs import TrainConfig
from cnnapp.settings import data_dir, mirror

COURSE_SIGNS_ACCURACY = 0.80
"""The test accuracy the course reports for its signs model (about 80%)."""
EPOCHS_ON_SMILES = 3
"""The epochs of the demo's happy model when it trains on SMILEsmileD (the course's Happy House files are not
there): on its 9,215 training photos the validation loss is lowest after the first epoch and rises after it (with
the course's 10 epochs the run keeps epoch 1), so the demo stops after 3 and ends within minutes."""


def at_hand(name: str) -> str:
    """The name of a dataset with a public source, after downloading it if the data directory lacks it."""
    if not (data_dir() / SOURCES[name].target).exists():
        click.echo(f"{name}: not in {data_dir()}, so it is downloaded first")
        try:
            get_one(name, mirror(), TIMEOUT)
        except CnnappError as error:
            raise CnnappError(
                f"{name} is missing from {data_dir()} (set CNNAPP_DATA to a folder that holds it) "
                f"and could not be downloaded: {error}",
                parameter=error.parameter,
            ) from error
    return name


def demo_data() -> list[tuple[str, Dataset]]:
    """(model, dataset) pairs: the course files when both are there, else the course's SIGNS photos in their own
    split, else the photo folders (downloaded if need be)."""
    if (data_dir() / "train_signs.h5").is_file():
        signs = load_dataset("signs")
    elif (data_dir() / "signs-photos").is_dir():
        signs = load_dataset("signs-photos")
    else:
        signs = select_classes(load_dataset(at_hand("sign-digits")), [str(i) for i in range(6)])
    happy = load_dataset("happy-house" if (data_dir() / "train_happy.h5").is_file() else at_hand("smiles"))
    return [("signs", signs), ("happy", happy)]


@click.command(cls=Command, short_help="Check, train, test and export the course's two models; one table.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("runs/demo"),
    show_default=True,
    help="Where the two run folders go (replaced on each demo; a stopped demo's training continues).",
)
@click.option("--seed", type=SEED, default=1, show_default=True)
def demo(out: Path, seed: int) -> None:
    """Check both course architectures, train both models with the course protocol, test them, export them to
    ONNX and tabulate the results.

    \b
    Example:
      cnnapp demo
      CNNAPP_DATA=/srv/photos cnnapp demo --out runs/demo-2
    """
    pairs = demo_data()
    for model, _ in pairs:
        *_, problems = architecture_check(model)
        click.echo(f"architecture check, {model}: {lazy.verdict(problems)}")
        if problems:
            raise SystemExit(EXIT_CHECK_FAILED)
    rows = []
    for model, dataset in pairs:
        epochs = EPOCHS_ON_SMILES if dataset.name == "smiles" else None
        settings = TrainConfig.from_recipe(model, seed, epochs=epochs)
        split = lazy.without_leaks(dataset, lazy.split_dataset(dataset, seed), "drop")
        click.echo(
            f"\n== {model} on {dataset.name} ({', '.join(dataset.class_names)}): "
            f"{settings.epochs} epochs, batch {settings.batch_size}, {split.described}"
        )
        echo_leaks(split.leaks)
        result = lazy.train_run(model, dataset, split, settings, out / model, verbose=True, replace=True, resume=True)
        path, _ = lazy.export_onnx(out / model)
        click.echo(f"exported {path}, so that `cnnapp predict` and `cnnapp serve` start at once")
        if model == "signs":
            click.echo(
                f"signs test accuracy {result.accuracy:.3f} on {result.n} photos of {dataset.name}; "
                f"the course reports about {COURSE_SIGNS_ACCURACY:.2f} on its 120"
            )
        rows.append((model, dataset.name, len(dataset.class_names), result))
    click.echo("\n| model | data | classes | test accuracy | test loss | test images | epoch kept | train time | run |")
    click.echo("|---|---|---|---|---|---|---|---|---|")
    for model, name, classes, r in rows:
        click.echo(
            f"| {model} | {name} | {classes} | {r.accuracy:.3f} | {r.loss:.3f} | {r.n} | "
            f"{kept_epoch(r.training)} | {duration(r.training['train_seconds'])} | {out / model} |"
        )
    click.echo("\neach run holds model.keras, model.onnx, metrics.json, history.csv, loss.png and accuracy.png")


def kept_epoch(training: dict) -> str:
    """The epoch a run kept, out of the epochs it ran, e.g. '3 of 10'."""
    kept = training["epochs_run"] if training["kept"] == "last" else training["best_epoch"]
    return f"{kept} of {training['epochs_run']}"
