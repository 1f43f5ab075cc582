"""`cnnapp tune`: a hyperparameter search, on this machine or spread over a chief and workers."""

import os
from collections.abc import Callable
from pathlib import Path

import click

from cnnapp.cli import lazy
from cnnapp.cli.app import POSITIVE, SEED, Command, Finite, on_command_line
from cnnapp.cli.model_cmds import PROTOCOLS, RECIPE_OPTIONS, prepared, recipe_data, with_options
from cnnapp.errors import CnnappError
from cnnapp.models.catalog import recipe

FIXED = "Fix it instead of searching it."


def checked_roles(chief: str | None, worker: str | None, worker_id: str | None):
    """The address of --chief or --worker, if given, after checking the two go with --id as they should."""
    if chief and worker:
        raise CnnappError("--chief and --worker: a process is one or the other")
    if worker and not worker_id:
        raise CnnappError(f"--worker {worker}: give the worker a name with --id, different for each worker")
    if worker_id and not worker:
        raise CnnappError(f"--id {worker_id}: only a --worker has a name")
    if worker_id and "chief" in worker_id:
        raise CnnappError(f"--id {worker_id}: a worker's name must not contain 'chief'")
    if chief:
        return lazy.parse_address(chief, "chief")
    return lazy.parse_address(worker, "worker") if worker else None


def search_reporter() -> Callable[[str], None]:
    """What prints a line of the search's progress, its time limit called by its flag. Lines come from the threads
    that serve workers too, where click has no context: the flag is looked up once, here."""
    flag = on_command_line("`max_minutes`", "max_minutes")
    return lambda line: click.echo(line.replace("`max_minutes`", flag))


@click.command(cls=Command, short_help="Search a model's training settings, then train the best.", epilog=PROTOCOLS)
@click.argument("model")
@click.option(
    "--data", "data_name", help="A dataset name (see `cnnapp data list`) or a path. Default: the model's own sources."
)
@click.option("--classes", help="Classes to keep, e.g. 0-5 or 'not smiling,smiling'.")
@click.option("--groups", metavar="PATTERN", help="Keep groups of photos on one side of the split (as in train).")
@click.option("--trials", type=int, default=10, show_default=True, help="How many settings to try.")
@click.option(
    "--tuner", "kind", type=click.Choice(["random", "bayesian", "hyperband"]), default="random", show_default=True
)
@click.option("--max-minutes", type=POSITIVE, help="Start no trial after this long.")
@click.option("--epochs", type=click.IntRange(min=1), help=FIXED)
@click.option("--batch-size", type=click.IntRange(min=1), help=FIXED)
@click.option("--learning-rate", type=POSITIVE, help=FIXED)
@click.option("--augment/--no-augment", default=None, help=FIXED)
@with_options(RECIPE_OPTIONS)
@click.option("--seed", type=SEED, default=1, show_default=True, help="Seeds the split, the search and every trial.")
@click.option("--out", type=click.Path(path_type=Path), help="Default: runs/tune-MODEL-DATA (-ID for a worker).")
@click.option("--chief", metavar="HOST:PORT", help="Serve the trials to workers from this address.")
@click.option("--worker", metavar="HOST:PORT", help="Run the trials of the chief at this address.")
@click.option("--id", "worker_id", help="This worker's name, different for each worker.")
@click.option(
    "--wait",
    type=Finite(min=0),
    default=300,
    show_default=True,
    help="Seconds a worker waits for its chief to answer.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="TensorFlow threads of this process. Default: every core; 1 for a worker (start one worker per core).",
)
def tune(
    model: str,
    data_name: str,
    classes: str | None,
    groups: str | None,
    trials: int,
    kind: str,
    max_minutes: float | None,
    seed: int,
    out: Path | None,
    chief: str | None,
    worker: str | None,
    worker_id: str | None,
    wait: float,
    threads: int | None,
    **fixed,
) -> None:
    """Search MODEL's settings (learning rate, batch size, epochs, augmentation, schedule) on the training and
    validation parts of the split, then train the best into DIR/best; the same command again continues a
    search that was stopped. --crop, --colour and --balance are not searched: every trial and DIR/best use them.

    Writes DIR/trials.csv (every trial's settings, validation figures and seconds), DIR/search.png and
    DIR/best, a run folder like `cnnapp train` writes, tested on the test part.

    \b
    Example:
      cnnapp tune signs --data sign-digits --classes 0-5 --trials 12 --out runs/tune-signs
    On several machines (or processes), the same data on each:
      cnnapp tune signs --data sign-digits --classes 0-5 --trials 12 --chief 10.0.0.1:8470
      cnnapp tune signs --data sign-digits --classes 0-5 --worker 10.0.0.1:8470 --id a
      cnnapp tune signs --data sign-digits --classes 0-5 --worker 10.0.0.1:8470 --id b
    """
    if trials < 1:
        raise CnnappError(f"--trials {trials}: a search needs at least one trial")
    data_name, classes, groups = recipe_data(model, data_name, classes, groups)
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")  # gRPC's own log lines would break the one-line errors
    address = checked_roles(chief, worker, worker_id)
    name = f"tune-{model}-{Path(data_name).name}" + (f"-{worker_id}" if worker else "")
    out = out or Path("runs") / name
    server = lazy.bound_server(address) if chief else None
    if worker:
        lazy.wait_for_chief(address, wait, click.echo)
    dataset = prepared(model, data_name, classes, groups, out, None, recipe(model).most_per_source)
    if threads or worker:
        lazy.use_threads(threads or 1)
    split = lazy.split_dataset(dataset, seed, groups=groups)
    click.echo(
        f"{kind} search of {model} on {dataset.name}: {len(split.train)} train, {len(split.val)} validation "
        f"({split.described}; the {len(split.test)} test images are left for best/)"
    )
    if worker:
        ran = lazy.work(model, dataset, split, fixed, kind, out, address, worker_id, wait, click.echo)
        click.echo(f"worker {worker_id}: the search is over; it ran trials {', '.join(ran) or 'none'}")
        click.echo(f"trial folders: {out}")
        return
    if chief:
        click.echo(f"chief: serving {trials} trials at {address}; start workers with --worker {address} --id NAME")
    result = lazy.search(model, dataset, split, fixed, trials, kind, out, search_reporter(), max_minutes, server)
    click.echo(
        f"best/: test accuracy {result.accuracy:.4f}, loss {result.loss:.4f} on {result.n} images, "
        f"{result.training['train_seconds']:.0f} s"
    )
    click.echo(f"search folder: {out} (trials.csv, search.png, best/)")
