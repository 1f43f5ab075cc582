"""`cnnapp demo`: the main job, from architecture check to a results table."""

from pathlib import Path

import click

from cnnapp.cli.app import EXIT_CHECK_FAILED, SEED, keras_quietly, progress_verbosity
from cnnapp.cli.data_cmds import get_one
from cnnapp.cli.model_cmds import architecture_check
from cnnapp.data.datasets import Dataset, load_dataset, select_classes
from cnnapp.data.sources import SOURCES, TIMEOUT
from cnnapp.errors import CnnappError
from cnnapp.settings import data_dir, mirror


def at_hand(name: str) -> str:
    """The name of a dataset with a public source, after downloading it if the data directory lacks it."""
    if not (data_dir() / SOURCES[name].target).exists():
        click.echo(f"{name}: not in {data_dir()}, so it is downloaded first")
        try:
            get_one(name, mirror(), TIMEOUT)
        except CnnappError as error:
            raise CnnappError(
                f"{name} is missing from {data_dir()} (set CNNAPP_DATA to a folder that holds it) "
                f"and could not be downloaded: {error}"
            ) from error
    return name


def demo_data() -> list[tuple[str, Dataset]]:
    """(model, dataset) pairs: the course files when both are there, else the photo folders (downloaded if need be)."""
    if (data_dir() / "train_signs.h5").is_file():
        signs = load_dataset("signs")
    else:
        signs = select_classes(load_dataset(at_hand("sign-digits")), [str(i) for i in range(6)])
    happy = load_dataset("happy-house" if (data_dir() / "train_happy.h5").is_file() else at_hand("smiles"))
    return [("signs", signs), ("happy", happy)]


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("runs/demo"),
    show_default=True,
    help="Where the two run folders go (replaced on each demo; a stopped demo's training continues).",
)
@click.option("--seed", type=SEED, default=1, show_default=True)
def demo(out: Path, seed: int) -> None:
    """Check both architectures, train both models with the course protocol, evaluate, and tabulate.

    \b
    Example:
      CNNAPP_DATA=../shared/datasets cnnapp demo
    """
    pairs = demo_data()
    keras_quietly()
    from cnnapp.data.splits import split_dataset
    from cnnapp.models.summary import verdict
    from cnnapp.training.fit import default_settings, train_run

    for model, _ in pairs:
        *_, problems = architecture_check(model)
        click.echo(f"architecture check, {model}: {verdict(problems)}")
        if problems:
            raise SystemExit(EXIT_CHECK_FAILED)
    rows = []
    for model, dataset in pairs:
        settings = default_settings(model, seed)
        split = split_dataset(dataset, seed)
        click.echo(
            f"\n== {model} on {dataset.name} ({', '.join(dataset.class_names)}): "
            f"{settings.epochs} epochs, batch {settings.batch_size}, {split.described}"
        )
        result = train_run(
            model, dataset, split, settings, out / model, progress_verbosity(), replace=True, resume=True
        )
        rows.append((model, dataset.name, len(dataset.class_names), result))
    click.echo("\n| model | data | classes | test accuracy | test loss | test images | epochs | train time |")
    click.echo("|---|---|---|---|---|---|---|---|")
    for model, name, classes, r in rows:
        click.echo(
            f"| {model} | {name} | {classes} | {r.accuracy:.3f} | {r.loss:.3f} | "
            f"{r.n} | {r.training['epochs_run']} | {r.training['train_seconds']:.0f} s |"
        )
    click.echo(f"\nruns: {out / 'signs'}, {out / 'happy'} (model.keras, metrics.json, loss.png, accuracy.png)")
